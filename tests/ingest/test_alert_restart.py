"""A duration in progress survives a restart of the live ingest: the rule state is saved in the twin."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.alert_rules import AlertRule, add_alert_rule, load_rule_state, run_rules
from ingest.mqtt import MqttSubscriber
from tests.conftest import wait_for
from tests.ingest.test_mqtt import count, make_twin, publish, running_mosquitto
from twin import Twin

T0 = dt.datetime(2026, 1, 5, 8, 0)
HOT = AlertRule("hot", "above", sensor_id="t", threshold=26, duration=dt.timedelta(minutes=10))


def batch(*minutes: float, value: float = 27.0) -> pa.Table:
    return pa.table(
        {
            "sensor_id": ["t"] * len(minutes),
            "sensor_kind": ["temperature"] * len(minutes),
            "time_utc": [T0 + dt.timedelta(minutes=m) for m in minutes],
            "value": [value] * len(minutes),
        }
    )


def test_a_run_that_started_before_a_restart_opens_its_alert_after_it(twin_path: Path) -> None:
    with Twin(twin_path) as twin:
        run_rules(twin, batch(0, 5), {}, T0, [HOT])  # above for 5 of the 10 minutes, then the process stops
        assert twin.query("SELECT count(*) AS n FROM alerts").column("n").to_pylist() == [0]
    with Twin(twin_path) as twin:  # restarted: the state comes back from the twin, not from memory
        state = load_rule_state(twin)
        assert state[("hot", "t")].run_start == T0 and not state[("hot", "t")].is_open
        run_rules(twin, batch(10), state, T0, [HOT])
        alerts = twin.query("SELECT status, opened_at, message FROM alerts").to_pylist()
    assert len(alerts) == 1 and alerts[0]["opened_at"] == T0 + dt.timedelta(minutes=10)
    assert "since 2026-01-05T08:00:00Z" in alerts[0]["message"]


def test_the_saved_state_knows_an_open_alert_and_a_run_that_ended(twin_path: Path) -> None:
    with Twin(twin_path) as twin:
        run_rules(twin, batch(0, 10), {}, T0, [HOT])
        assert load_rule_state(twin)[("hot", "t")].is_open
        run_rules(twin, batch(15, value=20.0), load_rule_state(twin), T0, [HOT])
        state = load_rule_state(twin)[("hot", "t")]
        assert not state.is_open and state.run_start is None and state.last_value == 20.0


@pytest.fixture(scope="module")
def broker() -> Iterator[int]:
    with running_mosquitto() as port:
        yield port


def test_restarting_the_mqtt_subscriber_does_not_restart_a_duration(tmp_path: Path, broker: int) -> None:
    path = tmp_path / "twin.duckdb"
    make_twin(path)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None) - dt.timedelta(hours=1)

    def message(msg_id: str, minute: int) -> bytes:
        time = (start + dt.timedelta(minutes=minute)).isoformat() + "Z"
        return json.dumps({"msg_id": msg_id, "sensor_id": "s000", "time": time, "value": 28.0}).encode()

    rule = AlertRule("hot", "above", sensor_id="s000", threshold=26, duration=dt.timedelta(minutes=10))
    with Twin(path) as twin:
        add_alert_rule(twin, rule)
        first = MqttSubscriber(twin, port=broker, client_id="restart")
        first.start()
        try:
            publish(broker, [message("a", 0), message("b", 6)])
            wait_for(
                lambda: (
                    count(twin, "SELECT count(*) FROM alert_rule_state WHERE last_time IS NOT NULL") == 1
                    and count(twin, "SELECT count(*) FROM readings") == 2
                ),
                30,
                "the first two readings",
            )
        finally:
            first.stop()
    with Twin(path) as twin:
        second = MqttSubscriber(twin, port=broker, client_id="restart")
        second.start()
        try:
            publish(broker, [message("c", 11)])  # 11 minutes above since minute 0, 5 since the restart
            wait_for(lambda: count(twin, "SELECT count(*) FROM alerts") == 1, 30, "the alert")
        finally:
            second.stop()
        alert = twin.query("SELECT opened_at, message FROM alerts").to_pylist()[0]
    assert alert["opened_at"] == start + dt.timedelta(minutes=11)
    assert f"since {start:%Y-%m-%dT%H:%M:%S}Z" in alert["message"]
