"""District page: every building in 3D coloured by a KPI, the networks, street lights and sensors; filters, a
legend, a camera reset, and a side panel with the facts of the building clicked."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash
import numpy as np
from dash import Input, Output, dcc, html

from dashboard import data
from dashboard.context import AppContext
from dashboard.figures.colour import Colouring, category_colouring, numeric_colouring
from dashboard.figures.district import district_figure, district_mesh, network_traces, point_trace
from dashboard.kpis import Kpi, available_kpis, kpi_values
from dashboard.pages.common import facts_table, fmt
from dashboard.pick import register_pick

__all__ = ["MENU_PATH", "PATH", "TITLE", "layout", "register", "scene"]

PATH = "/"
MENU_PATH = "/"
TITLE = "District"
_LAYERS = {"networks": "Networks", "lights": "Street lights", "sensors": "Sensors"}


def scene(ctx: AppContext) -> dict[str, Any]:
    """The district's buildings, merged mesh and other layers, cached until the buildings change."""

    def build() -> dict[str, Any]:
        origin = data.scene_origin_of(ctx.twin)
        buildings = data.district_buildings(ctx.twin)
        meshes = data.element_meshes(ctx.twin, district=True)
        return {
            "origin": origin,
            "buildings": buildings,
            "mesh": district_mesh(buildings, meshes, origin),
            "lines": data.network_lines(ctx.twin),
            "lights": data.streetlights(ctx.twin),
        }

    return ctx.cached("district", ctx.data_version(), build)  # type: ignore[no-any-return]


def _kpi_options(ctx: AppContext) -> tuple[list[dict[str, Any]], list[Any]]:
    options: list[dict[str, Any]] = []
    missing: list[Any] = []
    for choice in available_kpis(ctx.twin):
        if choice.available:
            options.append({"label": choice.kpi.label, "value": choice.kpi.key})
        else:
            options.append(
                {"label": f"{choice.kpi.label} (unavailable)", "value": choice.kpi.key, "disabled": True}
            )
            missing.append(html.Li([html.B(choice.kpi.label), f": {choice.reason}"]))
    return options, missing


def layout(ctx: AppContext, **_: str) -> html.Div:
    options, missing = _kpi_options(ctx)
    uses = [*sorted({u for u in data.district_buildings(ctx.twin).column("use").to_pylist() if u}), "unknown"]
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Colour buildings by", htmlFor="district-kpi"),
                    dcc.Dropdown(id="district-kpi", options=options, value="use", clearable=False),
                    html.Div(
                        [
                            html.Div("Not available yet:", className="note"),
                            html.Ul(missing, className="unavailable"),
                        ]
                    )
                    if missing
                    else None,
                    html.Label("Use"),
                    dcc.Dropdown(
                        id="district-uses",
                        options=[{"label": u, "value": u} for u in uses],
                        value=uses,
                        multi=True,
                    ),
                    html.Label("Construction year"),
                    dcc.RangeSlider(
                        id="district-years",
                        min=1800,
                        max=2030,
                        step=5,
                        value=[1800, 2030],
                        marks={y: str(y) for y in (1800, 1900, 1950, 2000, 2030)},
                        tooltip={"placement": "bottom"},
                    ),
                    dcc.Checklist(
                        id="district-year-unknown",
                        options=[{"label": " include unknown years", "value": "yes"}],
                        value=["yes"],
                    ),
                    html.Label("KPI value between (numeric KPIs)"),
                    html.Div(
                        [
                            dcc.Input(
                                id="district-kpi-min",
                                type="number",
                                placeholder="min",
                                debounce=True,
                                style={"width": "45%"},
                            ),
                            dcc.Input(
                                id="district-kpi-max",
                                type="number",
                                placeholder="max",
                                debounce=True,
                                style={"width": "45%", "marginLeft": "5%"},
                            ),
                        ]
                    ),
                    html.Label("Layers"),
                    dcc.Checklist(
                        id="district-layers",
                        options=[{"label": f" {v}", "value": k} for k, v in _LAYERS.items()],
                        value=list(_LAYERS),
                    ),
                    html.Label("Colour networks by"),
                    dcc.RadioItems(
                        id="district-network-colour",
                        options=[
                            {"label": " kind", "value": "kind"},
                            {"label": " loading (capacity check)", "value": "loading"},
                        ],
                        value="kind",
                    ),
                    html.Button(
                        "Reset the camera",
                        id="district-reset",
                        n_clicks=0,
                        className="secondary",
                        style={"marginTop": "1em"},
                    ),
                    html.Div(id="district-count", className="note", style={"marginTop": "1em"}),
                ],
                className="controls",
            ),
            html.Div(
                dcc.Graph(
                    id="district-graph",
                    className="graph",
                    style={"height": "100%"},
                    config={"displaylogo": False, "scrollZoom": True},
                ),
                className="main",
            ),
            html.Div(
                [html.Div("Click a building to see its facts.", className="note")],
                id="district-panel",
                className="panel",
            ),
            dcc.Store(id="district-clicked"),
        ],
        className="page",
    )


