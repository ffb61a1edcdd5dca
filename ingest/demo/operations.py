"""The demo district's operations data: a sensor registry, 30 days of readings and Open311 citizen reports.

Readings follow daily and weekly profiles (occupied hours on weekdays, night-time street lighting, traffic
peaks, a diurnal water demand) and carry a few faults on purpose, so that alerts have something to find:
- a room thermometer stuck at one value for its last five days,
- an electricity meter with a three-day gap, a gas meter with a two-day run of zeros,
- a water pressure drop of six hours at one node (a leak: citizen reports follow near it),
- three street lights dark at night (broken lamps: reported by citizens).

Occupancy shares follow the figures quoted in the issue (offices used 40-45 % of opening hours, schools 20 %).
All times are UTC; the period is fixed (30 days from :data:`PERIOD_START`) so that a seed always gives the same
files.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from pyproj import Transformer

__all__ = ["PERIOD_DAYS", "PERIOD_START", "OperationsData", "RoomSensorSite", "generate_operations"]

PERIOD_START = dt.datetime(2026, 10, 2, 0, 0, tzinfo=dt.UTC)
PERIOD_DAYS = 30


@dataclass(frozen=True)
class RoomSensorSite:
    """A room that gets temperature, CO2 and occupancy sensors."""

    space_guid: str
    building_key: str
    x_m: float
    y_m: float
    kind: str  # office or school: sets the occupancy profile


@dataclass(frozen=True)
class OperationsData:
    sensors: pa.Table
    readings: pa.Table
    services: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    faults: dict[str, str]  # sensor or asset id -> the fault planted in it


def _times(step_min: int) -> np.ndarray:
    n = PERIOD_DAYS * 24 * 60 // step_min
    start = np.datetime64(PERIOD_START.replace(tzinfo=None), "s")
    return start + np.arange(n) * np.timedelta64(step_min * 60, "s")


def _local_hour(times: np.ndarray) -> np.ndarray:
    """Hour of day in France in October (UTC+2 until the last Sunday, then UTC+1), as a float."""
    hours = (times - times.astype("datetime64[D]")).astype("timedelta64[s]").astype(float) / 3600.0
    switch = np.datetime64("2026-10-25T01:00:00")
    return (hours + np.where(times < switch, 2.0, 1.0)) % 24.0


def _weekday(times: np.ndarray) -> np.ndarray:
    return ((times.astype("datetime64[D]").astype(int) + 3) % 7) < 5  # 1970-01-01 was a Thursday


def _outdoor_temperature(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    day = (times - times[0]).astype("timedelta64[s]").astype(float) / 86400.0
    hour = _local_hour(times)
    return 14.0 - 0.2 * day + 4.0 * np.sin((hour - 9.0) / 24.0 * 2 * np.pi) + rng.normal(0, 0.8, len(times))


def generate_operations(
    seed: int,
    rooms: list[RoomSensorSite],
    meters: list[tuple[str, float, float, float]],  # (building key, x, y, floor area m2)
    pressure_nodes: list[tuple[str, float, float]],
    lights: list[tuple[str, float, float]],
    pipes_near: list[tuple[str, float, float]],
    roads: list[tuple[str, float, float, str]],
    crs: str = "EPSG:2154",
    building_ids: dict[str, str] | None = None,
) -> OperationsData:
    """Sensors, readings and reports for the given assets (positions in the twin CRS).

    ``building_ids`` maps the archetype keys to the buildings' ids in the twin (their IFC GlobalIds), so that
    meters are attached to their building; sensors on networks are left to be attached by position.
    """
    rng = np.random.default_rng(seed)
    sensor_rows: list[dict[str, Any]] = []
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []
    faults: dict[str, str] = {}

    def sensor(
        sid: str,
        kind: str,
        unit: str,
        x: float,
        y: float,
        asset_kind: str,
        asset_id: str,
        name: str,
        times: np.ndarray,
        values: np.ndarray,
    ) -> None:
        if asset_kind == "building":
            asset_id = (building_ids or {}).get(asset_id, asset_id)
        elif asset_kind in ("network_node", "network_link", "streetlight"):
            # Network ids are given by the network import; these sensors are attached by their position.
            asset_kind = asset_id = None  # type: ignore[assignment]
        sensor_rows.append(
            {
                "sensor_id": sid,
                "kind": kind,
                "unit_ucum": unit,
                "x": round(x, 3),
                "y": round(y, 3),
                "asset_kind": asset_kind,
                "asset_id": asset_id,
                "name": name,
            }
        )
        parts.append((sid, times, values))

    # Rooms: occupancy (presence 0/1 per 15 min), temperature and CO2 following it.
    t15 = _times(15)
    hour15, weekday15 = _local_hour(t15), _weekday(t15)
    outdoor15 = _outdoor_temperature(t15, rng)
    for i, room in enumerate(rooms):
        opening = weekday15 & (hour15 >= 8.0) & (hour15 < (18.0 if room.kind == "office" else 16.5))
        share = 0.43 if room.kind == "office" else 0.20
        # Presence comes in blocks of about an hour, not independent quarters.
        blocks = rng.random(len(t15) // 4 + 1) < share
        present = np.repeat(blocks, 4)[: len(t15)] & opening
        setpoint = np.where(weekday15 & (hour15 >= 6.5) & (hour15 < 19.0), 20.5, 17.0)
        temp = setpoint + 0.15 * (outdoor15 - 12.0) + 0.8 * present + rng.normal(0, 0.15, len(t15))
        co2 = 420.0 + present * rng.uniform(350, 700) + rng.normal(0, 15, len(t15))
        co2 = np.convolve(co2, np.ones(3) / 3, mode="same")  # air changes smooth the steps
        base = f"{room.building_key}-room{i:03d}"
        if i == 0:
            stuck = t15 >= t15[-1] - np.timedelta64(5, "D")
            temp = np.where(stuck, 19.0, temp)
            faults[f"{base}-temp"] = "stuck at 19.0 Cel for the last 5 days"
        for suffix, kind, unit, values in [
            ("occ", "occupancy", "1", present.astype(float)),
            ("temp", "temperature", "Cel", np.round(temp, 2)),
            ("co2", "co2", "[ppm]", np.round(co2, 0)),
        ]:
            sensor(
                f"{base}-{suffix}",
                kind,
                unit,
                room.x_m,
                room.y_m,
                "space",
                room.space_guid,
                f"{kind} {room.building_key} room {i}",
                t15,
                values,
            )

    # Meters: hourly kWh, electricity with an occupancy-shaped profile, gas driven by heating degree hours.
    t60 = _times(60)
    hour60, weekday60 = _local_hour(t60), _weekday(t60)
    outdoor60 = _outdoor_temperature(t60, rng)
    for j, (key, x, y, area) in enumerate(meters):
        working = weekday60 & (hour60 >= 7) & (hour60 < 19)
        elec = area * (0.004 + 0.012 * working) * rng.uniform(0.9, 1.1, len(t60))
        gas = area * 0.0045 * np.clip(18.0 - outdoor60, 0, None) * (1.0 + 0.3 * working)
        gas = gas * rng.uniform(0.9, 1.1, len(t60))
        keep_e = np.ones(len(t60), bool)
        if j == 0:
            keep_e = ~((t60 >= t60[0] + np.timedelta64(10, "D")) & (t60 < t60[0] + np.timedelta64(13, "D")))
            faults[f"{key}-elec"] = "no readings for 3 days (days 10-12)"
        if j == 1:
            gas = np.where(
                (t60 >= t60[0] + np.timedelta64(20, "D")) & (t60 < t60[0] + np.timedelta64(22, "D")), 0.0, gas
            )
            faults[f"{key}-gas"] = "a run of zeros for 2 days (days 20-21)"
        sensor(
            f"{key}-elec",
            "electricity_meter",
            "kW.h",
            x,
            y,
            "building",
            key,
            f"electricity {key}",
            t60[keep_e],
            np.round(elec[keep_e], 3),
        )
        if key != "car_park_1985":
            sensor(f"{key}-gas", "gas_meter", "kW.h", x, y, "building", key, f"gas {key}", t60, np.round(gas, 3))

    # Water: pressure at nodes every 5 minutes (lower at the morning and evening peaks), one drop of 6 hours.
    t5 = _times(5)
    hour5 = _local_hour(t5)
    demand = 0.6 + 0.5 * np.exp(-((hour5 - 7.5) ** 2) / 2.0) + 0.4 * np.exp(-((hour5 - 19.5) ** 2) / 3.0)
    for k, (node, x, y) in enumerate(pressure_nodes):
        pressure = 4.3 - 0.6 * demand + rng.normal(0, 0.03, len(t5)) - 0.002 * k
        if k == 0:
            drop = (t5 >= t5[0] + np.timedelta64(17 * 24 + 3, "h")) & (
                t5 < t5[0] + np.timedelta64(17 * 24 + 9, "h")
            )
            pressure = np.where(drop, pressure - 2.4, pressure)
            faults[f"water-{node}-pressure"] = "pressure drop of 2.4 bar for 6 hours on day 17 (a leak)"
        sensor(
            f"water-{node}-pressure",
            "water_pressure",
            "bar",
            x,
            y,
            "network_node",
            node,
            f"pressure {node}",
            t5,
            np.round(pressure, 3),
        )
    if pressure_nodes:
        node, x, y = pressure_nodes[-1]
        flow = 18.0 * demand + rng.normal(0, 0.5, len(t5))
        sensor(
            "water-outlet-flow",
            "water_flow",
            "L/s",
            x,
            y,
            "network_node",
            node,
            "reservoir outlet flow",
            t5,
            np.round(np.clip(flow, 0, None), 2),
        )

    # Street lights: status each hour, on at night (about 19:30-07:45 local in October); three broken lamps.
    night = (hour60 >= 19.5) | (hour60 < 7.75)
    for m, (light, x, y) in enumerate(lights):
        on = night.astype(float)
        if m < 3:
            broken_from = t60[0] + np.timedelta64(int(6 + 5 * m), "D")
            on = np.where(t60 >= broken_from, 0.0, on)
            faults[f"light-{light}"] = f"dark from day {6 + 5 * m} (broken lamp)"
        sensor(f"light-{light}", "streetlight_status", "1", x, y, "streetlight", light, f"status {light}", t60, on)

    # Traffic counts every 15 minutes with morning and evening peaks, lighter at weekends (8 counters).
    for r, (road, x, y, _name) in enumerate(roads[:8]):
        peak = 30 * np.exp(-((hour15 - 8.0) ** 2) / 1.5) + 35 * np.exp(-((hour15 - 17.5) ** 2) / 2.0)
        day = 8 + 12 * ((hour15 > 6.5) & (hour15 < 21.0))
        mean = (day + peak) * np.where(weekday15, 1.0, 0.6) * (1.0 + 0.1 * r)
        sensor(
            f"traffic-{road}",
            "traffic_count",
            "{vehicle}",
            x,
            y,
            "network_link",
            road,
            f"traffic {road}",
            t15,
            rng.poisson(mean).astype(float),
        )

    readings = pa.table(
        {
            "sensor_id": pa.array(np.concatenate([np.full(len(t), sid, dtype=object) for sid, t, _ in parts])),
            "time_utc": pa.array(
                np.concatenate([t for _, t, _ in parts]).astype("datetime64[s]"), pa.timestamp("s")
            ),
            "value": pa.array(np.concatenate([v for _, _, v in parts]).astype(float)),
        }
    )
    sensors = pa.Table.from_pylist(sensor_rows)
    services, requests = _reports(rng, faults, lights, pipes_near, roads, crs)
    return OperationsData(sensors, readings, services, requests, faults)


_SERVICES = [
    {
        "service_code": "EP-PANNE",
        "service_name": "Éclairage public en panne",
        "group": "Éclairage",
        "description": "Lampadaire éteint, clignotant ou endommagé",
        "type": "realtime",
        "keywords": "lampe,éclairage",
    },
    {
        "service_code": "EAU-FUITE",
        "service_name": "Fuite d'eau",
        "group": "Eau",
        "description": "Fuite sur la voie publique ou baisse de pression",
        "type": "realtime",
        "keywords": "eau,fuite",
    },
    {
        "service_code": "VOIRIE-NID",
        "service_name": "Nid-de-poule",
        "group": "Voirie",
        "description": "Trou ou dégradation de la chaussée",
        "type": "realtime",
        "keywords": "route,chaussée",
    },
]


def _reports(
    rng: np.random.Generator,
    faults: dict[str, str],
    lights: list[tuple[str, float, float]],
    pipes_near: list[tuple[str, float, float]],
    roads: list[tuple[str, float, float, str]],
    crs: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """About 50 Open311 GeoReport v2 requests near assets, some with the personal fields a citizen app sends."""
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    requests = []
    plan: list[tuple[str, float, float, str, int]] = []
    for m, (light, x, y) in enumerate(lights[:3]):  # the three broken lamps, each reported twice
        for extra in range(2):
            plan.append(
                (
                    "EP-PANNE",
                    x + rng.normal(0, 3),
                    y + rng.normal(0, 3),
                    f"Lampadaire {light} éteint",
                    6 + 5 * m + 1 + extra,
                )
            )
    for _light, x, y in [lights[i] for i in rng.choice(np.arange(3, len(lights)), 14, replace=False)]:
        plan.append(
            (
                "EP-PANNE",
                x + rng.normal(0, 3),
                y + rng.normal(0, 3),
                "Lampadaire qui clignote",
                int(rng.integers(0, PERIOD_DAYS)),
            )
        )
    for pipe, x, y in pipes_near[:12]:
        plan.append(
            (
                "EAU-FUITE",
                x + rng.normal(0, 4),
                y + rng.normal(0, 4),
                "Eau qui coule sur le trottoir",
                17 if pipe == pipes_near[0][0] else int(rng.integers(0, PERIOD_DAYS)),
            )
        )
    for _road, x, y, name in roads[:18]:
        plan.append(
            (
                "VOIRIE-NID",
                x + rng.normal(0, 5),
                y + rng.normal(0, 2),
                f"Nid-de-poule {name}",
                int(rng.integers(0, PERIOD_DAYS)),
            )
        )
    names = {s["service_code"]: s["service_name"] for s in _SERVICES}
    for i, (code, x, y, text, day) in enumerate(plan):
        lon, lat = to_wgs84.transform(x, y)
        when = PERIOD_START + dt.timedelta(
            days=day, hours=int(rng.integers(7, 21)), minutes=int(rng.integers(0, 60))
        )
        closed = day < PERIOD_DAYS - 7 and rng.random() < 0.5
        request: dict[str, Any] = {
            "service_request_id": f"REQ-2026-{i + 1:04d}",
            "status": "closed" if closed else "open",
            "status_notes": "Intervention réalisée" if closed else None,
            "service_code": code,
            "service_name": names[code],
            "description": text,
            "agency_responsible": "Ville - services techniques",
            "requested_datetime": when.isoformat().replace("+00:00", "Z"),
            "updated_datetime": (when + dt.timedelta(days=2)).isoformat().replace("+00:00", "Z")
            if closed
            else when.isoformat().replace("+00:00", "Z"),
            "address": None,
            "lat": round(lat, 7),
            "long": round(lon, 7),
            "media_url": None,
        }
        if i % 3 == 0:  # what a citizen app exports along with the request: never to be stored by the twin
            request.update(
                {
                    "first_name": "Camille",
                    "last_name": f"Martin{i}",
                    "email": f"camille{i}@example.org",
                    "phone": f"+33 6 00 00 {i:02d} 00",
                }
            )
        requests.append(request)
    return _SERVICES, requests


def dumps_json(data: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, fixed separators, UTF-8)."""
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def sample_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point on each geometry, as x and y arrays: the centroid (the midpoint of a straight street segment)."""
    points = shapely.centroid(geoms)
    return shapely.get_x(points), shapely.get_y(points)
