"""The demo's live feed: new readings for every sensor of the twin, every few seconds, while it is served.

Values follow the same daily profiles as the demo's 30-day history (:mod:`ingest.demo.operations`): occupied
hours, night-time street lighting, traffic peaks, the diurnal water demand. They go into the twin through the
same ingest code as any batch (:func:`ingest.sensors.append_readings`: checks, rejects, hourly roll-ups and
latest values). When an MQTT subscriber exists (issue 6, live half) the feed will publish to the broker instead.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import numpy as np
import pyarrow as pa

from ingest.demo.operations import _local_hour, _weekday
from twin.store import Twin

__all__ = ["LiveFeed", "live_readings"]


def live_readings(
    sensor_ids: list[str], kinds: list[str], now: dt.datetime, interval_s: float, rng: np.random.Generator
) -> pa.Table:
    """One reading per sensor at ``now`` (naive UTC); meters and counters give the amount for the interval."""
    n = len(sensor_ids)
    stamp = np.full(1, np.datetime64(now.replace(microsecond=0), "s"))
    hour = float(_local_hour(stamp)[0])
    weekday = bool(_weekday(stamp)[0])
    opening = weekday and 8.0 <= hour < 18.0
    kind = np.array(kinds, dtype=object)
    occupied = (rng.random(n) < (0.43 if opening else 0.0)).astype(float)
    demand = 0.6 + 0.5 * np.exp(-((hour - 7.5) ** 2) / 2.0) + 0.4 * np.exp(-((hour - 19.5) ** 2) / 3.0)
    traffic_mean = (
        8
        + 12 * (6.5 < hour < 21.0)
        + 30 * np.exp(-((hour - 8.0) ** 2) / 1.5)
        + 35 * np.exp(-((hour - 17.5) ** 2) / 2.0)
    ) * (1.0 if weekday else 0.6)
    share = interval_s / 3600.0
    values = np.select(
        [
            kind == "temperature",
            kind == "co2",
            kind == "occupancy",
            kind == "electricity_meter",
            kind == "gas_meter",
            kind == "water_pressure",
            kind == "water_flow",
            kind == "streetlight_status",
            kind == "traffic_count",
        ],
        [
            (20.5 if 6.5 <= hour < 19.0 and weekday else 17.0) + 0.8 * occupied + rng.normal(0, 0.15, n),
            420.0 + occupied * rng.uniform(350, 700, n) + rng.normal(0, 15, n),
            occupied,
            rng.uniform(5.0, 15.0, n) * (2.5 if opening else 1.0) * share,
            rng.uniform(20.0, 60.0, n) * share,
            4.3 - 0.6 * demand + rng.normal(0, 0.03, n),
            np.clip(18.0 * demand + rng.normal(0, 0.5, n), 0, None),
            np.full(n, 1.0 if (hour >= 19.5 or hour < 7.75) else 0.0),
            rng.poisson(traffic_mean * interval_s / 900.0, n).astype(float),
        ],
        default=rng.normal(0, 1, n),
    )
    return pa.table(
        {
            "sensor_id": pa.array(sensor_ids, pa.string()),
            "time_utc": pa.array(np.full(n, np.datetime64(now, "us")), pa.timestamp("us")),
            "value": pa.array(np.round(values.astype(float), 3)),
        }
    )


class LiveFeed:
    """A thread that writes a batch of live readings into ``twin`` every ``interval_s`` seconds."""

    def __init__(self, twin: Twin, interval_s: float = 5.0, seed: int = 0) -> None:
        self.twin = twin
        self.interval_s = interval_s
        self._rng = np.random.default_rng(seed)
        table = twin.query("SELECT sensor_id, kind FROM sensors ORDER BY sensor_id")
        self._ids = table.column("sensor_id").to_pylist()
        self._kinds = table.column("kind").to_pylist()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.last_counts: dict[str, Any] = {}

    def step(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Write one batch now (or at ``now``, naive UTC) and return its counts."""
        from ingest.sensors import append_readings

        when = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        batch = live_readings(self._ids, self._kinds, when, self.interval_s, self._rng)
        self.last_counts = append_readings(self.twin, batch, source="demo live feed")
        self.batches += 1
        return self.last_counts

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.step()

    def start(self) -> LiveFeed:
        if self._ids:
            self.step()
            self._thread = threading.Thread(target=self._run, name="twin-demo-live-feed", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