def colouring_for(
    kpi: Kpi, building_ids: list[str], gis_ids: list[list[str] | None], values: dict[str, Any]
) -> Colouring:
    """Per-building colouring; an IFC building without its own value takes that of the GIS footprint it details."""
    per = []
    for b, alt in zip(building_ids, gis_ids, strict=True):
        v = values.get(b)
        if v is None and alt:
            v = next((values[a] for a in alt if values.get(a) is not None), None)
        per.append(v)
    if kpi.kind == "category":
        return category_colouring(per, kpi.categories, kpi.colours, kpi.label)
    return numeric_colouring(per, kpi.label, kpi.unit, kpi.higher_is_better)


def register(app: dash.Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("district-graph", "figure"),
        Output("district-count", "children"),
        Input("district-kpi", "value"),
        Input("district-uses", "value"),
        Input("district-years", "value"),
        Input("district-year-unknown", "value"),
        Input("district-kpi-min", "value"),
        Input("district-kpi-max", "value"),
        Input("district-layers", "value"),
        Input("district-network-colour", "value"),
        Input("district-reset", "n_clicks"),
    )
    def draw(
        kpi_key: str,
        uses: list[str],
        years: list[int],
        year_unknown: list[str],
        kmin: float | None,
        kmax: float | None,
        layers: list[str],
        network_colour: str,
        resets: int,
    ) -> tuple[Any, ...]:
        s = scene(ctx)
        b = s["buildings"]
        ids = b.column("building_id").to_pylist()
        choices = {c.kpi.key: c for c in available_kpis(ctx.twin)}
        choice = choices.get(kpi_key) or choices["use"]
        if not choice.available:
            choice = choices["use"]
        vals = kpi_values(ctx.twin, choice.kpi)
        values = dict(zip(vals.column("building_id").to_pylist(), vals.column("value").to_pylist(), strict=True))
        colouring = colouring_for(choice.kpi, ids, b.column("gis_ids").to_pylist(), values)
        keep = _filter(
            b,
            uses or [],
            years or [1800, 2030],
            bool(year_unknown),
            colouring,
            kmin,
            kmax,
            choice.kpi.kind == "numeric",
        )
        extra: list[Any] = []
        origin = s["origin"]
        if "networks" in (layers or []):
            extra += network_traces(s["lines"], origin, network_colour)
        if "lights" in (layers or []) and s["lights"].num_rows:
            lights = s["lights"]
            extra.append(
                point_trace(
                    lights.column("x").to_numpy(),
                    lights.column("y").to_numpy(),
                    origin,
                    name="street lights",
                    z=5.0,
                    colour="#f2c200",
                    size=2,
                    text=lights.column("node_id").to_pylist(),
                )
            )
        if "sensors" in (layers or []):
            sensors = data.sensors_latest(ctx.twin)
            sensors = sensors.filter(
                np.array([x is not None for x in sensors.column("x").to_pylist()], dtype=bool)
            )
            if sensors.num_rows:
                text = [
                    f"{s_id} {k}: {fmt(v, u)}"
                    for s_id, k, v, u in zip(
                        sensors.column("sensor_id").to_pylist(),
                        sensors.column("kind").to_pylist(),
                        sensors.column("value").to_pylist(),
                        sensors.column("unit_ucum").to_pylist(),
                        strict=True,
                    )
                ]
                extra.append(
                    point_trace(
                        sensors.column("x").to_numpy(),
                        sensors.column("y").to_numpy(),
                        origin,
                        name="sensors",
                        z=2.0,
                        colour="#17becf",
                        size=3,
                        text=text,
                        symbol="diamond",
                    )
                )
        fig = district_figure(
            b, s["mesh"], colouring, keep=keep, extra=extra, uirevision=f"district-{resets or 0}"
        )
        shown = int(keep.sum())
        return fig, f"{shown:,} of {len(ids):,} buildings shown."

    register_pick(app, "district-graph", "district-clicked")

    @app.callback(
        Output("district-panel", "children"), Input("district-clicked", "data"), prevent_initial_call=True
    )
    def panel(building_id: str | None) -> Any:
        if not building_id:
            return dash.no_update
        return building_panel(ctx, building_id)


