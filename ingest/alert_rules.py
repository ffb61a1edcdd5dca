"""Alert rules on live readings: pure evaluation, and the lifecycle of alerts (open, acknowledged, closed).

Rule kinds (:class:`AlertRule`; stored in ``alert_rules``, see ``twin/migrations/0005_live.sql``):

``above`` / ``below``
    The value stays above (below) ``threshold`` for at least ``duration``: the alert opens at the first reading
    at which the condition has held that long (``duration`` 0: at the first reading past the threshold) and
    closes at the first reading back within the limit.
``zero_run``
    A meter reads exactly 0 for at least ``duration`` (a stuck or disconnected meter, or a gap filled with zeros
    upstream); closes at the first non-zero reading.
``rate_of_change``
    ``|value - previous value| / hours between them`` exceeds ``threshold`` (sensor unit per hour) between two
    consecutive readings of the sensor; closes at the first pair within the limit.
``no_data``
    No reading of the sensor for more than ``duration``, judged at evaluation time from ``sensor_latest``;
    closes when a reading arrives. A sensor that never reported is unknown, not silent: no alert.

A rule targets one sensor (``sensor_id``) or every sensor of a kind (``sensor_kind``). Thresholds and durations
are user parameters: the module has no built-in figure. Each rule opens at most one alert per sensor at a time.
Readings older than the last one evaluated for a sensor (late arrivals) do not move run rules.

:func:`evaluate` is pure (tables and state in, changes and state out); :func:`run_rules` reads the rules, open
alerts and latest values of a twin, evaluates a committed batch and writes the alert changes in one transaction.
The run state (when a condition started to hold, the previous reading) is kept by the caller between batches
and saved in ``alert_rule_state`` in the transaction that writes the batch's alert changes; a restarted
service reads it back (:func:`load_rule_state`), so a condition that was already holding keeps its start and a
restart does not restart durations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import duckdb
import pyarrow as pa

from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "RULE_KINDS",
    "AlertChange",
    "AlertRule",
    "Evaluation",
    "RuleState",
    "acknowledge_alert",
    "add_alert_rule",
    "close_alert",
    "evaluate",
    "load_alert_rules",
    "load_rule_state",
    "run_rules",
]

RuleKind = Literal["above", "below", "no_data", "rate_of_change", "zero_run"]
Severity = Literal["info", "warning", "critical"]
RULE_KINDS: tuple[RuleKind, ...] = ("above", "below", "no_data", "rate_of_change", "zero_run")


@dataclass(frozen=True)
class AlertRule:
    """One rule. ``threshold`` is in the sensor unit (per hour for ``rate_of_change``); no default value.

    Attributes
    ----------
    duration:
        ``above``/``below``/``zero_run``: how long the condition must hold (default 0: at the first reading).
        ``no_data``: silence after which the alert opens (required, > 0).
    """

    rule_id: str
    kind: RuleKind
    sensor_id: str | None = None
    sensor_kind: str | None = None
    threshold: float | None = None
    duration: dt.timedelta = dt.timedelta(0)
    severity: Severity = "warning"

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise TwinError(
                f"rule {self.rule_id}: unknown kind '{self.kind}'", f"use one of {', '.join(RULE_KINDS)}"
            )
        if self.sensor_id is None and self.sensor_kind is None:
            raise TwinError(f"rule {self.rule_id}: no target", "give sensor_id or sensor_kind")
        if self.kind in ("above", "below", "rate_of_change") and self.threshold is None:
            raise TwinError(f"rule {self.rule_id}: {self.kind} needs a threshold", "give threshold=")
        if self.kind == "no_data" and self.duration <= dt.timedelta(0):
            raise TwinError(f"rule {self.rule_id}: no_data needs a duration > 0", "give duration=")
        if self.duration < dt.timedelta(0):
            raise TwinError(f"rule {self.rule_id}: negative duration", "give a duration >= 0")

    def applies_to(self, sensor_id: str, sensor_kind: str) -> bool:
        if self.sensor_id is not None:
            return sensor_id == self.sensor_id
        return sensor_kind == self.sensor_kind


@dataclass(frozen=True)
class RuleState:
    """What a rule remembers about one sensor between batches."""

    last_time: dt.datetime | None = None
    last_value: float | None = None
    run_start: dt.datetime | None = None  # first reading of the current run where the condition holds
    is_open: bool = False


@dataclass(frozen=True)
class AlertChange:
    """An alert to open or to close, with the evidence (value, threshold, time)."""

    action: Literal["open", "close"]
    rule_id: str
    sensor_id: str
    at: dt.datetime
    severity: Severity = "warning"
    value: float | None = None
    message: str = ""


StateKey = tuple[str, str]  # (rule_id, sensor_id)


@dataclass(frozen=True)
class Evaluation:
    changes: list[AlertChange] = field(default_factory=list)
    state: dict[StateKey, RuleState] = field(default_factory=dict)


def evaluate(
    rules: Iterable[AlertRule],
    readings: pa.Table,
    latest: pa.Table,
    state: Mapping[StateKey, RuleState],
    now: dt.datetime,
) -> Evaluation:
    """Evaluate the rules on a batch of valid readings; return the alerts to open and close and the new state.

    Parameters
    ----------
    readings:
        Valid readings of the batch: ``sensor_id``, ``sensor_kind``, ``time_utc`` (naive UTC), ``value``.
    latest:
        The latest reading time of every sensor (``sensor_id``, ``sensor_kind``, ``time_utc``), for ``no_data``.
    state:
        The previous state per (rule_id, sensor_id); ``is_open`` says whether an alert of the pair is open.
    now:
        Evaluation time (naive UTC), for ``no_data``.
    """
    rules = list(rules)
    new_state = dict(state)
    changes: list[AlertChange] = []
    run_rules_ = [r for r in rules if r.kind != "no_data"]
    if run_rules_ and readings.num_rows:
        rows = sorted(
            zip(
                readings.column("sensor_id").to_pylist(),
                readings.column("sensor_kind").to_pylist(),
                readings.column("time_utc").to_pylist(),
                readings.column("value").to_pylist(),
                strict=True,
            ),
            key=lambda r: (r[0], r[2]),
        )
        for rule in run_rules_:
            for sensor_id, sensor_kind, time, value in rows:
                if not rule.applies_to(sensor_id, sensor_kind):
                    continue
                key = (rule.rule_id, sensor_id)
                st, change = _step(rule, new_state.get(key, RuleState()), sensor_id, time, float(value))
                new_state[key] = st
                if change is not None:
                    changes.append(change)
    for rule in (r for r in rules if r.kind == "no_data"):
        for sensor_id, sensor_kind, last in zip(
            latest.column("sensor_id").to_pylist(),
            latest.column("sensor_kind").to_pylist(),
            latest.column("time_utc").to_pylist(),
            strict=True,
        ):
            if last is None or not rule.applies_to(sensor_id, sensor_kind):
                continue
            key = (rule.rule_id, sensor_id)
            st = new_state.get(key, RuleState())
            silent = now - last > rule.duration
            if silent and not st.is_open:
                changes.append(
                    AlertChange(
                        "open",
                        rule.rule_id,
                        sensor_id,
                        now,
                        rule.severity,
                        None,
                        f"{sensor_id}: no reading since {last:%Y-%m-%dT%H:%M:%SZ} (more than {rule.duration})",
                    )
                )
                new_state[key] = replace(st, last_time=last, is_open=True)
            elif not silent and st.is_open:
                changes.append(AlertChange("close", rule.rule_id, sensor_id, last, rule.severity))
                new_state[key] = replace(st, last_time=last, is_open=False)
    return Evaluation(changes, new_state)


def _step(
    rule: AlertRule, st: RuleState, sensor_id: str, time: dt.datetime, value: float
) -> tuple[RuleState, AlertChange | None]:
    """One reading through one rule (readings of a sensor in time order)."""
    if st.last_time is not None and time <= st.last_time:
        return st, None  # a late or repeated reading does not move the run
    if rule.kind == "rate_of_change":
        assert rule.threshold is not None
        change = None
        if st.last_time is not None and st.last_value is not None:
            hours = (time - st.last_time).total_seconds() / 3600.0
            rate = abs(value - st.last_value) / hours
            exceeded = rate > rule.threshold
            if exceeded and not st.is_open:
                change = AlertChange(
                    "open",
                    rule.rule_id,
                    sensor_id,
                    time,
                    rule.severity,
                    rate,
                    f"{sensor_id}: changes at {rate:g} per hour ({st.last_value:g} -> {value:g}), "
                    f"limit {rule.threshold:g}",
                )
                st = replace(st, is_open=True)
            elif not exceeded and st.is_open:
                change = AlertChange("close", rule.rule_id, sensor_id, time, rule.severity, rate)
                st = replace(st, is_open=False)
        return replace(st, last_time=time, last_value=value), change
    if rule.kind == "above":
        assert rule.threshold is not None
        holds, what = value > rule.threshold, f"above {rule.threshold:g}"
    elif rule.kind == "below":
        assert rule.threshold is not None
        holds, what = value < rule.threshold, f"below {rule.threshold:g}"
    else:  # zero_run
        holds, what = value == 0.0, "at zero"
    st = replace(st, last_time=time, last_value=value)
    if not holds:
        if st.is_open:
            return replace(st, run_start=None, is_open=False), AlertChange(
                "close", rule.rule_id, sensor_id, time, rule.severity, value
            )
        return replace(st, run_start=None), None
    start = st.run_start or time
    st = replace(st, run_start=start)
    if not st.is_open and time - start >= rule.duration:
        return replace(st, is_open=True), AlertChange(
            "open",
            rule.rule_id,
            sensor_id,
            time,
            rule.severity,
            value,
            f"{sensor_id}: {value:g} {what} since {start:%Y-%m-%dT%H:%M:%SZ}",
        )
    return st, None


# ------------------------------------------------------------------------------------------------ the twin
def add_alert_rule(twin: Twin, rule: AlertRule) -> None:
    """Store (or replace) a rule in ``alert_rules``."""
    with twin.write() as cur:
        cur.execute(
            "INSERT OR REPLACE INTO alert_rules (rule_id, kind, sensor_id, sensor_kind, threshold, duration_s, "
            "severity, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, true)",
            [
                rule.rule_id,
                rule.kind,
                rule.sensor_id,
                rule.sensor_kind,
                rule.threshold,
                rule.duration.total_seconds(),
                rule.severity,
            ],
        )


def load_alert_rules(twin: Twin) -> list[AlertRule]:
    """The enabled rules of the twin, in rule_id order."""
    with twin.read() as cur:
        rows = cur.execute(
            "SELECT rule_id, kind, sensor_id, sensor_kind, threshold, duration_s, severity FROM alert_rules "
            "WHERE enabled ORDER BY rule_id"
        ).fetchall()
    return [AlertRule(str(r[0]), r[1], r[2], r[3], r[4], dt.timedelta(seconds=float(r[5])), r[6]) for r in rows]


def load_rule_state(twin: Twin) -> dict[StateKey, RuleState]:
    """The saved run state of every (rule, sensor), with ``is_open`` read from ``alerts``."""
    with twin.read() as cur:
        rows = cur.execute(
            "SELECT s.rule_id, s.sensor_id, s.last_time, s.last_value, s.run_start, a.rule_id IS NOT NULL "
            "FROM alert_rule_state s LEFT JOIN (SELECT DISTINCT rule_id, sensor_id FROM alerts "
            "WHERE status <> 'closed') a USING (rule_id, sensor_id)"
        ).fetchall()
    return {(str(r), str(s)): RuleState(t, v, start, bool(o)) for r, s, t, v, start, o in rows}


def _save_state(
    cur: duckdb.DuckDBPyConnection,
    before: Mapping[StateKey, RuleState],
    after: Mapping[StateKey, RuleState],
    now: dt.datetime,
) -> None:
    """Upsert the (rule, sensor) states the evaluation changed (``is_open`` lives in ``alerts``)."""
    changed = [
        (k, v)
        for k, v in after.items()
        if (b := before.get(k)) is None
        or (b.last_time, b.last_value, b.run_start) != (v.last_time, v.last_value, v.run_start)
    ]
    if not changed:
        return
    table = pa.table(
        {
            "rule_id": pa.array([k[0] for k, _ in changed], pa.string()),
            "sensor_id": pa.array([k[1] for k, _ in changed], pa.string()),
            "last_time": pa.array([v.last_time for _, v in changed], pa.timestamp("us")),
            "last_value": pa.array([v.last_value for _, v in changed], pa.float64()),
            "run_start": pa.array([v.run_start for _, v in changed], pa.timestamp("us")),
        }
    )
    cur.register("__twin_rule_state", table)
    try:
        cur.execute(
            "INSERT OR REPLACE INTO alert_rule_state SELECT rule_id, sensor_id, last_time, last_value, run_start, "
            "? FROM __twin_rule_state",
            [now],
        )
    finally:
        cur.unregister("__twin_rule_state")


def run_rules(
    twin: Twin,
    readings: pa.Table,
    state: Mapping[StateKey, RuleState],
    now: dt.datetime,
    rules: list[AlertRule] | None = None,
) -> Evaluation:
    """Evaluate the twin's rules (or ``rules``) on a committed batch and write the alert changes.

    ``readings`` as for :func:`evaluate`. Whether a (rule, sensor) alert is open is read from ``alerts`` (an
    alert closed by hand reopens at the next reading while the condition still holds). The run states the batch
    changed are saved in ``alert_rule_state`` with the alert changes (:func:`load_rule_state` reads them back).
    """
    rules = load_alert_rules(twin) if rules is None else rules
    if not rules:
        return Evaluation([], dict(state))
    with twin.read() as cur:
        open_keys = {
            (str(r), str(s))
            for r, s in cur.execute(
                "SELECT DISTINCT rule_id, sensor_id FROM alerts WHERE status <> 'closed' AND rule_id IS NOT NULL"
            ).fetchall()
        }
        latest = (
            cur.execute(
                "SELECT l.sensor_id, s.kind AS sensor_kind, l.time_utc FROM sensor_latest l JOIN sensors s "
                "USING (sensor_id)"
            ).to_arrow_table()
            if any(r.kind == "no_data" for r in rules)
            else pa.table({"sensor_id": [], "sensor_kind": [], "time_utc": []})
        )
    synced = {k: replace(v, is_open=k in open_keys) for k, v in state.items()}
    for key in open_keys - synced.keys():
        synced[key] = RuleState(is_open=True)
    result = evaluate(rules, readings, latest, synced, now)
    with twin.write() as cur:
        _save_state(cur, synced, result.state, now)
        for c in result.changes:
            if c.action == "open":
                cur.execute(
                    "INSERT INTO alerts (sensor_id, rule_id, severity, status, message, value, opened_at) "
                    "VALUES (?, ?, ?, 'open', ?, ?, ?)",
                    [c.sensor_id, c.rule_id, c.severity, c.message, c.value, c.at],
                )
            else:
                cur.execute(
                    "UPDATE alerts SET status = 'closed', closed_at = ? WHERE rule_id = ? AND sensor_id = ? "
                    "AND status <> 'closed'",
                    [c.at, c.rule_id, c.sensor_id],
                )
    return result


def acknowledge_alert(
    twin: Twin, alert_id: int, by: str, at: dt.datetime | None = None, note: str | None = None
) -> None:
    """Record who acknowledged an open alert, and their note (an acknowledged alert stays until its condition
    clears)."""
    if not by.strip():
        raise TwinError(f"alert {alert_id}: acknowledged by whom?", "give the name of the person")
    _transition(twin, alert_id, "acknowledged", ("open",), by, at, note)


def close_alert(twin: Twin, alert_id: int, at: dt.datetime | None = None, note: str | None = None) -> None:
    """Close an open or acknowledged alert by hand."""
    _transition(twin, alert_id, "closed", ("open", "acknowledged"), None, at, note)


def _transition(
    twin: Twin,
    alert_id: int,
    status: str,
    allowed_from: tuple[str, ...],
    by: str | None,
    at: dt.datetime | None,
    note: str | None = None,
) -> None:
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    note = note.strip() if note and note.strip() else None
    with twin.write() as cur:
        row = cur.execute("SELECT status FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
        if row is None:
            raise TwinError(f"no alert {alert_id}", "list the alerts and their ids with `twin alerts list`")
        if row[0] not in allowed_from:
            raise TwinError(f"alert {alert_id} is {row[0]}; it cannot become {status}", "see its status first")
        if status == "acknowledged":
            cur.execute(
                "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, "
                "note = coalesce(?, note) WHERE alert_id = ?",
                [when, by, note, alert_id],
            )
        else:
            cur.execute(
                "UPDATE alerts SET status = 'closed', closed_at = ?, note = coalesce(?, note) WHERE alert_id = ?",
                [when, note, alert_id],
            )
