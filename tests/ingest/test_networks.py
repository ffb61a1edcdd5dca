"""Networks into the twin: EPANET, pandapower, pandapipes, GIS layers as nodes and links; bad input refused."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from ingest.demo.generate import DemoFiles
from ingest.networks import ingest_network, snap_endpoints
from ingest.pandapower_net import detect_axis_order
from ingest.streetlights import LAMP_TYPES, LampType, decode_lamp_types
from tests.conftest import shared_data
from twin import Twin
from twin.errors import CrsError, TwinError

X0, Y0 = 651000.0, 6862000.0


@pytest.fixture(scope="module")
def demo(demo_files: DemoFiles) -> Iterator[DemoFiles]:
    yield demo_files


def count(twin: Twin, sql: str, params: list[Any] | None = None) -> int:
    return int(twin.query(sql, params).column(0)[0].as_py())


def write_layer(path: Path, geometries: np.ndarray, fields: dict[str, Any], geometry_type: str, **kw: Any) -> Path:
    table = pa.table({**fields, "geometry": pa.array(shapely.to_wkb(geometries), pa.binary())})
    pyogrio.write_arrow(table, path, geometry_name="geometry", geometry_type=geometry_type, **kw)
    return path


# ---------------------------------------------------------------------------------------------------- EPANET
@pytest.mark.parametrize("name", ["Net3.inp", "ky4.inp"])
def test_epanet_nodes_and_links_match_wntr_model(twin: Twin, name: str) -> None:
    import wntr

    path = shared_data("network-wntr-epanet", name)
    model = wntr.network.WaterNetworkModel(str(path))
    report = ingest_network(twin, path, kind="water", origin=f"{X0},{Y0}")
    network_id = f"water:{path.stem}"
    assert (
        report.counts["nodes"]
        == model.num_nodes
        == count(twin, "SELECT count(*) FROM network_nodes WHERE network_id = ?", [network_id])
    )
    assert (
        report.counts["links"]
        == model.num_links
        == count(twin, "SELECT count(*) FROM network_links WHERE network_id = ?", [network_id])
    )
    assert report.counts["nodes_tank"] == model.num_tanks
    assert report.counts["links_pump"] == model.num_pumps
    # Every link joins two nodes of the twin, and ids carry the network prefix.
    assert (
        count(
            twin,
            "SELECT count(*) FROM network_links l LEFT JOIN network_nodes a ON a.node_id = l.from_node "
            "LEFT JOIN network_nodes b ON b.node_id = l.to_node WHERE a.node_id IS NULL OR b.node_id IS NULL",
        )
        == 0
    )
    assert count(twin, "SELECT count(*) FROM network_nodes WHERE NOT starts_with(node_id, ?)", [network_id]) == 0


def test_epanet_units_are_si_and_origin_places_the_plan(twin: Twin) -> None:
    import wntr

    path = shared_data("network-wntr-epanet", "Net3.inp")
    model = wntr.network.WaterNetworkModel(str(path))
    ingest_network(twin, path, kind="water", origin=(X0, Y0))
    pipe = model.get_link("20")
    row = twin.query(
        "SELECT length_m, diameter_mm, attributes->>'roughness_c' AS c FROM network_links WHERE link_id = ?",
        ["water:Net3:20"],
    ).to_pylist()[0]
    assert row["length_m"] == pytest.approx(pipe.length)
    assert row["diameter_mm"] == pytest.approx(pipe.diameter * 1000)
    assert float(row["c"]) == pytest.approx(pipe.roughness)
    x, y = model.get_node("10").coordinates
    placed = twin.query(
        "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM network_nodes WHERE node_id = 'water:Net3:10'"
    )
    assert placed.to_pylist()[0] == pytest.approx({"x": X0 + x, "y": Y0 + y})


def test_epanet_without_crs_or_origin_is_refused_and_twin_unchanged(twin: Twin) -> None:
    path = shared_data("network-wntr-epanet", "Net1.inp")
    before = twin.table_checksums()
    with pytest.raises(CrsError, match=r"Net1\.inp has no CRS") as err:
        ingest_network(twin, path, kind="water")
    assert "--origin" in err.value.hint and "--crs" in err.value.hint
    assert twin.table_checksums() == before


def test_same_file_twice_changes_nothing_and_a_new_version_replaces(twin: Twin, tmp_path: Path) -> None:
    source = shared_data("network-wntr-epanet", "Net1.inp")
    ingest_network(twin, source, kind="water", origin="0,0")
    before = twin.table_checksums()
    again = ingest_network(twin, source, kind="water", origin="0,0")
    assert again.unchanged and twin.table_checksums() == before
    copy = tmp_path / "Net1.inp"
    copy.write_text(source.read_text().replace("[JUNCTIONS]", "[JUNCTIONS]\n;edited"))
    report = ingest_network(twin, copy, kind="water", origin="0,0")
    assert report.counts["replaced_nodes"] == 11 and report.counts["replaced_links"] == 13
    assert count(twin, "SELECT count(*) FROM network_nodes") == 11


# ---------------------------------------------------------------------------------------------------- pandapower
def test_pandapower_schutterwald_bus_and_line_counts(twin: Twin) -> None:
    path = shared_data("network-pandapower-oberrhein-schutterwald", "lv_schutterwald.json")
    report = ingest_network(twin, path, kind="power")
    assert report.counts["pandapower_buses"] == report.counts["nodes"] == 2940
    assert report.counts["links_line"] == 3000 and report.counts["links_transformer"] == 14
    assert any("[lon, lat]" in w["message"] for w in report.warnings)
    # WGS84 7.87-7.90 E, 48.45-48.46 N lands in Lambert-93 east of France (x about 1.06e6).
    box = twin.query("SELECT min(ST_X(geom)) AS x0, max(ST_X(geom)) AS x1 FROM network_nodes").to_pylist()[0]
    assert 1.0e6 < box["x0"] < box["x1"] < 1.1e6
    # The stated line lengths agree with the lines drawn in the twin (Lambert-93 scale error < 0.2 % there).
    ratio = twin.query("SELECT median(ST_Length(geom) / length_m) AS r FROM network_links WHERE link_kind='line'")
    assert ratio.column("r")[0].as_py() == pytest.approx(1.0, abs=0.01)
    loads = count(twin, "SELECT sum((attributes->>'loads')::INT) FROM network_nodes")
    assert loads == report.counts["pandapower_loads"] == 2757


def test_pandapipes_heat_detects_lat_lon_order(twin: Twin) -> None:
    path = shared_data("network-pandapipes-schutterwald-heat-gas", "sw_heat.json")
    report = ingest_network(twin, path, kind="heat")
    assert report.counts["nodes"] == 488 and report.counts["links_pipe"] == 482
    messages = " ".join(w["message"] for w in report.warnings)
    assert "coordinate order [lat, lon]" in messages and "WGS84" in messages
    assert report.counts["nodes_unplaced"] == 6
    ratio = twin.query("SELECT median(ST_Length(geom) / length_m) AS r FROM network_links WHERE link_kind='pipe'")
    assert ratio.column("r")[0].as_py() == pytest.approx(1.0, abs=0.01)


def test_pandapipes_gas_needs_the_crs_of_its_xy_then_overlays_the_power_grid(twin: Twin) -> None:
    gas = shared_data("network-pandapipes-schutterwald-heat-gas", "gas_net_schutterwald_1bar.json")
    before = twin.table_checksums()
    with pytest.raises(CrsError, match="does not declare the CRS") as err:
        ingest_network(twin, gas, kind="gas")
    assert "EPSG:31467" in err.value.hint and twin.table_checksums() == before
    report = ingest_network(twin, gas, kind="gas", crs="EPSG:31467")
    assert report.counts["nodes"] == 2559 and report.counts["links"] == 2559
    assert count(twin, "SELECT sum((attributes->>'sinks')::INT) FROM network_nodes") == 1506
    # Same town as the LV grid: the two extents overlap.
    ingest_network(
        twin, shared_data("network-pandapower-oberrhein-schutterwald", "lv_schutterwald.json"), kind="power"
    )
    boxes = twin.query(
        "SELECT w.kind, min(ST_X(geom)) x0, max(ST_X(geom)) x1, min(ST_Y(geom)) y0, max(ST_Y(geom)) y1 "
        "FROM network_nodes JOIN networks w USING (network_id) GROUP BY w.kind ORDER BY w.kind"
    ).to_pylist()
    (g, p) = boxes
    assert g["x0"] < p["x1"] and p["x0"] < g["x1"] and g["y0"] < p["y1"] and p["y0"] < g["y1"]


def test_axis_order_decided_by_stated_lengths() -> None:
    rng = np.random.default_rng(1)
    lonlat = np.column_stack([7.87 + rng.uniform(0, 0.02, 50), 48.45 + rng.uniform(0, 0.01, 50)])
    from pyproj import Geod

    f, t = np.arange(49), np.arange(1, 50)
    _, _, length = Geod(ellps="WGS84").inv(lonlat[f, 0], lonlat[f, 1], lonlat[t, 0], lonlat[t, 1])
    assert detect_axis_order(lonlat, f, t, length)[0] == "lonlat"
    assert detect_axis_order(lonlat[:, ::-1], f, t, length)[0] == "latlon"
    assert detect_axis_order(np.array([[120.0, 10.0]]), f[:0], t[:0], length[:0])[0] == "lonlat"


# ---------------------------------------------------------------------------------------------------- GIS and demo
def test_demo_water_and_power_keep_their_ids_and_units(twin: Twin, demo: DemoFiles) -> None:
    assert demo.water and demo.power
    water = ingest_network(twin, demo.water, kind="water")
    power = ingest_network(twin, demo.power, kind="power")
    assert (
        water.counts["nodes"] == demo.counts["water_nodes"] and water.counts["links"] == demo.counts["water_pipes"]
    )
    assert (
        power.counts["nodes"] == demo.counts["power_nodes"]
        and power.counts["links"] == demo.counts["power_cables"]
    )
    row = twin.query(
        "SELECT from_node, diameter_mm, attributes->>'roughness_c' AS c, length_m FROM network_links "
        "WHERE link_id = 'water:water:WP00000'"
    ).to_pylist()[0]
    assert row["from_node"].startswith("water:water:WJ") and row["diameter_mm"] > 0 and float(row["c"]) > 0
    assert row["length_m"] > 0
    cable = twin.query("SELECT attributes FROM network_links WHERE network_id = 'power:power_lv' LIMIT 1")
    attributes = json.loads(cable.column(0)[0].as_py())
    assert attributes["voltage_kv"] == 0.4 and attributes["max_i_ka"] > 0
    assert count(twin, "SELECT count(*) FROM network_nodes WHERE node_kind = 'reservoir'") == 1


def test_demo_roads_line_ends_snapped_into_intersections(twin: Twin, demo: DemoFiles) -> None:
    assert demo.roads
    report = ingest_network(twin, demo.roads, kind="road")
    assert report.counts["links"] == demo.counts["roads"]
    # The streets are the same grid as the water mains: one node per intersection, as many as the water nodes.
    assert report.counts["nodes_intersection"] == demo.counts["water_nodes"] - 1  # minus the reservoir
    width = twin.query("SELECT DISTINCT attributes->>'width_m' AS w FROM network_links").column(0).to_pylist()
    assert width == ["10.0"]


def test_demo_streetlights_keep_technology_and_wattage(twin: Twin, demo: DemoFiles) -> None:
    assert demo.streetlights
    report = ingest_network(twin, demo.streetlights, kind="lighting")
    assert report.counts["lights"] == demo.counts["streetlights"]
    techs = {k: v for k, v in report.counts.items() if k.startswith("technology_")}
    assert sum(techs.values()) == report.counts["lights"] and "technology_unknown" not in techs
    assert report.counts["wattage_unknown"] == 0
    row = twin.query(
        "SELECT attributes->>'technology' AS t, attributes->>'type_lampe' AS raw, "
        "(attributes->>'wattage_w')::DOUBLE AS w FROM network_nodes WHERE node_kind = 'light' "
        "AND (attributes->>'technology') = 'shp' LIMIT 1"
    ).to_pylist()[0]
    assert row["raw"] == "Sodium haute pression" and row["w"] in (70, 100, 150, 250)


def test_montpellier_lights_decoded_as_latin1_with_unknown_technology(twin: Twin) -> None:
    path = shared_data("streetlights-montpellier", "VilleMTP_MTP_EclairagePublic.shp")
    report = ingest_network(twin, path, kind="lighting", encoding="latin1")
    assert report.counts["lights"] == 29969 == count(twin, "SELECT count(*) FROM network_nodes")
    # Luminaire types say nothing of the lamp: technology unknown, never guessed.
    assert report.counts["technology_unknown"] == 29969 and report.counts["wattage_unknown"] == 29969
    rows = twin.query("SELECT attributes->>'lamp_type' AS t, count(*) AS n FROM network_nodes GROUP BY ALL")
    types = {r["t"]: r["n"] for r in rows.to_pylist()}
    assert types["LANTERNE"] == 22594 and types["BORNE COLONNE"] == 750 and types[None] == 27
    # Its metadata shows the lamp fields the publisher dropped: the import says where the answer is.
    assert report.counts["lamp_fields_dropped_by_publisher"] == 3
    assert any("type_lampe" in w["message"] and "puissance" in w["message"] for w in report.as_dict()["warnings"])
    box = twin.query("SELECT min(ST_X(geom)) x0, max(ST_X(geom)) x1 FROM network_nodes").to_pylist()[0]
    assert 765000 < box["x0"] < box["x1"] < 776000


def test_lamp_types_decode_text_wattage_and_are_overridable() -> None:
    tech, watts, unknown = decode_lamp_types(pa.array(["SHP 150W", "Iodures métalliques", "Néon", "Lanterne"]))
    assert tech.to_pylist() == ["shp", "metal_halide", None, None]
    assert watts.to_pylist() == [150.0, None, None, None] and unknown == {"Néon": 1}
    custom = {**LAMP_TYPES, "neon": LampType("fluorescent", 36.0, "site survey")}
    assert decode_lamp_types(pa.array(["Néon"]), custom)[0].to_pylist() == ["fluorescent"]


def test_single_line_layer_snaps_close_ends_into_nodes(twin: Twin, tmp_path: Path) -> None:
    lines = shapely.linestrings(
        [[[X0, Y0], [X0 + 50, Y0]], [[X0 + 50.3, Y0], [X0 + 50, Y0 + 40]], [[X0 + 50, Y0 + 40.2], [X0, Y0]]]
    )
    path = write_layer(
        tmp_path / "mains.geojson", lines, {"dn": [100.0, 150.0, 100.0]}, "LineString", crs="EPSG:2154"
    )
    report = ingest_network(twin, path, kind="water")
    assert report.counts["nodes"] == 3 and report.counts["links"] == 3
    assert count(twin, "SELECT count(DISTINCT diameter_mm) FROM network_links") == 2
    other = Twin(tmp_path / "b.duckdb")
    try:
        strict = ingest_network(other, path, kind="water", snap_m=0.1)
        assert strict.counts["nodes"] == 5  # 0.3 m and 0.2 m gaps no longer close
    finally:
        other.close()


def test_snap_endpoints_groups_transitively() -> None:
    ends = np.array([[0.0, 0.0], [0.4, 0.0], [0.8, 0.0], [5.0, 5.0]])
    index, new = snap_endpoints(ends, np.empty((0, 2)), 0.5)
    assert index.tolist() == [0, 0, 0, 1] and new.tolist() == [[0.0, 0.0], [5.0, 5.0]]


# ---------------------------------------------------------------------------------------------------- bad input
def test_line_layer_given_as_lighting_is_refused(twin: Twin, demo: DemoFiles) -> None:
    before = twin.table_checksums()
    with pytest.raises(TwinError, match="holds lines, not street-light points"):
        ingest_network(twin, demo.roads or "", kind="lighting")
    assert twin.table_checksums() == before


def test_points_alone_are_not_a_water_network(twin: Twin, demo: DemoFiles) -> None:
    before = twin.table_checksums()
    with pytest.raises(TwinError, match="holds only points"):
        ingest_network(twin, demo.streetlights or "", kind="water")
    assert twin.table_checksums() == before


def test_zero_features_no_crs_and_broken_geometry_are_refused(twin: Twin, tmp_path: Path) -> None:
    before = twin.table_checksums()
    empty = write_layer(tmp_path / "empty.gpkg", np.array([], object), {}, "LineString", crs="EPSG:2154")
    with pytest.raises(TwinError, match="has no features"):
        ingest_network(twin, empty, kind="water")
    line = shapely.linestrings([[[X0, Y0], [X0 + 10, Y0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio warns that the file will have no CRS: that is the point
        no_crs = write_layer(tmp_path / "nocrs.shp", line, {"id": ["a"]}, "LineString")
    geojson_l93 = write_layer(tmp_path / "l93.geojson", line, {"id": ["a"]}, "LineString", crs="EPSG:4326")
    with pytest.raises(CrsError, match="coordinates fall outside"):
        ingest_network(twin, geojson_l93, kind="water")
    with pytest.raises(CrsError, match="does not declare its CRS"):
        ingest_network(twin, no_crs, kind="water")
    broken = tmp_path / "broken.geojson"
    broken.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
                    },
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "LineString", "coordinates": [[1, 2], [1, 2]]},
                    },
                ],
            }
        )
    )
    with pytest.raises(TwinError, match="broken geometries"):
        ingest_network(twin, broken, kind="water", crs="EPSG:2154")
    with pytest.raises(TwinError, match="does not exist"):
        ingest_network(twin, tmp_path / "missing.inp", kind="water")
    assert twin.table_checksums() == before


def test_links_to_unknown_nodes_are_refused(twin: Twin, tmp_path: Path) -> None:
    path = tmp_path / "net.gpkg"
    write_layer(
        path,
        shapely.points([[X0, Y0], [X0 + 10, Y0]]),
        {"node_id": ["A", "B"]},
        "Point",
        layer="nodes",
        crs="EPSG:2154",
    )
    line = shapely.linestrings([[[X0, Y0], [X0 + 10, Y0]]])
    write_layer(
        path,
        line,
        {"link_id": ["P1"], "from_node": ["A"], "to_node": ["C"]},
        "LineString",
        layer="pipes",
        crs="EPSG:2154",
        append=True,
    )
    before = twin.table_checksums()
    with pytest.raises(TwinError, match="link P1 has to node 'C'"):
        ingest_network(twin, path, kind="water")
    assert twin.table_checksums() == before


def test_broken_epanet_and_pandapower_files_are_refused(twin: Twin, tmp_path: Path) -> None:
    before = twin.table_checksums()
    inp = tmp_path / "bad.inp"
    inp.write_text("[PIPES]\nP1 J1 J2 100 200 130\n[END]\n")
    with pytest.raises(TwinError, match=r"bad\.inp cannot be read as an EPANET"):
        ingest_network(twin, inp, kind="water", origin="0,0")
    pp = tmp_path / "bad.json"
    pp.write_text('{"_module": "pandapower.auxiliary", "_class": "pandapowerNet", "_object": {"bus": 3}}')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TwinError, match=r"bad\.json"):
            ingest_network(twin, pp, kind="power")
    with pytest.raises(TwinError, match="unknown network kind"):
        ingest_network(twin, inp, kind="sewer")
    assert twin.table_checksums() == before
