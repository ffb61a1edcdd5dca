"""Annual consumption from meters: totals equal the files, gaps and zero runs found and listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from buildings.consumption import ConsumptionParams, annual_consumption, consumption_from_twin, meter_gaps
from ingest.sensors import ingest_readings, ingest_sensor_registry
from tests.conftest import shared_data
from tests.ingest.test_sensors import demo_data, write_csv
from twin import Twin

CAMBRIDGE_TOTALS_KWH = {  # SOURCE.md of meters-cambridge-estates-2019 (rounded to the kWh)
    ("b71", "electricity"): 1_060_362,
    ("b71", "gas"): 639_413,
    ("b109", "electricity"): 1_302_771,
    ("b109", "gas"): 104_207,
    ("b31", "electricity"): 1_490_297,
    ("b31", "gas"): 42_200,
    ("b27", "electricity"): 2_773_530,
    ("b27", "gas"): 135_755,
    ("b70", "electricity"): 312_283,
    ("b70", "gas"): 239_671,
    ("b113", "electricity"): 407_046,
    ("b113", "gas"): 693_970,
}


def zero_runs(values: np.ndarray, min_run: int) -> list[tuple[int, int]]:
    """(first index, length) of the runs of zeros, the plain way."""
    runs, start = [], None
    for i, v in enumerate([*values, 1.0]):
        if v == 0 and start is None:
            start = i
        elif v != 0 and start is not None:
            if i - start >= min_run:
                runs.append((start, i - start))
            start = None
    return runs


@pytest.fixture(scope="module")
def cambridge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Twin, Path]:
    folder = shared_data("meters-cambridge-estates-2019")
    tmp = tmp_path_factory.mktemp("cambridge")
    twin = Twin(tmp / "twin.duckdb")
    registry = [["sensor_id", "kind", "unit_ucum", "asset_kind", "asset_id", "name"]]
    for building, carrier in CAMBRIDGE_TOTALS_KWH:
        kind = "electricity_meter" if carrier == "electricity" else "gas_meter"
        registry.append([f"{building}-{carrier}", kind, "kW.h", "building", building, f"{carrier} {building}"])
    ingest_sensor_registry(twin, write_csv(tmp / "meters.csv", registry))
    for building, carrier in CAMBRIDGE_TOTALS_KWH:
        column = "equipment load [kWh]" if carrier == "electricity" else "heating load [kWh]"
        report = ingest_readings(
            twin,
            folder / f"UCam_Building_{building}_{carrier}_2019.csv",
            sensor_ids={column: f"{building}-{carrier}"},
        )
        assert report.counts["readings"] == 8_760 and report.counts["rejected"] == 0
    return twin, folder


def test_cambridge_annual_totals_equal_the_sums_of_the_files(cambridge: tuple[Twin, Path]) -> None:
    twin, folder = cambridge
    consumption, _ = consumption_from_twin(twin)
    rows = {(r["level"], r["entity_id"], r["carrier"]): r for r in consumption.to_pylist()}
    for (building, carrier), published in CAMBRIDGE_TOTALS_KWH.items():
        file = pd.read_csv(folder / f"UCam_Building_{building}_{carrier}_2019.csv")
        meter = rows[("meter", f"{building}-{carrier}", carrier)]
        assert meter["year"] == 2019
        assert meter["consumption_kwh"] == pytest.approx(file.iloc[:, 1].sum(), rel=1e-12)
        assert meter["consumption_kwh"] == pytest.approx(published, abs=1)
        assert (meter["intervals_expected"], meter["intervals_read"], meter["intervals_missing"]) == (
            8760,
            8760,
            0,
        )
        assert rows[("building", building, carrier)]["consumption_kwh"] == meter["consumption_kwh"]
        assert meter["consumption_filled_kwh"] >= meter["consumption_kwh"]
    stored = twin.query("SELECT count(*) AS n FROM res_consumption WHERE year = 2019").column("n")[0].as_py()
    assert stored == 24


def test_cambridge_zero_filled_runs_are_detected_and_listed(cambridge: tuple[Twin, Path]) -> None:
    twin, folder = cambridge
    _, gaps = consumption_from_twin(twin)
    listed = gaps.to_pandas()
    assert set(listed["gap_kind"]) == {"zero_run"}  # every hour of 2019 is in the files: nothing missing
    total = 0
    for building, carrier in CAMBRIDGE_TOTALS_KWH:
        file = pd.read_csv(folder / f"UCam_Building_{building}_{carrier}_2019.csv", parse_dates=["datetime"])
        expected = [
            (file["datetime"].iloc[i].to_pydatetime(), n) for i, n in zero_runs(file.iloc[:, 1].to_numpy(), 3)
        ]
        mine = listed[listed["sensor_id"] == f"{building}-{carrier}"]
        assert (
            list(zip(mine["start_utc"].map(pd.Timestamp.to_pydatetime), mine["intervals"], strict=True))
            == expected
        )
        total += len(expected)
    assert total > 10  # gas meters of b71, b27 and b70 have many zero-filled stretches
    stored = twin.query("SELECT count(*) AS n FROM res_meter_gaps").column("n")[0].as_py()
    assert stored == total


def test_the_demo_meter_gap_and_run_of_zeros_are_found_where_they_were_planted(
    memory_twin: Twin, tmp_path_factory: pytest.TempPathFactory
) -> None:
    demo, faults = demo_data(tmp_path_factory)
    ingest_sensor_registry(memory_twin, demo / "sensors" / "sensors.csv")
    ingest_readings(memory_twin, demo / "sensors" / "readings.parquet")
    consumption, gaps = consumption_from_twin(memory_twin)
    planted = {k: v for k, v in faults.items() if k.endswith(("-elec", "-gas"))}
    assert set(planted) == {"office_1972-elec", "office_1992-gas"}
    found = {(r["sensor_id"], r["gap_kind"]): r for r in gaps.to_pylist()}
    assert set(found) == {("office_1972-elec", "missing"), ("office_1992-gas", "zero_run")}
    start = dt.datetime(2026, 10, 2)  # PERIOD_START of the demo
    elec = found[("office_1972-elec", "missing")]
    assert (elec["start_utc"], elec["intervals"]) == (start + dt.timedelta(days=10), 72)  # "days 10-12"
    gas = found[("office_1992-gas", "zero_run")]
    assert (gas["start_utc"], gas["intervals"]) == (start + dt.timedelta(days=20), 48)  # "days 20-21"
    rows = {r["entity_id"]: r for r in consumption.to_pylist() if r["level"] == "meter"}
    assert rows["office_1972-elec"]["intervals_missing"] == 72
    assert rows["office_1992-gas"]["intervals_zero_run"] == 48
    assert rows["office_1992-gas"]["consumption_filled_kwh"] > rows["office_1992-gas"]["consumption_kwh"]


def test_sub_hourly_readings_add_up_per_interval_and_a_missing_hour_breaks_a_zero_run() -> None:
    base = dt.datetime(2026, 1, 5)
    times = [base + dt.timedelta(minutes=15 * i) for i in range(4 * 10)]
    values = [1.0] * 8 + [0.0] * 8 + [0.0] * 4 + [2.0] * 20  # hours 2-4 zero, then positive
    readings = pa.table({"sensor_id": ["m"] * 40, "time_utc": times, "value": values})
    keep = [i for i in range(40) if not 12 <= i < 16]  # hour 3 missing: zero hours 2 and 4 are apart
    gaps = meter_gaps(readings.take(keep)).to_pylist()
    assert [(g["gap_kind"], g["intervals"]) for g in gaps] == [("missing", 1)]
    table = annual_consumption(readings, params=ConsumptionParams(min_zero_run=3)).to_pylist()[0]
    assert table["consumption_kwh"] == pytest.approx(48.0) and table["intervals_read"] == 10
    assert table["intervals_zero_run"] == 3 and table["consumption_filled_kwh"] == pytest.approx(48.0 + 3 * 48 / 7)


def test_a_window_wider_than_the_readings_counts_leading_and_trailing_intervals_as_missing() -> None:
    times = [dt.datetime(2026, 1, 1, h) for h in range(5, 10)]
    readings = pa.table({"sensor_id": ["m"] * 5, "time_utc": times, "value": [1.0] * 5})
    params = ConsumptionParams(start_utc=dt.datetime(2026, 1, 1), end_utc=dt.datetime(2026, 1, 2))
    gaps = meter_gaps(readings, params).to_pylist()
    assert [(g["start_utc"].hour, g["intervals"]) for g in gaps] == [(0, 5), (10, 14)]
    row = annual_consumption(readings, params=params).to_pylist()[0]
    assert (row["intervals_expected"], row["intervals_missing"]) == (24, 19)
    assert row["consumption_filled_kwh"] == pytest.approx(24.0)


def test_a_twin_without_meters_gives_empty_results_not_an_error(memory_twin: Twin) -> None:
    consumption, gaps = consumption_from_twin(memory_twin)
    assert consumption.num_rows == 0 and gaps.num_rows == 0
    assert memory_twin.query("SELECT count(*) AS n FROM res_consumption").column("n")[0].as_py() == 0
