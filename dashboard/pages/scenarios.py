"""The Scenarios page: the stored scenarios, one shown (interventions, KPIs against the baseline, the décret
tertiaire pathway, its per-building deltas on the district), a YAML editor validated by ``scenarios/spec.py``,
save / run / delete for planners (refused on the server to other roles), and up to four scenarios compared."""

from __future__ import annotations

import json
from typing import Any, get_args

import dash
from dash import Input, Output, State, dcc, html

from dashboard import scenario_data
from dashboard.auth import allowed
from dashboard.context import AppContext
from dashboard.figures.district import district_figure
from dashboard.figures.scenarios import (
    MAX_COMPARED,
    delta_colouring,
    kpi_bars,
    kpi_table_rows,
    pathway_figure,
)
from dashboard.pages.common import fmt
from dashboard.pick import register_pick
from scenarios.spec import Use
from twin.errors import TwinError

__all__ = ["MENU_PATH", "PATH", "TITLE", "layout", "register", "run_text", "save_text"]

PATH = "/scenarios"
MENU_PATH = "/scenarios"
TITLE = "Scenarios"
DEFAULT_EXAMPLE = "convert-1972-office.yaml"
_MAP_KPIS = {
    "dwellings_delta": ("dwellings added", "dwellings", False),
    "dpe_gain": ("DPE classes gained", "classes", False),
    "capex_eur": ("capex", "EUR", True),
}
_SOURCE = "editor"


def _template_options(ctx: AppContext) -> list[dict[str, str]]:
    options = [{"label": f"example: {n}", "value": f"example:{n}"} for n in scenario_data.example_files()]
    options += [
        {"label": f"stored: {r['name']}{' (draft)' if r['draft'] else ''}", "value": f"stored:{r['name']}"}
        for r in scenario_data.list_stored(ctx.twin)
    ]
    return options


