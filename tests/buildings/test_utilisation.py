"""Utilisation from occupancy: equal to a direct count over the file, in [0, 1], flagged against the threshold."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from buildings.utilisation import (
    UtilisationParams,
    aggregate_utilisation,
    sensor_utilisation,
    utilisation_from_twin,
)
from ingest.sensors import ingest_readings, ingest_sensor_registry
from tests.conftest import shared_data
from tests.ingest.test_sensors import demo_data, write_csv
from twin import Twin

BRUSSELS_OFFICE = UtilisationParams(timezone="Europe/Brussels")


def test_uci_utilisation_equals_a_direct_count_over_the_files(twin: Twin, tmp_path: Path) -> None:
    folder = shared_data("sensors-occupancy-uci")
    registry = [
        ["sensor_id", "kind", "unit_ucum", "asset_kind", "asset_id"],
        ["uci-occupancy", "occupancy", "1", "space", "uci-office"],
    ]
    ingest_sensor_registry(twin, write_csv(tmp_path / "uci.csv", registry))
    frames = []
    for name in ("datatraining.txt", "datatest.txt"):
        report = ingest_readings(
            twin, folder / name, sensor_ids={"Occupancy": "uci-occupancy"}, timezone="Europe/Brussels"
        )
        frame = pd.read_csv(folder / name)
        assert report.counts["readings"] == len(frame)  # every row stored
        frames.append(frame)
    raw = pd.concat(frames)
    # Direct computation on the file's own local times: weekdays, 08:00 <= t < 18:00.
    local = pd.to_datetime(raw["date"])
    hour = local.dt.hour + local.dt.minute / 60 + local.dt.second / 3600
    open_ = (local.dt.weekday < 5) & (hour >= 8) & (hour < 18)
    expected = raw.loc[open_, "Occupancy"].mean()

    result = utilisation_from_twin(twin, BRUSSELS_OFFICE)
    rows = {(r["level"], r["entity_id"]): r for r in result.to_pylist()}
    sensor = rows[("sensor", "uci-occupancy")]
    assert sensor["samples_open"] == int(open_.sum()) and sensor["samples_open"] > 2000
    assert sensor["samples_occupied"] == int(raw.loc[open_, "Occupancy"].sum())
    assert sensor["utilisation_ratio"] == pytest.approx(expected, rel=1e-12)
    assert rows[("space", "uci-office")]["utilisation_ratio"] == pytest.approx(expected, rel=1e-12)
    stored = twin.query("SELECT level, utilisation_ratio, opening_hours FROM res_utilisation ORDER BY level")
    assert stored.column("level").to_pylist() == ["sensor", "space"]
    assert stored.column("utilisation_ratio").to_pylist() == pytest.approx([expected, expected])
    assert stored.column("opening_hours")[0].as_py() == "Mon-Fri 08:00-18:00 Europe/Brussels"
    utilisation_from_twin(twin, BRUSSELS_OFFICE)  # computing again replaces, never duplicates
    assert twin.query("SELECT count(*) AS n FROM res_utilisation").column("n")[0].as_py() == 2


def test_demo_offices_are_used_about_43_percent_and_schools_20_and_only_schools_are_flagged(
    memory_twin: Twin, tmp_path_factory: pytest.TempPathFactory
) -> None:
    demo, _ = demo_data(tmp_path_factory)
    ingest_sensor_registry(memory_twin, demo / "sensors" / "sensors.csv")
    ingest_readings(memory_twin, demo / "sensors" / "readings.parquet")
    # The demo's school rooms are open 08:00-16:30 and its offices 08:00-18:00 (ingest/demo/operations.py).
    school = UtilisationParams(opening_end_h=16.5)
    result = utilisation_from_twin(memory_twin, UtilisationParams(), store=False).to_pandas()
    schools = utilisation_from_twin(memory_twin, school, store=False).to_pandas()
    offices = result[(result["level"] == "sensor") & result["entity_id"].str.startswith("office")]
    schools = schools[(schools["level"] == "sensor") & schools["entity_id"].str.startswith("school")]
    assert len(offices) > 5 and len(schools) > 5
    assert offices["utilisation_ratio"].mean() == pytest.approx(0.43, abs=0.03)
    assert schools["utilisation_ratio"].mean() == pytest.approx(0.20, abs=0.03)
    assert not offices["below_threshold"].any() and schools["below_threshold"].all()


def random_readings(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = 2_000
    start = np.datetime64("2026-03-02T00:00")
    times = start + rng.integers(0, 14 * 24 * 60, n).astype("timedelta64[m]")
    return pa.table(
        {
            "sensor_id": rng.choice(["a", "b", "c", "d"], n),
            "time_utc": pa.array(times.astype("datetime64[us]")),
            "value": rng.integers(0, 4, n).astype(float) * (rng.random(n) < 0.4),
        }
    )


@pytest.mark.parametrize("seed", range(5))
def test_utilisation_stays_within_0_and_1_and_a_stricter_threshold_never_flags_fewer(seed: int) -> None:
    readings = random_readings(seed)
    flagged = []
    for threshold in (0.1, 0.3, 0.5, 0.9):
        out = sensor_utilisation(readings, UtilisationParams(threshold_ratio=threshold)).to_pandas()
        assert out["utilisation_ratio"].between(0, 1).all()
        assert (out["samples_occupied"] <= out["samples_open"]).all()
        flagged.append(set(out.loc[out["below_threshold"].astype(bool), "sensor_id"]))
    assert all(a <= b for a, b in itertools.pairwise(flagged))


def test_pooled_utilisation_lies_between_its_sensors_and_weighs_them_by_samples() -> None:
    readings = random_readings(7)
    per_sensor = sensor_utilisation(readings)
    assets = pa.table({"sensor_id": ["a", "b", "c", "d"], "building_id": ["B", "B", "B", None]})
    out = aggregate_utilisation(per_sensor, assets, "building").to_pylist()
    ratios = [r["utilisation_ratio"] for r in per_sensor.to_pylist() if r["sensor_id"] != "d"]
    assert [r["building_id"] for r in out] == ["B"]
    assert min(ratios) <= out[0]["utilisation_ratio"] <= max(ratios)
    rows = per_sensor.to_pandas().set_index("sensor_id").loc[["a", "b", "c"]]
    assert out[0]["utilisation_ratio"] == pytest.approx(
        rows["samples_occupied"].sum() / rows["samples_open"].sum()
    )


def test_a_sensor_with_no_sample_in_opening_hours_is_unknown_not_flagged() -> None:
    sunday = [dt.datetime(2026, 3, 8, h) for h in range(8, 18)]
    readings = pa.table({"sensor_id": ["s"] * 10, "time_utc": sunday, "value": [0.0] * 10})
    row = sensor_utilisation(readings).to_pylist()[0]
    assert row["samples_open"] == 0 and row["utilisation_ratio"] is None and row["below_threshold"] is None


def test_a_twin_without_occupancy_sensors_gives_an_empty_result(memory_twin: Twin) -> None:
    assert utilisation_from_twin(memory_twin).num_rows == 0
