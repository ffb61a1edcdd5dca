"""The dashboard's queries on the demo district: every building once, sensors placed and attached, a day to
replay, a scene in float32 around the district's own origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dashboard import data
from dashboard.figures.district import district_mesh
from twin import Twin


@pytest.fixture(scope="module")
def demo(demo_twin_path: Path) -> Iterator[Twin]:
    with Twin(demo_twin_path, read_only=True) as twin:
        yield twin


def test_each_building_is_listed_once_an_ifc_model_standing_for_the_footprint_it_details(demo: Twin) -> None:
    listed = data.district_buildings(demo)
    ids = listed.column("building_id").to_pylist()
    assert len(ids) == len(set(ids))
    all_rows = demo.query("SELECT building_id, ifc_building_id FROM buildings").to_pylist()
    linked = {r["building_id"]: r["ifc_building_id"] for r in all_rows if r["ifc_building_id"]}
    assert {linked.get(r["building_id"], r["building_id"]) for r in all_rows} == set(ids)
    detailed = [g for gs in listed.column("gis_ids").to_pylist() if gs for g in gs]
    assert sorted(detailed) == sorted(linked)


def test_the_district_mesh_has_every_building_and_stays_near_its_origin(demo: Twin) -> None:
    origin = data.scene_origin_of(demo)
    buildings = data.district_buildings(demo)
    mesh = district_mesh(buildings, data.element_meshes(demo, district=True), origin)
    assert set(np.unique(mesh.owner).tolist()) == set(range(buildings.num_rows))
    assert mesh.xyz.dtype == np.float32 and np.abs(mesh.xyz[:, :2]).max() < 2_000  # metres from the origin
    assert mesh.faces.max() < mesh.n_vertices


def test_sensors_have_positions_latest_values_and_their_building(demo: Twin) -> None:
    sensors = data.sensors_latest(demo).to_pylist()
    assert sensors and all(s["x"] is not None for s in sensors)
    in_spaces = [s for s in sensors if s["asset_kind"] == "space"]
    assert in_spaces and all(s["building_id"] for s in in_spaces)
    assert all(s["value"] is not None for s in sensors)


def test_the_last_day_replays_hour_by_hour(demo: Twin) -> None:
    first, hours = data.replay_values(demo, 0)
    last, same_hours = data.replay_values(demo, 23)
    assert len(hours) == 24 and hours == same_hours and hours[0] != hours[-1]
    assert first.num_rows > 0 and last.num_rows > 0
    assert first.column("value").to_pylist() != last.column("value").to_pylist()


def test_a_sensor_series_reads_its_last_month(demo: Twin) -> None:
    sensor = demo.query("SELECT min(sensor_id) FROM sensors WHERE kind = 'temperature'").column(0)[0].as_py()
    series = data.sensor_series(demo, sensor).to_pydict()
    assert len(series["value"]) > 1000
    assert series["time_utc"] == sorted(series["time_utc"])
