"""The demo district as a twin, built once for the dashboard tests from the session's demo files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ingest.demo.generate import DemoFiles


@pytest.fixture(scope="session")
def demo_twin_path(demo_files: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A twin of the whole demo district (IFC, footprints, networks, sensors, readings, reports, the
    reversibility results), closed."""
    from buildings.reversibility_store import assess_twin
    from ingest.gis_buildings import ingest_buildings
    from ingest.ifc import ingest_ifc
    from ingest.networks import ingest_network
    from ingest.reports import ingest_reports
    from ingest.sensors import ingest_readings, ingest_sensor_registry
    from networks.service import connect_buildings
    from twin import Twin

    path = tmp_path_factory.mktemp("dashboard-demo") / "twin.duckdb"
    files = demo_files
    assert files.buildings and files.water and files.power and files.streetlights and files.roads
    assert files.sensors and files.readings and files.requests
    with Twin(path, crs="EPSG:2154") as twin:
        for ifc in files.ifc.values():
            ingest_ifc(twin, ifc)
        ingest_buildings(twin, files.buildings)
        for layer, kind in (
            (files.water, "water"),
            (files.power, "power"),
            (files.streetlights, "lighting"),
            (files.roads, "road"),
        ):
            ingest_network(twin, layer, kind=kind)
        connect_buildings(twin)
        ingest_sensor_registry(twin, files.sensors)
        ingest_readings(twin, files.readings, source="demo")
        ingest_reports(twin, files.requests, services_path=files.services)
        assess_twin(twin)  # as `twin demo` does: the building page shows the criteria
    return path
