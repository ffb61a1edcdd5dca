"""CityJSON 1.1 and 2.0 buildings: a 2D footprint and a height per Building, its BuildingParts aggregated.

The reader only parses and measures; :func:`ingest.gis_buildings.ingest_buildings` maps the attributes,
reprojects and writes, exactly as for Shapefiles and GeoPackages.

What is measured, per Building (its own geometry and that of its BuildingPart descendants together), on the
highest LoD each object carries:

- footprint: the union of the GroundSurface polygons projected to 2D when the geometry has semantics with a
  ground (LoD2, e.g. Zürich); otherwise the plan outline, i.e. the union of the 2D projections of every
  non-vertical surface (LoD1 blocks, e.g. Delft, whose solids have no bottom face);
- height: highest z of the RoofSurfaces minus lowest z of the GroundSurfaces; without those semantics,
  highest z minus lowest z of the geometry.

Vertices are decoded with the file's ``transform`` (``v * scale + translate``, CityJSON 2.0 section 6.3), and
the CRS comes from ``metadata.referenceSystem``; a compound CRS (e.g. EPSG:7415 = RD New + NAP) gives its
horizontal part (EPSG:28992), since footprints are 2D.
"""

from __future__ import annotations

import json
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from twin.errors import TwinError

__all__ = [
    "SUPPORTED_VERSIONS",
    "CityJsonBuildings",
    "horizontal_crs",
    "is_cityjson",
    "load_json",
    "read_cityjson",
]

SUPPORTED_VERSIONS = ("1.1", "2.0")

# Surface semantics the measures use; anything else (walls, closures, installations) counts as "other".
_OTHER, _GROUND, _ROOF = 0, 1, 2
_SEMANTIC_CODES = {"GroundSurface": _GROUND, "RoofSurface": _ROOF}
# Nesting depth of a geometry's boundaries down to its surfaces (CityJSON 2.0 section 3.2).
_SURFACE_DEPTH = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}
# A projected surface smaller than this is a vertical face seen edge-on (m2 in the source CRS units).
_EDGE_ON_M2 = 1e-6
_CITYJSON_TYPE = re.compile(rb'"type"\s*:\s*"CityJSON"')
_EPSG_IN_URL = re.compile(r"EPSG(?:/\d+/|::?)(\d+)\s*$", re.IGNORECASE)


@dataclass
class CityJsonBuildings:
    """The buildings of one CityJSON file, measured, in the file's CRS (see the module docstring)."""

    ids: list[str]
    footprints: np.ndarray
    """2D shapely (multi)polygons, ``None`` where a building has no usable geometry."""
    height_m: np.ndarray
    """Height from the geometry, m (NaN where unknown)."""
    lods: list[str | None]
    attributes: list[dict[str, Any]]
    crs: str | None
    """``AUTHORITY:CODE`` of the horizontal CRS, or None when the file declares none."""
    version: str
    parts: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)


def is_cityjson(path: str | Path) -> bool:
    """True when the file says it is CityJSON (``.city.json`` / ``.cityjson`` or a ``"type": "CityJSON"`` member).

    The type member may come after the city objects (Delft's does), so the whole file is searched (mapped, not
    read into memory). The file must not be empty.
    """
    file = Path(path)
    name = file.name.lower()
    if name.endswith((".city.json", ".cityjson")):
        return True
    if not name.endswith(".json"):
        return False
    with file.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
        return _CITYJSON_TYPE.search(view) is not None


def horizontal_crs(text: str) -> str:
    """The horizontal CRS of a CityJSON ``referenceSystem`` (URL, URN or ``EPSG:n``), as ``AUTHORITY:CODE``.

    Examples
    --------
    >>> horizontal_crs("https://www.opengis.net/def/crs/EPSG/0/7415")
    'EPSG:28992'
    >>> horizontal_crs("urn:ogc:def:crs:EPSG::2056")
    'EPSG:2056'
    """
    match = _EPSG_IN_URL.search(text.strip())
    crs = CRS.from_epsg(int(match.group(1))) if match else CRS.from_user_input(text)
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
    authority = crs.to_authority()
    if authority is None:
        raise ProjCRSError(f"no authority code for {text}")
    return f"{authority[0]}:{authority[1]}"


