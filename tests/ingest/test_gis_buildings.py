"""GIS building footprints into the twin: BD TOPO read as it is, estimates flagged, bad input refused whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pyproj import Transformer

from ingest.demo.archetypes import DISTRICT_ORIGIN, archetypes
from ingest.demo.district import generate_district
from ingest.gis_buildings import (
    BDTOPO_USES,
    USES,
    BuildingIngestParams,
    estimate_heights_and_storeys,
    ingest_buildings,
    link_gis_to_ifc,
    map_uses,
)
from tests.conftest import shared_data
from twin import Twin
from twin.errors import CrsError, TwinError
from twin.imports import ImportReport

X0, Y0 = DISTRICT_ORIGIN


def olemps() -> Path:
    return shared_data("buildings-bdtopo-olemps", "BATIMENT.shp")


def boxes(n: int, size_m: float = 10.0) -> np.ndarray:
    """``n`` square footprints in a row, 20 m apart, in Lambert-93."""
    x = X0 + 20.0 * np.arange(n)
    return shapely.box(x, Y0, x + size_m, Y0 + size_m)


def write_layer(
    path: Path,
    geometries: np.ndarray,
    fields: dict[str, Any],
    *,
    crs: str | None = "EPSG:2154",
    layer: str | None = None,
    geometry_type: str = "Polygon",
    **options: Any,
) -> Path:
    table = pa.table({**fields, "geometry": pa.array(shapely.to_wkb(geometries), pa.binary())})
    pyogrio.write_arrow(
        table,
        path,
        layer=layer,
        crs=crs,
        geometry_name="geometry",
        geometry_type=geometry_type,
        append=path.exists() and path.suffix == ".gpkg",
        **options,
    )
    return path


def bdtopo_like(path: Path, n: int = 4, **fields: Any) -> Path:
    defaults: dict[str, Any] = {
        "ID": [f"BAT{i}" for i in range(n)],
        "USAGE1": ["Résidentiel"] * n,
        "HAUTEUR": [9.0] * n,
        "NB_ETAGES": pa.array([3] * n, pa.int32()),
    }
    return write_layer(path, boxes(n), {**defaults, **fields})


def buildings(twin: Twin, where: str = "true") -> list[dict[str, Any]]:
    return twin.query(
        "SELECT building_id, height_m, height_estimated, storeys_above_ground AS storeys, storeys_estimated, use, "
        "construction_year, dwellings, footprint_area_m2, source, source_ref, import_id, ifc_building_id, "
        f"attributes, ST_AsWKB(footprint) AS wkb FROM buildings WHERE {where} ORDER BY building_id"
    ).to_pylist()


# ------------------------------------------------------------------------------------------------ BD TOPO Olemps
@pytest.fixture(scope="module")
def olemps_twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Twin, ImportReport]]:
    """A twin file holding Olemps, imported once for the tests that only read it."""
    path = olemps()
    with Twin(tmp_path_factory.mktemp("olemps") / "twin.duckdb") as twin:
        yield twin, ingest_buildings(twin, path)


def test_olemps_imports_all_2273_buildings_with_every_bdtopo_use_counted_in_its_class(
    olemps_twin: tuple[Twin, ImportReport],
) -> None:
    twin, report = olemps_twin
    assert report.counts["buildings"] == 2273 and report.counts["skipped_features"] == 0
    # USAGE1 in SOURCE.md: Résidentiel 1,090, Indifférencié 920, Annexe 138, Commercial et services 92,
    # Industriel 21, Agricole 7, Sportif 3, Religieux 2.
    expected = {"housing": 1090, "commerce": 92, "industry": 21, "other": 138 + 7, "public": 3 + 2, None: 920}
    stored = {
        r["use"]: r["n"] for r in twin.query("SELECT use, count(*) AS n FROM buildings GROUP BY use").to_pylist()
    }
    assert stored == expected
    assert {k: v for k, v in report.counts.items() if k.startswith("use_") and v} == {
        f"use_{k or 'unknown'}": v for k, v in expected.items()
    }
    logged = twin.query("SELECT kind, status, counts FROM imports").to_pylist()
    assert [(r["kind"], r["status"], json.loads(r["counts"])["buildings"]) for r in logged] == [
        ("buildings", "ok", 2273)
    ]
    assert twin.query("SELECT DISTINCT source, import_id FROM buildings").to_pylist() == [
        {"source": "gis", "import_id": report.import_id}
    ]


def test_olemps_estimates_are_flagged_and_a_building_with_neither_height_nor_storeys_stays_unknown(
    olemps_twin: tuple[Twin, ImportReport],
) -> None:
    twin, report = olemps_twin
    # From the file: HAUTEUR > 0 for 1,989; NB_ETAGES for 1,334; both 1,296; neither 246.
    assert report.counts["height_estimated"] == 38
    assert report.counts["storeys_estimated"] == 693
    assert report.counts["height_unknown"] == report.counts["storeys_unknown"] == 246
    rows = buildings(twin)
    for r in rows:
        source = json.loads(r["attributes"])
        read_height = source["HAUTEUR"] is not None and source["HAUTEUR"] > 0
        assert r["height_m"] != 0 and r["storeys"] != 0, "never a silent zero"
        if read_height:
            assert r["height_m"] == source["HAUTEUR"] and not r["height_estimated"]
        elif source["NB_ETAGES"] is not None:
            assert r["height_estimated"] and r["height_m"] == pytest.approx(3.0 * source["NB_ETAGES"])
        else:
            assert r["height_m"] is None and r["storeys"] is None and not r["height_estimated"]
        if r["storeys_estimated"]:
            assert source["NB_ETAGES"] is None and r["storeys"] == max(1, round(source["HAUTEUR"] / 3.0))


def test_olemps_keeps_the_source_fields_and_reads_year_dwellings_and_footprints_in_lambert_93(
    olemps_twin: tuple[Twin, ImportReport],
) -> None:
    twin, _ = olemps_twin
    _, source = pyogrio.read_arrow(olemps())
    by_id = {r["building_id"]: r for r in buildings(twin)}
    dates = source.column("DATE_APP").to_pylist()
    for i, bid in enumerate(source.column("ID").to_pylist()):
        row = by_id[bid]
        kept = json.loads(row["attributes"])
        assert kept["MAT_MURS"] == source.column("MAT_MURS")[i].as_py()
        assert kept["USAGE1"] == source.column("USAGE1")[i].as_py()
        assert row["dwellings"] == source.column("NB_LOGTS")[i].as_py()
        assert row["construction_year"] == (dates[i].year if dates[i] else None)
        assert row["source_ref"] == bid
    footprints = shapely.from_wkb([r["wkb"] for r in by_id.values()])
    assert shapely.is_valid(footprints).all() and not shapely.has_z(footprints).any()
    source_area = shapely.area(
        shapely.from_wkb(source.column("wkb_geometry").to_numpy(zero_copy_only=False))
    ).sum()
    assert shapely.area(footprints).sum() == pytest.approx(source_area, rel=1e-9)
    assert sum(r["footprint_area_m2"] for r in by_id.values()) == pytest.approx(source_area, rel=1e-9)


def test_reimporting_the_same_file_changes_nothing(olemps_twin: tuple[Twin, ImportReport]) -> None:
    twin, first = olemps_twin
    before = twin.table_checksums()
    again = ingest_buildings(twin, olemps())
    assert again.unchanged and not first.unchanged and again.import_id is None
    assert twin.table_checksums() == before


# ------------------------------------------------------------------------------------------------ other files
def test_the_demo_district_geopackage_imports_every_footprint_with_its_bdtopo_id(
    twin: Twin, tmp_path: Path
) -> None:
    table = generate_district(3, archetypes(), DISTRICT_ORIGIN, blocks=(4, 3)).buildings
    gpkg = tmp_path / "buildings.gpkg"
    pyogrio.write_arrow(
        table,
        gpkg,
        layer="batiment",
        driver="GPKG",
        crs="EPSG:2154",
        geometry_name="geometry",
        geometry_type="Polygon",
    )
    report = ingest_buildings(twin, gpkg)
    assert report.counts["buildings"] == table.num_rows
    ids = twin.query("SELECT building_id FROM buildings ORDER BY 1").column("building_id").to_pylist()
    assert ids == sorted(table.column("ID").to_pylist())
    heights = table.column("HAUTEUR")
    missing_height = heights.null_count + pc.sum(pc.is_nan(heights)).as_py()
    assert missing_height > 0
    assert report.counts["height_estimated"] + report.counts["height_unknown"] == missing_height
    linked = pc.sum(pc.invert(pc.is_null(table.column("IFC_KEY")))).as_py()
    assert twin.query("SELECT count(*) AS n FROM buildings WHERE attributes->>'IFC_KEY' IS NOT NULL").column(
        "n"
    ).to_pylist() == [linked]


def test_a_changed_file_replaces_the_buildings_of_its_earlier_version(twin: Twin, tmp_path: Path) -> None:
    path = bdtopo_like(tmp_path / "v1.gpkg", n=5)
    first = ingest_buildings(twin, path)
    path.unlink()
    write_layer(path, boxes(3), {"ID": ["BAT0", "BAT1", "NEW"], "HAUTEUR": [12.0, 9.0, 6.0]})
    second = ingest_buildings(twin, path)
    rows = buildings(twin)
    assert [r["building_id"] for r in rows] == ["BAT0", "BAT1", "NEW"]
    assert rows[0]["height_m"] == 12.0 and {r["import_id"] for r in rows} == {second.import_id}
    assert second.counts["replaced"] == 5 and first.import_id != second.import_id
    assert twin.query("SELECT count(*) AS n FROM imports").column("n").to_pylist() == [2]


def test_footprints_in_another_crs_are_reprojected_into_the_twin_crs(twin: Twin, tmp_path: Path) -> None:
    lambert = boxes(3, size_m=25.0)
    to_wgs84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    wgs84 = shapely.transform(lambert, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))
    path = write_layer(tmp_path / "wgs84.geojson", wgs84, {"ID": ["a", "b", "c"]}, crs="EPSG:4326")
    ingest_buildings(twin, path)
    stored = shapely.from_wkb([r["wkb"] for r in buildings(twin)])
    assert np.allclose(
        shapely.get_coordinates(shapely.centroid(stored)),
        shapely.get_coordinates(shapely.centroid(lambert)),
        atol=0.01,
    )
    assert np.allclose(shapely.area(stored), 625.0, rtol=1e-4)


def test_another_schema_is_read_through_the_mapping_and_unknown_uses_are_reported(
    twin: Twin, tmp_path: Path
) -> None:
    path = write_layer(
        tmp_path / "other.geojson",
        boxes(4),
        {
            "gid": ["g1", "g2", "g3", "g4"],
            "hoehe": [10.0, None, 0.0, 7.5],
            "geschosse": pa.array([None, 4, None, 2], pa.int32()),
            "nutzung": ["office", "School", "Hangar", None],
            "baujahr": ["1968", "2001-05-01", None, "unbekannt"],
        },
    )
    report = ingest_buildings(
        twin,
        path,
        mapping={
            "id": "gid",
            "height_m": "hoehe",
            "storeys": "geschosse",
            "use": "nutzung",
            "construction_year": "baujahr",
        },
        params=BuildingIngestParams(storey_height_m=2.5),
    )
    rows = {r["building_id"]: r for r in buildings(twin)}
    assert [rows[k]["use"] for k in ("g1", "g2", "g3", "g4")] == ["office", "school", None, None]
    assert (rows["g1"]["height_m"], rows["g1"]["storeys"], rows["g1"]["storeys_estimated"]) == (10.0, 4, True)
    assert (rows["g2"]["height_m"], rows["g2"]["height_estimated"]) == (10.0, True)
    assert (rows["g3"]["height_m"], rows["g3"]["storeys"]) == (None, None)
    assert [rows[k]["construction_year"] for k in ("g1", "g2", "g3", "g4")] == [1968, 2001, None, None]
    assert report.warnings == [
        {"ref": "nutzung=Hangar", "message": "1 buildings: use 'Hangar' has no twin use: unknown"}
    ]


def test_a_self_intersecting_polygon_is_repaired_and_counted_as_a_warning(twin: Twin, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    geoms = np.array([bowtie, *boxes(2)], dtype=object)
    path = write_layer(tmp_path / "bowtie.gpkg", geoms, {"ID": ["bow", "ok1", "ok2"]})
    report = ingest_buildings(twin, path)
    assert report.counts["repaired_geometries"] == 1 and report.counts["buildings"] == 3
    assert [w["ref"] for w in report.warnings] == ["bow"] and "Self-intersection" in report.warnings[0]["message"]
    stored = buildings(twin, "building_id = 'bow'")[0]
    repaired = shapely.from_wkb(stored["wkb"])
    assert (
        repaired.is_valid
        and repaired.area == pytest.approx(50.0)
        and stored["footprint_area_m2"] == pytest.approx(50.0)
    )
    logged = json.loads(twin.query("SELECT warnings FROM imports").column("warnings")[0].as_py())
    assert logged == report.warnings


def test_a_feature_without_geometry_is_skipped_and_named(twin: Twin, tmp_path: Path) -> None:
    geoms = np.array([None, *boxes(2)], dtype=object)
    path = write_layer(tmp_path / "holes.gpkg", geoms, {"ID": ["none", "a", "b"]})
    report = ingest_buildings(twin, path)
    assert report.counts["skipped_features"] == 1 and report.counts["buildings"] == 2
    assert report.warnings[0]["ref"] == "none"


def test_a_layer_without_ids_or_attributes_gets_ids_from_the_file_name_and_feature_index(
    twin: Twin, tmp_path: Path
) -> None:
    path = write_layer(tmp_path / "bare.gpkg", boxes(2), {})
    path_with_gaps = bdtopo_like(tmp_path / "gaps.gpkg", n=3, ID=["A", None, ""])
    ingest_buildings(twin, path)
    ingest_buildings(twin, path_with_gaps)
    rows = buildings(twin)
    assert [(r["building_id"], r["attributes"]) for r in rows if r["building_id"].startswith("bare")] == [
        ("bare:0", "{}"),
        ("bare:1", "{}"),
    ]
    assert [r["building_id"] for r in rows if not r["building_id"].startswith("bare")] == ["A", "gaps:1", "gaps:2"]


def test_a_latin1_shapefile_without_cpg_is_decoded_and_the_guess_is_warned(twin: Twin, tmp_path: Path) -> None:
    path = write_layer(
        tmp_path / "latin.shp",
        boxes(2),
        {"ID": ["a", "b"], "USAGE1": ["Résidentiel", "Indifférencié"], "NOM": ["Château", "Église"]},
        encoding="latin1",
    )
    path.with_suffix(".cpg").unlink()
    assert b"\xe9" in path.with_suffix(".dbf").read_bytes()  # really latin-1 on disk
    report = ingest_buildings(twin, path)
    assert "latin-1" in report.warnings[0]["message"]
    rows = buildings(twin)
    assert [r["use"] for r in rows] == ["housing", None]
    assert [json.loads(r["attributes"])["NOM"] for r in rows] == ["Château", "Église"]


def test_an_encoding_given_by_the_caller_is_used_without_a_guess(twin: Twin, tmp_path: Path) -> None:
    path = write_layer(tmp_path / "latin.shp", boxes(1), {"ID": ["a"], "NOM": ["Château"]}, encoding="latin1")
    path.with_suffix(".cpg").unlink()
    report = ingest_buildings(twin, path, encoding="latin1")
    assert report.warnings == []
    assert json.loads(buildings(twin)[0]["attributes"])["NOM"] == "Château"


def test_a_file_without_crs_is_an_error_unless_the_crs_is_given(twin: Twin, tmp_path: Path) -> None:
    path = bdtopo_like(tmp_path / "noprj.shp")
    path.with_suffix(".prj").unlink()
    before = twin.table_checksums()
    with pytest.raises(CrsError, match=r"noprj\.shp does not declare its CRS") as err:
        ingest_buildings(twin, path)
    assert "--crs" in err.value.hint
    assert twin.table_checksums() == before
    assert ingest_buildings(twin, path, crs="EPSG:2154").counts["buildings"] == 4


def test_a_crs_that_contradicts_the_file_is_an_error(twin: Twin, tmp_path: Path) -> None:
    path = bdtopo_like(tmp_path / "l93.gpkg")
    before = twin.table_checksums()
    with pytest.raises(CrsError, match=r"l93.gpkg declares EPSG:2154 .* but --crs says EPSG:3857"):
        ingest_buildings(twin, path, crs="EPSG:3857")
    assert twin.table_checksums() == before


@pytest.fixture(scope="module")
def twin_with_buildings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """One twin file, holding a few GIS buildings, for every bad-input case (each must leave it as it was)."""
    folder = tmp_path_factory.mktemp("bad-input")
    with Twin(folder / "twin.duckdb") as twin:
        ingest_buildings(twin, bdtopo_like(folder / "already.gpkg", ID=["P0", "P1", "P2", "P3"]))
        yield twin


def _zero_features(tmp: Path) -> dict[str, Any]:
    path = write_layer(tmp / "empty.gpkg", np.array([], dtype=object), {"ID": pa.array([], pa.string())})
    return {"path": path}


def _not_gis(tmp: Path) -> dict[str, Any]:
    path = tmp / "notes.gpkg"
    path.write_text("these are meeting notes, not a GeoPackage\n")
    return {"path": path}


def _no_such_layer(tmp: Path) -> dict[str, Any]:
    return {"path": bdtopo_like(tmp / "one.gpkg"), "layer": "batiments"}


def _lines(tmp: Path) -> dict[str, Any]:
    lines = shapely.linestrings([[(X0, Y0), (X0 + 50, Y0)], [(X0, Y0 + 9), (X0 + 50, Y0 + 9)]])
    return {"path": write_layer(tmp / "roads.gpkg", lines, {"ID": ["r1", "r2"]}, geometry_type="LineString")}


def _broken_geojson(tmp: Path) -> dict[str, Any]:
    path = tmp / "broken.geojson"
    path.write_text('{\n "type": "FeatureCollection",\n "features": [\n  {"type": "Feature",,}\n ]\n}\n')
    return {"path": path}


def _unknown_map_key(tmp: Path) -> dict[str, Any]:
    return {"path": bdtopo_like(tmp / "map.gpkg"), "mapping": {"height": "HAUTEUR"}}


def _absent_mapped_field(tmp: Path) -> dict[str, Any]:
    return {"path": bdtopo_like(tmp / "map.gpkg"), "mapping": {"height_m": "hoehe"}}


def _duplicate_ids(tmp: Path) -> dict[str, Any]:
    return {"path": bdtopo_like(tmp / "dups.gpkg", ID=["A", "B", "A", "C"])}


def _text_height(tmp: Path) -> dict[str, Any]:
    return {"path": bdtopo_like(tmp / "text.gpkg", HAUTEUR=["9", "neuf", "9", "9"])}


def _point_among_polygons(tmp: Path) -> dict[str, Any]:
    mixed = np.array([shapely.Point(X0, Y0), *boxes(2)], dtype=object)
    return {"path": write_layer(tmp / "mixed.geojson", mixed, {"ID": ["p", "a", "b"]}, geometry_type="Unknown")}


def _ambiguous_layers(tmp: Path) -> dict[str, Any]:
    path = bdtopo_like(tmp / "two.gpkg")
    write_layer(path, boxes(2), {"ID": ["x", "y"]}, layer="annexes")
    return {"path": path}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_zero_features, r"empty.gpkg \(layer empty\) has no features"),
        (_not_gis, r"notes.gpkg is not a GIS file"),
        (_no_such_layer, r"one.gpkg has no layer 'batiments'"),
        (_lines, r"roads.gpkg \(layer roads\) holds LineString geometries, not building footprints"),
        (_broken_geojson, r"broken.geojson: line 4, column 22: not valid JSON"),
        (_unknown_map_key, r"map.gpkg: --map names height, which are not twin fields"),
        (_absent_mapped_field, r"map.gpkg: --map height_m=hoehe, but there is no field 'hoehe'"),
        (_duplicate_ids, r"dups.gpkg: 1 building ids occur more than once \(e.g. 'A', 2 times\)"),
        (_text_height, r"text.gpkg: field 'HAUTEUR' is not numeric"),
        (_point_among_polygons, r"mixed.geojson: 1 of 3 features are not polygons \(first: p, a Point\)"),
        (_ambiguous_layers, r"two.gpkg has 2 layers"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_bad_input_is_refused_naming_the_file_and_leaves_the_twin_unchanged(
    twin_with_buildings: Twin, tmp_path: Path, make: Any, message: str
) -> None:
    twin = twin_with_buildings
    before = twin.table_checksums()
    kwargs = make(tmp_path)
    with pytest.raises(TwinError, match=message) as err:
        ingest_buildings(twin, **kwargs)
    assert err.value.hint
    assert twin.table_checksums() == before


def test_a_layer_named_in_a_multi_layer_file_is_imported_and_its_sibling_is_not_skipped_as_unchanged(
    twin: Twin, tmp_path: Path
) -> None:
    path = bdtopo_like(tmp_path / "two.gpkg")
    write_layer(path, boxes(2), {"ID": ["x", "y"]}, layer="annexes")
    assert ingest_buildings(twin, path, layer="two").counts["buildings"] == 4
    second = ingest_buildings(twin, path, layer="annexes")
    assert not second.unchanged and second.counts["buildings"] == 2
    assert ingest_buildings(twin, path, layer="annexes").unchanged
    assert twin.query("SELECT count(*) AS n FROM buildings").column("n").to_pylist() == [6]


# ------------------------------------------------------------------------------------------------ IFC links
def _add_ifc_building(twin: Twin, building_id: str, footprint: shapely.Geometry) -> None:
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO buildings (building_id, footprint, source) VALUES (?, ST_GeomFromWKB(?), 'ifc')",
            [building_id, shapely.to_wkb(footprint)],
        )


def test_a_gis_building_overlapping_an_ifc_building_is_linked_and_keeps_its_footprint(
    twin: Twin, tmp_path: Path
) -> None:
    ingest_buildings(twin, bdtopo_like(tmp_path / "gis.gpkg", n=3))
    footprints = boxes(3)
    _add_ifc_building(twin, "ifc-main", shapely.buffer(footprints[0], -1.0, join_style="mitre"))  # 64 % of BAT0
    _add_ifc_building(twin, "ifc-corner", shapely.box(X0 + 27, Y0 + 7, X0 + 37, Y0 + 17))  # 9 % of BAT1
    before = {r["building_id"]: r["wkb"] for r in buildings(twin, "source = 'gis'")}
    assert link_gis_to_ifc(twin) == 1
    rows = {r["building_id"]: r for r in buildings(twin, "source = 'gis'")}
    assert {k: r["ifc_building_id"] for k, r in rows.items()} == {"BAT0": "ifc-main", "BAT1": None, "BAT2": None}
    assert {k: r["wkb"] for k, r in rows.items()} == before
    with twin.write() as cur:
        cur.execute("DELETE FROM buildings WHERE building_id = 'ifc-main'")
    assert link_gis_to_ifc(twin) == 0
    assert twin.query("SELECT count(ifc_building_id) AS n FROM buildings").column("n").to_pylist() == [0]


def test_gis_buildings_imported_after_the_ifc_are_linked_by_the_import(twin: Twin, tmp_path: Path) -> None:
    _add_ifc_building(twin, "ifc-main", boxes(1)[0])
    report = ingest_buildings(twin, bdtopo_like(tmp_path / "gis.gpkg", n=2))
    assert report.counts["linked_to_ifc"] == 1
    assert buildings(twin, "building_id = 'BAT0'")[0]["ifc_building_id"] == "ifc-main"


def test_a_gis_id_that_names_an_ifc_building_is_refused_and_the_ifc_row_is_kept(
    twin: Twin, tmp_path: Path
) -> None:
    _add_ifc_building(twin, "BAT1", boxes(1)[0])
    before = twin.table_checksums()
    with pytest.raises(TwinError, match="building id 'BAT1' is already in the twin, from ifc"):
        ingest_buildings(twin, bdtopo_like(tmp_path / "gis.gpkg", n=2))
    assert twin.table_checksums() == before


# ------------------------------------------------------------------------------------------------ pure parts
missing_or_value = st.one_of(st.just(np.nan), st.just(0.0), st.floats(-5, 200, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(
    heights=hnp.arrays(np.float64, 12, elements=missing_or_value),
    storeys=hnp.arrays(np.float64, 12, elements=st.one_of(st.just(np.nan), st.integers(-1, 40).map(float))),
    storey_height=st.floats(2.0, 5.0),
)
def test_estimates_only_fill_what_is_missing_and_flag_it(
    heights: np.ndarray, storeys: np.ndarray, storey_height: float
) -> None:
    r = estimate_heights_and_storeys(heights, storeys, storey_height)
    height_known, storeys_known = heights > 0, storeys > 0
    assert np.array_equal(r.height_m[height_known], heights[height_known])
    assert np.array_equal(r.storeys[storeys_known], storeys[storeys_known])
    assert np.array_equal(r.height_estimated, ~height_known & storeys_known)
    assert np.array_equal(r.storeys_estimated, height_known & ~storeys_known)
    neither = ~height_known & ~storeys_known
    assert np.isnan(r.height_m[neither]).all() and np.isnan(r.storeys[neither]).all()
    assert not (r.height_m == 0).any() and not (r.storeys == 0).any()
    assert (r.storeys[r.storeys_estimated] >= 1).all()


def test_every_bdtopo_use_maps_into_the_twin_vocabulary_and_undifferentiated_is_unknown() -> None:
    assert set(BDTOPO_USES.values()) - {None} <= set(USES)
    uses, unmapped = map_uses(pa.array(list(BDTOPO_USES)), BDTOPO_USES)
    assert unmapped == {} and uses.to_pylist() == list(BDTOPO_USES.values())
    assert BDTOPO_USES["Indifférencié"] is None


def test_parameters_that_make_no_sense_are_refused() -> None:
    with pytest.raises(TwinError, match="storey_height_m"):
        BuildingIngestParams(storey_height_m=0)
    with pytest.raises(TwinError, match="not twin uses"):
        BuildingIngestParams(use_mapping={"Résidentiel": "dwelling"})
