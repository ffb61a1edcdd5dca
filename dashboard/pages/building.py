"""Building page: the IFC model in 3D coloured by class or by a reversibility-relevant flag, one storey at a
time, the facts; the reversibility criteria and energy results appear when their analyses have run."""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import ALL, Input, Output, State, dcc, html
from dash import ctx as callback_ctx

from dashboard import data
from dashboard.context import AppContext
from dashboard.figures.building import COLOUR_MODES, building_figure, element_colouring, element_mesh
from dashboard.figures.colour import category_colouring
from dashboard.figures.district import district_figure, district_mesh
from dashboard.pages.common import facts_table, fmt
from dashboard.pick import register_pick

__all__ = ["MENU_PATH", "PATH", "TITLE", "layout", "model_building_id", "register"]

PATH = "/building"
MENU_PATH = "/building"
TITLE = "Building"


def model_building_id(ctx: AppContext, building_id: str) -> str:
    """The building whose IFC model shows ``building_id``: itself, or the IFC building a GIS footprint links to."""
    row = data.building_row(ctx.twin, building_id)
    if row and row.get("ifc_building_id"):
        return str(row["ifc_building_id"])
    return building_id


def _picker(ctx: AppContext, selected: str | None) -> dcc.Dropdown:
    ifc = ctx.twin.query(
        "SELECT building_id, coalesce(name, building_id) AS name FROM buildings "
        "WHERE building_id IN (SELECT DISTINCT building_id FROM element_meshes) ORDER BY name"
    ).to_pylist()
    options = [{"label": r["name"], "value": r["building_id"]} for r in ifc]
    if selected and selected not in {o["value"] for o in options}:
        options.insert(0, {"label": selected, "value": selected})
    return dcc.Dropdown(
        id="building-picker",
        options=options,
        value=selected,
        clearable=False,
        placeholder="Choose a building with an IFC model",
    )


def layout(ctx: AppContext, building_id: str | None = None, **_: str) -> html.Div:
    if building_id is None:
        first = ctx.twin.query("SELECT min(building_id) AS b FROM element_meshes").column("b")[0].as_py()
        building_id = first
    if building_id is None:
        return html.Div(
            html.Div(
                "No building has an IFC model in this twin: import one with twin ingest ifc.",
                className="placeholder",
            )
        )
    model_id = model_building_id(ctx, building_id)
    storeys = data.storeys(ctx.twin, model_id).to_pylist()
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Building"),
                    _picker(ctx, model_id),
                    html.Label("Colour elements by", htmlFor="building-colour"),
                    dcc.RadioItems(
                        id="building-colour",
                        options=[
                            {"label": f" {v}", "value": k} for k, v in COLOUR_MODES.items() if k != "evidence"
                        ],
                        value="class",
                    ),
                    html.Label("Storey"),
                    dcc.Dropdown(
                        id="building-storey",
                        options=[{"label": "All storeys", "value": ""}]
                        + [
                            {
                                "label": f"{s['name'] or s['storey_id']} (level {s['level_index']})",
                                "value": s["storey_id"],
                            }
                            for s in storeys
                        ],
                        value="",
                        clearable=False,
                    ),
                    dcc.Checklist(
                        id="building-spaces", options=[{"label": " show spaces (rooms)", "value": "yes"}], value=[]
                    ),
                    html.Div(id="building-element", style={"marginTop": "1em"}),
                ],
                className="controls",
            ),
            html.Div(
                dcc.Graph(
                    id="building-graph", className="graph", style={"height": "100%"}, config={"displaylogo": False}
                ),
                className="main",
            ),
            html.Div(_facts(ctx, building_id, model_id), id="building-facts", className="panel"),
            dcc.Store(id="building-id", data=model_id),
            dcc.Store(id="building-clicked"),
            dcc.Store(id="building-evidence"),
        ],
        className="page",
    )


def _facts(ctx: AppContext, building_id: str, model_id: str) -> list[Any]:
    row = data.building_row(ctx.twin, model_id) or data.building_row(ctx.twin, building_id)
    if row is None:
        return [html.Div(f"No building {building_id} in the twin.", className="placeholder")]
    out: list[Any] = [
        html.H3(str(row["name"] or model_id), id="building-title"),
        facts_table(
            [
                ("id", model_id),
                ("use", fmt(row["use"])),
                ("construction year", fmt(row["construction_year"])),
                ("height", fmt(row["height_m"], "m")),
                ("storeys", fmt(row["storeys_above_ground"])),
                ("footprint", fmt(row["footprint_area_m2"], "m²")),
                ("source", fmt(row["source"])),
            ]
        ),
    ]
    facts = data.building_facts(ctx.twin, model_id)
    if facts:
        evidence = data.fact_evidence(ctx.twin, model_id)
        out += [
            html.Div("Facts from the IFC model", className="section-title"),
            facts_table(
                [(k.replace("_", " "), fmt(v)) for k, v in facts.items() if k != "building_id"],
                "building-facts-table",
            ),
        ]
        if evidence:
            out += [
                html.Div("Evidence in the model (click to highlight)", className="section-title"),
                html.Div(
                    [
                        html.Button(
                            f"{name.replace('_', ' ')} ({len(guids)})",
                            n_clicks=0,
                            className="secondary",
                            id={"type": "building-evidence", "fact": name},
                            style={"margin": "0 0.3em 0.3em 0"},
                        )
                        for name, guids in evidence.items()
                    ]
                ),
            ]
    out.append(html.Div("Reversibility criteria", className="section-title"))
    if data.has_table(ctx.twin, "res_reversibility"):
        rows = ctx.twin.query(
            "SELECT path, score FROM res_reversibility WHERE scenario_id = 0 AND building_id IN (?, ?) "
            "ORDER BY path",
            [model_id, building_id],
        ).to_pylist()
        out.append(
            facts_table([(r["path"], fmt(r["score"], "/100")) for r in rows])
            if rows
            else html.Div("No reversibility result for this building yet.", className="placeholder")
        )
    else:
        out.append(
            html.Div(
                "Not computed yet: the reversibility analysis (issue 7) writes res_reversibility; its "
                "criteria table, evidence highlighting and report download will show here.",
                className="placeholder",
            )
        )
    out.append(html.Div("Energy and retrofit options", className="section-title"))
    if data.has_table(ctx.twin, "res_energy"):
        rows = ctx.twin.query(
            "SELECT * FROM res_energy WHERE scenario_id = 0 AND building_id IN (?, ?)", [model_id, building_id]
        ).to_pylist()
        out.append(
            facts_table([(k.replace("_", " "), fmt(v)) for k, v in rows[0].items()])
            if rows
            else html.Div("No energy result for this building yet.", className="placeholder")
        )
    else:
        out.append(
            html.Div("Not computed yet: the energy analysis (issue 8) writes res_energy.", className="placeholder")
        )
    return out


