"""Monthly climate for the energy balance, from an EnergyPlus weather file (EPW) read with pvlib.

:func:`read_climate` checks the file line by line first (a missing file, a header that is not an EPW, a data
line with a missing or non-numeric field are each one :class:`~twin.errors.TwinError` naming the file and the
line), then reads it with :func:`pvlib.iotools.read_epw` and reduces the 8,760 hours to twelve months:

- mean outdoor dry-bulb temperature per month, degC, and the hours of each month;
- total solar irradiance per month on a vertical plane facing each of the eight compass orientations and on the
  horizontal, kWh/m2, from :func:`pvlib.irradiance.get_total_irradiance` (isotropic sky, ground albedo from the
  parameter; solar position at the middle of each EPW hour, whose values cover the hour *ending* at the stamp).

These are the inputs of the monthly quasi-steady balance of ISO 13790 / ISO 52016-1 (methods.md 2.1).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.errors import TwinError

__all__ = [
    "ORIENTATIONS",
    "ORIENTATION_AZIMUTH_DEG",
    "PV_PLANES",
    "Climate",
    "climate_from_hourly",
    "read_climate",
]

ORIENTATIONS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW", "horizontal")
"""The orientations of the twin's envelope surfaces (``envelope_surfaces.orientation``), in this order."""

ORIENTATION_AZIMUTH_DEG = (0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0)
"""Azimuth of the outward normal of the vertical orientations, degrees clockwise from north (pvlib convention)."""

PV_PLANES = ((30.0, 180.0), (30.0, 135.0), (30.0, 225.0), (30.0, 90.0), (30.0, 270.0), (10.0, 180.0), (0.0, 180.0))
"""(tilt, azimuth) planes whose annual irradiance :func:`climate_from_hourly` also computes, for rooftop PV."""

_EPW_FIELDS = 35  # an EPW data line has 35 comma-separated fields
_NUMERIC = {0: "year", 1: "month", 2: "day", 3: "hour", 6: "dry bulb temperature", 13: "global horizontal",
            14: "direct normal", 15: "diffuse horizontal"}  # fmt: skip


