"""Reversibility on a twin: read the tables it needs, assess, and store in ``res_reversibility*``.

The only module of reversibility that touches the twin; the analysis itself is pure
(:mod:`buildings.reversibility_measures`, :mod:`buildings.reversibility`, :mod:`buildings.carbon`).
IFC buildings get the full criteria; GIS buildings the LoD1 screening, except those linked to an IFC building
(``buildings.ifc_building_id``), which the IFC model describes better. Re-running replaces the rows of the
(scenario, building, path) assessed, in one transaction.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from buildings.carbon import CARBON_SCHEMA, structure_carbon
from buildings.reversibility import Assessment, assess
from buildings.reversibility_measures import BuildingTables, Measures, measure_gis, measure_ifc
from buildings.reversibility_rules import Rules, default_rules
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["assess_twin", "load_tables", "store_assessment"]

_BUILDING_COLUMNS = (
    "building_id, name, use, construction_year, height_m, height_estimated, storeys_above_ground, "
    "storeys_estimated, footprint_area_m2, source, source_ref, CAST(attributes AS VARCHAR) AS attributes, "
    "ST_AsWKB(footprint) AS footprint, CASE WHEN source = 'ifc' THEN 'ifc' ELSE 'gis' END AS route"
)


def _columns(twin: Twin, table: str) -> set[str]:
    rows = twin.query("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table])
    return set(rows.column(0).to_pylist())


def load_tables(twin: Twin, building_ids: list[str] | None = None) -> BuildingTables:
    """The tables of :class:`BuildingTables` for ``building_ids`` (default: every building to assess).

    A building id that is not in the twin is a TwinError naming it.
    """
    where = "WHERE (source = 'ifc' OR ifc_building_id IS NULL)"
    params: list[object] = []
    if building_ids:
        known = set(
            twin.query("SELECT building_id FROM buildings WHERE list_contains(?, building_id)", [building_ids])
            .column(0)
            .to_pylist()
        )
        missing = [b for b in building_ids if b not in known]
        if missing:
            raise TwinError(
                f"no building '{missing[0]}' in the twin",
                'list them with twin sql "SELECT building_id, name, use FROM buildings"',
            )
        where = "WHERE list_contains(?, building_id)"
        params = [building_ids]
    buildings = twin.query(f"SELECT {_BUILDING_COLUMNS} FROM buildings {where} ORDER BY building_id", params)
    ifc_ids = pc.filter(buildings["building_id"], pc.equal(buildings["route"], "ifc")).to_pylist()
    ifc = [ifc_ids]
    extra = [
        c
        for c in ("imposed_load_kn_m2", "imposed_load_source", "imposed_load_evidence")
        if c in _columns(twin, "storeys")
    ]
    storey_cols = ", ".join(
        [
            "storey_id, building_id, name, level_index, elevation_m, floor_to_floor_m, free_height_m, "
            "gross_floor_area_m2, window_to_floor_ratio",
            *extra,
        ]
    )
    return BuildingTables(
        buildings=buildings,
        storeys=twin.query(f"SELECT {storey_cols} FROM storeys WHERE list_contains(?, building_id)", ifc),
        facts=twin.query(
            "SELECT * EXCLUDE (evidence), CAST(evidence AS VARCHAR) AS evidence FROM building_facts "
            "WHERE list_contains(?, building_id)",
            ifc,
        ),
        elements=twin.query(
            "SELECT ifc_guid, building_id, storey_id, ifc_class, predefined_type, is_external, load_bearing, "
            "acoustic_rating, CAST(materials AS VARCHAR) AS materials FROM elements "
            "WHERE list_contains(?, building_id)",
            ifc,
        ),
        meshes=twin.query(
            "SELECT ifc_guid, building_id, ifc_class, volume_m3 FROM element_meshes "
            "WHERE list_contains(?, building_id)",
            ifc,
        ),
        circulation=twin.query("SELECT * FROM vertical_circulation WHERE list_contains(?, building_id)", ifc),
        envelope=twin.query(
            "SELECT * EXCLUDE (ifc_guids), CAST(ifc_guids AS VARCHAR) AS ifc_guids FROM envelope_surfaces "
            "WHERE list_contains(?, building_id)",
            ifc,
        ),
    )


def measure_all(tables: BuildingTables, rules: Rules) -> Measures:
    """IFC measures for the IFC buildings, LoD1 screening for the others."""
    gis = tables.buildings.filter(pc.equal(tables.buildings["route"], "gis"))
    return Measures.concat([measure_ifc(tables, rules), measure_gis(gis, rules)])


def assess_twin(
    twin: Twin,
    *,
    building_ids: list[str] | None = None,
    paths: list[str] | None = None,
    rules: Rules | None = None,
    scenario_id: int = 0,
    store: bool = True,
) -> tuple[Assessment, pa.Table]:
    """Assess the twin's buildings (all, or ``building_ids``) on ``paths`` (default all) and store the results.

    Returns the assessment and the per-building structure carbon (:data:`buildings.carbon.CARBON_SCHEMA`).
    With ``building_ids`` and ``paths`` the paths are assessed whatever the buildings' current use; with
    ``building_ids`` alone, the paths that apply to each building's use (every path when the use is unknown).
    """
    rules = rules or default_rules()
    for name in paths or []:
        rules.path(name)
    tables = load_tables(twin, building_ids)
    measures = measure_all(tables, rules)
    carbon = (
        structure_carbon(tables.elements, tables.meshes)
        if tables.elements.num_rows
        else CARBON_SCHEMA.empty_table()
    )
    result = assess(
        measures,
        tables.buildings.select(["building_id", "use", "route"]),
        rules,
        paths,
        force=bool(building_ids and paths),
        force_unknown_use=bool(building_ids),
    )
    if store:
        store_assessment(
            twin,
            result,
            carbon,
            scenario_id,
            assessed=(tables.buildings["building_id"].to_pylist(), paths or list(rules.paths)),
        )
    return result, carbon


def store_assessment(
    twin: Twin,
    result: Assessment,
    carbon: pa.Table,
    scenario_id: int = 0,
    assessed: tuple[list[str], list[str]] | None = None,
) -> int:
    """Replace the stored rows of what was assessed, in one transaction; returns the rows stored.

    ``assessed`` = (building ids, paths) that were looked at: their old rows go even where no path applies any
    more (a building whose use changed); by default, the (building, path) pairs of ``result``.
    """
    res = result.results
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    n = res.num_rows
    if assessed is not None:
        keys = pa.table({"building_id": pa.array(assessed[0], pa.string())})
        paths = assessed[1]
        condition = "t.building_id = k.building_id AND list_contains(?, t.path)"
        params: list[object] = [scenario_id, paths]
    else:
        keys = res.select(["building_id", "path"])
        condition = "t.building_id = k.building_id AND t.path = k.path"
        params = [scenario_id]
    volume = dict(zip(carbon["building_id"].to_pylist(), carbon["structure_volume_m3"].to_pylist(), strict=True))
    kept = dict(zip(carbon["building_id"].to_pylist(), carbon["carbon_kgco2e"].to_pylist(), strict=True))
    cover = dict(zip(carbon["building_id"].to_pylist(), carbon["coverage"].to_pylist(), strict=True))
    ids = res["building_id"].to_pylist()
    gis = np.array(res["route"].to_pylist()) == "gis"
    table = res.append_column("scenario_id", pa.array(np.full(n, scenario_id, np.int32)))
    for name, source in (
        ("structure_volume_m3", volume),
        ("carbon_kept_kgco2e", kept),
        ("carbon_coverage", cover),
    ):
        values = [None if g else source.get(b) for b, g in zip(ids, gis, strict=True)]
        table = table.append_column(name, pa.array(values, pa.float64()))
    table = table.append_column("assessed_at", pa.array([now] * n, pa.timestamp("us")))
    criteria = result.criteria.append_column(
        "scenario_id", pa.array(np.full(result.criteria.num_rows, scenario_id, np.int32))
    )
    with twin.write() as cur:
        cur.register("__rev_keys", keys)
        cur.register("__rev_results", table)
        cur.register("__rev_criteria", criteria)
        try:
            for target in ("res_reversibility", "res_reversibility_criteria"):
                cur.execute(
                    f"DELETE FROM {target} t USING __rev_keys k WHERE t.scenario_id = ? AND {condition}", params
                )
            cols = [f.name for f in table.schema]
            cur.execute(
                f"INSERT INTO res_reversibility ({', '.join(cols)}) SELECT {', '.join(cols)} FROM __rev_results"
            )
            ccols = [f.name for f in criteria.schema]
            cur.execute(
                f"INSERT INTO res_reversibility_criteria ({', '.join(ccols)}) "
                f"SELECT {', '.join(ccols)} FROM __rev_criteria"
            )
        finally:
            for name in ("__rev_keys", "__rev_results", "__rev_criteria"):
                cur.unregister(name)
    return n
