"""Open311 GeoReport v2 on ``twin serve``: citizens' requests accepted by POST, services and requests read by GET.

Endpoints (below ``/open311/v2``, no token: they are the public face of the twin; ``/api/run`` keeps its token):

``GET services.json``
    The service list (``open311_services``, loaded with ``twin ingest reports FILE --services services.json``).
``GET requests.json``
    Requests, newest first, at most ``limit`` (default 1000): filters ``service_request_id`` (comma-separated),
    ``service_code`` (comma-separated), ``status`` (open, closed; comma-separated), ``start_date`` and
    ``end_date`` (W3C datetimes on ``requested_datetime``). ``GET requests/<id>.json`` gives one.
``POST requests.json``
    A new request, form-encoded (``application/x-www-form-urlencoded``, the GeoReport way) or JSON:
    ``service_code`` (required, one of the services), a location as ``lat`` and ``long`` (WGS84, inside the
    twin's area) or ``address_string``, ``description``, ``media_url``. Answered ``[{"service_request_id": ...,
    "service_notice": ...}]`` with status 201; the request is stored in ``reports`` and linked to the nearest
    asset of its service exactly like the file import (:mod:`ingest.reports`).

Errors have the GeoReport shape ``[{"code": 400, "description": "..."}]`` with the HTTP status of ``code``.

Privacy: ``first_name``, ``last_name``, ``email``, ``phone``, ``device_id``, ``account_id`` and every other
field not listed above are dropped before anything is written (issue 6: personal fields are never stored), so
that they can never be exported either; the answer says so in ``service_notice``.

Every function here takes a twin and plain request data and returns plain data: the HTTP plumbing is
:class:`twin.server.LocalApi`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyproj import Transformer

from ingest.reports import DEFAULT_PARAMS, ReportIngestParams, asset_target, link_to_assets
from twin.store import Twin

__all__ = [
    "PERSONAL_FIELDS",
    "PREFIX",
    "AreaParams",
    "Open311Error",
    "Response",
    "get_requests",
    "get_services",
    "handle",
    "parse_body",
    "submit_request",
]

PREFIX = "/open311/v2/"
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id", "name")
"""Fields a citizen app may send with a request; never stored."""
_ACCEPTED = ("service_code", "lat", "long", "address_string", "description", "media_url")
_MAX_DESCRIPTION = 4000  # characters; a request is a short message, not a document


@dataclass(frozen=True)
class AreaParams:
    """What counts as inside the twin's area for a posted position.

    Attributes
    ----------
    margin_m:
        The area is the bounding box of the twin's buildings and network assets grown by this margin, m. 500 m
        takes in the streets around the modelled district (a lamp at its edge, a leak across the road) and
        refuses a position in another town or a swapped lat/long.
    """

    margin_m: float = 500.0


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, content type and body."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"


class Open311Error(Exception):
    """A request refused, with its GeoReport error code (also the HTTP status) and description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def response(self) -> Response:
        return _json(self.code, [{"code": self.code, "description": self.description}])


def _json(status: int, data: Any) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


# ------------------------------------------------------------------------------------------------ GET
def get_services(twin: Twin) -> list[dict[str, Any]]:
    """The service list as GeoReport v2 services.json."""
    rows = twin.query(
        "SELECT service_code, service_name, description, metadata, type, keywords, group_name "
        "FROM open311_services ORDER BY service_code"
    ).to_pylist()
    return [
        {
            "service_code": r["service_code"],
            "service_name": r["service_name"],
            "description": r["description"],
            "metadata": bool(r["metadata"]),
            "type": r["type"] or "realtime",
            "keywords": r["keywords"] or "",
            "group": r["group_name"] or "",
        }
        for r in rows
    ]


