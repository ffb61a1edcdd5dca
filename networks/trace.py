"""Upstream / downstream tracing from a node or link: the path to its sources and everything it feeds.

Links are oriented from the sources outward, by one of two rules (``orientation``):

- ``flow``: the sign of the flow of the network's last capacity check (``res_network_links``: water
  ``flow_l_s``, power ``p_from_kw``, scenario 0): the way water or power actually goes; links with no flow carry
  nothing and are left out;
- ``distance``: from the end nearer a source (shortest path along ``length_m``, scipy.sparse.csgraph
  ``dijkstra`` from every source at once) to the farther one; links whose ends are as near are left out, and so
  are links that carry nothing (an open switch at either end, out of service, a pipe closed by status). In a
  radial network this is the feeding tree exactly; in a meshed one, the part each node feeds on the shortest
  routes.

``auto`` (the default) takes ``flow`` when the network has check results, else ``distance``. Then, with one
breadth-first search each way on the oriented graph (scipy.sparse.csgraph):

- upstream: every node and link that feeds the element, the sources reached and the shortest path to the
  nearest one (node and link ids from the source to the element);
- downstream: every node and link it feeds, the buildings served by those nodes (``service_connections``), the
  sensors attached to them or to those buildings, and (power) the street lights nearest to them.

Sources are those of :mod:`networks.failure` (reservoirs, tanks, external grids, substations, ``source`` nodes).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from networks.failure import network_graph
from networks.service import DEFAULT_MAX_DISTANCE_M
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["Trace", "oriented_links", "reach", "trace"]


@dataclass
class Trace:
    """What :func:`trace` found, every list sorted."""

    network_id: str
    element_id: str
    element: str
    """``node`` or ``link``."""
    orientation: str
    """``flow`` or ``distance`` (see the module docstring)."""
    sources: list[str] = field(default_factory=list)
    path_nodes: list[str] = field(default_factory=list)
    """Shortest path from the nearest source to the element (source first); empty when no source feeds it."""
    path_links: list[str] = field(default_factory=list)
    upstream_nodes: list[str] = field(default_factory=list)
    upstream_links: list[str] = field(default_factory=list)
    downstream_nodes: list[str] = field(default_factory=list)
    downstream_links: list[str] = field(default_factory=list)
    buildings: list[str] = field(default_factory=list)
    """Buildings served by the element (a node) or by the nodes downstream."""
    sensors: list[dict[str, Any]] = field(default_factory=list)
    street_lights: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def oriented_links(
    from_index: np.ndarray, to_index: np.ndarray, sign: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tail, head, link)`` of the links that carry something: ``sign`` > 0 from -> to, < 0 to -> from.

    Examples
    --------
    >>> oriented_links(np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([1.0, -2.0, 0.0]))
    (array([0, 2]), array([1, 1]), array([0, 1]))
    """
    carry = np.flatnonzero(np.nan_to_num(sign) != 0)
    forward = sign[carry] > 0
    tail = np.where(forward, from_index[carry], to_index[carry])
    head = np.where(forward, to_index[carry], from_index[carry])
    return tail, head, carry


def reach(n_nodes: int, tail: np.ndarray, head: np.ndarray, start: int, *, up: bool) -> np.ndarray:
    """Nodes reachable from ``start`` along the oriented links (against them when ``up``), ``start`` excluded.

    Examples
    --------
    >>> tail, head = np.array([0, 1, 1]), np.array([1, 2, 3])
    >>> reach(4, tail, head, 1, up=False).tolist(), reach(4, tail, head, 2, up=True).tolist()
    ([2, 3], [0, 1])
    """
    rows, cols = (head, tail) if up else (tail, head)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()
    order = breadth_first_order(graph, start, directed=True, return_predecessors=False)
    return np.sort(np.asarray(order)[1:])


def _flow_sign(twin: Twin, network_id: str, link_ids: np.ndarray) -> np.ndarray | None:
    rows = twin.query(
        "SELECT link_id, coalesce(flow_l_s, p_from_kw) AS q FROM res_network_links "
        "WHERE network_id = ? AND scenario_id = 0 AND analysis IN ('water_check', 'power_check')",
        [network_id],
    ).to_pylist()
    if not rows:
        return None
    flow = {r["link_id"]: r["q"] for r in rows}
    return np.array([flow.get(link) or 0.0 for link in link_ids.tolist()], dtype=float)


