"""Power load flow from the twin's own tables: a pandapower net rebuilt from ``network_nodes`` / ``network_links``.

:func:`power_net` turns one power network of the twin into a ``pandapowerNet``:

- buses: every node, at ``voltage_kv`` (its attribute, else the ``voltage_kv`` of its cables, else the side of
  its transformer); ``in_service`` kept; loads ``load_p_kw``/``load_q_kvar`` and generators ``sgen_p_kw``/...
  of the pandapower ingest kept on their bus;
- lines (``line``/``cable`` links): length and ``r_ohm_per_km``, ``x_ohm_per_km``, ``c_nf_per_km``,
  ``max_i_ka`` from their attributes, else their pandapower ``std_type``; a line with neither is an error
  naming it. Open switches (``open_at_from``/``open_at_to``) become open line switches;
- transformers (``transformer`` links): rating, voltages and short-circuit data from their attributes, else
  their ``std_type``;
- slack: every node with ``ext_grid`` (or of kind ``ext_grid``/``source``) at its ``ext_grid_vm_pu``; a GIS low
  voltage network whose HTA/BT substations are points (``substation`` nodes with ``rated_kva``, no transformer
  link) gets, per substation, an MV bus (the external grid) and a 20/0.4 kV transformer of that rating, the
  pandapower standard type of that size (:data:`SUBSTATION_TYPES`): its loading is stored on the node;
- loads of the buildings served (``service_connections``), by use and floor area (:func:`building_power_kw`,
  methods.md 5.2 and 1.6), added on their service bus.

:func:`power_check` runs ``pandapower.runpp`` on it and stores bus voltages and line / transformer loadings.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from networks.results import floats, store_results
from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "SUBSTATION_TYPES",
    "PowerCheckParams",
    "PowerDemandParams",
    "PowerModel",
    "building_power_kw",
    "power_check",
    "power_net",
]

_OFFICE_MEAN_W_M2 = 146.0 * 1000.0 / 8760.0
"""Mean power of offices, W/m2: 146 kWh_fe/m2/yr (methods.md 1.6, row "Offices, all energies", E7) / 8,760 h."""


@dataclass(frozen=True)
class PowerDemandParams:
    """Electric peak demand of a building by use and floor area (methods.md 5.2, "How to compute" steps 1 and 4).

    Every figure is overridable; those without a ✔ source in methods.md are marked as conventions.
    """

    kw_per_dwelling: float = 2.0
    """After-diversity maximum demand per dwelling, kW: the middle of 1.5-2.5 kW/flat (methods.md 5.2, row
    "ADMD (UK practice)", ⚠ in methods.md). Already diversified: summed over dwellings without a further factor."""
    dwelling_area_m2: float = 63.0
    """Mean apartment, m2 (methods.md 1.6, "Mean dwelling", D1): housing with unknown dwellings gets
    floor area x ``net_to_gross`` / 63 dwellings, counted as estimated."""
    net_to_gross: float = 0.8
    """Living area / gross floor area (methods.md 1.6, yield: eta 0.80-0.85, ⚠)."""
    electric_share: float = 1.0
    """Share of a non-housing building's energy that is electric (methods.md 5.2 step 1, ``share_el``): 1 by
    convention (every energy electric: the upper bound, safe for a capacity check)."""
    load_factor: float = 0.5
    """Mean / peak power of non-housing buildings: a project convention (no figure in methods.md)."""
    peak_w_per_m2: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            dict.fromkeys(("office", "commerce", "school", "public", "industry"), _OFFICE_MEAN_W_M2)
        )
    )
    """Mean power per m2 of gross floor area by use, W/m2, before ``electric_share`` and ``load_factor``: the
    office figure of methods.md 1.6 (146 kWh/m2/yr = 16.7 W/m2) for every non-housing use by convention (methods.md
    gives no other). Uses not listed (parking, other, unknown) get no demand and are counted as unknown."""
    power_factor: float = 0.95
    """cos phi of the building loads (Q = P tan phi): a project convention."""


SUBSTATION_TYPES: Mapping[float, str] = MappingProxyType(
    {250.0: "0.25 MVA 20/0.4 kV", 400.0: "0.4 MVA 20/0.4 kV", 630.0: "0.63 MVA 20/0.4 kV"}
)
"""Rated kVA of an HTA/BT substation -> pandapower standard transformer (short-circuit data); another rating
takes the nearest type's per-unit data at its own rating."""


