"""What the dashboard reads from the twin: small named queries returning Arrow tables.

Callbacks call these with the served :class:`~twin.store.Twin` (each query on a cursor of its own, safe beside
the writer threads), then hand the tables to the pure figure builders. Nothing here runs at import.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from twin.store import Twin

__all__ = [
    "alerts",
    "building_facts",
    "building_row",
    "district_buildings",
    "element_meshes",
    "energy_result",
    "fact_evidence",
    "has_table",
    "mesh_ids",
    "network_lines",
    "replay_values",
    "reports",
    "retrofit_options",
    "reversibility_criteria",
    "reversibility_results",
    "reversibility_study",
    "scene_origin_of",
    "sensor_series",
    "sensors_latest",
    "storeys",
    "streetlights",
    "table_columns",
]


def has_table(twin: Twin, name: str) -> bool:
    """Whether the twin has the table ``name`` (results tables appear when their analysis first runs)."""
    return bool(
        twin.query(
            "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?", [name]
        )
        .column("n")[0]
        .as_py()
    )


def table_columns(twin: Twin, name: str) -> list[str]:
    return (
        twin.query(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? "
            "ORDER BY column_index",
            [name],
        )
        .column("column_name")
        .to_pylist()
    )


def scene_origin_of(twin: Twin) -> tuple[float, float]:
    """The scene origin of the twin: the middle of the buildings' extent, rounded to 100 m."""
    from dashboard.geometry import scene_origin

    row = twin.query(
        "SELECT min(ST_XMin(footprint)) AS x0, min(ST_YMin(footprint)) AS y0, max(ST_XMax(footprint)) AS x1, "
        "max(ST_YMax(footprint)) AS y1 FROM buildings WHERE footprint IS NOT NULL"
    ).to_pylist()[0]
    if row["x0"] is None:
        return (0.0, 0.0)
    return scene_origin(row["x0"], row["y0"], row["x1"], row["y1"])


_DISTRICT_SQL = """
SELECT b.building_id, b.name, b.use, b.construction_year, b.height_m, b.height_estimated,
       b.storeys_above_ground, b.footprint_area_m2, b.source, b.dwellings,
       ST_AsWKB(b.footprint) AS footprint_wkb,
       EXISTS (SELECT 1 FROM element_meshes m WHERE m.building_id = b.building_id) AS has_mesh,
       (SELECT list(g.building_id) FROM buildings g WHERE g.ifc_building_id = b.building_id) AS gis_ids
FROM buildings b
WHERE b.ifc_building_id IS NULL
   OR b.ifc_building_id NOT IN (SELECT building_id FROM buildings WHERE source = 'ifc')
ORDER BY b.building_id
"""


def district_buildings(twin: Twin) -> pa.Table:
    """Every building once: a GIS footprint that an IFC model details is drawn as that model (``gis_ids``)."""
    return twin.query(_DISTRICT_SQL)


def element_meshes(
    twin: Twin, building_ids: list[str] | None = None, *, spaces: bool = False, district: bool = False
) -> pa.Table:
    """IFC element meshes with the element's flags and storey (one row per element).

    ``district``: only what shows from outside at district scale (no spaces, no furniture, no columns inside).
    """
    where = ["TRUE"]
    params: list[object] = []
    if building_ids is not None:
        where.append("m.building_id IN (SELECT unnest(?::VARCHAR[]))")
        params.append(building_ids)
    if not spaces:
        where.append("m.ifc_class <> 'IfcSpace'")
    if district:
        where.append(
            "m.ifc_class IN ('IfcWall', 'IfcWallStandardCase', 'IfcSlab', 'IfcRoof', 'IfcWindow', "
            "'IfcCurtainWall', 'IfcDoor', 'IfcCovering', 'IfcRamp', 'IfcStair')"
        )
    return twin.query(
        "SELECT m.ifc_guid, m.building_id, m.ifc_class, m.origin_x_m, m.origin_y_m, m.vertices, m.faces, "
        "m.n_vertices, coalesce(e.storey_id, s.storey_id) AS storey_id, e.name, e.is_external, e.load_bearing, "
        "(SELECT any_value(v.kind) FROM vertical_circulation v WHERE v.ifc_guid = m.ifc_guid) AS circulation "
        "FROM element_meshes m LEFT JOIN elements e USING (ifc_guid) "
        "LEFT JOIN spaces s ON s.space_id = m.ifc_guid "
        f"WHERE {' AND '.join(where)} ORDER BY m.building_id, m.ifc_guid",
        params,
    )


def building_row(twin: Twin, building_id: str) -> dict[str, object] | None:
    rows = twin.query(
        "SELECT building_id, name, use, construction_year, height_m, height_estimated, storeys_above_ground, "
        "storeys_below_ground, footprint_area_m2, dwellings, source, source_ref, ifc_building_id "
        "FROM buildings WHERE building_id = ?",
        [building_id],
    ).to_pylist()
    return rows[0] if rows else None


