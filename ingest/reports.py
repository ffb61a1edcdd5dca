"""Citizen reports into the twin: Open311 GeoReport v2 service requests (and the service list), linked to assets.

GeoReport v2 (``../shared/reference/methods.md`` section 4, Open311 GeoReport v2): a ``requests.json`` is a list
of service requests with ``service_request_id``, ``status`` (open / closed), ``service_code``, ``service_name``,
``description``, ``requested_datetime``, ``updated_datetime``, ``address``, ``lat``, ``long`` (WGS84) and
``media_url``; a ``services.json`` is a list of services (``service_code``, ``service_name``, ``description``,
``group``, ``keywords``, ``type``, ``metadata``).

Privacy: only the fields above are read into the twin. Everything else a citizen app exports with a request
(``first_name``, ``last_name``, ``email``, ``phone``, ``device_id``, ``account_id``, status notes...) is dropped
before anything is written, not kept in a JSON column either; the import log names the dropped fields, never
their values.

Each report is linked to the nearest asset of the kind its service concerns, within ``link_distance_m``: a
street-light fault to the nearest node of a ``lighting`` network, a leak to the nearest link of a ``water``
network, a pothole to the nearest link of a ``road`` network (:data:`DEFAULT_SERVICE_PREFIXES`,
:data:`DEFAULT_KEYWORDS`; both can be overridden through :class:`ReportIngestParams`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import Transformer

from twin.errors import TwinError
from twin.imports import ImportReport, already_imported, file_sha256, now_utc, record_import, require_file
from twin.store import Twin

__all__ = [
    "DEFAULT_KEYWORDS",
    "DEFAULT_PARAMS",
    "DEFAULT_SERVICE_PREFIXES",
    "REQUEST_FIELDS",
    "SERVICE_FIELDS",
    "AssetTarget",
    "ReportIngestParams",
    "asset_target",
    "ingest_reports",
    "link_to_assets",
]

REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "service_code",
    "service_name",
    "description",
    "requested_datetime",
    "updated_datetime",
    "address",
    "lat",
    "long",
    "media_url",
)
"""The request fields the twin reads; every other field of a request is dropped unread."""

GEOREPORT_OTHER_FIELDS = (
    "status_notes",
    "agency_responsible",
    "service_notice",
    "expected_datetime",
    "address_id",
    "zipcode",
    "token",
)
"""Standard GeoReport v2 request fields that ``reports`` has no column for (dropped too, counted apart from the
non-standard fields, which is where a citizen app's personal data travels)."""

SERVICE_FIELDS = ("service_code", "service_name", "description", "group", "keywords", "type", "metadata")
"""The service fields the twin reads."""


@dataclass(frozen=True)
class AssetTarget:
    """Which asset a report is linked to: the nearest node or link of a network of this kind."""

    network_kind: Literal["water", "power", "heat", "gas", "lighting", "road"]
    asset_kind: Literal["network_node", "network_link"]


LIGHT = AssetTarget("lighting", "network_node")
WATER_PIPE = AssetTarget("water", "network_link")
ROAD = AssetTarget("road", "network_link")

DEFAULT_SERVICE_PREFIXES: Mapping[str, AssetTarget] = MappingProxyType(
    {
        "EP-": LIGHT,  # éclairage public
        "EAU-": WATER_PIPE,
        "VOIRIE-": ROAD,
    }
)
"""service_code prefix -> asset target (the French municipal codes of the demo; longest prefix wins)."""

DEFAULT_KEYWORDS: Mapping[str, AssetTarget] = MappingProxyType(
    {
        "éclairage": LIGHT,
        "eclairage": LIGHT,
        "lampadaire": LIGHT,
        "lampe": LIGHT,
        "street light": LIGHT,
        "streetlight": LIGHT,
        "lamp": LIGHT,
        "fuite": WATER_PIPE,
        "eau": WATER_PIPE,
        "leak": WATER_PIPE,
        "water": WATER_PIPE,
        "nid-de-poule": ROAD,
        "chaussée": ROAD,
        "voirie": ROAD,
        "route": ROAD,
        "pothole": ROAD,
        "road": ROAD,
    }
)
"""Whole-word keyword -> asset target, tried in this order on the service (code, name, group, keywords,
description) when no prefix matches, then on the request's own description."""


@dataclass(frozen=True)
class ReportIngestParams:
    """Defaults of the report ingest; every one can be overridden per call.

    Attributes
    ----------
    link_distance_m:
        A report further than this from every asset of its kind stays unlinked, m. Phone positions are good to
        about 5-10 m in streets; 50 m still reaches the right lamp or pipe from the pavement opposite while
        leaving a report from another street unlinked.
    service_prefixes, keywords:
        The service -> asset mapping (:data:`DEFAULT_SERVICE_PREFIXES`, :data:`DEFAULT_KEYWORDS`).
    """

    link_distance_m: float = 50.0
    service_prefixes: Mapping[str, AssetTarget] = field(default_factory=lambda: DEFAULT_SERVICE_PREFIXES)
    keywords: Mapping[str, AssetTarget] = field(default_factory=lambda: DEFAULT_KEYWORDS)


DEFAULT_PARAMS = ReportIngestParams()


def asset_target(
    service_code: str | None,
    texts: list[str | None],
    params: ReportIngestParams = DEFAULT_PARAMS,
) -> AssetTarget | None:
    """The asset a report of this service is linked to, or None.

    >>> asset_target("EP-PANNE", []).network_kind
    'lighting'
    >>> asset_target("X1", ["Fuite d'eau"]).asset_kind
    'network_link'
    >>> asset_target("X2", ["Graffiti"]) is None
    True
    """
    code = service_code or ""
    for prefix in sorted(params.service_prefixes, key=len, reverse=True):
        if code.upper().startswith(prefix.upper()):
            return params.service_prefixes[prefix]
    text = " ".join(t for t in texts if t).lower()
    for word, target in params.keywords.items():
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", text):
            return target
    return None


def _load_json(path: Path, what: str) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise TwinError(f"{path} is not UTF-8 text", f"give the Open311 {what} as UTF-8 JSON") from exc
    except json.JSONDecodeError as exc:
        raise TwinError(
            f"{path} line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})",
            f"give the Open311 GeoReport v2 {what} JSON (a list)",
        ) from exc
    if isinstance(data, dict):  # some servers wrap the list
        for key in ("service_requests", "requests", "services"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise TwinError(
            f"{path}: the JSON is a {type(data).__name__}, not a list of {what}",
            f"give the Open311 GeoReport v2 {what} JSON (a list)",
        )
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise TwinError(f"{path} item {i}: a {type(item).__name__}, not an object", "each item is an object")
    return data


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _times(values: list[Any], ids: list[str], path: Path, name: str) -> pa.Array:
    """ISO 8601 times to naive UTC (a time without offset is taken as UTC)."""
    out: list[dt.datetime | None] = []
    for value, rid in zip(values, ids, strict=True):
        text = _text(value)
        if text is None:
            out.append(None)
            continue
        try:
            stamp = pd.Timestamp(text)
        except ValueError as exc:
            raise TwinError(
                f"{path} request {rid}: {name} '{text}' is not an ISO 8601 time",
                "use the W3C format, e.g. 2026-10-09T17:15:00Z",
            ) from exc
        stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
        out.append(stamp.to_pydatetime())
    return pa.array(out, pa.timestamp("us"))


def ingest_reports(
    twin: Twin,
    requests_path: str | Path,
    *,
    services_path: str | Path | None = None,
    link_distance_m: float | None = None,
    params: ReportIngestParams | None = None,
) -> ImportReport:
    """Import Open311 GeoReport v2 requests (and services) into ``reports``, linked to the nearest asset.

    Reports are replaced by ``service_request_id`` (a later export updates their status). ``lat``/``long``
    (WGS84) are converted to the twin CRS. Fields other than :data:`REQUEST_FIELDS` are never stored.
    ``link_distance_m`` overrides ``params.link_distance_m`` (:class:`ReportIngestParams`, default 50 m).

    Returns
    -------
    ImportReport
        ``counts``: ``reports``, ``linked``, ``unlinked`` (no target, no position or nothing within the
        distance), ``services``, ``requests_with_nonstandard_fields`` (dropped unread: where a citizen app
        puts names, e-mails, phones), ``skipped_without_id``.

    Raises
    ------
    TwinError
        For a file that is not JSON or not a list, a request with an unknown status, a bad time or a position
        out of range (named by its id); nothing is written then.
    """
    params = params or DEFAULT_PARAMS
    if link_distance_m is None:
        link_distance_m = params.link_distance_m
    file = require_file(requests_path, "Open311 requests JSON")
    services_file = require_file(services_path, "Open311 services JSON") if services_path is not None else None
    digest = file_sha256(file)
    if services_file is not None:
        digest = hashlib.sha256((digest + file_sha256(services_file)).encode()).hexdigest()
    report = ImportReport(kind="reports", file_path=str(file), sha256=digest)
    if already_imported(twin, report.kind, report.sha256) is not None:
        report.unchanged = True
        return report
    started_at = now_utc()

    services = _services(services_file, params) if services_file is not None else None
    requests = _load_json(file, "requests")
    table, nonstandard, n_nonstandard, unkept, skipped = _requests_table(
        file, requests, services, params, twin.crs
    )
    if skipped:
        report.warn(str(file), f"{skipped} requests without service_request_id were skipped")
    if nonstandard:
        report.warn(
            str(file),
            f"{n_nonstandard} requests carried non-standard fields, dropped unread (they may be personal): "
            f"{', '.join(sorted(nonstandard))}",
        )
    if unkept:
        report.warn(
            str(file), f"standard fields without a column in reports, not kept: {', '.join(sorted(unkept))}"
        )
    asset_kind, asset_id, distance = _link(twin, table, params, link_distance_m)
    table = table.drop_columns(["target"]).append_column("asset_kind", pa.array(asset_kind, pa.string()))
    table = table.append_column("asset_id", pa.array(asset_id, pa.string()))
    table = table.append_column("asset_distance_m", pa.array(distance, pa.float64(), mask=np.isnan(distance)))
    with twin.write() as cur:
        n_services = 0
        if services is not None and services.num_rows:
            cur.register("__twin_services", services)
            try:
                cur.execute(
                    "INSERT OR REPLACE INTO open311_services (service_code, service_name, description, "
                    "group_name, keywords, type, metadata, asset_network_kind, asset_kind) "
                    "SELECT service_code, service_name, description, group_name, keywords, type, metadata, "
                    "asset_network_kind, asset_kind FROM __twin_services"
                )
            finally:
                cur.unregister("__twin_services")
            n_services = services.num_rows
        cur.register("__twin_reports", table)
        try:
            cur.execute(
                "INSERT OR REPLACE INTO reports (report_id, service_code, service_name, description, status, "
                "requested_at, updated_at, location, address, media_url, asset_kind, asset_id, asset_distance_m) "
                "SELECT report_id, service_code, service_name, description, status, requested_at, updated_at, "
                "CASE WHEN x IS NOT NULL THEN ST_Point(x, y) END, address, media_url, asset_kind, asset_id, "
                "asset_distance_m FROM __twin_reports"
            )
        finally:
            cur.unregister("__twin_reports")
        linked = int(np.count_nonzero(~np.isnan(distance)))
        report.counts = {
            "reports": table.num_rows,
            "linked": linked,
            "unlinked": table.num_rows - linked,
            "services": n_services,
            "requests_with_nonstandard_fields": n_nonstandard,
            "skipped_without_id": skipped,
        }
        record_import(cur, report, started_at)
        if n_services:
            cur.execute("UPDATE open311_services SET import_id = ? WHERE import_id IS NULL", [report.import_id])
    return report


def _services(path: Path, params: ReportIngestParams) -> pa.Table:
    items = _load_json(path, "services")
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "service_code",
            "service_name",
            "description",
            "group_name",
            "keywords",
            "type",
            "metadata",
            "asset_network_kind",
            "asset_kind",
        )
    }
    seen: set[str] = set()
    for i, item in enumerate(items):
        code = _text(item.get("service_code"))
        if code is None:
            raise TwinError(f"{path} item {i}: no service_code", "every Open311 service has a service_code")
        if code in seen:
            raise TwinError(f"{path} item {i}: service_code {code} appears twice", "give each service once")
        seen.add(code)
        kind = _text(item.get("type"))
        if kind is not None and kind not in ("realtime", "batch", "blackbox"):
            raise TwinError(f"{path} service {code}: type '{kind}'", "Open311 types are realtime, batch, blackbox")
        keywords = item.get("keywords")
        keywords = ",".join(map(str, keywords)) if isinstance(keywords, list) else _text(keywords)
        target = asset_target(
            code,
            [_text(item.get("service_name")), _text(item.get("group")), keywords, _text(item.get("description"))],
            params,
        )
        metadata = item.get("metadata")
        rows["service_code"].append(code)
        rows["service_name"].append(_text(item.get("service_name")))
        rows["description"].append(_text(item.get("description")))
        rows["group_name"].append(_text(item.get("group")))
        rows["keywords"].append(keywords)
        rows["type"].append(kind)
        rows["metadata"].append(
            metadata
            if isinstance(metadata, bool)
            else (str(metadata).lower() == "true" if metadata is not None else None)
        )
        rows["asset_network_kind"].append(target.network_kind if target else None)
        rows["asset_kind"].append(target.asset_kind if target else None)
    return pa.table({k: pa.array(v, pa.bool_() if k == "metadata" else pa.string()) for k, v in rows.items()})


