"""District screening of LoD1 buildings: every BD TOPO building of Olemps screened, unknown where the data is
missing, depth read from footprints of any shape, the distribution stored."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import shapely

from buildings.reversibility import assess
from buildings.reversibility_measures import equivalent_depth, measure_gis
from buildings.reversibility_rules import default_rules
from buildings.reversibility_store import assess_twin
from ingest.gis_buildings import ingest_buildings
from tests.conftest import shared_data
from twin import Twin

RULES = default_rules()


def _lod1(footprints: list[shapely.Geometry], **columns: list) -> pa.Table:
    n = len(footprints)
    data = {
        "building_id": [f"g{i}" for i in range(n)],
        "footprint": shapely.to_wkb(np.array(footprints, dtype=object)),
        "height_m": [9.0] * n,
        "height_estimated": [False] * n,
        "storeys_above_ground": [3] * n,
        "storeys_estimated": [False] * n,
        "use": ["office"] * n,
        "construction_year": [1975] * n,
        "source_ref": [f"BATIMENT{i}" for i in range(n)],
        "route": ["gis"] * n,
    }
    data.update(columns)
    return pa.table(data)


def _value(measures, building: str, criterion: str) -> float:
    rows = [
        r for r in measures.criteria.to_pylist() if r["building_id"] == building and r["criterion"] == criterion
    ]
    return rows[0]["value"]


def test_depth_follows_the_wings_of_rotated_l_and_courtyard_plans() -> None:
    slab = shapely.affinity.rotate(shapely.box(0, 0, 54, 13), 30)
    ell = shapely.union(shapely.box(0, 0, 40, 12), shapely.box(0, 0, 12, 40))
    court = shapely.box(0, 0, 40, 40).difference(shapely.box(12, 12, 28, 28))
    measures = measure_gis(_lod1([slab, ell, court]), RULES)
    assert _value(measures, "g0", "depth") == pytest.approx(13.0, abs=0.01)
    assert _value(measures, "g1", "depth") == pytest.approx(12.0, abs=1.5)  # the rectangle alone says 40 m
    assert _value(measures, "g2", "depth") == pytest.approx(13.7, abs=0.1)
    assert equivalent_depth(np.array([100.0]), np.array([10.0])).tolist() == [np.nan] or np.isnan(
        equivalent_depth(np.array([100.0]), np.array([10.0]))[0]
    )


def test_estimated_heights_or_storeys_leave_the_storey_height_unknown_not_guessed() -> None:
    box = shapely.box(0, 0, 30, 12)
    table = _lod1(
        [box, box, box, shapely.box(0, 0, 30, 22)],
        height_m=[9.0, 9.0, None, 9.0],
        height_estimated=[False, True, False, False],
        storeys_above_ground=[3, 3, None, 3],
    )
    measures = measure_gis(table, RULES)
    assert _value(measures, "g0", "free_height") == pytest.approx(3.0 - 0.3)
    assert np.isnan(_value(measures, "g1", "free_height")) and np.isnan(_value(measures, "g2", "free_height"))
    result = assess(measures, table.select(["building_id", "use", "route"]), RULES, ["office->housing"])
    by = {r["building_id"]: r for r in result.results.to_pylist()}
    # LoD1 cannot see the structure (a veto criterion): no building is declared convertible, a deep one is vetoed
    assert by["g0"]["convertible"] is None and json.loads(by["g0"]["vetoes"]) == []
    assert by["g3"]["convertible"] is False and json.loads(by["g3"]["vetoes"])[0]["criterion"] == "depth"
    statuses = {
        (r["building_id"], r["criterion"]): r["status"]
        for r in result.criteria.to_pylist()
        if r["storey_id"] is None
    }
    assert statuses[("g0", "structure")] == "unknown" and statuses[("g0", "free_height")] == "pass"
    assert statuses[("g1", "free_height")] == "unknown"
    assert by["g0"]["score"] < by["g0"]["score_max"]  # what LoD1 cannot see is not passed


@pytest.fixture(scope="module")
def olemps(tmp_path_factory: pytest.TempPathFactory) -> Twin:
    twin = Twin(tmp_path_factory.mktemp("olemps") / "twin.duckdb")
    ingest_buildings(twin, shared_data("buildings-bdtopo-olemps", "BATIMENT.shp"))
    assess_twin(twin)
    return twin


def test_every_olemps_building_is_screened_and_the_distribution_is_stored(olemps: Twin) -> None:
    buildings = olemps.query("SELECT count(*) FROM buildings").column(0)[0].as_py()
    assert buildings == 2273
    screened = olemps.query("SELECT count(DISTINCT building_id) FROM res_reversibility WHERE path = 'any->school'")
    assert screened.column(0)[0].as_py() == 2273
    distribution = olemps.query(
        "SELECT path, convertible, count(*) AS n, min(score) AS lo, max(score_max) AS hi FROM res_reversibility "
        "GROUP BY ALL ORDER BY ALL"
    ).to_pylist()
    school = {r["convertible"]: r["n"] for r in distribution if r["path"] == "any->school"}
    assert set(school) == {True, False, None} and sum(school.values()) == 2273
    assert all(0 <= r["lo"] <= r["hi"] <= 100 for r in distribution)
    assert {r["route"] for r in olemps.query("SELECT DISTINCT route FROM res_reversibility").to_pylist()} == {
        "gis"
    }
    assert (
        olemps.query("SELECT count(*) FROM res_reversibility WHERE carbon_kept_kgco2e IS NOT NULL")
        .column(0)[0]
        .as_py()
        == 0
    )


def test_olemps_unknowns_sit_where_the_data_is_missing(olemps: Twin) -> None:
    rows = olemps.query(
        "SELECT b.height_m, b.height_estimated, b.storeys_estimated, b.storeys_above_ground, c.status, c.evidence "
        "FROM res_reversibility_criteria c JOIN buildings b USING (building_id) "
        "WHERE c.path = 'any->school' AND c.criterion = 'free_height'"
    ).to_pylist()
    assert len(rows) == 2273
    for r in rows:
        missing = r["height_m"] is None or r["storeys_above_ground"] is None
        if missing or r["height_estimated"] or r["storeys_estimated"]:
            assert r["status"] == "unknown"
        else:
            assert r["status"] in ("pass", "fail")
            assert json.loads(r["evidence"]) == {"gis": ["height_m", "storeys_above_ground"]}
    unseen = olemps.query(
        "SELECT DISTINCT status FROM res_reversibility_criteria "
        "WHERE criterion IN ('structure', 'stairs', 'glazing')"
    ).column(0)
    assert unseen.to_pylist() == ["unknown"]
    unknown_use = olemps.query(
        "SELECT DISTINCT c.status FROM res_reversibility_criteria c JOIN buildings b USING (building_id) "
        "WHERE b.use IS NULL AND c.criterion = 'imposed_load'"
    ).column(0)
    assert unknown_use.to_pylist() == ["unknown"]


def test_the_study_of_a_gis_building_shows_its_footprint_and_says_what_is_unknown(olemps: Twin, tmp_path) -> None:
    from buildings.reversibility_report import write_report

    building = (
        olemps.query(
            "SELECT building_id FROM buildings WHERE use = 'housing' AND height_m > 0 ORDER BY building_id LIMIT 1"
        )
        .column(0)[0]
        .as_py()
    )
    info = write_report(olemps, building, tmp_path / "g.html")
    text = (tmp_path / "g.html").read_text(encoding="utf-8")
    assert info["plans"] == 1 and "footprint (LoD1)" in text and text.count("data:image/png;base64,") == 1
    assert "not visible in LoD1 GIS data" in text and "embodied carbon unknown" in text
