"""IFC ingest on real files: counts, names, U-values, georeferencing, derived facts, bad input, updates, IDS."""

from __future__ import annotations

import json
import math
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from ingest.demo.generate import DemoFiles
from ingest.ifc import IfcIngestOptions, ingest_ifc
from ingest.ifc_geometry import triangulate
from ingest.ifc_georef import georeference
from tests.conftest import shared_data
from twin import Twin, TwinError

FZK = ("ifc-web-ifc-samples", "AC20-FZK-Haus.ifc")
DUPLEX = ("ifc-duplex-georeferenced", "Duplex_A_20110907_georeferenced.ifc")
HOM = ("ifc-bim2sim-examplehom", "ExampleHOM.ifc")


def count(twin: Twin, sql: str, params: list | None = None) -> int:
    return int(twin.query(sql, params).column(0)[0].as_py())


def classes(twin: Twin, building: str) -> dict[str, int]:
    rows = twin.query(
        "SELECT ifc_class, count(*) AS n FROM elements WHERE building_id = ? GROUP BY 1", [building]
    ).to_pylist()
    return {r["ifc_class"]: r["n"] for r in rows}


@pytest.fixture(scope="module")
def fzk_twin(tmp_path_factory: pytest.TempPathFactory) -> Twin:
    twin = Twin(tmp_path_factory.mktemp("fzk") / "twin.duckdb")
    report = ingest_ifc(twin, shared_data(*FZK))
    twin.fzk_report = report  # type: ignore[attr-defined]
    return twin


def test_fzk_haus_has_its_storeys_spaces_and_elements(fzk_twin: Twin) -> None:
    building = fzk_twin.query("SELECT building_id FROM buildings WHERE source = 'ifc'").column(0)[0].as_py()
    assert count(fzk_twin, "SELECT count(*) FROM storeys") == 2
    assert count(fzk_twin, "SELECT count(*) FROM spaces") == 7
    found = classes(fzk_twin, building)
    assert found.get("IfcWall", 0) + found.get("IfcWallStandardCase", 0) == 13
    assert found["IfcWindow"] == 11 and found["IfcDoor"] == 5 and found["IfcStair"] == 1


def test_fzk_haus_room_names_are_decoded(fzk_twin: Twin) -> None:
    names = set(fzk_twin.query("SELECT long_name FROM spaces").column(0).to_pylist())
    assert {"Küche", "Wohnen", "Schlafzimmer", "Bad"} <= names


def test_fzk_haus_u_values_come_from_its_property_sets(fzk_twin: Twin) -> None:
    rows = fzk_twin.query(
        "SELECT ifc_class, u_value_w_m2k, u_value_source FROM elements "
        "WHERE ifc_class LIKE 'IfcWall%' OR ifc_class = 'IfcWindow'"
    ).to_pylist()
    assert rows and all(r["u_value_source"] == "pset" for r in rows)
    assert {r["u_value_w_m2k"] for r in rows if r["ifc_class"] == "IfcWindow"} == {1.4}
    envelope = fzk_twin.query(
        "SELECT surface_kind, sum(area_m2) AS a FROM envelope_surfaces GROUP BY 1"
    ).to_pylist()
    kinds = {r["surface_kind"]: r["a"] for r in envelope}
    assert {"wall", "window", "roof", "ground_floor"} <= set(kinds)
    assert kinds["ground_floor"] == pytest.approx(120.0, rel=0.01)  # 12 m x 10 m


def test_fzk_haus_is_placed_near_karlsruhe_from_reflat_reflon(fzk_twin: Twin) -> None:
    source = fzk_twin.query("SELECT georef_method, origin_x_m, origin_y_m FROM ifc_sources").to_pylist()[0]
    assert source["georef_method"] == "site_reflatlon"
    lon, lat = Transformer.from_crs(fzk_twin.crs, "EPSG:4326", always_xy=True).transform(
        source["origin_x_m"], source["origin_y_m"]
    )
    assert lat == pytest.approx(49.100435, abs=1e-6) and lon == pytest.approx(8.436539, abs=1e-6)
    centroid = fzk_twin.query(
        "SELECT ST_X(ST_Centroid(footprint)) x, ST_Y(ST_Centroid(footprint)) y FROM buildings"
    ).to_pylist()[0]
    assert math.hypot(centroid["x"] - source["origin_x_m"], centroid["y"] - source["origin_y_m"]) < 30


