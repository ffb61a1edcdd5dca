"""Network capacity: a hydraulic check of water networks (wntr / EPANET) and a load flow of power networks.

The twin adds the demand of the buildings it serves, not a new solver. :func:`water_check` rebuilds a
``wntr.network.WaterNetworkModel`` from ``network_nodes`` / ``network_links`` (the EPANET ingest keeps elevations,
base demands, diameters, roughness, statuses, pump and valve data in the attributes), adds the peak demand of the
buildings of ``service_connections`` at their service node, runs EPANET once (a steady-state snapshot: no
patterns, no controls, tanks at their initial level) and stores node pressures and link velocities, flagged
against the minimum pressure and the velocity limit, in ``res_network_nodes`` / ``res_network_links``.
:func:`power_check` (:mod:`networks.power`, re-exported here) rebuilds a pandapower net from the same tables,
runs ``pandapower.runpp`` and stores bus voltages and line / transformer loadings.

Demand (methods.md section 5.1, "How to compute" step 1-2): residents = dwellings x 2.16 persons (INSEE household
size, methods.md section 5 household row); mean flow Q_m = residents x 148 L/day / 86,400 s; peak flow
Q_peak = C_p x Q_m with C_p = 1.5 + 2.5 / sqrt(Q_m [L/s]) bounded to [1.5, 4] (ASTEE [W8, W9]), C_p taken on the
network total of the buildings served (the factor is a network-scale one).
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from networks.power import PowerCheckParams, power_check
from networks.results import store_results
from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "PowerCheckParams",
    "WaterCheckParams",
    "WaterModel",
    "building_demand_l_s",
    "peak_factor",
    "power_check",
    "run_water_model",
    "water_check",
    "water_model",
]

BAR_PER_M = 0.0980665
"""bar per metre of water column (rho g = 9,806.65 Pa/m at 1,000 kg/m3)."""


@dataclass(frozen=True)
class WaterCheckParams:
    """Parameters of :func:`water_check`; every default is cited or marked as a project convention."""

    litres_per_person_day: float = 148.0
    """Domestic consumption, L/(person.day): methods.md 5.1 step 1 (housing)."""
    persons_per_dwelling: float = 2.16
    """Household size: methods.md section 5 (INSEE)."""
    min_pressure_m: float = 20.0
    """Minimum service pressure at a junction, m (2 bar): a project convention (methods.md 5.1 asks for a residual
    pressure >= the service minimum without giving it); override per call."""
    velocity_limit_m_s: float = 2.0
    """Velocity limit in a buried pipe, m/s: the low end of 2-3 m/s, methods.md 5.1 [W7]."""
    add_building_demand: bool = True
    """Add the peak demand of the buildings served; False gives the network's own base demands only."""
    extra_demand_l_s: tuple[tuple[str, float], ...] = ()
    """Further demand (twin node id, L/s) added on top, e.g. a fire flow of 60 m3/h = 16.67 L/s (methods.md 5.1,
    DECI [W10])."""


def peak_factor(mean_flow_l_s: float) -> float:
    """ASTEE peak factor C_p = 1.5 + 2.5 / sqrt(Q_m), Q_m in L/s, bounded to [1.5, 4] (methods.md 5.1 [W8, W9]).

    Examples
    --------
    >>> peak_factor(1.0), peak_factor(0.01), peak_factor(100.0)
    (4.0, 4.0, 1.75)
    """
    if mean_flow_l_s <= 0:
        return 4.0
    return float(min(4.0, max(1.5, 1.5 + 2.5 / math.sqrt(mean_flow_l_s))))


def building_demand_l_s(dwellings: np.ndarray, params: WaterCheckParams) -> tuple[np.ndarray, np.ndarray, float]:
    """Residents, peak demand (L/s) of each building and the peak factor used (methods.md 5.1).

    ``dwellings`` may hold NaN (unknown): such a building gets no demand and NaN residents.
    """
    residents = np.asarray(dwellings, dtype=float) * params.persons_per_dwelling
    mean = np.nan_to_num(residents) * params.litres_per_person_day / 86_400.0
    cp = peak_factor(float(mean.sum()))
    return residents, mean * cp, cp


@dataclass
class WaterModel:
    """A wntr model rebuilt from the twin, with the twin id of each wntr name."""

    model: Any
    node_ids: dict[str, str]
    link_ids: dict[str, str]
    added_demand_l_s: dict[str, float]
    buildings: dict[str, int]
    residents: dict[str, float]
    peak_factor: float


def _attrs(value: Any) -> dict[str, Any]:
    return json.loads(value) if value else {}


def _source_file(twin: Twin, network_id: str) -> Path | None:
    rows = twin.query(
        "SELECT i.file_path FROM networks n JOIN imports i USING (import_id) WHERE n.network_id = ?", [network_id]
    ).to_pylist()
    return Path(rows[0]["file_path"]) if rows and rows[0]["file_path"] else None


