"""The water capacity check of a scenario: the baseline check plus the scenario's demand at the serving nodes.

:func:`networks.capacity.water_check` models the network with the baseline buildings' demand (dwellings x 2.16
residents x 148 L/day x the ASTEE peak factor, methods.md 5.1). A scenario adds, at each node serving a building
whose residents change, ``delta residents x 148 / 86,400 x C_p`` L/s, ``C_p`` being the peak factor of the
network's baseline demand (:func:`networks.capacity.peak_factor`); the check is run again with that extra demand
(``WaterCheckParams.extra_demand_l_s``). A demand that falls (demolition) is not taken off: the check stays on the
safe side, and the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from networks.capacity import WaterCheckParams, peak_factor, water_check
from twin.store import Twin

__all__ = ["scenario_water_check"]


def scenario_water_check(
    twin: Twin, networks: pa.Table, params: WaterCheckParams | None = None, scenario_id: int = 0
) -> tuple[list[dict[str, Any]], list[pa.Table], list[pa.Table]]:
    """Run the water check of every water network with the scenario's added demand.

    ``networks`` is :attr:`ScenarioResult.networks`. Returns a summary per network (flags before and after,
    pressures at the nodes whose demand changed) and the node and link tables of the scenario's check.
    """
    params = params or WaterCheckParams()
    rows = [r for r in networks.to_pylist() if r["kind"] == "water"]
    summaries: list[dict[str, Any]] = []
    node_tables: list[pa.Table] = []
    link_tables: list[pa.Table] = []
    for network_id in sorted({r["network_id"] for r in rows}):
        mine = [r for r in rows if r["network_id"] == network_id]
        mean_l_s = sum(r["residents_before"] for r in mine) * params.litres_per_person_day / 86_400.0
        cp = peak_factor(mean_l_s)
        extra = tuple(
            (r["node_id"], (r["residents_after"] - r["residents_before"]) * params.litres_per_person_day
             / 86_400.0 * cp)
            for r in mine
            if r["residents_after"] > r["residents_before"] + 1e-9
        )  # fmt: skip
        before_nodes, before_links = water_check(twin, network_id, params, scenario_id=0, store=False)
        if extra:
            scenario = WaterCheckParams(**{**params.__dict__, "extra_demand_l_s": params.extra_demand_l_s + extra})
            nodes, links = water_check(twin, network_id, scenario, scenario_id=scenario_id, store=False)
        else:
            nodes = before_nodes.set_column(0, "scenario_id", pa.array([scenario_id] * before_nodes.num_rows,
                                                                        pa.int32()))  # fmt: skip
            links = before_links.set_column(0, "scenario_id", pa.array([scenario_id] * before_links.num_rows,
                                                                        pa.int32()))  # fmt: skip
        changed = {node for node, _ in extra}
        serving = (
            twin.query(
                "SELECT link_id FROM network_links WHERE network_id = ? AND link_kind = 'pipe' "
                "AND (list_contains(?, from_node) OR list_contains(?, to_node)) ORDER BY link_id",
                [network_id, sorted(changed), sorted(changed)],
            )
            .column(0)
            .to_pylist()
        )
        q_before = dict(
            zip(before_links["link_id"].to_pylist(), before_links["flow_l_s"].to_pylist(), strict=True)
        )
        q_after = dict(zip(links["link_id"].to_pylist(), links["flow_l_s"].to_pylist(), strict=True))
        p_before = dict(
            zip(before_nodes["node_id"].to_pylist(), before_nodes["pressure_m"].to_pylist(), strict=True)
        )
        p_after = dict(zip(nodes["node_id"].to_pylist(), nodes["pressure_m"].to_pylist(), strict=True))

        def flags(table: pa.Table) -> dict[str, int]:
            values = [f for f in table["flag"].to_pylist() if f not in ("ok", "not_judged", "closed")]
            return {f: values.count(f) for f in sorted(set(values))}

        summaries.append(
            {
                "network_id": network_id,
                "peak_factor": cp,
                "added_demand_l_s": float(sum(q for _, q in extra)),
                "nodes_with_added_demand": sorted(changed),
                "pressure_m_before": {n: p_before.get(n) for n in sorted(changed)},
                "pressure_m_after": {n: p_after.get(n) for n in sorted(changed)},
                "pipes_serving": {
                    k: {"flow_l_s_before": q_before.get(k), "flow_l_s_after": q_after.get(k)} for k in serving
                },
                "min_pressure_m_before": _min_junction_pressure(before_nodes),
                "min_pressure_m_after": _min_junction_pressure(nodes),
                "max_velocity_m_s_before": float(
                    np.nanmax(before_links["velocity_m_s"].to_numpy(zero_copy_only=False))
                ),
                "max_velocity_m_s_after": float(np.nanmax(links["velocity_m_s"].to_numpy(zero_copy_only=False))),
                "flags_before": {**flags(before_nodes), **flags(before_links)},
                "flags_after": {**flags(nodes), **flags(links)},
                "note": "falling demand (demolition, conversion away from housing) is not taken off the check",
            }
        )
        node_tables.append(nodes)
        link_tables.append(links)
    return summaries, node_tables, link_tables


def _min_junction_pressure(nodes: pa.Table) -> float:
    judged = [p for p, f in zip(nodes["pressure_m"].to_pylist(), nodes["flag"].to_pylist(), strict=True)
              if f != "not_judged" and p is not None]  # fmt: skip
    return float(min(judged)) if judged else float("nan")
