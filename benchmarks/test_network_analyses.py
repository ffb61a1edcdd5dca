"""Network analyses on a real network: ky4 (964 nodes, 1,158 links; 959 junctions).

Goals (issue 5): the N-1 ranking of a town's water network in well under a minute, so that it can run after every
scenario change (one connected-components pass per spanning-forest link); the fire-flow check of every hydrant
in seconds (one EPANET solve per hydrant on one open toolkit project: every junction of ky4 stands in for a
hydrant here); a trace up and down from any node well under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.networks import ingest_network
from networks.failure import n1_ranking
from networks.fireflow import fire_flow_check
from networks.trace import trace
from tests.conftest import shared_data
from twin import Twin


@pytest.fixture(scope="module")
def ky4_twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    path: Path = shared_data("network-wntr-epanet", "ky4.inp")
    with Twin(tmp_path_factory.mktemp("bench-n1") / "twin.duckdb") as twin:
        ingest_network(twin, path, kind="water", origin="651000,6862000")
        yield twin


def test_n1_ranking_ky4(benchmark: Any, ky4_twin: Twin) -> None:
    table = benchmark(n1_ranking, ky4_twin, "water:ky4")
    benchmark.extra_info["rows"] = table.num_rows
    assert table.num_rows == 1158


def test_fire_flow_every_junction_of_ky4(benchmark: Any, ky4_twin: Twin) -> None:
    junctions = (
        ky4_twin.query(
            "SELECT node_id FROM network_nodes WHERE network_id = 'water:ky4' AND node_kind = 'junction' "
            "ORDER BY 1"
        )
        .column(0)
        .to_pylist()
    )
    table = benchmark.pedantic(
        fire_flow_check, args=(ky4_twin, "water:ky4"), kwargs={"node_ids": junctions}, rounds=1, iterations=1
    )
    benchmark.extra_info["hydrants"] = table.num_rows
    benchmark.extra_info["failing"] = sum(1 for f in table.column("flag").to_pylist() if f != "ok")
    assert table.num_rows == len(junctions) == 959


def test_trace_a_ky4_node(benchmark: Any, ky4_twin: Twin) -> None:
    node = "water:ky4:J-100"
    result = benchmark(trace, ky4_twin, node)
    benchmark.extra_info["downstream_nodes"] = len(result.downstream_nodes)
    benchmark.extra_info["path_links"] = len(result.path_links)
    assert result.sources
