"""Building facts derived from an IFC model's elements and meshes: the inputs of reversibility and energy.

Pure functions: element records and meshes (x, y in the twin CRS, z in the model's metres) in, facts out.

- footprint: union of the 2D hulls of slabs, walls and columns (roofs left out: overhangs are not floor area);
- depth and length: sides of the footprint's minimum rotated rectangle (Canal's 13 m depth, methods.md 1.2 row 1,
  is read against ``depth_m``); ``max_facade_distance_m``: radius of the largest circle inscribed in the
  footprint (the largest distance from floor area to the nearest facade);
- per storey: gross floor area (union of its floor slabs' hulls, else the footprint), floor-to-floor height
  (to the next storey), free height (floor top to the lowest slab, roof or ceiling covering above it), window
  area over floor area (RT2012 art. 20's 1/6 rule, methods.md 1.4, is checked against it by reversibility);
- envelope: outward-facing triangles of external walls, windows and doors binned by compass orientation,
  upward faces of roofs, downward faces of ground slabs, each with its element's U-value;
- stairs, lifts and shafts with their distance to the facade (``facade`` when within ``facade_band_m``) and
  stair cores (stairs within ``core_cluster_m`` of each other form one core);
- structure: load-bearing wall length per m2 of floor area (all, and internal only), column count and the
  median column spacing along the principal axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ingest.ifc_model import ElementRecord, StoreyRecord

__all__ = ["BuildingFacts", "FactParams", "derive_facts"]

_SECTORS = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")


@dataclass(frozen=True)
class FactParams:
    """Tolerances of the derivations (conventions of this module, not regulatory figures)."""

    facade_band_m: float = 4.0  # a core within this distance of the facade is "at the facade"
    core_cluster_m: float = 3.0  # stairs closer than this belong to the same core
    min_free_height_m: float = 1.8  # an element less than this above a floor is furniture, not a ceiling
    ground_tolerance_m: float = 0.5  # storeys above -this elevation count as above ground


@dataclass
class StoreyFacts:
    guid: str
    level_index: int
    elevation_m: float
    floor_to_floor_m: float | None
    free_height_m: float | None
    gross_floor_area_m2: float | None
    window_area_m2: float
    window_to_floor_ratio: float | None


@dataclass
class BuildingFacts:
    building_guid: str
    footprint: shapely.Geometry | None
    facts: dict[str, Any]
    storeys: list[StoreyFacts]
    envelope: list[dict[str, Any]]
    circulation: list[dict[str, Any]]
    evidence: dict[str, Any] = field(default_factory=dict)


def _hull(v: np.ndarray) -> shapely.Geometry:
    return shapely.convex_hull(shapely.multipoints(v[:, :2]))


def _triangles(v: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangle areas, unit normals and centroids."""
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    cross = np.cross(b - a, c - a)
    norm = np.linalg.norm(cross, axis=1)
    area = 0.5 * norm
    with np.errstate(invalid="ignore", divide="ignore"):
        normal = np.where(norm[:, None] > 0, cross / norm[:, None], 0.0)
    return area, normal, (a + b + c) / 3.0


def _sector(azimuth_rad: np.ndarray) -> np.ndarray:
    """Compass sector of an outward normal's direction (angle from east, anticlockwise)."""
    index = np.round(np.mod(azimuth_rad, 2 * np.pi) / (np.pi / 4)).astype(int) % 8
    return np.array(_SECTORS)[index]


def _is_slab(e: ElementRecord) -> bool:
    return e.ifc_class.startswith("IfcSlab") and e.predefined_type not in ("ROOF",)


def _is_roof(e: ElementRecord) -> bool:
    return e.ifc_class == "IfcRoof" or (e.ifc_class.startswith("IfcSlab") and e.predefined_type == "ROOF")


