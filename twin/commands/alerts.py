"""``twin alerts list|ack|close``: the operator's side of the alert lifecycle (open, acknowledged, closed).

The commands run through the COMMANDS registry, so they work the same while ``twin serve`` owns the twin (they
are sent to it) and when the file is free (opened here).
"""

from __future__ import annotations

import json
from typing import Any

import click
import pyarrow as pa

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["register"]

_STATES = ("open", "acknowledged", "closed")


def _alerts_list(twin: Twin, state: str | None = None) -> pa.Table:
    if state is not None and state not in _STATES:
        raise TwinError(f"unknown alert state '{state}'", f"use one of {', '.join(_STATES)}")
    where = "WHERE status = ?" if state else ""
    return twin.query(
        "SELECT alert_id, status, severity, rule_id, sensor_id, value, message, opened_at, acknowledged_by, "
        f"acknowledged_at, closed_at, note FROM alerts {where} ORDER BY opened_at DESC, alert_id DESC",
        [state] if state else None,
    )


def _alert_row(twin: Twin, alert_id: int) -> dict[str, Any]:
    row = twin.query(
        "SELECT alert_id, status, acknowledged_by, acknowledged_at, closed_at, note FROM alerts "
        "WHERE alert_id = ?",
        [alert_id],
    ).to_pylist()[0]
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def _alerts_ack(twin: Twin, alert_id: int, by: str, note: str | None = None) -> dict[str, Any]:
    from ingest.alert_rules import acknowledge_alert

    acknowledge_alert(twin, int(alert_id), by, note=note)
    return _alert_row(twin, int(alert_id))


def _alerts_close(twin: Twin, alert_id: int, note: str | None = None) -> dict[str, Any]:
    from ingest.alert_rules import close_alert

    close_alert(twin, int(alert_id), note=note)
    return _alert_row(twin, int(alert_id))


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Add ``twin alerts`` and its commands."""
    commands["alerts_list"] = _alerts_list
    commands["alerts_ack"] = _alerts_ack
    commands["alerts_close"] = _alerts_close

    @cli.group()
    def alerts() -> None:
        """Alerts raised by the rules on live readings: list them, acknowledge them, close them."""

    @alerts.command("list")
    @click.option("--state", type=click.Choice(_STATES), help="Only alerts in this state (default: all).")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @click.pass_context
    def alerts_list(ctx: click.Context, state: str | None, fmt: str) -> None:
        """The alerts, newest first: state, severity, rule, sensor, value, who acknowledged them."""
        from twin import cli as twin_cli

        table: pa.Table = twin_cli.run(ctx, "alerts_list", {"state": state}, read_only=True)
        if fmt == "json":
            click.echo(json.dumps(table.to_pylist(), default=str, indent=1))
            return
        if table.num_rows == 0:
            twin_cli.out.print(f"No {state + ' ' if state else ''}alerts.")
            return
        from rich.table import Table

        view = Table("id", "state", "severity", "sensor", "rule", "value", "opened (UTC)", "by", "message")
        for r in table.to_pylist():
            view.add_row(
                str(r["alert_id"]),
                r["status"],
                r["severity"],
                r["sensor_id"] or "",
                r["rule_id"] or "",
                "" if r["value"] is None else f"{r['value']:g}",
                f"{r['opened_at']:%Y-%m-%d %H:%M}",
                r["acknowledged_by"] or "",
                r["message"],
            )
        twin_cli.out.print(view)
        twin_cli.out.print(f"{table.num_rows:,} alert(s)")

    @alerts.command("ack")
    @click.argument("alert_id", type=int)
    @click.option("--by", required=True, metavar="NAME", help="Who acknowledges it (recorded).")
    @click.option("--note", metavar="TEXT", help="What was done or who was sent (recorded).")
    @click.pass_context
    def alerts_ack(ctx: click.Context, alert_id: int, by: str, note: str | None) -> None:
        """Acknowledge the open alert ALERT_ID: someone is on it. It closes when its condition clears."""
        from twin import cli as twin_cli

        row = twin_cli.run(ctx, "alerts_ack", {"alert_id": alert_id, "by": by, "note": note})
        twin_cli.out.print(
            f"Alert {alert_id} acknowledged by {row['acknowledged_by']} at {row['acknowledged_at'][:19]}Z.",
            soft_wrap=True,
        )

    @alerts.command("close")
    @click.argument("alert_id", type=int)
    @click.option("--note", metavar="TEXT", help="Why it is closed (recorded).")
    @click.pass_context
    def alerts_close(ctx: click.Context, alert_id: int, note: str | None) -> None:
        """Close the alert ALERT_ID by hand (it opens again if its condition still holds at the next reading)."""
        from twin import cli as twin_cli

        row = twin_cli.run(ctx, "alerts_close", {"alert_id": alert_id, "note": note})
        twin_cli.out.print(f"Alert {alert_id} closed at {row['closed_at'][:19]}Z.")
