"""SensorThings API: the latest observation of each of 10,000 datastreams, and one page of observations.

Goals (issue 11): ``/v1.1/Datastreams?$top=10000&$expand=Observations($top=1;$orderby=phenomenonTime desc)``
answers in < 200 ms with 10,000 sensors and 10 million readings in the twin (the latest values come from
``sensor_latest``, never from the history). For comparison: a page of 10,000 observations filtered on a day.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twin import Twin
from twin.sensorthings_api import handle

N_SENSORS = 10_000
N_READINGS = 10_000_000


@pytest.fixture(scope="module")
def big_twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    path: Path = tmp_path_factory.mktemp("sta") / "twin.duckdb"
    with Twin(path) as twin:
        with twin.write() as cur:
            cur.execute(
                f"""
                INSERT INTO sensors (sensor_id, kind, unit_ucum, name, location, asset_kind, asset_id)
                SELECT 's' || lpad(i::VARCHAR, 5, '0'), 'temperature', 'Cel', 'sensor ' || i,
                       ST_Point(843000 + (i % 100) * 10.0, 6519000 + (i // 100) * 10.0),
                       'building', 'B' || (i // 10)
                FROM range({N_SENSORS}) t(i)
                """
            )
            cur.execute(
                f"""
                INSERT INTO readings (sensor_id, time_utc, value)
                SELECT 's' || lpad((i % {N_SENSORS})::VARCHAR, 5, '0'),
                       TIMESTAMP '2026-10-01' + to_seconds((i // {N_SENSORS}) * 600), 15 + (i % 97) / 10.0
                FROM range({N_READINGS}) t(i)
                """
            )
            cur.execute(
                "INSERT INTO sensor_latest SELECT sensor_id, max(time_utc), arg_max(value, time_utc) "
                "FROM readings GROUP BY 1"
            )
        yield twin


def test_latest_observation_of_10000_datastreams(benchmark: pytest.FixtureRequest, big_twin: Twin) -> None:
    query = f"$top={N_SENSORS}&$select=id&$expand=Observations($top=1;$orderby=phenomenonTime desc)"
    status, body = benchmark(handle, big_twin, "/v1.1/Datastreams", query, "http://bench")  # type: ignore[operator]
    assert status == 200 and len(body["value"]) == N_SENSORS and all(d["Observations"] for d in body["value"])
    benchmark.extra_info["rows"] = N_SENSORS  # type: ignore[attr-defined]


def test_one_page_of_10000_observations_of_a_day(benchmark: pytest.FixtureRequest, big_twin: Twin) -> None:
    query = "$top=10000&$filter=phenomenonTime ge 2026-10-03T00:00:00Z and phenomenonTime lt 2026-10-04T00:00:00Z"
    status, body = benchmark(handle, big_twin, "/v1.1/Observations", query, "http://bench")  # type: ignore[operator]
    assert status == 200 and len(body["value"]) == 10_000 and "@iot.nextLink" in body
    benchmark.extra_info["rows"] = 10_000  # type: ignore[attr-defined]