def test_fzk_haus_facts_describe_a_small_house(fzk_twin: Twin) -> None:
    facts = fzk_twin.query("SELECT * FROM building_facts").to_pylist()[0]
    assert facts["depth_m"] == pytest.approx(10.0, abs=0.05) and facts["length_m"] == pytest.approx(12.0, abs=0.05)
    assert facts["stair_cores"] == 1
    assert facts["loadbearing_wall_m_per_m2"] is None, "the file does not say which walls bear loads"
    evidence = json.loads(facts["evidence"])
    assert evidence["external_inferred_from_geometry"], "external walls inferred from their position"


def test_the_duplex_has_its_storeys_spaces_and_stairs_and_its_contradiction_is_reported(tmp_path: Path) -> None:
    twin = Twin(tmp_path / "t.duckdb")
    report = ingest_ifc(twin, shared_data(*DUPLEX))
    assert count(twin, "SELECT count(*) FROM storeys") == 4
    assert count(twin, "SELECT count(*) FROM spaces") == 21
    assert count(twin, "SELECT count(*) FROM elements WHERE ifc_class = 'IfcStair'") == 2
    assert count(twin, "SELECT stair_cores FROM building_facts") == 2
    notes = [w["message"] for w in report.warnings if w["ref"] == "georeferencing"]
    assert len(notes) == 1 and "epset_map_conversion" in notes[0] and "site_reflatlon" in notes[0]
    logged = json.loads(twin.query("SELECT warnings FROM imports").column(0)[0].as_py())
    assert any("disagree" in w["message"] for w in logged)
    # The map conversion (Luxembourg) wins over RefLat/RefLon (Chicago).
    x, y = twin.query("SELECT origin_x_m, origin_y_m FROM ifc_sources").to_pylist()[0].values()
    lon, lat = Transformer.from_crs(twin.crs, "EPSG:4326", always_xy=True).transform(x, y)
    assert lon == pytest.approx(6.122, abs=0.01) and lat == pytest.approx(49.629, abs=0.01)
    assert count(twin, "SELECT count(*) FROM element_meshes") == 236  # every element, despite the manifold crash


@pytest.mark.parametrize(
    ("name", "crs"),
    [("geographic-referencing-utm.ifc", "EPSG:25832"), ("geographic-referencing-gk.ifc", "EPSG:31467")],
)
def test_a_local_point_lands_on_its_projected_coordinates(name: str, crs: str) -> None:
    path = shared_data("ifc-bsi-georeferencing", name)
    model = ifcopenshell.open(str(path))
    op = model.by_type("IfcMapConversion")[0]
    geo = georeference(model, str(path), crs)
    assert geo.method == "map_conversion"
    # The pyramid apex of the sample: (500, -500, 2000) mm, i.e. (0.5, -0.5, 2.0) m in the model.
    theta = math.atan2(op.XAxisOrdinate, op.XAxisAbscissa)
    expected_e = op.Eastings + 0.5 * math.cos(theta) + 0.5 * math.sin(theta)
    expected_n = op.Northings + 0.5 * math.sin(theta) - 0.5 * math.cos(theta)
    x, y, _ = geo.to_twin(np.array([[0.5, -0.5, 2.0]]))[0]
    assert abs(x - expected_e) < 0.01 and abs(y - expected_n) < 0.01
    assert any("unit ratio" in s["note"] for s in geo.sources), "the millimetre Scale is explained"


def test_the_georeferenced_sample_mesh_lands_in_the_twin_crs(tmp_path: Path) -> None:
    path = shared_data("ifc-bsi-georeferencing", "geographic-referencing-utm.ifc")
    twin = Twin(tmp_path / "utm.duckdb", crs="EPSG:25832")
    ingest_ifc(twin, path)
    row = twin.query("SELECT origin_x_m, origin_y_m, vertices FROM element_meshes").to_pylist()[0]
    origin = np.array([row["origin_x_m"], row["origin_y_m"], 0.0])
    v = np.frombuffer(row["vertices"], np.float32).reshape(-1, 3).astype(float) + origin
    apex = v[np.argmin(v[:, 2])]  # the apex is the lowest vertex, at the local origin
    assert apex[0] == pytest.approx(458657.30, abs=0.01) and apex[1] == pytest.approx(5438232.25, abs=0.01)


