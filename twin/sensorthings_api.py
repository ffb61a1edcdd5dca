"""A read-only OGC SensorThings API v1.1 over the twin, so SensorThings clients and dashboards read it.

OGC 18-088 (SensorThings API Part 1: Sensing, v1.1). The twin's tables map onto the data model as follows:

==================  ===========================================================================================
Thing               an asset that carries sensors (``sensors.asset_kind:asset_id``, e.g. ``building:B12``), or
                    ``sensor:<id>`` for a sensor attached to nothing
Location            the position of the Thing (its first sensor's point), in WGS84 GeoJSON
Datastream          a sensor (``sensors.sensor_id``): unit of measurement (UCUM), observed property, thing
Sensor              the device of that sensor (same id)
ObservedProperty    the sensor kind (temperature, co2, electricity_meter, ...)
Observation         a reading (``readings``): ``phenomenonTime`` = ``resultTime`` = ``time_utc``; id
                    ``<sensor_id>@<ISO time>``
FeatureOfInterest   the sensor's position (same id as the sensor)
==================  ===========================================================================================

Query options: ``$top`` (default 100, at most 10,000), ``$skip``, ``$count``, ``$orderby``, ``$select``,
``$filter`` (``eq ne gt ge lt le``, ``and or not``, parentheses; on ``phenomenonTime``, ``resultTime``,
``result``, ``@iot.id``, ``name`` and ``Datastream/@iot.id``) and ``$expand`` of the related entities, with
``Observations($top=n;$orderby=phenomenonTime desc)`` answered from ``sensor_latest`` for ``n = 1`` so the latest
value of every datastream never scans the history. Collections page with ``@iot.nextLink``. Errors have the
shape ``{"code": 400, "type": "error", "message": ...}`` and never a stack trace.

:func:`handle` is the whole API as a pure function of the twin and the request; the server mounts it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from twin.store import Twin

__all__ = ["MAX_TOP", "PREFIX", "StaError", "handle"]

PREFIX = "/v1.1"
MAX_TOP = 10_000
DEFAULT_TOP = 100
_UCUM = "https://ucum.org/ucum#"
_OBSERVATION_TYPE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"

# Definitions of the observed properties (QUDT quantity kinds where one exists).
_PROPERTY_DEFINITIONS = {
    "temperature": "http://qudt.org/vocab/quantitykind/Temperature",
    "humidity": "http://qudt.org/vocab/quantitykind/RelativeHumidity",
    "co2": "http://qudt.org/vocab/quantitykind/MoleFraction",
    "occupancy": "https://twin.invalid/def/occupancy",
    "electricity_meter": "http://qudt.org/vocab/quantitykind/Energy",
    "gas_meter": "http://qudt.org/vocab/quantitykind/Volume",
    "water_flow": "http://qudt.org/vocab/quantitykind/VolumeFlowRate",
    "water_pressure": "http://qudt.org/vocab/quantitykind/Pressure",
    "streetlight_status": "https://twin.invalid/def/streetlight-status",
    "traffic_count": "https://twin.invalid/def/vehicle-count",
    "air_quality": "https://twin.invalid/def/air-quality-index",
    "parking": "https://twin.invalid/def/parking-occupancy",
}


class StaError(Exception):
    """A request the API refuses: HTTP status and message, answered in the standard error shape."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "type": "error", "message": self.message}


# ------------------------------------------------------------------------------------------------ entity sets
@dataclass(frozen=True)
class _Set:
    """One entity set: the SQL of its rows (normalised columns), its filterable fields and how a row is shown."""

    name: str
    sql: str
    fields: Mapping[str, str]  # $filter / $orderby name -> SQL column
    default_order: str
    render: Callable[[dict[str, Any], str], dict[str, Any]]


def _thing_id_sql(alias: str = "s") -> str:
    return (
        f"CASE WHEN {alias}.asset_id IS NULL THEN 'sensor:' || {alias}.sensor_id "
        f"ELSE {alias}.asset_kind || ':' || {alias}.asset_id END"
    )


def _self(base: str, set_name: str, entity_id: str) -> str:
    return f"{base}{PREFIX}/{set_name}({_quote(entity_id)})"


_PLAIN_ID = re.compile(r"[A-Za-z0-9@:_.~-]*")