@dataclass(frozen=True)
class PowerCheckParams:
    """Parameters of :func:`power_check`."""

    max_loading_percent: float = 100.0
    """A line or transformer above this is ``overloaded`` (methods.md 5.2 step 5: utilisation ratio > 1.0)."""
    max_voltage_deviation_percent: float = 10.0
    """Allowed bus voltage deviation from nominal, percent (EN 50160 +/- 10 %, a project convention here)."""
    add_building_demand: bool = True
    """Add the demand of the buildings served (:class:`PowerDemandParams`) to the network's own loads."""
    demand: PowerDemandParams = field(default_factory=PowerDemandParams)
    slack_vm_pu: float = 1.0
    """Voltage of an external grid that does not state its own, per unit."""
    mv_kv: float = 20.0
    """Medium voltage behind a substation drawn as a point (HTA in France: 20 kV)."""


def building_power_kw(
    use: np.ndarray, dwellings: np.ndarray, floor_area_m2: np.ndarray, params: PowerDemandParams
) -> tuple[np.ndarray, np.ndarray]:
    """Peak electric demand (kW) of each building, and its basis.

    housing: ``dwellings x kw_per_dwelling``; dwellings unknown: ``floor_area x net_to_gross / dwelling_area``
    dwellings (basis ``dwellings_estimated``); other uses: ``floor_area x W/m2 x electric_share / load_factor``.
    NaN (basis ``unknown``) when what is needed is missing, never a guess.

    Examples
    --------
    >>> p, basis = building_power_kw(np.array(["housing", "housing", "office", "parking"]),
    ...                              np.array([10.0, np.nan, np.nan, np.nan]),
    ...                              np.array([800.0, 630.0, 1000.0, 500.0]), PowerDemandParams())
    >>> np.round(p, 2).tolist(), basis.tolist()
    ([20.0, 16.0, 33.33, nan], ['dwellings', 'dwellings_estimated', 'floor_area', 'unknown'])
    """
    use = np.asarray(use, dtype=object)
    dwellings = np.asarray(dwellings, dtype=float)
    area = np.asarray(floor_area_m2, dtype=float)
    housing = use == "housing"
    known = housing & np.isfinite(dwellings)
    estimated = housing & ~known & np.isfinite(area)
    per_m2 = np.array([params.peak_w_per_m2.get(u, np.nan) if u is not None else np.nan for u in use], float)
    other = ~housing & np.isfinite(per_m2) & np.isfinite(area)
    p = np.full(len(use), np.nan)
    p[known] = dwellings[known] * params.kw_per_dwelling
    p[estimated] = area[estimated] * params.net_to_gross / params.dwelling_area_m2 * params.kw_per_dwelling
    p[other] = area[other] * per_m2[other] * params.electric_share / params.load_factor / 1000.0
    basis = np.select([known, estimated, other], ["dwellings", "dwellings_estimated", "floor_area"], "unknown")
    return p, basis.astype(object)


@dataclass
class PowerModel:
    """A pandapower net rebuilt from the twin, with the twin id of each bus, line and transformer."""

    net: Any
    bus_ids: list[str]
    line_ids: list[str]
    trafo_ids: list[str]
    """Twin link id of each transformer row; a substation drawn as a point has its node id here instead."""
    implicit_trafo: list[bool]
    added_load_kw: np.ndarray
    buildings: np.ndarray
    demand_basis: dict[str, int]


