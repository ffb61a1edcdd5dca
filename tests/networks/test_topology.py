"""Topology: connected components of an imported network, the isolated parts listed."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.networks import ingest_network
from networks.topology import components, network_components
from tests.conftest import shared_data
from twin import Twin
from twin.errors import TwinError


def test_labels_are_ranked_by_size_and_links_join_both_ways() -> None:
    labels = components(6, np.array([5, 4, 0]), np.array([4, 3, 1]))
    assert labels.tolist() == [1, 1, 2, 0, 0, 0]


def test_net3_is_one_component(twin: Twin) -> None:
    ingest_network(twin, shared_data("network-wntr-epanet", "Net3.inp"), kind="water", origin="0,0")
    result = network_components(twin, "water:Net3")
    assert result.count == 1 and result.isolated_nodes == [] and result.table.num_rows == 97


def test_unknown_network_is_an_error(twin: Twin) -> None:
    with pytest.raises(TwinError, match="has no nodes"):
        network_components(twin, "water:none")