def _quote(entity_id: str) -> str:
    if _PLAIN_ID.fullmatch(entity_id):  # the common case, without the cost of percent-encoding
        return f"'{entity_id}'"
    return "'" + urllib.parse.quote(entity_id.replace("'", "''"), safe="@:-_.~") + "'"


def _links(base: str, set_name: str, entity_id: str, navigations: tuple[str, ...]) -> dict[str, Any]:
    link = _self(base, set_name, entity_id)
    out: dict[str, Any] = {"@iot.id": entity_id, "@iot.selfLink": link}
    for navigation in navigations:
        out[f"{navigation}@iot.navigationLink"] = f"{link}/{navigation}"
    return out


def _render_thing(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        **_links(base, "Things", row["id"], ("Locations", "HistoricalLocations", "Datastreams")),
        "name": row["name"],
        "description": row["description"],
        "properties": {"asset_kind": row["asset_kind"], "asset_id": row["asset_id"]},
    }


def _point(geojson: str | None) -> dict[str, Any] | None:
    return json.loads(geojson) if geojson else None


def _render_location(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        **_links(base, "Locations", row["id"], ("Things", "HistoricalLocations")),
        "name": row["name"],
        "description": row["description"],
        "encodingType": "application/geo+json",
        "location": _point(row["geojson"]),
    }


def _iso(column: str) -> str:
    """SQL giving the ISO 8601 UTC text of a TIMESTAMP column, millisecond precision (vectorised in DuckDB)."""
    return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%gZ')"


def _render_datastream(row: dict[str, Any], base: str) -> dict[str, Any]:
    # Only the end of the period is known without scanning the history (sensor_latest): it is given as
    # resultTime; phenomenonTime, optional in the standard, is left out rather than guessed.
    return {
        **_links(base, "Datastreams", row["id"], ("Thing", "Sensor", "ObservedProperty", "Observations")),
        "name": row["name"],
        "description": f"{row['kind']} sensor {row['id']}",
        "unitOfMeasurement": {"name": row["unit"], "symbol": row["unit"], "definition": _UCUM + row["unit"]},
        "observationType": _OBSERVATION_TYPE,
        "resultTime": row["last_iso"],
        "properties": {"kind": row["kind"], "asset_kind": row["asset_kind"], "asset_id": row["asset_id"]},
    }


def _render_sensor(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        **_links(base, "Sensors", row["id"], ("Datastreams",)),
        "name": row["name"],
        "description": f"{row['kind']} sensor {row['id']}",
        "encodingType": "text/plain",
        "metadata": f"{row['kind']} sensor, readings in {row['unit']} (UCUM)",
    }


def _render_property(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        **_links(base, "ObservedProperties", row["id"], ("Datastreams",)),
        "name": row["id"],
        "definition": _PROPERTY_DEFINITIONS.get(row["id"], f"https://twin.invalid/def/{row['id']}"),
        "description": f"{row['id'].replace('_', ' ')} as measured by the twin's sensors",
    }


def _render_observation(row: dict[str, Any], base: str) -> dict[str, Any]:
    time = row["iso"]
    return {
        **_links(base, "Observations", f"{row['sensor_id']}@{time}", ("Datastream", "FeatureOfInterest")),
        "phenomenonTime": time,
        "resultTime": time,
        "result": row["value"],
    }


def _render_feature(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        **_links(base, "FeaturesOfInterest", row["id"], ("Observations",)),
        "name": row["name"],
        "description": f"position of sensor {row['id']}",
        "encodingType": "application/geo+json",
        "feature": _point(row["geojson"]),
    }


