"""Service connections: which node of each network kind serves each building, and how far it is.

Each building is linked to the nearest *service point* of each network kind within ``max_distance_m``, measured
from its footprint (the distance from the nearest point of the footprint, 0 when the node is inside it). The
computation (:func:`nearest_service_points`) is a pure function of arrays: one STRtree over the nodes of a kind,
one ``query_nearest`` for all buildings at once. :func:`connect_buildings` reads the twin, runs it per kind and
replaces ``service_connections``.

Service points: not every node can serve a building. :data:`NOT_SERVICE_POINTS` leaves out storage and supply
nodes (``reservoir``, ``tank``: fed by trunk mains, no house connections; ``source``/``ext_grid``: where a
network is fed), ``mv_bus`` (medium voltage: buildings are served at low voltage), ``light`` (street lights
serve streets) and ``intersection`` (road graph nodes). LV substations are kept: a French poste HTA/BT feeds
the buildings around it through its LV board. Lighting and road networks are left out of the default kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import shapely

from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_MAX_DISTANCE_M",
    "NOT_SERVICE_POINTS",
    "ServiceReport",
    "connect_buildings",
    "nearest_service_points",
]

DEFAULT_MAX_DISTANCE_M = 100.0
"""Longest service connection, m: a branch longer than this is not assumed (the building is listed as
unconnected). A convention of this project (urban service branches are usually a few tens of metres), not a
figure from methods.md; override it per call."""

DEFAULT_KINDS = ("water", "power", "heat", "gas")
"""Network kinds that serve buildings."""

NOT_SERVICE_POINTS = frozenset({"reservoir", "tank", "source", "ext_grid", "mv_bus", "light", "intersection"})
"""Node kinds that are never a building's service point (see the module docstring for why)."""


@dataclass
class ServiceReport:
    """What :func:`connect_buildings` did: connections per kind, and the buildings left without one."""

    max_distance_m: float
    kinds: tuple[str, ...]
    connected: dict[str, int] = field(default_factory=dict)
    unconnected: dict[str, list[str]] = field(default_factory=dict)
    """Per kind, the building ids with no service point within the distance."""
    mean_distance_m: dict[str, float] = field(default_factory=dict)
    skipped_kinds: list[str] = field(default_factory=list)
    """Kinds asked for that have no service point in the twin."""

    def as_dict(self) -> dict[str, object]:
        return {
            "max_distance_m": self.max_distance_m,
            "kinds": list(self.kinds),
            "connected": dict(self.connected),
            "unconnected": {k: len(v) for k, v in self.unconnected.items()},
            "mean_distance_m": dict(self.mean_distance_m),
            "skipped_kinds": list(self.skipped_kinds),
        }


def nearest_service_points(
    buildings: np.ndarray, nodes: np.ndarray, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each building, the index of its nearest node within ``max_distance_m``, and the distance.

    Returns ``(node_index, distance_m)``, both of the buildings' length: ``-1`` and NaN where no node is close
    enough (or the building has no geometry). Ties go to the lowest node index. Distances are planar, in the
    units of the geometries (the twin CRS is in metres).

    Examples
    --------
    >>> squares = shapely.box(np.array([0.0, 100.0]), 0.0, np.array([10.0, 110.0]), 10.0)
    >>> idx, dist = nearest_service_points(squares, shapely.points([[15.0, 5.0], [13.0, 5.0]]), 20.0)
    >>> idx.tolist(), dist.tolist()
    ([1, -1], [3.0, nan])
    """
    if not max_distance_m > 0:
        raise TwinError(f"max_distance_m must be > 0, not {max_distance_m}", "give a distance in metres, e.g. 100")
    n = len(buildings)
    index = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    if n == 0 or len(nodes) == 0:
        return index, distance
    tree = shapely.STRtree(nodes)
    (src, hit), dist = tree.query_nearest(buildings, max_distance=max_distance_m, return_distance=True)
    if len(src) == 0:
        return index, distance
    # all_matches=True returns every node at the same least distance: keep the lowest index for each building.
    order = np.lexsort((hit, src))
    src, hit, dist = src[order], hit[order], dist[order]
    first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    index[src[first]] = hit[first]
    distance[src[first]] = dist[first]
    return index, distance


def connect_buildings(
    twin: Twin, *, max_distance_m: float = DEFAULT_MAX_DISTANCE_M, kinds: Sequence[str] | None = None
) -> ServiceReport:
    """Link every building to the nearest service point of each network kind; replace ``service_connections``.

    One row per building and network kind that has a service point within ``max_distance_m`` (m, from the
    footprint); the row names the network of that node. The rows of the kinds computed are replaced in one
    transaction (the other kinds keep theirs). Buildings without a footprint, or without a node close enough,
    are listed in :attr:`ServiceReport.unconnected`.
    """
    kinds = tuple(kinds) if kinds is not None else DEFAULT_KINDS
    report = ServiceReport(max_distance_m=float(max_distance_m), kinds=kinds)
    buildings = twin.query("SELECT building_id, ST_AsWKB(footprint) AS wkb FROM buildings ORDER BY building_id")
    building_ids = np.asarray(buildings.column("building_id").to_numpy(zero_copy_only=False), dtype=object)
    footprints = shapely.from_wkb(buildings.column("wkb").to_numpy(zero_copy_only=False))
    excluded = sorted(NOT_SERVICE_POINTS)
    rows: list[pa.Table] = []
    for kind in kinds:
        nodes = twin.query(
            "SELECT n.node_id, n.network_id, ST_AsWKB(n.geom) AS wkb FROM network_nodes n "
            "JOIN networks w USING (network_id) WHERE w.kind = ? AND n.geom IS NOT NULL "
            "AND NOT list_contains(?, n.node_kind) ORDER BY n.node_id",
            [kind, excluded],
        )
        if nodes.num_rows == 0:
            report.skipped_kinds.append(kind)
            continue
        points = shapely.from_wkb(nodes.column("wkb").to_numpy(zero_copy_only=False))
        index, distance = nearest_service_points(footprints, points, max_distance_m)
        found = index >= 0
        report.connected[kind] = int(found.sum())
        report.unconnected[kind] = building_ids[~found].tolist()
        report.mean_distance_m[kind] = float(distance[found].mean()) if found.any() else float("nan")
        take = pa.array(index[found])
        rows.append(
            pa.table(
                {
                    "building_id": pa.array(building_ids[found], pa.string()),
                    "network_id": nodes.column("network_id").take(take),
                    "node_id": nodes.column("node_id").take(take),
                    "distance_m": pa.array(distance[found], pa.float64()),
                }
            )
        )
    done = [k for k in kinds if k not in report.skipped_kinds]
    with twin.write() as cur:
        if done:
            cur.execute(
                "DELETE FROM service_connections WHERE network_id IN "
                "(SELECT network_id FROM networks WHERE list_contains(?, kind))",
                [done],
            )
        for table in rows:
            cur.register("__twin_service", table)
            try:
                cur.execute("INSERT INTO service_connections SELECT * FROM __twin_service")
            finally:
                cur.unregister("__twin_service")
    return report