def _name_options(rows: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Options of the 'show' dropdown (every stored scenario) and of the 'compare' one (those that were run)."""
    names = [{"label": r["name"] + (" (draft)" if r["draft"] else ""), "value": r["name"]} for r in rows]
    ran = [{"label": r["name"], "value": r["name"]} for r in rows if not r["draft"]]
    return names, ran


def _template_text(ctx: AppContext, value: str | None) -> str:
    if not value:
        return ""
    kind, _, name = value.partition(":")
    if kind == "example":
        path = scenario_data.example_files().get(name)
        return path.read_text(encoding="utf-8") if path else ""
    return scenario_data.spec_yaml(ctx.twin, name)


def layout(ctx: AppContext, **params: str) -> html.Div:
    user = ctx.user()
    can_edit = bool(user and allowed(user.role, "edit_scenario"))
    examples = scenario_data.example_files()
    start = f"example:{DEFAULT_EXAMPLE}" if DEFAULT_EXAMPLE in examples else None
    stored = scenario_data.list_stored(ctx.twin)
    names, ran = _name_options(stored)
    return html.Div(
        [
            html.Div(
                [
                    html.H3("Scenarios"),
                    html.Div(id="scenarios-list"),
                    html.Label("Show"),
                    dcc.Dropdown(
                        id="scenarios-pick",
                        options=names,
                        value=params.get("name"),
                        placeholder="a stored scenario",
                    ),
                    html.Label(f"Compare (up to {MAX_COMPARED})"),
                    dcc.Dropdown(
                        id="scenarios-compare", options=ran, multi=True, placeholder="scenarios to compare"
                    ),
                    html.H3("Edit"),
                    html.Div(
                        "Planners save, run and delete scenarios."
                        if can_edit
                        else "Only planners save, run or delete scenarios; the server refuses it to other roles.",
                        className="note",
                    ),
                    dcc.Dropdown(
                        id="scenarios-template",
                        options=_template_options(ctx),
                        value=start,
                        placeholder="start from",
                        clearable=False,
                    ),
                    dcc.Textarea(
                        id="scenarios-yaml",
                        value=_template_text(ctx, start),
                        spellCheck=False,
                        style={"width": "100%", "height": "16em", "fontFamily": "monospace", "fontSize": "12px"},
                    ),
                    dcc.Checklist(
                        id="scenarios-replace",
                        options=[{"label": " replace a scenario already run", "value": "replace"}],
                        value=[],
                    ),
                    html.Div(
                        [
                            html.Button("Validate", id="scenarios-validate", n_clicks=0),
                            html.Button("Save", id="scenarios-save", n_clicks=0),
                            html.Button("Run", id="scenarios-run", n_clicks=0),
                            html.Button("Delete shown", id="scenarios-delete", n_clicks=0),
                        ],
                        className="buttons",
                    ),
                    dcc.Loading(html.Div(id="scenarios-message"), type="dot"),
                    _form(),
                ],
                className="controls",
                style={"overflowY": "auto"},
            ),
            html.Div(
                [
                    html.Div(id="scenarios-show"),
                    html.H3("Comparison"),
                    html.Div(id="scenarios-compare-table"),
                    dcc.Graph(id="scenarios-bars", config={"displaylogo": False}),
                ],
                className="main",
            ),
            html.Div(
                [
                    html.Label("The shown scenario's changes per building", className="section-title"),
                    dcc.RadioItems(
                        id="scenarios-map-kpi",
                        options=[{"label": f" {v[0]}", "value": k} for k, v in _MAP_KPIS.items()],
                        value="dwellings_delta",
                        inline=True,
                    ),
                    dcc.Graph(
                        id="scenarios-map",
                        style={"height": "430px"},
                        config={"displaylogo": False, "scrollZoom": True},
                    ),
                    dcc.Graph(id="scenarios-pathway", config={"displaylogo": False}),
                ],
                className="panel",
            ),
            dcc.Store(id="scenarios-version", data=0),
            dcc.Store(id="scenarios-clicked"),
            dcc.Store(id="scenarios-picked", data=[]),
        ],
        className="page scenarios-page",
    )


def _packages() -> list[str]:
    from buildings.retrofit import load_catalogue

    try:
        return sorted(load_catalogue().packages)
    except TwinError:
        return []


def _form() -> html.Details:
    """The form helper: one change_use or retrofit for buildings picked by use and years, or clicked on the map."""
    uses = [{"label": u, "value": u} for u in get_args(Use)]
    half = {"width": "48%"}
    return html.Details(
        [
            html.Summary("Add an intervention with a form"),
            dcc.RadioItems(
                id="scenarios-form-kind",
                options=[
                    {"label": " change use", "value": "change_use"},
                    {"label": " retrofit", "value": "retrofit"},
                ],
                value="change_use",
                inline=True,
            ),
            html.Label("Buildings: by current use and construction years"),
            dcc.Dropdown(id="scenarios-form-use", options=uses, placeholder="current use"),
            html.Div(
                [
                    dcc.Input(
                        id="scenarios-form-from",
                        type="number",
                        placeholder="built from",
                        debounce=True,
                        style=half,
                    ),
                    dcc.Input(
                        id="scenarios-form-to", type="number", placeholder="built to", debounce=True, style=half
                    ),
                ]
            ),
            html.Div("or click them on the map (again to drop one)", className="note"),
            html.Div(id="scenarios-form-picked", className="note"),
            html.Label("New use (change use) or package (retrofit)"),
            dcc.Dropdown(id="scenarios-form-new-use", options=uses, placeholder="new use"),
            dcc.Dropdown(id="scenarios-form-package", options=_packages(), placeholder="retrofit package"),
            html.Label("Year"),
            dcc.Input(id="scenarios-form-year", type="number", value=2027, debounce=True),
            html.Div(
                [
                    html.Button("Add to the file", id="scenarios-form-add", n_clicks=0),
                    html.Button("Clear picked", id="scenarios-form-clear", n_clicks=0),
                ],
                className="buttons",
            ),
            html.Div(id="scenarios-form-message"),
        ],
        className="form-helper",
    )


def save_text(ctx: AppContext, text: str) -> str:
    """Validate the editor's text and store it as a draft: planners only, refused on the server otherwise."""
    from scenarios.spec import parse_scenario

    ctx.require("edit_scenario")
    loaded = parse_scenario(text, _SOURCE)
    saved = scenario_data.save_draft(ctx.twin, loaded, text)
    return f"Saved draft '{saved['name']}' (id {saved['scenario_id']}); run it to get its KPIs."


def run_text(ctx: AppContext, text: str, replace: bool = False) -> dict[str, Any]:
    """Validate and run the editor's text through :func:`scenarios.store.run_scenario`, as ``twin scenario run``
    does (one transaction: nothing is written if it fails). A saved draft of the same name is replaced."""
    from scenarios.spec import parse_scenario
    from scenarios.store import run_scenario
    from twin.commands.scenarios import _climate

    ctx.require("edit_scenario")
    ctx.require("run_scenario")
    loaded = parse_scenario(text, _SOURCE)
    draft = scenario_data.is_draft(ctx.twin, loaded.scenario.name)
    return run_scenario(ctx.twin, loaded, _climate(ctx.twin, None), replace=replace or bool(draft))


def _delete(ctx: AppContext, name: str | None) -> str:
    from scenarios.store import delete_scenario

    ctx.require("edit_scenario")
    if not name:
        raise TwinError("no scenario is shown", "pick the scenario to delete under 'Show'")
    gone = delete_scenario(ctx.twin, name)
    return f"Deleted scenario {gone['scenario_id']} '{gone['name']}'."


def _problem(exc: TwinError) -> html.Div:
    from dashboard.auth import PermissionDenied

    refused = isinstance(exc, PermissionDenied)
    return html.Div(
        [html.B(exc.message), html.Div(exc.hint, className="note") if exc.hint else None],
        id="scenarios-refused" if refused else "scenarios-error",
        className="refused" if refused else "error",
    )


def _list_table(rows: list[dict[str, Any]]) -> Any:
    if not rows:
        return html.Div("No scenario stored yet: edit one below and run it.", className="note")
    head = html.Tr([html.Th(h) for h in ("name", "description", "created", "last run", "changed")])
    body = [
        html.Tr(
            [
                html.Td(r["name"]),
                html.Td(r["description"] or ""),
                html.Td(str(r["created_at"])[:16]),
                html.Td("not run (draft)" if r["draft"] else str(r["created_at"])[:16]),
                html.Td("" if r["draft"] else _plural(r["buildings_changed"], "building")),
            ]
        )
        for r in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="facts", id="scenarios-list-table")


def _signed(value: float) -> str:
    """A delta for people: a sign, thousands separators, no exponent.

    >>> _signed(107837.2), _signed(-2.456), _signed(0.0)
    ('+107,837', '-2.456', '+0')
    """
    return f"{value:+,.0f}" if abs(value) >= 1000 or value == 0 else f"{value:+,.4g}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _delta_cell(delta: float | None, sense: str) -> html.Td:
    return html.Td("unknown" if delta is None else _signed(delta), className=f"delta {sense}")


def _kpi_table(rows: list[dict[str, Any]], names: list[str], table_id: str) -> html.Table:
    head = [html.Th("KPI"), html.Th("unit"), html.Th("baseline")]
    for n in names:
        head += [html.Th(n), html.Th("Δ")]
    body = []
    for r in rows:
        cells = [html.Td(r["kpi"]), html.Td(r["unit"] or ""), html.Td(fmt(r["baseline"]))]
        for n in names:
            cells += [html.Td(fmt(r["values"][n])), _delta_cell(r["deltas"][n], r["sense"][n])]
        body.append(html.Tr(cells, id=f"{table_id}-{r['kpi']}"))
    return html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="facts", id=table_id)


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None and v is not False and v != []}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _interventions(spec: dict[str, Any]) -> html.Ul:
    items = []
    for i, item in enumerate(spec.get("interventions") or []):
        kind = next((k for k, v in item.items() if k != "year" and v is not None), "?")
        body = json.dumps(_compact(item.get(kind)), ensure_ascii=False, default=str)
        items.append(html.Li([html.B(f"{i + 1}. {kind}"), f" in {item.get('year')}: ", html.Code(body)]))
    return html.Ul(items or [html.Li("no intervention")], className="interventions")