def _sets(crs: str, readings: str) -> dict[str, _Set]:
    wgs84 = f"ST_AsGeoJSON(ST_Transform(s.location, '{crs}', 'EPSG:4326', always_xy := true))"
    thing_id = _thing_id_sql()
    things_sql = f"""
        SELECT DISTINCT ON (id) {thing_id} AS id, s.asset_kind, s.asset_id,
               coalesce(s.asset_kind || ' ' || s.asset_id, 'sensor ' || s.sensor_id) AS name,
               coalesce('the ' || replace(s.asset_kind, '_', ' ') || ' ' || s.asset_id || ' of the twin',
                        'sensor ' || s.sensor_id || ', attached to no asset') AS description,
               {wgs84} AS geojson
        FROM sensors s ORDER BY id, s.sensor_id"""
    sensors_sql = f"""
        SELECT s.sensor_id AS id, coalesce(s.name, s.sensor_id) AS name, s.kind, s.unit_ucum AS unit,
               s.asset_kind, s.asset_id, {thing_id} AS thing_id, {_iso("l.time_utc")} AS last_iso
        FROM sensors s LEFT JOIN sensor_latest l USING (sensor_id)"""
    features_sql = f"""
        SELECT s.sensor_id AS id, coalesce(s.name, s.sensor_id) AS name, {wgs84} AS geojson FROM sensors s"""
    by_id = {"@iot.id": "id", "id": "id", "name": "name"}
    return {
        "Things": _Set("Things", things_sql, by_id, "id", _render_thing),
        "Locations": _Set("Locations", things_sql, by_id, "id", _render_location),
        "HistoricalLocations": _Set(
            "HistoricalLocations", "SELECT NULL::VARCHAR AS id WHERE false", {"@iot.id": "id"}, "id", _render_thing
        ),
        "Datastreams": _Set(
            "Datastreams",
            sensors_sql,
            {**by_id, "Thing/@iot.id": "thing_id", "ObservedProperty/@iot.id": "kind"},
            "id",
            _render_datastream,
        ),
        "Sensors": _Set("Sensors", sensors_sql, by_id, "id", _render_sensor),
        "ObservedProperties": _Set(
            "ObservedProperties",
            "SELECT DISTINCT kind AS id, kind AS name FROM sensors",
            by_id,
            "id",
            _render_property,
        ),
        "FeaturesOfInterest": _Set("FeaturesOfInterest", features_sql, by_id, "id", _render_feature),
        "Observations": _Set(
            "Observations",
            f"SELECT sensor_id, time_utc, value, {_iso('time_utc')} AS iso FROM {readings}",
            {
                "phenomenonTime": "time_utc",
                "resultTime": "time_utc",
                "result": "value",
                "Datastream/@iot.id": "sensor_id",
            },
            "time_utc, sensor_id",
            _render_observation,
        ),
    }


# Navigation: (from set, navigation) -> (target set, SQL condition on the target given the source id ?)
_NAVIGATION: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("Things", "Datastreams"): ("Datastreams", "thing_id = ?", False),
    ("Things", "Locations"): ("Locations", "id = ?", False),
    ("Things", "HistoricalLocations"): ("HistoricalLocations", "id = ?", False),
    ("Locations", "Things"): ("Things", "id = ?", False),
    ("Locations", "HistoricalLocations"): ("HistoricalLocations", "id = ?", False),
    ("Datastreams", "Observations"): ("Observations", "sensor_id = ?", False),
    ("Datastreams", "Thing"): ("Things", "id = (SELECT thing_id FROM ({sensors}) WHERE id = ?)", True),
    ("Datastreams", "Sensor"): ("Sensors", "id = ?", True),
    ("Datastreams", "ObservedProperty"): (
        "ObservedProperties",
        "id = (SELECT kind FROM sensors WHERE sensor_id = ?)",
        True,
    ),
    ("Sensors", "Datastreams"): ("Datastreams", "id = ?", False),
    ("ObservedProperties", "Datastreams"): ("Datastreams", "kind = ?", False),
    ("FeaturesOfInterest", "Observations"): ("Observations", "sensor_id = ?", False),
    ("Observations", "Datastream"): ("Datastreams", "id = ?", True),
    ("Observations", "FeatureOfInterest"): ("FeaturesOfInterest", "id = ?", True),
}


# ------------------------------------------------------------------------------------------------ the request
_PATH = re.compile(r"^/(?P<set>[A-Za-z]+)(?:\((?P<id>'(?:[^']|'')*'|[^)]*)\))?(?:/(?P<nav>[A-Za-z]+))?/?$")


def handle(twin: Twin, path: str, query: str = "", base_url: str = "") -> tuple[int, dict[str, Any]]:
    """Answer one GET request: ``path`` below the server root (``/v1.1/...``), its query string, and the
    server's base URL (for self and next links). Returns the HTTP status and the JSON body."""
    try:
        return 200, _answer(twin, path, query, base_url.rstrip("/"))
    except StaError as exc:
        return exc.code, exc.body()


