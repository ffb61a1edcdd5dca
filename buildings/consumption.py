"""Annual energy consumption per meter and per building from interval readings, with gaps and zero runs listed.

The energy model is calibrated against measured annual consumption; a total is only as good as the series under
it, so every total comes with its missing intervals and its runs of zeros (many meter archives, the Cambridge
estates one among them, write 0 where a reading is missing or invalid). The functions here are pure (tables in,
tables out); :func:`consumption_from_twin` reads the twin, computes and stores in ``res_consumption`` and
``res_meter_gaps``.

Readings are the energy of each interval (kWh per interval, UCUM ``kW.h``), not cumulative register indexes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from twin.store import Twin

__all__ = [
    "CARRIERS",
    "DEFAULT_PARAMS",
    "ConsumptionParams",
    "annual_consumption",
    "consumption_from_twin",
    "meter_gaps",
    "store_consumption",
]

CARRIERS = {"electricity_meter": "electricity", "gas_meter": "gas"}
"""Meter kind (``sensors.kind``) -> energy carrier."""


@dataclass(frozen=True)
class ConsumptionParams:
    """How the meter series are cut into intervals and years, and what counts as a gap.

    Attributes
    ----------
    interval:
        Metering interval; readings are summed per interval (hourly, as in the Cambridge archive and the demo).
    min_zero_run:
        A run of at least this many consecutive zero intervals is listed as a suspected gap. One zero hour of a
        building meter can be real (gas in summer); three in a row is the shortest run an outage or a
        zero-filled hole leaves that a night set-back rarely does on an electricity meter.
    timezone:
        Zone of the year boundaries (calendar year in this zone).
    start_utc, end_utc:
        Window analysed (end exclusive); default from the first to the last interval read over all meters, so a
        meter that starts late or stops early shows leading or trailing missing intervals.
    """

    interval: dt.timedelta = dt.timedelta(hours=1)
    min_zero_run: int = 3
    timezone: str = "UTC"
    start_utc: dt.datetime | None = None
    end_utc: dt.datetime | None = None


DEFAULT_PARAMS = ConsumptionParams()

_GAP_SCHEMA = pa.schema(
    [
        ("sensor_id", pa.string()),
        ("gap_kind", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("intervals", pa.int64()),
        ("duration_h", pa.float64()),
    ]
)


@dataclass(frozen=True)
class _Grid:
    start: np.datetime64
    step: np.timedelta64
    n: int


def _slots(readings: pa.Table, params: ConsumptionParams) -> tuple[pd.DataFrame, _Grid]:
    """Readings summed per (sensor, interval slot) inside the window."""
    frame = readings.select(["sensor_id", "time_utc", "value"]).to_pandas()
    step = np.timedelta64(int(params.interval.total_seconds() * 1e6), "us")
    times = frame["time_utc"].to_numpy().astype("datetime64[us]")
    epoch = np.datetime64("1970-01-01", "us")
    if params.start_utc is not None:
        first: np.datetime64 = np.datetime64(params.start_utc.replace(tzinfo=None), "us")
    else:
        first = times.min() if len(times) else epoch
    start = first - (first - epoch) % step  # aligned on the interval
    slot = (times - start) // step
    if params.end_utc is not None:
        n = int(-(-(np.datetime64(params.end_utc.replace(tzinfo=None), "us") - start) // step))
    else:
        n = int(slot.max()) + 1 if len(slot) else 0
    frame["slot"] = slot.astype(np.int64)
    frame = frame[(frame["slot"] >= 0) & (frame["slot"] < n)]
    per_slot = frame.groupby(["sensor_id", "slot"], sort=True, as_index=False)["value"].sum()
    return per_slot, _Grid(start, step, n)


def _changes(values: np.ndarray) -> np.ndarray:
    """True where a value differs from the one before it (and at the first)."""
    out = np.ones(len(values), dtype=bool)
    out[1:] = values[1:] != values[:-1]
    return out


def _runs(per_slot: pd.DataFrame, grid: _Grid, min_zero_run: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Missing runs and zero runs as (sensor_id, first slot, slot count), and which slots are in a zero run."""
    sensor = per_slot["sensor_id"].to_numpy()
    slot = per_slot["slot"].to_numpy()
    new_sensor = _changes(sensor)
    last_of_sensor = np.append(new_sensor[1:], True)[: len(sensor)]
    # Missing: before the first slot of a sensor, between consecutive slots, after the last one.
    prev = np.where(new_sensor, -1, np.append(0, slot[:-1])[: len(slot)])
    inner = pd.DataFrame({"sensor_id": sensor, "first": prev + 1, "count": slot - prev - 1})
    tail = pd.DataFrame(
        {
            "sensor_id": sensor[last_of_sensor],
            "first": slot[last_of_sensor] + 1,
            "count": grid.n - 1 - slot[last_of_sensor],
        }
    )
    missing = pd.concat([inner, tail], ignore_index=True)
    missing = missing[missing["count"] > 0]
    # Zero runs: consecutive slots of one sensor that are all zero.
    zero = per_slot["value"].to_numpy() == 0
    breaks = new_sensor | _changes(slot - np.arange(len(slot))) | _changes(zero)
    run_id = np.cumsum(breaks)
    in_zero_run = zero & (np.bincount(run_id)[run_id] >= min_zero_run) if len(run_id) else zero
    runs = pd.DataFrame({"sensor_id": sensor, "slot": slot, "run": run_id})[in_zero_run]
    zero_runs = (
        runs.groupby("run", sort=True)
        .agg(sensor_id=("sensor_id", "first"), first=("slot", "min"), count=("slot", "size"))
        .reset_index(drop=True)
    )
    return missing.reset_index(drop=True), zero_runs, in_zero_run


