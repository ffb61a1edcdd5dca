"""Network capacity: the hydraulic check equals wntr on the same network (the load flow: test_power.py)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.networks import ingest_network
from networks.capacity import WaterCheckParams, peak_factor, run_water_model, water_check, water_model
from tests.conftest import shared_data
from twin import Twin

X0, Y0 = 651000.0, 6862000.0
NO_BUILDINGS = WaterCheckParams(add_building_demand=False)


def direct_snapshot(path: Path) -> Any:
    """wntr on the .inp itself, as one steady-state snapshot at base demand: no patterns, no controls."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(path))
    wn.options.time.duration = 0
    for name in list(wn.control_name_list):
        wn.remove_control(name)
    for name in wn.pattern_name_list:
        wn.get_pattern(name).multipliers = [1.0]
    return wn, run_water_model(wn)


@pytest.fixture(scope="module", params=["Net3.inp", "ky4.inp"])
def epanet_twin(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = shared_data("network-wntr-epanet", request.param)
    twin = Twin(tmp_path_factory.mktemp("cap") / "twin.duckdb")
    ingest_network(twin, path, kind="water", origin=f"{X0},{Y0}")
    yield twin, f"water:{path.stem}", path
    twin.close()


def test_pressures_equal_a_direct_wntr_run_of_the_same_inp(epanet_twin: Any) -> None:
    twin, network_id, path = epanet_twin
    nodes, links = water_check(twin, network_id, NO_BUILDINGS)
    wn, direct = direct_snapshot(path)
    expected = direct.node["pressure"].iloc[0]
    ours = dict(zip(nodes.column("node_id").to_pylist(), nodes.column("pressure_m").to_pylist(), strict=True))
    assert len(ours) == wn.num_nodes
    diff = np.array([abs(ours[f"{network_id}:{name}"] - float(expected[name])) for name in wn.node_name_list])
    # EPANET's binary output (read by wntr) is single precision: heads of a few hundred metres carry ~3e-5 m of
    # rounding, and the twin's model differs from the file only by the order of its nodes. Equal to 4 float32 ulps.
    heads = direct.node["head"].iloc[0][wn.node_name_list].to_numpy(dtype=np.float32)
    assert np.all(diff <= 4 * np.spacing(np.abs(heads)))
    assert diff.max() < 1e-4
    # Flows: equal within EPANET's convergence accuracy (0.001, sum of flow changes / total flow), the node order
    # of the rebuilt model changing the last iterate.
    flows = 1000.0 * direct.link["flowrate"].iloc[0][wn.link_name_list].to_numpy(dtype=float)
    ours_q = dict(zip(links.column("link_id").to_pylist(), links.column("flow_l_s").to_pylist(), strict=True))
    delta = np.abs(np.array([ours_q[f"{network_id}:{n}"] for n in wn.link_name_list]) - flows)
    assert delta.max() <= 1e-3 * np.abs(flows).max()
    # Stored: one row per node and link, and the flags follow the thresholds.
    stored = twin.query(
        "SELECT count(*) AS n, count(*) FILTER (flag = 'low_pressure') AS low FROM res_network_nodes "
        "WHERE network_id = ? AND analysis = 'water_check'",
        [network_id],
    ).to_pylist()[0]
    assert stored["n"] == wn.num_nodes
    low = sum(1 for n, j in wn.junctions() if float(expected[n]) < NO_BUILDINGS.min_pressure_m)
    assert stored["low"] == low


def test_flows_balance_at_every_junction(epanet_twin: Any) -> None:
    twin, network_id, _ = epanet_twin
    nodes, _ = water_check(twin, network_id, NO_BUILDINGS, store=False)
    net = twin.query(
        "SELECT n.node_id, any_value(r.demand_l_s) AS demand, "
        "coalesce(sum(CASE WHEN l.to_node = n.node_id THEN q.flow_l_s ELSE -q.flow_l_s END), 0) AS inflow "
        "FROM network_nodes n JOIN res_network_nodes r USING (node_id) "
        "LEFT JOIN network_links l ON n.node_id IN (l.from_node, l.to_node) "
        "LEFT JOIN res_network_links q ON q.link_id = l.link_id AND q.analysis = 'water_check' "
        "WHERE n.network_id = ? AND n.node_kind = 'junction' AND r.analysis = 'water_check' GROUP BY n.node_id",
        [network_id],
    ).to_pylist()
    assert len(net) == nodes.num_rows - sum(1 for f in nodes.column("flag").to_pylist() if f == "not_judged")
    # EPANET converges to an accuracy of 0.001 (sum of flow changes / total flow): a few 1e-3 L/s at most.
    assert max(abs(r["inflow"] - r["demand"]) for r in net) < 0.05


def test_adding_demand_never_raises_a_pressure(epanet_twin: Any) -> None:
    twin, network_id, _ = epanet_twin
    base, _ = water_check(twin, network_id, NO_BUILDINGS, store=False)
    junctions = [
        n for n, f in zip(base.column("node_id").to_pylist(), base.column("flag").to_pylist(), strict=True)
    ]
    junctions = [n for n, f in zip(junctions, base.column("flag").to_pylist(), strict=True) if f != "not_judged"]
    rng = np.random.default_rng(5)
    before = np.array(base.column("pressure_m").to_pylist())
    for node in rng.choice(junctions, size=3, replace=False):
        more = WaterCheckParams(add_building_demand=False, extra_demand_l_s=((str(node), 16.67),))  # DECI 60 m3/h
        after, _ = water_check(twin, network_id, more, store=False)
        assert after.column("node_id").to_pylist() == base.column("node_id").to_pylist()
        assert np.all(np.array(after.column("pressure_m").to_pylist()) <= before + 1e-6)
        at = after.column("node_id").to_pylist().index(str(node))
        assert after.column("pressure_m")[at].as_py() < before[at]


def test_building_demand_follows_methods_5(twin: Twin) -> None:
    path = shared_data("network-wntr-epanet", "Net3.inp")
    ingest_network(twin, path, kind="water", origin=f"{X0},{Y0}")
    node = "water:Net3:10"  # a junction
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO buildings (building_id, source, dwellings, use) "
            "VALUES ('b1', 'manual', 100, 'housing'), ('b2', 'manual', NULL, 'office')"
        )
        cur.execute(
            "INSERT INTO service_connections VALUES ('b1', 'water:Net3', ?, 5.0), ('b2', 'water:Net3', ?, 5.0)",
            [node, node],
        )
    built = water_model(twin, "water:Net3", WaterCheckParams())
    mean = 100 * 2.16 * 148 / 86_400
    assert built.peak_factor == pytest.approx(peak_factor(mean)) == pytest.approx(min(4.0, 1.5 + 2.5 / mean**0.5))
    assert built.added_demand_l_s["10"] == pytest.approx(mean * built.peak_factor)
    assert built.buildings["10"] == 2 and built.residents["10"] == pytest.approx(216.0)
    nodes, _ = water_check(twin, "water:Net3")
    row = nodes.filter(nodes.column("node_id").to_numpy(zero_copy_only=False) == node).to_pylist()[0]
    # Junction 10 of Net3 has no base demand: all it draws is the building peak (EPANET output in float32).
    assert row["demand_l_s"] == pytest.approx(mean * built.peak_factor, rel=1e-5)
    assert row["buildings"] == 2 and row["residents"] == pytest.approx(216.0)


def test_peak_factor_is_bounded() -> None:
    flows = np.logspace(-4, 4, 50)
    factors = [peak_factor(q) for q in flows]
    assert all(1.5 <= f <= 4.0 for f in factors)
    assert all(a >= b for a, b in itertools.pairwise(factors))