def derive_facts(
    building_guid: str,
    elements: list[ElementRecord],
    spaces: list[ElementRecord],
    storeys: list[StoreyRecord],
    meshes: dict[str, tuple[np.ndarray, np.ndarray]],
    params: FactParams | None = None,
) -> BuildingFacts:
    """Facts of one building from its elements, spaces, storeys and meshes (see the module docstring)."""
    p = params or FactParams()
    mine = [e for e in elements if e.building_guid == building_guid]
    with_mesh = [e for e in mine if e.guid in meshes and len(meshes[e.guid][1])]

    # Footprint and its rectangle.
    base = [
        _hull(meshes[e.guid][0])
        for e in with_mesh
        if _is_slab(e) or e.ifc_class.startswith(("IfcWall", "IfcColumn", "IfcCurtainWall"))
    ]
    base = [g for g in base if shapely.area(g) > 0]
    footprint = None
    facts: dict[str, Any] = {}
    if base:
        union = shapely.union_all(base)
        polygons = [g for g in getattr(union, "geoms", [union]) if g.geom_type == "Polygon"]
        footprint = shapely.MultiPolygon([shapely.Polygon(g.exterior) for g in polygons])
        footprint = shapely.union_all(footprint) if len(polygons) > 1 else shapely.Polygon(polygons[0].exterior)
        rect = shapely.minimum_rotated_rectangle(footprint)
        corners = np.asarray(rect.exterior.coords)[:4]
        sides = np.diff(np.vstack([corners, corners[:1]]), axis=0)
        lengths = np.hypot(sides[:, 0], sides[:, 1])
        long_side = sides[int(np.argmax(lengths))]
        facts["depth_m"] = float(lengths.min())
        facts["length_m"] = float(lengths.max())
        facts["principal_axis_deg"] = float(np.degrees(np.arctan2(long_side[1], long_side[0])) % 180.0)
        facts["footprint_area_m2"] = float(footprint.area)
        facts["max_facade_distance_m"] = float(shapely.maximum_inscribed_circle(footprint, 0.05).length)
    axis = math.radians(facts.get("principal_axis_deg", 0.0))

    # Storeys: levels, heights, areas, windows.
    mine_storeys = sorted((s for s in storeys if s.building_guid == building_guid), key=lambda s: s.elevation_m)
    elevations = [s.elevation_m for s in mine_storeys]
    above = [i for i, z in enumerate(elevations) if z >= -p.ground_tolerance_m]
    ground = above[0] if above else max(len(mine_storeys) - 1, 0)
    ceilings = [
        e
        for e in with_mesh
        if _is_slab(e) or _is_roof(e) or (e.ifc_class.startswith("IfcCovering") and e.predefined_type == "CEILING")
    ]
    ceiling_min = np.array([meshes[e.guid][0][:, 2].min() for e in ceilings]) if ceilings else np.array([])
    structural_min = np.array(
        [meshes[e.guid][0][:, 2].min() for e in ceilings if not e.ifc_class.startswith("IfcCovering")] or [np.inf]
    )
    storey_facts = []
    total_window = 0.0
    total_gfa = 0.0
    for i, storey in enumerate(mine_storeys):
        slabs = [e for e in with_mesh if e.storey_guid == storey.guid and _is_slab(e)]
        floor_top = max((meshes[e.guid][0][:, 2].max() for e in slabs), default=storey.elevation_m)
        above_floor = ceiling_min > floor_top + p.min_free_height_m
        free = None
        if above_floor.any():
            free = float(np.min(ceiling_min[above_floor]) - floor_top)
        if i + 1 < len(mine_storeys):
            f2f: float | None = mine_storeys[i + 1].elevation_m - storey.elevation_m
        else:  # top storey: up to the structure above (slab or roof), plus this floor's own slab
            overhead = structural_min > floor_top + p.min_free_height_m
            slab_depth = max((floor_top - meshes[e.guid][0][:, 2].min() for e in slabs), default=0.0)
            f2f = float(np.min(structural_min[overhead]) - floor_top + slab_depth) if overhead.any() else None
        hulls = [_hull(meshes[e.guid][0]) for e in slabs]
        gfa = float(shapely.union_all(hulls).area) if hulls else (facts.get("footprint_area_m2"))
        windows = [e for e in mine if e.storey_guid == storey.guid and e.ifc_class.startswith("IfcWindow")]
        w_area = 0.0
        for w in windows:
            if w.overall_width_m and w.overall_height_m:
                w_area += w.overall_width_m * w.overall_height_m
            elif w.guid in meshes:
                w_area += _outward_area(meshes[w.guid], footprint)
        total_window += w_area
        total_gfa += gfa or 0.0
        storey_facts.append(
            StoreyFacts(
                storey.guid,
                i - ground,
                storey.elevation_m,
                f2f,
                free,
                gfa,
                w_area,
                (w_area / gfa) if gfa else None,
            )
        )
    facts["storeys_above_ground"] = len(mine_storeys) - ground if mine_storeys else None
    facts["gross_floor_area_m2"] = total_gfa or None
    facts["window_to_floor_ratio"] = (total_window / total_gfa) if total_gfa else None
    if with_mesh:
        top = max(float(meshes[e.guid][0][:, 2].max()) for e in with_mesh)
        facts["height_m"] = top - (mine_storeys[ground].elevation_m if mine_storeys else 0.0)

    evidence: dict[str, Any] = {}
    inferred = infer_external(with_mesh, meshes, footprint)
    envelope = _envelope(with_mesh, meshes, footprint, inferred)
    if inferred:
        evidence["external_inferred_from_geometry"] = sorted(inferred)
    circulation, core_facts, core_evidence = _circulation(mine, spaces, building_guid, meshes, footprint, p)
    facts.update(core_facts)
    evidence.update(core_evidence)
    structure, structure_evidence = _structure(with_mesh, meshes, axis, total_gfa)
    facts.update(structure)
    evidence.update(structure_evidence)
    return BuildingFacts(building_guid, footprint, facts, storey_facts, envelope, circulation, evidence)


