"""The Scenarios page without a browser: its figure builders (KPI rows and deltas, bars, delta colours), its
drafts, and the server refusing a save, a run or a delete to other roles than planner with nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.app import create_app
from dashboard.auth import UsersFile, users_file_for
from dashboard.figures.scenarios import BAD, GOOD, delta_colouring, kpi_bars, kpi_table_rows
from dashboard.scenario_data import list_stored, save_draft, spec_yaml
from scenarios.spec import parse_scenario
from twin import Twin
from twin.errors import TwinError

PASSWORD = "s3cret-enough"
TINY = """name: tiny-plan  # a comment the draft keeps
description: one conversion
interventions:
  - change_use:
      select: {use: office, built_to: 1975}
      from: office
      to: housing
    year: 2027
"""


def comparison() -> pa.Table:
    return pa.table(
        {
            "kpi": ["dwellings", "co2_t", "npv_eur", "zzz_other"],
            "unit": ["dwellings", "tCO2e/yr", "EUR", None],
            "baseline": [100.0, 50.0, 0.0, None],
            "a": [112.0, 48.0, -3.0, 1.0],
            "a - baseline": [12.0, -2.0, -3.0, None],
            "b": [100.0, 55.0, 0.0, 2.0],
            "b - baseline": [0.0, 5.0, 0.0, None],
        }
    )


def test_kpi_rows_give_each_scenarios_value_delta_and_whether_it_is_an_improvement() -> None:
    rows = kpi_table_rows(comparison(), ["a", "b"])
    assert [r["kpi"] for r in rows] == ["co2_t", "npv_eur", "dwellings", "zzz_other"]  # headline order first
    by = {r["kpi"]: r for r in rows}
    assert by["dwellings"]["deltas"] == {"a": 12.0, "b": 0.0}
    assert by["dwellings"]["sense"] == {"a": "better", "b": "same"}
    assert by["co2_t"]["sense"] == {"a": "better", "b": "worse"}  # less carbon is better
    assert by["zzz_other"]["baseline"] is None and by["zzz_other"]["sense"]["a"] == "unknown"
    assert [r["kpi"] for r in kpi_table_rows(comparison(), ["a"], kpis=["dwellings", "nope"])] == ["dwellings"]


def test_less_network_demand_is_better_and_a_class_count_that_moves_is_only_changed() -> None:
    t = pa.table(
        {
            "kpi": ["demand:power_lv", "dpe_D", "tertiary_subject"],
            "unit": [None] * 3,
            "baseline": [10.0, 3.0, 5.0],
            "a": [9.0, 4.0, 4.0],
            "a - baseline": [-1.0, 1.0, -1.0],
        }
    )
    sense = {r["kpi"]: r["sense"]["a"] for r in kpi_table_rows(t, ["a"])}
    assert sense == {"demand:power_lv": "better", "dpe_D": "changed", "tertiary_subject": "changed"}


@pytest.mark.parametrize("names", [["a"], ["a", "b"]])
def test_the_bars_have_one_trace_per_kpi_and_series_and_name_each_series_once(names: list[str]) -> None:
    rows = kpi_table_rows(comparison(), names)
    fig = kpi_bars(rows, names)
    assert len(fig.data) == len(rows) * (len(names) + 1)
    assert sorted(t.name for t in fig.data if t.showlegend) == sorted(["baseline", *names])
    unknown = [t for t in fig.data if t.name == "baseline" and len(t.y) == 0]
    assert len(unknown) == 1  # zzz_other has no baseline: left out, not drawn as zero


def test_an_empty_comparison_draws_an_empty_figure() -> None:
    assert len(kpi_bars([], []).data) == 0


@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=30), st.booleans())
def test_delta_colours_are_centred_on_no_change(values: list[float | None], decrease_is_good: bool) -> None:
    c = delta_colouring(values, "x", "u", decrease_is_good=decrease_is_good)
    assert c.cmin == -c.cmax and c.cmax > 0
    assert np.all(np.abs(c.code[~np.isnan(c.code)]) <= c.cmax)  # every value inside the scale
    assert [np.isnan(v) for v in c.code] == [v is None for v in values]
    assert c.colorscale[1] == [0.5, "#f7f7f7"]  # zero is neutral
    good_end = c.colorscale[0][1] if decrease_is_good else c.colorscale[-1][1]
    assert good_end == GOOD and BAD in (c.colorscale[0][1], c.colorscale[-1][1])


# ------------------------------------------------------------------------------------------ server side
@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    with Twin(tmp_path_factory.mktemp("scenpage") / "twin.duckdb") as opened:
        file = UsersFile(users_file_for(opened.path))
        for role in ("planner", "architect", "operator"):
            file.add(role, role, PASSWORD)
        yield opened


def login(client: Any, name: str) -> None:
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "next": "/scenarios"})
    assert answer.status_code == 302


def action_request(app: Any, button: str, text: str) -> dict[str, Any]:
    """The request the browser sends when ``button`` of the editor is clicked with ``text`` in it."""
    key = next(k for k in app.callback_map if "scenarios-message.children" in k)
    spec = app.callback_map[key]
    values = {
        "scenarios-yaml": text,
        "scenarios-replace": [],
        "scenarios-pick": "tiny-plan",
        "scenarios-version": 0,
    }

    def item(dep: dict[str, str]) -> dict[str, Any]:
        clicked = dep["id"] == button
        value = values.get(dep["id"], 1 if clicked else 0)
        return {"id": dep["id"], "property": dep["property"], "value": value}

    return {
        "output": key,
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")],
        "inputs": [item(d) for d in spec["inputs"]],
        "changedPropIds": [f"{button}.n_clicks"],
        "state": [item(d) for d in spec["state"]],
    }


def stored(twin: Twin) -> list[tuple[str, str]]:
    return [
        (r["name"], r["spec"]) for r in twin.query("SELECT name, spec::VARCHAR AS spec FROM scenarios").to_pylist()
    ]


@pytest.mark.parametrize("role", ["operator", "architect"])
@pytest.mark.parametrize("button", ["scenarios-save", "scenarios-run", "scenarios-delete"])
def test_the_server_refuses_saving_running_and_deleting_to_other_roles_and_writes_nothing(
    twin: Twin, role: str, button: str
) -> None:
    app = create_app(twin, users=UsersFile(users_file_for(twin.path)))
    client = app.server.test_client()
    login(client, role)
    before = stored(twin)
    answer = client.post("/_dash-update-component", json=action_request(app, button, TINY))
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert "scenarios-refused" in body and f"refused: {role} ({role})" in body
    assert stored(twin) == before


def test_a_planner_saves_a_draft_that_keeps_the_text_and_shows_in_the_list(twin: Twin) -> None:
    app = create_app(twin, users=UsersFile(users_file_for(twin.path)))
    client = app.server.test_client()
    login(client, "planner")
    answer = client.post("/_dash-update-component", json=action_request(app, "scenarios-save", TINY))
    assert "scenarios-saved" in answer.get_data(as_text=True)
    row = next(r for r in list_stored(twin) if r["name"] == "tiny-plan")
    assert row["draft"] and row["description"] == "one conversion" and row["horizon"] is None
    assert spec_yaml(twin, "tiny-plan") == TINY  # the planner's own text, comments kept
    # saving again updates the same draft; a bad file is refused with its line and field, nothing written
    save_draft(twin, parse_scenario(TINY.replace("one conversion", "edited"), "e"), TINY)
    assert [r["description"] for r in list_stored(twin) if r["name"] == "tiny-plan"] == ["edited"]
    before = stored(twin)
    bad = TINY.replace("year: 2027", "year: 2027\n    when: soon")
    answer = client.post("/_dash-update-component", json=action_request(app, "scenarios-save", bad))
    text = json.loads(answer.get_data(as_text=True))["response"]["scenarios-message"]["children"]
    message = json.dumps(text)
    assert "scenarios-error" in message and "line 9" in message and "unknown key 'when'" in message
    assert stored(twin) == before
    # and a planner deletes the shown one
    answer = client.post("/_dash-update-component", json=action_request(app, "scenarios-delete", TINY))
    assert "scenarios-deleted" in answer.get_data(as_text=True)
    assert [n for n, _ in stored(twin)] == ["baseline"]


def test_a_draft_never_overwrites_a_scenario_that_was_run(twin: Twin) -> None:
    with twin.write() as cur:
        cur.execute("INSERT INTO scenarios (name, spec, created_at) VALUES ('tiny-plan', '{}', now()::TIMESTAMP)")
    try:
        with pytest.raises(TwinError, match="has been run already"):
            save_draft(twin, parse_scenario(TINY, "e"), TINY)
        assert stored(twin)[-1] == ("tiny-plan", "{}")
    finally:
        with twin.write() as cur:
            cur.execute("DELETE FROM scenarios WHERE name = 'tiny-plan'")


def test_the_form_helper_appends_interventions_that_validate() -> None:
    from dashboard.scenario_data import add_intervention

    text = add_intervention(TINY, "retrofit", 2030, use="school", built_to=1990, package="envelope")
    text = add_intervention(text, "change_use", 2031, ids=["B1", "B2"], use="office", to_use="housing")
    loaded = parse_scenario(text, "form")
    assert [i.kind for i in loaded.scenario.interventions] == ["change_use", "retrofit", "change_use"]
    assert loaded.scenario.name == "tiny-plan" and loaded.scenario.interventions[-1].year == 2031
    last = loaded.scenario.interventions[-1].body
    assert last.select.ids == ["B1", "B2"] and last.select.use is None  # clicked buildings: the ids alone
    with pytest.raises(TwinError, match="no building is picked"):
        add_intervention(TINY, "retrofit", 2030, package="envelope")
    with pytest.raises(TwinError, match="package"):
        add_intervention(TINY, "retrofit", 2030, use="school")
    with pytest.raises(TwinError, match="not valid YAML"):
        add_intervention("name: [", "retrofit", 2030, use="school", package="envelope")


def test_at_most_four_scenarios_are_compared_with_their_deltas_to_the_baseline(twin: Twin) -> None:
    names = [f"plan-{k}" for k in range(5)]
    with twin.write() as cur:
        for k, name in enumerate(names):
            sid = cur.execute(
                "INSERT INTO scenarios (name, spec, created_at) VALUES (?, '{}', now()::TIMESTAMP) "
                "RETURNING scenario_id",
                [name],
            ).fetchone()[0]  # type: ignore[index]
            cur.execute(
                "INSERT INTO scenario_results VALUES (?, NULL, 'dwellings', 2050, ?, 'dwellings'), "
                "(?, NULL, 'baseline.dwellings', NULL, 100, 'dwellings')",
                [sid, 100.0 + k, sid],
            )
    try:
        app = create_app(twin, users=UsersFile(users_file_for(twin.path)))
        client = app.server.test_client()
        login(client, "architect")  # reading and comparing is open to every role
        key = next(k for k in app.callback_map if "scenarios-compare-table.children" in k)
        request = {
            "output": key,
            "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")],
            "inputs": [
                {"id": "scenarios-compare", "property": "value", "value": names},
                {"id": "scenarios-version", "property": "data", "value": 0},
            ],
            "changedPropIds": ["scenarios-compare.value"],
            "state": [],
        }
        answer = json.loads(client.post("/_dash-update-component", json=request).get_data(as_text=True))
        table = json.dumps(answer["response"]["scenarios-compare-table"]["children"])
        assert "Only the first 4 are compared" in table
        assert all(n in table for n in names[:4]) and "plan-4" not in table
        assert "+3" in table and "better" in table  # plan-3: 103 dwellings against 100
        bars = answer["response"]["scenarios-bars"]["figure"]["data"]
        assert len(bars) == 5  # one KPI (dwellings): the baseline and four scenarios
    finally:
        with twin.write() as cur:
            cur.execute("DELETE FROM scenario_results WHERE scenario_id > 0")
            cur.execute("DELETE FROM scenarios WHERE scenario_id > 0")