def meter_gaps(readings: pa.Table, params: ConsumptionParams = DEFAULT_PARAMS) -> pa.Table:
    """The gaps of each meter series: runs of missing intervals and runs of zero intervals.

    A *missing* run is a stretch of intervals of the window without any reading; a *zero run* is a stretch of at
    least ``params.min_zero_run`` consecutive intervals whose readings sum to exactly 0 (a suspected gap filled
    with zeros upstream). A missing interval breaks a zero run.

    Returns
    -------
    pyarrow.Table
        ``sensor_id``, ``gap_kind`` (missing / zero_run), ``start_utc``, ``end_utc`` (exclusive),
        ``intervals``, ``duration_h``; sorted by sensor and start.

    Examples
    --------
    >>> import datetime as dt
    >>> t = [dt.datetime(2019, 1, 1, h) for h in (0, 1, 2, 3, 4, 7)]
    >>> r = pa.table({"sensor_id": ["m"] * 6, "time_utc": t, "value": [5.0, 0, 0, 0, 4, 6]})
    >>> g = meter_gaps(r)
    >>> g.column("gap_kind").to_pylist(), g.column("intervals").to_pylist()
    (['zero_run', 'missing'], [3, 2])
    """
    per_slot, grid = _slots(readings, params)
    missing, zero_runs, _ = _runs(per_slot, grid, params.min_zero_run)
    parts = []
    for kind, runs in (("missing", missing), ("zero_run", zero_runs)):
        start = grid.start + runs["first"].to_numpy().astype(np.int64) * grid.step
        count = runs["count"].to_numpy().astype(np.int64)
        parts.append(
            pd.DataFrame(
                {
                    "sensor_id": runs["sensor_id"].to_numpy(dtype=object),
                    "gap_kind": kind,
                    "start_utc": start,
                    "end_utc": start + count * grid.step,
                    "intervals": count,
                    "duration_h": count * (grid.step / np.timedelta64(1, "h")),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True).sort_values(["sensor_id", "start_utc"], kind="stable")
    return pa.Table.from_pandas(frame, schema=_GAP_SCHEMA, preserve_index=False)


def annual_consumption(
    readings: pa.Table, meters: pa.Table | None = None, params: ConsumptionParams = DEFAULT_PARAMS
) -> pa.Table:
    """Consumption per meter and year, and per building, carrier and year.

    Formulas, per meter and calendar year ``y`` (in ``params.timezone``), over the intervals of the window:

    - ``E_y = Σ e_i`` (kWh), the measured sum of the interval readings ``e_i``;
    - ``N_missing = N_expected − N_read``; ``N_zero`` = intervals inside zero runs (:func:`meter_gaps`);
    - ``E_filled = E_y + ē·(N_missing + N_zero)``, with ``ē`` the mean of the other (valid) intervals of the
      year: a first estimate for calibration, NULL when no interval is valid.

    A building's row sums its meters of one carrier (interval counts are summed over the meters).

    Parameters
    ----------
    readings:
        ``sensor_id``, ``time_utc`` (naive UTC), ``value`` (kWh per interval).
    meters:
        ``sensor_id``, ``building_id``, ``carrier`` (may be None: meter rows only, carrier ``unknown``).

    Returns
    -------
    pyarrow.Table
        ``level`` (meter / building), ``entity_id``, ``building_id``, ``carrier``, ``year``,
        ``consumption_kwh``, ``consumption_filled_kwh``, ``intervals_expected``, ``intervals_read``,
        ``intervals_missing``, ``intervals_zero_run``, ``interval_h``.
    """
    per_slot, grid = _slots(readings, params)
    _, _, in_zero = _runs(per_slot, grid, params.min_zero_run)
    slot_years = pd.DatetimeIndex(grid.start + np.arange(grid.n) * grid.step).tz_localize("UTC")
    years = np.asarray(slot_years.tz_convert(params.timezone).year, dtype=np.int64)
    expected = pd.Series(years).value_counts().rename("intervals_expected")
    frame = per_slot.assign(year=years[per_slot["slot"].to_numpy()], in_zero=in_zero)
    frame["valid"] = np.where(in_zero, np.nan, frame["value"])
    grouped = frame.groupby(["sensor_id", "year"], sort=True)
    out = pd.DataFrame(
        {
            "consumption_kwh": grouped["value"].sum(),
            "intervals_read": grouped["slot"].size().astype("int64"),
            "intervals_zero_run": grouped["in_zero"].sum().astype("int64"),
            "mean_valid": grouped["valid"].mean(),
        }
    ).reset_index()
    out = out.join(expected, on="year")
    out["intervals_missing"] = (out["intervals_expected"] - out["intervals_read"]).astype("int64")
    out["consumption_filled_kwh"] = out["consumption_kwh"] + out["mean_valid"] * (
        out["intervals_missing"] + out["intervals_zero_run"]
    )
    if meters is not None:
        out = out.merge(
            meters.select(["sensor_id", "building_id", "carrier"]).to_pandas(), on="sensor_id", how="left"
        )
        out["carrier"] = out["carrier"].fillna("unknown")
    else:
        out["building_id"], out["carrier"] = None, "unknown"
    out["level"], out["entity_id"] = "meter", out["sensor_id"]
    sums = [
        "consumption_kwh",
        "consumption_filled_kwh",
        "intervals_expected",
        "intervals_read",
        "intervals_missing",
        "intervals_zero_run",
    ]
    buildings = (
        out[out["building_id"].notna()]
        .groupby(["building_id", "carrier", "year"], sort=True)[sums]
        .sum(min_count=1)
        .reset_index()
    )
    buildings["level"], buildings["entity_id"] = "building", buildings["building_id"]
    result = pd.concat([out, buildings], ignore_index=True)
    result["interval_h"] = grid.step / np.timedelta64(1, "h")
    columns = ["level", "entity_id", "building_id", "carrier", "year", *sums, "interval_h"]
    schema = pa.schema(
        [
            ("level", pa.string()),
            ("entity_id", pa.string()),
            ("building_id", pa.string()),
            ("carrier", pa.string()),
            ("year", pa.int32()),
            ("consumption_kwh", pa.float64()),
            ("consumption_filled_kwh", pa.float64()),
            ("intervals_expected", pa.int64()),
            ("intervals_read", pa.int64()),
            ("intervals_missing", pa.int64()),
            ("intervals_zero_run", pa.int64()),
            ("interval_h", pa.float64()),
        ]
    )
    return pa.Table.from_pandas(result[columns], schema=schema, preserve_index=False)


# ------------------------------------------------------------------------------------------------ the twin
def store_consumption(twin: Twin, consumption: pa.Table, gaps: pa.Table, meters: pa.Table | None = None) -> int:
    """Replace the rows of ``res_consumption`` and ``res_meter_gaps`` for the meters and buildings given."""
    computed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if meters is not None:
        building = dict(
            zip(meters.column("sensor_id").to_pylist(), meters.column("building_id").to_pylist(), strict=True)
        )
    else:
        building = {}
    gaps = gaps.append_column(
        "building_id", pa.array([building.get(s) for s in gaps.column("sensor_id").to_pylist()], pa.string())
    )
    with twin.write() as cur:
        cur.register("__twin_cons", consumption)
        cur.register("__twin_gaps", gaps)
        try:
            cur.execute(
                "DELETE FROM res_consumption r USING __twin_cons c "
                "WHERE r.level = c.level AND r.entity_id = c.entity_id"
            )
            cur.execute(
                "INSERT INTO res_consumption (level, entity_id, building_id, carrier, year, consumption_kwh, "
                "consumption_filled_kwh, intervals_expected, intervals_read, intervals_missing, "
                "intervals_zero_run, interval_h, computed_at) SELECT level, entity_id, building_id, carrier, "
                "year, consumption_kwh, consumption_filled_kwh, intervals_expected, intervals_read, "
                "intervals_missing, intervals_zero_run, interval_h, ? FROM __twin_cons",
                [computed_at],
            )
            cur.execute(
                "DELETE FROM res_meter_gaps WHERE sensor_id IN "
                "(SELECT entity_id FROM __twin_cons WHERE level = 'meter')"
            )
            cur.execute(
                "INSERT INTO res_meter_gaps (sensor_id, building_id, gap_kind, start_utc, end_utc, intervals, "
                "duration_h, computed_at) SELECT sensor_id, building_id, gap_kind, start_utc, end_utc, intervals, "
                "duration_h, ? FROM __twin_gaps",
                [computed_at],
            )
        finally:
            cur.unregister("__twin_cons")
            cur.unregister("__twin_gaps")
    return consumption.num_rows + gaps.num_rows


_METERS_SQL = """
SELECT s.sensor_id,
       CASE s.asset_kind WHEN 'building' THEN s.asset_id WHEN 'space' THEN sp.building_id
            WHEN 'storey' THEN st.building_id WHEN 'element' THEN el.building_id END AS building_id,
       CASE s.kind WHEN 'electricity_meter' THEN 'electricity' WHEN 'gas_meter' THEN 'gas' END AS carrier,
       CASE s.unit_ucum WHEN 'kW.h' THEN 1.0 WHEN 'W.h' THEN 0.001 WHEN 'MW.h' THEN 1000.0 END AS kwh_factor
FROM sensors s
LEFT JOIN spaces sp ON s.asset_kind = 'space' AND sp.space_id = s.asset_id
LEFT JOIN storeys st ON s.asset_kind = 'storey' AND st.storey_id = s.asset_id
LEFT JOIN elements el ON s.asset_kind = 'element' AND el.ifc_guid = s.asset_id
WHERE s.kind IN ('electricity_meter', 'gas_meter') AND s.unit_ucum IN ('kW.h', 'W.h', 'MW.h')
ORDER BY s.sensor_id
"""


def consumption_from_twin(
    twin: Twin, params: ConsumptionParams = DEFAULT_PARAMS, *, store: bool = True
) -> tuple[pa.Table, pa.Table]:
    """Annual consumption and gaps of every energy meter of the twin (units kW.h, W.h or MW.h); stored.

    Returns ``(consumption, gaps)`` as :func:`annual_consumption` and :func:`meter_gaps` give them.
    """
    meters = twin.query(_METERS_SQL)
    readings = twin.query(
        "SELECT r.sensor_id, r.time_utc, r.value * m.kwh_factor AS value FROM readings_all r "
        f"JOIN ({_METERS_SQL}) m ON m.sensor_id = r.sensor_id"
    )
    consumption = annual_consumption(readings, meters, params)
    gaps = meter_gaps(readings, params)
    if store:
        store_consumption(twin, consumption, gaps, meters)
    return consumption, gaps
