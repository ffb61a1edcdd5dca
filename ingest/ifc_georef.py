"""Where an IFC model lies in the twin CRS: IfcMapConversion, IFC2X3 ePSet_MapConversion, IfcRigidOperation,
IfcSite RefLatitude/RefLongitude, or the user's ``--at``; and a report when these sources disagree.

The result is a similarity transform from the model's local coordinates (metres, as the geometry kernel gives
them) to the twin CRS: ``map = origin + scale * R(rotation) * local``. When the IFC's own CRS differs from the
twin's, the transform is fitted at the model's origin with pyproj (exact for the origin, within millimetres over
a building's extent).

IfcMapConversion maths (IFC4 8.18.3.7): E = Eastings + s·(x·cosθ − y·sinθ), N = Northings + s·(x·sinθ + y·cosθ),
θ = atan2(XAxisOrdinate, XAxisAbscissa). The scale ``s`` takes local lengths in project units to map units. Files
disagree on its direction: IFC4 says Scale itself converts the units (0.001 for a millimetre model and metre
map), IFC4.3 says units are converted first and Scale is the residual factor (e.g. 0.9996), and some published
examples write 1000 for a millimetre model. This module reads Scale = 1/unit (the last case) and Scale = unit
(IFC4) as a unit declaration, anything else as the residual factor, and says which reading it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.unit
import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from twin.errors import TwinError

__all__ = ["DISAGREEMENT_M", "Georeference", "georeference"]

DISAGREEMENT_M = 5.0
"""Positions of the model origin from two sources further apart than this are reported (metres)."""


@dataclass(frozen=True)
class Placement:
    method: str
    x: float
    y: float
    z: float
    rotation_rad: float
    scale: float
    note: str = ""


@dataclass
class Georeference:
    """The chosen placement of the model in the twin CRS, with every source that was found."""

    method: str
    origin_x_m: float
    origin_y_m: float
    origin_z_m: float
    rotation_rad: float
    scale: float
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rotation_deg(self) -> float:
        return math.degrees(self.rotation_rad)

    def to_twin(self, xyz: np.ndarray) -> np.ndarray:
        """Local model coordinates (n, 3) in metres -> twin CRS (n, 3)."""
        c, s = math.cos(self.rotation_rad), math.sin(self.rotation_rad)
        out = np.empty_like(xyz, dtype=np.float64)
        out[:, 0] = self.origin_x_m + self.scale * (c * xyz[:, 0] - s * xyz[:, 1])
        out[:, 1] = self.origin_y_m + self.scale * (s * xyz[:, 0] + c * xyz[:, 1])
        out[:, 2] = self.origin_z_m + self.scale * xyz[:, 2]
        return out

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "sources": self.sources, "notes": self.notes}


def _horizontal(crs: CRS) -> CRS:
    if crs.is_compound:
        return crs.sub_crs_list[0]
    return crs


def _crs(name: str | None, path: str) -> CRS:
    if not name:
        raise TwinError(f"{path}: the map conversion names no CRS", "give --at X,Y,ROTATION to place the model")
    try:
        return _horizontal(CRS.from_user_input(name))
    except CRSError as exc:
        raise TwinError(f"{path}: unknown CRS '{name}' in the georeferencing", "give --at X,Y,ROTATION") from exc


def _to_twin(crs: CRS, twin_crs: str, x: float, y: float, theta: float, scale: float, z: float) -> Placement:
    """Fit origin, rotation and scale in the twin CRS from a placement in another CRS."""
    target = CRS.from_user_input(twin_crs)
    if crs.equals(target, ignore_axis_order=True):
        return Placement("", x, y, z, theta, scale)
    tr = Transformer.from_crs(crs, target, always_xy=True)
    if crs.is_geographic:
        raise ValueError("geographic placements go through _from_lonlat")
    step = 100.0
    x0, y0 = tr.transform(x, y)
    x1, y1 = tr.transform(x + step * math.cos(theta), y + step * math.sin(theta))
    rot = math.atan2(y1 - y0, x1 - x0)
    s = scale * math.hypot(x1 - x0, y1 - y0) / step
    return Placement("", x0, y0, z, rot, s)


def _from_lonlat(lon: float, lat: float, z: float, theta_from_north: float, twin_crs: str) -> Placement:
    target = CRS.from_user_input(twin_crs)
    tr = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    x0, y0 = tr.transform(lon, lat)
    # Grid north of the twin CRS differs from true north by the meridian convergence: measure it locally.
    xn, yn = tr.transform(lon, lat + 0.001)
    convergence = math.atan2(yn - y0, xn - x0) - math.pi / 2
    return Placement("", x0, y0, z, theta_from_north + convergence, 1.0)


def _dms(value: Any) -> float | None:
    if not value:
        return None
    parts = list(value) + [0] * (4 - len(value))
    d, m, s, us = (float(p) for p in parts[:4])
    sign = -1.0 if (d < 0 or m < 0 or s < 0 or us < 0) else 1.0
    return sign * (abs(d) + abs(m) / 60 + abs(s) / 3600 + abs(us) / 3.6e9)


def _true_north_rotation(model: ifcopenshell.file) -> float:
    """Angle of the local x axis from map east, from the context's TrueNorth (local direction of north)."""
    for context in model.by_type("IfcGeometricRepresentationContext", include_subtypes=False):
        north = getattr(context, "TrueNorth", None)
        if north is not None:
            nx, ny = north.DirectionRatios[0], north.DirectionRatios[1]
            return math.pi / 2 - math.atan2(ny, nx)
    return 0.0


