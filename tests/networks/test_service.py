"""Service connections: each building linked to the nearest service point of each network kind, within reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.demo.generate import DemoFiles
from ingest.gis_buildings import ingest_buildings
from ingest.networks import ingest_network
from networks.service import NOT_SERVICE_POINTS, connect_buildings, nearest_service_points
from twin import Twin
from twin.errors import TwinError


@pytest.fixture(scope="module")
def demo(demo_files: DemoFiles) -> Iterator[DemoFiles]:
    yield demo_files


@pytest.fixture
def demo_twin(twin: Twin, demo: DemoFiles) -> Twin:
    assert demo.buildings and demo.water and demo.power and demo.streetlights
    ingest_buildings(twin, demo.buildings)
    for path, kind in ((demo.water, "water"), (demo.power, "power"), (demo.streetlights, "lighting")):
        ingest_network(twin, path, kind=kind)
    return twin


def test_nearest_matches_brute_force_and_respects_the_limit() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (300, 2))
    buildings = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 12, xy[:, 1] + 8)
    nodes = shapely.points(rng.uniform(0, 1000, (80, 2)))
    index, distance = nearest_service_points(buildings, nodes, 60.0)
    brute = shapely.distance(buildings[:, None], nodes[None, :])
    best = brute.min(axis=1)
    close = best <= 60.0
    assert np.array_equal(index >= 0, close)
    assert np.allclose(distance[close], best[close])
    assert np.allclose(brute[np.flatnonzero(close), index[close]], best[close])
    assert np.isnan(distance[~close]).all()


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 200), st.floats(0, 200))
def test_a_longer_limit_never_disconnects_a_building(short: float, extra: float) -> None:
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 2000, (100, 2))
    buildings = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 10, xy[:, 1] + 10)
    nodes = shapely.points(rng.uniform(0, 2000, (40, 2)))
    a, da = nearest_service_points(buildings, nodes, short)
    b, db = nearest_service_points(buildings, nodes, short + extra)
    assert ((a >= 0) <= (b >= 0)).all()
    assert np.allclose(da[a >= 0], db[a >= 0])


def test_negative_limit_is_refused() -> None:
    with pytest.raises(TwinError, match="max_distance_m"):
        nearest_service_points(shapely.points([[0, 0]]), shapely.points([[0, 0]]), -1.0)


def test_demo_buildings_connect_to_water_and_power_not_to_reservoirs_or_lights(demo_twin: Twin) -> None:
    twin = demo_twin
    report = connect_buildings(twin, max_distance_m=100.0)
    n_buildings = int(twin.query("SELECT count(*) FROM buildings").column(0)[0].as_py())
    for kind in ("water", "power"):
        assert report.connected[kind] + len(report.unconnected[kind]) == n_buildings
    assert set(report.skipped_kinds) == {"heat", "gas"}
    rows = twin.query(
        "SELECT n.node_kind, w.kind, s.distance_m FROM service_connections s "
        "JOIN network_nodes n USING (node_id) JOIN networks w ON w.network_id = s.network_id"
    ).to_pylist()
    assert len(rows) == report.connected["water"] + report.connected["power"]
    assert not {r["node_kind"] for r in rows} & NOT_SERVICE_POINTS
    assert {r["kind"] for r in rows} == {"water", "power"}
    assert all(0 <= r["distance_m"] <= 100.0 for r in rows)
    # A building that holds no row of a kind is exactly one listed as unconnected for it.
    missing = (
        twin.query(
            "SELECT building_id FROM buildings WHERE building_id NOT IN "
            "(SELECT building_id FROM service_connections WHERE network_id = 'water:water')"
        )
        .column(0)
        .to_pylist()
    )
    assert sorted(missing) == sorted(report.unconnected["water"])


def test_reconnecting_with_a_shorter_limit_replaces_the_rows(demo_twin: Twin) -> None:
    twin = demo_twin
    wide = connect_buildings(twin, max_distance_m=200.0, kinds=["water"])
    narrow = connect_buildings(twin, max_distance_m=20.0, kinds=["water"])
    assert narrow.connected["water"] <= wide.connected["water"]
    rows = twin.query("SELECT count(*), max(distance_m) FROM service_connections").to_pylist()
    stored = next(iter(rows))
    values = list(stored.values())
    assert values[0] == narrow.connected["water"] and (values[1] or 0) <= 20.0


def test_a_kind_without_network_is_skipped_not_an_error(twin: Twin, tmp_path: Path) -> None:
    report = connect_buildings(twin, kinds=["heat"])
    assert report.skipped_kinds == ["heat"] and report.connected == {}
