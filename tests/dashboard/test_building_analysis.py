"""The reversibility and energy sections of the building page: the pure builders without a browser, and what the
demo twin's stored results give for its two offices."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from dashboard.figures.energy import energy_rows, monthly_need_figure, retrofit_rows
from dashboard.figures.reversibility import (
    STATUS_COLOURS,
    criteria_rows,
    criteria_table,
    evidence_ids,
    summary_rows,
)
from tests.conftest import shared_data


def _criterion(**over: Any) -> dict[str, Any]:
    row = {
        "storey_id": None,
        "criterion": "depth",
        "label": "Building depth",
        "value": 20.0,
        "unit": "m",
        "threshold": 13.0,
        "veto_threshold": 18.0,
        "source": "methods.md 1.2 row 1",
        "status": "fail",
        "weight": 3.0,
        "is_veto": True,
        "vetoed": True,
        "evidence": json.dumps({"ifc": ["g1", "g2"], "facts": ["depth_m"]}),
        "note": None,
    }
    row.update(over)
    return row


def test_each_criterion_gives_one_row_with_its_status_colour_and_its_evidence_ids() -> None:
    criteria = [
        _criterion(),
        _criterion(
            criterion="free_height",
            label="Free height",
            status="pass",
            is_veto=False,
            vetoed=None,
            storey_id="s1",
            evidence=json.dumps({"ifc": ["g3"]}),
        ),
        _criterion(
            criterion="loads",
            label="Design load",
            status="unknown",
            value=float("nan"),
            is_veto=False,
            vetoed=None,
            evidence=json.dumps({"gis": ["height"]}),
        ),
    ]
    rows = criteria_rows(criteria, {"s1": "Level 1"})
    assert [r["colour"] for r in rows] == [STATUS_COLOURS[s] for s in ("fail", "pass", "unknown")]
    assert [r["evidence"] for r in rows] == [["g1", "g2"], ["g3"], []]
    assert [r["storey"] for r in rows] == ["building", "Level 1", "building"]
    assert rows[0]["veto"] == "VETO" and rows[1]["veto"] == ""
    assert rows[2]["value"] == "unknown"  # NaN is unknown, not a number shown
    drawn = criteria_rows(criteria, {}, drawable={"g1", "g3"})  # g2 (a storey, say) has no mesh to highlight
    assert [(r["evidence"], r["evidence_other"]) for r in drawn] == [(["g1"], 1), (["g3"], 0), ([], 0)]
    table = criteria_table(rows)
    body = table.children[1].children
    assert len(body) == 3
    assert [tr.id for tr in body] == [{"type": "building-criterion", "index": i} for i in range(3)]
    assert [tr.className for tr in body] == ["criterion clickable", "criterion clickable", "criterion"]
    assert body[0].children[5].style["color"] == STATUS_COLOURS["fail"]


def test_the_summary_names_the_verdict_the_vetoes_and_unknown_yields() -> None:
    result = {
        "convertible": False,
        "score": 51.6,
        "score_max": 60.0,
        "coverage": 0.8,
        "route": "ifc",
        "vetoes": json.dumps(
            [{"criterion": "depth", "reason": "Building depth 20 m is above the veto value 18 m"}]
        ),
        "dwellings": 12.0,
        "cost_low_eur": 1.0e6,
        "cost_high_eur": 2.0e6,
        "carbon_kept_kgco2e": None,
    }
    rows = dict(summary_rows(result))
    assert rows["verdict"] == "not convertible"
    assert rows["veto"].startswith("Building depth 20 m")
    assert rows["dwellings"] == "12"
    assert rows["residents"] == "unknown" and rows["carbon kept"] == "unknown"
    assert rows["cost range"] == "1 – 2 M€"


def test_the_monthly_need_has_twelve_bars_and_no_cooling_trace_without_cooling() -> None:
    fig = monthly_need_figure([float(m) for m in range(12)], [0.0] * 12)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 1 and len(fig.data[0].y) == 12 and len(fig.data[0].x) == 12
    both = monthly_need_figure([1.0] * 12, [0.0] * 6 + [5.0] * 6)
    assert [t.name for t in both.data] == ["heating need", "cooling need"]


def test_an_unknown_energy_result_says_why_and_a_known_one_gives_both_dpe_criteria() -> None:
    assert energy_rows({"status": "unknown", "unknown_reason": "no floor area"}) == [
        ("status", "unknown: no floor area")
    ]
    rows = dict(
        energy_rows(
            {
                "status": "ok",
                "route": "ifc",
                "heating_need_kwh_m2": 120.0,
                "dpe_class": "E",
                "dpe_energy_class": "D",
                "dpe_climate_class": "E",
                "tertiary_subject": False,
            }
        )
    )
    assert rows["DPE class"] == "E (energy D, climate E)"
    assert rows["heating need"] == "120 kWh/m²·yr" and rows["cooling need"] == "unknown"
    assert rows["décret tertiaire"] == "not subject"


def test_retrofit_options_come_quickest_payback_first_with_unknown_paybacks_last() -> None:
    rows = retrofit_rows(
        [
            {"package": "envelope", "measure": "*", "simple_payback_yr": 25.0, "status": "ok"},
            {"package": "envelope", "measure": "roof", "simple_payback_yr": None, "status": "unknown"},
            {"package": "envelope", "measure": "windows", "simple_payback_yr": 7.5, "status": "ok"},
        ]
    )
    assert [r["measure"] for r in rows] == ["windows", "envelope", "roof"]
    assert rows[2]["payback"] == "unknown"


@pytest.fixture(scope="module")
def demo_copy(demo_twin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's demo twin (`twin demo` assesses reversibility), to open without locking it."""
    path = tmp_path_factory.mktemp("building-analysis") / "twin.duckdb"
    shutil.copyfile(demo_twin, path)
    return path