def _answer(twin: Twin, path: str, query: str, base: str) -> dict[str, Any]:
    if not path.startswith(PREFIX):
        raise StaError(404, f"unknown path {path}: the API lives under {PREFIX}")
    rest = urllib.parse.unquote(path[len(PREFIX) :])
    readings = "readings_all" if "readings_all" in _relations(twin) else "readings"
    sets = _sets(twin.crs, readings)
    if rest in ("", "/"):
        return {"value": [{"name": name, "url": f"{base}{PREFIX}/{name}"} for name in sets]}
    match = _PATH.match(rest)
    if match is None or match["set"] not in sets:
        raise StaError(404, f"unknown entity set or path '{rest}': use one of {', '.join(sets)}")
    options = _options(query)
    entity_set = sets[match["set"]]
    if match["id"] is None:
        if match["nav"] is not None:
            raise StaError(400, f"'{rest}': navigate from one entity, e.g. {match['set']}('id')/{match['nav']}")
        return _collection(twin, sets, entity_set, [], [], options, base, f"{base}{PREFIX}/{match['set']}")
    entity_id = _entity_id(match["id"])
    if match["set"] == "Observations":
        sensor_id, _, time = entity_id.rpartition("@")
        where, params = ["sensor_id = ? AND time_utc = ?::TIMESTAMP"], [sensor_id, time.rstrip("Z")]
        if not sensor_id or not _is_time(time):
            raise StaError(404, f"no Observation '{entity_id}': ids are <datastream id>@<ISO time>")
    else:
        where, params = ["id = ?"], [entity_id]
    if match["nav"] is None:
        page = _rows(twin, entity_set, where, params, options | {"$top": 1, "$skip": 0})
        if not page:
            raise StaError(
                404,
                f"no entity {match['set']}({_quote(entity_id)})",
            )
        return _shown(twin, sets, entity_set, page[0], options, base)
    key = (match["set"], match["nav"])
    if key not in _NAVIGATION:
        raise StaError(404, f"{match['set']} have no navigation '{match['nav']}'")
    if not _rows(twin, entity_set, where, params, {"$top": 1, "$skip": 0}):
        raise StaError(404, f"no entity {match['set']}({_quote(entity_id)})")
    target_name, condition, single = _NAVIGATION[key]
    target = sets[target_name]
    source_id = entity_id.rpartition("@")[0] if match["set"] == "Observations" else entity_id
    condition = condition.replace("{sensors}", sets["Datastreams"].sql)
    if single:
        page = _rows(twin, target, [condition], [source_id], {"$top": 1, "$skip": 0})
        if not page:
            raise StaError(404, f"{match['set']}({_quote(entity_id)}) has no {match['nav']}")
        return _shown(twin, sets, target, page[0], options, base)
    link = f"{base}{PREFIX}/{match['set']}({_quote(entity_id)})/{match['nav']}"
    return _collection(twin, sets, target, [condition], [source_id], options, base, link)


def _relations(twin: Twin) -> set[str]:
    names = twin.query(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() OR temporary"
    ).column(0)
    return set(names.to_pylist())


def _entity_id(text: str) -> str:
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    return text


def _is_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------------ options
def _options(query: str) -> dict[str, Any]:
    options: dict[str, Any] = {"$top": DEFAULT_TOP, "$skip": 0}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name in ("$top", "$skip"):
            if not re.fullmatch(r"\d{1,12}", value):
                raise StaError(400, f"{name}={value}: give a whole number")
            options[name] = int(value)
        elif name == "$count":
            if value not in ("true", "false"):
                raise StaError(400, f"$count={value}: give true or false")
            options[name] = value == "true"
        elif name in ("$filter", "$orderby", "$select", "$expand", "$resultFormat"):
            options[name] = value
        else:
            raise StaError(400, f"unknown query option '{name}'")
    if options["$top"] > MAX_TOP:
        raise StaError(400, f"$top={options['$top']} is more than this server gives at once ({MAX_TOP}): page it")
    return options


def _order_sql(entity_set: _Set, orderby: str | None) -> str:
    if not orderby:
        return entity_set.default_order
    parts = []
    for item in orderby.split(","):
        words = item.split()
        if not words or len(words) > 2 or words[0] not in entity_set.fields:
            raise StaError(400, f"$orderby '{item.strip()}': order by one of {', '.join(entity_set.fields)}")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise StaError(400, f"$orderby '{item.strip()}': the direction is asc or desc")
        parts.append(f"{entity_set.fields[words[0]]} {direction.upper()}")
    return ", ".join([*parts, entity_set.default_order])


