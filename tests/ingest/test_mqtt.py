"""Live MQTT ingest against a real mosquitto broker: round trip, no acknowledged reading lost, bad payloads."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from ingest.alert_rules import AlertRule, acknowledge_alert, add_alert_rule
from ingest.mqtt import MqttSubscriber
from tests.conftest import ROOT, wait_for
from twin import Twin

MOSQUITTO = Path("/usr/sbin/mosquitto")
N_SENSORS = 20
BASE_TIME = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_mosquitto() -> Iterator[int]:
    """A real mosquitto on a free 127.0.0.1 port (no persistence; generous queues); yields the port."""
    if not MOSQUITTO.exists():
        pytest.fail(f"{MOSQUITTO} is missing: the MQTT tests need a real broker; run `apt-get install mosquitto`")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 0\n"
        )
        broker = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:

            def listening() -> bool:
                if broker.poll() is not None:
                    raise AssertionError(f"mosquitto exited: {broker.stderr.read() if broker.stderr else ''}")
                with socket.socket() as s:
                    return s.connect_ex(("127.0.0.1", port)) == 0

            wait_for(listening, 10, "mosquitto to listen")
            yield port
        finally:
            broker.terminate()
            try:
                broker.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.communicate(timeout=10)


@pytest.fixture(scope="session")
def broker_port() -> Iterator[int]:
    with running_mosquitto() as port:
        yield port


def make_twin(path: Path, n_sensors: int = N_SENSORS) -> None:
    """A twin with temperature sensors s000.. (Cel) and one electricity meter m0 (kW.h)."""
    with Twin(path) as twin:
        twin.append(
            "sensors",
            {
                "sensor_id": [f"s{i:03d}" for i in range(n_sensors)] + ["m0"],
                "kind": ["temperature"] * n_sensors + ["electricity_meter"],
                "unit_ucum": ["Cel"] * n_sensors + ["kW.h"],
            },
        )


def reading_messages(n_readings: int, per_message: Sequence[int], prefix: str = "pub") -> list[bytes]:
    """Distinct readings (sensor, minute) cut into messages of the given sizes in turn; ids prefix:seq."""
    messages, i, k = [], 0, 0
    while i < n_readings:
        size = min(per_message[k % len(per_message)], n_readings - i)
        readings = [
            {
                "sensor_id": f"s{j % N_SENSORS:03d}",
                "time": (BASE_TIME + dt.timedelta(minutes=j // N_SENSORS)).isoformat(),
                "value": 15.0 + (j % 97) / 10,
            }
            for j in range(i, i + size)
        ]
        body = (
            readings[0] | {"msg_id": f"{prefix}:{k}"}
            if size == 1
            else {"msg_id": f"{prefix}:{k}", "readings": readings}
        )
        messages.append(json.dumps(body).encode())
        i, k = i + size, k + 1
    return messages


def publish(
    port: int, payloads: Sequence[bytes], topic: str = "twin/readings/test", timeout_s: float = 60
) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK of every message."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{os.getpid()}-{time.monotonic_ns()}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(topic, p, qos=1) for p in payloads]
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        assert all(info.is_published() for info in infos), "the broker did not acknowledge every publish"
    finally:
        client.disconnect()
        client.loop_stop()


def count(twin: Twin, sql: str) -> int:
    return int(twin.query(sql).column(0)[0].as_py())


def duplicates(twin: Twin) -> int:
    return count(
        twin, "SELECT count(*) FROM (SELECT sensor_id, time_utc FROM readings GROUP BY ALL HAVING count(*) > 1)"
    )


# ------------------------------------------------------------------------------------------------ round trip
def test_ten_thousand_readings_published_are_stored_once_each(tmp_path: Path, broker_port: int) -> None:
    path = tmp_path / "twin.duckdb"
    make_twin(path)
    # 2,000 single-reading messages and 16 messages of 500 readings.
    payloads = reading_messages(10_000, [1] * 2000 + [500] * 16)
    with Twin(path) as twin:
        sub = MqttSubscriber(twin, port=broker_port, client_id="round-trip", batch_size=2000)
        sub.start()
        try:
            publish(broker_port, payloads)
            publish(broker_port, payloads[:50] + payloads[-3:])  # re-sent messages: dropped by msg_id
            wait_for(lambda: sub.stats["messages"] >= len(payloads) + 53, 60, "every message to be acknowledged")
        finally:
            sub.stop()
        assert count(twin, "SELECT count(*) FROM readings") == 10_000
        assert duplicates(twin) == 0
        assert count(twin, "SELECT count(*) FROM ingested_messages") == len(payloads)
        assert count(twin, "SELECT sum(n) FROM readings_hourly") == 10_000
        assert count(twin, "SELECT count(*) FROM sensor_latest") == N_SENSORS
        assert count(twin, "SELECT count(*) FROM rejected_readings") == 0
        assert sub.stats["duplicates"] == 53


# ------------------------------------------------------------------------------------------------ SIGKILL
@contextmanager
def subscriber_process(path: Path, port: int, batch_size: int) -> Iterator[tuple[subprocess.Popen[str], set[str]]]:
    """``python -m ingest.mqtt`` in a child; yields it and the set of msg_ids it has acknowledged (live)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest.mqtt", "--twin", str(path), "--port", str(port), "--client-id", "kill-test",
         "--batch-size", str(batch_size), "--batch-seconds", "0.1", "--print-acks"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    acked: set[str] = set()
    assert child.stdout is not None
    first = child.stdout.readline().strip()
    if first != "ready":
        child.kill()
        raise AssertionError(f"subscriber did not start: {first!r} {child.communicate(timeout=30)[1][-2000:]}")

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            doc = json.loads(line)
            acked.update(doc.get("acked", []))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield child, acked
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
        reader.join(10)
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()