def building_facts(twin: Twin, building_id: str) -> dict[str, object] | None:
    rows = twin.query("SELECT * EXCLUDE (evidence) FROM building_facts WHERE building_id = ?", [building_id])
    return rows.to_pylist()[0] if rows.num_rows else None


def fact_evidence(twin: Twin, building_id: str) -> dict[str, list[str]]:
    """The IFC GlobalIds behind each derived fact of a building (``building_facts.evidence``), flattened."""
    import json

    rows = twin.query("SELECT evidence FROM building_facts WHERE building_id = ?", [building_id]).to_pylist()
    if not rows or not rows[0]["evidence"]:
        return {}

    def flat(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [g for v in value for g in flat(v)]
        return []

    evidence = {k: flat(v) for k, v in json.loads(rows[0]["evidence"]).items()}
    return {k: v for k, v in evidence.items() if v}


def storeys(twin: Twin, building_id: str) -> pa.Table:
    return twin.query(
        "SELECT storey_id, name, level_index, elevation_m, floor_to_floor_m, free_height_m, gross_floor_area_m2 "
        "FROM storeys WHERE building_id = ? ORDER BY level_index, elevation_m",
        [building_id],
    )


def network_lines(twin: Twin) -> pa.Table:
    """Every link with its network kind and, when a capacity check stored one, its loading or velocity flag."""
    loading = "NULL::DOUBLE AS loading_percent, NULL::VARCHAR AS flag"
    join = ""
    if has_table(twin, "res_network_links"):
        loading = "r.loading_percent, r.flag"
        join = (
            "LEFT JOIN (SELECT link_id, max(loading_percent) AS loading_percent, any_value(flag) AS flag "
            "FROM res_network_links WHERE scenario_id = 0 GROUP BY link_id) r USING (link_id)"
        )
    return twin.query(
        f"SELECT l.link_id, n.kind, l.link_kind, ST_AsWKB(l.geom) AS geom_wkb, {loading} "
        f"FROM network_links l JOIN networks n USING (network_id) {join} WHERE l.geom IS NOT NULL "
        "ORDER BY n.kind, l.link_id"
    )


def streetlights(twin: Twin) -> pa.Table:
    return twin.query(
        "SELECT node_id, ST_X(geom) AS x, ST_Y(geom) AS y FROM network_nodes n JOIN networks w USING (network_id) "
        "WHERE w.kind = 'lighting' AND n.node_kind = 'light' AND geom IS NOT NULL ORDER BY node_id"
    )


def sensors_latest(twin: Twin) -> pa.Table:
    """Every sensor with its position, latest value and whether it has an open (unacknowledged) alert."""
    return twin.query(
        "SELECT s.sensor_id, s.kind, s.unit_ucum, s.asset_kind, s.asset_id, ST_X(s.location) AS x, "
        "ST_Y(s.location) AS y, l.value, l.time_utc, "
        "(SELECT max(CASE a.severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END) FROM alerts a "
        " WHERE a.sensor_id = s.sensor_id AND a.status = 'open') AS alert_level, "
        "coalesce((SELECT b.building_id FROM buildings b WHERE b.building_id = s.asset_id), "
        " (SELECT sp.building_id FROM spaces sp WHERE sp.space_id = s.asset_id), "
        " (SELECT st.building_id FROM storeys st WHERE st.storey_id = s.asset_id), "
        " (SELECT e.building_id FROM elements e WHERE e.ifc_guid = s.asset_id)) AS building_id "
        "FROM sensors s LEFT JOIN sensor_latest l USING (sensor_id) ORDER BY s.sensor_id"
    )


def replay_values(twin: Twin, hour_index: int, hours: int = 24) -> tuple[pa.Table, list[str]]:
    """Hourly means of every sensor for one hour of the last ``hours`` hours held (0 = the oldest).

    Returns the table (sensor_id, value) and the list of hour labels of the window.
    """
    last = twin.query("SELECT max(hour_utc) AS h FROM readings_hourly").column("h")[0].as_py()
    if last is None:
        return pa.table({"sensor_id": pa.array([], pa.string()), "value": pa.array([], pa.float64())}), []
    import datetime as dt

    window = [last - dt.timedelta(hours=hours - 1 - k) for k in range(hours)]
    hour = window[max(0, min(hour_index, hours - 1))]
    table = twin.query(
        "SELECT sensor_id, sum / n AS value FROM readings_hourly WHERE hour_utc = ? ORDER BY sensor_id", [hour]
    )
    return table, [h.strftime("%d/%m %H:00") for h in window]


def sensor_series(twin: Twin, sensor_id: str, days: int = 30) -> pa.Table:
    """Raw readings of one sensor over the last ``days`` days it has data for."""
    return twin.query(
        "SELECT time_utc, value FROM readings WHERE sensor_id = ? AND time_utc >= "
        "(SELECT max(time_utc) FROM readings WHERE sensor_id = ?) - to_days(?) ORDER BY time_utc",
        [sensor_id, sensor_id, days],
    )


def alerts(twin: Twin, include_closed: bool = False) -> pa.Table:
    where = "" if include_closed else "WHERE status <> 'closed'"
    return twin.query(
        "SELECT alert_id, sensor_id, rule_id, severity, status, message, value, opened_at, acknowledged_at, "
        f"acknowledged_by FROM alerts {where} ORDER BY status = 'open' DESC, opened_at DESC LIMIT 500"
    )


def reports(twin: Twin) -> pa.Table:
    return twin.query(
        "SELECT report_id, service_name, description, status, requested_at, ST_X(location) AS x, "
        "ST_Y(location) AS y, asset_kind, asset_id, asset_distance_m FROM reports WHERE location IS NOT NULL "
        "ORDER BY requested_at DESC"
    )


def reversibility_results(twin: Twin, building_ids: list[str]) -> list[dict[str, Any]]:
    """The baseline ``res_reversibility`` rows of the buildings (a model and its GIS footprint), by path."""
    if not has_table(twin, "res_reversibility"):
        return []
    return twin.query(
        "SELECT * FROM res_reversibility WHERE scenario_id = 0 AND building_id IN (SELECT unnest(?::VARCHAR[])) "
        "ORDER BY route = 'ifc' DESC, path",
        [building_ids],
    ).to_pylist()


def reversibility_criteria(twin: Twin, building_id: str, path: str) -> list[dict[str, Any]]:
    """The baseline criteria of one (building, path): building-level first, then storey by storey."""
    if not has_table(twin, "res_reversibility_criteria"):
        return []
    return twin.query(
        "SELECT c.*, s.name AS storey_name FROM res_reversibility_criteria c "
        "LEFT JOIN storeys s ON s.storey_id = c.storey_id "
        "WHERE c.scenario_id = 0 AND c.building_id = ? AND c.path = ? "
        "ORDER BY c.storey_id IS NOT NULL, s.level_index, c.storey_id, c.is_veto DESC, c.weight DESC, c.criterion",
        [building_id, path],
    ).to_pylist()


def reversibility_study(twin: Twin, building_id: str) -> str | None:
    """The self-contained HTML study of ``building_id`` from its stored results (None: nothing stored).

    Reads only: the stored criteria and results, the structure carbon and the plans drawn from the meshes
    (buildings.reversibility_report.render_report), so downloading never rewrites the results.
    """
    from buildings.carbon import structure_carbon
    from buildings.reversibility_report import footprint_image, plan_images, render_report
    from buildings.reversibility_rules import default_rules
    from buildings.reversibility_store import load_tables

    results = reversibility_results(twin, [building_id])
    if not results:
        return None
    building = building_row(twin, building_id) or {"building_id": building_id}
    criteria = twin.query(
        "SELECT * FROM res_reversibility_criteria WHERE scenario_id = 0 AND building_id = ? "
        "ORDER BY path, storey_id IS NOT NULL, storey_id, criterion",
        [building_id],
    ).to_pylist()
    tables = load_tables(twin, [building_id])
    carbon = structure_carbon(tables.elements, tables.meshes).to_pylist() if tables.elements.num_rows else []
    storey_rows = storeys(twin, building_id).to_pylist()
    plans = plan_images(twin, building_id, storey_rows)
    if not plans:
        wkb = twin.query("SELECT ST_AsWKB(footprint) AS w FROM buildings WHERE building_id = ?", [building_id])
        outline = wkb.column("w")[0].as_py() if wkb.num_rows else None
        plans = footprint_image(outline, str(building.get("name") or building_id)) if outline else []
    return render_report(
        dict(building),
        results,
        criteria,
        carbon[0] if carbon else None,
        default_rules(),
        plans,
        {s["storey_id"]: s["name"] for s in storey_rows},
    )


def energy_result(twin: Twin, building_ids: list[str]) -> dict[str, Any] | None:
    """The baseline ``res_energy`` row of the building (the IFC model's first, then its GIS footprint's)."""
    if not has_table(twin, "res_energy"):
        return None
    rows = twin.query(
        "SELECT * FROM res_energy WHERE scenario_id = 0 AND building_id IN (SELECT unnest(?::VARCHAR[])) "
        "ORDER BY route = 'ifc' DESC, computed_at DESC LIMIT 1",
        [building_ids],
    ).to_pylist()
    return rows[0] if rows else None


def retrofit_options(twin: Twin, building_id: str) -> list[dict[str, Any]]:
    """The baseline ``res_retrofit`` rows of one building (every package and measure)."""
    if not has_table(twin, "res_retrofit"):
        return []
    return twin.query(
        "SELECT * FROM res_retrofit WHERE scenario_id = 0 AND building_id = ? ORDER BY package, measure",
        [building_id],
    ).to_pylist()


def mesh_ids(twin: Twin, building_id: str) -> set[str]:
    """The GlobalIds of the building's drawn elements and spaces (what an evidence highlight can show)."""
    ids = twin.query("SELECT ifc_guid FROM element_meshes WHERE building_id = ?", [building_id])
    return {str(g) for g in ids.column("ifc_guid").to_pylist()}
