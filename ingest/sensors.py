"""Sensors into the twin: the sensor registry (CSV), attached to assets by id or by location.

Batches of readings (CSV, Parquet, live) are :mod:`ingest.sensors_readings`; their public names are re-exported
here (``ingest_readings``, ``append_readings``, ``read_csv_header``, ``SensorIngestParams``, ``DEFAULT_PARAMS``,
``REJECT_REASONS``).

Units follow UCUM (``Cel``, ``kW.h``, ``[ppm]``, ``L/s``; see ``../shared/reference/methods.md`` section 4).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError

from ingest.sensors_readings import (
    DEFAULT_PARAMS,
    REJECT_REASONS,
    SensorIngestParams,
    _first_line,
    _registered,
    _Source,
    _validated_sql,
    _write_batch,
    append_readings,
    ingest_readings,
    read_csv_header,
)
from twin.errors import CrsError, TwinError
from twin.imports import ImportReport, already_imported, file_sha256, now_utc, record_import, require_file
from twin.store import Twin

__all__ = [
    "ASSET_KINDS",
    "DEFAULT_PARAMS",
    "REJECT_REASONS",
    "SENSOR_KINDS",
    "SensorIngestParams",
    "append_readings",
    "ingest_readings",
    "ingest_sensor_registry",
    "read_csv_header",
]

# Used by ingest.sensorthings (same batch path as the files).
_BATCH_INTERNALS = (_Source, _validated_sql, _write_batch)

SENSOR_KINDS = (
    "temperature",
    "humidity",
    "co2",
    "occupancy",
    "electricity_meter",
    "gas_meter",
    "water_flow",
    "water_pressure",
    "streetlight_status",
    "traffic_count",
    "air_quality",
    "parking",
)
"""``sensors.kind`` vocabulary (the CHECK of ``0001_core.sql``)."""

ASSET_KINDS = ("building", "storey", "space", "element", "network_node", "network_link", "streetlight")
"""``sensors.asset_kind`` vocabulary (the CHECK of ``0001_core.sql``)."""


def _transformer(source: str, target: str, path: Path) -> Transformer | None:
    try:
        src, dst = CRS.from_user_input(source), CRS.from_user_input(target)
    except ProjCRSError as exc:
        raise CrsError(f"{path}: unknown CRS '{source}'", "give an EPSG code such as EPSG:2154") from exc
    return None if src == dst else Transformer.from_crs(src, dst, always_xy=True)


# ------------------------------------------------------------------------------------------------ registry
def ingest_sensor_registry(
    twin: Twin,
    path: str | Path,
    *,
    crs: str | None = None,
    attach_distance_m: float = DEFAULT_PARAMS.attach_distance_m,
) -> ImportReport:
    """Import a sensor registry CSV into ``sensors`` (replacing sensors of the same id).

    Columns: ``sensor_id``, ``kind`` (:data:`SENSOR_KINDS`), ``unit_ucum``, a position as ``x``, ``y`` (in
    ``crs``, default the twin CRS) or ``lon``, ``lat`` (WGS84), and optionally ``asset_kind``, ``asset_id``,
    ``name``; other columns are kept in ``sensors.attributes``. A sensor with a position and no asset is
    attached by location: to the building whose footprint contains it, else to the nearest network node within
    ``attach_distance_m``.

    Raises
    ------
    TwinError
        For a file that cannot be read or a row that cannot become a sensor (named by its line); nothing is
        written then.
    """
    file = require_file(path, "sensor registry CSV")
    report = ImportReport(kind="sensors", file_path=str(file), sha256=file_sha256(file))
    if already_imported(twin, report.kind, report.sha256) is not None:
        report.unchanged = True
        return report
    started_at = now_utc()
    names, delimiter = read_csv_header(file)
    try:
        frame = pd.read_csv(
            file,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            header=None,
            skiprows=1,
            names=names,
            encoding="utf-8-sig",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise TwinError(f"{file} cannot be read as CSV: {_first_line(exc)}", "fix the line named") from exc
    frame = frame.apply(lambda col: col.str.strip())
    rows = _validate_registry(frame, file)
    x, y = _registry_positions(frame, file, crs, twin.crs)
    has_xy = ~(np.isnan(x) | np.isnan(y))
    asset_kind = frame["asset_kind"].to_numpy(dtype=object) if "asset_kind" in frame else np.full(len(frame), "")
    asset_id = frame["asset_id"].to_numpy(dtype=object) if "asset_id" in frame else np.full(len(frame), "")
    asset_kind, asset_id, by_location = _attach_by_location(
        twin, x, y, has_xy, asset_kind, asset_id, attach_distance_m
    )
    standard = {"sensor_id", "kind", "unit_ucum", "x", "y", "lon", "lat", "asset_kind", "asset_id", "name"}
    extra = [c for c in frame.columns if c not in standard and not c.startswith("_unnamed_")]
    attributes = (
        [
            json.dumps({c: v for c in extra if (v := rec[c]) != ""}, ensure_ascii=False) if extra else None
            for rec in frame[extra].to_dict("records")
        ]
        if extra
        else [None] * len(frame)
    )
    table = pa.table(
        {
            "sensor_id": frame["sensor_id"].tolist(),
            "kind": frame["kind"].tolist(),
            "unit_ucum": frame["unit_ucum"].tolist(),
            "name": [v or None for v in frame["name"]] if "name" in frame else [None] * len(frame),
            "x": pa.array(np.where(has_xy, x, np.nan), mask=~has_xy),
            "y": pa.array(np.where(has_xy, y, np.nan), mask=~has_xy),
            "asset_kind": [v or None for v in asset_kind],
            "asset_id": [v or None for v in asset_id],
            "attributes": pa.array(attributes, pa.string()),
        }
    )
    _warn_registry(twin, table, report)
    with twin.write() as cur, _registered(cur, "__twin_sensors", table):
        cur.execute(
            "INSERT OR REPLACE INTO sensors (sensor_id, kind, unit_ucum, name, location, asset_kind, asset_id, "
            "attributes) SELECT sensor_id, kind, unit_ucum, name, "
            "CASE WHEN x IS NOT NULL THEN ST_Point(x, y) END, asset_kind, asset_id, attributes::JSON "
            "FROM __twin_sensors"
        )
        report.counts = {
            "sensors": rows,
            "attached_by_location": by_location,
            "without_asset": int(sum(1 for v in asset_id if not v)),
        }
        record_import(cur, report, started_at)
    return report


def _validate_registry(frame: pd.DataFrame, file: Path) -> int:
    """Check every row; raise naming the first bad line (and how many more there are)."""
    missing = [c for c in ("sensor_id", "kind", "unit_ucum") if c not in frame.columns]
    if missing:
        raise TwinError(
            f"{file} line 1: no column {', '.join(missing)} (columns: {', '.join(frame.columns)})",
            "a sensor registry has sensor_id, kind, unit_ucum, x, y (or lon, lat), asset_kind, asset_id, name",
        )
    line = np.arange(len(frame)) + 2
    problems: list[tuple[int, str]] = []

    def check(bad: np.ndarray, message: Any) -> None:
        for i in np.flatnonzero(bad):
            problems.append((int(line[i]), message(i)))

    sid = frame["sensor_id"].to_numpy(dtype=object)
    kind = frame["kind"].to_numpy(dtype=object)
    check(sid == "", lambda i: "empty sensor_id")
    dup = frame["sensor_id"].duplicated(keep="first").to_numpy() & (sid != "")
    check(dup, lambda i: f"sensor '{sid[i]}' appears twice")
    check(~np.isin(kind, SENSOR_KINDS), lambda i: f"unknown kind '{kind[i]}' (one of {', '.join(SENSOR_KINDS)})")
    check(frame["unit_ucum"].to_numpy(dtype=object) == "", lambda i: f"sensor '{sid[i]}' has no unit_ucum")
    if "asset_kind" in frame:
        ak = frame["asset_kind"].to_numpy(dtype=object)
        aid = frame["asset_id"].to_numpy(dtype=object) if "asset_id" in frame else np.full(len(frame), "")
        check(
            (ak != "") & ~np.isin(ak, ASSET_KINDS),
            lambda i: f"unknown asset_kind '{ak[i]}' (one of {', '.join(ASSET_KINDS)})",
        )
        check((ak == "") != (aid == ""), lambda i: f"sensor '{sid[i]}' has asset_kind and asset_id half given")
    elif "asset_id" in frame:
        aid = frame["asset_id"].to_numpy(dtype=object)
        check(aid != "", lambda i: f"sensor '{sid[i]}' has an asset_id but the file has no asset_kind column")
    for a, b in (("x", "y"), ("lon", "lat")):
        for col in (a, b):
            if col in frame:
                text = frame[col].to_numpy(dtype=object)
                number = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
                check(
                    (text != "") & ~np.isfinite(number), lambda i, c=col, t=text: f"{c} '{t[i]}' is not a number"
                )
    if problems:
        problems.sort()
        first_line, message = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise TwinError(f"{file} line {first_line}: {message}{more}", "fix the registry; nothing was imported")
    return len(frame)


def _registry_positions(frame: pd.DataFrame, file: Path, crs: str | None, twin_crs: str) -> tuple[np.ndarray, ...]:
    """x, y in the twin CRS (NaN where a sensor has no position)."""
    has_xy, has_lonlat = {"x", "y"} <= set(frame.columns), {"lon", "lat"} <= set(frame.columns)

    def numbers(col: str) -> np.ndarray:
        return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)

    if has_xy and has_lonlat:
        both = ~np.isnan(numbers("x")) & ~np.isnan(numbers("lon"))
        if both.any():
            raise CrsError(
                f"{file} line {int(np.flatnonzero(both)[0]) + 2}: both x, y and lon, lat are given",
                "give one position per sensor: x, y in the twin CRS (or --crs), or lon, lat in WGS84",
            )
    n = len(frame)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    if has_xy:
        x, y = numbers("x"), numbers("y")
        transformer = _transformer(crs, twin_crs, file) if crs else None
        if transformer is not None:
            x, y = transformer.transform(x, y)
    elif crs is not None:
        raise CrsError(
            f"{file}: crs {crs} was given but the file has no x, y columns",
            "lon, lat columns are WGS84; give --crs only for x, y",
        )
    if has_lonlat:
        lon, lat = numbers("lon"), numbers("lat")
        use = np.isnan(x) & ~np.isnan(lon)
        bad = use & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
        if bad.any():
            raise CrsError(
                f"{file} line {int(np.flatnonzero(bad)[0]) + 2}: lon, lat out of range",
                "lon, lat are WGS84 degrees; projected coordinates go in x, y",
            )
        transformer = _transformer("EPSG:4326", twin_crs, file)
        assert transformer is not None
        px, py = transformer.transform(lon, lat)
        x, y = np.where(use, px, x), np.where(use, py, y)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _attach_by_location(
    twin: Twin,
    x: np.ndarray,
    y: np.ndarray,
    has_xy: np.ndarray,
    asset_kind: np.ndarray,
    asset_id: np.ndarray,
    attach_distance_m: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Sensors without asset: the building containing them, else the nearest network node within the distance."""
    asset_kind, asset_id = asset_kind.copy(), asset_id.copy()
    todo = np.flatnonzero(has_xy & (asset_id == ""))
    if len(todo) == 0:
        return asset_kind, asset_id, 0
    points = shapely.points(x[todo], y[todo])
    attached = 0
    buildings = twin.query(
        "SELECT building_id AS id, ST_AsWKB(footprint) AS wkb FROM buildings "
        "WHERE footprint IS NOT NULL ORDER BY building_id"
    )
    if buildings.num_rows:
        tree = shapely.STRtree(shapely.from_wkb(buildings.column("wkb").to_numpy(zero_copy_only=False)))
        pt_idx, geom_idx = tree.query(points, predicate="within")
        ids = buildings.column("id").to_numpy(zero_copy_only=False)
        # A point inside two overlapping footprints goes to the first in building_id order.
        first = pd.DataFrame({"p": pt_idx, "g": geom_idx}).groupby("p")["g"].min()
        rows = todo[first.index.to_numpy()]
        asset_kind[rows], asset_id[rows] = "building", ids[first.to_numpy()]
        attached += len(rows)
    left = np.flatnonzero(asset_id[todo] == "")
    nodes = twin.query(
        "SELECT node_id AS id, ST_AsWKB(geom) AS wkb FROM network_nodes WHERE geom IS NOT NULL ORDER BY node_id"
    )
    if nodes.num_rows and len(left):
        tree = shapely.STRtree(shapely.from_wkb(nodes.column("wkb").to_numpy(zero_copy_only=False)))
        pt_idx, geom_idx = tree.query_nearest(points[left], max_distance=attach_distance_m, all_matches=False)
        rows = todo[left[pt_idx]]
        asset_kind[rows] = "network_node"
        asset_id[rows] = nodes.column("id").to_numpy(zero_copy_only=False)[geom_idx]
        attached += len(rows)
    return asset_kind, asset_id, attached