def test_sigkilled_subscriber_loses_no_acknowledged_reading_and_resends_make_no_duplicate(
    tmp_path: Path, broker_port: int
) -> None:
    path = tmp_path / "twin.duckdb"
    make_twin(path)
    payloads = reading_messages(10_000, [1, 50, 100])
    all_ids = {json.loads(p)["msg_id"] for p in payloads}
    with subscriber_process(path, broker_port, batch_size=300) as (child, acked_before):
        publish(broker_port, payloads)
        wait_for(lambda: len(acked_before) >= 20, 60, "some acknowledged batches")
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        acked_at_kill = set(acked_before)
    assert 0 < len(acked_at_kill) < len(all_ids), "the kill must land mid-ingest"
    with subscriber_process(path, broker_port, batch_size=300) as (child, acked_after):
        publish(broker_port, payloads)  # the publisher re-sends everything
        wait_for(lambda: acked_after | acked_at_kill >= all_ids, 60, "every message to be acknowledged")
        child.send_signal(signal.SIGTERM)
        assert child.wait(30) == 0
    with Twin(path) as twin:
        stored_ids = {str(r) for r in twin.query("SELECT msg_id FROM ingested_messages").column(0).to_pylist()}
        assert acked_at_kill <= stored_ids, "an acknowledged message was lost"
        assert stored_ids == all_ids
        assert count(twin, "SELECT count(*) FROM readings") == 10_000
        assert duplicates(twin) == 0
        assert count(twin, "SELECT sum(n) FROM readings_hourly") == 10_000


