"""Fire-flow check at every hydrant of a water network (methods.md 5.1, row "Fire hydrant (DECI)", [W10]).

The row: a DN100 hydrant must give >= 60 m3/h at 1 bar for 2 h (120 m3); a 2 x 100 one 120 m3/h; a DN65 one
30 m3/h. "How to compute" step 3: residual pressure >= 1 bar at the hydrant with the fire flow added. So each
hydrant in turn draws its fire flow on top of the peak demand of the buildings (the demand of
:func:`networks.capacity.water_model`, methods.md 5.1 steps 1-2), and the residual pressure at the hydrant is
judged against 1 bar; the lowest pressure elsewhere and the junctions below the service minimum are reported.

Efficiency: the model is written once and opened once in the EPANET 2.2 toolkit (the engine wntr ships); each
hydrant is one steady-state solve (``EN_initH`` + ``EN_runH``) with its demand changed and restored, the pressures
read straight from the engine. No file is written per hydrant. The duration is reported as the volume it draws
(flow x duration): a steady-state snapshot assumes the sources hold it (reservoirs at fixed head, tanks at their
initial level); it does not check that a tank holds 120 m3.

Hydrants: nodes of kind ``hydrant`` (or ``fire_hydrant``, ``poteau_incendie``, ``bouche_incendie``), or with a
true ``hydrant`` attribute. Their flow: ``fire_flow_m3_h`` attribute, else their size (``dn``/``diameter_mm``:
65 -> 30 m3/h, 100 -> 60, ``2x100``/150 and above -> 120), else 60 m3/h (the DN100 default); a flow given to
:func:`fire_flow_check` replaces all of them.
"""

from __future__ import annotations

import ctypes
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from networks.capacity import BAR_PER_M, WaterCheckParams, water_model
from networks.results import store_table
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["HYDRANT_KINDS", "FireFlowParams", "fire_flow_check", "hydrants"]

HYDRANT_KINDS = ("hydrant", "fire_hydrant", "poteau_incendie", "bouche_incendie")
"""Node kinds taken as fire hydrants."""

_EN_BASEDEMAND, _EN_PRESSURE, _EN_NODECOUNT, _EN_JUNCTION = 1, 11, 0, 0


@dataclass(frozen=True)
class FireFlowParams:
    """Parameters of :func:`fire_flow_check` (methods.md 5.1, row "Fire hydrant (DECI)", ✔ [W10])."""

    flow_m3_h: float | None = None
    """One fire flow for every hydrant, m3/h; None: each hydrant's own (attribute, size, default)."""
    default_flow_m3_h: float = 60.0
    """A DN100 hydrant (and one of unknown size): 60 m3/h."""
    dn65_flow_m3_h: float = 30.0
    """A DN65 hydrant: 30 m3/h."""
    double_flow_m3_h: float = 120.0
    """A 2 x 100 hydrant (DN150 and above): 120 m3/h."""
    duration_h: float = 2.0
    """The flow is held 2 h (120 m3 for 60 m3/h)."""
    min_residual_bar: float = 1.0
    """Residual pressure at the hydrant while it draws the flow, bar."""
    water: WaterCheckParams = field(default_factory=WaterCheckParams)
    """The peak demand the fire flow comes on top of, and the service minimum reported elsewhere."""


def hydrants(twin: Twin, network_id: str, params: FireFlowParams | None = None) -> pa.Table:
    """The hydrants of a water network with their fire flow (m3/h) and its basis (see the module docstring)."""
    params = params or FireFlowParams()
    table = twin.query(
        "SELECT node_id, TRY_CAST(attributes->>'fire_flow_m3_h' AS DOUBLE) AS own, "
        "coalesce(attributes->>'dn', attributes->>'DN', attributes->>'diameter_mm', attributes->>'diametre') "
        "AS size FROM network_nodes WHERE network_id = ? AND (list_contains(?, node_kind) "
        "OR coalesce(TRY_CAST(attributes->>'hydrant' AS BOOLEAN), false)) ORDER BY node_id",
        [network_id, list(HYDRANT_KINDS)],
    )
    own = np.asarray(table.column("own").to_numpy(zero_copy_only=False), dtype=float)
    size_text = [str(s or "").lower().replace(" ", "") for s in table.column("size").to_pylist()]
    size = np.array([_number(s) for s in size_text], dtype=float)
    double = np.array(["2x" in s for s in size_text], dtype=bool) | (size >= 150)
    dn65 = ~double & (size <= 80)
    dn100 = ~double & (size > 80)
    if params.flow_m3_h is not None:
        flow = np.full(table.num_rows, float(params.flow_m3_h))
        basis = np.full(table.num_rows, "given", dtype=object)
    else:
        has_own = np.isfinite(own) & (own > 0)
        flow = np.select(
            [has_own, double, dn65],
            [own, params.double_flow_m3_h, params.dn65_flow_m3_h],
            params.default_flow_m3_h,
        )
        basis = np.select([has_own, double, dn65, dn100], ["attribute", "2x100", "dn65", "dn100"], "default")
    return pa.table(
        {"node_id": table.column("node_id"), "fire_flow_m3_h": flow, "flow_basis": pa.array(basis, pa.string())}
    )