def _scale(declared: float | None, unit_m: float) -> tuple[float, str]:
    """Local metres -> map units, from Scale and the project length unit (see the module docstring)."""
    if declared is None or declared == 0:
        return 1.0, "no Scale: 1"
    if math.isclose(declared * unit_m, 1.0, rel_tol=1e-6) and unit_m != 1.0:
        return 1.0, f"Scale {declared:g} read as the unit ratio of a model in {unit_m:g} m units"
    if math.isclose(declared, unit_m, rel_tol=1e-6) and unit_m != 1.0:
        return 1.0, f"Scale {declared:g} read as the IFC4 unit conversion"
    return declared, f"Scale {declared:g} applied after unit conversion"


def georeference(
    model: ifcopenshell.file, path: str, twin_crs: str, at: tuple[float, float, float] | None = None
) -> Georeference:
    """Every placement source of the model, the one chosen, and notes where they disagree.

    Priority: ``at`` (the user's override, in the twin CRS: x, y, rotation in degrees), IfcMapConversion
    (IFC4/4X3) or the IFC2X3 ePSet_MapConversion, IfcRigidOperation, IfcSite RefLatitude/RefLongitude.
    """
    unit_m = ifcopenshell.util.unit.calculate_unit_scale(model)
    found: list[Placement] = []
    if at is not None:
        found.append(Placement("at", at[0], at[1], 0.0, math.radians(at[2]), 1.0, "given with --at"))

    conversion = None
    method = "map_conversion"
    if model.schema == "IFC2X3":
        for holder in model.by_type("IfcProject") + model.by_type("IfcSite"):
            pset = ifcopenshell.util.element.get_pset(holder, "ePSet_MapConversion")
            if pset:
                crs_pset = ifcopenshell.util.element.get_pset(holder, "ePSet_ProjectedCRS") or {}
                conversion = {**pset, "crs": crs_pset.get("Name")}
                method = "epset_map_conversion"
                break
    else:
        for op in model.by_type("IfcCoordinateOperation"):
            if op.is_a("IfcMapConversion"):
                conversion = {
                    "Eastings": op.Eastings,
                    "Northings": op.Northings,
                    "OrthogonalHeight": op.OrthogonalHeight,
                    "XAxisAbscissa": op.XAxisAbscissa,
                    "XAxisOrdinate": op.XAxisOrdinate,
                    "Scale": op.Scale,
                    "crs": op.TargetCRS.Name if op.TargetCRS else None,
                }
            elif op.is_a("IfcRigidOperation") and op.TargetCRS is not None:
                first, second = op.FirstCoordinate.wrappedValue, op.SecondCoordinate.wrappedValue
                crs = _crs(op.TargetCRS.Name, path)
                if op.FirstCoordinate.is_a("IfcPlaneAngleMeasure") or crs.is_geographic:
                    p = _from_lonlat(first, second, op.Height or 0.0, 0.0, twin_crs)
                else:
                    p = _to_twin(crs, twin_crs, first, second, 0.0, 1.0, op.Height or 0.0)
                found.append(
                    Placement(
                        "rigid_operation",
                        p.x,
                        p.y,
                        p.z,
                        p.rotation_rad,
                        p.scale,
                        f"IfcRigidOperation in {op.TargetCRS.Name}",
                    )
                )
    if conversion is not None:
        theta = math.atan2(conversion.get("XAxisOrdinate") or 0.0, conversion.get("XAxisAbscissa") or 1.0)
        scale, how = _scale(conversion.get("Scale"), unit_m)
        crs = _crs(conversion.get("crs"), path)
        p = _to_twin(
            crs,
            twin_crs,
            float(conversion.get("Eastings") or 0.0),
            float(conversion.get("Northings") or 0.0),
            theta,
            scale,
            float(conversion.get("OrthogonalHeight") or 0.0),
        )
        found.append(
            Placement(
                method,
                p.x,
                p.y,
                p.z,
                p.rotation_rad,
                p.scale,
                f"{'ePSet_' if method.startswith('epset') else 'Ifc'}MapConversion in "
                f"{conversion.get('crs')}; {how}",
            )
        )

    sites = model.by_type("IfcSite")
    if sites:
        lat, lon = _dms(sites[0].RefLatitude), _dms(sites[0].RefLongitude)
        if lat is not None and lon is not None:
            p = _from_lonlat(
                lon, lat, float(sites[0].RefElevation or 0.0) * unit_m, _true_north_rotation(model), twin_crs
            )
            found.append(
                Placement(
                    "site_reflatlon",
                    p.x,
                    p.y,
                    p.z,
                    p.rotation_rad,
                    1.0,
                    f"IfcSite RefLatitude {lat:.6f} RefLongitude {lon:.6f}",
                )
            )

    if not found:
        return Georeference(
            "none",
            0.0,
            0.0,
            0.0,
            0.0,
            1.0,
            [],
            [
                f"{path} has no georeferencing (no IfcMapConversion, no RefLatitude/RefLongitude): placed at the "
                "twin CRS origin; give --at X,Y,ROTATION to place it"
            ],
        )
    chosen = found[0]
    geo = Georeference(chosen.method, chosen.x, chosen.y, chosen.z, chosen.rotation_rad, chosen.scale)
    geo.sources = [
        {
            "method": p.method,
            "x_m": round(p.x, 3),
            "y_m": round(p.y, 3),
            "z_m": round(p.z, 3),
            "rotation_deg": round(math.degrees(p.rotation_rad), 4),
            "scale": p.scale,
            "note": p.note,
        }
        for p in found
    ]
    for other in found[1:]:
        gap = math.hypot(other.x - chosen.x, other.y - chosen.y)
        if gap > DISAGREEMENT_M:
            geo.notes.append(
                f"georeferencing sources disagree by {gap:,.0f} m: {chosen.method} puts the origin at "
                f"({chosen.x:,.2f}, {chosen.y:,.2f}), {other.method} at ({other.x:,.2f}, {other.y:,.2f}) "
                f"in {twin_crs}; {chosen.method} was used"
            )
    return geo