def _distance_sign(twin: Twin, network_id: str, graph: Any) -> np.ndarray:
    rows = twin.query(
        "SELECT link_id, length_m, coalesce(TRY_CAST(attributes->>'open_at_from' AS BOOLEAN), false) "
        "OR coalesce(TRY_CAST(attributes->>'open_at_to' AS BOOLEAN), false) "
        "OR NOT coalesce(TRY_CAST(attributes->>'in_service' AS BOOLEAN), true) "
        "OR upper(coalesce(attributes->>'initial_status', '')) = 'CLOSED' AS cut "
        "FROM network_links WHERE network_id = ? ORDER BY link_id",
        [network_id],
    )
    length = np.asarray(rows.column("length_m").to_numpy(zero_copy_only=False), dtype=float)
    cut = np.asarray(rows.column("cut").to_numpy(zero_copy_only=False), dtype=bool)
    length = np.where(np.isfinite(length) & (length > 0), length, 1e-3)  # pumps, valves, transformers
    n = graph.n_nodes
    f, t = graph.from_index[~cut], graph.to_index[~cut]
    matrix = coo_matrix((np.r_[length[~cut], length[~cut]], (np.r_[f, t], np.r_[t, f])), shape=(n, n)).tocsr()
    distance = dijkstra(matrix, directed=True, indices=np.flatnonzero(graph.source), min_only=True)
    f, t = graph.from_index, graph.to_index
    sign = np.sign(np.nan_to_num(distance[t] - distance[f], nan=0.0, posinf=0.0, neginf=0.0))
    sign[cut] = 0.0  # an open switch, a closed pipe or a link out of service carries nothing
    return sign


def _find(twin: Twin, element_id: str) -> tuple[str, str]:
    rows = twin.query(
        "SELECT network_id, 'node' AS what FROM network_nodes WHERE node_id = $id UNION ALL "
        "SELECT network_id, 'link' FROM network_links WHERE link_id = $id",
        {"id": element_id},
    ).to_pylist()
    if not rows:
        raise TwinError(
            f"no network node or link '{element_id}' in the twin",
            'list them with twin sql "SELECT node_id FROM network_nodes" (or link_id FROM network_links)',
        )
    return rows[0]["network_id"], rows[0]["what"]


def trace(
    twin: Twin,
    element_id: str,
    *,
    orientation: str = "auto",
    lights_max_distance_m: float = DEFAULT_MAX_DISTANCE_M,
) -> Trace:
    """Trace a node or link of any network up to its sources and down to what it feeds (see the module doc).

    ``lights_max_distance_m``: a street light is attached to the nearest power node within this distance (m;
    the default is :data:`networks.service.DEFAULT_MAX_DISTANCE_M`, the service-branch convention).
    """
    if orientation not in ("auto", "flow", "distance"):
        raise TwinError(f"unknown orientation '{orientation}'", "use auto, flow or distance")
    network_id, what = _find(twin, element_id)
    graph = network_graph(twin, network_id)
    sign = _flow_sign(twin, network_id, graph.link_ids) if orientation != "distance" else None
    if orientation == "flow" and sign is None:
        raise TwinError(
            f"network '{network_id}' has no capacity check results to orient by flow",
            "run twin network check first, or trace with the distance orientation",
        )
    used = "flow" if sign is not None else "distance"
    if sign is None:
        sign = _distance_sign(twin, network_id, graph)
    n = graph.n_nodes
    tail, head, carried = oriented_links(graph.from_index, graph.to_index, sign)
    index = {v: i for i, v in enumerate(graph.node_ids.tolist())}
    if what == "node":
        top = bottom = index[element_id]
    else:
        k = int(np.flatnonzero(graph.link_ids == element_id)[0])
        f, t = int(graph.from_index[k]), int(graph.to_index[k])
        top, bottom = (t, f) if sign[k] < 0 else (f, t)
    up = reach(n, tail, head, top, up=True)
    down = reach(n, tail, head, bottom, up=False)
    if what == "link":
        up = np.union1d(up, [top])
        down = np.union1d(down, [bottom])
    up_set = np.zeros(n, bool)
    up_set[up] = True
    up_set[top] = True
    down_set = np.zeros(n, bool)
    down_set[down] = True
    down_set[bottom] = True
    ids = graph.link_ids[carried]
    result = Trace(network_id=network_id, element_id=element_id, element=what, orientation=used)
    result.upstream_nodes = sorted(graph.node_ids[up].tolist())
    result.downstream_nodes = sorted(graph.node_ids[down].tolist())
    result.upstream_links = sorted(ids[up_set[tail] & up_set[head]].tolist())
    result.downstream_links = sorted(ids[down_set[tail] & down_set[head]].tolist())
    if what == "link":
        for side in (result.upstream_links, result.downstream_links):
            if element_id in side:
                side.remove(element_id)
    sources = np.flatnonzero(graph.source & up_set)
    result.sources = sorted(graph.node_ids[sources].tolist())
    result.path_nodes, result.path_links = _path(n, tail, head, ids, top, graph.source, graph.node_ids)
    if what == "link" and result.path_nodes:
        result.path_links.append(element_id)
        result.path_nodes.append(str(graph.node_ids[bottom]))
    served = graph.node_ids[down_set].tolist()
    _attached(twin, network_id, served, result, lights_max_distance_m)
    return result