def _number(text: str) -> float:
    digits = "".join(c if c.isdigit() or c == "." else " " for c in text.split("x")[-1]).split()
    try:
        return float(digits[0]) if digits else np.nan
    except ValueError:
        return np.nan


class _Engine:
    """One EPANET 2.2 project opened on an .inp file: steady-state solves with node demands changed."""

    def __init__(self, inp: Path) -> None:
        from wntr.epanet.toolkit import ENepanet

        self.en = ENepanet(version=2.2)
        self.en.ENopen(str(inp), str(inp.with_suffix(".rpt")), str(inp.with_suffix(".bin")))
        self.en.ENopenH()
        n = self.en.ENgetcount(_EN_NODECOUNT)
        self.names = [self.en.ENgetnodeid(i) for i in range(1, n + 1)]
        self.junction = np.array([self.en.ENgetnodetype(i) == _EN_JUNCTION for i in range(1, n + 1)])
        # The pressures are read straight from the library (one ctypes call per node, no wrapper): wntr's
        # toolkit keeps the EPANET 2.2 project handle in ``_project``; without it, its own getter is used.
        self._value = ctypes.c_double()
        self._project = getattr(self.en, "_project", None)
        self._get = getattr(self.en.ENlib, "EN_getnodevalue", None) if self._project is not None else None

    def solve(self) -> np.ndarray | None:
        """Pressure head (m) at every node, or None when EPANET finds no solution."""
        from wntr.epanet.exceptions import EpanetException

        try:
            self.en.ENinitH(10)  # re-initialise flows: each solve independent of the previous one
            self.en.ENrunH()
        except EpanetException:
            return None
        out = np.empty(len(self.names))
        value, get, project = self._value, self._get, self._project
        if get is None:
            return np.array([self.en.ENgetnodevalue(i + 1, _EN_PRESSURE) for i in range(len(self.names))])
        for i in range(len(self.names)):
            get(project, i + 1, _EN_PRESSURE, ctypes.byref(value))
            out[i] = value.value
        return out

    def base_demand(self, index: int) -> float:
        return float(self.en.ENgetnodevalue(index + 1, _EN_BASEDEMAND))

    def set_base_demand(self, index: int, value: float) -> None:
        self.en.ENsetnodevalue(index + 1, _EN_BASEDEMAND, value)

    def close(self) -> None:
        self.en.ENcloseH()
        self.en.ENclose()


