"""A reading (sensor, time) is stored once: repeated in another file, in the same file, in a live batch, or
already archived, it is counted as a duplicate in the import report, named with the file of the first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.readings_archive import archive_readings
from ingest.sensors import append_readings, ingest_readings
from twin import Twin

T0 = dt.datetime(2026, 1, 5, 8)


def write_csv(path: Path, rows: list[tuple[str, int, float]]) -> Path:
    lines = ["sensor_id,time,value"] + [
        f"{s},{(T0 + dt.timedelta(minutes=m)).isoformat()}Z,{v}" for s, m, v in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def sensors(twin: Twin) -> Twin:
    twin.append("sensors", {"sensor_id": ["a", "b"], "kind": ["temperature"] * 2, "unit_ucum": ["Cel"] * 2})
    return twin


def consistent(twin: Twin) -> None:
    """No (sensor, time) twice anywhere, and the hourly roll-up counts exactly the stored readings."""
    dupes = twin.query(
        "SELECT count(*) AS n FROM (SELECT sensor_id, time_utc FROM readings_all GROUP BY ALL HAVING count(*) > 1)"
    )
    assert dupes.column("n").to_pylist() == [0]
    rollup = twin.query(
        "SELECT sensor_id, hour_utc, n, round(sum, 9) AS s FROM readings_hourly ORDER BY ALL"
    ).to_pylist()
    direct = twin.query(
        "SELECT sensor_id, date_trunc('hour', time_utc) AS hour_utc, count(*) AS n, round(sum(value), 9) AS s "
        "FROM readings_all GROUP BY ALL ORDER BY ALL"
    ).to_pylist()
    assert rollup == direct


def test_readings_repeated_from_another_file_are_counted_named_and_not_stored_again(
    sensors: Twin, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "january-a.csv", [("a", m, 20 + m) for m in range(0, 60, 10)])
    ingest_readings(sensors, first)
    # The second file (Parquet) repeats three readings of the first, one with another value, and adds two.
    second = tmp_path / "january-b.parquet"
    pq.write_table(
        pa.table(
            {
                "sensor_id": ["a", "a", "a", "a", "b"],
                "time_utc": [T0 + dt.timedelta(minutes=m) for m in (0, 10, 20, 70, 0)],
                "value": [20.0, 99.0, 40.0, 21.0, 18.0],
            }
        ),
        second,
    )
    report = ingest_readings(sensors, second)
    assert report.counts["duplicates"] == 3 and report.counts["readings"] == 2 and report.counts["rows"] == 5
    [warning] = [w for w in report.warnings if w["ref"] == "duplicates"]
    assert "3 readings are already stored from" in warning["message"] and "january-a.csv" in warning["message"]
    kept = sensors.query(
        "SELECT value FROM readings WHERE sensor_id = 'a' AND time_utc = ?", [T0 + dt.timedelta(minutes=10)]
    )
    assert kept.column("value").to_pylist() == [30.0]  # the first stays
    assert sensors.query("SELECT count(*) AS n FROM readings").column("n").to_pylist() == [8]
    consistent(sensors)


def test_a_row_repeated_within_a_file_keeps_the_first(sensors: Twin, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "twice.csv", [("a", 0, 1.0), ("a", 5, 2.0), ("a", 5, 3.0), ("a", 5, 4.0)])
    report = ingest_readings(sensors, file)
    assert report.counts["duplicates_in_file"] == 2 and report.counts["readings"] == 2
    assert any(w["ref"] == "line 4" and "the first is kept" in w["message"] for w in report.warnings)
    assert sensors.query("SELECT value FROM readings ORDER BY time_utc").column("value").to_pylist() == [1.0, 2.0]
    consistent(sensors)


def test_a_live_batch_repeating_a_file_reading_stores_only_the_new_ones(sensors: Twin, tmp_path: Path) -> None:
    ingest_readings(sensors, write_csv(tmp_path / "f.csv", [("b", 0, 5.0), ("b", 15, 6.0)]))
    live = pa.table(
        {
            "sensor_id": ["b", "b"],
            "time_utc": [(T0 + dt.timedelta(minutes=m)).isoformat() + "Z" for m in (15, 30)],
            "value": [6.0, 7.0],
        }
    )
    counts = append_readings(sensors, live, source="mqtt test")
    assert counts["readings"] == 1 and counts["duplicates"] == 1
    again = append_readings(sensors, live, source="mqtt test")  # the same batch again: nothing new
    assert again["readings"] == 0 and again["duplicates"] == 2
    consistent(sensors)


def test_a_file_imported_again_after_its_month_was_archived_stores_nothing(sensors: Twin, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "old.csv", [("a", m, float(m)) for m in range(0, 120, 15)])
    ingest_readings(sensors, file)
    archive_readings(sensors, T0 + dt.timedelta(days=1))
    copy = tmp_path / "old-copy.csv"  # another file (another hash), the same readings
    copy.write_text(file.read_text().replace("\n", "\r\n"))
    report = ingest_readings(sensors, copy)
    assert report.counts["readings"] == 0 and report.counts["duplicates"] == 8
    assert "old.csv" in " ".join(w["message"] for w in report.warnings)
    consistent(sensors)