def infer_external(
    elements: list[ElementRecord],
    meshes: dict[str, tuple[np.ndarray, np.ndarray]],
    footprint: shapely.Geometry | None,
    tolerance_m: float = 0.15,
) -> set[str]:
    """GlobalIds of walls whose IsExternal the file does not state but whose geometry is on the facade.

    A wall is on the facade when at least half of its length runs along the footprint's outline (within
    ``tolerance_m`` of the wall's outline).
    """
    if footprint is None:
        return set()
    ring = footprint.exterior
    found = set()
    for e in elements:
        if e.is_external is not None or not e.ifc_class.startswith(("IfcWall", "IfcCurtainWall")):
            continue
        hull = _hull(meshes[e.guid][0])
        rect = shapely.minimum_rotated_rectangle(hull)
        coords = np.asarray(rect.exterior.coords) if rect.geom_type == "Polygon" else None
        if coords is None:
            continue
        length = float(np.hypot(*np.diff(coords, axis=0).T).max())
        if length > 0 and ring.intersection(hull.buffer(tolerance_m)).length >= 0.5 * length:
            found.add(e.guid)
    return found


def _outward_area(mesh: tuple[np.ndarray, np.ndarray], footprint: shapely.Geometry | None) -> float:
    v, f = mesh
    area, normal, centre = _triangles(v, f)
    vertical = np.abs(normal[:, 2]) < 0.2
    if footprint is None:
        return float(area[vertical].sum() / 2)
    c = np.array(footprint.centroid.coords[0])
    outward = (normal[:, 0] * (centre[:, 0] - c[0]) + normal[:, 1] * (centre[:, 1] - c[1])) > 0
    return float(area[vertical & outward].sum())


