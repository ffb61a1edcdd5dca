"""MQTT live ingest end to end: publish readings in messages of 500 to a real mosquitto, wait until all are stored.

Goal (issue 6): >= 20,000 readings/s from the first publish to the last commit (validation, dedup by msg_id,
hourly roll-up, latest values and acknowledgement included).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.mqtt import MqttSubscriber
from tests.conftest import wait_for
from tests.ingest.test_mqtt import make_twin, publish, reading_messages, running_mosquitto
from twin import Twin

N_READINGS = 100_000


@pytest.fixture(scope="module")
def broker_port() -> Iterator[int]:
    with running_mosquitto() as port:
        yield port


def test_mqtt_ingest_end_to_end(benchmark: Any, tmp_path: Path, broker_port: int) -> None:
    rounds = iter(range(100))

    def setup() -> tuple[tuple[Twin, MqttSubscriber, list[bytes]], dict[str, object]]:
        k = next(rounds)
        path = tmp_path / f"twin-{k}.duckdb"
        make_twin(path)
        twin = Twin(path)
        sub = MqttSubscriber(twin, port=broker_port, client_id=f"bench-{k}")
        sub.start()
        return (twin, sub, reading_messages(N_READINGS, [500], prefix=f"bench{k}")), {}

    def run(twin: Twin, sub: MqttSubscriber, payloads: list[bytes]) -> None:
        try:
            publish(broker_port, payloads, timeout_s=120)
            wait_for(lambda: sub.stats["readings"] >= N_READINGS, 120, "every reading stored")
        finally:
            sub.stop()
            twin.close()
        assert sub.stats["readings"] == N_READINGS

    benchmark.extra_info["rows"] = N_READINGS
    benchmark.pedantic(run, setup=setup, rounds=3)
