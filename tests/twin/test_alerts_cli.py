"""``twin alerts list|ack|close`` on a free twin file and through a running ``twin serve``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
from click.testing import CliRunner

from ingest.alert_rules import AlertRule, run_rules
from tests.twin.test_cli import _cli, serving
from twin import Twin
from twin.cli import cli

T0 = dt.datetime(2026, 1, 5, 8, 0)
HOT = AlertRule("hot", "above", sensor_kind="temperature", threshold=26)


def open_alert(path: Path, sensor: str) -> int:
    """Raise one alert on ``sensor`` in the twin file; returns its id."""
    with Twin(path) as twin:
        batch = pa.table(
            {"sensor_id": [sensor], "sensor_kind": ["temperature"], "time_utc": [T0], "value": [27.5]}
        )
        run_rules(twin, batch, {}, T0, [HOT])
        return int(twin.query("SELECT max(alert_id) AS a FROM alerts").column("a")[0].as_py())


def listed(stdout: str) -> dict[int, dict[str, object]]:
    return {int(r["alert_id"]): r for r in json.loads(stdout)}


def test_alerts_are_listed_acknowledged_by_a_named_person_and_closed_on_a_free_twin(twin_path: Path) -> None:
    alert = open_alert(twin_path, "t1")
    runner = CliRunner()
    base = ["--twin", str(twin_path), "alerts"]
    shown = runner.invoke(cli, [*base, "list", "--format", "json"], catch_exceptions=False)
    assert shown.exit_code == 0 and listed(shown.stdout)[alert]["status"] == "open"
    table = runner.invoke(cli, [*base, "list"], catch_exceptions=False)
    assert "t1" in table.stdout and "open" in table.stdout
    ack = runner.invoke(cli, [*base, "ack", str(alert), "--by", "Ada", "--note", "crew sent"])
    assert ack.exit_code == 0 and "acknowledged by Ada" in ack.stdout
    acked = listed(runner.invoke(cli, [*base, "list", "--state", "acknowledged", "--format", "json"]).stdout)
    assert acked[alert]["acknowledged_by"] == "Ada" and acked[alert]["note"] == "crew sent"
    assert listed(runner.invoke(cli, [*base, "list", "--state", "open", "--format", "json"]).stdout) == {}
    again = runner.invoke(cli, [*base, "ack", str(alert), "--by", "Bob"])
    assert again.exit_code == 1 and "is acknowledged; it cannot become acknowledged" in again.stderr
    closed = runner.invoke(cli, [*base, "close", str(alert)])
    assert closed.exit_code == 0 and f"Alert {alert} closed" in closed.stdout
    unknown = runner.invoke(cli, [*base, "ack", "9999", "--by", "Ada"])
    assert unknown.exit_code == 1 and "no alert 9999" in unknown.stderr and "Traceback" not in unknown.stderr
    assert "twin alerts list" in unknown.stderr


def test_alerts_commands_are_sent_to_the_twin_serve_that_owns_the_file(twin_path: Path) -> None:
    alert = open_alert(twin_path, "t2")
    with serving(twin_path):
        base = ("--twin", str(twin_path), "alerts")
        shown = _cli(*base, "list", "--state", "open", "--format", "json")
        assert shown.returncode == 0, shown.stderr
        assert listed(shown.stdout)[alert]["sensor_id"] == "t2"
        ack = _cli(*base, "ack", str(alert), "--by", "Grace", "--note", "sensor replaced")
        assert ack.returncode == 0 and "acknowledged by Grace" in ack.stdout, ack.stderr
        unknown = _cli(*base, "close", "4242")
        assert unknown.returncode == 1 and "no alert 4242" in unknown.stderr and "Traceback" not in unknown.stderr
    with Twin(twin_path) as twin:
        row = twin.query(
            "SELECT status, acknowledged_by, note FROM alerts WHERE alert_id = ?", [alert]
        ).to_pylist()
    assert row == [{"status": "acknowledged", "acknowledged_by": "Grace", "note": "sensor replaced"}]