def _envelope(
    elements: list[ElementRecord],
    meshes: dict[str, tuple[np.ndarray, np.ndarray]],
    footprint: shapely.Geometry | None,
    inferred: set[str],
) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    external_walls = {
        e.guid
        for e in elements
        if e.ifc_class.startswith(("IfcWall", "IfcCurtainWall")) and (e.is_external or e.guid in inferred)
    }
    centre = np.array(footprint.centroid.coords[0]) if footprint is not None else None
    lowest_slab_z = min((meshes[e.guid][0][:, 2].min() for e in elements if _is_slab(e)), default=None)

    def add(kind: str, sector: str, area: float, e: ElementRecord) -> None:
        row = rows.setdefault(
            (kind, sector),
            {
                "surface_kind": kind,
                "orientation": sector,
                "area_m2": 0.0,
                "ua": 0.0,
                "u_known_area_m2": 0.0,
                "guids": set(),
            },
        )
        row["area_m2"] += area
        row["guids"].add(e.guid)
        if e.u_value:
            row["ua"] += area * e.u_value
            row["u_known_area_m2"] += area

    for e in elements:
        v, f = meshes[e.guid]
        if e.guid in external_walls:
            kind = "wall"
        elif e.ifc_class.startswith(("IfcWindow", "IfcDoor")) and (e.is_external or e.host_guid in external_walls):
            kind = "window" if e.ifc_class.startswith("IfcWindow") else "door"
        elif _is_roof(e):
            kind = "roof"
        elif _is_slab(e) and (
            e.predefined_type == "BASESLAB"
            or (
                lowest_slab_z is not None
                and abs(v[:, 2].min() - lowest_slab_z) < 0.3
                and e.is_external is not False
            )
        ):
            kind = "ground_floor"
        else:
            continue
        area, normal, tri_centre = _triangles(v, f)
        if kind in ("roof", "ground_floor"):
            facing = normal[:, 2] > 0.2 if kind == "roof" else normal[:, 2] < -0.2
            total = float(area[facing].sum())
            if total > 0:
                add(kind, "horizontal", total, e)
            continue
        vertical = np.abs(normal[:, 2]) < 0.2
        if centre is not None:
            vertical &= (
                normal[:, 0] * (tri_centre[:, 0] - centre[0]) + normal[:, 1] * (tri_centre[:, 1] - centre[1])
            ) > 0
        if not vertical.any():
            continue
        sectors = _sector(np.arctan2(normal[vertical, 1], normal[vertical, 0]))
        if kind in ("window", "door"):  # planar: the frame's edges are not glazing
            totals = {str(sec): float(area[vertical][sectors == sec].sum()) for sec in np.unique(sectors)}
            main = max(totals, key=lambda k: totals[k])
            add(kind, main, totals[main], e)
            continue
        for sector in np.unique(sectors):
            add(kind, str(sector), float(area[vertical][sectors == sector].sum()), e)
    out = []
    for row in rows.values():
        known = row["u_known_area_m2"]
        out.append(
            {
                "surface_kind": row["surface_kind"],
                "orientation": row["orientation"],
                "area_m2": row["area_m2"],
                "u_value_w_m2k": row["ua"] / known if known else None,
                "u_known_area_m2": known,
                "elements": len(row["guids"]),
                "ifc_guids": sorted(row["guids"]),
            }
        )
    return sorted(out, key=lambda r: (r["surface_kind"], r["orientation"]))