_NODES_SQL = """
WITH l AS (SELECT * FROM network_links WHERE network_id = $id),
inc AS (
    SELECT from_node AS node_id, TRY_CAST(attributes->>'voltage_kv' AS DOUBLE) AS v FROM l
        WHERE link_kind <> 'transformer'
    UNION ALL SELECT to_node, TRY_CAST(attributes->>'voltage_kv' AS DOUBLE) FROM l WHERE link_kind <> 'transformer'
    UNION ALL SELECT from_node, TRY_CAST(attributes->>'vn_hv_kv' AS DOUBLE) FROM l WHERE link_kind = 'transformer'
    UNION ALL SELECT to_node, TRY_CAST(attributes->>'vn_lv_kv' AS DOUBLE) FROM l WHERE link_kind = 'transformer'
),
v AS (SELECT node_id, max(v) AS v FROM inc GROUP BY node_id),
t AS (SELECT DISTINCT unnest([from_node, to_node]) AS node_id FROM l WHERE link_kind = 'transformer')
SELECT n.node_id, n.node_kind,
    coalesce(TRY_CAST(n.attributes->>'voltage_kv' AS DOUBLE), v.v) AS vn_kv,
    coalesce(TRY_CAST(n.attributes->>'in_service' AS BOOLEAN), true) AS in_service,
    coalesce(TRY_CAST(n.attributes->>'load_p_kw' AS DOUBLE), 0) AS load_p_kw,
    coalesce(TRY_CAST(n.attributes->>'load_q_kvar' AS DOUBLE), 0) AS load_q_kvar,
    coalesce(TRY_CAST(n.attributes->>'sgen_p_kw' AS DOUBLE), 0) AS sgen_p_kw,
    coalesce(TRY_CAST(n.attributes->>'sgen_q_kvar' AS DOUBLE), 0) AS sgen_q_kvar,
    coalesce(TRY_CAST(n.attributes->>'ext_grid' AS BOOLEAN), false) OR n.node_kind IN ('ext_grid', 'source')
        AS ext_grid,
    TRY_CAST(n.attributes->>'ext_grid_vm_pu' AS DOUBLE) AS vm_pu,
    coalesce(TRY_CAST(n.attributes->>'ext_grid_va_degree' AS DOUBLE), 0) AS va_degree,
    TRY_CAST(n.attributes->>'rated_kva' AS DOUBLE) AS rated_kva,
    t.node_id IS NOT NULL AS has_trafo
FROM network_nodes n LEFT JOIN v USING (node_id) LEFT JOIN t USING (node_id)
WHERE n.network_id = $id ORDER BY n.node_id
"""

_LINE_FIELDS = ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "g_us_per_km", "max_i_ka", "df", "parallel")
_TRAFO_FIELDS = (
    "rated_kva",
    "vn_hv_kv",
    "vn_lv_kv",
    "vk_percent",
    "vkr_percent",
    "pfe_kw",
    "i0_percent",
    "shift_degree",
    "tap_neutral",
    "tap_min",
    "tap_max",
    "tap_step_percent",
    "tap_step_degree",
    "tap_pos",
    "parallel",
    "df",
)


def _links_sql(numeric: tuple[str, ...], text: tuple[str, ...]) -> str:
    columns = [f"TRY_CAST(attributes->>'{k}' AS DOUBLE) AS {k}" for k in numeric]
    columns += [f"attributes->>'{k}' AS {k}" for k in text]
    columns += [
        "coalesce(TRY_CAST(attributes->>'in_service' AS BOOLEAN), true) AS in_service",
        *(
            f"coalesce(TRY_CAST(attributes->>'open_at_{e}' AS BOOLEAN), false) AS open_at_{e}"
            for e in ("from", "to")
        ),
    ]
    return (
        f"SELECT link_id, from_node, to_node, link_kind, length_m, {', '.join(columns)} FROM network_links "
        "WHERE network_id = $id AND link_kind IN (SELECT unnest($kinds)) ORDER BY link_id"
    )


def _std(table: pd.DataFrame, kind: str, net: Any, fields: dict[str, str]) -> pd.DataFrame:
    """Fill the missing electrical data of lines or transformers from their pandapower ``std_type``."""
    import pandapower as pp

    if "std_type" not in table or table.empty:
        return table
    library = pp.available_std_types(net, kind)
    for name, group in table.groupby("std_type", dropna=True):
        if name not in library.index:
            continue
        for ours, theirs in fields.items():
            values = library.at[name, theirs] * (1000.0 if ours == "rated_kva" else 1.0)
            rows = group.index[group[ours].isna()]
            table.loc[rows, ours] = values
    return table


def _missing(table: pd.DataFrame, columns: tuple[str, ...], what: str, hint: str) -> None:
    bad = table[list(columns)].isna().any(axis=1)
    if bad.any():
        first = table[bad].iloc[0]
        lacking = [c for c in columns if pd.isna(first[c])]
        raise TwinError(
            f"{int(bad.sum())} {what} lack what a load flow needs (e.g. {first.link_id}: no {', '.join(lacking)})",
            hint,
        )