def test_examplehom_u_values_are_computed_from_material_layers(tmp_path: Path) -> None:
    path = shared_data(*HOM)
    twin = Twin(tmp_path / "t.duckdb")
    ingest_ifc(twin, path)
    rows = twin.query(
        "SELECT ifc_guid, u_value_w_m2k, u_value_source, materials FROM elements "
        "WHERE ifc_class LIKE 'IfcWall%' AND u_value_source IS NOT NULL"
    ).to_pylist()
    assert rows and all(r["u_value_source"] == "layers" for r in rows)
    model = ifcopenshell.open(str(path))
    for r in rows[:5]:
        layers = ifcopenshell.util.element.get_material(model.by_guid(r["ifc_guid"]), should_skip_usage=True)
        resistance = sum(
            layer.LayerThickness
            / ifcopenshell.util.element.get_psets(layer.Material)["Pset_MaterialThermal"]["ThermalConductivity"]
            for layer in layers.MaterialLayers
        )
        assert r["u_value_w_m2k"] == pytest.approx(1 / (0.13 + resistance + 0.04), rel=1e-6)


@pytest.fixture(scope="module")
def demo(demo_files: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoFiles, Twin]:
    files = demo_files
    twin = Twin(tmp_path_factory.mktemp("demo-twin") / "twin.duckdb")
    for path in files.ifc.values():
        ingest_ifc(twin, path)
    return files, twin


def test_every_demo_building_arrives_with_the_entities_the_generator_made(demo: tuple[DemoFiles, Twin]) -> None:
    files, twin = demo
    manifest = json.loads((files.root / "MANIFEST.json").read_text())
    for key, path in files.ifc.items():
        model = ifcopenshell.open(str(path))
        building = model.by_type("IfcBuilding")[0].GlobalId
        expected = sum(1 for e in model.by_type("IfcElement") if not e.is_a("IfcFeatureElement"))
        spaces = len(model.by_type("IfcSpace"))
        assert count(twin, "SELECT count(*) FROM elements WHERE building_id = ?", [building]) == expected, key
        assert count(twin, "SELECT count(*) FROM spaces WHERE building_id = ?", [building]) == spaces, key
        assert expected + spaces == manifest["counts"][f"ifc_elements_{key}"], key
        meshes = count(twin, "SELECT count(*) FROM element_meshes WHERE building_id = ?", [building])
        assert meshes == expected + spaces, key


def _facts(twin: Twin, name_prefix: str) -> dict:
    return twin.query(
        "SELECT f.* FROM building_facts f JOIN buildings b USING (building_id) WHERE b.name LIKE ?",
        [name_prefix + "%"],
    ).to_pylist()[0]


def test_the_1972_office_is_13_m_deep_with_two_facade_stairs_on_a_5_4_m_grid(demo: tuple[DemoFiles, Twin]) -> None:
    _, twin = demo
    f = _facts(twin, "Tour Lumière")
    assert f["depth_m"] == pytest.approx(13.0, abs=0.01)
    assert f["stair_cores"] == 2 and f["core_position"] == "facade"
    assert f["column_grid_m"] == pytest.approx(5.4, abs=0.01)
    assert f["storeys_above_ground"] == 6 and f["lifts"] == 2 and f["shafts"] == 4
    heights = twin.query(
        "SELECT floor_to_floor_m, free_height_m FROM storeys s JOIN buildings b USING "
        "(building_id) WHERE b.name LIKE 'Tour Lumière%'"
    ).to_pylist()
    assert all(h["floor_to_floor_m"] == pytest.approx(3.2, abs=0.01) for h in heights)
    assert all(h["free_height_m"] == pytest.approx(2.95, abs=0.01) for h in heights)
    walls = twin.query(
        "SELECT DISTINCT round(u_value_w_m2k, 3) u, u_value_source FROM elements e JOIN buildings b "
        "USING (building_id) WHERE b.name LIKE 'Tour Lumière%' AND e.name LIKE 'Façade%'"
    ).to_pylist()
    # 1 / (0.13 + 0.16/2.3 + 0.04/0.035 + 0.013/0.25 + 0.04), the layers the generator wrote
    assert walls == [
        {"u": round(1 / (0.13 + 0.16 / 2.3 + 0.04 / 0.035 + 0.013 / 0.25 + 0.04), 3), "u_value_source": "layers"}
    ]


def test_the_1992_office_is_deep_with_a_central_core_and_2_5_m_free(demo: tuple[DemoFiles, Twin]) -> None:
    _, twin = demo
    f = _facts(twin, "Le Central")
    assert f["depth_m"] == pytest.approx(20.0, abs=0.01) and f["core_position"] == "central"
    free = (
        twin.query(
            "SELECT free_height_m FROM storeys s JOIN buildings b USING (building_id) "
            "WHERE b.name LIKE 'Le Central%'"
        )
        .column(0)
        .to_pylist()
    )
    assert all(h == pytest.approx(2.5, abs=0.01) for h in free)


