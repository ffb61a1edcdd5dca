"""Alert rules: each kind fires on the readings that should fire it and not on the others; the lifecycle."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from ingest.alert_rules import AlertRule, RuleState, acknowledge_alert, close_alert, evaluate, run_rules
from twin import Twin
from twin.errors import TwinError

T0 = dt.datetime(2026, 1, 5, 8, 0)


def readings(sensor: str, values: list[float], step_min: float = 5, kind: str = "temperature") -> pa.Table:
    return pa.table(
        {
            "sensor_id": [sensor] * len(values),
            "sensor_kind": [kind] * len(values),
            "time_utc": [T0 + dt.timedelta(minutes=step_min * i) for i in range(len(values))],
            "value": values,
        }
    )


NO_LATEST = pa.table({"sensor_id": [], "sensor_kind": [], "time_utc": []})


def actions(rule: AlertRule, table: pa.Table) -> list[tuple[str, dt.datetime]]:
    return [(c.action, c.at) for c in evaluate([rule], table, NO_LATEST, {}, T0).changes]


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_above_a_threshold_fires_only_when_it_holds_for_the_duration_and_closes_back_below() -> None:
    rule = AlertRule("hot", "above", sensor_kind="temperature", threshold=26, duration=dt.timedelta(minutes=10))
    assert actions(rule, readings("t", [27, 27, 27, 20])) == [("open", at(10)), ("close", at(15))]
    assert actions(rule, readings("t", [27, 27, 20, 27, 27])) == []  # interrupted run: 5 minutes each
    assert actions(rule, readings("t", [26, 26, 26, 26])) == []  # at the threshold is not above


def test_below_fires_at_the_first_reading_with_no_duration_and_not_for_another_sensor_kind() -> None:
    rule = AlertRule("cold", "below", sensor_kind="temperature", threshold=16)
    assert actions(rule, readings("t", [18, 15, 15, 17])) == [("open", at(5)), ("close", at(15))]
    assert actions(rule, readings("h", [10, 10], kind="humidity")) == []


def test_zero_run_of_a_meter_fires_after_the_duration_and_a_short_run_does_not() -> None:
    rule = AlertRule("stuck", "zero_run", sensor_id="m0", duration=dt.timedelta(minutes=30))
    long_run = readings("m0", [1.2] + [0.0] * 8 + [0.7], step_min=5, kind="electricity_meter")
    assert actions(rule, long_run) == [("open", at(35)), ("close", at(45))]
    short_run = readings("m0", [1.2, 0.0, 0.0, 0.9], step_min=5, kind="electricity_meter")
    assert actions(rule, short_run) == []


def test_rate_of_change_is_per_hour_between_consecutive_readings() -> None:
    rule = AlertRule("jump", "rate_of_change", sensor_id="t", threshold=12)  # unit per hour
    # +1 per 5 minutes = 12/h: not above; +2 per 5 minutes = 24/h: above.
    assert actions(rule, readings("t", [20, 21, 22])) == []
    assert actions(rule, readings("t", [20, 21, 23, 24])) == [("open", at(10)), ("close", at(15))]


def test_no_data_fires_for_a_silent_sensor_and_closes_when_it_reports_again() -> None:
    rule = AlertRule("silent", "no_data", sensor_kind="temperature", duration=dt.timedelta(minutes=15))
    latest = pa.table({"sensor_id": ["a", "b"], "sensor_kind": ["temperature"] * 2, "time_utc": [at(-20), at(-5)]})
    first = evaluate([rule], readings("a", []), latest, {}, T0)
    assert [(c.action, c.sensor_id) for c in first.changes] == [("open", "a")]
    again = evaluate([rule], readings("a", []), latest, first.state, T0)
    assert again.changes == []  # already open
    back = pa.table({"sensor_id": ["a"], "sensor_kind": ["temperature"], "time_utc": [at(0)]})
    assert [
        (c.action, c.sensor_id) for c in evaluate([rule], readings("a", []), back, again.state, T0).changes
    ] == [("close", "a")]


def test_a_run_continues_across_batches_and_late_readings_do_not_move_it() -> None:
    rule = AlertRule("hot", "above", sensor_id="t", threshold=26, duration=dt.timedelta(minutes=10))
    first = evaluate([rule], readings("t", [27, 27]), NO_LATEST, {}, T0)  # 0 and 5 min
    assert first.changes == [] and first.state[("hot", "t")] == RuleState(at(5), 27.0, at(0), False)
    late = pa.table({"sensor_id": ["t"], "sensor_kind": ["temperature"], "time_utc": [at(1)], "value": [20.0]})
    second = evaluate([rule], late, NO_LATEST, first.state, T0)
    assert second.state == first.state
    third = pa.table({"sensor_id": ["t"], "sensor_kind": ["temperature"], "time_utc": [at(10)], "value": [27.0]})
    assert [c.action for c in evaluate([rule], third, NO_LATEST, second.state, T0).changes] == ["open"]


def test_rules_without_their_parameters_are_refused() -> None:
    with pytest.raises(TwinError, match="threshold"):
        AlertRule("x", "above", sensor_id="t")
    with pytest.raises(TwinError, match="target"):
        AlertRule("x", "zero_run")
    with pytest.raises(TwinError, match="duration"):
        AlertRule("x", "no_data", sensor_id="t")


def test_alert_lifecycle_records_who_acknowledged_and_refuses_a_second_acknowledgment(memory_twin: Twin) -> None:
    rule = AlertRule("hot", "above", sensor_id="t", threshold=26)
    run_rules(memory_twin, readings("t", [27]), {}, T0, [rule])
    alert = memory_twin.query("SELECT alert_id, status, value, message FROM alerts").to_pylist()
    assert len(alert) == 1 and alert[0]["status"] == "open" and alert[0]["value"] == 27.0
    acknowledge_alert(memory_twin, alert[0]["alert_id"], "Grace", at=at(1))
    with pytest.raises(TwinError, match="acknowledged"):
        acknowledge_alert(memory_twin, alert[0]["alert_id"], "Bob")
    # Still above: an acknowledged alert is not opened again.
    state = run_rules(memory_twin, readings("t", [27, 28]), {}, T0, [rule]).state
    assert memory_twin.query("SELECT count(*) AS n FROM alerts").column("n").to_pylist() == [1]
    close_alert(memory_twin, alert[0]["alert_id"], at=at(2))
    row = memory_twin.query("SELECT status, acknowledged_by, acknowledged_at, closed_at FROM alerts").to_pylist()[
        0
    ]
    assert row == {"status": "closed", "acknowledged_by": "Grace", "acknowledged_at": at(1), "closed_at": at(2)}
    assert state[("hot", "t")].is_open
