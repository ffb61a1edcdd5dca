"""Failure impact: removing a bridge cuts exactly the buildings downstream, a link on a loop cuts nobody."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.networks import ingest_network
from networks.failure import failure_impact, n1_ranking, network_graph
from tests.conftest import shared_data
from twin import Twin
from twin.errors import TwinError

# R - a - b - c          the reservoir R feeds a; a-b and b-c, b-d are bridges (b, c, d downstream);
#         \   \- d       a - e - f - a is a loop (no link of it cuts anyone);
#          e - f         g - h is an island with no source (never supplied, so never cut).
#          (a-e, e-f, f-a)
LINKS = [
    ("Ra", "R", "a"),
    ("ab", "a", "b"),
    ("bc", "b", "c"),
    ("bd", "b", "d"),
    ("ae", "a", "e"),
    ("ef", "e", "f"),
]
LINKS += [("fa", "f", "a"), ("gh", "g", "h")]
# building -> (node, dwellings)
BUILDINGS = {"B1": ("c", 10), "B2": ("c", 2), "B3": ("d", 5), "B4": ("e", 1), "B5": ("b", None), "B6": ("g", 3)}


@pytest.fixture
def small_tree(memory_twin: Twin) -> Twin:
    with memory_twin.write() as cur:
        cur.execute("INSERT INTO networks (network_id, kind) VALUES ('water:t', 'water')")
        for node in "Rabcdefgh":
            kind = "reservoir" if node == "R" else "junction"
            cur.execute(
                "INSERT INTO network_nodes (node_id, network_id, node_kind, attributes) "
                "VALUES (?, 'water:t', ?, ?)",
                [f"water:t:{node}", kind, '{"base_demand_l_s": 1.5}'],
            )
        for link, a, b in LINKS:
            cur.execute(
                "INSERT INTO network_links (link_id, network_id, from_node, to_node, link_kind) "
                "VALUES (?, 'water:t', ?, ?, 'pipe')",
                [f"water:t:{link}", f"water:t:{a}", f"water:t:{b}"],
            )
        for building, (node, dwellings) in BUILDINGS.items():
            cur.execute(
                "INSERT INTO buildings (building_id, source, dwellings) VALUES (?, 'manual', ?)",
                [building, dwellings],
            )
            cur.execute(
                "INSERT INTO service_connections VALUES (?, 'water:t', ?, 1.0)", [building, f"water:t:{node}"]
            )
    return memory_twin


def test_removing_a_bridge_cuts_exactly_the_buildings_downstream(small_tree: Twin) -> None:
    impact = failure_impact(small_tree, "water:t", "water:t:ab")
    assert sorted(impact.nodes_cut) == ["water:t:b", "water:t:c", "water:t:d"]
    assert impact.buildings.column("building_id").to_pylist() == ["B1", "B2", "B3", "B5"]
    assert impact.residents_cut == pytest.approx((10 + 2 + 5) * 2.16)
    leaf = failure_impact(small_tree, "water:t", "water:t:bd")
    assert leaf.nodes_cut == ["water:t:d"] and leaf.buildings.column("building_id").to_pylist() == ["B3"]


@pytest.mark.parametrize("link", ["ae", "ef", "fa"])
def test_removing_a_link_on_a_loop_cuts_nobody(small_tree: Twin, link: str) -> None:
    impact = failure_impact(small_tree, "water:t", f"water:t:{link}")
    assert impact.nodes_cut == [] and impact.buildings_cut == 0


def test_a_part_without_source_is_never_cut(small_tree: Twin) -> None:
    assert failure_impact(small_tree, "water:t", "water:t:gh").buildings_cut == 0


def test_n1_ranking_agrees_with_one_failure_at_a_time(small_tree: Twin) -> None:
    table = n1_ranking(small_tree, "water:t")
    rows = {r["link_id"].split(":")[-1]: r for r in table.to_pylist()}
    assert rows["Ra"]["rank"] == 1 and rows["Ra"]["buildings_cut"] == 5 and rows["Ra"]["nodes_cut"] == 6
    assert rows["ab"]["rank"] == 2 and rows["ab"]["buildings_cut"] == 4
    assert rows["ab"]["base_demand_cut_l_s"] == pytest.approx(4.5)
    for link in ("ae", "ef", "fa", "gh"):
        assert rows[link]["buildings_cut"] == rows[link]["nodes_cut"] == 0
    for link, row in rows.items():
        impact = failure_impact(small_tree, "water:t", f"water:t:{link}")
        assert row["buildings_cut"] == impact.buildings_cut and row["nodes_cut"] == len(impact.nodes_cut)
        assert row["residents_cut"] == pytest.approx(impact.residents_cut)
    ranks = table.column("rank").to_pylist()
    assert ranks == sorted(ranks) and ranks[0] == 1
    stored = small_tree.query("SELECT count(*) AS n FROM res_network_failures WHERE network_id = 'water:t'")
    assert stored.column("n")[0].as_py() == len(LINKS)


def test_unknown_link_is_an_error_naming_it(small_tree: Twin) -> None:
    with pytest.raises(TwinError, match="water:t:zz"):
        failure_impact(small_tree, "water:t", "water:t:zz")


def test_ky4_n1_ranking_matches_removing_each_top_link(twin: Twin) -> None:
    path = shared_data("network-wntr-epanet", "ky4.inp")
    ingest_network(twin, path, kind="water", origin="651000,6862000")
    table = n1_ranking(twin, "water:ky4")
    graph = network_graph(twin, "water:ky4")
    assert table.num_rows == len(graph.link_ids) == 1158
    # Spot-check the shortcut (only spanning-forest links tested) against a full removal for some links.
    rng = np.random.default_rng(4)
    rows = table.to_pylist()
    for row in [rows[0], rows[1], *[rows[i] for i in rng.choice(len(rows), 20, replace=False)]]:
        impact = failure_impact(twin, "water:ky4", row["link_id"])
        assert row["nodes_cut"] == len(impact.nodes_cut)
    assert rows[0]["nodes_cut"] > 0