def test_cross_walls_show_as_internal_load_bearing_length(demo: tuple[DemoFiles, Twin]) -> None:
    _, twin = demo
    housing = _facts(twin, "Barre Les Tilleuls")
    office = _facts(twin, "Tour Lumière")
    assert housing["internal_loadbearing_wall_m_per_m2"] > 0.1
    assert office["internal_loadbearing_wall_m_per_m2"] == 0.0
    assert housing["column_count"] == 0


def test_the_car_park_decks_have_2_3_m_clear_over_a_4_m_ground_floor(demo: tuple[DemoFiles, Twin]) -> None:
    _, twin = demo
    rows = twin.query(
        "SELECT level_index, floor_to_floor_m, free_height_m FROM storeys s JOIN buildings b USING "
        "(building_id) WHERE b.name LIKE 'Parking%' ORDER BY level_index"
    ).to_pylist()
    assert rows[0]["floor_to_floor_m"] == pytest.approx(4.0, abs=0.01)
    assert all(r["free_height_m"] == pytest.approx(2.3, abs=0.01) for r in rows[1:])


def test_demo_footprints_sit_where_the_gis_layer_puts_them(demo: tuple[DemoFiles, Twin]) -> None:
    files, twin = demo
    from ingest.demo.district import footprint_of

    for key, spec in files.specs.items():
        name = spec.name.replace("'", "''")
        wkt = twin.query(f"SELECT ST_AsText(footprint) FROM buildings WHERE name = '{name}'").column(0)[0].as_py()
        assert shapely.from_wkt(wkt).symmetric_difference(footprint_of(spec)).area < 0.01, key


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "unknown schema", "xml"])
def test_bad_files_give_one_clear_error_and_leave_the_twin_unchanged(
    fzk_twin: Twin, tmp_path: Path, kind: str
) -> None:
    source = shared_data(*FZK).read_bytes()
    content = {
        "empty": b"",
        "text": b"Dear architect, here is the model.\n",
        "truncated": source[: len(source) // 2],
        "unknown schema": source.replace(b"FILE_SCHEMA(('IFC4'))", b"FILE_SCHEMA(('IFC9'))"),
        "xml": b'<?xml version="1.0"?><ifcXML/>',
    }[kind]
    bad = tmp_path / "model.ifc"
    bad.write_bytes(content)
    before = fzk_twin.table_checksums()
    with pytest.raises(TwinError) as caught:
        ingest_ifc(fzk_twin, bad)
    assert str(bad) in caught.value.message and caught.value.hint
    assert "\n" not in caught.value.message
    assert fzk_twin.table_checksums() == before


def test_reimporting_the_same_file_changes_nothing(fzk_twin: Twin) -> None:
    before = fzk_twin.table_checksums()
    report = ingest_ifc(fzk_twin, shared_data(*FZK))
    assert report.unchanged
    assert fzk_twin.table_checksums() == before


def test_a_changed_file_updates_elements_by_globalid_and_removes_deleted_ones(tmp_path: Path) -> None:
    original = tmp_path / "house.ifc"
    original.write_bytes(shared_data(*FZK).read_bytes())
    twin = Twin(tmp_path / "t.duckdb")
    ingest_ifc(twin, original)
    model = ifcopenshell.open(str(original))
    window = model.by_type("IfcWindow")[0]
    gone = window.GlobalId
    wall = model.by_type("IfcWall")[0]
    kept = wall.GlobalId
    ifcopenshell.api.run("root.remove_product", model, product=window)
    ifcopenshell.api.run("attribute.edit_attributes", model, product=wall, attributes={"Name": "Renamed wall"})
    model.write(str(original))
    ingest_ifc(twin, original)
    assert count(twin, "SELECT count(*) FROM elements WHERE ifc_guid = ?", [gone]) == 0
    assert count(twin, "SELECT count(*) FROM element_meshes WHERE ifc_guid = ?", [gone]) == 0
    assert twin.query("SELECT name FROM elements WHERE ifc_guid = ?", [kept]).column(0).to_pylist() == [
        "Renamed wall"
    ]
    assert count(twin, "SELECT count(*) FROM elements WHERE ifc_class = 'IfcWindow'") == 10
    assert count(twin, "SELECT count(*) FROM buildings") == 1
    assert count(twin, "SELECT count(*) FROM imports WHERE kind = 'ifc'") == 2


def _write_ids(path: Path) -> None:
    from ifctester import ids

    spec_ids = ids.Ids(title="Walls of the twin")
    declared = ids.Specification(name="Walls declare IsExternal", ifcVersion=["IFC4"])
    declared.applicability.append(ids.Entity(name="IFCWALLSTANDARDCASE"))
    declared.requirements.append(
        ids.Property(propertySet="Pset_WallCommon", baseName="IsExternal", dataType="IFCBOOLEAN")
    )
    u_values = ids.Specification(name="Walls have a U-value", ifcVersion=["IFC4"])
    u_values.applicability.append(ids.Entity(name="IFCWALLSTANDARDCASE"))
    u_values.requirements.append(ids.Property(propertySet="Pset_WallCommon", baseName="ThermalTransmittance"))
    spec_ids.specifications += [declared, u_values]
    spec_ids.to_xml(str(path))


def test_ids_results_are_stored_and_strict_refuses_a_failing_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.ids"
    _write_ids(rules)
    twin = Twin(tmp_path / "t.duckdb")
    before = twin.table_checksums()
    with pytest.raises(TwinError, match="fails 1 IDS requirement"):
        ingest_ifc(twin, shared_data(*FZK), IfcIngestOptions(ids_path=str(rules), strict=True))
    assert twin.table_checksums() == before
    report = ingest_ifc(twin, shared_data(*FZK), IfcIngestOptions(ids_path=str(rules)))
    assert report.counts["ids_failed"] == 1 and report.counts["ids_passed"] == 1
    rows = twin.query("SELECT specification, status, failed_guids FROM ids_results ORDER BY 1").to_pylist()
    assert [r["status"] for r in rows] == ["fail", "pass"]
    assert len(json.loads(rows[0]["failed_guids"])) == 13


def test_a_geometry_kernel_crash_stays_in_its_worker_and_is_reported() -> None:
    path = shared_data(*DUPLEX)
    model = ifcopenshell.open(str(path))
    wanted = {
        e.id(): e.GlobalId
        for e in model.by_type("IfcProduct")
        if e.Representation and not e.is_a("IfcOpeningElement") and not e.is_a("IfcSpatialElement")
    }
    result = triangulate(path, wanted, kernels=("manifold",))
    assert result.failures, "manifold crashes on this file"
    assert all("crashed" in reason for reason in result.failures.values())
    assert len(result.vertices) + len(result.failures) == len(wanted)


def _loads(twin: Twin, name_prefix: str) -> list[dict]:
    return twin.query(
        "SELECT s.level_index, s.imposed_load_kn_m2 AS q, s.imposed_load_source AS source, "
        "s.imposed_load_category AS category, s.imposed_load_evidence AS evidence FROM storeys s "
        "JOIN buildings b USING (building_id) WHERE b.name LIKE ? ORDER BY s.level_index",
        [name_prefix + "%"],
    ).to_pylist()


def test_the_offices_and_the_car_park_carry_the_imposed_load_of_their_design_basis(
    demo: tuple[DemoFiles, Twin],
) -> None:
    files, twin = demo
    for key, prefix in (
        ("office_1972", "Tour Lumière"),
        ("office_1992", "Le Central"),
        ("car_park_1985", "Parking"),
    ):
        rows = _loads(twin, prefix)
        assert len(rows) == files.specs[key].storeys, key
        assert {r["q"] for r in rows} == {files.specs[key].imposed_load_kn_m2}, key
        assert {r["source"] for r in rows} == {"design_basis"}, key
        assert all("Twin_DesignBasis.ImposedLoad_kN_m2" in r["evidence"] for r in rows), key
    assert {r["category"] for r in _loads(twin, "Parking")} == {"F"}
    assert {r["category"] for r in _loads(twin, "Tour Lumière")} == {"B"}


def test_shops_under_dwellings_take_the_load_of_their_own_use_not_the_buildings(
    demo: tuple[DemoFiles, Twin],
) -> None:
    files, twin = demo
    spec = files.specs["mixed_2012"]
    rows = _loads(twin, spec.name)
    ground, upper = rows[0], rows[1:]
    # EN 1991-1-1 Table 6.2, category D (shops) = 5.0 kN/m2 (methods.md 1.3), over the housing design basis
    assert (ground["q"], ground["source"], ground["category"]) == (5.0, "use_category", "D")
    assert "Table 6.2" in ground["evidence"] and "category D" in ground["evidence"]
    assert all((r["q"], r["source"]) == (spec.imposed_load_kn_m2, "design_basis") for r in upper)
