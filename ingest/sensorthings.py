"""OGC SensorThings API JSON into the twin: Things, Locations, Datastreams and Observations -> sensors, readings.

SensorThings API Part 1 Sensing (OGC 15-078r6 v1.0, 18-088 v1.1; ``../shared/reference/methods.md`` section 4).
The file is a Things collection with its related entities expanded, as a server returns for
``/v1.1/Things?$expand=Locations,Datastreams($expand=ObservedProperty,Observations)``: either
``{"value": [Thing, ...]}`` or a bare list of Things.

- Each **Datastream** becomes a sensor ``sta-<@iot.id>`` (``id_prefix`` changes the prefix): its unit is
  ``unitOfMeasurement.symbol`` (UCUM, as methods.md recommends; a few common non-UCUM symbols such as ``°C``,
  ``ppm``, ``kWh`` are translated), its kind is read from the ObservedProperty name or definition
  (:data:`KIND_KEYWORDS`, or ``kinds`` per Datastream id or ObservedProperty name), its position is the
  Thing's GeoJSON Location (WGS84, converted to the twin CRS). A Datastream whose kind cannot be told is skipped
  with a warning (``sensors.kind`` has a closed vocabulary).
- Each **Observation** becomes a reading at the start of its ``phenomenonTime`` (an instant, or the start of an
  interval ``start/end``). It goes through the same validation as :func:`ingest.sensors.ingest_readings`:
  a non-numeric ``result`` or a time far in the future lands in ``rejected_readings`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
from pyproj import Transformer

from ingest.sensors import DEFAULT_PARAMS, SENSOR_KINDS, _registered, _Source, _validated_sql, _write_batch
from twin.errors import TwinError
from twin.imports import ImportReport, already_imported, file_sha256, now_utc, record_import, require_file
from twin.store import Twin

__all__ = ["KIND_KEYWORDS", "UNIT_SYMBOLS", "ingest_sensorthings"]

KIND_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "temperature": "temperature",
        "humidity": "humidity",
        "co2": "co2",
        "carbon dioxide": "co2",
        "occupancy": "occupancy",
        "presence": "occupancy",
        "electricity": "electricity_meter",
        "electrical energy": "electricity_meter",
        "active energy": "electricity_meter",
        "natural gas": "gas_meter",
        "gas consumption": "gas_meter",
        "gas meter": "gas_meter",
        "water flow": "water_flow",
        "flow rate": "water_flow",
        "water pressure": "water_pressure",
        "traffic": "traffic_count",
        "vehicle": "traffic_count",
        "parking": "parking",
        "pm10": "air_quality",
        "pm2.5": "air_quality",
        "no2": "air_quality",
        "ozone": "air_quality",
        "air quality": "air_quality",
    }
)
"""ObservedProperty name/definition keyword -> ``sensors.kind`` (first whole-word match in this order). The
keywords are specific on purpose: a bare "pressure" would take a sound pressure level for a water pressure."""

UNIT_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {
        "°C": "Cel",
        "degC": "Cel",
        "ºC": "Cel",
        "ppm": "[ppm]",
        "kWh": "kW.h",
        "Wh": "W.h",
        "µg/m³": "ug/m3",
        "μg/m³": "ug/m3",
        "µg/m3": "ug/m3",
        "m³": "m3",
        "m³/h": "m3/h",
        "l/s": "L/s",
        "lux": "lx",
    }
)
"""Common non-UCUM unit symbols -> UCUM code; a symbol not listed is kept as given."""


def _kind(datastream: dict[str, Any], kinds: Mapping[str, str]) -> str | None:
    ds_id = str(datastream.get("@iot.id"))
    prop = datastream.get("ObservedProperty") or {}
    name = str(prop.get("name") or "")
    if ds_id in kinds:
        return kinds[ds_id]
    if name in kinds:
        return kinds[name]
    text = " ".join(str(prop.get(k) or "") for k in ("name", "definition")).lower()
    text += " " + str(datastream.get("name") or "").lower()
    for word, kind in KIND_KEYWORDS.items():
        if re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text):
            return kind
    return None


def _point(thing: dict[str, Any]) -> tuple[float, float] | None:
    for location in thing.get("Locations") or []:
        geo = location.get("location") or {}
        if geo.get("type") == "Feature":
            geo = geo.get("geometry") or {}
        if geo.get("type") == "Point" and len(geo.get("coordinates") or []) >= 2:
            lon, lat = geo["coordinates"][:2]
            return float(lon), float(lat)
    return None


def ingest_sensorthings(
    twin: Twin,
    path: str | Path,
    *,
    id_prefix: str = "sta-",
    kinds: Mapping[str, str] | None = None,
    future_margin: dt.timedelta = DEFAULT_PARAMS.future_margin,
) -> ImportReport:
    """Import a SensorThings API Things collection (expanded) as sensors and readings.

    Returns
    -------
    ImportReport
        ``counts``: ``things``, ``sensors`` (Datastreams stored), ``datastreams_skipped``, and the readings
        counts of :func:`ingest.sensors.ingest_readings` (``rows``, ``readings``, ``rejected``...).

    Raises
    ------
    TwinError
        For a file that is not JSON, not a Things collection, a Datastream without ``@iot.id``, or an unknown
        kind given in ``kinds``; nothing is written then.
    """
    kinds = dict(kinds or {})
    bad = {k: v for k, v in kinds.items() if v not in SENSOR_KINDS}
    if bad:
        raise TwinError(f"unknown sensor kind(s) {bad}", f"kinds are {', '.join(SENSOR_KINDS)}")
    file = require_file(path, "SensorThings JSON")
    report = ImportReport(kind="sensorthings", file_path=str(file), sha256=file_sha256(file))
    if already_imported(twin, report.kind, report.sha256) is not None:
        report.unchanged = True
        return report
    started_at = now_utc()
    try:
        data = json.loads(file.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise TwinError(f"{file} is not UTF-8 text", "give SensorThings JSON") from exc
    except json.JSONDecodeError as exc:
        raise TwinError(
            f"{file} line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})",
            "give a SensorThings Things collection",
        ) from exc
    things = data.get("value") if isinstance(data, dict) else data
    if not isinstance(things, list) or not all(isinstance(t, dict) for t in things):
        raise TwinError(
            f"{file}: not a SensorThings Things collection",
            'give {"value": [Thing, ...]} with Locations and Datastreams expanded',
        )

    sensors: dict[str, list[Any]] = {
        k: [] for k in ("sensor_id", "kind", "unit_ucum", "name", "lon", "lat", "attributes")
    }
    obs: dict[str, list[Any]] = {"row_ref": [], "sensor_id": [], "time": [], "value": []}
    skipped = 0
    for t_index, thing in enumerate(things):
        point = _point(thing)
        for datastream in thing.get("Datastreams") or []:
            if not isinstance(datastream, dict) or datastream.get("@iot.id") is None:
                raise TwinError(
                    f"{file} Thing {thing.get('@iot.id', t_index)}: a Datastream has no @iot.id",
                    "export the Datastreams with their @iot.id",
                )
            ds_id = str(datastream["@iot.id"])
            kind = _kind(datastream, kinds)
            if kind is None:
                skipped += 1
                prop = (datastream.get("ObservedProperty") or {}).get("name")
                report.warn(
                    f"Datastream {ds_id}",
                    f"kind of '{prop or datastream.get('name')}' unknown: skipped (give it with kinds=...)",
                )
                continue
            unit = datastream.get("unitOfMeasurement") or {}
            symbol = str(unit.get("symbol") or "").strip()
            sensors["sensor_id"].append(f"{id_prefix}{ds_id}")
            sensors["kind"].append(kind)
            sensors["unit_ucum"].append(UNIT_SYMBOLS.get(symbol, symbol) or "1")
            sensors["name"].append(datastream.get("name"))
            sensors["lon"].append(point[0] if point else None)
            sensors["lat"].append(point[1] if point else None)
            sensors["attributes"].append(
                json.dumps(
                    {
                        "sensorthings_datastream_id": ds_id,
                        "sensorthings_thing_id": str(thing.get("@iot.id")),
                        "thing_name": thing.get("name"),
                        "observed_property": (datastream.get("ObservedProperty") or {}).get("name"),
                        "unit_definition": unit.get("definition"),
                    },
                    ensure_ascii=False,
                )
            )
            for o_index, observation in enumerate(datastream.get("Observations") or []):
                phenomenon = observation.get("phenomenonTime") or observation.get("resultTime")
                result = observation.get("result")
                obs["row_ref"].append(f"Datastream {ds_id} Observation {observation.get('@iot.id', o_index)}")
                obs["sensor_id"].append(f"{id_prefix}{ds_id}")
                obs["time"].append(str(phenomenon).split("/")[0] if phenomenon is not None else None)
                obs["value"].append(
                    None
                    if result is None
                    else json.dumps(result)
                    if isinstance(result, dict | list)
                    else str(result)
                )
    if len(set(sensors["sensor_id"])) != len(sensors["sensor_id"]):
        raise TwinError(f"{file}: a Datastream @iot.id appears twice", "give each Datastream once")

    lon = np.array([np.nan if v is None else v for v in sensors["lon"]], dtype=float)
    lat = np.array([np.nan if v is None else v for v in sensors["lat"]], dtype=float)
    x, y = Transformer.from_crs("EPSG:4326", twin.crs, always_xy=True).transform(lon, lat)
    has = ~np.isnan(lon)
    sensor_table = pa.table(
        {
            "sensor_id": pa.array(sensors["sensor_id"], pa.string()),
            "kind": pa.array(sensors["kind"], pa.string()),
            "unit_ucum": pa.array(sensors["unit_ucum"], pa.string()),
            "name": pa.array(sensors["name"], pa.string()),
            "x": pa.array(np.asarray(x, dtype=float), mask=~has),
            "y": pa.array(np.asarray(y, dtype=float), mask=~has),
            "attributes": pa.array(sensors["attributes"], pa.string()),
        }
    )
    obs_table = pa.table({k: pa.array(v, pa.string()) for k, v in obs.items()})
    source = _Source(
        relation="__twin_sta_obs",
        sensor="sensor_id",
        time='"time"',
        time_type="VARCHAR",
        value='"value"',
        value_type="VARCHAR",
        unit=None,
        row_ref="row_ref",
    )
    with (
        twin.write() as cur,
        _registered(cur, "__twin_sta_sensors", sensor_table),
        _registered(cur, "__twin_sta_obs", obs_table),
    ):
        cur.execute(
            "INSERT OR REPLACE INTO sensors (sensor_id, kind, unit_ucum, name, location, attributes) "
            "SELECT sensor_id, kind, unit_ucum, name, CASE WHEN x IS NOT NULL THEN ST_Point(x, y) END, "
            "attributes::JSON FROM __twin_sta_sensors"
        )
        counts = _write_batch(
            cur, _validated_sql(source, None, started_at + future_margin), str(file), started_at, report
        )
        report.counts = {
            "things": len(things),
            "sensors": sensor_table.num_rows,
            "datastreams_skipped": skipped,
            **{k: v for k, v in counts.items() if k != "sensors"},
            "sensors_updated": counts["sensors"],
        }
        record_import(cur, report, started_at)
        cur.execute("UPDATE rejected_readings SET import_id = ? WHERE import_id = -1", [report.import_id])
    return report
