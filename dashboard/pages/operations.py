"""Operations page (the hypervisor): sensors on a plan coloured by alert state or latest value, refreshed live from
the twin; the last day replayed hour by hour; the alerts with acknowledge (operators); citizen reports linked to
their assets; the time series of the sensor clicked."""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import ALL, Input, Output, State, dcc, html
from dash import ctx as callback_ctx

from dashboard import data
from dashboard.auth import PermissionDenied, allowed
from dashboard.context import AppContext
from dashboard.figures.operations import (
    SENSOR_TRACE,
    operations_map,
    sensor_colours,
    sensor_hover,
    sensor_series_figure,
)
from dashboard.pages.common import fmt

__all__ = ["LIVE", "MENU_PATH", "PATH", "REFRESH_MS", "TITLE", "acknowledge", "layout", "register"]

PATH = "/operations"
MENU_PATH = "/operations"
TITLE = "Operations"
REFRESH_MS = 2000
"""How often the page asks the twin for new readings and alerts, ms."""
LIVE = 24
"""Slider position of 'now' (0-23: the hours of the last day held)."""


def layout(ctx: AppContext, **_: str) -> html.Div:
    kinds = ctx.twin.query("SELECT DISTINCT kind FROM sensors ORDER BY kind").column("kind").to_pylist()
    sensors = ctx.twin.query("SELECT sensor_id, kind FROM sensors ORDER BY sensor_id").to_pylist()
    user = ctx.user()
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Colour sensors by", htmlFor="operations-colour"),
                    dcc.Dropdown(
                        id="operations-colour",
                        clearable=False,
                        value="alert",
                        options=[{"label": "alert state", "value": "alert"}]
                        + [{"label": f"latest {k.replace('_', ' ')}", "value": k} for k in kinds],
                    ),
                    html.Label("Replay the last day (hourly means)"),
                    dcc.Slider(
                        id="operations-hour",
                        min=0,
                        max=LIVE,
                        step=1,
                        value=LIVE,
                        marks={0: "-24 h", 12: "-12 h", LIVE: "live"},
                    ),
                    html.Div(id="operations-hour-label", className="note"),
                    html.Label("Sensor"),
                    dcc.Dropdown(
                        id="operations-sensor",
                        options=[
                            {"label": f"{s['sensor_id']} ({s['kind']})", "value": s["sensor_id"]} for s in sensors
                        ],
                        placeholder="click a sensor on the map",
                    ),
                    html.Label("Latest readings"),
                    html.Div(id="operations-latest"),
                ],
                className="controls",
            ),
            html.Div(
                [
                    dcc.Graph(
                        id="operations-map",
                        className="graph",
                        style={"height": "60%"},
                        config={"displaylogo": False, "scrollZoom": True},
                    ),
                    dcc.Graph(id="operations-series", style={"height": "38%"}, config={"displaylogo": False}),
                ],
                className="main",
            ),
            html.Div(
                [
                    html.H3("Alerts"),
                    html.Div(
                        "You can acknowledge alerts."
                        if user and allowed(user.role, "acknowledge_alert")
                        else "Only operators acknowledge alerts; the server refuses it to other roles.",
                        className="note",
                    ),
                    html.Div(id="operations-ack-message"),
                    html.Div(id="operations-alerts"),
                ],
                className="panel",
            ),
            dcc.Interval(id="operations-tick", interval=REFRESH_MS),
            dcc.Store(id="operations-version", data=0),
            dcc.Store(id="operations-drawn"),
        ],
        className="page",
    )


def acknowledge(ctx: AppContext, alert_id: int) -> str:
    """Acknowledge an alert as the current user: refused on the server unless their role allows it."""
    from ingest.alert_rules import acknowledge_alert

    user = ctx.require("acknowledge_alert")
    acknowledge_alert(ctx.twin, alert_id, by=user.name)
    return f"Alert {alert_id} acknowledged by {user.name}."


def _alerts_list(ctx: AppContext) -> Any:
    rows = data.alerts(ctx.twin).to_pylist()
    if not rows:
        return html.Div("No open alert.", className="note", id="operations-no-alert")
    items = []
    for a in rows:
        button = (
            html.Button("Acknowledge", id={"type": "operations-ack", "alert": a["alert_id"]}, n_clicks=0)
            if a["status"] == "open"
            else html.Span(f"acknowledged by {a['acknowledged_by']}", className="note")
        )
        items.append(
            html.Li(
                [
                    html.Span(f"#{a['alert_id']} {a['severity']} ", className=f"alert-{a['severity']}"),
                    html.Span(f"{a['sensor_id']}: {a['message']} "),
                    html.Span(f"({a['opened_at']:%d/%m %H:%M} UTC) ", className="note"),
                    button,
                ],
                id=f"operations-alert-{a['alert_id']}",
                style={"marginBottom": "0.6em"},
            )
        )
    return html.Ul(items, style={"paddingLeft": "1em"})


