"""twin network check | failure | critical on the demo district's networks."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from twin import Twin
from twin.cli import cli


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


def test_the_power_check_of_the_demo_gis_network_is_a_real_load_flow(district: Path) -> None:
    code, output, _ = run(district, "check", "--kind", "power")
    assert code == 0 and "power:power_lv: 48 nodes, 82 links" in output
    with Twin(district, read_only=True) as twin:
        lines = twin.query(
            "SELECT count(*) AS n, count(loading_percent) AS loaded FROM res_network_links "
            "WHERE network_id = 'power:power_lv' AND analysis = 'power_check'"
        ).to_pylist()[0]
        buses = twin.query(
            "SELECT count(voltage_pu) AS v, min(voltage_pu) AS low, count(transformer_loading_percent) AS subs "
            "FROM res_network_nodes WHERE network_id = 'power:power_lv' AND analysis = 'power_check'"
        ).to_pylist()[0]
        substations = (
            twin.query("SELECT count(*) FROM network_nodes WHERE node_kind = 'substation'").column(0)[0].as_py()
        )
    assert lines == {"n": 82, "loaded": 82}, "a loading for every cable"
    assert buses["v"] == 48 and 0.8 < buses["low"] < 1.0, "a voltage for every bus, dropping under the load"
    assert buses["subs"] == substations == 12, "each substation's transformer reports its loading"


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