def read_cityjson(path: str | Path) -> CityJsonBuildings:
    """Read the Buildings of a CityJSON 1.1 or 2.0 file, with footprints and heights measured from the geometry.

    Parameters
    ----------
    path:
        A CityJSON file (not CityJSONSeq).

    Raises
    ------
    TwinError
        The file is not valid JSON (the line is named), not CityJSON, of an unsupported version, or declares a
        reference system that is not understood.
    """
    file = Path(path)
    doc = load_json(file)
    if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
        raise TwinError(
            f'{file} is JSON but not CityJSON (no "type": "CityJSON")',
            "give a CityJSON file; GeoJSON files are read as GIS layers when named .geojson",
        )
    version = str(doc.get("version", ""))
    if version not in SUPPORTED_VERSIONS:
        raise TwinError(
            f"{file} is CityJSON {version or '(no version)'}; "
            f"twin reads CityJSON {' and '.join(SUPPORTED_VERSIONS)}",
            "upgrade it with `cjio FILE upgrade save NEW.city.json`",
        )
    crs = _declared_crs(file, doc)
    vertices = _vertices(file, doc)
    objects: dict[str, Any] = doc.get("CityObjects") or {}
    building_ids = [key for key, obj in objects.items() if obj.get("type") == "Building"]

    flat = _Surfaces()
    lods: list[str | None] = []
    parts = 0
    warnings: list[tuple[str, str]] = []
    for b, key in enumerate(building_ids):
        members = _with_parts(objects, key)
        parts += len(members) - 1
        used: list[str] = []
        for member in members:
            geometry = _highest_lod(objects[member].get("geometry") or [])
            if geometry is None:
                continue
            if geometry["type"] not in _SURFACE_DEPTH:
                warnings.append(
                    (member, f"{geometry['type']} geometry skipped: only surfaces and solids are read")
                )
                continue
            used.append(str(geometry.get("lod")))
            flat.add(b, geometry)
        lods.append(max(used, key=_lod_value) if used else None)

    footprints, height = _measure(flat, vertices, len(building_ids))
    # A LoD0 footprint is flat: it says nothing of the height (unknown, not zero).
    height[np.array([lod is not None and _lod_value(lod) < 1 for lod in lods], dtype=bool)] = np.nan
    return CityJsonBuildings(
        ids=building_ids,
        footprints=footprints,
        height_m=height,
        lods=lods,
        attributes=[dict(objects[key].get("attributes") or {}) for key in building_ids],
        crs=crs,
        version=version,
        parts=parts,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------------- reading
def load_json(file: Path) -> Any:
    """The parsed JSON file, or a :class:`TwinError` naming the line and column where it breaks."""
    try:
        with file.open("rb") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise TwinError(
            f"{file}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})",
            "the file is damaged or truncated: export or download it again",
        ) from exc
    except UnicodeDecodeError as exc:
        raise TwinError(f"{file} is not UTF-8 text, so not JSON", "JSON files are UTF-8: export it again") from exc


def _declared_crs(file: Path, doc: dict[str, Any]) -> str | None:
    reference = (doc.get("metadata") or {}).get("referenceSystem")
    if not reference:
        return None
    try:
        return horizontal_crs(str(reference))
    except ProjCRSError as exc:
        raise TwinError(
            f"{file} declares the reference system '{reference}', which is not understood",
            "fix metadata.referenceSystem (e.g. https://www.opengis.net/def/crs/EPSG/0/7415) or give --crs",
        ) from exc


def _vertices(file: Path, doc: dict[str, Any]) -> np.ndarray:
    raw = doc.get("vertices") or []
    vertices = np.asarray(raw, dtype=np.float64).reshape(-1, 3) if raw else np.zeros((0, 3))
    transform = doc.get("transform")
    if transform:
        try:
            vertices = vertices * np.asarray(transform["scale"], float) + np.asarray(transform["translate"], float)
        except (KeyError, ValueError) as exc:
            raise TwinError(f"{file}: the transform needs a 3-number scale and translate", "fix the file") from exc
    return vertices


def _with_parts(objects: dict[str, Any], key: str) -> list[str]:
    """The building and its BuildingPart descendants (installations, rooms and storeys are left out)."""
    members, stack = [key], list(objects[key].get("children") or [])
    while stack:
        child = stack.pop()
        obj = objects.get(child)
        if obj is not None and obj.get("type") == "BuildingPart" and child not in members:
            members.append(child)
            stack.extend(obj.get("children") or [])
    return members


def _lod_value(lod: object) -> float:
    try:
        return float(str(lod))
    except ValueError:
        return -1.0


def _highest_lod(geometries: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(geometries, key=lambda g: _lod_value(g.get("lod")), default=None)


class _Surfaces:
    """Every surface of the chosen geometries, flattened: vertex indices per ring, rings per surface."""

    def __init__(self) -> None:
        self.vertex_ids: list[int] = []
        self.ring_sizes: list[int] = []
        self.rings_per_surface: list[int] = []
        self.building: list[int] = []
        self.semantic: list[int] = []

    def add(self, building: int, geometry: dict[str, Any]) -> None:
        depth = _SURFACE_DEPTH[geometry["type"]]
        surfaces: list[Any] = geometry.get("boundaries") or []
        semantics = geometry.get("semantics") or {}
        kinds = [_SEMANTIC_CODES.get(s.get("type"), _OTHER) for s in semantics.get("surfaces") or []]
        values: Any = semantics.get("values")
        for _ in range(depth - 1):
            if values is not None:
                values = [v for shell, n in zip(values, surfaces, strict=False) for v in _or_nones(shell, len(n))]
            surfaces = [s for shell in surfaces for s in shell]
        values = _or_nones(values, len(surfaces))
        for surface, value in zip(surfaces, values, strict=True):
            rings = [ring for ring in surface if len(ring) >= 3]
            if not rings or len(surface[0]) < 3:
                continue
            for ring in rings:
                self.vertex_ids.extend(ring)
                self.ring_sizes.append(len(ring))
            self.rings_per_surface.append(len(rings))
            self.building.append(building)
            self.semantic.append(kinds[value] if value is not None and value < len(kinds) else _OTHER)


def _or_nones(values: Any, n: int) -> list[Any]:
    return list(values) if values is not None else [None] * n


# ---------------------------------------------------------------------------------------------------- measuring
def _measure(flat: _Surfaces, vertices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Footprints and heights of ``n`` buildings from their flattened surfaces (vectorised over surfaces)."""
    footprints = np.full(n, None, dtype=object)
    height = np.full(n, np.nan)
    if not flat.building:
        return footprints, height
    ids = np.asarray(flat.vertex_ids, dtype=np.int64)
    if ids.min() < 0 or ids.max() >= len(vertices):
        raise TwinError("a CityJSON surface refers to a vertex that does not exist", "the file is damaged")
    ring_sizes = np.asarray(flat.ring_sizes, dtype=np.int64)
    rings_per_surface = np.asarray(flat.rings_per_surface, dtype=np.int64)
    building = np.asarray(flat.building, dtype=np.int64)
    semantic = np.asarray(flat.semantic, dtype=np.int8)

    # z range of each surface over all its rings.
    vertex_surface_starts = np.concatenate(([0], np.cumsum(ring_sizes)))[
        np.concatenate(([0], np.cumsum(rings_per_surface)))[:-1]
    ]
    z = vertices[ids, 2]
    z_min = np.minimum.reduceat(z, vertex_surface_starts)
    z_max = np.maximum.reduceat(z, vertex_surface_starts)

    # 2D polygons of every surface: close each ring by repeating its first vertex.
    ring_starts = np.concatenate(([0], np.cumsum(ring_sizes)[:-1]))
    closed = np.insert(ids, ring_starts + ring_sizes, ids[ring_starts])
    ring_offsets = np.concatenate(([0], np.cumsum(ring_sizes + 1)))
    surface_offsets = np.concatenate(([0], np.cumsum(rings_per_surface)))
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, vertices[closed, :2], (ring_offsets, surface_offsets)
    )

    has_ground = np.bincount(building[semantic == _GROUND], minlength=n) > 0
    has_roof = np.bincount(building[semantic == _ROOF], minlength=n) > 0
    ground_rule = has_ground[building]
    in_footprint = np.where(ground_rule, semantic == _GROUND, shapely.area(polygons) > _EDGE_ON_M2)
    bottom = np.full(n, np.inf)
    np.minimum.at(bottom, building, np.where(ground_rule & (semantic != _GROUND), np.inf, z_min))
    top = np.full(n, -np.inf)
    np.maximum.at(top, building, np.where(has_roof[building] & (semantic != _ROOF), -np.inf, z_max))
    measured = np.isfinite(bottom) & np.isfinite(top)
    height[measured] = (top - bottom)[measured]

    chosen = polygons[in_footprint]
    invalid = ~shapely.is_valid(chosen)
    if invalid.any():  # a twisted or degenerate face: repaired; what collapses to a line is dropped
        chosen[invalid] = shapely.make_valid(chosen[invalid], method="structure", keep_collapsed=False)
    parts, index = shapely.get_parts(chosen, return_index=True)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    owners, grouped = np.unique(building[in_footprint][index[keep]], return_inverse=True)
    if len(owners):
        # "structure" unions the parts of each multipolygon (adjacent triangles, the ground of several parts).
        merged = shapely.make_valid(
            shapely.multipolygons(parts[keep], indices=grouped), method="structure", keep_collapsed=False
        )
        footprints[owners] = np.where(shapely.is_empty(merged), None, merged)
    return footprints, height
