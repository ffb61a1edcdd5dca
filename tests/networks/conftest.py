"""The demo district's water, power and lighting networks with its buildings connected, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.demo.generate import DemoFiles
from ingest.gis_buildings import ingest_buildings
from ingest.networks import ingest_network
from networks.service import connect_buildings
from twin import Twin


@pytest.fixture(scope="session")
def district(demo_files: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A twin file of the demo district (seed 42): buildings, water, power and street lights, connected."""
    path = tmp_path_factory.mktemp("networks") / "twin.duckdb"
    with Twin(path) as twin:
        assert demo_files.buildings and demo_files.water and demo_files.power and demo_files.streetlights
        ingest_buildings(twin, demo_files.buildings)
        ingest_network(twin, demo_files.water, kind="water")
        ingest_network(twin, demo_files.power, kind="power")
        ingest_network(twin, demo_files.streetlights, kind="lighting")
        connect_buildings(twin)
    return path