def _filter(
    b: Any,
    uses: list[str],
    years: list[int],
    year_unknown: bool,
    colouring: Colouring,
    kmin: float | None,
    kmax: float | None,
    numeric: bool,
) -> np.ndarray:
    use = np.array([u or "unknown" for u in b.column("use").to_pylist()], dtype=object)
    year = np.array([np.nan if y is None else y for y in b.column("construction_year").to_pylist()], dtype=float)
    keep = np.isin(use, uses)
    in_years = (year >= years[0]) & (year <= years[1])
    keep &= in_years | (np.isnan(year) & year_unknown)
    if numeric and (kmin is not None or kmax is not None):
        code = colouring.code
        ok = ~np.isnan(code)
        if kmin is not None:
            ok &= code >= kmin
        if kmax is not None:
            ok &= code <= kmax
        keep &= ok
    return keep


def building_panel(ctx: AppContext, building_id: str) -> list[Any]:
    """The side panel: the building's record, its derived facts and storeys, and a link to its page."""
    row = data.building_row(ctx.twin, building_id)
    if row is None:
        return [html.Div(f"No building {building_id} in the twin.", className="note")]
    facts = data.building_facts(ctx.twin, building_id)
    storeys = data.storeys(ctx.twin, building_id)
    height = fmt(row["height_m"], "m") + (" (estimated)" if row["height_estimated"] else "")
    items = [
        ("id", building_id),
        ("use", fmt(row["use"])),
        ("construction year", fmt(row["construction_year"])),
        ("height", height),
        ("storeys above ground", fmt(row["storeys_above_ground"])),
        ("footprint", fmt(row["footprint_area_m2"], "m²")),
        ("dwellings", fmt(row["dwellings"])),
        ("source", f"{row['source']} {row['source_ref'] or ''}".strip()),
    ]
    body: list[Any] = [
        html.H3(str(row["name"] or building_id), id="district-panel-title"),
        facts_table(items, "district-panel-facts"),
    ]
    if facts:
        body += [
            html.Div("From the IFC model", className="section-title"),
            facts_table([(k.replace("_", " "), fmt(v)) for k, v in facts.items() if k != "building_id"]),
        ]
    else:
        body.append(
            html.Div(
                "No IFC model: the facts derived from a model (depth, structure, cores) are not "
                "known for this building.",
                className="placeholder",
            )
        )
    if storeys.num_rows:
        body += [
            html.Div(f"{storeys.num_rows} storeys", className="section-title"),
            facts_table(
                [
                    (
                        s["name"] or s["storey_id"],
                        f"level {s['level_index']}, {fmt(s['elevation_m'], 'm')}, "
                        f"{fmt(s['gross_floor_area_m2'], 'm²')}",
                    )
                    for s in storeys.to_pylist()
                ]
            ),
        ]
    body.append(
        dcc.Link(
            "Open the building page →",
            href=f"/building/{quote(building_id, safe='')}",
            id="district-panel-link",
            className="button",
            style={"display": "inline-block", "marginTop": "1em"},
        )
    )
    return body