def _water(checks: list[dict[str, Any]]) -> Any:
    if not checks:
        return None

    def flags(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
        return ", ".join(map(str, value or [])) or "none"

    items = [
        html.Li(
            f"{w['network_id']}: +{fmt(w.get('added_demand_l_s'), 'L/s')} at peak; minimum pressure "
            f"{fmt(w.get('min_pressure_m_before'), 'm')} -> {fmt(w.get('min_pressure_m_after'), 'm')}; flags "
            f"{flags(w.get('flags_before'))} -> {flags(w.get('flags_after'))}"
        )
        for w in checks
        if isinstance(w, dict) and "network_id" in w
    ]
    return html.Div([html.H4("Water network check"), html.Ul(items)]) if items else None


def _show(ctx: AppContext, name: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """The shown scenario's description, interventions, KPI table and verdicts; and its pathway rows."""
    from scenarios.store import compare_scenarios, show_scenario

    if scenario_data.is_draft(ctx.twin, name):
        note = html.Div("Not run yet: run it to get its KPIs.", className="note")
        return [html.H3(f"{name} (draft)", id="scenarios-show-title"), note], []
    shown = show_scenario(ctx.twin, name)
    rows = kpi_table_rows(compare_scenarios(ctx.twin, [name]), [name])
    feas = shown["feasibility"]
    return [
        html.H3(f"{shown['name']}", id="scenarios-show-title"),
        html.Div(shown["spec"].get("description") or "", className="note"),
        html.H4("Interventions"),
        _interventions(shown["spec"]),
        html.H4(f"KPIs at the horizon ({max((r['year'] for r in shown['pathway']), default='?')})"),
        _kpi_table(rows, [name], "scenarios-show-kpis"),
        html.H4("Use changes") if feas else None,
        html.Ul([html.Li(f"{f['building_id']} {f['path']}: {f['reason']}") for f in feas]) if feas else None,
        _water(shown["spec"].get("x_water_check") or []),
    ], shown["pathway"]


def _delta_map(ctx: AppContext, name: str | None, kpi: str) -> Any:
    from dashboard.pages.district import scene

    s = scene(ctx)
    buildings = s["buildings"]
    ids = buildings.column("building_id").to_pylist()
    values: list[float | None] = [0.0] * len(ids)
    label, unit, decrease_good = _MAP_KPIS.get(kpi, _MAP_KPIS["dwellings_delta"])
    if name and not scenario_data.is_draft(ctx.twin, name):
        row_of = {b: k for k, b in enumerate(ids)}
        for r in scenario_data.building_deltas(ctx.twin, name).to_pylist():
            k = row_of.get(r["building_id"])
            if k is not None:
                values[k] = r[kpi]
    colouring = delta_colouring(values, label, unit, decrease_is_good=decrease_good)
    fig = district_figure(buildings, s["mesh"], colouring, uirevision="scenarios")
    return fig


def register(app: dash.Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("scenarios-message", "children"),
        Output("scenarios-version", "data"),
        Output("scenarios-pick", "value"),
        Output("scenarios-pick", "options"),
        Input("scenarios-validate", "n_clicks"),
        Input("scenarios-save", "n_clicks"),
        Input("scenarios-run", "n_clicks"),
        Input("scenarios-delete", "n_clicks"),
        State("scenarios-yaml", "value"),
        State("scenarios-replace", "value"),
        State("scenarios-pick", "value"),
        State("scenarios-version", "data"),
        prevent_initial_call=True,
    )
    def act(
        _v: int,
        _s: int,
        _r: int,
        _d: int,
        text: str | None,
        replace: list[str] | None,
        shown: str | None,
        version: int | None,
    ) -> tuple[Any, Any, Any, Any]:
        from scenarios.spec import parse_scenario

        action = dash.ctx.triggered_id
        keep = dash.no_update
        try:
            if action == "scenarios-validate":
                loaded = parse_scenario(text or "", _SOURCE)
                n = len(loaded.scenario.interventions)
                valid = f"'{loaded.scenario.name}' is valid: {n} interventions."
                return html.Div(valid, id="scenarios-valid"), keep, keep, keep
            if action == "scenarios-save":
                message = html.Div(save_text(ctx, text or ""), id="scenarios-saved")
                pick: Any = keep
            elif action == "scenarios-run":
                done = run_text(ctx, text or "", bool(replace))
                added = (done["totals"].get("dwellings") or 0) - (done["baseline"].get("dwellings") or 0)
                message = html.Div(
                    f"Ran scenario {done['scenario_id']} '{done['name']}': {done['overlay_buildings']} buildings "
                    f"changed, {added:+,.0f} dwellings.",
                    id="scenarios-ran",
                )
                pick = done["name"]
            elif action == "scenarios-delete":
                message = html.Div(_delete(ctx, shown), id="scenarios-deleted")
                pick = None
            else:
                return keep, keep, keep, keep
        except TwinError as exc:
            return _problem(exc), keep, keep, keep
        # the options change with the value, in one response: a value missing from its options is dropped
        return message, (version or 0) + 1, pick, _name_options(scenario_data.list_stored(ctx.twin))[0]

    @app.callback(
        Output("scenarios-list", "children"),
        Output("scenarios-compare", "options"),
        Output("scenarios-template", "options"),
        Input("scenarios-version", "data"),
    )
    def listing(_version: int) -> tuple[Any, Any, Any]:
        rows = scenario_data.list_stored(ctx.twin)
        return _list_table(rows), _name_options(rows)[1], _template_options(ctx)

    register_pick(app, "scenarios-map", "scenarios-clicked")

    @app.callback(
        Output("scenarios-picked", "data"),
        Output("scenarios-form-picked", "children"),
        Input("scenarios-clicked", "data"),
        Input("scenarios-form-clear", "n_clicks"),
        State("scenarios-picked", "data"),
        prevent_initial_call=True,
    )
    def picked(clicked: str | None, _clear: int, ids: list[str] | None) -> tuple[Any, Any]:
        ids = list(ids or [])
        if dash.ctx.triggered_id == "scenarios-form-clear":
            ids = []
        elif clicked:
            ids = [i for i in ids if i != clicked] if clicked in ids else [*ids, clicked]
        return ids, (f"picked: {', '.join(ids)}" if ids else "")

    @app.callback(
        Output("scenarios-yaml", "value", allow_duplicate=True),
        Output("scenarios-form-message", "children"),
        Input("scenarios-form-add", "n_clicks"),
        State("scenarios-yaml", "value"),
        State("scenarios-form-kind", "value"),
        State("scenarios-picked", "data"),
        State("scenarios-form-use", "value"),
        State("scenarios-form-from", "value"),
        State("scenarios-form-to", "value"),
        State("scenarios-form-new-use", "value"),
        State("scenarios-form-package", "value"),
        State("scenarios-form-year", "value"),
        prevent_initial_call=True,
    )
    def add(
        _n: int,
        text: str | None,
        kind: str,
        ids: list[str] | None,
        use: str | None,
        built_from: int | None,
        built_to: int | None,
        new_use: str | None,
        package: str | None,
        year: int | None,
    ) -> tuple[Any, Any]:
        try:
            out = scenario_data.add_intervention(
                text or "", kind, int(year or 2027), ids=ids, use=use, built_from=built_from, built_to=built_to,
                to_use=new_use, package=package,
            )  # fmt: skip
        except TwinError as exc:
            return dash.no_update, _problem(exc)
        return out, html.Div("Added: validate, save or run the file.", id="scenarios-form-added", className="note")

    @app.callback(
        Output("scenarios-yaml", "value"),
        Input("scenarios-template", "value"),
        prevent_initial_call=True,
    )
    def template(value: str | None) -> Any:
        if not value:
            return dash.no_update
        try:
            return _template_text(ctx, value)
        except TwinError:
            return dash.no_update

    @app.callback(
        Output("scenarios-show", "children"),
        Output("scenarios-map", "figure"),
        Output("scenarios-pathway", "figure"),
        Input("scenarios-pick", "value"),
        Input("scenarios-map-kpi", "value"),
        Input("scenarios-version", "data"),
    )
    def show(name: str | None, kpi: str, _version: int) -> tuple[Any, Any, Any]:
        pathway: list[dict[str, Any]] = []
        try:
            if name:
                body, pathway = _show(ctx, name)
            else:
                body = [html.Div("Pick a scenario to show it, or run one.", className="note")]
        except TwinError as exc:
            body, name = [_problem(exc)], None
        return body, _delta_map(ctx, name, kpi), pathway_figure(pathway)

    @app.callback(
        Output("scenarios-compare-table", "children"),
        Output("scenarios-bars", "figure"),
        Input("scenarios-compare", "value"),
        Input("scenarios-version", "data"),
    )
    def compare(names: list[str] | None, _version: int) -> tuple[Any, Any]:
        from scenarios.store import compare_scenarios

        stored = {r["name"] for r in scenario_data.list_stored(ctx.twin) if not r["draft"]}
        chosen = [n for n in (names or []) if n in stored]
        note = None
        if len(chosen) > MAX_COMPARED:
            note = html.Div(f"Only the first {MAX_COMPARED} are compared.", className="note")
            chosen = chosen[:MAX_COMPARED]
        if not chosen:
            return html.Div("Pick up to four scenarios to compare.", className="note"), kpi_bars([], [])
        rows = kpi_table_rows(compare_scenarios(ctx.twin, chosen), chosen)
        bars = [r for r in rows if r["kpi"] in ("final_kwh", "co2_t", "capex_cumulative_eur", "npv_eur",
                                                "dwellings", "pupils")]  # fmt: skip
        return [note, _kpi_table(rows, chosen, "scenarios-compare-kpis")], kpi_bars(bars, chosen)