def fire_flow_check(
    twin: Twin,
    network_id: str,
    params: FireFlowParams | None = None,
    *,
    node_ids: Sequence[str] | None = None,
    scenario_id: int = 0,
    store: bool = True,
) -> pa.Table:
    """Fire flow at each hydrant in turn: residual pressure there, lowest pressure elsewhere, pass/fail.

    ``node_ids`` checks these nodes instead of the hydrants (e.g. every junction, to map where a hydrant could
    go). Returns the rows written to ``res_network_fireflow`` (those of the scenario and network replaced).
    ``passes`` is ``residual_pressure_bar >= min_residual_bar``; a solve that fails gives ``not_solved``.
    """
    import wntr

    params = params or FireFlowParams()
    if node_ids is None:
        chosen = hydrants(twin, network_id, params)
        if chosen.num_rows == 0:
            raise TwinError(
                f"network '{network_id}' has no hydrant",
                "give hydrant nodes node_kind 'hydrant' (or a true 'hydrant' attribute), or name the nodes to "
                "check",
            )
    else:
        flow = params.flow_m3_h if params.flow_m3_h is not None else params.default_flow_m3_h
        chosen = pa.table(
            {
                "node_id": pa.array(list(node_ids), pa.string()),
                "fire_flow_m3_h": np.full(len(node_ids), float(flow)),
                "flow_basis": ["given" if params.flow_m3_h is not None else "default"] * len(node_ids),
            }
        )
    if not all(f > 0 for f in chosen.column("fire_flow_m3_h").to_pylist()):
        raise TwinError("a fire flow must be > 0 m3/h", "give --flow-m3-h a positive number, e.g. 60")
    built = water_model(twin, network_id, params.water)
    name_of = {twin_id: name for name, twin_id in built.node_ids.items()}
    missing = [n for n in chosen.column("node_id").to_pylist() if n not in name_of]
    if missing:
        raise TwinError(f"node '{missing[0]}' is not in network '{network_id}'", "give node ids of the network")

    with tempfile.TemporaryDirectory(prefix="twin-fireflow-") as folder:
        inp = Path(folder) / "fireflow.inp"
        wntr.network.io.write_inpfile(built.model, str(inp), units="LPS")
        engine = _Engine(inp)
        try:
            position = {name: i for i, name in enumerate(engine.names)}
            static = engine.solve()
            if static is None:
                raise TwinError(
                    f"EPANET finds no solution for '{network_id}' at peak demand",
                    "run twin network check --kind water",
                )
            rows = _run_all(engine, position, name_of, chosen, static, params)
        finally:
            engine.close()
    table = pa.table(
        {
            "scenario_id": pa.array(np.full(chosen.num_rows, scenario_id), pa.int32()),
            "network_id": [network_id] * chosen.num_rows,
            **rows,
        }
    )
    if store:
        store_table(twin, "res_network_fireflow", scenario_id, network_id, table)
    return table


def _run_all(
    engine: _Engine,
    position: dict[str, int],
    name_of: dict[str, str],
    chosen: pa.Table,
    static: np.ndarray,
    params: FireFlowParams,
) -> dict[str, pa.Array]:
    twin_ids = chosen.column("node_id").to_pylist()
    flow_m3_h = np.asarray(chosen.column("fire_flow_m3_h").to_numpy(), dtype=float)
    twin_of = {name: twin_id for twin_id, name in name_of.items()}
    n = len(twin_ids)
    static_p = np.full(n, np.nan)
    residual = np.full(n, np.nan)
    low = np.full(n, np.nan)
    low_node: list[str | None] = [None] * n
    below = np.full(n, -1, dtype=np.int64)
    junction = engine.junction
    for k, twin_id in enumerate(twin_ids):
        i = position[name_of[twin_id]]
        static_p[k] = static[i]
        base = engine.base_demand(i)
        engine.set_base_demand(i, base + flow_m3_h[k] / 3.6)  # m3/h -> L/s (the file's units)
        pressure = engine.solve()
        engine.set_base_demand(i, base)
        if pressure is None:
            continue
        residual[k] = pressure[i]
        others = junction.copy()
        others[i] = False
        if others.any():
            j = int(np.flatnonzero(others)[np.argmin(pressure[others])])
            low[k], low_node[k] = pressure[j], twin_of[engine.names[j]]
        below[k] = int((pressure[junction] < params.water.min_pressure_m).sum())
    solved = np.isfinite(residual)
    residual_bar = residual * BAR_PER_M
    passes = residual_bar >= params.min_residual_bar
    return {
        "node_id": pa.array(twin_ids, pa.string()),
        "fire_flow_l_s": pa.array(flow_m3_h / 3.6),
        "fire_flow_m3_h": pa.array(flow_m3_h),
        "flow_basis": chosen.column("flow_basis"),
        "duration_h": pa.array(np.full(n, params.duration_h)),
        "required_volume_m3": pa.array(flow_m3_h * params.duration_h),
        "static_pressure_m": pa.array(static_p),
        "residual_pressure_m": pa.array(residual, mask=~solved),
        "residual_pressure_bar": pa.array(residual_bar, mask=~solved),
        "min_pressure_elsewhere_m": pa.array(low, mask=~np.isfinite(low)),
        "min_pressure_node_id": pa.array(low_node, pa.string()),
        "nodes_below_service_minimum": pa.array(below, pa.int32(), mask=below < 0),
        "min_residual_bar": pa.array(np.full(n, params.min_residual_bar)),
        "passes": pa.array(passes, mask=~solved),
        "flag": pa.array(np.where(~solved, "not_solved", np.where(passes, "ok", "low_residual_pressure"))),
    }
