"""The twin CRS: parsing and checking a user's CRS code."""

from __future__ import annotations

from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from twin.errors import CrsError

__all__ = ["normalize_crs"]


def normalize_crs(text: str) -> tuple[str, str]:
    """Return ``(AUTHORITY:CODE, name)`` for a user's CRS (``"EPSG:2154"``, ``"epsg:2154"`` or ``"2154"``).

    The twin stores lengths and areas in metres, so the CRS must be projected with metre axes; a geographic CRS
    (degrees) is refused with the reason.
    """
    raw = str(text).strip()
    candidate = f"EPSG:{raw}" if raw.isdigit() else raw
    try:
        crs = CRS.from_user_input(candidate)
    except ProjCRSError as exc:
        raise CrsError(
            f"unknown CRS code '{raw}'", "use an EPSG code such as EPSG:2154 (Lambert-93) or EPSG:3857"
        ) from exc
    authority = crs.to_authority()
    if authority is None:
        raise CrsError(f"CRS '{raw}' has no authority code", "use an EPSG code such as EPSG:2154")
    if not crs.is_projected:
        raise CrsError(
            f"CRS '{raw}' ({crs.name}) is not projected: the twin measures lengths and areas in metres",
            "use a projected CRS, e.g. EPSG:2154 (Lambert-93) in France, or the local UTM zone",
        )
    units = {axis.unit_name for axis in crs.axis_info}
    if units != {"metre"}:
        raise CrsError(
            f"CRS '{raw}' ({crs.name}) has axes in {', '.join(sorted(units))}, not metres",
            "use a projected CRS in metres, e.g. EPSG:2154",
        )
    return f"{authority[0]}:{authority[1]}", crs.name
