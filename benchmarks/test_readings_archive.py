"""Archive of older readings: throughput of ``archive_readings`` on ~10 M readings, and the price of reading
through ``readings_all`` (table + Parquet month files) for one sensor over one day.

Data: 1,000 sensors, one reading every 15 minutes from 1 January 2026 for 104 days (~10 M readings, sorted by
time as live ingest appends them). The archive moves everything before 1 April (~8.6 M readings, three months).

- ``archive``: rows/s of the whole run (copy per month, read-back check, delete, commit);
- ``one sensor one day``: the 96 readings of one sensor on 10 February, from ``readings_all`` after the archive
  against the same query on the table of a twin that was never archived (the baseline, ratio printed).

Set ``TWIN_BENCH_ARCHIVE_SENSORS`` to scale the data (readings = sensors x 9,984).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.readings_archive import archive_readings
from twin import Twin

N_SENSORS = int(os.environ.get("TWIN_BENCH_ARCHIVE_SENSORS", "1000"))
PER_SENSOR = 104 * 96  # 104 days of 15-minute readings
N_READINGS = N_SENSORS * PER_SENSOR
CUTOFF = dt.datetime(2026, 4, 1)
DAY = dt.datetime(2026, 2, 10)
SENSOR = "sensor-00042"
QUERY = "SELECT time_utc, value FROM {} WHERE sensor_id = ? AND time_utc >= ? AND time_utc < ? ORDER BY time_utc"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archive-template") / "twin.duckdb"
    with Twin(path) as twin:
        with twin.write() as cur:
            cur.execute(
                "INSERT INTO sensors (sensor_id, kind, unit_ucum) SELECT 'sensor-' || lpad(CAST(i AS VARCHAR), 5, "
                "'0'), 'temperature', 'Cel' FROM range(?) t(i)",
                [N_SENSORS],
            )
            cur.execute(
                "INSERT INTO readings (sensor_id, time_utc, value, import_id) SELECT "
                "'sensor-' || lpad(CAST(i % ? AS VARCHAR), 5, '0'), "
                "TIMESTAMP '2026-01-01' + (i // ?) * INTERVAL 15 minute, 15 + (hash(i) % 1000) / 100.0, 1 "
                "FROM range(?) t(i) ORDER BY i",
                [N_SENSORS, N_SENSORS, N_READINGS],
            )
        with twin.read() as cur:
            cur.execute("CHECKPOINT")
    return path


def copy(template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "twin.duckdb")
    return folder / "twin.duckdb"


def test_archive_throughput(benchmark, template: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(100))
    archived: list[int] = []

    def fresh() -> tuple[tuple[Twin], dict[str, object]]:
        return (Twin(copy(template, tmp_path / f"run-{next(counter)}")),), {}

    def run(twin: Twin) -> None:
        report = archive_readings(twin, CUTOFF)
        archived.append(report.readings)
        assert twin.query("SELECT count(*) AS n FROM readings_all").column("n")[0].as_py() == N_READINGS
        twin.close()

    benchmark.group = "archive"
    benchmark.pedantic(run, setup=fresh, rounds=2, iterations=1)
    benchmark.extra_info["rows"] = archived[0]


@pytest.fixture(scope="module")
def archived(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    twin = Twin(copy(template, tmp_path_factory.mktemp("archived")))
    archive_readings(twin, CUTOFF)
    yield twin
    twin.close()


@pytest.fixture(scope="module")
def table_only(template: Path) -> Iterator[Twin]:
    twin = Twin(template)
    yield twin
    twin.close()


def test_one_sensor_one_day_through_readings_all(benchmark, archived: Twin) -> None:  # type: ignore[no-untyped-def]
    def query() -> None:
        rows = archived.query(QUERY.format("readings_all"), [SENSOR, DAY, DAY + dt.timedelta(days=1)])
        assert rows.num_rows == 96

    benchmark.group = "one sensor one day"
    benchmark.extra_info["rows"] = 96
    benchmark(query)


def test_one_sensor_one_day_from_the_table_only(benchmark, table_only: Twin) -> None:  # type: ignore[no-untyped-def]
    def query() -> None:
        rows = table_only.query(QUERY.format("readings"), [SENSOR, DAY, DAY + dt.timedelta(days=1)])
        assert rows.num_rows == 96

    benchmark.group = "one sensor one day"
    benchmark.extra_info["rows"] = 96
    benchmark.extra_info["baseline"] = True
    benchmark(query)