def _rows(
    twin: Twin, entity_set: _Set, condition: list[str], params: list[Any], options: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows of a set matching the conditions and $filter, ordered and paged."""
    where, values = _where(entity_set, condition, params, options.get("$filter"))
    order = _order_sql(entity_set, options.get("$orderby"))
    top, skip = int(options.get("$top", DEFAULT_TOP)), int(options.get("$skip", 0))
    sql = f"SELECT * FROM ({entity_set.sql}) {where} ORDER BY {order} LIMIT {top} OFFSET {skip}"
    rows: list[dict[str, Any]] = twin.query(sql, values).to_pylist()
    return rows


def _where(
    entity_set: _Set, condition: list[str], params: list[Any], filter_text: str | None
) -> tuple[str, list[Any]]:
    clauses = list(condition)
    if filter_text:
        sql, filter_params = _Filter(filter_text, entity_set.fields).parse()
        clauses.append(sql)
        params = params + filter_params
    return ("WHERE " + " AND ".join(f"({c})" for c in clauses) if clauses else ""), params


def _collection(
    twin: Twin,
    sets: dict[str, _Set],
    entity_set: _Set,
    condition: list[str],
    params: list[Any],
    options: dict[str, Any],
    base: str,
    link: str,
) -> dict[str, Any]:
    top = options["$top"]
    rows = _rows(twin, entity_set, condition, params, options | {"$top": top + 1})
    body: dict[str, Any] = {}
    if options.get("$count"):
        where, values = _where(entity_set, condition, params, options.get("$filter"))
        count = twin.query(f"SELECT count(*) AS n FROM ({entity_set.sql}) {where}", values).column(0)[0].as_py()
        body["@iot.count"] = count
    if len(rows) > top:
        rows = rows[:top]
        kept = {k: v for k, v in options.items() if k not in ("$top", "$skip") and v not in (None, False)}
        kept = {k: ("true" if v is True else v) for k, v in kept.items()}
        next_query = urllib.parse.urlencode(
            {**kept, "$top": top, "$skip": options["$skip"] + top}, safe="$'(),;=/ "
        )
        body["@iot.nextLink"] = f"{link}?{next_query}"
    body["value"] = _expanded(twin, sets, entity_set, rows, options, base)
    return body


def _shown(
    twin: Twin, sets: dict[str, _Set], entity_set: _Set, row: dict[str, Any], options: dict[str, Any], base: str
) -> dict[str, Any]:
    return _expanded(twin, sets, entity_set, [row], options, base)[0]


def _wanted(select: str | None) -> frozenset[str] | None:
    return None if not select else frozenset(s.strip() for s in select.split(","))


def _select(entity: dict[str, Any], wanted: frozenset[str] | None) -> dict[str, Any]:
    if wanted is None:
        return entity
    unknown = wanted - {"id" if k == "@iot.id" else k for k in entity}
    if unknown:
        raise StaError(400, f"$select names unknown properties: {', '.join(sorted(unknown))}")
    return {k: v for k, v in entity.items() if ("id" if k == "@iot.id" else k) in wanted}


_EXPAND = re.compile(r"^(?P<nav>[A-Za-z]+)(?:\((?P<opts>[^()]*)\))?$")


def _expanded(
    twin: Twin,
    sets: dict[str, _Set],
    entity_set: _Set,
    rows: list[dict[str, Any]],
    options: dict[str, Any],
    base: str,
) -> list[dict[str, Any]]:
    wanted = _wanted(options.get("$select"))
    entities = [_select(entity_set.render(row, base), wanted) for row in rows]
    expand = options.get("$expand")
    if not expand or not rows:
        return entities
    for item in _split_top_level(expand):
        match = _EXPAND.match(item.strip())
        if match is None or (entity_set.name, match["nav"]) not in _NAVIGATION:
            raise StaError(400, f"$expand '{item}': {entity_set.name} cannot expand that")
        nested = _options("&".join(o for o in (match["opts"] or "").split(";") if o))
        target_name, condition, single = _NAVIGATION[(entity_set.name, match["nav"])]
        target = sets[target_name]
        latest = (
            target_name == "Observations"
            and nested["$top"] == 1
            and (nested.get("$orderby") or "").replace(" ", "").lower() in ("phenomenontimedesc", "resulttimedesc")
            and not nested.get("$filter")
        )
        ids = [r["id"] if "id" in r else r["sensor_id"] for r in rows]
        if latest:  # the latest value of each datastream: one lookup in sensor_latest, never the history
            found = twin.query(
                f"SELECT l.sensor_id, l.time_utc, l.value, {_iso('l.time_utc')} AS iso FROM sensor_latest l "
                "SEMI JOIN (SELECT unnest(?::VARCHAR[]) AS id) i ON l.sensor_id = i.id",
                [ids],
            ).to_pylist()
            by_id = {r["sensor_id"]: [target.render(r, base)] for r in found}
            for entity, entity_id in zip(entities, ids, strict=True):
                entity[match["nav"]] = by_id.get(entity_id, [])
            continue
        for entity, row, entity_id in zip(entities, rows, ids, strict=True):
            source_id = row.get("sensor_id", entity_id) if entity_set.name == "Observations" else entity_id
            sql_condition = condition.replace("{sensors}", sets["Datastreams"].sql)
            found_rows = _rows(twin, target, [sql_condition], [source_id], nested)
            shown = [_select(target.render(r, base), _wanted(nested.get("$select"))) for r in found_rows]
            entity[match["nav"]] = (shown[0] if shown else None) if single else shown
    return entities


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


# ------------------------------------------------------------------------------------------------ $filter
_TOKEN = re.compile(
    r"\s*(?:(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<paren>[()])"
    r"|(?P<word>[A-Za-z@][A-Za-z@./]*))"
)
_COMPARISONS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


class _Filter:
    """A recursive-descent parser of the $filter subset, producing parameterised SQL (never pasted values)."""

    def __init__(self, text: str, fields: Mapping[str, str]) -> None:
        self.text = text
        self.fields = fields
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise StaError(
                    400, f"$filter: cannot read '{text[position : position + 20]}' at character {position + 1}"
                )
            kind = match.lastgroup or ""
            self.tokens.append((kind, match[kind], position + 1))
            position = match.end()
        self.index = 0
        self.params: list[Any] = []

    def parse(self) -> tuple[str, list[Any]]:
        if not self.tokens:
            raise StaError(400, "$filter is empty")
        sql = self._or()
        if self.index != len(self.tokens):
            _, value, at = self.tokens[self.index]
            raise StaError(400, f"$filter: unexpected '{value}' at character {at}")
        return sql, self.params

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> tuple[str, str, int]:
        token = self._peek()
        if token is None:
            raise StaError(400, f"$filter '{self.text}' ends too early")
        self.index += 1
        return token

    def _or(self) -> str:
        sql = self._and()
        while (t := self._peek()) is not None and t[0] == "word" and t[1] == "or":
            self.index += 1
            sql = f"({sql}) OR ({self._and()})"
        return sql

    def _and(self) -> str:
        sql = self._not()
        while (t := self._peek()) is not None and t[0] == "word" and t[1] == "and":
            self.index += 1
            sql = f"({sql}) AND ({self._not()})"
        return sql

    def _not(self) -> str:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1] == "not":
            self.index += 1
            return f"NOT ({self._not()})"
        return self._comparison()

    def _comparison(self) -> str:
        kind, value, at = self._take()
        if kind == "paren" and value == "(":
            sql = self._or()
            closing = self._take()
            if closing[1] != ")":
                raise StaError(400, f"$filter: ')' expected at character {closing[2]}")
            return sql
        if kind != "word" or value not in self.fields:
            raise StaError(
                400,
                f"$filter: '{value}' at character {at} is not a property to filter on "
                f"(use {', '.join(self.fields)})",
            )
        column = self.fields[value]
        op_kind, op, op_at = self._take()
        if op_kind != "word" or op not in _COMPARISONS:
            raise StaError(400, f"$filter: '{op}' at character {op_at} is not one of {', '.join(_COMPARISONS)}")
        literal_kind, literal, literal_at = self._take()
        if literal_kind == "time":
            parsed = dt.datetime.fromisoformat(literal.replace("Z", "+00:00"))
            self.params.append(parsed.astimezone(dt.UTC).replace(tzinfo=None))
        elif literal_kind == "number":
            self.params.append(float(literal))
        elif literal_kind == "string":
            self.params.append(literal[1:-1].replace("''", "'"))
        else:
            raise StaError(
                400, f"$filter: '{literal}' at character {literal_at} is not a value (time, number, 'text')"
            )
        return f"{column} {_COMPARISONS[op]} ?"
