"""Sensor readings: batch ingest from Parquet through the twin's path against a bare DuckDB insert, the latest
value of every sensor, and the hourly series of one day over a large readings table.

Goals (issue 6):
- batch ingest >= 1 million readings/s from Parquet through ``ingest_readings`` (validation, rejects, hourly
  roll-up, latest values and the import log included), printed beside the bare ``INSERT ... read_parquet``;
- the latest value of 50,000 sensors in < 50 ms (``sensor_latest``, never a scan of the history);
- the hourly series of one sensor over one day with 100 million readings in the twin (set
  ``TWIN_BENCH_HOURLY_READINGS`` to scale it down, e.g. to 10_000_000), from ``readings_hourly`` and, for
  comparison, computed from the raw readings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.sensors import ingest_readings
from twin import Twin
from twin.engine import connect

N_READINGS = 10_000_000
N_SENSORS = 50_000
HOURLY_READINGS = int(os.environ.get("TWIN_BENCH_HOURLY_READINGS", "100000000"))
READINGS_DDL = """CREATE TABLE readings (
    sensor_id VARCHAR NOT NULL, time_utc TIMESTAMP NOT NULL, value DOUBLE NOT NULL)"""


def sensor_ids() -> pa.Array:
    return pa.array([f"sensor-{i:05d}" for i in range(N_SENSORS)])


def registry() -> pa.Table:
    return pa.table(
        {"sensor_id": sensor_ids(), "kind": ["temperature"] * N_SENSORS, "unit_ucum": ["Cel"] * N_SENSORS}
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 M readings of 50,000 sensors, one a minute, as the demo writes them (Parquet, zstd)."""
    rng = np.random.default_rng(42)
    sensor = pa.DictionaryArray.from_arrays(pa.array(np.arange(N_READINGS) % N_SENSORS, pa.int32()), sensor_ids())
    start = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)
    times = start + (np.arange(N_READINGS) // N_SENSORS) * 60
    table = pa.table(
        {
            "sensor_id": sensor.cast(pa.string()),
            "time_utc": pa.array(times, pa.timestamp("s")).cast(pa.timestamp("us")),
            "value": rng.normal(20.0, 3.0, N_READINGS),
        }
    )
    path = tmp_path_factory.mktemp("sensor-batch") / "readings.parquet"
    pq.write_table(table, path, compression="zstd", row_group_size=1_000_000)
    return path


def test_parquet_batch_through_ingest_readings(benchmark, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def fresh_twin() -> tuple[tuple[Twin], dict[str, object]]:
        twin = Twin(tmp_path / f"ingest-{next(counter)}.duckdb")
        twin.append("sensors", registry())
        return (twin,), {}

    def ingest(twin: Twin) -> None:
        report = ingest_readings(twin, batch)
        assert report.counts["readings"] == N_READINGS and report.counts["sensors"] == N_SENSORS
        twin.close()

    benchmark.group = "parquet-ingest-10M"
    benchmark.extra_info["rows"] = N_READINGS
    benchmark.pedantic(ingest, setup=fresh_twin, rounds=3, iterations=1)


def test_parquet_bare_duckdb_insert(benchmark, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def fresh_db() -> tuple[tuple[duckdb.DuckDBPyConnection], dict[str, object]]:
        con = connect(str(tmp_path / f"bare-{next(counter)}.duckdb"))
        con.execute(READINGS_DDL)
        return (con,), {}

    def insert(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"INSERT INTO readings SELECT sensor_id, time_utc, value FROM read_parquet('{batch}')")
        con.close()

    benchmark.group = "parquet-ingest-10M"
    benchmark.extra_info["rows"] = N_READINGS
    benchmark.extra_info["baseline"] = True
    benchmark.pedantic(insert, setup=fresh_db, rounds=3, iterations=1)


@pytest.fixture(scope="module")
def ingested(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    twin = Twin(tmp_path_factory.mktemp("ingested") / "twin.duckdb")
    twin.append("sensors", registry())
    ingest_readings(twin, batch)
    yield twin
    twin.close()


def test_latest_value_of_50000_sensors(benchmark, ingested: Twin) -> None:  # type: ignore[no-untyped-def]
    """Goal: < 50 ms for the whole table (read through ``twin.query``, Arrow out)."""

    def latest() -> pa.Table:
        return ingested.query("SELECT sensor_id, time_utc, value FROM sensor_latest")

    benchmark.group = "latest-50k"
    benchmark.extra_info["rows"] = N_SENSORS
    table = benchmark(latest)
    assert table.num_rows == N_SENSORS


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """HOURLY_READINGS readings of 50,000 sensors (one a minute) and their hourly roll-up, built in SQL."""
    twin = Twin(tmp_path_factory.mktemp("big") / "twin.duckdb")
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO readings (sensor_id, time_utc, value) "
            "SELECT 'sensor-' || lpad(CAST(i % ? AS VARCHAR), 5, '0'), "
            "TIMESTAMP '2026-01-01' + to_minutes(CAST(i // ? AS BIGINT)), 20 + sin(i) FROM range(?) t(i)",
            [N_SENSORS, N_SENSORS, HOURLY_READINGS],
        )
        # The same roll-up statement shape as ingest_readings, over the whole table.
        cur.execute(
            "INSERT INTO readings_hourly SELECT sensor_id, date_trunc('hour', time_utc), count(*), sum(value), "
            "min(value), max(value) FROM readings GROUP BY ALL"
        )
    yield twin
    twin.close()


DAY = ("sensor-01234", "2026-01-01 00:00:00", "2026-01-02 00:00:00")
HOURS = min(24, -(-HOURLY_READINGS // N_SENSORS // 60))
"""Hours of the series: 24 at 100 M readings (2,000 minutes of 50,000 sensors), 4 at 10 M (200 minutes)."""


def test_hourly_series_of_one_day_from_the_rollup(benchmark, big: Twin) -> None:  # type: ignore[no-untyped-def]
    def series() -> pa.Table:
        return big.query(
            "SELECT hour_utc, sum / n AS mean, min, max FROM readings_hourly WHERE sensor_id = ? "
            "AND hour_utc >= ? AND hour_utc < ? ORDER BY hour_utc",
            list(DAY),
        )

    benchmark.group = "hourly-series-one-day"
    benchmark.extra_info["rows"] = HOURLY_READINGS  # readings the series summarises
    table = benchmark(series)
    assert table.num_rows == HOURS


def test_hourly_series_of_one_day_from_raw_readings(benchmark, big: Twin) -> None:  # type: ignore[no-untyped-def]
    def series() -> pa.Table:
        return big.query(
            "SELECT date_trunc('hour', time_utc) AS hour_utc, avg(value) AS mean, min(value) AS min, "
            "max(value) AS max FROM readings WHERE sensor_id = ? AND time_utc >= ? AND time_utc < ? "
            "GROUP BY 1 ORDER BY 1",
            list(DAY),
        )

    benchmark.group = "hourly-series-one-day"
    benchmark.extra_info["rows"] = HOURLY_READINGS
    benchmark.extra_info["baseline"] = True
    table = benchmark.pedantic(series, rounds=3, iterations=1)
    assert table.num_rows == HOURS