def power_net(twin: Twin, network_id: str, params: PowerCheckParams | None = None) -> PowerModel:
    """Rebuild the pandapower net of a power network of the twin (see the module docstring)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandapower warns that numba is missing
        import pandapower as pp

    params = params or PowerCheckParams()
    nodes = twin.query(_NODES_SQL, {"id": network_id}).to_pandas()
    if nodes.empty:
        raise TwinError(f"network '{network_id}' has no nodes in the twin", "see the networks table for the ids")
    kinds = twin.query(
        "SELECT DISTINCT link_kind FROM network_links WHERE network_id = ? ORDER BY 1", [network_id]
    ).column(0)
    unknown = sorted(set(kinds.to_pylist()) - {"line", "cable", "transformer"})
    if unknown:
        raise TwinError(
            f"network '{network_id}' has links of kind {', '.join(unknown)}: a load flow knows lines, cables "
            "and transformers",
            "import the network with link_kind line, cable or transformer",
        )
    no_voltage = nodes.vn_kv.isna() | (nodes.vn_kv <= 0)
    if no_voltage.any():
        raise TwinError(
            f"{int(no_voltage.sum())} nodes of '{network_id}' have no voltage "
            f"(e.g. {nodes.node_id[no_voltage].iloc[0]})",
            "give the nodes or their cables a voltage_kv attribute",
        )
    lines = twin.query(
        _links_sql(_LINE_FIELDS, ("std_type",)), {"id": network_id, "kinds": ["line", "cable"]}
    ).to_pandas()
    trafos = twin.query(
        _links_sql(_TRAFO_FIELDS, ("std_type", "tap_side", "tap_changer_type")),
        {"id": network_id, "kinds": ["transformer"]},
    ).to_pandas()

    net = pp.create_empty_network(name=network_id)
    position = pd.Index(nodes.node_id)
    pp.create_buses(
        net, len(nodes), nodes.vn_kv.to_numpy(float), name=nodes.node_id.tolist(), in_service=nodes.in_service
    )
    lines = _std(
        lines,
        "line",
        net,
        {k: k for k in ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka")},
    )
    _missing(
        lines,
        ("length_m", "r_ohm_per_km", "x_ohm_per_km", "max_i_ka"),
        "lines",
        "give the cables r_ohm_per_km, x_ohm_per_km and max_i_ka attributes, or a pandapower std_type",
    )
    line_index = pp.create_lines_from_parameters(
        net,
        position.get_indexer(lines.from_node),
        position.get_indexer(lines.to_node),
        lines.length_m.to_numpy(float) / 1000.0,
        lines.r_ohm_per_km.to_numpy(float),
        lines.x_ohm_per_km.to_numpy(float),
        lines.c_nf_per_km.fillna(0.0).to_numpy(float),
        lines.max_i_ka.to_numpy(float),
        name=lines.link_id.tolist(),
        g_us_per_km=lines.g_us_per_km.fillna(0.0).to_numpy(float),
        df=lines.df.fillna(1.0).to_numpy(float),
        parallel=lines.parallel.fillna(1).to_numpy(int),
        in_service=lines.in_service.to_numpy(bool),
    )
    trafo_fields = {
        "rated_kva": "sn_mva",
        "vn_hv_kv": "vn_hv_kv",
        "vn_lv_kv": "vn_lv_kv",
        "vk_percent": "vk_percent",
        "vkr_percent": "vkr_percent",
        "pfe_kw": "pfe_kw",
        "i0_percent": "i0_percent",
        "shift_degree": "shift_degree",
    }
    trafos = _std(trafos, "trafo", net, trafo_fields)
    _missing(
        trafos,
        ("rated_kva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent", "pfe_kw", "i0_percent"),
        "transformers",
        "give them rated_kva, vn_hv_kv, vn_lv_kv, vk_percent, vkr_percent, pfe_kw, i0_percent, or a pandapower "
        "std_type",
    )
    trafo_ids = trafos.link_id.tolist()
    implicit = [False] * len(trafos)
    if len(trafos):
        taps = {
            k: trafos[k].to_numpy(float)
            for k in ("tap_neutral", "tap_min", "tap_max", "tap_step_percent", "tap_step_degree", "tap_pos")
        }
        pp.create_transformers_from_parameters(
            net,
            position.get_indexer(trafos.from_node),
            position.get_indexer(trafos.to_node),
            trafos.rated_kva.to_numpy(float) / 1000.0,
            trafos.vn_hv_kv.to_numpy(float),
            trafos.vn_lv_kv.to_numpy(float),
            trafos.vkr_percent.to_numpy(float),
            trafos.vk_percent.to_numpy(float),
            trafos.pfe_kw.to_numpy(float),
            trafos.i0_percent.to_numpy(float),
            shift_degree=trafos.shift_degree.fillna(0.0).to_numpy(float),
            tap_side=[None if v is None or pd.isna(v) else v for v in trafos.tap_side],
            tap_changer_type=[None if v is None or pd.isna(v) else v for v in trafos.tap_changer_type],
            name=trafo_ids,
            parallel=trafos.parallel.fillna(1).to_numpy(int),
            df=trafos.df.fillna(1.0).to_numpy(float),
            in_service=trafos.in_service.to_numpy(bool),
            **taps,
        )

    # Open switches at line / transformer ends.
    for table, et, index, ends in (
        (lines, "l", np.asarray(line_index), (("from", "from_node"), ("to", "to_node"))),
        (trafos, "t", np.arange(len(trafos)), (("from", "from_node"), ("to", "to_node"))),
    ):
        for end, column in ends:
            cut = table[f"open_at_{end}"].to_numpy(bool) if len(table) else np.array([], bool)
            if cut.any():
                pp.create_switches(net, position.get_indexer(table[column][cut]), index[cut], et=et, closed=False)

    # Slack: external grids, else the substations drawn as points behind an MV bus.
    grids = nodes[nodes.ext_grid]
    for i, row in grids.iterrows():
        vm = row.vm_pu if pd.notna(row.vm_pu) else params.slack_vm_pu
        pp.create_ext_grid(net, int(i), vm_pu=float(vm), va_degree=float(row.va_degree), name=row.node_id)
    if grids.empty:
        subs = nodes[(nodes.node_kind == "substation") & nodes.rated_kva.notna() & ~nodes.has_trafo]
        if subs.empty:
            raise TwinError(
                f"network '{network_id}' has no supply point for a load flow",
                "mark the feeding node (ext_grid attribute or node_kind ext_grid), or give substation nodes "
                "a rated_kva",
            )
        library = pp.available_std_types(net, "trafo")
        ratings = np.array(sorted(SUBSTATION_TYPES))
        for i, row in subs.iterrows():
            kva = float(row.rated_kva)
            data = library.loc[SUBSTATION_TYPES[float(ratings[np.argmin(np.abs(ratings - kva))])]]
            mv = pp.create_bus(net, params.mv_kv, name=f"{row.node_id}:mv")
            pp.create_ext_grid(net, mv, vm_pu=params.slack_vm_pu, name=f"{row.node_id}:grid")
            pp.create_transformer_from_parameters(
                net,
                mv,
                int(i),
                kva / 1000.0,
                params.mv_kv,
                float(row.vn_kv),
                float(data.vkr_percent),
                float(data.vk_percent),
                float(data.pfe_kw) * kva / (float(data.sn_mva) * 1000.0),
                float(data.i0_percent),
                shift_degree=float(data.shift_degree),
                name=row.node_id,
            )
            trafo_ids.append(str(row.node_id))
            implicit.append(True)

    # Loads: the network's own, then the buildings served.
    p = nodes.load_p_kw.to_numpy(float)
    q = nodes.load_q_kvar.to_numpy(float)
    added = np.zeros(len(nodes))
    served = np.zeros(len(nodes), dtype=np.int64)
    basis_count: dict[str, int] = {}
    if params.add_building_demand:
        b = twin.query(
            "SELECT s.node_id, b.use, b.dwellings, b.footprint_area_m2 * b.storeys_above_ground AS area "
            "FROM service_connections s JOIN buildings b USING (building_id) WHERE s.network_id = ? "
            "ORDER BY s.node_id, s.building_id",
            [network_id],
        ).to_pandas()
        if len(b):
            kw, basis = building_power_kw(
                b["use"].to_numpy(object),
                b.dwellings.to_numpy(float),
                b.area.to_numpy(float),
                params.demand,
            )
            at = position.get_indexer(b.node_id)
            np.add.at(added, at, np.nan_to_num(kw))
            np.add.at(served, at, 1)
            values, counts = np.unique(basis.astype(str), return_counts=True)
            basis_count = {str(k): int(c) for k, c in zip(values, counts, strict=True)}
    tan_phi = math.tan(math.acos(params.demand.power_factor))
    p_total = p + added
    q_total = q + added * tan_phi
    has_load = (p_total != 0) | (q_total != 0)
    if has_load.any():
        pp.create_loads(
            net,
            np.flatnonzero(has_load),
            p_total[has_load] / 1000.0,
            q_mvar=q_total[has_load] / 1000.0,
        )
    gen = (nodes.sgen_p_kw != 0) | (nodes.sgen_q_kvar != 0)
    if gen.any():
        pp.create_sgens(
            net,
            np.flatnonzero(gen),
            nodes.sgen_p_kw[gen].to_numpy(float) / 1000.0,
            q_mvar=nodes.sgen_q_kvar[gen].to_numpy(float) / 1000.0,
        )
    return PowerModel(
        net=net,
        bus_ids=nodes.node_id.tolist(),
        line_ids=lines.link_id.tolist(),
        trafo_ids=trafo_ids,
        implicit_trafo=implicit,
        added_load_kw=added,
        buildings=served,
        demand_basis=basis_count,
    )


def power_check(
    twin: Twin,
    network_id: str,
    params: PowerCheckParams | None = None,
    *,
    scenario_id: int = 0,
    store: bool = True,
) -> tuple[pa.Table, pa.Table]:
    """Load flow of a power network (``pandapower.runpp`` on :func:`power_net`): voltages and loadings.

    Returns ``(nodes, links)`` as written to ``res_network_nodes`` / ``res_network_links`` (replacing the
    scenario's rows): per bus ``voltage_pu``, ``voltage_deviation_percent`` (flag ``voltage_deviation`` beyond
    ``max_voltage_deviation_percent``), ``p_kw``, the building demand added; per line and transformer
    ``loading_percent`` (flag ``overloaded`` above ``max_loading_percent``), ``current_ka``, ``p_from_kw``. The
    transformer of a substation drawn as a point reports on its node (``transformer_loading_percent``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower as pp

    params = params or PowerCheckParams()
    model = power_net(twin, network_id, params)
    net = model.net
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, numba=False)
    except pp.powerflow.LoadflowNotConverged as exc:
        raise TwinError(
            f"the load flow of '{network_id}' did not converge",
            "check the loads, the line data and the supply points (an island without a supply cannot be solved)",
        ) from exc
    n = len(model.bus_ids)
    vm = net.res_bus.vm_pu.to_numpy(dtype=float)[:n]
    dev = (vm - 1.0) * 100.0
    node_flag = np.where(
        ~np.isfinite(vm),
        "not_judged",
        np.where(np.abs(dev) > params.max_voltage_deviation_percent, "voltage_deviation", "ok"),
    )
    trafo_loading = net.res_trafo.loading_percent.to_numpy(float)
    implicit = np.array(model.implicit_trafo, dtype=bool)
    on_node = np.full(n, np.nan)
    if implicit.any():
        at = pd.Index(model.bus_ids).get_indexer(pd.Index([model.trafo_ids[i] for i in np.flatnonzero(implicit)]))
        on_node[at] = trafo_loading[implicit]  # the node's flag speaks of its voltage, this column of the load
    nodes = pa.table(
        {
            "scenario_id": pa.array([scenario_id] * n, pa.int32()),
            "network_id": [network_id] * n,
            "node_id": model.bus_ids,
            "analysis": ["power_check"] * n,
            "voltage_pu": floats(vm),
            "voltage_deviation_percent": floats(dev),
            "p_kw": floats(net.res_bus.p_mw.to_numpy(dtype=float)[:n] * 1000.0),
            "added_demand_kw": model.added_load_kw,
            "buildings": pa.array(model.buildings, pa.int32()),
            "flag": node_flag.tolist(),
            "threshold": np.full(n, params.max_voltage_deviation_percent),
            "transformer_loading_percent": floats(on_node),
        }
    )
    explicit = ~implicit
    link_ids = model.line_ids + [t for t, e in zip(model.trafo_ids, explicit, strict=True) if e]
    loading = np.r_[net.res_line.loading_percent.to_numpy(float), trafo_loading[explicit]]
    current = np.r_[net.res_line.i_ka.to_numpy(float), net.res_trafo.i_hv_ka.to_numpy(float)[explicit]]
    p_from = np.r_[net.res_line.p_from_mw.to_numpy(float), net.res_trafo.p_hv_mw.to_numpy(float)[explicit]] * 1000
    m = len(link_ids)
    links = pa.table(
        {
            "scenario_id": pa.array([scenario_id] * m, pa.int32()),
            "network_id": [network_id] * m,
            "link_id": link_ids,
            "analysis": ["power_check"] * m,
            "loading_percent": floats(loading),
            "current_ka": floats(current),
            "p_from_kw": floats(p_from),
            "flag": np.where(
                ~np.isfinite(loading),
                "not_judged",
                np.where(loading > params.max_loading_percent, "overloaded", "ok"),
            ).tolist(),
            "threshold": np.full(m, params.max_loading_percent),
        }
    )
    if store:
        store_results(twin, "power_check", scenario_id, network_id, nodes.drop_columns(["added_demand_kw"]), links)
    return nodes, links
