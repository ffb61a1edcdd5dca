"""Network analyses on a real network: the N-1 ranking of ky4 (964 nodes, 1,158 links).

Goal (issue 5): the N-1 ranking of a town's water network in well under a minute, so that it can run after every
scenario change: one connected-components pass (scipy.sparse.csgraph) per spanning-forest link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.networks import ingest_network
from networks.failure import n1_ranking
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
