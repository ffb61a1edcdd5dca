"""The figure builders, called without a browser: traces, vertex counts, colours per KPI, ids behind a click."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
import shapely

from dashboard.figures.building import building_figure, element_colouring, element_mesh
from dashboard.figures.colour import UNKNOWN_COLOUR, category_colouring, numeric_colouring
from dashboard.figures.district import district_figure, district_mesh, network_traces
from dashboard.figures.operations import operations_map, sensor_series_figure
from dashboard.kpis import DPE_CLASSES, DPE_COLOURS, USE_COLOURS
from dashboard.pages.district import colouring_for

ORIGIN = (1000.0, 2000.0)


def blob(n_vertices: int, offset: float = 0.0) -> tuple[bytes, bytes]:
    xyz = (np.arange(n_vertices * 3, dtype=np.float32).reshape(-1, 3) % 7) + offset
    faces = np.array([[k, (k + 1) % n_vertices, (k + 2) % n_vertices] for k in range(n_vertices)], np.int32)
    return xyz.tobytes(), faces.tobytes()


@pytest.fixture
def district() -> tuple[pa.Table, pa.Table]:
    """Three buildings: two footprints (one of unknown height) and one IFC building with two element meshes."""
    wkb = [shapely.to_wkb(shapely.box(1000 + 20 * k, 2000, 1010 + 20 * k, 2010)) for k in range(3)]
    buildings = pa.table(
        {
            "building_id": ["A", "B", "IFC1"],
            "name": ["a", None, "Town hall"],
            "use": ["housing", "office", None],
            "construction_year": [1960, None, 1884],
            "height_m": [9.0, None, 11.0],
            "footprint_wkb": wkb,
            "gis_ids": pa.array([None, None, ["G1"]], pa.list_(pa.string())),
        }
    )
    v1, f1 = blob(5)
    v2, f2 = blob(8, 3.0)
    meshes = pa.table(
        {
            "building_id": ["IFC1", "IFC1"],
            "vertices": [v1, v2],
            "faces": [f1, f2],
            "origin_x_m": [1040.0, 1040.0],
            "origin_y_m": [2000.0, 2000.0],
        }
    )
    return buildings, meshes


def ids_of(fig) -> set[str]:  # type: ignore[no-untyped-def]
    meshes = [t for t in fig.data if t.type == "mesh3d"]
    ids = next(t.meta["ids"] for t in meshes if t.meta)
    return {ids[int(k)] for t in meshes for k in np.unique(t.customdata)}


def test_the_district_is_one_mesh_holding_every_vertex_of_every_building(district) -> None:  # type: ignore[no-untyped-def]
    buildings, meshes = district
    mesh = district_mesh(buildings, meshes, ORIGIN)
    assert mesh.n_vertices == 8 + 8 + (5 + 8)  # two extruded boxes, the IFC element meshes as they are
    colouring = category_colouring(buildings.column("use").to_pylist(), list(USE_COLOURS), USE_COLOURS, "Use")
    fig = district_figure(buildings, mesh, colouring)
    mesh_traces = [t for t in fig.data if t.type == "mesh3d"]
    assert [t.name for t in mesh_traces] == ["buildings", "buildings: unknown"]  # IFC1 has no use: grey
    assert sum(len(t.x) for t in mesh_traces) == mesh.n_vertices
    assert mesh_traces[0].x.dtype == np.float32 and mesh_traces[1].color == UNKNOWN_COLOUR
    assert ids_of(fig) == {"A", "B", "IFC1"}
    legend = {t.name: t.marker.color for t in fig.data if t.type == "scatter3d"}
    assert legend == {"housing": USE_COLOURS["housing"], "office": USE_COLOURS["office"]}


def test_a_click_on_any_vertex_names_its_building(district) -> None:  # type: ignore[no-untyped-def]
    buildings, meshes = district
    mesh = district_mesh(buildings, meshes, ORIGIN)
    fig = district_figure(buildings, mesh, numeric_colouring([1.0, 2.0, 3.0], "x"))
    trace = fig.data[0]
    ids = trace.meta["ids"]
    # what dashboard.pick does in the browser: meta.ids[customdata[pointNumber]]
    for vertex in (0, 20, len(trace.x) - 1):
        name = ids[int(trace.customdata[vertex])]
        assert name == buildings.column("building_id")[int(mesh.owner[vertex])].as_py()


def test_numeric_kpis_colour_by_intensity_and_unknown_values_stay_grey(district) -> None:  # type: ignore[no-untyped-def]
    buildings, meshes = district
    mesh = district_mesh(buildings, meshes, ORIGIN)
    colouring = numeric_colouring(buildings.column("height_m").to_pylist(), "Height", "m")
    fig = district_figure(buildings, mesh, colouring)
    known, unknown = fig.data[0], fig.data[1]
    assert set(np.unique(known.intensity).tolist()) == {9.0, 11.0}
    assert {int(k) for k in np.unique(unknown.customdata)} == {1}  # B: height unknown
    assert known.colorbar.title.text == "Height (m)"


def test_an_ifc_building_takes_the_kpi_of_the_footprint_it_details() -> None:
    kpi = category_colouring(["C"], DPE_CLASSES, DPE_COLOURS, "DPE")  # the registry's categories
    from dashboard.kpis import Kpi

    dpe = Kpi("dpe", "DPE class", "category", categories=DPE_CLASSES, colours=DPE_COLOURS)
    c = colouring_for(dpe, ["A", "IFC1"], [None, ["G1"]], {"A": "B", "G1": "E"})
    assert c.labels == ["B", "E"] and kpi.cmax == len(DPE_CLASSES) - 0.5
    # each class has its own colour band on the stepped scale
    assert c.colorscale[2 * DPE_CLASSES.index("E")][1] == DPE_COLOURS["E"]


def test_filters_drop_whole_buildings_from_the_mesh(district) -> None:  # type: ignore[no-untyped-def]
    buildings, meshes = district
    mesh = district_mesh(buildings, meshes, ORIGIN)
    colouring = numeric_colouring([1.0, 2.0, 3.0], "x")
    fig = district_figure(buildings, mesh, colouring, keep=np.array([True, False, True]))
    assert ids_of(fig) == {"A", "IFC1"}
    assert sum(len(t.x) for t in fig.data if t.type == "mesh3d") == 8 + 13


def test_networks_draw_one_trace_per_kind_and_loading_when_a_check_stored_it() -> None:
    lines = pa.table(
        {
            "link_id": ["w1", "w2", "p1"],
            "kind": ["water", "water", "power"],
            "link_kind": ["pipe", "pipe", "cable"],
            "geom_wkb": [
                shapely.to_wkb(shapely.LineString([(1000, 2000), (1010, 2000)])),
                shapely.to_wkb(shapely.LineString([(1010, 2000), (1010, 2010), (1020, 2010)])),
                shapely.to_wkb(shapely.LineString([(1000, 2005), (1005, 2005)])),
            ],
            "loading_percent": [None, None, 130.0],
            "flag": [None, None, "overloaded"],
        }
    )
    by_kind = network_traces(lines, ORIGIN)
    assert [t.name for t in by_kind] == ["power network", "water network"]
    water = by_kind[1]
    assert np.isnan(water.x).sum() == 1 and len(water.x) == 2 + 3 + 1  # two lines, one break
    loading = network_traces(lines, ORIGIN, "loading")
    assert list(loading[0].line.color) == [130.0, 130.0]  # power: coloured by loading
    assert loading[1].line.color == "#1f77b4"  # water: no loading stored, kind colour


def elements_table() -> pa.Table:
    v, f = blob(6)
    return pa.table(
        {
            "ifc_guid": ["w1", "w2", "win", "st"],
            "building_id": ["B"] * 4,
            "ifc_class": ["IfcWall", "IfcWall", "IfcWindow", "IfcStair"],
            "origin_x_m": [1000.0] * 4,
            "origin_y_m": [2000.0] * 4,
            "vertices": [v] * 4,
            "faces": [f] * 4,
            "n_vertices": [6] * 4,
            "storey_id": ["s0", "s1", "s0", "s1"],
            "name": ["w", "w", "win", "st"],
            "is_external": [True, False, True, None],
            "load_bearing": [True, None, False, None],
            "circulation": [None, None, None, "stair"],
        }
    )


@pytest.mark.parametrize(
    ("mode", "labels"),
    [
        ("class", ["IfcWall", "IfcWall", "IfcWindow", "IfcStair"]),
        ("load_bearing", ["load-bearing", "unknown", "not load-bearing", "unknown"]),
        ("external", ["external", "internal", "external", "unknown"]),
        ("cores", ["other", "other", "other", "stair"]),
        ("windows", ["other", "other", "window", "other"]),
    ],
)
def test_elements_are_coloured_by_class_or_by_a_reversibility_flag(mode: str, labels: list[str]) -> None:
    elements = elements_table()
    colouring = element_colouring(elements, mode)
    assert colouring.labels == labels
    fig = building_figure(elements, element_mesh(elements, ORIGIN), colouring)
    drawn = sum(len(t.x) for t in fig.data if t.type == "mesh3d")
    assert drawn == 4 * 6


def test_a_storey_isolated_shows_only_its_elements() -> None:
    elements = elements_table()
    fig = building_figure(
        elements, element_mesh(elements, ORIGIN), element_colouring(elements, "class"), storey_id="s1"
    )
    meshes = [t for t in fig.data if t.type == "mesh3d"]
    ids = meshes[0].meta["ids"]
    assert {ids[int(k)] for t in meshes for k in np.unique(t.customdata)} == {"w2", "st"}
    assert sum(len(t.x) for t in meshes) == 12


def test_evidence_elements_are_highlighted() -> None:
    c = element_colouring(elements_table(), "evidence", evidence={"w2"})
    assert c.labels == ["other", "evidence", "other", "other"]


def sensors_table() -> pa.Table:
    return pa.table(
        {
            "sensor_id": ["t1", "t2", "c1"],
            "kind": ["temperature", "temperature", "co2"],
            "unit_ucum": ["Cel", "Cel", "[ppm]"],
            "x": [1000.0, 1010.0, 1020.0],
            "y": [2000.0, 2000.0, 2000.0],
            "value": [19.0, 23.0, 800.0],
            "alert_level": [None, 3, None],
        }
    )


def test_the_operations_map_shows_sensors_with_their_ids_and_reports_linked_to_assets() -> None:
    reports = pa.table(
        {
            "report_id": ["R1"],
            "service_name": ["Éclairage"],
            "description": ["lampe"],
            "status": ["open"],
            "x": [1005.0],
            "y": [2003.0],
            "asset_id": ["L1"],
        }
    )
    fig = operations_map(
        [shapely.to_wkb(shapely.box(1000, 2000, 1010, 2010))], sensors_table(), reports, {"L1": (1006.0, 2004.0)}
    )
    names = [t.name for t in fig.data]
    assert names[:2] == ["buildings", "sensors"]
    sensors = fig.data[1]
    assert list(sensors.customdata) == ["t1", "t2", "c1"]
    assert sensors.marker.color[1] == "#e74c3c"  # the critical alert
    link = next(t for t in fig.data if t.name == "report → asset")
    assert list(link.x) == [1005.0, 1006.0, None]
    assert list(next(t for t in fig.data if t.name == "citizen reports").customdata) == ["R1"]


def test_replayed_values_replace_the_latest_ones_for_the_chosen_kind() -> None:
    fig = operations_map(
        [],
        sensors_table(),
        pa.table({"report_id": pa.array([], pa.string())}),
        {},
        colour_by="temperature",
        values=[15.0, 25.0, None],
    )
    marker = fig.data[1].marker
    assert list(marker.color)[:2] == [15.0, 25.0] and list(marker.size) == [11, 11, 6]


def test_a_long_series_is_reduced_keeping_its_peak() -> None:
    n = 50_000
    t0 = np.datetime64(dt.datetime(2026, 10, 1), "us")
    times = t0 + np.arange(n) * np.timedelta64(60, "s")
    values = np.sin(np.arange(n) / 500.0)
    values[31_234] = 42.0
    fig = sensor_series_figure(times, values, name="t1", unit="Cel", n_out=1000)
    assert len(fig.data[0].y) <= 1000 and 42.0 in fig.data[0].y
    assert "50,000 readings" in fig.layout.title.text


def test_a_live_tick_patches_only_the_sensor_trace_with_what_operations_map_would_draw() -> None:
    from dashboard.figures.operations import SENSOR_TRACE, sensor_colours, sensor_hover

    sensors = sensors_table()
    fig = operations_map([], sensors, pa.table({"report_id": pa.array([], pa.string())}), {}, colour_by="co2")
    trace = fig.data[SENSOR_TRACE]
    assert trace.name == "sensors"
    values = sensors.column("value").to_pylist()
    assert list(trace.hovertext) == sensor_hover(sensors, values)
    marker = sensor_colours(sensors, "co2", values)
    assert list(trace.marker.opacity) == marker["opacity"] == [0.25, 0.25, 0.95]  # other kinds faded
