"""Upstream / downstream tracing on a hand-built network with known answers, on Net3 and on the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from ingest.networks import ingest_network
from networks.capacity import WaterCheckParams, water_check
from networks.trace import oriented_links, reach, trace
from tests.conftest import shared_data
from twin import Twin
from twin.cli import cli
from twin.errors import TwinError

#   R --a-- J1 --b-- J2 --c-- J3
#                     \--d-- J4 --e-- J5     (lengths in metres)
LINKS = [
    ("a", "R", "J1", 100),
    ("b", "J1", "J2", 100),
    ("c", "J2", "J3", 50),
    ("d", "J4", "J2", 80),
    ("e", "J4", "J5", 10),
]


@pytest.fixture
def small(memory_twin: Twin) -> Twin:
    with memory_twin.write() as cur:
        cur.execute("INSERT INTO networks (network_id, kind) VALUES ('water:s', 'water')")
        for node in ("R", "J1", "J2", "J3", "J4", "J5"):
            cur.execute(
                "INSERT INTO network_nodes (node_id, network_id, node_kind) VALUES (?, 'water:s', ?)",
                [f"water:s:{node}", "reservoir" if node == "R" else "junction"],
            )
        for link, a, b, length in LINKS:
            cur.execute(
                "INSERT INTO network_links (link_id, network_id, from_node, to_node, link_kind, length_m) "
                "VALUES (?, 'water:s', ?, ?, 'pipe', ?)",
                [f"water:s:{link}", f"water:s:{a}", f"water:s:{b}", length],
            )
        for building, node in (("B3", "J3"), ("B5", "J5"), ("B1", "J1")):
            cur.execute("INSERT INTO buildings (building_id, source) VALUES (?, 'manual')", [building])
            cur.execute(
                "INSERT INTO service_connections VALUES (?, 'water:s', ?, 2.0)", [building, f"water:s:{node}"]
            )
        cur.execute(
            "INSERT INTO sensors (sensor_id, kind, unit_ucum, asset_kind, asset_id) VALUES "
            "('p4', 'water_pressure', 'Pa', 'network_node', 'water:s:J4'), "
            "('m3', 'water_flow', 'L/s', 'building', 'B3'), "
            "('m1', 'water_flow', 'L/s', 'building', 'B1')"
        )
    return memory_twin


def ids(values: list[str]) -> list[str]:
    return [v.split(":")[-1] for v in values]


def test_a_node_traces_to_its_source_and_down_to_what_it_feeds(small: Twin) -> None:
    result = trace(small, "water:s:J2")
    assert result.orientation == "distance" and ids(result.sources) == ["R"]
    assert ids(result.path_nodes) == ["R", "J1", "J2"] and ids(result.path_links) == ["a", "b"]
    assert ids(result.upstream_nodes) == ["J1", "R"] and ids(result.upstream_links) == ["a", "b"]
    assert ids(result.downstream_nodes) == ["J3", "J4", "J5"]
    assert ids(result.downstream_links) == ["c", "d", "e"], "link d is drawn J4 -> J2 but fed from J2"
    assert result.buildings == ["B3", "B5"]
    assert sorted(s["sensor_id"] for s in result.sensors) == ["m3", "p4"]


def test_a_link_traces_from_its_upstream_end(small: Twin) -> None:
    result = trace(small, "water:s:d")
    assert ids(result.path_nodes) == ["R", "J1", "J2", "J4"] and ids(result.path_links) == ["a", "b", "d"]
    assert ids(result.downstream_nodes) == ["J4", "J5"] and ids(result.downstream_links) == ["e"]
    assert ids(result.upstream_nodes) == ["J1", "J2", "R"] and ids(result.upstream_links) == ["a", "b"]
    assert result.buildings == ["B5"]


def test_a_source_has_nothing_upstream_and_feeds_everything(small: Twin) -> None:
    result = trace(small, "water:s:R")
    assert ids(result.path_nodes) == ["R"] and result.path_links == [] and result.upstream_nodes == []
    assert len(result.downstream_nodes) == 5 and len(result.downstream_links) == 5
    assert result.buildings == ["B1", "B3", "B5"]


def test_an_unknown_id_or_orientation_is_a_clear_error(small: Twin) -> None:
    with pytest.raises(TwinError, match="no network node or link 'water:s:nope'"):
        trace(small, "water:s:nope")
    with pytest.raises(TwinError, match="unknown orientation"):
        trace(small, "water:s:J2", orientation="uphill")
    with pytest.raises(TwinError, match="no capacity check results"):
        trace(small, "water:s:J2", orientation="flow")


def test_net3_flow_orientation_follows_the_checked_flows(memory_twin: Twin) -> None:
    twin = memory_twin
    ingest_network(twin, shared_data("network-wntr-epanet", "Net3.inp"), kind="water", origin="651000,6862000")
    _, links = water_check(twin, "water:Net3", WaterCheckParams(add_building_demand=False))
    flow = dict(zip(links.column("link_id").to_pylist(), links.column("flow_l_s").to_pylist(), strict=True))
    ends = {
        r["link_id"]: (r["from_node"], r["to_node"])
        for r in twin.query(
            "SELECT link_id, from_node, to_node FROM network_links WHERE network_id = 'water:Net3'"
        ).to_pylist()
    }
    # Junction 10 of Net3 hangs on the Lake's pump 10, which the file starts closed: by flow nothing feeds it,
    # by distance the pump is left out (it carries nothing), so the path comes round from another source.
    result = trace(twin, "water:Net3:10")
    assert result.orientation == "flow" and result.sources == [] and result.path_nodes == []
    result = trace(twin, "water:Net3:10", orientation="distance")
    assert result.path_nodes[0] in result.sources and "water:Net3:Lake" not in result.sources
    assert "water:Net3:10" not in result.path_links and result.path_nodes[-1] == "water:Net3:10"
    for node in ("water:Net3:255", "water:Net3:20", "water:Net3:121"):
        result = trace(twin, node)
        assert result.sources and result.path_nodes[0] in result.sources and result.path_nodes[-1] == node
        # Every link of the path carries water towards the element, and so does every downstream link.
        for a, b, link in zip(result.path_nodes[:-1], result.path_nodes[1:], result.path_links, strict=True):
            assert (ends[link] == (a, b) and flow[link] > 0) or (ends[link] == (b, a) and flow[link] < 0)
        down = set(result.downstream_nodes) | {node}
        assert all(set(ends[link]) <= down and flow[link] != 0 for link in result.downstream_links)
        assert not set(result.upstream_nodes) & set(result.downstream_nodes), "flows have no cycle"


def test_the_trunk_main_of_the_demo_feeds_every_connected_building(district: Path) -> None:
    with Twin(district, read_only=True) as twin:
        connected = (
            twin.query("SELECT count(*) FROM service_connections WHERE network_id = 'water:water'")
            .column(0)[0]
            .as_py()
        )
        result = trace(twin, "water:water:WP00082", orientation="distance")
    assert ids(result.path_nodes) == ["WR00001", "WJ00000"] and len(result.buildings) == connected
    assert len(result.downstream_nodes) == 48


def test_the_trace_command_prints_either_side_and_rejects_an_unknown_id(district: Path) -> None:
    runner = CliRunner()
    base = ["--twin", str(district), "network", "trace"]
    result = runner.invoke(cli, [*base, "power:power_lv:PB00010", "--orientation", "distance"])
    assert result.exit_code == 0 and "Upstream:" in result.output and "Downstream:" in result.output
    assert "street lights (" in result.output and "buildings served (" in result.output
    result = runner.invoke(cli, [*base, "power:power_lv:PB00010", "--up"])
    assert result.exit_code == 0 and "Downstream:" not in result.output
    result = runner.invoke(cli, [*base, "power:power_lv:nope"])
    assert result.exit_code == 1 and "no network node or link 'power:power_lv:nope'" in result.stderr


@given(st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=40), st.data())
def test_on_any_tree_downstream_is_the_subtree_and_upstream_the_ancestors(
    draws: list[float], data: st.DataObject
) -> None:
    # Node k + 1 hangs on a node before it; links drawn either way, the sign says which way they carry.
    parent = np.array([int(d * (k + 1)) for k, d in enumerate(draws)])
    child = np.arange(1, len(parent) + 1)
    flip = np.array(data.draw(st.lists(st.booleans(), min_size=len(parent), max_size=len(parent))))
    f, t = np.where(flip, child, parent), np.where(flip, parent, child)
    tail, head, carried = oriented_links(f, t, np.where(flip, -1.0, 1.0))
    assert carried.tolist() == list(range(len(parent))) and tail.tolist() == parent.tolist()
    n = len(parent) + 1
    v = data.draw(st.integers(0, n - 1))
    ancestors = _chain(v, parent)
    below = {int(c) for c in child if v in _chain(int(c), parent)}
    assert reach(n, tail, head, v, up=True).tolist() == sorted(ancestors)
    assert set(reach(n, tail, head, v, up=False).tolist()) == below


def _chain(node: int, parent: np.ndarray) -> list[int]:
    """The ancestors of ``node``, itself excluded."""
    out = []
    while node:
        node = int(parent[node - 1])
        out.append(node)
    return out