def water_model(twin: Twin, network_id: str, params: WaterCheckParams | None = None) -> WaterModel:
    """Rebuild the wntr model of a water network of the twin, with the building demands added.

    Pump head curves are not kept by the ingest (only their name): they are read from the source ``.inp``
    recorded in ``imports`` when a HEAD pump needs one; a missing file is then an error naming the pump.
    """
    import wntr

    params = params or WaterCheckParams()
    nodes = twin.query(
        "SELECT node_id, node_kind, elevation_m, attributes FROM network_nodes WHERE network_id = ? "
        "ORDER BY node_id",
        [network_id],
    ).to_pylist()
    if not nodes:
        raise TwinError(f"network '{network_id}' has no nodes in the twin", "see the networks table for the ids")
    links = twin.query(
        "SELECT link_id, from_node, to_node, link_kind, length_m, diameter_mm, attributes FROM network_links "
        "WHERE network_id = ? ORDER BY link_id",
        [network_id],
    ).to_pylist()
    wn = wntr.network.WaterNetworkModel()
    wn.options.time.duration = 0
    wn.options.hydraulic.pattern = None
    name_of: dict[str, str] = {}
    node_ids: dict[str, str] = {}
    for row in nodes:
        a = _attrs(row["attributes"])
        name = str(a.get("epanet_id") or row["node_id"])
        name_of[row["node_id"]], node_ids[name] = name, row["node_id"]
        kind = row["node_kind"]
        if kind not in ("reservoir", "tank"):
            # Junctions of an EPANET file, and every other point of a GIS network (hydrants, connections, ...):
            # in the hydraulic model they are all junctions.
            wn.add_junction(
                name, base_demand=(a.get("base_demand_l_s") or 0.0) / 1000.0, elevation=row["elevation_m"] or 0.0
            )
        elif kind == "reservoir":
            wn.add_reservoir(name, base_head=a.get("base_head_m", row["elevation_m"]))
        elif kind == "tank":
            wn.add_tank(
                name,
                elevation=row["elevation_m"],
                init_level=a["init_level_m"],
                min_level=a["min_level_m"],
                max_level=a["max_level_m"],
                diameter=a["tank_diameter_m"],
            )
    source: Any = None
    link_ids: dict[str, str] = {}
    for row in links:
        a = _attrs(row["attributes"])
        name = str(a.get("epanet_id") or row["link_id"])
        link_ids[name] = row["link_id"]
        start, end = name_of[row["from_node"]], name_of[row["to_node"]]
        status = str(a.get("initial_status", "Open")).upper()
        if row["link_kind"] == "pipe":
            if "roughness_mm" in a:
                wn.options.hydraulic.headloss = "D-W"
            wn.add_pipe(
                name,
                start,
                end,
                length=row["length_m"],
                diameter=row["diameter_mm"] / 1000.0,
                roughness=a.get("roughness_c", a.get("roughness_mm", 130.0)),
                minor_loss=a.get("minor_loss") or 0.0,
                initial_status="CLOSED" if status == "CLOSED" else "OPEN",
                check_valve=status == "CV",
            )
        elif row["link_kind"] == "pump":
            if str(a.get("pump_type", "")).upper() == "POWER":
                wn.add_pump(name, start, end, "POWER", a["power_kw"] * 1000.0, initial_status=status)
            else:
                curve = str(a["pump_curve"])
                if curve not in wn.curve_name_list:
                    if source is None:
                        file = _source_file(twin, network_id)
                        if file is None or not file.exists():
                            raise TwinError(
                                f"pump {row['link_id']} needs head curve '{curve}', not kept in the twin",
                                "re-import the network with its .inp file present",
                            )
                        source = wntr.network.WaterNetworkModel(str(file))
                    wn.add_curve(curve, "HEAD", source.get_curve(curve).points)
                wn.add_pump(name, start, end, "HEAD", curve, initial_status=status)
        elif row["link_kind"] == "valve":
            wn.add_valve(
                name,
                start,
                end,
                diameter=row["diameter_mm"] / 1000.0,
                valve_type=a["valve_type"],
                initial_setting=a.get("setting") or 0.0,
                initial_status=status if status in ("OPEN", "CLOSED", "ACTIVE") else "ACTIVE",
            )
        else:
            raise TwinError(f"link {row['link_id']} has kind '{row['link_kind']}'", "a water check needs EPANET")

    added: dict[str, float] = {}
    buildings: dict[str, int] = {}
    residents: dict[str, float] = {}
    cp = float("nan")
    if params.add_building_demand:
        served = twin.query(
            "SELECT s.node_id, b.dwellings FROM service_connections s JOIN buildings b USING (building_id) "
            "JOIN network_nodes n ON n.node_id = s.node_id WHERE s.network_id = ? "
            "AND n.node_kind NOT IN ('reservoir', 'tank') "
            "ORDER BY s.node_id, s.building_id",
            [network_id],
        )
        if served.num_rows:
            dwellings = np.array([np.nan if d is None else d for d in served.column("dwellings").to_pylist()])
            res, peak, cp = building_demand_l_s(dwellings, params)
            for node, r, q in zip(served.column("node_id").to_pylist(), res, peak, strict=True):
                name = name_of[node]
                added[name] = added.get(name, 0.0) + float(q)
                buildings[name] = buildings.get(name, 0) + 1
                residents[name] = residents.get(name, 0.0) + (0.0 if np.isnan(r) else float(r))
    for node, q in params.extra_demand_l_s:
        if node not in name_of:
            raise TwinError(f"node '{node}' is not in network '{network_id}'", "give a node id of the network")
        added[name_of[node]] = added.get(name_of[node], 0.0) + float(q)
    for name, q in added.items():
        if q > 0:
            wn.get_node(name).add_demand(q / 1000.0, None)
    return WaterModel(wn, node_ids, link_ids, added, buildings, residents, cp)


