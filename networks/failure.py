"""Failure impact: which nodes, buildings and residents lose supply when a link of a network is removed.

A node is *supplied* when a path of links joins it to a source: a reservoir or tank (water), a bus with an external
grid or a substation (power), a ``source`` node (GIS networks). Links are taken as undirected and available
whatever their initial status (a closed pump or valve can be opened: the question is what the network *can*
still reach). Removing a link cuts the nodes supplied before and not after; the buildings cut are those whose
service node (``service_connections``) is cut, residents = dwellings x 2.16 (methods.md section 5, INSEE).

:func:`n1_ranking` removes every link in turn. Only the links of a spanning forest can be bridges (a link outside
it closes a loop, so removing it cuts nobody), so one connected-components pass (scipy.sparse.csgraph) is run per
spanning-forest link, the rest get zeros without a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from networks.results import store_table
from networks.topology import link_index_pairs
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["SOURCE_KINDS", "FailureImpact", "NetworkGraph", "failure_impact", "n1_ranking", "network_graph"]

SOURCE_KINDS = frozenset({"reservoir", "tank", "source", "ext_grid", "substation"})
"""Node kinds that feed a network; a bus whose attributes carry a non-empty ``ext_grid`` is a source too."""

PERSONS_PER_DWELLING = 2.16
"""Household size, persons per dwelling: methods.md section 5 (INSEE)."""


@dataclass
class NetworkGraph:
    """A network as index arrays: nodes 0..n-1, links (from, to), sources, and what each node serves."""

    network_id: str
    node_ids: np.ndarray
    link_ids: np.ndarray
    from_index: np.ndarray
    to_index: np.ndarray
    source: np.ndarray
    """Boolean per node."""
    buildings: np.ndarray
    """Buildings served per node."""
    residents: np.ndarray
    """Residents served per node (dwellings x 2.16; unknown dwellings count 0)."""
    residents_known: bool
    """False when no building served by the network has its dwellings known."""
    base_demand_l_s: np.ndarray
    """Network base demand per node, L/s (0 where none)."""

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def supplied(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Nodes joined to a source by the links where ``keep`` is True (all links by default)."""
        n = self.n_nodes
        f, t = (self.from_index, self.to_index) if keep is None else (self.from_index[keep], self.to_index[keep])
        # One extra node joined to every source: supplied = its component.
        sources = np.flatnonzero(self.source)
        rows = np.r_[f, np.full(len(sources), n)]
        cols = np.r_[t, sources]
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
        _, labels = connected_components(graph, directed=False)
        return np.asarray(labels[:n] == labels[n])


def _is_source(kind: str, attributes: str | None) -> bool:
    if kind in SOURCE_KINDS:
        return True
    if not attributes:
        return False
    value = json.loads(attributes).get("ext_grid")
    return bool(value) and value not in ("0", "false", "False")


def network_graph(twin: Twin, network_id: str) -> NetworkGraph:
    """Read a network of the twin as index arrays, with the buildings and residents each node serves."""
    nodes = twin.query(
        "SELECT n.node_id, n.node_kind, n.attributes, "
        "coalesce(TRY_CAST(json_extract_string(n.attributes, '$.base_demand_l_s') AS DOUBLE), 0) AS demand, "
        "count(b.building_id) AS buildings, sum(b.dwellings) AS dwellings "
        "FROM network_nodes n "
        "LEFT JOIN service_connections s ON s.node_id = n.node_id AND s.network_id = n.network_id "
        "LEFT JOIN buildings b ON b.building_id = s.building_id WHERE n.network_id = ? "
        "GROUP BY ALL ORDER BY n.node_id",
        [network_id],
    )
    if nodes.num_rows == 0:
        raise TwinError(f"network '{network_id}' has no nodes in the twin", "see the networks table for the ids")
    links = link_index_pairs(twin, network_id)
    kinds = nodes.column("node_kind").to_pylist()
    attrs = nodes.column("attributes").to_pylist()
    source = np.array([_is_source(k, a) for k, a in zip(kinds, attrs, strict=True)], dtype=bool)
    if not source.any():
        raise TwinError(
            f"network '{network_id}' has no source node",
            f"a source is a node of kind {', '.join(sorted(SOURCE_KINDS))}",
        )
    dwellings = nodes.column("dwellings").to_pylist()
    return NetworkGraph(
        network_id=network_id,
        node_ids=np.asarray(nodes.column("node_id").to_pylist(), dtype=object),
        link_ids=np.asarray(links.column("link_id").to_pylist(), dtype=object),
        from_index=links.column("f").to_numpy().astype(np.int64),
        to_index=links.column("t").to_numpy().astype(np.int64),
        source=source,
        buildings=nodes.column("buildings").to_numpy().astype(np.int64),
        residents=np.array([0.0 if d is None else float(d) * PERSONS_PER_DWELLING for d in dwellings]),
        residents_known=any(d is not None for d in dwellings),
        base_demand_l_s=nodes.column("demand").to_numpy().astype(float),
    )