def register(app: dash.Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("operations-map", "figure"),
        Output("operations-latest", "children"),
        Output("operations-alerts", "children"),
        Output("operations-hour-label", "children"),
        Output("operations-drawn", "data"),
        Input("operations-tick", "n_intervals"),
        Input("operations-colour", "value"),
        Input("operations-hour", "value"),
        Input("operations-sensor", "value"),
        Input("operations-version", "data"),
        State("operations-drawn", "data"),
    )
    def refresh(
        _tick: int | None, colour_by: str, hour: int, selected: str | None, _v: int, drawn: list[str] | None
    ) -> tuple[Any, ...]:
        sensors = data.sensors_latest(ctx.twin)
        values = None
        label = "Live: the latest reading of each sensor."
        if hour is not None and hour < LIVE:
            table, hours = data.replay_values(ctx.twin, hour)
            by_id = dict(
                zip(table.column("sensor_id").to_pylist(), table.column("value").to_pylist(), strict=True)
            )
            values = [by_id.get(s) for s in sensors.column("sensor_id").to_pylist()]
            label = f"Replay: hourly means of {hours[hour]} UTC." if hours else "No hourly readings to replay."
        ids = sensors.column("sensor_id").to_pylist()
        if callback_ctx.triggered_id in ("operations-tick", "operations-version") and drawn == ids:
            # a live tick: only the sensors' colours and labels change; send them, not the whole plan
            fig: Any = dash.Patch()
            vals = values if values is not None else sensors.column("value").to_pylist()
            fig["data"][SENSOR_TRACE]["marker"] = sensor_colours(sensors, colour_by or "alert", vals)
            fig["data"][SENSOR_TRACE]["hovertext"] = sensor_hover(sensors, vals)
        else:
            fig = operations_map(
                _footprints(ctx),
                sensors,
                data.reports(ctx.twin),
                _asset_positions(ctx),
                colour_by=colour_by or "alert",
                values=values,
                selected=selected,
            )
        latest = ctx.twin.query(
            "SELECT l.sensor_id, l.time_utc, l.value, s.unit_ucum "
            "FROM sensor_latest l JOIN sensors s USING (sensor_id) "
            "ORDER BY l.time_utc DESC, l.sensor_id LIMIT 8"
        ).to_pylist()
        table = html.Table(
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(r["sensor_id"]),
                            html.Td(fmt(r["value"], r["unit_ucum"])),
                            html.Td(f"{r['time_utc']:%d/%m %H:%M:%S}", className="note"),
                        ]
                    )
                    for r in latest
                ]
            ),
            className="facts",
            id="operations-latest-table",
        )
        return fig, table, _alerts_list(ctx), label, ids

    @app.callback(
        Output("operations-sensor", "value"), Input("operations-map", "clickData"), prevent_initial_call=True
    )
    def pick(click: dict[str, Any] | None) -> Any:
        if not click or not click.get("points"):
            return dash.no_update
        sensor = click["points"][0].get("customdata")
        return sensor if isinstance(sensor, str) and not sensor.startswith("REQ") else dash.no_update

    @app.callback(
        Output("operations-series", "figure"),
        Input("operations-sensor", "value"),
        Input("operations-tick", "n_intervals"),
    )
    def series(sensor_id: str | None, _tick: int | None) -> Any:
        if not sensor_id:
            return sensor_series_figure(np.array([], dtype="datetime64[us]"), np.array([]), name="", unit="")
        if callback_ctx.triggered_id == "operations-tick" and _tick and _tick % 5:
            return dash.no_update  # the series is heavier: refresh it every fifth tick
        table = data.sensor_series(ctx.twin, sensor_id)
        unit = (
            ctx.twin.query("SELECT unit_ucum FROM sensors WHERE sensor_id = ?", [sensor_id]).column(0)[0].as_py()
        )
        return sensor_series_figure(
            table.column("time_utc").to_numpy(), table.column("value").to_numpy(), name=sensor_id, unit=unit or ""
        )

    @app.callback(
        Output("operations-ack-message", "children"),
        Output("operations-version", "data"),
        Input({"type": "operations-ack", "alert": ALL}, "n_clicks"),
        State("operations-version", "data"),
        prevent_initial_call=True,
    )
    def ack(clicks: list[int | None], version: int) -> tuple[Any, Any]:
        trigger = callback_ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks or []):
            return dash.no_update, dash.no_update
        fired = [t for t in callback_ctx.triggered if t.get("value")]
        if not fired:
            return dash.no_update, dash.no_update
        try:
            message = acknowledge(ctx, int(trigger["alert"]))
        except PermissionDenied as exc:
            return html.Div(exc.message, className="refused", id="operations-refused"), dash.no_update
        return html.Div(message, className="ok", id="operations-acknowledged"), (version or 0) + 1


def _footprints(ctx: AppContext) -> list[bytes | None]:
    def build() -> list[bytes | None]:
        return (
            ctx.twin.query(  # type: ignore[no-any-return]
                "SELECT ST_AsWKB(footprint) AS w FROM buildings WHERE footprint IS NOT NULL"
            )
            .column("w")
            .to_pylist()
        )

    return ctx.cached("operations-footprints", ctx.data_version(), build)  # type: ignore[no-any-return]


def _asset_positions(ctx: AppContext) -> dict[str, tuple[float, float]]:
    """Where the assets that reports point at are: network nodes, link midpoints, building centroids."""

    def build() -> dict[str, tuple[float, float]]:
        rows = ctx.twin.query(
            "SELECT node_id AS id, ST_X(geom) AS x, ST_Y(geom) AS y FROM network_nodes "
            "WHERE node_id IN (SELECT asset_id FROM reports) UNION ALL "
            "SELECT link_id, ST_X(ST_LineInterpolatePoint(geom, 0.5)), ST_Y(ST_LineInterpolatePoint(geom, 0.5)) "
            "FROM network_links WHERE link_id IN (SELECT asset_id FROM reports) UNION ALL "
            "SELECT building_id, ST_X(ST_Centroid(footprint)), ST_Y(ST_Centroid(footprint)) FROM buildings "
            "WHERE building_id IN (SELECT asset_id FROM reports)"
        ).to_pylist()
        return {r["id"]: (r["x"], r["y"]) for r in rows if r["x"] is not None}

    return ctx.cached("operations-assets", ctx.data_version(), build)  # type: ignore[no-any-return]