def _path(
    n: int, tail: np.ndarray, head: np.ndarray, ids: np.ndarray, start: int, source: np.ndarray, names: np.ndarray
) -> tuple[list[str], list[str]]:
    """The fewest-links path from the nearest source (against the orientation from ``start``)."""
    graph = coo_matrix((np.arange(1, len(tail) + 1, dtype=float), (head, tail)), shape=(n, n)).tocsr()
    order, pred = breadth_first_order(graph, start, directed=True, return_predecessors=True)
    reached = [int(v) for v in order if source[v]]
    if not reached:
        return [], []
    nodes = [reached[0]]
    while nodes[-1] != start:
        nodes.append(int(pred[nodes[-1]]))
    # nodes run source -> start; each step goes along an oriented link tail -> head
    link_of = {(int(a), int(b)): str(i) for a, b, i in zip(tail, head, ids, strict=True)}
    links = [link_of[(a, b)] for a, b in itertools.pairwise(nodes)]
    return [str(names[v]) for v in nodes], links


def _attached(twin: Twin, network_id: str, served: list[str], result: Trace, lights_max_distance_m: float) -> None:
    """Buildings, (power) street lights and the sensors on them or on the downstream nodes and links."""
    result.buildings = (
        twin.query(
            "SELECT building_id FROM service_connections WHERE network_id = ? AND list_contains(?, node_id) "
            "ORDER BY 1",
            [network_id, served],
        )
        .column(0)
        .to_pylist()
    )
    _street_lights(twin, network_id, served, result, lights_max_distance_m)
    result.sensors = twin.query(
        "SELECT sensor_id, kind, asset_kind, asset_id FROM sensors WHERE "
        "(asset_kind = 'network_node' AND list_contains($nodes, asset_id)) OR "
        "(asset_kind = 'network_link' AND list_contains($links, asset_id)) OR "
        "(asset_kind = 'building' AND list_contains($buildings, asset_id)) OR "
        "(asset_kind = 'streetlight' AND list_contains($lights, asset_id)) ORDER BY sensor_id",
        {
            "nodes": served,
            "links": result.downstream_links,
            "buildings": result.buildings,
            "lights": result.street_lights,
        },
    ).to_pylist()


def _street_lights(
    twin: Twin, network_id: str, served: list[str], result: Trace, lights_max_distance_m: float
) -> None:
    """Power: the street lights whose nearest power node (within the distance) is one of ``served``."""
    kind = twin.query("SELECT kind FROM networks WHERE network_id = ?", [network_id]).column(0).to_pylist()
    if kind != ["power"]:
        return
    lights = twin.query(
        "SELECT n.node_id, ST_AsWKB(n.geom) AS wkb FROM network_nodes n JOIN networks w USING (network_id) "
        "WHERE w.kind = 'lighting' AND n.geom IS NOT NULL ORDER BY n.node_id"
    )
    if lights.num_rows == 0:
        return
    power = twin.query(
        "SELECT node_id, ST_AsWKB(geom) AS wkb FROM network_nodes WHERE network_id = ? AND geom IS NOT NULL "
        "AND node_kind <> 'mv_bus' ORDER BY node_id",
        [network_id],
    )
    if power.num_rows == 0:
        return
    from networks.service import nearest_service_points

    index, _ = nearest_service_points(
        shapely.from_wkb(lights.column("wkb").to_numpy(zero_copy_only=False)),
        shapely.from_wkb(power.column("wkb").to_numpy(zero_copy_only=False)),
        lights_max_distance_m,
    )
    power_ids = np.asarray(power.column("node_id").to_pylist(), dtype=object)
    found = index >= 0
    near = np.full(len(index), None, dtype=object)
    near[found] = power_ids[index[found]]
    hit = np.isin(near, np.asarray(served, dtype=object)) & found
    result.street_lights = sorted(np.asarray(lights.column("node_id").to_pylist(), dtype=object)[hit].tolist())
