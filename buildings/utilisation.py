"""Utilisation of spaces and buildings from occupancy sensors: the share of opening hours they are occupied.

Issue 6 quotes offices used 40-45 % of their opening hours and schools 20 %: a measured utilisation far below
that of a full building is the first argument for sharing or converting it. The functions here are pure (tables
in, tables out); :func:`utilisation_from_twin` reads the twin, computes and stores in ``res_utilisation``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from twin.store import Twin

__all__ = [
    "DEFAULT_PARAMS",
    "UtilisationParams",
    "aggregate_utilisation",
    "sensor_utilisation",
    "store_utilisation",
    "utilisation",
    "utilisation_from_twin",
]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class UtilisationParams:
    """Opening hours, what counts as occupied, and the flag threshold.

    Attributes
    ----------
    timezone:
        IANA zone of the opening hours (the readings are UTC).
    opening_start_h, opening_end_h:
        Opening hours in local time, hours after midnight (start inclusive, end exclusive). 08:00-18:00 is a
        usual office day; give a school 08:00-16:30.
    opening_weekdays:
        Opening days, 0 = Monday (default Monday to Friday).
    occupied_above:
        A sample is occupied when its value is above this (presence 0/1 or a people count).
    threshold_ratio:
        Entities used less than this share of opening hours are flagged. 0.3 lies between the school (20 %) and
        office (40-45 %) figures of issue 6: a room used like a typical school is flagged, one used like a
        typical office is not.
    """

    timezone: str = "Europe/Paris"
    opening_start_h: float = 8.0
    opening_end_h: float = 18.0
    opening_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    occupied_above: float = 0.0
    threshold_ratio: float = 0.3

    def describe(self) -> str:
        """The opening hours as text, e.g. ``Mon-Fri 08:00-18:00 Europe/Paris``."""
        days = sorted(self.opening_weekdays)
        if days and days == list(range(days[0], days[-1] + 1)):
            day_text = _DAYS[days[0]] if len(days) == 1 else f"{_DAYS[days[0]]}-{_DAYS[days[-1]]}"
        else:
            day_text = ",".join(_DAYS[d] for d in days)

        def hhmm(h: float) -> str:
            minutes = round(h * 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        return f"{day_text} {hhmm(self.opening_start_h)}-{hhmm(self.opening_end_h)} {self.timezone}"


DEFAULT_PARAMS = UtilisationParams()

_COLUMNS = (
    "period_start_utc",
    "period_end_utc",
    "samples_open",
    "samples_occupied",
    "utilisation_ratio",
    "threshold_ratio",
    "below_threshold",
)


def _in_opening_hours(times_utc: pd.Series, params: UtilisationParams) -> np.ndarray:
    local = pd.DatetimeIndex(times_utc).tz_localize("UTC").tz_convert(params.timezone)
    hour = local.hour + local.minute / 60.0 + local.second / 3600.0
    return np.asarray(
        np.isin(local.weekday, params.opening_weekdays)
        & (hour >= params.opening_start_h)
        & (hour < params.opening_end_h)
    )


def _finish(frame: pd.DataFrame, params: UtilisationParams) -> pd.DataFrame:
    ratio = frame["samples_occupied"] / frame["samples_open"].where(frame["samples_open"] > 0)
    frame["utilisation_ratio"] = ratio
    frame["threshold_ratio"] = params.threshold_ratio
    frame["below_threshold"] = (ratio < params.threshold_ratio).astype("boolean").where(ratio.notna())
    return frame


def sensor_utilisation(readings: pa.Table, params: UtilisationParams = DEFAULT_PARAMS) -> pa.Table:
    """Utilisation per occupancy sensor.

    Formula: ``U = N_occupied / N_open``, where ``N_open`` counts the samples whose local time falls in the
    opening hours and ``N_occupied`` those of them whose value is above ``params.occupied_above``. With regular
    sampling this is the share of the observed opening hours that the space was occupied; hours without data
    count neither way (they lower no one's utilisation). ``U`` is NULL (unknown) when no sample falls in opening
    hours, and ``below_threshold`` is then NULL too.

    Parameters
    ----------
    readings:
        ``sensor_id``, ``time_utc`` (naive UTC), ``value``.

    Returns
    -------
    pyarrow.Table
        ``sensor_id``, ``period_start_utc``, ``period_end_utc`` (first and last sample), ``samples_open``,
        ``samples_occupied``, ``utilisation_ratio`` (0-1), ``threshold_ratio``, ``below_threshold``.

    Examples
    --------
    >>> import datetime as dt
    >>> t = [dt.datetime(2026, 10, 5, h) for h in (7, 8, 9, 10, 11)]  # a Monday, UTC
    >>> r = pa.table({"sensor_id": ["a"] * 5, "time_utc": t, "value": [1.0, 1.0, 0.0, 0.0, 0.0]})
    >>> out = sensor_utilisation(r, UtilisationParams(timezone="UTC"))
    >>> out.column("samples_open").to_pylist(), out.column("utilisation_ratio").to_pylist()
    ([4], [0.25])
    """
    frame = readings.select(["sensor_id", "time_utc", "value"]).to_pandas()
    frame["open"] = _in_opening_hours(frame["time_utc"], params)
    frame["occupied"] = frame["open"] & (frame["value"] > params.occupied_above)
    grouped = frame.groupby("sensor_id", sort=True)
    out = pd.DataFrame(
        {
            "period_start_utc": grouped["time_utc"].min(),
            "period_end_utc": grouped["time_utc"].max(),
            "samples_open": grouped["open"].sum().astype("int64"),
            "samples_occupied": grouped["occupied"].sum().astype("int64"),
        }
    )
    out = _finish(out, params).reset_index()
    return _to_arrow(out, ["sensor_id", *_COLUMNS])


def aggregate_utilisation(
    per_sensor: pa.Table, assets: pa.Table, level: str, params: UtilisationParams = DEFAULT_PARAMS
) -> pa.Table:
    """Utilisation per space or building, pooling the samples of its sensors.

    Formula: ``U = Σ N_occupied / Σ N_open`` over the sensors of the entity (so a sensor with more samples in
    opening hours weighs more).

    Parameters
    ----------
    per_sensor:
        The output of :func:`sensor_utilisation`.
    assets:
        ``sensor_id`` and the ``level`` column (``space_id`` or ``building_id``); sensors without one are left
        out.
    level:
        ``space`` or ``building``.
    """
    if level not in ("space", "building"):
        raise ValueError(f"level must be space or building, not {level!r}")
    key = f"{level}_id"
    frame = per_sensor.to_pandas().merge(assets.select(["sensor_id", key]).to_pandas(), on="sensor_id")
    frame = frame[frame[key].notna()]
    grouped = frame.groupby(key, sort=True)
    out = pd.DataFrame(
        {
            "period_start_utc": grouped["period_start_utc"].min(),
            "period_end_utc": grouped["period_end_utc"].max(),
            "samples_open": grouped["samples_open"].sum().astype("int64"),
            "samples_occupied": grouped["samples_occupied"].sum().astype("int64"),
        }
    )
    out = _finish(out, params).reset_index()
    return _to_arrow(out, [key, *_COLUMNS])


def utilisation(
    readings: pa.Table, assets: pa.Table | None = None, params: UtilisationParams = DEFAULT_PARAMS
) -> pa.Table:
    """Per sensor, space and building stacked: ``level``, ``entity_id`` and the columns of
    :func:`sensor_utilisation` (``assets``: ``sensor_id``, ``space_id``, ``building_id``, may be None)."""
    per_sensor = sensor_utilisation(readings, params)
    parts = [_with_level(per_sensor, "sensor", "sensor_id")]
    if assets is not None:
        for level in ("space", "building"):
            if f"{level}_id" in assets.column_names:
                parts.append(
                    _with_level(aggregate_utilisation(per_sensor, assets, level, params), level, f"{level}_id")
                )
    return pa.concat_tables(parts)


def _with_level(table: pa.Table, level: str, key: str) -> pa.Table:
    table = table.rename_columns(["entity_id" if c == key else c for c in table.column_names])
    return table.add_column(0, "level", pa.array([level] * table.num_rows, pa.string()))


def _to_arrow(frame: pd.DataFrame, columns: list[str]) -> pa.Table:
    schema = pa.schema(
        [
            (
                c,
                pa.string()
                if c.endswith("_id")
                else pa.timestamp("us")
                if c.endswith("_utc")
                else pa.int64()
                if c.startswith("samples")
                else pa.bool_()
                if c == "below_threshold"
                else pa.float64(),
            )
            for c in columns
        ]
    )
    return pa.Table.from_pandas(frame[columns], schema=schema, preserve_index=False)


# ------------------------------------------------------------------------------------------------ the twin
def store_utilisation(twin: Twin, result: pa.Table, params: UtilisationParams = DEFAULT_PARAMS) -> int:
    """Replace the rows of ``res_utilisation`` for the entities of ``result`` (output of :func:`utilisation`)."""
    table = result.append_column("opening_hours", pa.array([params.describe()] * result.num_rows, pa.string()))
    computed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with twin.write() as cur:
        cur.register("__twin_util", table)
        try:
            cur.execute(
                "DELETE FROM res_utilisation r USING __twin_util u "
                "WHERE r.level = u.level AND r.entity_id = u.entity_id"
            )
            cur.execute(
                "INSERT INTO res_utilisation (level, entity_id, period_start_utc, period_end_utc, samples_open, "
                "samples_occupied, utilisation_ratio, threshold_ratio, below_threshold, opening_hours, "
                "computed_at) SELECT level, entity_id, period_start_utc, period_end_utc, samples_open, "
                "samples_occupied, utilisation_ratio, threshold_ratio, below_threshold, opening_hours, ? "
                "FROM __twin_util",
                [computed_at],
            )
        finally:
            cur.unregister("__twin_util")
    return table.num_rows


_ASSETS_SQL = """
SELECT s.sensor_id,
       CASE WHEN s.asset_kind = 'space' THEN s.asset_id END AS space_id,
       CASE s.asset_kind WHEN 'building' THEN s.asset_id WHEN 'space' THEN sp.building_id
            WHEN 'storey' THEN st.building_id WHEN 'element' THEN el.building_id END AS building_id
FROM sensors s
LEFT JOIN spaces sp ON s.asset_kind = 'space' AND sp.space_id = s.asset_id
LEFT JOIN storeys st ON s.asset_kind = 'storey' AND st.storey_id = s.asset_id
LEFT JOIN elements el ON s.asset_kind = 'element' AND el.ifc_guid = s.asset_id
WHERE s.kind = 'occupancy'
"""


def utilisation_from_twin(
    twin: Twin, params: UtilisationParams = DEFAULT_PARAMS, *, store: bool = True
) -> pa.Table:
    """Compute the utilisation of every occupancy sensor of the twin, its space and its building; store it.

    A sensor attached to a space takes the space's building from ``spaces`` (when the IFC is in the twin).
    """
    readings = twin.query(
        "SELECT r.sensor_id, r.time_utc, r.value FROM readings_all r SEMI JOIN sensors s "
        "ON s.sensor_id = r.sensor_id AND s.kind = 'occupancy'"
    )
    assets = twin.query(_ASSETS_SQL)
    result = utilisation(readings, assets, params)
    if store:
        store_utilisation(twin, result, params)
    return result