def register(app: dash.Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("shell-url", "pathname", allow_duplicate=True),
        Input("building-picker", "value"),
        State("building-id", "data"),
        prevent_initial_call=True,
    )
    def pick(value: str | None, current: str | None) -> Any:
        if not value or value == current:
            return dash.no_update
        return f"/building/{value}"

    @app.callback(
        Output("building-graph", "figure"),
        Input("building-id", "data"),
        Input("building-colour", "value"),
        Input("building-storey", "value"),
        Input("building-spaces", "value"),
        Input("building-evidence", "data"),
    )
    def draw(
        model_id: str | None, mode: str, storey_id: str, spaces: list[str], evidence: dict[str, Any] | None
    ) -> Any:
        if not model_id:
            return dash.no_update
        elements = data.element_meshes(ctx.twin, [model_id], spaces=bool(spaces))
        if elements.num_rows == 0:
            return _footprint_only(ctx, model_id, data.scene_origin_of(ctx.twin))
        # the model's own origin: the axes read in metres from the model's corner
        origin = (float(elements.column("origin_x_m")[0].as_py()), float(elements.column("origin_y_m")[0].as_py()))
        mesh = element_mesh(elements, origin)
        if evidence and evidence.get("guids"):
            colouring = element_colouring(elements, "evidence", evidence=evidence["guids"])
            return building_figure(elements, mesh, colouring, storey_id=storey_id or None, uirevision=model_id)
        return building_figure(
            elements, mesh, element_colouring(elements, mode), storey_id=storey_id or None, uirevision=model_id
        )

    register_pick(app, "building-graph", "building-clicked")

    @app.callback(
        Output("building-evidence", "data"),
        Input({"type": "building-evidence", "fact": ALL}, "n_clicks"),
        Input("building-colour", "value"),
        State("building-id", "data"),
        prevent_initial_call=True,
    )
    def highlight(clicks: list[int | None], _mode: str, model_id: str | None) -> Any:
        trigger = callback_ctx.triggered_id
        if trigger == "building-colour":
            return None  # choosing a colouring ends the highlight
        if not isinstance(trigger, dict) or not any(clicks or []) or not model_id:
            return dash.no_update
        fact = str(trigger["fact"])
        return {"fact": fact, "guids": data.fact_evidence(ctx.twin, model_id).get(fact, [])}

    @app.callback(
        Output("building-element", "children"), Input("building-clicked", "data"), prevent_initial_call=True
    )
    def element(guid: str | None) -> Any:
        if not guid:
            return dash.no_update
        rows = ctx.twin.query(
            "SELECT ifc_guid, ifc_class, name, predefined_type, type_name, is_external, load_bearing, "
            "u_value_w_m2k, fire_rating FROM elements WHERE ifc_guid = ?",
            [guid],
        ).to_pylist()
        if not rows:
            space = ctx.twin.query("SELECT name, long_name, usage, area_m2 FROM spaces WHERE space_id = ?", [guid])
            if not space.num_rows:
                return dash.no_update
            return [
                html.Div("Space", className="section-title"),
                facts_table([(k.replace("_", " "), fmt(v)) for k, v in space.to_pylist()[0].items()]),
            ]
        return [
            html.Div("Element", className="section-title"),
            facts_table([(k.replace("_", " "), fmt(v)) for k, v in rows[0].items()], "building-element-facts"),
        ]


def _footprint_only(ctx: AppContext, building_id: str, origin: tuple[float, float]) -> Any:
    """A building without an IFC model: its extruded footprint, labelled as such."""
    b = data.district_buildings(ctx.twin)
    keep = np.array([x == building_id for x in b.column("building_id").to_pylist()], dtype=bool)
    if not keep.any():
        return dash.no_update
    sub = b.filter(keep)
    mesh = district_mesh(sub, data.element_meshes(ctx.twin, []), origin)
    colouring = category_colouring(
        ["footprint"], ["footprint"], {"footprint": "#b0b7bf"}, "No IFC model: extruded GIS footprint"
    )
    fig = district_figure(sub, mesh, colouring, uirevision=building_id)
    return fig
