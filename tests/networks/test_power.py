"""Power load flow from the twin's own tables: equal to pandapower on its own JSON, and on a GIS network."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.networks import ingest_network
from networks.power import PowerCheckParams, PowerDemandParams, building_power_kw, power_check, power_net
from tests.conftest import shared_data
from twin import Twin
from twin.errors import TwinError

NO_BUILDINGS = PowerCheckParams(add_building_demand=False)


def pandapower_run(path: Path) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower as pp

        net = pp.from_json(str(path))
        pp.runpp(net, numba=False)
    return net


@pytest.mark.parametrize("name", ["lv_schutterwald.json", "mv_oberrhein.json"])
def test_a_pandapower_network_rebuilt_from_the_tables_gives_its_own_results(
    name: str, memory_twin: Twin, tmp_path: Path
) -> None:
    twin = memory_twin
    # The file is imported from a copy that is then deleted: the load flow can only come from the tables.
    source = shared_data("network-pandapower-oberrhein-schutterwald", name)
    copy = tmp_path / name
    shutil.copy(source, copy)
    ingest_network(twin, copy, kind="power")
    copy.unlink()
    network_id = f"power:{copy.stem}"
    nodes, links = power_check(twin, network_id, NO_BUILDINGS)
    net = pandapower_run(source)
    ours = dict(zip(links.column("link_id").to_pylist(), links.column("loading_percent").to_pylist(), strict=True))
    expected = {f"{network_id}:line:{i}": v for i, v in net.res_line.loading_percent.items()}  # type: ignore[attr-defined]
    expected |= {f"{network_id}:trafo:{i}": v for i, v in net.res_trafo.loading_percent.items()}  # type: ignore[attr-defined]
    assert ours.keys() == expected.keys()
    # Open switches are kept on their lines: the lines without a result are the same ones (NULL, not_judged).
    assert all((ours[k] is None) == np.isnan(v) for k, v in expected.items())
    assert max(abs(ours[k] - float(v)) for k, v in expected.items() if not np.isnan(v)) < 1e-6
    vm = dict(zip(nodes.column("node_id").to_pylist(), nodes.column("voltage_pu").to_pylist(), strict=True))
    assert max(abs(vm[f"{network_id}:{i}"] - float(v)) for i, v in net.res_bus.vm_pu.items()) < 1e-6  # type: ignore[attr-defined]
    stored = twin.query(
        "SELECT count(*) AS n FROM res_network_links WHERE network_id = ? AND analysis = 'power_check'",
        [network_id],
    ).to_pylist()[0]["n"]
    assert stored == len(expected)


def test_building_demand_is_added_on_the_service_bus_and_never_raises_a_voltage(district: Path) -> None:
    with Twin(district) as twin:
        model = power_net(twin, "power:power_lv")
        rows = twin.query(
            "SELECT b.use, b.dwellings, b.footprint_area_m2 * b.storeys_above_ground AS area "
            "FROM service_connections s JOIN buildings b USING (building_id) WHERE s.network_id = 'power:power_lv'"
        ).to_pandas()
        kw, basis = building_power_kw(rows["use"].to_numpy(object), rows.dwellings, rows.area, PowerDemandParams())
        assert model.added_load_kw.sum() == pytest.approx(np.nansum(kw))
        assert sum(model.demand_basis.values()) == len(rows) == model.buildings.sum()
        assert model.demand_basis["unknown"] == int((basis == "unknown").sum()) > 0, "parking/annexes: unknown"
        base, _ = power_check(twin, "power:power_lv", NO_BUILDINGS, store=False)
        loaded, _ = power_check(twin, "power:power_lv", store=False)
    before = np.array(base.column("voltage_pu").to_pylist())
    after = np.array(loaded.column("voltage_pu").to_pylist())
    assert np.all(after <= before + 1e-9) and after.min() < before.min()


@given(
    dwellings=st.floats(0, 500),
    more=st.floats(0, 100),
    area=st.floats(1, 1e5),
    use=st.sampled_from(["housing", "office", "school", "commerce", "parking", "other"]),
)
def test_more_dwellings_or_floor_area_never_lowers_the_demand(
    dwellings: float, more: float, area: float, use: str
) -> None:
    params = PowerDemandParams()
    a, _ = building_power_kw(np.array([use]), np.array([dwellings]), np.array([area]), params)
    b, basis = building_power_kw(np.array([use]), np.array([dwellings + more]), np.array([area + more]), params)
    if basis[0] == "unknown":
        assert np.isnan(a[0]) and np.isnan(b[0])
    else:
        assert 0 <= a[0] <= b[0]


def test_unknown_use_or_area_gives_unknown_demand_not_zero() -> None:
    p, basis = building_power_kw(
        np.array(["office", "housing", None], dtype=object),
        np.array([np.nan, np.nan, 3.0]),
        np.array([np.nan, np.nan, 100.0]),
        PowerDemandParams(),
    )
    assert np.isnan(p).all() and basis.tolist() == ["unknown"] * 3


def _tiny(twin: Twin, line_attrs: str, node_kind: str = "ext_grid") -> None:
    with twin.write() as cur:
        cur.execute("INSERT INTO networks (network_id, kind) VALUES ('power:t', 'power')")
        cur.execute(
            "INSERT INTO network_nodes (node_id, network_id, node_kind, attributes) VALUES "
            "('power:t:a', 'power:t', ?, '{\"voltage_kv\": 0.4}'), "
            "('power:t:b', 'power:t', 'bus', '{\"voltage_kv\": 0.4, \"load_p_kw\": 20}')",
            [node_kind],
        )
        cur.execute(
            "INSERT INTO network_links (link_id, network_id, from_node, to_node, link_kind, length_m, attributes) "
            "VALUES ('power:t:l', 'power:t', 'power:t:a', 'power:t:b', 'cable', 100, ?)",
            [line_attrs],
        )


def test_a_cable_without_impedance_is_an_error_naming_it(memory_twin: Twin) -> None:
    _tiny(memory_twin, '{"max_i_ka": 0.27}')
    with pytest.raises(TwinError, match=r"1 lines lack .*power:t:l: no r_ohm_per_km, x_ohm_per_km"):
        power_check(memory_twin, "power:t")


def test_a_std_type_gives_the_cable_its_impedance(memory_twin: Twin) -> None:
    _tiny(memory_twin, '{"std_type": "NAYY 4x150 SE"}')
    nodes, links = power_check(memory_twin, "power:t")
    # 20 kW at 0.4 kV through 100 m of 0.208 ohm/km: 29 A of 270 A, a drop of R P / U2 = 0.26 %.
    assert links.column("current_ka")[0].as_py() == pytest.approx(20 / (0.4 * 3**0.5) / 1000, rel=0.02)
    assert 1 - nodes.column("voltage_pu")[1].as_py() == pytest.approx(0.0208 * 20e3 / 400**2, rel=0.05)


def test_a_network_without_supply_point_is_an_error(memory_twin: Twin) -> None:
    _tiny(memory_twin, '{"std_type": "NAYY 4x150 SE"}', node_kind="bus")
    with pytest.raises(TwinError, match="no supply point"):
        power_check(memory_twin, "power:t")