@dataclass(frozen=True)
class Climate:
    """Twelve months of climate for the energy balance.

    Attributes
    ----------
    name : where it comes from (the EPW location line, or the caller's label).
    theta_e_c : mean outdoor temperature per month, degC, shape (12,).
    hours : hours in each month, shape (12,).
    irradiance_kwh_m2 : monthly total irradiance, kWh/m2, shape (9, 12): the rows follow :data:`ORIENTATIONS`
        (eight vertical planes, then the horizontal).
    latitude, longitude : degrees, for rooftop PV.
    source : the file path, or ``None``.
    pv_planes_kwh_m2 : annual irradiance on the tilted planes of :data:`PV_PLANES`, kWh/m2, keyed (tilt, azimuth).
    """

    name: str
    theta_e_c: np.ndarray
    hours: np.ndarray
    irradiance_kwh_m2: np.ndarray
    latitude: float
    longitude: float
    source: str | None = None
    pv_planes_kwh_m2: Mapping[tuple[float, float], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if np.shape(self.theta_e_c) != (12,) or np.shape(self.hours) != (12,):
            raise ValueError("a Climate needs 12 monthly temperatures and 12 month lengths")
        if np.shape(self.irradiance_kwh_m2) != (len(ORIENTATIONS), 12):
            raise ValueError(f"irradiance_kwh_m2 must have shape ({len(ORIENTATIONS)}, 12)")


def _check_epw(path: Path) -> None:
    """Raise a TwinError naming the first line of ``path`` that is not a valid EPW line."""
    if not path.is_file():
        raise TwinError(
            f"weather file {path}: not found",
            "give an EnergyPlus .epw file (e.g. from climate.onebuilding.org) with --weather",
        )
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise TwinError(f"weather file {path}: cannot be read ({exc.strerror})", "check the file") from exc
    lines = text.splitlines()
    if not lines or not lines[0].startswith("LOCATION,"):
        raise TwinError(
            f"weather file {path}, line 1: not an EPW header (expected 'LOCATION,...')",
            "give an EnergyPlus weather file (.epw); its first line starts with LOCATION",
        )
    location = lines[0].split(",")
    try:
        float(location[6]), float(location[7])
    except (IndexError, ValueError):
        raise TwinError(
            f"weather file {path}, line 1: the LOCATION line has no latitude/longitude", "check the EPW header"
        ) from None
    data = lines[8:]
    if len(data) < 8760:
        raise TwinError(
            f"weather file {path}, line {len(lines) + 1}: {len(data)} hourly lines, 8,760 expected (a full year)",
            "the monthly balance needs a full year of hours: use a complete EPW (TMY) file",
        )
    for index, line in enumerate(data[:8784], start=9):
        fields = line.split(",")
        if len(fields) < _EPW_FIELDS - 3:
            raise TwinError(
                f"weather file {path}, line {index}: {len(fields)} fields, {_EPW_FIELDS} expected",
                "the file is truncated or not an EPW: replace it",
            )
        for column, what in _NUMERIC.items():
            try:
                float(fields[column])
            except ValueError:
                raise TwinError(
                    f"weather file {path}, line {index}: {what} '{fields[column]}' is not a number",
                    "the file is malformed: replace it with a valid EPW",
                ) from None


def climate_from_hourly(
    times: object,
    temp_air_c: np.ndarray,
    ghi: np.ndarray,
    dni: np.ndarray,
    dhi: np.ndarray,
    latitude: float,
    longitude: float,
    *,
    name: str = "hourly weather",
    albedo: float = 0.2,
    source: str | None = None,
) -> Climate:
    """Monthly temperatures and irradiance on the nine envelope planes from hourly weather (W/m2, degC).

    ``times`` is a tz-aware :class:`pandas.DatetimeIndex` of the *middle* of each hour. Irradiance on each plane
    is :func:`pvlib.irradiance.get_total_irradiance` (``poa_global``, isotropic sky) summed per month, / 1000.
    """
    import pandas as pd
    import pvlib

    index = pd.DatetimeIndex(times)  # type: ignore[arg-type]
    solpos = pvlib.solarposition.get_solarposition(index, latitude, longitude)
    zenith = solpos["apparent_zenith"].to_numpy()
    azimuth = solpos["azimuth"].to_numpy()
    months = index.month.to_numpy() - 1
    planes = [(90.0, az) for az in ORIENTATION_AZIMUTH_DEG] + [(0.0, 180.0)] + list(PV_PLANES)
    irradiance = np.zeros((len(planes), 12))
    for row, (tilt, az) in enumerate(planes):
        poa = pvlib.irradiance.get_total_irradiance(
            tilt, az, zenith, azimuth, dni, ghi, dhi, albedo=albedo, model="isotropic"
        )["poa_global"]
        values = np.nan_to_num(np.asarray(poa, dtype=float), nan=0.0).clip(min=0.0)
        irradiance[row] = np.bincount(months, weights=values, minlength=12) / 1000.0
    hours = np.bincount(months, minlength=12).astype(float)
    theta = np.bincount(months, weights=np.asarray(temp_air_c, float), minlength=12) / np.maximum(hours, 1)
    nine = len(ORIENTATIONS)
    pv = {plane: float(irradiance[nine + i].sum()) for i, plane in enumerate(PV_PLANES)}
    return Climate(name, theta, hours, irradiance[:nine], float(latitude), float(longitude), source, pv)


def read_climate(path: str | Path, *, albedo: float = 0.2) -> Climate:
    """The monthly :class:`Climate` of an EPW file.

    Raises :class:`~twin.errors.TwinError` naming the file and the line when the file is missing, is not an
    EPW, or has a missing or non-numeric field in an hourly line.
    """
    import pandas as pd
    import pvlib

    file = Path(path)
    _check_epw(file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas/pvlib deprecation chatter on EPW parsing is not the user's
        data, meta = pvlib.iotools.read_epw(str(file), coerce_year=2001)
    data = data.iloc[:8760]
    middle = data.index - pd.Timedelta(minutes=30)  # EPW values cover the hour ending at the stamp
    name = f"{meta.get('city', '?')} ({meta.get('country', '?')}), {file.name}"
    return climate_from_hourly(
        middle,
        data["temp_air"].to_numpy(float),
        data["ghi"].to_numpy(float),
        data["dni"].to_numpy(float),
        data["dhi"].to_numpy(float),
        float(meta["latitude"]),
        float(meta["longitude"]),
        name=name,
        albedo=albedo,
        source=str(file),
    )