def _time_filter(text: str, name: str) -> dt.datetime:
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise Open311Error(400, f"{name} '{text}' is not a W3C datetime (e.g. 2026-10-01T00:00:00Z)") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def get_requests(twin: Twin, query: Mapping[str, list[str]], limit: int = 1000) -> list[dict[str, Any]]:
    """Requests as GeoReport v2 requests.json, filtered by the query parameters (see the module docstring)."""

    def values(name: str) -> list[str]:
        return [v.strip() for item in query.get(name, []) for v in item.split(",") if v.strip()]

    where: list[str] = []
    params: list[Any] = []
    if ids := values("service_request_id"):
        where.append(f"report_id IN ({', '.join('?' * len(ids))})")
        params += ids
    if codes := values("service_code"):
        where.append(f"service_code IN ({', '.join('?' * len(codes))})")
        params += codes
    if statuses := values("status"):
        unknown = sorted(set(statuses) - {"open", "closed"})
        if unknown:
            raise Open311Error(400, f"status '{unknown[0]}' is not open or closed")
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params += statuses
    for name, op in (("start_date", ">="), ("end_date", "<=")):
        if found := values(name):
            where.append(f"requested_at {op} ?")
            params.append(_time_filter(found[0], name))
    sql = (
        "SELECT report_id, status, service_code, service_name, description, requested_at, updated_at, address, "
        "media_url, ST_X(location) AS x, ST_Y(location) AS y FROM reports"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY requested_at DESC NULLS LAST, report_id LIMIT {int(limit)}"
    )
    rows = twin.query(sql, params).to_pylist()
    x = np.array([np.nan if r["x"] is None else r["x"] for r in rows], dtype=float)
    y = np.array([np.nan if r["y"] is None else r["y"] for r in rows], dtype=float)
    lon, lat = (
        (x, y) if not len(rows) else Transformer.from_crs(twin.crs, "EPSG:4326", always_xy=True).transform(x, y)
    )
    return [
        {
            "service_request_id": r["report_id"],
            "status": r["status"],
            "service_code": r["service_code"],
            "service_name": r["service_name"],
            "description": r["description"],
            "requested_datetime": _iso(r["requested_at"]),
            "updated_datetime": _iso(r["updated_at"]),
            "address": r["address"],
            "lat": None if np.isnan(la) else round(float(la), 7),
            "long": None if np.isnan(lo) else round(float(lo), 7),
            "media_url": r["media_url"],
        }
        for r, lo, la in zip(rows, np.atleast_1d(lon), np.atleast_1d(lat), strict=True)
    ]


# ------------------------------------------------------------------------------------------------ POST
def parse_body(body: bytes, content_type: str) -> dict[str, str]:
    """The fields of a posted request: form-encoded (the GeoReport way) or a JSON object."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Open311Error(400, "the request body is not UTF-8") from exc
    if kind == "application/json":
        try:
            data = json.loads(text or "{}")
        except ValueError as exc:
            raise Open311Error(400, f"the request body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise Open311Error(400, "the JSON body is not an object of request fields")
        return {str(k): "" if v is None else str(v) for k, v in data.items() if not isinstance(v, (dict, list))}
    if kind in ("application/x-www-form-urlencoded", ""):
        return {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}
    raise Open311Error(400, f"content type {kind} is not form-encoded or JSON")


def _area(twin: Twin, margin_m: float) -> tuple[float, float, float, float] | None:
    """Bounding box of the twin's buildings and network assets (twin CRS), grown by the margin; None if empty."""
    row = twin.query(
        "SELECT min(x0), min(y0), max(x1), max(y1) FROM ("
        "SELECT ST_XMin(footprint) AS x0, ST_YMin(footprint) AS y0, ST_XMax(footprint) AS x1, "
        "ST_YMax(footprint) AS y1 FROM buildings WHERE footprint IS NOT NULL UNION ALL "
        "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM network_nodes "
        "WHERE geom IS NOT NULL UNION ALL "
        "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM network_links "
        "WHERE geom IS NOT NULL)"
    ).to_pylist()[0]
    values = list(row.values())
    if values[0] is None:
        return None
    return (values[0] - margin_m, values[1] - margin_m, values[2] + margin_m, values[3] + margin_m)


def _number(fields: Mapping[str, str], name: str) -> float | None:
    text = fields.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise Open311Error(400, f"{name} '{text}' is not a number (WGS84 degrees)") from exc
    if not np.isfinite(value):
        raise Open311Error(400, f"{name} '{text}' is not a number (WGS84 degrees)")
    return value


