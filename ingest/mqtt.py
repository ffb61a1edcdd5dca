"""Live readings from an MQTT broker into the twin, each message stored once and acknowledged only once committed.

Topic and payload
-----------------
The subscriber listens on ``twin/readings/#`` (any topic below ``twin/readings/``, e.g.
``twin/readings/<building>/<sensor>``; the topic is only a label, the sensor is named in the payload). A payload is
UTF-8 JSON, either a message of many readings::

    {"msg_id": "meter-gw-7:000123",
     "readings": [{"sensor_id": "t1", "time": "2026-10-02T08:00:00+02:00", "value": 21.5, "unit": "Cel"}, ...]}

or one reading object (``{"msg_id": ..., "sensor_id": ..., "time": ..., "value": ..., "unit": ...}``).
``time`` is ISO 8601 with an offset or ``Z`` (a time without one is read as UTC) or epoch milliseconds (a
number); ``unit`` (UCUM, optional) must equal the sensor's. ``msg_id`` is unique per message across re-sends
(a UUID, or ``publisher:sequence``); without one, the sha256 of the payload stands for it, so that only a
byte-identical re-send is recognised.

Delivery guarantees
-------------------
QoS 1, a persistent session (MQTT 5, ``clean_start`` false, a session expiry, a fixed client id) and manual
acknowledgement: messages are gathered into batches (``batch_size`` readings or ``batch_seconds``), the batch's
message ids and readings are written in ONE transaction (message ids already in ``ingested_messages`` are
skipped), and the PUBACKs are sent only after the commit. A subscriber killed mid-batch has not acknowledged
it: the broker redelivers it to the restarted subscriber (same client id), and a publisher that re-sends what
it did not see acknowledged creates no duplicate. The broker must keep enough queued messages for an offline
subscriber (mosquitto: ``max_queued_messages``, default 1000 messages).

Bad payloads never stop the service: invalid JSON and JSON that is not a message or reading go to
``rejected_readings`` (reason ``invalid_json`` / ``invalid_payload``, the raw payload, the topic as source) and
are acknowledged (they will never become valid); readings failing validation (unknown sensor, non-numeric value,
time in the future, unit mismatch, see :func:`ingest.sensors.append_readings`) are rejected with their reason,
the topic as source and ``msg <msg_id> reading <k>`` as row reference. Alert rules
(:mod:`ingest.alert_rules`) run on each committed batch.

Run alone (tests, or beside a twin that no other process holds)::

    python -m ingest.mqtt --twin twin.duckdb --host 127.0.0.1 --port 1883
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import pyarrow as pa
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.alert_rules import AlertRule, RuleState, load_alert_rules, load_rule_state, run_rules
from ingest.sensors import DEFAULT_PARAMS, append_readings
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["DEFAULT_TOPIC", "BatchResult", "MqttSubscriber", "parse_message"]

DEFAULT_TOPIC = "twin/readings/#"
_LOG = logging.getLogger(__name__)
_PENDING_SOURCE = "mqtt:pending"  # label of a batch's rejects until they get their topic and message reference
# An ISO 8601 time that ends with a UTC offset or Z (the rule of ingest.sensors).
_OFFSET_RE = r"\d{2}:\d{2}(:\d{2}(\.\d*)?)?\s*([+-]\d{2}(:?\d{2})?|[Zz])$"


@dataclass
class _Message:
    mid: int
    qos: int
    topic: str
    payload: bytes
    msg_id: str = ""
    readings: list[dict[str, Any]] = field(default_factory=list)
    reject: tuple[str, str] | None = None  # (reason, detail)


@dataclass(frozen=True)
class BatchResult:
    """What one committed batch did (given to ``on_commit``)."""

    msg_ids: list[str]  # every message of the batch, duplicates included (all acknowledged)
    new_messages: int
    duplicate_messages: int
    readings: int  # readings stored
    rejected: int  # readings or payloads rejected


def parse_message(payload: bytes) -> tuple[str, list[dict[str, Any]], tuple[str, str] | None]:
    """Payload -> (msg_id, readings, reject). ``reject`` is (reason, detail) for a payload that is not valid."""
    fallback_id = "sha256:" + hashlib.sha256(payload).hexdigest()
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        return fallback_id, [], ("invalid_json", f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return fallback_id, [], ("invalid_payload", f"a JSON {type(doc).__name__}, not an object")
    raw_id = doc.get("msg_id")
    msg_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else fallback_id
    if "readings" in doc:
        readings = doc["readings"]
        if not isinstance(readings, list) or not all(isinstance(r, dict) for r in readings):
            return msg_id, [], ("invalid_payload", "readings is not a list of objects")
    elif "sensor_id" in doc:
        readings = [doc]
    else:
        return msg_id, [], ("invalid_payload", "neither a readings list nor a reading (sensor_id, time, value)")
    if not readings:
        return msg_id, [], ("invalid_payload", "empty readings list")
    return msg_id, readings, None


def _time_text(t: Any) -> str | None:
    if t is None or isinstance(t, str):
        return t
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        try:
            return dt.datetime.fromtimestamp(t / 1000.0, dt.UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return str(t)
    return json.dumps(t)


def _readings_table(messages: Sequence[_Message]) -> tuple[pa.Table, pa.Table]:
    """The long batch for append_readings, and the row references (line_ref -> topic, msg reading k)."""
    sensors: list[str | None] = []
    times: list[str | None] = []
    values: list[Any] = []
    units: list[str | None] = []
    line_refs: list[str] = []
    refs: list[str] = []
    topics: list[str] = []
    for m in messages:
        for k, r in enumerate(m.readings):
            sid = r.get("sensor_id")
            sensors.append(None if sid is None else str(sid))
            times.append(_time_text(r.get("time", r.get("time_utc"))))
            values.append(r.get("value"))
            unit = r.get("unit", r.get("unit_ucum"))
            units.append(None if unit is None else str(unit))
            line_refs.append(f"line {len(line_refs) + 2}")
            refs.append(f"msg {m.msg_id} reading {k}")
            topics.append(m.topic)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values if v is not None)
    value_array = (
        pa.array(values, pa.float64())
        if numeric
        else pa.array([None if v is None else json.dumps(v) if not isinstance(v, str) else v for v in values])
    )
    batch = pa.table(
        {
            "sensor_id": pa.array(sensors, pa.string()),
            "time_utc": pa.array(times, pa.string()),
            "value": value_array,
            "unit_ucum": pa.array(units, pa.string()),
        }
    )
    return batch, pa.table({"line_ref": line_refs, "ref": refs, "topic": topics})


class MqttSubscriber:
    """Subscribe to readings on an MQTT broker and write them into ``twin`` (threads of the serving process).

    Parameters
    ----------
    batch_size, batch_seconds:
        A batch is committed (then acknowledged) when it holds ``batch_size`` readings or ``batch_seconds`` after
        its first message, whichever comes first.
    session_expiry_s:
        How long the broker keeps the session (subscription and unacknowledged messages) of a stopped
        subscriber, s.
    on_commit:
        Called with a :class:`BatchResult` after each batch is committed and acknowledged.
    rules:
        Alert rules to evaluate; default: the twin's ``alert_rules``, re-read every few seconds.
    """

    def __init__(
        self,
        twin: Twin,
        host: str = "127.0.0.1",
        port: int = 1883,
        topic: str = DEFAULT_TOPIC,
        client_id: str = "twin-serve",
        batch_size: int = 5000,
        batch_seconds: float = 0.2,
        *,
        session_expiry_s: int = 7 * 24 * 3600,
        future_margin: dt.timedelta = DEFAULT_PARAMS.future_margin,
        on_commit: Callable[[BatchResult], None] | None = None,
        rules: list[AlertRule] | None = None,
    ) -> None:
        if batch_size < 1 or batch_seconds <= 0:
            raise TwinError("batch_size must be >= 1 and batch_seconds > 0", "give positive batch limits")
        self.twin, self.host, self.port, self.topic = twin, host, port, topic
        self.batch_size, self.batch_seconds = batch_size, batch_seconds
        self.session_expiry_s, self.future_margin = session_expiry_s, future_margin
        self.on_commit = on_commit
        self._fixed_rules = rules
        self._rules: list[AlertRule] = []
        self._rules_read_at = -1e9
        # Durations in progress continue across a restart (alert_rule_state).
        self._rule_state: dict[tuple[str, str], RuleState] = load_rule_state(twin)
        self._last_rules_run = 0.0
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._writer: threading.Thread | None = None
        self.stats = {"messages": 0, "readings": 0, "rejected": 0, "duplicates": 0, "batches": 0, "errors": 0}
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe (QoS 1) and start the writer thread; returns once the subscription is granted."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = 65535  # let the broker send many unacknowledged messages (the batches need it)
        self._writer = threading.Thread(target=self._write_loop, name="twin-mqtt-writer", daemon=True)
        self._writer.start()
        try:
            self._client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        except OSError as exc:
            self._stopping.set()
            raise TwinError(
                f"cannot reach the MQTT broker at {self.host}:{self.port}: {exc}",
                "start the broker, or fix --mqtt",
            ) from exc
        self._client.loop_start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise TwinError(
                f"no subscription to {self.topic} on {self.host}:{self.port} after {timeout_s} s",
                "check the broker's log and access rules",
            )

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the batch in progress, then disconnect; the session stays on the broker, which redelivers the
        messages received but not committed to the next subscriber with the same client id."""
        self._stopping.set()
        if self._writer is not None:
            self._writer.join(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()

    # ------------------------------------------------------------------------------------------ callbacks
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any) -> None:
        if reason_code.is_failure:
            _LOG.error("MQTT connection refused: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        if all(not c.is_failure for c in codes):
            self._subscribed.set()
        else:
            _LOG.error("MQTT subscription to %s refused: %s", self.topic, codes)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(_Message(msg.mid, msg.qos, msg.topic, bytes(msg.payload)))

    # ------------------------------------------------------------------------------------------ writing
    def _write_loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.batch_seconds)
            except queue.Empty:
                if self._stopping.is_set():
                    return
                self._idle_rules()
                continue
            batch, n = [first], self._prepare(first)
            deadline = time.monotonic() + self.batch_seconds
            while n < self.batch_size:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    m = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                batch.append(m)
                n += self._prepare(m)
            try:
                self._commit(batch)
            except Exception:  # the service keeps running; the batch stays unacknowledged (redelivered later)
                self.stats["errors"] += 1
                _LOG.exception("MQTT batch of %d messages not stored", len(batch))
            if self._stopping.is_set():
                return

    @staticmethod
    def _prepare(m: _Message) -> int:
        m.msg_id, m.readings, m.reject = parse_message(m.payload)
        return max(len(m.readings), 1)

    def _commit(self, batch: list[_Message]) -> None:
        unique: dict[str, _Message] = {}
        for m in batch:
            unique.setdefault(m.msg_id, m)
        ids = pa.table(
            {
                "msg_id": list(unique),
                "source": [m.topic for m in unique.values()],
                "n_readings": pa.array([len(m.readings) for m in unique.values()], pa.int32()),
            }
        )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = pa.table({"sensor_id": []})
        counts: dict[str, int] = {"readings": 0, "rejected": 0}
        with self.twin.write() as cur:
            cur.register("__twin_msgs", ids)
            try:
                seen = {
                    str(r[0])
                    for r in cur.execute(
                        "SELECT msg_id FROM __twin_msgs SEMI JOIN ingested_messages USING (msg_id)"
                    ).fetchall()
                }
                cur.execute(
                    "INSERT INTO ingested_messages SELECT msg_id, ?, source, n_readings FROM __twin_msgs "
                    "ANTI JOIN ingested_messages USING (msg_id)",
                    [now],
                )
            finally:
                cur.unregister("__twin_msgs")
            fresh = [m for i, m in unique.items() if i not in seen]
            bad = [m for m in fresh if m.reject is not None]
            for m in bad:
                assert m.reject is not None
                cur.execute(
                    "INSERT INTO rejected_readings (received_at, source, row_ref, reason, detail, payload) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        now,
                        m.topic,
                        f"msg {m.msg_id}",
                        m.reject[0],
                        m.reject[1],
                        m.payload.decode("utf-8", "replace"),
                    ],
                )
            good = [m for m in fresh if m.reject is None]
            if good:
                rows, refs = _readings_table(good)
                counts = append_readings(self.twin, rows, source=_PENDING_SOURCE, future_margin=self.future_margin)
                if counts.get("rejected"):
                    cur.register("__twin_refs", refs)
                    try:
                        cur.execute(
                            "UPDATE rejected_readings SET source = r.topic, row_ref = r.ref FROM __twin_refs r "
                            "WHERE rejected_readings.source = ? AND rejected_readings.row_ref = r.line_ref",
                            [_PENDING_SOURCE],
                        )
                    finally:
                        cur.unregister("__twin_refs")
        # Committed: now the broker may forget the messages.
        for m in batch:
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)
        result = BatchResult(
            msg_ids=[m.msg_id for m in batch],
            new_messages=len(fresh),
            duplicate_messages=len(batch) - len(fresh),
            readings=int(counts.get("readings", 0)),
            rejected=int(counts.get("rejected", 0)) + len(bad),
        )
        for key, add in (
            ("messages", len(batch)),
            ("readings", result.readings),
            ("rejected", result.rejected),
            ("duplicates", result.duplicate_messages),
            ("batches", 1),
        ):
            self.stats[key] += add
        if rows.num_rows:
            self._run_rules(rows, now)
        if self.on_commit is not None:
            self.on_commit(result)

    # ------------------------------------------------------------------------------------------ alerts
    def _current_rules(self) -> list[AlertRule]:
        if self._fixed_rules is not None:
            return self._fixed_rules
        if time.monotonic() - self._rules_read_at > 5.0:
            self._rules = load_alert_rules(self.twin)
            self._rules_read_at = time.monotonic()
        return self._rules

    def _run_rules(self, rows: pa.Table, now: dt.datetime) -> None:
        rules = self._current_rules()
        if not rules:
            return
        try:
            with self.twin.read() as cur:
                cur.register("__twin_live", rows)
                valid = cur.execute(
                    "SELECT * FROM (SELECT b.sensor_id, s.kind AS sensor_kind, CASE WHEN "
                    "regexp_matches(trim(b.time_utc), ?) THEN timezone('UTC', TRY_CAST(trim(b.time_utc) AS "
                    "TIMESTAMPTZ)) ELSE TRY_CAST(trim(b.time_utc) AS TIMESTAMP) END AS time_utc, "
                    "TRY_CAST(b.value AS DOUBLE) AS value, b.unit_ucum AS unit, s.unit_ucum AS sensor_unit "
                    "FROM __twin_live b JOIN sensors s USING (sensor_id)) WHERE time_utc IS NOT NULL "
                    "AND isfinite(value) AND time_utc <= ? AND (unit IS NULL OR trim(unit) = '' OR "
                    "trim(unit) = sensor_unit)",
                    [_OFFSET_RE, now + self.future_margin],
                ).to_arrow_table()
                cur.unregister("__twin_live")
            self._rule_state = run_rules(self.twin, valid, self._rule_state, now, rules).state
            self._last_rules_run = time.monotonic()
        except Exception:  # an alert failure never stops the ingest
            _LOG.exception("alert rules failed")

    def _idle_rules(self) -> None:
        """``no_data`` rules need a clock, not readings: evaluate them about once a second when idle."""
        if time.monotonic() - self._last_rules_run < 1.0:
            return
        self._last_rules_run = time.monotonic()
        try:
            rules = [r for r in self._current_rules() if r.kind == "no_data"]
            if rules:
                empty = pa.table({"sensor_id": [], "sensor_kind": [], "time_utc": [], "value": []})
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                self._rule_state = run_rules(self.twin, empty, self._rule_state, now, rules).state
        except Exception:
            _LOG.exception("alert rules failed")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subscriber on a twin file until SIGTERM/SIGINT; prints ``ready`` once subscribed."""
    parser = argparse.ArgumentParser(prog="python -m ingest.mqtt", description=__doc__.split("\n")[0])
    parser.add_argument("--twin", required=True, help="twin file (held read-write while running)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--topic", default=DEFAULT_TOPIC)
    parser.add_argument("--client-id", default="twin-serve")
    parser.add_argument("--batch-size", type=int, default=5000, help="readings per commit at most")
    parser.add_argument("--batch-seconds", type=float, default=0.2, help="seconds a batch waits at most")
    parser.add_argument(
        "--print-acks", action="store_true", help="print one JSON line per acknowledged batch (msg_ids)"
    )
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def report(result: BatchResult) -> None:
        print(json.dumps({"acked": result.msg_ids, "readings": result.readings}), flush=True)

    with Twin(args.twin) as twin:
        sub = MqttSubscriber(
            twin,
            args.host,
            args.port,
            args.topic,
            args.client_id,
            args.batch_size,
            args.batch_seconds,
            on_commit=report if args.print_acks else None,
        )
        sub.start()
        print("ready", flush=True)
        while not done.wait(0.5):
            pass
        sub.stop()
        print(json.dumps({"stopped": sub.stats}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