def _warn_registry(twin: Twin, table: pa.Table, report: ImportReport) -> None:
    """Warnings (never errors): assets not in the twin yet, units changed under existing readings."""
    tables = {
        "building": ("buildings", "building_id"),
        "storey": ("storeys", "storey_id"),
        "space": ("spaces", "space_id"),
        "element": ("elements", "ifc_guid"),
        "network_node": ("network_nodes", "node_id"),
        "network_link": ("network_links", "link_id"),
    }
    with twin.read() as cur, _registered(cur, "__twin_sensors", table):
        for kind, (name, key) in tables.items():
            missing = cur.execute(
                f"SELECT s.asset_id FROM __twin_sensors s ANTI JOIN {name} t ON t.{key} = s.asset_id "
                "WHERE s.asset_kind = ? ORDER BY s.asset_id",
                [kind],
            ).fetchall()
            if missing:
                ids = sorted({str(r[0]) for r in missing})
                report.warn(
                    f"asset_kind {kind}",
                    f"{len(ids)} {kind} ids are not in the twin (yet): "
                    f"{', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}",
                )
        changed = cur.execute(
            "SELECT s.sensor_id, o.unit_ucum, s.unit_ucum FROM __twin_sensors s JOIN sensors o USING (sensor_id) "
            "SEMI JOIN sensor_latest l ON l.sensor_id = s.sensor_id WHERE o.unit_ucum <> s.unit_ucum "
            "ORDER BY s.sensor_id"
        ).fetchall()
        for sid, old, new in changed:
            report.warn(f"sensor {sid}", f"unit changed from {old} to {new}: its stored readings are in {old}")
