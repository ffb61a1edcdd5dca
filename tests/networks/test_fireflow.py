"""Fire-flow check (methods.md 5.1, DECI) at every hydrant: equal to a water check with the fire flow added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ingest.networks import ingest_network
from networks.capacity import WaterCheckParams, water_check
from networks.fireflow import FireFlowParams, fire_flow_check, hydrants
from tests.conftest import shared_data
from twin import Twin
from twin.cli import cli
from twin.errors import TwinError


def test_every_hydrant_of_the_demo_is_checked_and_equals_a_water_check_with_its_flow(district: Path) -> None:
    with Twin(district) as twin:
        table = fire_flow_check(twin, "water:water")
        count = twin.query("SELECT count(*) FROM network_nodes WHERE node_kind = 'hydrant'").column(0)[0].as_py()
        stored = twin.query("SELECT count(*) FROM res_network_fireflow").column(0)[0].as_py()
        assert table.num_rows == stored == count > 0
        rows = table.to_pylist()
        assert {r["flow_basis"] for r in rows} == {"default"} and {r["fire_flow_m3_h"] for r in rows} == {60.0}
        assert all(r["required_volume_m3"] == 120.0 for r in rows), "60 m3/h for 2 h (DECI)"
        # The same physics as the hydraulic check: static = its pressure, residual = its pressure with the flow.
        base, _ = water_check(twin, "water:water", store=False)
        at = dict(zip(base.column("node_id").to_pylist(), base.column("pressure_m").to_pylist(), strict=True))
        for r in rows[:: max(len(rows) // 3, 1)]:
            assert r["static_pressure_m"] == pytest.approx(at[r["node_id"]], abs=1e-3)
            more = WaterCheckParams(extra_demand_l_s=((r["node_id"], 60 / 3.6),))
            fire, _ = water_check(twin, "water:water", more, store=False)
            pressure = dict(
                zip(fire.column("node_id").to_pylist(), fire.column("pressure_m").to_pylist(), strict=True)
            )
            assert r["residual_pressure_m"] == pytest.approx(pressure[r["node_id"]], abs=1e-3)
            assert r["min_pressure_elsewhere_m"] == pytest.approx(
                min(v for k, v in pressure.items() if k != r["node_id"] and k.split(":")[-1].startswith("WJ")),
                abs=1e-3,
            )
    residual = np.array([r["residual_pressure_m"] for r in rows])
    static = np.array([r["static_pressure_m"] for r in rows])
    assert np.all(residual <= static + 1e-6), "drawing water never raises the pressure"
    assert all(r["passes"] == (r["residual_pressure_bar"] >= 1.0) for r in rows)


@pytest.fixture(scope="module")
def net3() -> Twin:
    twin = Twin(":memory:")
    ingest_network(twin, shared_data("network-wntr-epanet", "Net3.inp"), kind="water", origin="651000,6862000")
    with twin.write() as cur:  # three junctions become hydrants of three sizes
        for node, size in (("10", "65"), ("15", "100"), ("20", "2x100")):
            cur.execute(
                "UPDATE network_nodes SET node_kind = 'hydrant', attributes = json_merge_patch(attributes, ?) "
                "WHERE node_id = ?",
                [f'{{"dn": "{size}"}}', f"water:Net3:{node}"],
            )
    yield twin
    twin.close()


def test_the_flow_follows_the_hydrant_size_or_the_one_given(net3: Twin) -> None:
    table = hydrants(net3, "water:Net3").to_pylist()
    assert [(r["node_id"], r["fire_flow_m3_h"], r["flow_basis"]) for r in table] == [
        ("water:Net3:10", 30.0, "dn65"),
        ("water:Net3:15", 60.0, "dn100"),
        ("water:Net3:20", 120.0, "2x100"),
    ]
    given = hydrants(net3, "water:Net3", FireFlowParams(flow_m3_h=90.0)).to_pylist()
    assert {(r["fire_flow_m3_h"], r["flow_basis"]) for r in given} == {(90.0, "given")}


def test_a_larger_fire_flow_never_raises_the_residual_pressure(net3: Twin) -> None:
    small = fire_flow_check(net3, "water:Net3", FireFlowParams(flow_m3_h=30.0), store=False)
    large = fire_flow_check(net3, "water:Net3", FireFlowParams(flow_m3_h=120.0), store=False)
    a = np.array(small.column("residual_pressure_m").to_pylist())
    b = np.array(large.column("residual_pressure_m").to_pylist())
    assert np.all(b < a)
    # And the order of the hydrants does not change a result (each solve starts afresh).
    ids = small.column("node_id").to_pylist()[::-1]
    again = fire_flow_check(net3, "water:Net3", FireFlowParams(flow_m3_h=30.0), node_ids=ids, store=False)
    assert again.column("residual_pressure_m").to_pylist()[::-1] == pytest.approx(a.tolist(), abs=1e-9)


def test_no_hydrant_or_an_unknown_node_is_a_clear_error(net3: Twin, memory_twin: Twin) -> None:
    with pytest.raises(TwinError, match="is not in network"):
        fire_flow_check(net3, "water:Net3", node_ids=["water:Net3:nope"])
    ingest_network(memory_twin, shared_data("network-wntr-epanet", "Net1.inp"), kind="water", origin="0,0")
    with pytest.raises(TwinError, match="has no hydrant"):
        fire_flow_check(memory_twin, "water:Net1")


def test_the_fireflow_command_reports_the_failing_hydrants(district: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--twin", str(district), "network", "fireflow", "--flow-m3-h", "60"])
    assert result.exit_code == 0 and "water:water: 24 hydrants, 0 fail" in result.output
    result = runner.invoke(
        cli, ["--twin", str(district), "network", "fireflow", "--flow-m3-h", "60", "--min-residual-bar", "4.5"]
    )
    assert result.exit_code == 0 and "low_residual_pressure" in result.output
    with Twin(district, read_only=True) as twin:
        failing = twin.query("SELECT count(*) FROM res_network_fireflow WHERE NOT passes").column(0)[0].as_py()
    assert f"24 hydrants, {failing} fail" in result.output and failing > 0
