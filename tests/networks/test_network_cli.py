"""twin network check | failure | critical on the demo district's networks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.demo.generate import DemoFiles
from ingest.gis_buildings import ingest_buildings
from ingest.networks import ingest_network
from networks.service import connect_buildings
from twin import Twin
from twin.cli import cli


@pytest.fixture(scope="module")
def district(demo_files: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("networks") / "twin.duckdb"
    with Twin(path) as twin:
        assert demo_files.buildings and demo_files.water and demo_files.power
        ingest_buildings(twin, demo_files.buildings)
        ingest_network(twin, demo_files.water, kind="water")
        ingest_network(twin, demo_files.power, kind="power")
        connect_buildings(twin)
    return path


def run(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--twin", str(path), "network", *args])
    return result.exit_code, result.output, result.stderr


def test_the_water_check_of_the_demo_stores_pressures_with_the_buildings_demand(district: Path) -> None:
    code, output, _ = run(district, "check", "--kind", "water")
    assert code == 0 and "water:water: 49 nodes, 83 links" in output
    with Twin(district, read_only=True) as twin:
        rows = twin.query(
            "SELECT min(pressure_m) AS low, sum(added_demand_l_s) AS added FROM res_network_nodes "
            "WHERE analysis = 'water_check' AND flag <> 'not_judged'"
        ).to_pylist()[0]
    assert rows["low"] > 20.0, "the hill reservoir keeps every junction above the minimum"
    assert rows["added"] > 0, "the connected buildings' demand was added"


def test_a_stricter_minimum_pressure_flags_nodes(district: Path) -> None:
    code, output, _ = run(district, "check", "--kind", "water", "--min-pressure-m", "60")
    assert code == 0 and "low_pressure" in output


def test_the_power_check_refuses_a_gis_network_with_one_clear_line(district: Path) -> None:
    code, _, stderr = run(district, "check", "--kind", "power")
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 2
    assert "not from a pandapower network" in lines[0] and lines[1].startswith("Hint:")


def test_losing_the_trunk_main_cuts_every_connected_building(district: Path) -> None:
    code, output, _ = run(district, "critical", "--kind", "water", "--top", "1")
    assert code == 0
    trunk = output.split()[1].rstrip(":")
    with Twin(district, read_only=True) as twin:
        connected = (
            twin.query("SELECT count(*) FROM service_connections WHERE network_id = 'water:water'")
            .column(0)[0]
            .as_py()
        )
        reservoir_link = (
            twin.query(
                "SELECT link_id FROM network_links l JOIN network_nodes n "
                "ON n.node_id IN (l.from_node, l.to_node) WHERE n.node_kind = 'reservoir'"
            )
            .column(0)
            .to_pylist()
        )
    assert reservoir_link == [trunk]
    code, output, _ = run(district, "failure", trunk)
    assert code == 0 and f"{connected} buildings" in output
    code, _, stderr = run(district, "failure", "no-such-link")
    assert code == 1 and "no link 'no-such-link'" in stderr
