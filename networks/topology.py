"""Network topology: connected components per network, and the parts cut off from the main one.

A pure function of arrays (:func:`components`) and a reader over the twin (:func:`network_components`). Links are
taken as undirected (a pipe or cable connects both ways); a node with no link is a component of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["Components", "components", "link_index_pairs", "network_components"]


def components(n_nodes: int, from_index: np.ndarray, to_index: np.ndarray) -> np.ndarray:
    """Component label of each node (0 = the largest component, then by decreasing size).

    Examples
    --------
    >>> components(5, np.array([0, 1, 3]), np.array([1, 2, 4])).tolist()
    [0, 0, 0, 1, 1]
    """
    graph = coo_matrix((np.ones(len(from_index)), (from_index, to_index)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    order = np.lexsort((np.arange(len(sizes)), -sizes))  # largest first, ties by first label
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]


@dataclass
class Components:
    """Components of one network: ``table`` (node_id, component) and the nodes outside the main component."""

    network_id: str
    table: pa.Table
    count: int
    isolated_nodes: list[str]


def link_index_pairs(twin: Twin, network_id: str) -> pa.Table:
    """The links of one network as ``(link_id, f, t)``: ``f`` and ``t`` index their end nodes in node_id order.

    The shape every graph algorithm here starts from (components, failure impact, N-1).
    """
    return twin.query(
        "WITH n AS (SELECT node_id, row_number() OVER (ORDER BY node_id) - 1 AS i FROM network_nodes "
        "WHERE network_id = $id) "
        "SELECT l.link_id, a.i AS f, b.i AS t FROM network_links l JOIN n a ON a.node_id = l.from_node "
        "JOIN n b ON b.node_id = l.to_node WHERE l.network_id = $id ORDER BY l.link_id",
        {"id": network_id},
    )


def network_components(twin: Twin, network_id: str) -> Components:
    """Connected components of one network of the twin (component 0 is the largest)."""
    nodes = twin.query("SELECT node_id FROM network_nodes WHERE network_id = ? ORDER BY node_id", [network_id])
    if nodes.num_rows == 0:
        raise TwinError(f"network '{network_id}' has no nodes in the twin", "see the networks table for the ids")
    links = link_index_pairs(twin, network_id)
    labels = components(
        nodes.num_rows,
        links.column("f").to_numpy().astype(np.int64),
        links.column("t").to_numpy().astype(np.int64),
    )
    ids = nodes.column("node_id")
    table = pa.table({"node_id": ids, "component": pa.array(labels, pa.int32())})
    outside = np.flatnonzero(labels > 0)
    return Components(
        network_id=network_id,
        table=table,
        count=int(labels.max()) + 1,
        isolated_nodes=[str(v) for v in ids.take(pa.array(outside)).to_pylist()],
    )
