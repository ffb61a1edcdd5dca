"""Readings through the store's write path against a bare DuckDB Arrow insert, same data, same run.

Goal (issue 2): the twin's path reaches at least 0.8 of the bare insert's readings/s.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from twin import Twin
from twin.engine import connect

N_READINGS = 10_000_000
N_SENSORS = 50_000
READINGS_DDL = """CREATE TABLE readings (
    sensor_id VARCHAR NOT NULL, time_utc TIMESTAMP NOT NULL, value DOUBLE NOT NULL)"""


@pytest.fixture(scope="module")
def readings() -> pa.Table:
    rng = np.random.default_rng(42)
    ids = pa.array([f"sensor-{i:05d}" for i in range(N_SENSORS)])
    sensor = pa.DictionaryArray.from_arrays(pa.array(np.arange(N_READINGS) % N_SENSORS, pa.int32()), ids)
    start = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)
    times = start + (np.arange(N_READINGS) // N_SENSORS) * 60
    return pa.table(
        {
            "sensor_id": sensor.cast(pa.string()),
            "time_utc": pa.array(times, pa.timestamp("s")).cast(pa.timestamp("us")),
            "value": rng.normal(20.0, 3.0, N_READINGS),
        }
    )


def test_readings_through_the_store_write_path(benchmark, readings: pa.Table, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def fresh_twin() -> tuple[tuple[Twin], dict[str, object]]:
        return (Twin(tmp_path / f"store-{next(counter)}.duckdb"),), {}

    def append(twin: Twin) -> None:
        assert twin.append("readings", readings) == N_READINGS
        twin.close()

    benchmark.group = "readings-insert-10M"
    benchmark.extra_info["rows"] = N_READINGS
    benchmark.pedantic(append, setup=fresh_twin, rounds=3, iterations=1)


def test_readings_bare_duckdb_arrow_insert(benchmark, readings: pa.Table, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def fresh_db() -> tuple[tuple[duckdb.DuckDBPyConnection], dict[str, object]]:
        con = connect(str(tmp_path / f"bare-{next(counter)}.duckdb"))
        con.execute(READINGS_DDL)
        return (con,), {}

    def insert(con: duckdb.DuckDBPyConnection) -> None:
        con.register("batch", readings)
        con.execute("INSERT INTO readings SELECT * FROM batch")
        con.close()

    benchmark.group = "readings-insert-10M"
    benchmark.extra_info["rows"] = N_READINGS
    benchmark.extra_info["baseline"] = True
    benchmark.pedantic(insert, setup=fresh_db, rounds=3, iterations=1)