def run_water_model(model: Any) -> Any:
    """Run EPANET (wntr's ``EpanetSimulator``) in a temporary folder; returns the wntr results."""
    import wntr

    with tempfile.TemporaryDirectory(prefix="twin-epanet-") as folder:
        return wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(Path(folder) / "twin"))


def water_check(
    twin: Twin,
    network_id: str,
    params: WaterCheckParams | None = None,
    *,
    scenario_id: int = 0,
    store: bool = True,
) -> tuple[pa.Table, pa.Table]:
    """Hydraulic check of a water network: pressures at nodes, velocities in pipes, flags; stored as results.

    Returns ``(nodes, links)``, the rows written to ``res_network_nodes`` and ``res_network_links`` (replacing
    those of the scenario, network and analysis). Pressure flag: a junction below ``params.min_pressure_m`` is
    ``low_pressure``; reservoirs and tanks are ``not_judged``. Velocity flag (pipes): above
    ``params.velocity_limit_m_s`` is ``high_velocity``; a pipe with no flow by status is ``closed``.
    """
    params = params or WaterCheckParams()
    built = water_model(twin, network_id, params)
    results = run_water_model(built.model)
    wn = built.model
    pressure = results.node["pressure"].iloc[0]
    head = results.node["head"].iloc[0]
    demand = results.node["demand"].iloc[0]
    names = list(wn.node_name_list)
    kinds = [wn.get_node(n).node_type for n in names]
    p = pressure[names].to_numpy(dtype=float)
    junction = np.array([k == "Junction" for k in kinds])
    node_flag = np.where(~junction, "not_judged", np.where(p < params.min_pressure_m, "low_pressure", "ok"))
    nodes = pa.table(
        {
            "scenario_id": pa.array([scenario_id] * len(names), pa.int32()),
            "network_id": [network_id] * len(names),
            "node_id": [built.node_ids[n] for n in names],
            "analysis": ["water_check"] * len(names),
            "head_m": head[names].to_numpy(dtype=float),
            "pressure_m": p,
            "pressure_bar": p * BAR_PER_M,
            "demand_l_s": demand[names].to_numpy(dtype=float) * 1000.0,
            "added_demand_l_s": [built.added_demand_l_s.get(n, 0.0) for n in names],
            "buildings": pa.array([built.buildings.get(n, 0) for n in names], pa.int32()),
            "residents": [built.residents.get(n, 0.0) for n in names],
            "flag": node_flag.tolist(),
            "threshold": np.where(junction, params.min_pressure_m, np.nan),
        }
    )
    lnames = list(wn.link_name_list)
    flow = results.link["flowrate"].iloc[0][lnames].to_numpy(dtype=float)
    velocity = np.abs(results.link["velocity"].iloc[0][lnames].to_numpy(dtype=float))
    headloss = results.link["headloss"].iloc[0][lnames].to_numpy(dtype=float)
    status = results.link["status"].iloc[0][lnames].to_numpy(dtype=float)
    pipe = np.array([wn.get_link(n).link_type == "Pipe" for n in lnames])
    length = np.array([wn.get_link(n).length if wn.get_link(n).link_type == "Pipe" else np.nan for n in lnames])
    link_flag = np.where(
        ~pipe,
        "not_judged",
        np.where(status == 0, "closed", np.where(velocity > params.velocity_limit_m_s, "high_velocity", "ok")),
    )
    links = pa.table(
        {
            "scenario_id": pa.array([scenario_id] * len(lnames), pa.int32()),
            "network_id": [network_id] * len(lnames),
            "link_id": [built.link_ids[n] for n in lnames],
            "analysis": ["water_check"] * len(lnames),
            "flow_l_s": flow * 1000.0,
            "velocity_m_s": velocity,
            # EPANET reports pipe head loss per 1,000 length units (m/km in SI); pumps and valves in m.
            "headloss_m": np.where(pipe, headloss * length / 1000.0, headloss),
            "flag": link_flag.tolist(),
            "threshold": np.where(pipe, params.velocity_limit_m_s, np.nan),
        }
    )
    if store:
        store_results(twin, "water_check", scenario_id, network_id, nodes, links)
    return nodes, links
