"""CityJSON buildings: footprints from the ground (or the plan outline), heights from the roof, parts merged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from ingest.cityjson import read_cityjson
from ingest.gis_buildings import ingest_buildings
from tests.conftest import shared_data
from twin import Twin
from twin.errors import CrsError, TwinError


def sample(name: str) -> Path:
    return shared_data("cityjson-cjio-samples", name)


@pytest.fixture
def rd_twin(tmp_path: Path) -> Iterator[Twin]:
    """A twin in the Dutch national CRS (RD New), so that Delft's footprints are measured without reprojection."""
    with Twin(tmp_path / "rd.duckdb", crs="EPSG:28992") as opened:
        yield opened


def rows(twin: Twin) -> dict[str, dict[str, Any]]:
    table = twin.query(
        "SELECT building_id, height_m, height_estimated, storeys_above_ground AS storeys, storeys_estimated, use, "
        "construction_year, footprint_area_m2, source, source_ref, attributes, ST_AsWKB(footprint) AS wkb "
        "FROM buildings"
    )
    return {r["building_id"]: r for r in table.to_pylist()}


# ------------------------------------------------------------------------------------------------ synthetic files
def prism(x: float, y: float, dx: float, dy: float, z0: float, z1: float, first: int) -> tuple[list, list]:
    """Vertices and the six faces (bottom, top, four walls) of a box, vertex indices starting at ``first``."""
    corners = [(x, y), (x + dx, y), (x + dx, y + dy), (x, y + dy)]
    vertices = [[cx, cy, z0] for cx, cy in corners] + [[cx, cy, z1] for cx, cy in corners]
    b, t = list(range(first, first + 4)), list(range(first + 4, first + 8))
    faces = [[b[::-1]], [t]] + [[[b[i], b[(i + 1) % 4], t[(i + 1) % 4], t[i]]] for i in range(4)]
    return vertices, faces


def city(
    objects: dict[str, Any], vertices: list, *, version: str = "2.0", crs: int | None = 28992
) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "CityJSON", "version": version, "CityObjects": objects, "vertices": vertices}
    doc["transform"] = {"scale": [1.0, 1.0, 1.0], "translate": [0.0, 0.0, 0.0]}
    if crs is not None:
        doc["metadata"] = {"referenceSystem": f"https://www.opengis.net/def/crs/EPSG/0/{crs}"}
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, indent=1))
    return path


