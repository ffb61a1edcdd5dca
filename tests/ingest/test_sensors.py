"""Sensor registry and batch readings: every valid row stored, every bad row rejected with its reason, roll-ups
consistent with the readings, times in UTC, unreadable files refused with the twin unchanged."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingest.demo.generate import write_demo_files
from ingest.sensors import ingest_readings, ingest_sensor_registry
from ingest.sensorthings import ingest_sensorthings
from tests.conftest import shared_data
from twin import Twin
from twin.errors import TwinError

UCI_COLUMNS = {
    "Temperature": ("uci-temperature", "temperature", "Cel"),
    "Humidity": ("uci-humidity", "humidity", "%"),
    "CO2": ("uci-co2", "co2", "[ppm]"),
    "HumidityRatio": ("uci-humidity-ratio", "humidity", "kg/kg"),
    "Occupancy": ("uci-occupancy", "occupancy", "1"),
}
"""UCI columns -> sensors. ``Light`` (lux) has no sensors.kind in 0001_core.sql, so it is not read."""


def demo_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The demo's data folder and planted faults, generated once per test session (shared by the modules)."""
    root = tmp_path_factory.getbasetemp() / "demo-seed-42"
    manifest = root / "data" / "MANIFEST.json"
    if not manifest.exists():
        write_demo_files(root, seed=42)
    return root / "data", json.loads(manifest.read_text())["faults"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_data(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def demo_twin(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Twin:
    twin = Twin(tmp_path_factory.mktemp("demo-twin") / "twin.duckdb")
    ingest_sensor_registry(twin, demo / "sensors" / "sensors.csv")
    ingest_readings(twin, demo / "sensors" / "readings.parquet")
    return twin


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


REGISTRY = [
    ["sensor_id", "kind", "unit_ucum", "x", "y", "asset_kind", "asset_id", "name"],
    ["t1", "temperature", "Cel", "", "", "space", "room-1", "room 1"],
    ["m1", "electricity_meter", "kW.h", "", "", "building", "b1", "meter"],
]


@pytest.fixture
def small(memory_twin: Twin, tmp_path: Path) -> Twin:
    """A throw-away twin with two sensors (in memory: the small cases need no file)."""
    ingest_sensor_registry(memory_twin, write_csv(tmp_path / "sensors.csv", REGISTRY))
    return memory_twin


def hourly_from_readings(twin: Twin) -> list[tuple[object, ...]]:
    return [
        tuple(r.values())
        for r in twin.query(
            "SELECT sensor_id, date_trunc('hour', time_utc) AS h, count(*) AS n, round(sum(value), 6) AS s, "
            "min(value) AS lo, max(value) AS hi FROM readings GROUP BY ALL ORDER BY ALL"
        ).to_pylist()
    ]


def hourly_table(twin: Twin) -> list[tuple[object, ...]]:
    return [
        tuple(r.values())
        for r in twin.query(
            "SELECT sensor_id, hour_utc, n, round(sum, 6), min, max FROM readings_hourly ORDER BY ALL"
        ).to_pylist()
    ]


def latest_from_readings(twin: Twin) -> list[tuple[object, ...]]:
    return [
        tuple(r.values())
        for r in twin.query(
            "SELECT sensor_id, max(time_utc), arg_max(value, time_utc) FROM readings GROUP BY 1 ORDER BY 1"
        ).to_pylist()
    ]


def latest_table(twin: Twin) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in twin.query("FROM sensor_latest ORDER BY sensor_id").to_pylist()]


# ------------------------------------------------------------------------------------------------ demo data
def test_every_demo_reading_is_stored_with_hourly_rollup_and_latest_value_consistent(
    demo: Path, demo_twin: Twin
) -> None:
    file = pq.read_table(demo / "sensors" / "readings.parquet")
    stored = demo_twin.query("SELECT count(*) AS n, sum(value) AS s FROM readings").to_pylist()[0]
    assert stored["n"] == file.num_rows == 532_008
    assert stored["s"] == pytest.approx(pc.sum(file.column("value")).as_py())
    assert demo_twin.query("SELECT count(*) AS n FROM sensors").column("n")[0].as_py() == 216
    assert demo_twin.query("SELECT count(*) AS n FROM rejected_readings").column("n")[0].as_py() == 0
    assert hourly_table(demo_twin) == hourly_from_readings(demo_twin)
    assert latest_table(demo_twin) == latest_from_readings(demo_twin)
    assert len(latest_table(demo_twin)) == 216


def test_reimporting_the_same_readings_file_changes_nothing(small: Twin, tmp_path: Path) -> None:
    batch = pa.table(
        {
            "sensor_id": ["t1", "m1", "ghost"],
            "time_utc": [dt.datetime(2026, 10, 2, 8)] * 3,
            "value": [20.0, 3.5, 1.0],
        }
    )
    pq.write_table(batch, tmp_path / "batch.parquet")
    first = ingest_readings(small, tmp_path / "batch.parquet")
    assert first.counts["readings"] == 2 and first.counts["rejected"] == 1
    before = small.table_checksums()
    again = ingest_readings(small, tmp_path / "batch.parquet")
    assert again.unchanged and again.import_id is None
    assert small.table_checksums() == before


def test_batches_arriving_out_of_order_merge_into_the_hours_they_touch(
    demo: Path, twin: Twin, tmp_path: Path
) -> None:
    ingest_sensor_registry(twin, demo / "sensors" / "sensors.csv")
    table = pq.read_table(demo / "sensors" / "readings.parquet")
    rng = np.random.default_rng(0)
    # Every hour is split between both batches; the second batch is the older half of the period.
    late = pc.greater_equal(table.column("time_utc"), pa.scalar(dt.datetime(2026, 10, 17), pa.timestamp("s")))
    coin = pa.array(rng.random(table.num_rows) < 0.5)
    first = table.filter(pc.or_(late, coin))
    second = table.filter(pc.invert(pc.or_(late, coin)))
    pq.write_table(first, tmp_path / "a.parquet")
    pq.write_table(second, tmp_path / "b.parquet")
    ingest_readings(twin, tmp_path / "a.parquet")
    latest_after_first = latest_table(twin)
    report = ingest_readings(twin, tmp_path / "b.parquet")
    assert report.counts["readings"] == second.num_rows
    assert report.counts["sensors"] == 0  # older readings never move the latest value back
    assert latest_table(twin) == latest_after_first == latest_from_readings(twin)
    assert hourly_table(twin) == hourly_from_readings(twin)
    assert twin.query("SELECT count(*) AS n FROM readings").column("n")[0].as_py() == table.num_rows


# ------------------------------------------------------------------------------------------------ rejects
def test_bad_rows_are_rejected_with_their_reason_and_the_valid_rows_are_stored(
    small: Twin, tmp_path: Path
) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = write_csv(
        tmp_path / "batch.csv",
        [
            ["sensor_id", "time", "value", "unit"],
            ["t1", "2026-10-02T08:00:00Z", "20.5", "Cel"],  # line 2: valid
            ["ghost", "2026-10-02T08:00:00Z", "1", ""],  # line 3: unknown sensor
            ["t1", "2026-10-02T08:15:00Z", "warm", "Cel"],  # line 4: non-numeric
            ["t1", "2026-10-02T08:30:00Z", "", "Cel"],  # line 5: missing value
            ["t1", future, "21", "Cel"],  # line 6: far in the future
            ["t1", "yesterday", "21", "Cel"],  # line 7: time cannot be read
            ["t1", "2026-10-02T08:45:00Z", "294.2", "K"],  # line 8: unit mismatch
            ["m1", "2026-10-02T08:00:00Z", "12.5", ""],  # line 9: valid, no unit given
            ["t1", soon, "21.5", "Cel"],  # line 10: within the margin: valid
        ],
    )
    report = ingest_readings(small, path)
    assert report.counts["readings"] == 3 and report.counts["rejected"] == 6 and report.counts["rows"] == 9
    rejected = small.query(
        "SELECT row_ref, reason, sensor_id, time_raw, value_raw, unit_raw, detail, import_id "
        "FROM rejected_readings ORDER BY row_ref"
    ).to_pylist()
    assert [(r["row_ref"], r["reason"]) for r in rejected] == [
        ("line 3", "unknown_sensor"),
        ("line 4", "non_numeric_value"),
        ("line 5", "missing_value"),
        ("line 6", "future_time"),
        ("line 7", "invalid_time"),
        ("line 8", "unit_mismatch"),
    ]
    assert rejected[1]["value_raw"] == "warm" and rejected[4]["time_raw"] == "yesterday"
    assert rejected[5]["unit_raw"] == "K" and "Cel" in rejected[5]["detail"]
    assert {r["import_id"] for r in rejected} == {report.import_id}
    assert report.counts["rejected_unknown_sensor"] == 1
    assert {w["ref"] for w in report.warnings} == {r["row_ref"] for r in rejected}
    assert small.query("SELECT sum(n) AS n FROM readings_hourly").column("n")[0].as_py() == 3


def test_a_margin_of_zero_rejects_a_reading_five_minutes_ahead(small: Twin, tmp_path: Path) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = write_csv(tmp_path / "soon.csv", [["sensor_id", "time", "value"], ["t1", soon, "20"]])
    report = ingest_readings(small, path, future_margin=dt.timedelta(0))
    assert report.counts["rejected_future_time"] == 1 and report.counts["readings"] == 0


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "expected"),
    [
        ("broken.parquet", b"PAR1 this is not parquet", {}, "broken.parquet"),
        ("notime.csv", b"sensor_id,value\nt1,3\n", {}, "no time column"),
        (
            "ok.csv",
            b"sensor_id,time,value\nt1,2026-10-02T08:00:00Z,3\n",
            {"timezone": "Mars/Olympus"},
            "time zone",
        ),
        (
            "ragged.csv",
            b"sensor_id,time,value\nt1,2026-10-02T08:00:00Z,3\nt1,2026-10-02,4,5,6\n",
            {},
            "ragged.csv",
        ),
        ("empty.csv", b"", {}, "empty"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_naming_it_and_the_twin_is_unchanged(
    small: Twin, tmp_path: Path, name: str, content: bytes, kwargs: dict[str, str], expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = small.table_checksums()
    with pytest.raises(TwinError) as err:
        ingest_readings(small, path, **kwargs)  # type: ignore[arg-type]
    assert expected in str(err.value) and err.value.hint
    assert small.table_checksums() == before


# ------------------------------------------------------------------------------------------------ times
def test_offsets_local_zones_and_zoned_parquet_columns_all_land_in_utc(small: Twin, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "zones.csv",
        [
            ["sensor_id", "time", "value"],
            ["t1", "2026-10-02T10:00:00+02:00", "1"],
            ["t1", "2026-10-02 08:00:00Z", "2"],
            ["t1", "2026-10-02 10:00:00", "3"],  # naive: read in Europe/Paris (CEST, UTC+2)
            ["t1", "2025-12-02 09:00:00", "4"],  # naive in winter (CET, UTC+1)
        ],
    )
    report = ingest_readings(small, path, timezone="Europe/Paris")
    # Lines 3 and 4 are the reading of line 2 written another way: the same UTC instant, so duplicates.
    assert report.counts["duplicates_in_file"] == 2 and report.counts["readings"] == 2
    zoned = pa.table(
        {
            "sensor_id": ["m1", "m1"],
            "time": pa.array(
                [
                    dt.datetime(2026, 10, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                    dt.datetime(2026, 10, 2, 9, tzinfo=dt.UTC),
                ],
                pa.timestamp("us", tz="Europe/Paris"),
            ),
            "value": [5.0, 6.0],
        }
    )
    pq.write_table(zoned, tmp_path / "zoned.parquet")
    ingest_readings(small, tmp_path / "zoned.parquet")
    rows = small.query("SELECT value, time_utc FROM readings ORDER BY value").to_pylist()
    eight = dt.datetime(2026, 10, 2, 8)
    assert [(r["value"], r["time_utc"]) for r in rows] == [
        (1.0, eight),
        (4.0, dt.datetime(2025, 12, 2, 8)),
        (5.0, eight),
        (6.0, dt.datetime(2026, 10, 2, 9)),
    ]


def test_a_wide_parquet_file_gives_one_reading_per_filled_cell(small: Twin, tmp_path: Path) -> None:
    wide = pa.table(
        {
            "timestamp": pa.array([dt.datetime(2026, 10, 2, h) for h in range(3)], pa.timestamp("s")),
            "room temp": [20.0, None, 21.0],
            "meter": [1.0, 2.0, float("nan")],
        }
    )
    pq.write_table(wide, tmp_path / "wide.parquet")
    report = ingest_readings(small, tmp_path / "wide.parquet", sensor_ids={"room temp": "t1", "meter": "m1"})
    assert report.counts["readings"] == 4 and report.counts["rejected"] == 1
    rejected = small.query("SELECT row_ref, reason, sensor_id FROM rejected_readings").to_pylist()
    assert rejected == [{"row_ref": "row 3 column meter", "reason": "non_numeric_value", "sensor_id": "m1"}]


# ------------------------------------------------------------------------------------------------ UCI
def test_uci_occupancy_files_are_stored_row_for_row_converted_from_belgian_time(
    twin: Twin, tmp_path: Path
) -> None:
    folder = shared_data("sensors-occupancy-uci")
    registry = [["sensor_id", "kind", "unit_ucum", "asset_kind", "asset_id", "name"]]
    registry += [[sid, kind, unit, "space", "uci-office", col] for col, (sid, kind, unit) in UCI_COLUMNS.items()]
    ingest_sensor_registry(twin, write_csv(tmp_path / "uci.csv", registry))
    mapping = {col: sid for col, (sid, _, _) in UCI_COLUMNS.items()}
    expected_rows, sums = 0, dict.fromkeys(mapping.values(), 0.0)
    first_time = None
    for name in ("datatraining.txt", "datatest.txt"):
        report = ingest_readings(twin, folder / name, sensor_ids=mapping, timezone="Europe/Brussels")
        rows = pd.read_csv(folder / name)  # pandas takes the unnamed first column as the index
        expected_rows += len(rows)
        for col, sid in mapping.items():
            sums[sid] += float(rows[col].sum())
        first_time = first_time or rows["date"].iloc[0]
        assert report.counts["rejected"] == 0 and report.counts["readings"] == len(rows) * len(mapping)
    assert expected_rows == 8_143 + 2_665
    stored = {
        r["sensor_id"]: r
        for r in twin.query(
            "SELECT sensor_id, count(*) AS n, sum(value) AS s FROM readings GROUP BY 1"
        ).to_pylist()
    }
    assert {sid: r["n"] for sid, r in stored.items()} == dict.fromkeys(mapping.values(), expected_rows)
    assert {sid: r["s"] for sid, r in stored.items()} == pytest.approx(sums)
    # February in Mons is CET (UTC+1): 2015-02-04 17:51:00 local is 16:51 UTC.
    assert first_time == "2015-02-04 17:51:00"
    got = (
        twin.query(
            "SELECT min(time_utc) AS t FROM readings WHERE time_utc >= '2015-02-04 16:00'"
            " AND time_utc < '2015-02-04 17:00' AND sensor_id = 'uci-co2'"
        )
        .column("t")[0]
        .as_py()
    )
    assert got == dt.datetime(2015, 2, 4, 16, 51)


# ------------------------------------------------------------------------------------------------ registry
def test_registry_rows_that_cannot_become_sensors_are_refused_by_line_and_nothing_is_written(
    memory_twin: Twin, tmp_path: Path
) -> None:
    twin = memory_twin
    before = twin.table_checksums()
    bad = [*REGISTRY, ["t2", "thermometer", "Cel", "", "", "", "", ""], ["t1", "temperature", "Cel"] + [""] * 5]
    with pytest.raises(TwinError) as err:
        ingest_sensor_registry(twin, write_csv(tmp_path / "bad.csv", bad))
    assert "line 4: unknown kind 'thermometer'" in str(err.value) and "1 more" in str(err.value)
    assert twin.table_checksums() == before


def test_sensors_without_asset_attach_to_the_building_around_them_else_to_a_node_within_the_distance(
    memory_twin: Twin, tmp_path: Path
) -> None:
    twin = memory_twin
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO buildings (building_id, footprint, source) VALUES "
            "('b1', ST_GeomFromText('POLYGON((0 0, 20 0, 20 10, 0 10, 0 0))'), 'manual')"
        )
        cur.execute("INSERT INTO networks (network_id, kind) VALUES ('w', 'water')")
        cur.execute(
            "INSERT INTO network_nodes (node_id, network_id, node_kind, geom) VALUES "
            "('n1', 'w', 'junction', ST_Point(100, 0)), ('n2', 'w', 'junction', ST_Point(130, 0))"
        )
    registry = [
        ["sensor_id", "kind", "unit_ucum", "x", "y", "asset_kind", "asset_id", "name"],
        ["inside", "temperature", "Cel", "5", "5", "", "", ""],
        ["near-n1", "water_pressure", "bar", "110", "3", "", "", ""],
        ["far", "water_pressure", "bar", "100", "60", "", "", ""],
        ["given", "water_pressure", "bar", "101", "0", "network_node", "n2", ""],
    ]
    report = ingest_sensor_registry(twin, write_csv(tmp_path / "s.csv", registry), attach_distance_m=25)
    got = {
        r["sensor_id"]: (r["asset_kind"], r["asset_id"])
        for r in twin.query("SELECT sensor_id, asset_kind, asset_id FROM sensors").to_pylist()
    }
    assert got == {
        "inside": ("building", "b1"),
        "near-n1": ("network_node", "n1"),
        "far": (None, None),
        "given": ("network_node", "n2"),
    }
    assert report.counts["attached_by_location"] == 2
    xy = twin.query("SELECT ST_X(location) AS x, ST_Y(location) AS y FROM sensors WHERE sensor_id = 'inside'")
    assert xy.to_pylist() == [{"x": 5.0, "y": 5.0}]


def test_registry_positions_in_wgs84_are_projected_into_the_twin_crs(memory_twin: Twin, tmp_path: Path) -> None:
    twin = memory_twin
    registry = [
        ["sensor_id", "kind", "unit_ucum", "lon", "lat"],
        ["lyon", "air_quality", "ug/m3", "4.8357", "45.764"],
    ]
    ingest_sensor_registry(twin, write_csv(tmp_path / "wgs.csv", registry))
    x, y = twin.query("SELECT ST_X(location) AS x, ST_Y(location) AS y FROM sensors").to_pylist()[0].values()
    assert x == pytest.approx(842_500, abs=2_000) and y == pytest.approx(6_519_500, abs=2_000)  # Lambert-93


# ------------------------------------------------------------------------------------------------ SensorThings
STA_FIXTURE = Path(__file__).parent / "data" / "sensorthings_things.json"


def test_sensorthings_datastreams_become_sensors_and_observations_readings(memory_twin: Twin) -> None:
    report = ingest_sensorthings(memory_twin, STA_FIXTURE)
    sensors = {
        r["sensor_id"]: r
        for r in memory_twin.query(
            "SELECT sensor_id, kind, unit_ucum, ST_X(location) AS x FROM sensors"
        ).to_pylist()
    }
    assert {s: (r["kind"], r["unit_ucum"]) for s, r in sensors.items()} == {
        "sta-101": ("temperature", "Cel"),
        "sta-102": ("co2", "[ppm]"),
    }
    assert sensors["sta-101"]["x"] == pytest.approx(842_500, abs=2_000)  # Lyon, in Lambert-93
    assert report.counts["datastreams_skipped"] == 1 and "Datastream 201" in report.warnings[0]["ref"]
    readings = memory_twin.query("SELECT sensor_id, time_utc, value FROM readings ORDER BY ALL").to_pylist()
    at = dt.datetime(2026, 10, 5, 8)
    assert [tuple(r.values()) for r in readings] == [
        ("sta-101", at, 19.5),
        ("sta-101", at + dt.timedelta(minutes=15), 20.25),
        ("sta-101", at + dt.timedelta(minutes=45), 21.0),
        ("sta-102", at, 640.0),
    ]
    rejected = memory_twin.query("SELECT row_ref, reason FROM rejected_readings ORDER BY row_ref").to_pylist()
    assert [tuple(r.values()) for r in rejected] == [
        ("Datastream 101 Observation 1003", "non_numeric_value"),
        ("Datastream 102 Observation 2002", "future_time"),
    ]
    assert latest_table(memory_twin) == latest_from_readings(memory_twin)
    assert hourly_table(memory_twin) == hourly_from_readings(memory_twin)


def test_sensorthings_kinds_can_be_given_and_invalid_json_changes_nothing(
    memory_twin: Twin, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(STA_FIXTURE.read_text()[:500])
    before = memory_twin.table_checksums()
    with pytest.raises(TwinError, match=r"broken\.json line"):
        ingest_sensorthings(memory_twin, broken)
    assert memory_twin.table_checksums() == before
    report = ingest_sensorthings(memory_twin, STA_FIXTURE, kinds={"Sound pressure level": "air_quality"})
    assert report.counts["sensors"] == 3 and report.counts["datastreams_skipped"] == 0