def test_the_demo_1972_office_converts_to_housing_and_the_1992_office_shows_its_vetoes(demo_copy: Path) -> None:
    from dashboard import data
    from twin import Twin

    with Twin(demo_copy, read_only=True) as twin:
        offices = {
            r["construction_year"]: r["building_id"]
            for r in twin.query(
                "SELECT building_id, construction_year FROM buildings WHERE source = 'ifc' AND use = 'office'"
            ).to_pylist()
        }
        tower, central = offices[1972], offices[1992]
        results = {r["path"]: r for r in data.reversibility_results(twin, [tower])}
        assert results["office->housing"]["convertible"] is True
        criteria = data.reversibility_criteria(twin, tower, "office->housing")
        rows = criteria_rows(criteria, {}, data.mesh_ids(twin, tower))
        assert len(rows) == len(criteria) > 5
        assert sum(1 for r in rows if r["evidence"]) > 5  # IFC route: evidence elements to highlight
        everything = {g for c in criteria for g in evidence_ids(c["evidence"])}
        model = set(
            twin.query(
                "SELECT ifc_guid FROM element_meshes WHERE building_id = ? UNION SELECT storey_id FROM storeys "
                "WHERE building_id = ? UNION SELECT ?",
                [tower, tower, tower],
            )
            .column(0)
            .to_pylist()
        )
        assert everything <= model  # the evidence is the model's own elements, storeys or the building
        shown = {g for r in rows for g in r["evidence"]}
        assert shown and shown <= data.mesh_ids(twin, tower)  # what a click highlights can be drawn
        for row, c in zip(rows, criteria, strict=True):  # nothing dropped: drawn + not drawable = all
            assert len(row["evidence"]) + row["evidence_other"] == len(evidence_ids(c["evidence"]))

        other = {r["path"]: r for r in data.reversibility_results(twin, [central])}["office->housing"]
        assert other["convertible"] is False
        summary = summary_rows(other)
        assert [text for label, text in summary if label == "veto"]  # its vetoes are named
        vetoed = [
            r
            for r in criteria_rows(data.reversibility_criteria(twin, central, "office->housing"), {})
            if r["vetoed"]
        ]
        assert vetoed and all(r["status"] == "fail" and r["colour"] == STATUS_COLOURS["fail"] for r in vetoed)

        # no energy in the demo (it needs an EPW file): nothing is invented
        assert data.energy_result(twin, [tower]) is None


def test_the_study_download_is_a_self_contained_html_page_of_the_stored_results(demo_copy: Path) -> None:
    from dashboard import data
    from twin import Twin

    with Twin(demo_copy, read_only=True) as twin:
        tower = twin.query("SELECT building_id FROM buildings WHERE construction_year = 1972 AND source = 'ifc'")
        text = data.reversibility_study(twin, tower.column(0)[0].as_py())
        assert data.reversibility_study(twin, "no-such-building") is None
    assert text is not None and text.startswith("<!DOCTYPE html>")
    assert "office-&gt;housing" in text or "office->housing" in text
    assert "<script src=" not in text and "<link " not in text  # nothing fetched from elsewhere


