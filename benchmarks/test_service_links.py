"""Service links at city scale: 100k building footprints to 50k network nodes.

Goal (issue 5): service links for 100,000 buildings to 50,000 nodes in under 5 s (one STRtree, one
``query_nearest`` over all buildings). Two figures: the pure computation, and ``connect_buildings`` on a twin
(read the footprints and nodes, compute, replace ``service_connections``).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import shapely

from networks.service import connect_buildings, nearest_service_points
from twin import Twin

SEED = 7
N_BUILDINGS = 100_000
N_NODES = 50_000
ORIGIN = np.array([650_000.0, 6_860_000.0])  # Lambert-93
SIDE_M = 8_000.0  # an 8 km x 8 km town: about 1,560 buildings and 780 nodes per km2


def _city() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    xy = rng.uniform(0, SIDE_M, (N_BUILDINGS, 2)) + ORIGIN
    size = rng.uniform(6, 20, (N_BUILDINGS, 2))
    buildings = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size[:, 0], xy[:, 1] + size[:, 1])
    nodes = shapely.points(rng.uniform(0, SIDE_M, (N_NODES, 2)) + ORIGIN)
    return buildings, nodes


@pytest.fixture(scope="module")
def city() -> tuple[np.ndarray, np.ndarray]:
    return _city()


@pytest.fixture(scope="module")
def city_twin(tmp_path_factory: pytest.TempPathFactory, city: tuple[np.ndarray, np.ndarray]) -> Twin:
    buildings, nodes = city
    twin = Twin(tmp_path_factory.mktemp("service-bench") / "city.duckdb")
    with twin.write() as cur:
        cur.register(
            "__b",
            pa.table(
                {
                    "building_id": [f"B{i:06d}" for i in range(N_BUILDINGS)],
                    "wkb": pa.array(shapely.to_wkb(buildings), pa.binary()),
                }
            ),
        )
        cur.execute(
            "INSERT INTO buildings (building_id, footprint, source) "
            "SELECT building_id, ST_GeomFromWKB(wkb), 'gis' FROM __b"
        )
        cur.register(
            "__n",
            pa.table(
                {
                    "node_id": [f"water:bench:N{i:05d}" for i in range(N_NODES)],
                    "wkb": pa.array(shapely.to_wkb(nodes), pa.binary()),
                }
            ),
        )
        cur.execute(
            "INSERT INTO networks (network_id, kind, attributes) VALUES ('water:bench', 'water', ?)",
            [json.dumps({})],
        )
        cur.execute(
            "INSERT INTO network_nodes (node_id, network_id, node_kind, geom) "
            "SELECT node_id, 'water:bench', 'junction', ST_GeomFromWKB(wkb) FROM __n"
        )
    return twin


def test_nearest_service_points_100k_buildings_50k_nodes(benchmark, city) -> None:  # type: ignore[no-untyped-def]
    buildings, nodes = city
    index, distance = benchmark(nearest_service_points, buildings, nodes, 100.0)
    benchmark.extra_info["rows"] = N_BUILDINGS
    found = index >= 0
    benchmark.extra_info["connected"] = int(found.sum())
    assert found.sum() > 0.9 * N_BUILDINGS and (distance[found] <= 100.0).all()


def test_connect_buildings_on_a_twin_100k_by_50k(benchmark, city_twin: Twin) -> None:  # type: ignore[no-untyped-def]
    report = benchmark.pedantic(
        connect_buildings, args=(city_twin,), kwargs={"max_distance_m": 100.0, "kinds": ["water"]}, rounds=3
    )
    benchmark.extra_info["rows"] = N_BUILDINGS
    benchmark.extra_info["unconnected"] = len(report.unconnected["water"])
    stored = city_twin.query("SELECT count(*) FROM service_connections").column(0)[0].as_py()
    assert stored == report.connected["water"] > 0.9 * N_BUILDINGS