def _requests_table(
    path: Path,
    items: list[dict[str, Any]],
    services: pa.Table | None,
    params: ReportIngestParams,
    twin_crs: str,
) -> tuple[pa.Table, set[str], int, set[str], int]:
    """The standard fields only, checked.

    Returns the table, the names of the non-standard fields met, how many requests had some, the names of the
    standard fields not kept, and how many requests were skipped for want of an id.
    """
    service_info: dict[str, list[str | None]] = {}
    if services is not None:
        for rec in services.select(
            ["service_code", "service_name", "group_name", "keywords", "description"]
        ).to_pylist():
            service_info[rec["service_code"]] = list(rec.values())
    nonstandard: set[str] = set()
    unkept: set[str] = set()
    n_nonstandard = skipped = 0
    kept: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for i, item in enumerate(items):
        extra = set(item) - set(REQUEST_FIELDS)
        if extra:
            unkept |= extra & set(GEOREPORT_OTHER_FIELDS)
            if extra - set(GEOREPORT_OTHER_FIELDS):
                nonstandard |= extra - set(GEOREPORT_OTHER_FIELDS)
                n_nonstandard += 1
        rid = _text(item.get("service_request_id"))
        if rid is None:
            skipped += 1
            continue
        if rid in index:
            raise TwinError(
                f"{path} item {i}: service_request_id {rid} appears twice (also item {index[rid]})",
                "give each request once",
            )
        index[rid] = i
        kept.append({k: item.get(k) for k in REQUEST_FIELDS})  # the only copy that goes on
    ids = [str(r["service_request_id"]).strip() for r in kept]
    status = []
    for r, rid in zip(kept, ids, strict=True):
        s = (_text(r["status"]) or "open").lower()
        if s not in ("open", "closed"):
            raise TwinError(
                f"{path} request {rid}: status '{r['status']}'", "Open311 statuses are open and closed"
            )
        status.append(s)
    lat = np.array([_number(r["lat"], rid, "lat", path) for r, rid in zip(kept, ids, strict=True)], dtype=float)
    lon = np.array([_number(r["long"], rid, "long", path) for r, rid in zip(kept, ids, strict=True)], dtype=float)
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        rid = ids[int(np.flatnonzero(bad)[0])]
        raise TwinError(f"{path} request {rid}: lat/long out of range", "lat and long are WGS84 degrees")
    has = ~(np.isnan(lat) | np.isnan(lon))
    x, y = np.full(len(kept), np.nan), np.full(len(kept), np.nan)
    if has.any():
        tx, ty = Transformer.from_crs("EPSG:4326", twin_crs, always_xy=True).transform(lon[has], lat[has])
        x[has], y[has] = tx, ty
    targets = []
    for r in kept:
        code = _text(r["service_code"])
        texts = [code, _text(r["service_name"]), *service_info.get(code or "", [])]
        target = asset_target(code, texts, params) or asset_target(None, [_text(r["description"])], params)
        targets.append(f"{target.network_kind}/{target.asset_kind}" if target else None)
    table = pa.table(
        {
            "report_id": pa.array(ids, pa.string()),
            "service_code": pa.array([_text(r["service_code"]) for r in kept], pa.string()),
            "service_name": pa.array([_text(r["service_name"]) for r in kept], pa.string()),
            "description": pa.array([_text(r["description"]) for r in kept], pa.string()),
            "status": pa.array(status, pa.string()),
            "requested_at": _times([r["requested_datetime"] for r in kept], ids, path, "requested_datetime"),
            "updated_at": _times([r["updated_datetime"] for r in kept], ids, path, "updated_datetime"),
            "address": pa.array([_text(r["address"]) for r in kept], pa.string()),
            "media_url": pa.array([_text(r["media_url"]) for r in kept], pa.string()),
            "x": pa.array(x, mask=~has),
            "y": pa.array(y, mask=~has),
            "target": pa.array(targets, pa.string()),
        }
    )
    return table, nonstandard, n_nonstandard, unkept, skipped