def _assess_request(app: Any, building_id: str) -> dict[str, Any]:
    """The request the browser sends when "Assess now" is clicked on the page of ``building_id``."""
    key = next(k for k in app.callback_map if k.startswith("..building-reversibility.children"))
    rows_output = key.split("...")[1].rstrip(".")
    return {
        "output": key,
        "outputs": [
            {"id": "building-reversibility", "property": "children"},
            {"id": "building-criteria-rows", "property": rows_output.split(".", 1)[1]},
        ],
        "inputs": [{"id": "building-assess", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["building-assess.n_clicks"],
        "state": [
            {"id": "building-id", "property": "data", "value": building_id},
            {"id": "shell-url", "property": "pathname", "value": f"/building/{building_id}"},
        ],
    }


def test_assess_now_is_refused_to_an_operator_on_the_server_and_stores_results_for_an_architect(
    demo_twin: Path, tmp_path: Path
) -> None:
    from dashboard.app import create_app
    from dashboard.auth import UsersFile, users_file_for
    from twin import Twin

    path = tmp_path / "twin.duckdb"
    shutil.copyfile(demo_twin, path)
    users = UsersFile(users_file_for(path))
    for role in ("architect", "operator"):
        users.add(role, role, "s3cret-enough")
    count = "SELECT count(*) FROM res_reversibility_criteria WHERE building_id = ?"
    with Twin(path) as twin:
        tower = twin.query("SELECT building_id FROM buildings WHERE construction_year = 1972 AND source = 'ifc'")
        building = tower.column(0)[0].as_py()
        with twin.write() as cur:
            cur.execute("DELETE FROM res_reversibility WHERE building_id = ?", [building])
            cur.execute("DELETE FROM res_reversibility_criteria WHERE building_id = ?", [building])
        app = create_app(twin, users=users)
        for role in ("operator", "architect"):
            client = app.server.test_client()
            client.post("/login", data={"username": role, "password": "s3cret-enough", "next": "/"})
            answer = client.post("/_dash-update-component", json=_assess_request(app, building))
            assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
            text = answer.get_data(as_text=True)
            if role == "operator":
                assert "refused" in text and "twin assess reversibility --building" in text
                assert twin.query(count, [building]).column(0)[0].as_py() == 0
            else:
                assert "Assessed now" in text and "building-criteria-table" in text
                assert twin.query(count, [building]).column(0)[0].as_py() > 5
                # and the study of what was just stored downloads through the server
                key = next(k for k in app.callback_map if k.startswith("building-study.data"))
                answer = client.post(
                    "/_dash-update-component",
                    json={
                        "output": key,
                        "outputs": {"id": "building-study", "property": "data"},
                        "inputs": [{"id": "building-study-button", "property": "n_clicks", "value": 1}],
                        "changedPropIds": ["building-study-button.n_clicks"],
                        "state": [{"id": "building-id", "property": "data", "value": building}],
                    },
                )
                study = answer.get_json()["response"]["building-study"]["data"]
                assert study["filename"] == f"reversibility-{building}.html"
                assert study["content"].startswith("<!DOCTYPE html>")


def test_with_a_real_epw_the_energy_section_shows_twelve_months_and_retrofits_by_payback(
    demo_twin: Path, tmp_path: Path
) -> None:
    from dash import dcc, html

    from dashboard.context import AppContext
    from dashboard.pages import building
    from twin import Twin
    from twin.commands.energy import assess_energy_command, retrofit_command

    epw = shared_data("weather-lyon-bron-tmyx", "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw")
    path = tmp_path / "twin.duckdb"
    shutil.copyfile(demo_twin, path)
    with Twin(path) as twin:
        tower = twin.query("SELECT building_id FROM buildings WHERE construction_year = 1972 AND source = 'ifc'")
        building_id = tower.column(0)[0].as_py()
        assess_energy_command(twin, [building_id], str(epw))
        stored = retrofit_command(twin, building_id, "envelope", str(epw))
        section = html.Div(building._energy_section(AppContext(twin, None), building_id, building_id))

    def find(node: Any, wanted: str) -> Any:
        if getattr(node, "id", None) == wanted:
            return node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            hit = find(child, wanted)
            if hit is not None:
                return hit
        return None

    graph = find(section, "building-energy-monthly")
    assert isinstance(graph, dcc.Graph)
    assert [len(t.y) for t in graph.figure.data] == [12]  # heating only: no cooling need in a Lyon office
    assert sum(graph.figure.data[0].y[5:8]) < sum(graph.figure.data[0].y[:2])  # winter needs more than summer
    facts = {tr.children[0].children: tr.children[1].children for tr in find(section, "building-energy-table")
             .children.children}  # fmt: skip
    assert facts["DPE class"].startswith("not applicable") and facts["décret tertiaire"].startswith("subject")
    table = find(section, "building-retrofit-table")
    measures = [tr.children[0].children for tr in table.children[1].children]
    paybacks = sorted((r["simple_payback_yr"], r["measure"]) for r in stored)
    assert measures == [("envelope" if m == "*" else m) for _, m in paybacks]
