"""Building page: the IFC model in 3D coloured by class or by a reversibility-relevant flag, one storey at a
time, the facts; the reversibility criteria and energy results appear when their analyses have run."""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dash import ALL, Input, Output, State, dcc, html
from dash import ctx as callback_ctx
from dash.exceptions import PreventUpdate

from dashboard import data
from dashboard.auth import PermissionDenied
from dashboard.context import AppContext
from dashboard.figures.building import COLOUR_MODES, building_figure, element_colouring, element_mesh
from dashboard.figures.colour import category_colouring
from dashboard.figures.district import district_figure, district_mesh
from dashboard.figures.energy import assumption_rows, energy_rows, monthly_need_figure, retrofit_rows
from dashboard.figures.reversibility import criteria_rows, criteria_table, summary_rows, verdict
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
    page = html.Div(
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
                    html.Div(id="building-highlight", className="note", style={"marginTop": "1em"}),
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
    section, criteria = _reversibility_section(ctx, model_id, building_id)
    analysis = html.Div(
        [
            html.Div(section, id="building-reversibility", className="panel"),
            html.Div(_energy_section(ctx, model_id, building_id), id="building-energy", className="panel"),
            # the evidence of criteria row i, read by the highlight callback
            dcc.Store(id="building-criteria-rows", data=criteria),
            dcc.Loading(dcc.Download(id="building-study"), type="dot"),  # the study takes a few seconds
        ],
        className="building-analysis",
    )
    return html.Div([page, analysis])


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
    results = data.reversibility_results(ctx.twin, _ids(model_id, building_id))
    out.append(html.Div("Reversibility (details below the model)", className="section-title"))
    out.append(
        facts_table([(r["path"], f"{fmt(r['score'], '/100')} · {verdict(r['convertible'])}") for r in results])
        if results
        else html.Div("Not assessed yet (see below).", className="placeholder")
    )
    return out


def _ids(model_id: str, building_id: str) -> list[str]:
    return [model_id] if model_id == building_id else [model_id, building_id]


def _reversibility_section(
    ctx: AppContext, model_id: str, building_id: str, path: str | None = None, message: Any = None
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Path selector, summary, criteria table and the study download; or the command that computes them."""
    out: list[Any] = [html.H3("Reversibility: can this building change use?")]
    if message is not None:
        out.append(message)
    results = data.reversibility_results(ctx.twin, _ids(model_id, building_id))
    if not results:
        out += [
            html.Div(
                [
                    "Not assessed yet: no reversibility result is stored for this building. Compute it with ",
                    html.Code(f"twin assess reversibility --building {model_id}"),
                    " (or every building: twin assess reversibility).",
                ],
                className="placeholder",
                id="building-reversibility-missing",
            ),
            html.Button("Assess now", id="building-assess", n_clicks=0, title="planners and architects"),
        ]
        return out, []
    paths = [str(r["path"]) for r in results]
    use = (data.building_row(ctx.twin, model_id) or {}).get("use")
    own = [p for p in paths if use and p.startswith(f"{use}->")]  # the path of the building's own use first
    chosen = path if path in paths else (own or paths)[0]
    result = next(r for r in results if r["path"] == chosen)
    out += [
        html.Div(
            [
                html.Label("Conversion path", htmlFor="building-path", style={"fontWeight": 600}),
                dcc.Dropdown(
                    id="building-path",
                    options=[
                        {"label": f"{p} ({verdict(r['convertible'])})", "value": p}
                        for p, r in zip(paths, results, strict=True)
                    ],
                    value=chosen,
                    clearable=False,
                    style={"minWidth": "22em"},
                ),
                html.Button("Download the reversibility study", id="building-study-button", n_clicks=0),
                html.Button("Assess again", id="building-assess", n_clicks=0, className="secondary"),
            ],
            className="toolbar",
        ),
    ]
    view, rows = _criteria_view(ctx, str(result["building_id"]), result)
    out.append(html.Div(view, id="building-criteria"))
    return out, rows


def _criteria_view(
    ctx: AppContext, building_id: str, result: dict[str, Any], storey_id: str | None = None
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Summary and criteria of one path: building-level criteria and those of every storey, or of the one
    storey isolated in the model."""
    criteria = data.reversibility_criteria(ctx.twin, building_id, str(result["path"]))
    if storey_id:
        criteria = [c for c in criteria if c.get("storey_id") in (None, storey_id)]
    names = {
        str(c["storey_id"]): str(c["storey_name"]) for c in criteria if c.get("storey_id") and c.get("storey_name")
    }
    rows = criteria_rows(
        criteria, names, data.mesh_ids(ctx.twin, building_id) if result["route"] == "ifc" else None
    )
    view = [
        html.Div(
            [
                html.Div(facts_table(summary_rows(result), "building-reversibility-summary"), className="summary"),
                html.Div(
                    [
                        html.Div(
                            f"{len(rows)} criteria, {result['route']} route, rules {result['rules_version']}; "
                            "click a row with evidence to highlight its elements in the model above.",
                            className="note",
                        ),
                        criteria_table(rows),
                    ],
                    className="criteria-box",
                ),
            ],
            className="reversibility-grid",
        ),
    ]
    return view, [{"label": r["criterion"], "guids": r["evidence"]} for r in rows]


def _energy_section(ctx: AppContext, model_id: str, building_id: str) -> list[Any]:
    out: list[Any] = [html.H3("Energy and retrofit options")]
    row = data.energy_result(ctx.twin, _ids(model_id, building_id))
    if row is None:
        out.append(
            html.Div(
                [
                    "Not computed yet: no energy result is stored for this building. Compute it with ",
                    html.Code(f"twin assess energy --building {model_id} --weather FILE.epw"),
                    " (a year of hourly weather of the nearest station), then ",
                    html.Code(f"twin retrofit {model_id} --package envelope"),
                    " for the retrofit options.",
                ],
                className="placeholder",
                id="building-energy-missing",
            )
        )
        return out
    out.append(facts_table(energy_rows(row), "building-energy-table"))
    if row.get("status") == "ok":
        out += [
            html.Div("Monthly need", className="section-title"),
            dcc.Graph(
                id="building-energy-monthly",
                figure=monthly_need_figure(
                    row.get("heating_need_monthly_kwh"), row.get("cooling_need_monthly_kwh")
                ),
                config={"displaylogo": False, "displayModeBar": False},
            ),
        ]
    assumptions = assumption_rows(row.get("assumptions"))
    if assumptions:
        out.append(html.Details([html.Summary("Assumptions"), facts_table(assumptions)]))
    options = retrofit_rows(data.retrofit_options(ctx.twin, str(row["building_id"])))
    out.append(html.Div("Retrofit options (quickest payback first)", className="section-title"))
    if not options:
        out.append(
            html.Div(
                [
                    "No retrofit option stored: compute them with ",
                    html.Code(f"twin retrofit {model_id} --package envelope"),
                    ".",
                ],
                className="placeholder",
            )
        )
        return out
    cols = [("measure", "measure"), ("saved_kwh", "saved"), ("saved_eur", "saved €"), ("capex", "capex"),
            ("payback", "payback"), ("npv", "NPV"), ("dpe_after", "DPE after")]  # fmt: skip
    out.append(
        html.Table(
            [
                html.Thead(html.Tr([html.Th(label) for _, label in cols])),
                html.Tbody([html.Tr([html.Td(o[k]) for k, _ in cols], title=o["status"]) for o in options]),
            ],
            className="facts",
            id="building-retrofit-table",
        )
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
        guids = (evidence or {}).get("guids") or []
        elements = data.element_meshes(ctx.twin, [model_id], spaces=bool(spaces) or bool(guids))
        if guids and not spaces:  # evidence spaces (rooms) show even when spaces are hidden; other rooms do not
            keep = pc.or_(
                pc.not_equal(elements["ifc_class"], "IfcSpace"), pc.is_in(elements["ifc_guid"], pa.array(guids))
            )
            elements = elements.filter(keep)
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
        Input({"type": "building-criterion", "index": ALL}, "n_clicks"),
        Input("building-colour", "value"),
        State("building-id", "data"),
        State("building-criteria-rows", "data"),
        prevent_initial_call=True,
    )
    def highlight(
        clicks: list[int | None],
        criterion_clicks: list[int | None],
        _mode: str,
        model_id: str | None,
        criteria: list[dict[str, Any]] | None,
    ) -> Any:
        trigger = callback_ctx.triggered_id
        if trigger == "building-colour":
            return None  # choosing a colouring ends the highlight
        if not isinstance(trigger, dict) or not model_id:
            return dash.no_update
        if trigger.get("type") == "building-criterion":
            index = int(trigger["index"])
            if not any(criterion_clicks or []) or not criteria or index >= len(criteria):
                return dash.no_update
            return {"criterion": criteria[index]["label"], "guids": criteria[index]["guids"]}
        if not any(clicks or []):
            return dash.no_update
        fact = str(trigger["fact"])
        return {"fact": fact, "guids": data.fact_evidence(ctx.twin, model_id).get(fact, [])}

    @app.callback(Output("building-highlight", "children"), Input("building-evidence", "data"))
    def say_highlight(evidence: dict[str, Any] | None) -> Any:
        if not evidence:
            return None
        what = evidence.get("criterion") or str(evidence.get("fact", "")).replace("_", " ")
        n = len(evidence.get("guids") or [])
        return f"Highlighted in red: {n} evidence element{'s' if n != 1 else ''} of {what}."

    @app.callback(
        Output("building-criteria", "children"),
        Output("building-criteria-rows", "data", allow_duplicate=True),
        Input("building-path", "value"),
        Input("building-storey", "value"),
        State("building-id", "data"),
        State("shell-url", "pathname"),
        prevent_initial_call=True,
    )
    def choose_path(path: str | None, storey_id: str | None, model_id: str | None, pathname: str | None) -> Any:
        if not path or not model_id:
            raise PreventUpdate
        building_id = _url_building(pathname) or model_id
        result = next(
            (r for r in data.reversibility_results(ctx.twin, _ids(model_id, building_id)) if r["path"] == path),
            None,
        )
        if result is None:
            raise PreventUpdate
        return _criteria_view(ctx, str(result["building_id"]), result, storey_id or None)

    @app.callback(
        Output("building-study", "data"),
        Input("building-study-button", "n_clicks"),
        State("building-id", "data"),
        prevent_initial_call=True,
    )
    def download(n: int | None, model_id: str | None) -> Any:
        if not n or not model_id:
            return dash.no_update
        html_text = data.reversibility_study(ctx.twin, model_id)
        if html_text is None:
            return dash.no_update
        return {"content": html_text, "filename": f"reversibility-{model_id}.html", "type": "text/html"}

    @app.callback(
        Output("building-reversibility", "children"),
        Output("building-criteria-rows", "data", allow_duplicate=True),
        Input("building-assess", "n_clicks"),
        State("building-id", "data"),
        State("shell-url", "pathname"),
        prevent_initial_call=True,
    )
    def assess_now(n: int | None, model_id: str | None, pathname: str | None) -> Any:
        if not n or not model_id:
            raise PreventUpdate
        building_id = _url_building(pathname) or model_id
        try:
            ctx.require("assess_building")
        except PermissionDenied as exc:
            message = html.Div(exc.message, className="refused", id="building-refused")
            return _reversibility_section(ctx, model_id, building_id, None, message)
        from buildings.reversibility_store import assess_twin

        assess_twin(ctx.twin, building_ids=[model_id])  # stores through twin.write(): all or nothing
        done = html.Div("Assessed now with the default rules.", className="ok", id="building-assessed")
        return _reversibility_section(ctx, model_id, building_id, None, done)

    @app.callback(
        Output("building-element", "children"), Input("building-clicked", "data"), prevent_initial_call=True
    )
    def element(guid: str | None) -> Any:
        if not guid:
            raise PreventUpdate
        rows = ctx.twin.query(
            "SELECT ifc_guid, ifc_class, name, predefined_type, type_name, is_external, load_bearing, "
            "u_value_w_m2k, fire_rating FROM elements WHERE ifc_guid = ?",
            [guid],
        ).to_pylist()
        if not rows:
            space = ctx.twin.query("SELECT name, long_name, usage, area_m2 FROM spaces WHERE space_id = ?", [guid])
            if not space.num_rows:
                raise PreventUpdate
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


def _url_building(pathname: str | None) -> str | None:
    """The building id of a /building/<id> address (None for /building).

    >>> _url_building("/building/abc"), _url_building("/building")
    ('abc', None)
    """
    if not pathname or not pathname.startswith(f"{PATH}/"):
        return None
    from urllib.parse import unquote

    return unquote(pathname[len(PATH) + 1 :]) or None