def _number(value: Any, rid: str, name: str, path: Path) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return float("nan")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise TwinError(f"{path} request {rid}: {name} '{value}' is not a number", "give WGS84 degrees") from exc
    if not np.isfinite(number):
        raise TwinError(f"{path} request {rid}: {name} '{value}' is not a number", "give WGS84 degrees")
    return number


def _link(
    twin: Twin, table: pa.Table, params: ReportIngestParams, link_distance_m: float
) -> tuple[list[str | None], list[str | None], np.ndarray]:
    """Nearest asset of each report's target kind within the distance (shapely STRtree, vectorised per kind)."""
    n = table.num_rows
    asset_kind: list[str | None] = [None] * n
    asset_id: list[str | None] = [None] * n
    distance = np.full(n, np.nan)
    x = table.column("x").to_numpy(zero_copy_only=False)
    y = table.column("y").to_numpy(zero_copy_only=False)
    targets = np.array(table.column("target").to_pylist(), dtype=object)
    for target in sorted({t for t in targets if t}):
        network_kind, kind = target.split("/")
        rows = np.flatnonzero((targets == target) & ~np.isnan(x))
        if not len(rows):
            continue
        if kind == "network_node":
            sql = (
                "SELECT a.node_id AS id, ST_AsWKB(a.geom) AS wkb FROM network_nodes a JOIN networks n "
                "USING (network_id) WHERE n.kind = ? AND a.geom IS NOT NULL ORDER BY a.node_id"
            )
        else:
            sql = (
                "SELECT a.link_id AS id, ST_AsWKB(a.geom) AS wkb FROM network_links a JOIN networks n "
                "USING (network_id) WHERE n.kind = ? AND a.geom IS NOT NULL ORDER BY a.link_id"
            )
        assets = twin.query(sql, [network_kind])
        if not assets.num_rows:
            continue
        tree = shapely.STRtree(shapely.from_wkb(assets.column("wkb").to_numpy(zero_copy_only=False)))
        (pt, geom), dist = tree.query_nearest(
            shapely.points(x[rows], y[rows]), max_distance=link_distance_m, return_distance=True, all_matches=False
        )
        ids = assets.column("id").to_numpy(zero_copy_only=False)
        for p, g, d in zip(pt, geom, dist, strict=True):
            asset_kind[rows[p]], asset_id[rows[p]], distance[rows[p]] = kind, str(ids[g]), float(d)
    return asset_kind, asset_id, distance


link_to_assets = _link
"""Public name of the asset linking (the Open311 POST endpoint links a posted request the same way)."""