def lod1_block(attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    vertices, faces = prism(85000, 447000, 10, 20, 0.0, 9.0, 0)
    building: dict[str, Any] = {"type": "Building", "attributes": attributes or {}}
    building["geometry"] = [{"type": "Solid", "lod": "1", "boundaries": [faces]}]
    return city({"block": building}, vertices)


def lod2_with_parts_and_overhang() -> dict[str, Any]:
    """A building of two parts side by side; the left part's roof overhangs its ground by 1 m all round."""
    left_v, left_f = prism(0, 0, 10, 10, 2.0, 8.0, 0)
    right_v, right_f = prism(10, 0, 5, 10, 2.0, 12.0, 8)
    roof_v = [[-1, -1, 8.0], [11, -1, 8.0], [11, 11, 8.0], [-1, 11, 8.0]]
    left_f[1] = [[16, 17, 18, 19]]  # the left roof is the larger, overhanging one
    semantics = {
        "surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
        "values": [[0, 1, 2, 2, 2, 2]],
    }
    objects = {
        "house": {"type": "Building", "children": ["house-1", "house-2"], "attributes": {"roofType": "1000"}},
        "house-1": {
            "type": "BuildingPart",
            "parents": ["house"],
            "geometry": [
                {"type": "Solid", "lod": "1.2", "boundaries": [prism(0, 0, 10, 10, 2.0, 7.0, 0)[1]]},
                {"type": "Solid", "lod": "2.2", "boundaries": [left_f], "semantics": semantics},
            ],
        },
        "house-2": {
            "type": "BuildingPart",
            "parents": ["house"],
            "geometry": [{"type": "Solid", "lod": "2.2", "boundaries": [right_f], "semantics": semantics}],
        },
    }
    return city(objects, left_v + right_v + roof_v, crs=2056)


# ------------------------------------------------------------------------------------------------ the reader
def test_the_reader_measures_an_lod1_block(tmp_path: Path) -> None:
    read = read_cityjson(write(tmp_path / "block.city.json", lod1_block()))
    assert read.ids == ["block"] and read.crs == "EPSG:28992" and read.lods == ["1"]
    assert read.footprints[0].area == pytest.approx(200.0) and read.height_m.tolist() == [9.0]


def test_lod2_parts_are_aggregated_with_the_ground_as_footprint_and_the_highest_roof(tmp_path: Path) -> None:
    read = read_cityjson(write(tmp_path / "house.city.json", lod2_with_parts_and_overhang()))
    assert read.ids == ["house"] and read.parts == 2 and read.lods == ["2.2"]
    footprint = read.footprints[0]
    assert footprint.equals(shapely.box(0, 0, 15, 10))  # the ground of both parts, not the overhanging roof
    assert read.height_m.tolist() == [10.0]  # roof at 12 m over ground at 2 m


def test_a_vertex_transform_is_applied(tmp_path: Path) -> None:
    doc = lod1_block()
    doc["transform"] = {"scale": [0.001, 0.001, 0.01], "translate": [1000.0, 2000.0, 5.0]}
    read = read_cityjson(write(tmp_path / "scaled.city.json", doc))
    assert read.footprints[0].area == pytest.approx(200.0 * 1e-6)
    assert read.height_m[0] == pytest.approx(0.09)
    assert shapely.get_coordinates(read.footprints[0]).min(axis=0) == pytest.approx([1085.0, 2447.0])


# ------------------------------------------------------------------------------------------------ shared samples
def test_delft_lod1_imports_160_buildings_with_heights_from_the_geometry(rd_twin: Twin) -> None:
    report = ingest_buildings(rd_twin, sample("delft.json"))
    assert report.counts["buildings"] == 160 and report.counts["lod_1"] == 160
    stored = rows(rd_twin)
    assert len(stored) == 160
    for r in stored.values():
        kept = json.loads(r["attributes"])
        # BGT gives the roof height and the ground level: the solid spans exactly from one to the other.
        assert r["height_m"] == pytest.approx(kept["measuredHeight"] - kept["min-height-surface"], abs=1e-6)
        assert not r["height_estimated"] and r["storeys_estimated"] and r["storeys"] >= 1
        assert r["source"] == "cityjson" and r["source_ref"] == r["building_id"]
    footprints = shapely.from_wkb([r["wkb"] for r in stored.values()])
    assert shapely.is_valid(footprints).all() and (shapely.area(footprints) > 1.0).all()
    # The footprints lie inside the file's declared extent (RD New).
    xmin, ymin, _, xmax, ymax, _ = json.loads(sample("delft.json").read_text())["metadata"]["geographicalExtent"]
    assert shapely.box(xmin, ymin, xmax, ymax).buffer(0.01).contains(shapely.union_all(footprints))


def test_zurich_lod2_imports_49_buildings_with_their_161_parts(tmp_path: Path) -> None:
    doc = json.loads(sample("zurich_subset_lod2.json").read_text())
    with Twin(tmp_path / "ch.duckdb", crs="EPSG:2056") as twin:
        report = ingest_buildings(twin, sample("zurich_subset_lod2.json"))
        stored = rows(twin)
    assert report.counts["buildings"] == 49 and report.counts["building_parts"] == 161
    for key, r in stored.items():
        extent = doc["CityObjects"][key]["geographicalExtent"]
        assert r["height_m"] == pytest.approx(extent[5] - extent[2], abs=2e-3)  # ground to highest roof
    # One building checked by hand: its footprint is its single GroundSurface, not its larger roof.
    key = "UUID_583c776f-5b0c-4d42-9c37-5b94e0c21a30"
    scale, translate = np.array(doc["transform"]["scale"]), np.array(doc["transform"]["translate"])
    grounds = []
    for child in doc["CityObjects"][key]["children"]:
        geometry = doc["CityObjects"][child]["geometry"][0]
        kinds = geometry["semantics"]["surfaces"]
        for surface, value in zip(geometry["boundaries"], geometry["semantics"]["values"], strict=True):
            if kinds[value]["type"] == "GroundSurface":
                ring = np.array([doc["vertices"][i] for i in surface[0]]) * scale + translate
                grounds.append(shapely.Polygon(ring[:, :2]))
    assert len(grounds) == 1
    assert stored[key]["footprint_area_m2"] == pytest.approx(grounds[0].area, rel=1e-6)


def test_cityjson_footprints_are_reprojected_into_the_twin_crs_from_the_horizontal_part_of_a_compound_crs(
    twin: Twin,
) -> None:
    ingest_buildings(twin, sample("delft.json"))  # EPSG:7415 (RD New + NAP) into a Lambert-93 twin
    native = read_cityjson(sample("delft.json"))
    stored = rows(twin)
    to_rd = Transformer.from_crs("EPSG:2154", "EPSG:28992", always_xy=True)
    back = {
        k: shapely.transform(
            shapely.from_wkb(r["wkb"]), lambda xy: np.column_stack(to_rd.transform(xy[:, 0], xy[:, 1]))
        )
        for k, r in stored.items()
    }
    for key, footprint in zip(native.ids, native.footprints, strict=True):
        assert shapely.hausdorff_distance(back[key], footprint) < 0.01


def test_a_cityjson_without_crs_is_an_error_unless_the_crs_is_given(twin: Twin) -> None:
    before = twin.table_checksums()
    with pytest.raises(CrsError, match=r"rotterdam_subset\.json does not declare its CRS"):
        ingest_buildings(twin, sample("rotterdam_subset.json"))
    assert twin.table_checksums() == before
    report = ingest_buildings(twin, sample("rotterdam_subset.json"), crs="EPSG:28992")
    assert report.counts["buildings"] == 16 and report.counts["height_unknown"] == 0


def test_the_cityjson_attributes_go_through_the_same_mapping(twin: Twin, tmp_path: Path) -> None:
    path = write(
        tmp_path / "block.city.json",
        lod1_block({"storeysAboveGround": 3, "yearOfConstruction": 1975, "function": "office", "hoogte": 11.5}),
    )
    ingest_buildings(twin, path, mapping={"use": "function", "height_m": "hoogte"})
    r = rows(twin)["block"]
    assert (r["storeys"], r["storeys_estimated"], r["construction_year"], r["use"]) == (3, False, 1975, "office")
    assert r["height_m"] == 11.5 and not r["height_estimated"]  # the mapped attribute wins over the geometry
    assert json.loads(r["attributes"])["function"] == "office"


def test_reimporting_a_cityjson_file_changes_nothing(rd_twin: Twin) -> None:
    ingest_buildings(rd_twin, sample("delft.json"))
    before = rd_twin.table_checksums()
    assert ingest_buildings(rd_twin, sample("delft.json")).unchanged
    assert rd_twin.table_checksums() == before


# ------------------------------------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def twin_with_a_block(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """One twin file holding a CityJSON building, for every bad-input case (each must leave it as it was)."""
    folder = tmp_path_factory.mktemp("bad-cityjson")
    with Twin(folder / "twin.duckdb") as twin:
        ingest_buildings(twin, write(folder / "ok.city.json", lod1_block()))
        yield twin


def _invalid_json(tmp: Path) -> Path:
    lines = json.dumps(lod1_block(), indent=1).splitlines()
    lines.insert(4, "  oops,")
    (tmp / "broken.city.json").write_text("\n".join(lines))
    return tmp / "broken.city.json"


def _not_cityjson(tmp: Path) -> Path:
    return write(tmp / "list.city.json", {"type": "FeatureCollection", "features": []})


def _old_version(tmp: Path) -> Path:
    doc = lod1_block()
    doc["version"] = "1.0"
    return write(tmp / "old.city.json", doc)


def _no_buildings(tmp: Path) -> Path:
    vertices, faces = prism(0, 0, 10, 10, 0, 0, 0)
    road = {"type": "Road", "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": faces[:1]}]}
    return write(tmp / "roads.city.json", city({"road": road}, vertices))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_invalid_json, r"broken.city.json: line 5, column 3: not valid JSON"),
        (_not_cityjson, r"list.city.json is JSON but not CityJSON"),
        (_old_version, r"old.city.json is CityJSON 1.0; twin reads CityJSON 1.1 and 2.0"),
        (_no_buildings, r"roads.city.json has no Building objects"),
    ],
    ids=["invalid_json", "not_cityjson", "old_version", "no_buildings"],
)
def test_a_bad_cityjson_is_refused_naming_the_file_and_leaves_the_twin_unchanged(
    twin_with_a_block: Twin, tmp_path: Path, make: Any, message: str
) -> None:
    twin = twin_with_a_block
    before = twin.table_checksums()
    with pytest.raises(TwinError, match=message) as err:
        ingest_buildings(twin, make(tmp_path))
    assert err.value.hint
    assert twin.table_checksums() == before