@dataclass
class FailureImpact:
    """What removing one link cuts: the nodes and the buildings (with residents) left without supply."""

    network_id: str
    link_id: str
    nodes_cut: list[str]
    buildings: pa.Table
    """building_id, node_id, dwellings, residents of the buildings cut."""

    @property
    def buildings_cut(self) -> int:
        return self.buildings.num_rows

    @property
    def residents_cut(self) -> float:
        return float(sum(r for r in self.buildings.column("residents").to_pylist() if r is not None))


def failure_impact(twin: Twin, network_id: str, link_id: str) -> FailureImpact:
    """Remove one link: the nodes supplied before and not after, and the buildings they serve.

    Examples
    --------
    ``failure_impact(twin, "water:ky4", "water:ky4:P-100").buildings_cut`` -> number of buildings cut.
    """
    graph = network_graph(twin, network_id)
    hit = np.flatnonzero(graph.link_ids == link_id)
    if len(hit) == 0:
        raise TwinError(f"link '{link_id}' is not in network '{network_id}'", "see network_links for the ids")
    keep = np.ones(len(graph.link_ids), dtype=bool)
    keep[hit] = False
    cut = graph.supplied() & ~graph.supplied(keep)
    cut_ids = [str(v) for v in graph.node_ids[cut]]
    buildings = twin.query(
        "SELECT s.building_id, s.node_id, b.dwellings, b.dwellings * $p AS residents FROM service_connections s "
        "JOIN buildings b USING (building_id) WHERE s.network_id = $n AND list_contains($cut, s.node_id) "
        "ORDER BY s.building_id",
        {"p": PERSONS_PER_DWELLING, "n": network_id, "cut": cut_ids},
    )
    return FailureImpact(network_id, link_id, cut_ids, buildings)


def _spanning_forest_links(graph: NetworkGraph) -> np.ndarray:
    """Boolean per link: True for the links of one spanning forest (the only possible bridges)."""
    n, m = graph.n_nodes, len(graph.link_ids)
    # Index the links by (node, node) so the BFS predecessor edges map back to link rows.
    lo, hi = np.minimum(graph.from_index, graph.to_index), np.maximum(graph.from_index, graph.to_index)
    adjacency = coo_matrix((np.ones(m), (lo, hi)), shape=(n, n)).tocsr()
    adjacency = adjacency + adjacency.T
    tree = np.zeros(m, dtype=bool)
    seen = np.zeros(n, dtype=bool)
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    for start in range(n):
        if seen[start]:
            continue
        visited, pred = breadth_first_order(adjacency, start, directed=False, return_predecessors=True)
        seen[visited] = True
        child = visited[1:]
        parent = pred[child]
        want = np.minimum(child, parent) * n + np.maximum(child, parent)
        # first link row with that (lo, hi): parallel links are never bridges but one of them is in the tree
        tree[order[np.searchsorted(key[order], want)]] = True
    return tree


def n1_ranking(twin: Twin, network_id: str, *, scenario_id: int = 0, store: bool = True) -> pa.Table:
    """N-1: remove each link in turn; nodes, buildings, residents and base demand cut; ranked, stored.

    Returns the rows written to ``res_network_failures`` (those of the scenario and network are replaced), sorted
    by rank: by buildings cut, then residents, nodes and base demand cut (1 = most critical; ties share a rank).
    A link whose removal cuts nothing has zeros (it lies on a loop, or beyond the supplied part).
    """
    graph = network_graph(twin, network_id)
    m = len(graph.link_ids)
    supplied = graph.supplied()
    nodes_cut = np.zeros(m, dtype=np.int64)
    buildings_cut = np.zeros(m, dtype=np.int64)
    residents_cut = np.zeros(m)
    demand_cut = np.zeros(m)
    keep = np.ones(m, dtype=bool)
    for i in np.flatnonzero(_spanning_forest_links(graph)):
        keep[i] = False
        cut = supplied & ~graph.supplied(keep)
        keep[i] = True
        if cut.any():
            nodes_cut[i] = int(cut.sum())
            buildings_cut[i] = int(graph.buildings[cut].sum())
            residents_cut[i] = float(graph.residents[cut].sum())
            demand_cut[i] = float(graph.base_demand_l_s[cut].sum())
    order = np.lexsort((-demand_cut, -nodes_cut, -residents_cut, -buildings_cut))
    keys = np.c_[buildings_cut, residents_cut, nodes_cut, demand_cut][order]
    new = np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)]
    position = np.arange(1, m + 1)
    rank_sorted = np.maximum.accumulate(np.where(new, position, 0))
    table = pa.table(
        {
            "scenario_id": pa.array(np.full(m, scenario_id), pa.int32()),
            "network_id": pa.array([network_id] * m, pa.string()),
            "link_id": pa.array(graph.link_ids[order].tolist(), pa.string()),
            "nodes_cut": pa.array(nodes_cut[order], pa.int32()),
            "buildings_cut": pa.array(buildings_cut[order], pa.int32()),
            "residents_cut": pa.array(residents_cut[order] if graph.residents_known else [None] * m, pa.float64()),
            "base_demand_cut_l_s": pa.array(demand_cut[order], pa.float64()),
            "rank": pa.array(rank_sorted, pa.int32()),
        }
    )
    if store:
        store_table(twin, "res_network_failures", scenario_id, network_id, table)
    return table
