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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ingest.ifc_model import ElementRecord, StoreyRecord

__all__ = ["HULL_CLASSES", "BuildingFacts", "FactParams", "convex_hulls", "derive_facts"]

HULL_CLASSES = ("IfcSlab", "IfcWall", "IfcColumn", "IfcCurtainWall")
"""Classes whose 2D hulls make the footprint (slabs other than roofs) and the storeys' floor areas."""

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


def _bounds(mesh_list: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(n, 6) min x, y, z and max x, y, z of each mesh, all at once (every mesh has vertices)."""
    if not mesh_list:
        return np.zeros((0, 6))
    vertices = np.concatenate([v for v, _ in mesh_list])
    starts = np.concatenate([[0], np.cumsum([len(v) for v, _ in mesh_list])[:-1]])
    return np.hstack(
        [np.minimum.reduceat(vertices, starts, axis=0), np.maximum.reduceat(vertices, starts, axis=0)]
    )


def _hulls(mesh_list: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """2D convex hulls of many meshes at once (an array of shapely geometries)."""
    if not mesh_list:
        return np.array([], dtype=object)
    vertices = np.concatenate([v[:, :2] for v, _ in mesh_list])
    return convex_hulls(vertices, np.array([len(v) for v, _ in mesh_list]))


def convex_hulls(xy: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """2D convex hulls of consecutive point groups of ``counts`` points each (every count > 0)."""
    index = np.repeat(np.arange(len(counts)), counts)
    return shapely.convex_hull(shapely.multipoints(xy, indices=index))


def _triangles(v: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangle areas, unit normals and centroids."""
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    u, w = b - a, c - a
    cross = np.empty_like(u)
    cross[:, 0] = u[:, 1] * w[:, 2] - u[:, 2] * w[:, 1]
    cross[:, 1] = u[:, 2] * w[:, 0] - u[:, 0] * w[:, 2]
    cross[:, 2] = u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0]
    norm = np.sqrt(np.einsum("ij,ij->i", cross, cross))
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
    hulls: Mapping[str, shapely.Geometry] | None = None,
) -> BuildingFacts:
    """Facts of one building from its elements, spaces, storeys and meshes (see the module docstring).

    ``hulls``: 2D convex hulls of meshes already made (the ingest makes them while the meshes stream in);
    those missing are computed here.
    """
    p = params or FactParams()
    mine = [e for e in elements if e.building_guid == building_guid]
    with_mesh = [e for e in mine if e.guid in meshes and len(meshes[e.guid][1])]

    stats = _bounds([meshes[e.guid] for e in with_mesh])  # per element: min x, y, z, max x, y, z
    row = {e.guid: i for i, e in enumerate(with_mesh)}
    zmin, zmax = stats[:, 2], stats[:, 5]

    # Footprint and its rectangle.
    base_elements = [
        e for e in with_mesh if _is_slab(e) or e.ifc_class.startswith(("IfcWall", "IfcColumn", "IfcCurtainWall"))
    ]
    known = hulls or {}
    todo = [e for e in base_elements if e.guid not in known]
    hull_of = dict(zip((e.guid for e in todo), _hulls([meshes[e.guid] for e in todo]), strict=True))
    hull_of.update((e.guid, known[e.guid]) for e in base_elements if e.guid in known)
    base = [g for g in hull_of.values() if shapely.area(g) > 0]
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
    ceiling_min = np.array([zmin[row[e.guid]] for e in ceilings])
    structural_min = np.array(
        [zmin[row[e.guid]] for e in ceilings if not e.ifc_class.startswith("IfcCovering")] or [np.inf]
    )
    slabs_of: dict[str | None, list[ElementRecord]] = {}
    for e in with_mesh:
        if _is_slab(e):
            slabs_of.setdefault(e.storey_guid, []).append(e)
    windows_of: dict[str | None, list[ElementRecord]] = {}
    for e in mine:
        if e.ifc_class.startswith("IfcWindow"):
            windows_of.setdefault(e.storey_guid, []).append(e)
    storey_facts = []
    total_window = 0.0
    total_gfa = 0.0
    for i, storey in enumerate(mine_storeys):
        slabs = slabs_of.get(storey.guid, [])
        floor_top = max((float(zmax[row[e.guid]]) for e in slabs), default=storey.elevation_m)
        above_floor = ceiling_min > floor_top + p.min_free_height_m
        free = None
        if above_floor.any():
            free = float(np.min(ceiling_min[above_floor]) - floor_top)
        if i + 1 < len(mine_storeys):
            f2f: float | None = mine_storeys[i + 1].elevation_m - storey.elevation_m
        else:  # top storey: up to the structure above (slab or roof), plus this floor's own slab
            overhead = structural_min > floor_top + p.min_free_height_m
            slab_depth = max((floor_top - float(zmin[row[e.guid]]) for e in slabs), default=0.0)
            f2f = float(np.min(structural_min[overhead]) - floor_top + slab_depth) if overhead.any() else None
        slab_hulls = [hull_of[e.guid] for e in slabs]
        gfa = float(shapely.union_all(slab_hulls).area) if slab_hulls else (facts.get("footprint_area_m2"))
        w_area = 0.0
        for w in windows_of.get(storey.guid, []):
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
        top = float(zmax.max())
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
    """Envelope areas by kind and orientation, the triangles of every envelope element classified at once."""
    external_walls = {
        e.guid
        for e in elements
        if e.ifc_class.startswith(("IfcWall", "IfcCurtainWall")) and (e.is_external or e.guid in inferred)
    }
    lowest_slab_z = min((meshes[e.guid][0][:, 2].min() for e in elements if _is_slab(e)), default=None)
    chosen: list[tuple[str, ElementRecord]] = []
    for e in elements:
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
                and abs(meshes[e.guid][0][:, 2].min() - lowest_slab_z) < 0.3
                and e.is_external is not False
            )
        ):
            kind = "ground_floor"
        else:
            continue
        chosen.append((kind, e))
    if not chosen:
        return []
    n = len(chosen)
    area, normal, centre, mesh_of_face = _all_triangles([meshes[e.guid] for _, e in chosen])
    kinds = np.array([k for k, _ in chosen])
    face_kind = kinds[mesh_of_face]
    horizontal = np.isin(face_kind, ("roof", "ground_floor"))
    facing = np.where(face_kind == "roof", normal[:, 2] > 0.2, normal[:, 2] < -0.2) & horizontal
    flat = np.bincount(mesh_of_face, np.where(facing, area, 0.0), minlength=n)
    vertical = (np.abs(normal[:, 2]) < 0.2) & ~horizontal
    if footprint is not None:
        c = np.array(footprint.centroid.coords[0])
        vertical &= (normal[:, 0] * (centre[:, 0] - c[0]) + normal[:, 1] * (centre[:, 1] - c[1])) > 0
    sector = np.round(np.mod(np.arctan2(normal[:, 1], normal[:, 0]), 2 * np.pi) / (np.pi / 4)).astype(int) % 8
    cell = mesh_of_face * 8 + sector
    by_sector = np.bincount(cell[vertical], area[vertical], minlength=n * 8).reshape(n, 8)
    has_sector = np.bincount(cell[vertical], minlength=n * 8).reshape(n, 8) > 0
    alphabetical = np.argsort(np.array(_SECTORS))  # ties go to the first sector name, as before

    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(kind: str, orientation: str, value: float, e: ElementRecord) -> None:
        row = rows.setdefault(
            (kind, orientation),
            {
                "surface_kind": kind,
                "orientation": orientation,
                "area_m2": 0.0,
                "ua": 0.0,
                "known": 0.0,
                "guids": set(),
            },
        )
        row["area_m2"] += value
        row["guids"].add(e.guid)
        if e.u_value:
            row["ua"] += value * e.u_value
            row["known"] += value

    for index, (kind, e) in enumerate(chosen):
        if kind in ("roof", "ground_floor"):
            if flat[index] > 0:
                add(kind, "horizontal", float(flat[index]), e)
            continue
        present = has_sector[index]
        if not present.any():
            continue
        if kind in ("window", "door"):  # planar: the frame's edges are not glazing
            order = [k for k in alphabetical if present[k]]
            main = max(order, key=lambda k: by_sector[index, k])
            add(kind, _SECTORS[main], float(by_sector[index, main]), e)
            continue
        for k in np.flatnonzero(present):
            add(kind, _SECTORS[k], float(by_sector[index, k]), e)
    out = []
    for row in rows.values():
        known = row["known"]
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


def _all_triangles(
    mesh_list: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Areas, unit normals, centroids of the triangles of many meshes at once, and the mesh of each triangle."""
    vcounts = np.array([len(v) for v, _ in mesh_list], np.int64)
    fcounts = np.array([len(f) for _, f in mesh_list], np.int64)
    vertices = np.concatenate([v for v, _ in mesh_list]) if len(mesh_list) else np.zeros((0, 3))
    starts = np.concatenate([[0], np.cumsum(vcounts)[:-1]])
    faces = np.concatenate([f for _, f in mesh_list]).astype(np.int64) + np.repeat(starts, fcounts)[:, None]
    area, normal, centre = _triangles(vertices, faces)
    return area, normal, centre, np.repeat(np.arange(len(mesh_list)), fcounts)


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