def _centre(mesh: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    v = mesh[0]
    return float((v[:, 0].min() + v[:, 0].max()) / 2), float((v[:, 1].min() + v[:, 1].max()) / 2)


def _circulation(
    elements: list[ElementRecord],
    spaces: list[ElementRecord],
    building_guid: str,
    meshes: dict[str, tuple[np.ndarray, np.ndarray]],
    footprint: shapely.Geometry | None,
    p: FactParams,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    items: list[tuple[str, ElementRecord]] = []
    stairs = {e.guid for e in elements if e.ifc_class == "IfcStair"}
    with_geometry = {e.guid for e in elements if e.guid in meshes}
    for e in elements:
        if e.ifc_class == "IfcStair" and e.guid in with_geometry:
            items.append(("stair", e))
        elif e.ifc_class == "IfcStairFlight" and (
            e.parent_guid not in stairs or e.parent_guid not in with_geometry
        ):
            items.append(("stair", e))  # a stair drawn by its flights only: the flights stand for it
        elif e.ifc_class.startswith("IfcTransportElement") and e.predefined_type in (
            None,
            "ELEVATOR",
            "NOTDEFINED",
            "USERDEFINED",
        ):
            items.append(("lift", e))
    items += [("shaft", s) for s in spaces if s.building_guid == building_guid and s.is_shaft]
    rows: list[dict[str, Any]] = []
    for kind, e in items:
        if e.guid not in meshes:
            continue
        x, y = _centre(meshes[e.guid])
        distance = float(footprint.exterior.distance(shapely.Point(x, y))) if footprint is not None else None
        position = None if distance is None else ("facade" if distance <= p.facade_band_m else "central")
        rows.append(
            {
                "ifc_guid": e.guid,
                "kind": kind,
                "x_m": x,
                "y_m": y,
                "distance_to_facade_m": distance,
                "position": position,
            }
        )
    # Stair cores: stairs of different storeys stacked at the same place are one core.
    stair_rows = [r for r in rows if r["kind"] == "stair"]
    cores: list[list[dict[str, Any]]] = []
    for r in stair_rows:
        for core in cores:
            if math.hypot(core[0]["x_m"] - r["x_m"], core[0]["y_m"] - r["y_m"]) <= p.core_cluster_m:
                core.append(r)
                break
        else:
            cores.append([r])
    centres = [(float(np.mean([r["x_m"] for r in c])), float(np.mean([r["y_m"] for r in c]))) for c in cores]
    separation = max((math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1 :]), default=None)
    positions = {c[0]["position"] for c in cores if c[0]["position"]}
    facts = {
        "stair_cores": len(cores),
        "stair_separation_m": separation,
        "lifts": sum(r["kind"] == "lift" for r in rows),
        "shafts": len({(round(r["x_m"], 0), round(r["y_m"], 0)) for r in rows if r["kind"] == "shaft"}),
        "core_position": (positions.pop() if len(positions) == 1 else ("mixed" if positions else None)),
    }
    evidence = {
        "stair_cores": [[r["ifc_guid"] for r in c] for c in cores],
        "lifts": [r["ifc_guid"] for r in rows if r["kind"] == "lift"],
        "shafts": [r["ifc_guid"] for r in rows if r["kind"] == "shaft"],
    }
    return rows, facts, evidence


def _structure(
    elements: list[ElementRecord], meshes: dict[str, tuple[np.ndarray, np.ndarray]], axis: float, gfa: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    bearing = [e for e in elements if e.ifc_class.startswith("IfcWall") and e.load_bearing]
    lengths = {}
    for e in bearing:
        rect = shapely.minimum_rotated_rectangle(_hull(meshes[e.guid][0]))
        coords = np.asarray(rect.exterior.coords) if rect.geom_type == "Polygon" else np.zeros((1, 2))
        sides = np.hypot(*np.diff(coords, axis=0).T) if len(coords) > 1 else np.array([0.0])
        lengths[e.guid] = float(sides.max())
    internal = sum(
        length for g, length in lengths.items() if not next(e for e in bearing if e.guid == g).is_external
    )
    columns = [e for e in elements if e.ifc_class.startswith("IfcColumn")]
    grid = None
    if columns:
        by_storey: dict[str | None, list[float]] = {}
        for c in columns:
            x, y = _centre(meshes[c.guid])
            by_storey.setdefault(c.storey_guid, []).append(x * math.cos(axis) + y * math.sin(axis))
        gaps: list[float] = []
        for positions in by_storey.values():
            ordered = np.unique(np.round(np.array(positions), 1))
            steps = np.diff(ordered)
            gaps += [float(s) for s in steps if s > 1.0]
        grid = float(np.median(gaps)) if gaps else None
    walls = [e for e in elements if e.ifc_class.startswith("IfcWall")]
    stated = any(e.load_bearing is not None for e in walls)  # no wall says: the indicator is unknown, not 0
    facts = {
        "loadbearing_wall_m_per_m2": (sum(lengths.values()) / gfa) if gfa and stated else None,
        "internal_loadbearing_wall_m_per_m2": (internal / gfa) if gfa and stated else None,
        "column_count": len(columns),
        "column_grid_m": grid,
    }
    return facts, {"loadbearing_walls": sorted(lengths), "columns": len(columns)}