def submit_request(
    twin: Twin,
    fields: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    params: ReportIngestParams = DEFAULT_PARAMS,
    area: AreaParams = AreaParams(),
) -> list[dict[str, str]]:
    """Validate a posted request, store it in ``reports`` linked to its asset; return the GeoReport answer.

    Raises
    ------
    Open311Error
        400 for an unknown or missing service_code, no location, a position that is not a number, out of range
        or outside the twin's area (:class:`AreaParams`), a description too long.
    """
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required (see services.json)")
    service = twin.query(
        "SELECT service_code, service_name, group_name, keywords, description FROM open311_services "
        "WHERE service_code = ?",
        [code],
    ).to_pylist()
    if not service:
        raise Open311Error(400, f"service_code '{code}' was not found (see services.json)")
    lat, lon = _number(fields, "lat"), _number(fields, "long")
    address = fields.get("address_string", "").strip() or None
    if (lat is None) != (lon is None):
        raise Open311Error(400, "give both lat and long (WGS84 degrees), or address_string")
    if lat is None and address is None:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    x = y = float("nan")
    if lat is not None and lon is not None:
        if abs(lat) > 90 or abs(lon) > 180:
            raise Open311Error(400, f"lat {lat:g}, long {lon:g} are not WGS84 degrees")
        x, y = Transformer.from_crs("EPSG:4326", twin.crs, always_xy=True).transform(lon, lat)
        box = _area(twin, area.margin_m)
        if box is not None and not (box[0] <= x <= box[2] and box[1] <= y <= box[3]):
            raise Open311Error(
                400,
                f"lat {lat:g}, long {lon:g} is outside the area of this twin (more than {area.margin_m:g} m away)",
            )
    description = fields.get("description", "").strip() or None
    if description is not None and len(description) > _MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {_MAX_DESCRIPTION} characters")
    info = service[0]
    target = asset_target(
        code, [info["service_name"], info["group_name"], info["keywords"], info["description"]], params
    ) or asset_target(None, [description], params)
    report_id = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    has = not np.isnan(x)
    table = pa.table(
        {
            "report_id": [report_id],
            "x": pa.array([x], pa.float64(), mask=np.array([not has])),
            "y": pa.array([y], pa.float64(), mask=np.array([not has])),
            "target": pa.array([f"{target.network_kind}/{target.asset_kind}" if target else None], pa.string()),
        }
    )
    asset_kind, asset_id, distance = link_to_assets(twin, table, params, params.link_distance_m)
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO reports (report_id, service_code, service_name, description, status, requested_at, "
            "updated_at, location, address, media_url, asset_kind, asset_id, asset_distance_m) VALUES "
            "(?, ?, ?, ?, 'open', ?, ?, CASE WHEN ? THEN ST_Point(?, ?) END, ?, ?, ?, ?, ?)",
            [
                report_id,
                code,
                info["service_name"],
                description,
                now,
                now,
                has,
                x if has else None,
                y if has else None,
                address,
                fields.get("media_url", "").strip() or None,
                asset_kind[0],
                asset_id[0],
                None if np.isnan(distance[0]) else float(distance[0]),
            ],
        )
    dropped = sorted(k for k in fields if k not in _ACCEPTED and k != "api_key")
    notice = "Thank you: your request is recorded."
    if dropped:
        notice += f" Not stored: {', '.join(dropped)}."
    return [{"service_request_id": report_id, "service_notice": notice}]


# ------------------------------------------------------------------------------------------------ routing
def handle(twin: Twin, method: str, path: str, body: bytes = b"", content_type: str = "") -> Response:
    """Answer one HTTP request below :data:`PREFIX` (``path`` with its query string)."""
    parts = urllib.parse.urlsplit(path)
    route = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX) else None
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=False)
    try:
        if route == "services.json" and method == "GET":
            return _json(200, get_services(twin))
        if route == "requests.json" and method == "GET":
            return _json(200, get_requests(twin, query))
        if route == "requests.json" and method == "POST":
            return _json(201, submit_request(twin, parse_body(body, content_type)))
        if route is not None and route.startswith("requests/") and route.endswith(".json") and method == "GET":
            rid = urllib.parse.unquote(route[len("requests/") : -len(".json")])
            found = get_requests(twin, {"service_request_id": [rid]}, limit=1)
            if not found:
                raise Open311Error(404, f"no service request '{rid}'")
            return _json(200, found)
        raise Open311Error(404 if method == "GET" else 405, f"no {method} {parts.path} (see services.json)")
    except Open311Error as exc:
        return exc.response()