# ------------------------------------------------------------------------------------------------ bad payloads
def test_bad_payloads_are_rejected_with_their_reason_and_the_service_keeps_running(
    tmp_path: Path, broker_port: int
) -> None:
    path = tmp_path / "twin.duckdb"
    make_twin(path)
    now = dt.datetime.now(dt.UTC)
    ok = {"sensor_id": "s001", "time": now.isoformat(), "value": 20.0}
    bad = [
        b"{not json",
        b"\xff\xfe",
        json.dumps([1, 2]).encode(),
        json.dumps({"msg_id": "x1", "hello": 1}).encode(),
        json.dumps({"msg_id": "x2", "readings": "nope"}).encode(),
        json.dumps({"msg_id": "b1", "sensor_id": "nobody", "time": now.isoformat(), "value": 1}).encode(),
        json.dumps({"msg_id": "b2", "sensor_id": "s001", "time": now.isoformat(), "value": "warm"}).encode(),
        json.dumps({"msg_id": "b3", "sensor_id": "s001", "time": (now + dt.timedelta(days=2)).isoformat(),
                    "value": 1}).encode(),
        json.dumps({"msg_id": "b4", "readings": [ok | {"unit": "[degF]"},
                                                 ok | {"time": int(now.timestamp() * 1000)}]}).encode(),
    ]  # fmt: skip
    with Twin(path) as twin:
        sub = MqttSubscriber(twin, port=broker_port, client_id="bad-payloads")
        sub.start()
        try:
            publish(broker_port, bad, topic="twin/readings/site-a")
            publish(broker_port, [json.dumps(ok | {"msg_id": "after"}).encode()])
            wait_for(lambda: sub.stats["messages"] >= len(bad) + 1, 30, "every message to be handled")
            assert sub._writer is not None and sub._writer.is_alive()
        finally:
            sub.stop()
        reasons = twin.query(
            "SELECT reason, count(*) AS n FROM rejected_readings GROUP BY reason ORDER BY reason"
        ).to_pylist()
        assert {r["reason"]: r["n"] for r in reasons} == {
            "invalid_json": 2,
            "invalid_payload": 3,
            "unknown_sensor": 1,
            "non_numeric_value": 1,
            "future_time": 1,
            "unit_mismatch": 1,
        }
        rows = twin.query("SELECT source, row_ref, payload, reason FROM rejected_readings").to_pylist()
        assert {r["source"] for r in rows} == {"twin/readings/site-a"}
        assert any(r["payload"] == "{not json" for r in rows)
        assert any(r["row_ref"] == "msg b4 reading 0" and r["reason"] == "unit_mismatch" for r in rows)
        # The good reading of b4 (epoch ms time) and the message published after the bad ones are stored.
        assert count(twin, "SELECT count(*) FROM readings") == 2


# ------------------------------------------------------------------------------------------------ alerts
def test_readings_above_a_threshold_for_the_duration_open_an_alert_acknowledged_by_a_named_person(
    tmp_path: Path, broker_port: int
) -> None:
    path = tmp_path / "twin.duckdb"
    make_twin(path)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    with Twin(path) as twin:
        add_alert_rule(
            twin,
            AlertRule(
                "hot", "above", sensor_kind="temperature", threshold=26.0, duration=dt.timedelta(minutes=10)
            ),
        )
        sub = MqttSubscriber(twin, port=broker_port, client_id="alerts")
        sub.start()
        try:
            # s000: above for 20 minutes (fires); s001: above for 5 minutes only (does not fire).
            readings = [
                {"sensor_id": "s000", "time": (start + dt.timedelta(minutes=m)).isoformat(), "value": 28.0}
                for m in range(0, 21, 5)
            ] + [
                {"sensor_id": "s001", "time": (start + dt.timedelta(minutes=m)).isoformat(), "value": v}
                for m, v in ((0, 28.0), (5, 28.0), (10, 20.0))
            ]
            publish(broker_port, [json.dumps({"msg_id": "alert-1", "readings": readings}).encode()])
            wait_for(lambda: count(twin, "SELECT count(*) FROM alerts") > 0, 30, "an alert")
            back = {"sensor_id": "s000", "time": (start + dt.timedelta(minutes=30)).isoformat(), "value": 21.0}
            alert = twin.query("SELECT * FROM alerts").to_pylist()
            assert len(alert) == 1 and alert[0]["sensor_id"] == "s000" and alert[0]["status"] == "open"
            assert alert[0]["opened_at"] == (start + dt.timedelta(minutes=10)).replace(tzinfo=None)
            acknowledge_alert(twin, alert[0]["alert_id"], "operator Ada")
            publish(broker_port, [json.dumps(back | {"msg_id": "alert-2"}).encode()])
            wait_for(
                lambda: count(twin, "SELECT count(*) FROM alerts WHERE status = 'closed'") == 1, 30, "the close"
            )
        finally:
            sub.stop()
        final = twin.query("SELECT * FROM alerts").to_pylist()[0]
        assert final["acknowledged_by"] == "operator Ada" and final["acknowledged_at"] is not None
        assert final["closed_at"] == (start + dt.timedelta(minutes=30)).replace(tzinfo=None)
