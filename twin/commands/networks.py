"""``twin network fireflow`` and ``twin network trace``: added to the ``network`` group of :mod:`twin.cli`."""

from __future__ import annotations

from typing import Any

import click

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["register"]


def _network_fireflow(
    twin: Twin, network_id: str | None = None, flow_m3_h: float | None = None, min_residual_bar: float = 1.0
) -> list[dict[str, Any]]:
    from networks.fireflow import FireFlowParams, fire_flow_check

    ids = (
        [network_id]
        if network_id
        else twin.query("SELECT network_id FROM networks WHERE kind = 'water' ORDER BY 1").column(0).to_pylist()
    )
    if not ids:
        raise TwinError("no water network in the twin", "import one with twin ingest network FILE --kind water")
    params = FireFlowParams(flow_m3_h=flow_m3_h, min_residual_bar=min_residual_bar)
    out = []
    for nid in ids:
        table = fire_flow_check(twin, nid, params)
        rows = table.to_pylist()
        solved = [r for r in rows if r["residual_pressure_m"] is not None]
        out.append(
            {
                "network_id": nid,
                "hydrants": len(rows),
                "failing": [r for r in rows if r["flag"] != "ok"],
                "lowest": min(solved, key=lambda r: r["residual_pressure_m"]) if solved else None,
            }
        )
    return out


def _network_trace(twin: Twin, element_id: str, orientation: str = "auto") -> dict[str, Any]:
    from networks.trace import trace

    return trace(twin, element_id, orientation=orientation).as_dict()


def _show(label: str, values: list[str], limit: int = 20) -> None:
    from twin.cli import out

    more = f" ... {len(values) - limit:,} more" if len(values) > limit else ""
    out.print(f"  {label} ({len(values):,}): {', '.join(values[:limit]) or '-'}{more}", soft_wrap=True)


@click.command("fireflow")
@click.option("--network", "network_id", help="One water network id (default: every water network).")
@click.option(
    "--flow-m3-h",
    type=float,
    help="One fire flow for every hydrant, m3/h (default: by hydrant size, DECI: DN65 30, DN100 60, 2x100 120).",
)
@click.option(
    "--min-residual-bar", type=float, default=1.0, show_default=True, help="Residual pressure at the hydrant, bar."
)
@click.pass_context
def fireflow(ctx: click.Context, network_id: str | None, flow_m3_h: float | None, min_residual_bar: float) -> None:
    """Fire-flow check: each hydrant draws its fire flow on top of the peak demand (methods.md 5.1, DECI);
    residual pressure there >= 1 bar, lowest pressure elsewhere. Results in res_network_fireflow."""
    from twin.cli import out, run

    results = run(
        ctx,
        "network_fireflow",
        {"network_id": network_id, "flow_m3_h": flow_m3_h, "min_residual_bar": min_residual_bar},
    )
    for r in results:
        low = r["lowest"]
        lowest = (
            f"lowest residual {low['residual_pressure_bar']:.2f} bar at {low['node_id']} "
            f"({low['fire_flow_m3_h']:g} m3/h)"
            if low
            else "no hydrant solved"
        )
        out.print(
            f"{r['network_id']}: {r['hydrants']:,} hydrants, {len(r['failing']):,} fail; {lowest}", soft_wrap=True
        )
        for f in r["failing"][:50]:
            bar = f["residual_pressure_bar"]
            out.print(
                f"  {f['node_id']}: {f['flag']}, "
                f"{'no solution' if bar is None else f'{bar:.2f} bar'} at {f['fire_flow_m3_h']:g} m3/h",
                soft_wrap=True,
            )


@click.command("trace")
@click.argument("element_id")
@click.option("--up", "direction", flag_value="up", help="Only the upstream side (path to the sources).")
@click.option("--down", "direction", flag_value="down", help="Only the downstream side (what it feeds).")
@click.option(
    "--orientation",
    type=click.Choice(["auto", "flow", "distance"]),
    default="auto",
    show_default=True,
    help="Orient links by the last check's flows, or away from the nearest source.",
)
@click.pass_context
def trace_command(ctx: click.Context, element_id: str, direction: str | None, orientation: str) -> None:
    """From a network node or link: the path up to its sources and everything downstream (nodes, links,
    buildings served, sensors, street lights)."""
    from twin.cli import out, run

    r = run(ctx, "network_trace", {"element_id": element_id, "orientation": orientation}, read_only=True)
    out.print(f"{r['element']} {element_id} in {r['network_id']} (links oriented by {r['orientation']})")
    if direction in (None, "up"):
        out.print("Upstream:")
        _show("sources", r["sources"])
        _show("path from the nearest source", r["path_nodes"], 50)
        _show("nodes", r["upstream_nodes"])
        _show("links", r["upstream_links"])
    if direction in (None, "down"):
        out.print("Downstream:")
        _show("nodes", r["downstream_nodes"])
        _show("links", r["downstream_links"])
        _show("buildings served", r["buildings"])
        _show("sensors", [s["sensor_id"] for s in r["sensors"]])
        _show("street lights", r["street_lights"])


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Add ``fireflow`` and ``trace`` to the ``network`` group; their functions to the command registry."""
    commands["network_fireflow"] = _network_fireflow
    commands["network_trace"] = _network_trace
    group = cli.commands["network"]
    assert isinstance(group, click.Group)
    group.add_command(fireflow)
    group.add_command(trace_command)
