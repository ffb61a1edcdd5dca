"""Triangle meshes for the 3D views: extruded footprints and IFC element meshes, merged into flat float32 arrays.

Everything is placed relative to one *scene origin* (a twin-CRS point near the middle of the district): Lambert-93
coordinates are ~10^6 m, where float32 keeps only decimetres; relative to a nearby origin it keeps millimetres.

A :class:`MeshSet` is the merged form the figure builders draw as ONE ``Mesh3d`` trace: vertex coordinates,
triangle indices, and for each vertex the index of the object (building, element) it belongs to, so that a click
on any vertex names its object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["MeshSet", "extrude_footprints", "merge_blob_meshes", "scene_origin"]


@dataclass(frozen=True)
class MeshSet:
    """Triangles of many objects in one set of arrays.

    ``xyz`` is float32 (n, 3) relative to the scene origin; ``faces`` int32 (m, 3) indices into ``xyz``;
    ``owner`` int32 (n,) the index of each vertex's object in the caller's object list.
    """

    xyz: np.ndarray
    faces: np.ndarray
    owner: np.ndarray

    @property
    def n_vertices(self) -> int:
        return int(self.xyz.shape[0])

    @property
    def n_faces(self) -> int:
        return int(self.faces.shape[0])

    @staticmethod
    def empty() -> MeshSet:
        return MeshSet(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32), np.zeros(0, np.int32))

    @staticmethod
    def concat(parts: Sequence[MeshSet]) -> MeshSet:
        """One set from several; face indices are shifted so that they still point at their own vertices."""
        parts = [p for p in parts if p.n_vertices]
        if not parts:
            return MeshSet.empty()
        offsets = np.cumsum([0] + [p.n_vertices for p in parts[:-1]])
        return MeshSet(
            np.concatenate([p.xyz for p in parts]).astype(np.float32, copy=False),
            np.concatenate([p.faces + off for p, off in zip(parts, offsets, strict=True)]).astype(np.int32),
            np.concatenate([p.owner for p in parts]).astype(np.int32, copy=False),
        )

    def select(self, keep_owner: np.ndarray) -> MeshSet:
        """The triangles of the objects where ``keep_owner[owner]`` is true (vertices re-indexed)."""
        keep_vertex = keep_owner[self.owner]
        new_index = np.cumsum(keep_vertex, dtype=np.int64) - 1
        faces = self.faces[keep_vertex[self.faces[:, 0]]]
        return MeshSet(self.xyz[keep_vertex], new_index[faces].astype(np.int32), self.owner[keep_vertex])


def scene_origin(xmin: float, ymin: float, xmax: float, ymax: float) -> tuple[float, float]:
    """A round point (to 100 m) in the middle of the extent: the origin of every scene of the twin.

    >>> scene_origin(843000.0, 6519000.0, 843400.0, 6519600.0)
    (843200.0, 6519300.0)
    """
    return (round((xmin + xmax) / 200.0) * 100.0, round((ymin + ymax) / 200.0) * 100.0)


def extrude_footprints(
    footprints: np.ndarray,
    heights: np.ndarray,
    base: np.ndarray | None = None,
    origin: tuple[float, float] = (0, 0),
) -> MeshSet:
    """Prisms from footprint polygons: walls from every ring edge, a flat roof from a constrained triangulation.

    ``footprints`` are shapely (Multi)Polygons in the twin CRS, ``heights`` metres above ``base`` (default 0).
    Vectorised over the buildings (shapely 2 array functions, no Python loop over buildings). Holes stay holes:
    the constrained Delaunay triangulation keeps only triangles inside the polygon. The floor is not drawn (the
    scene is seen from above). Each ring point is one vertex at the base and one at the top, shared by the walls
    and the roof (a box: 8 vertices, 10 triangles; flat shading keeps the edges sharp).

    >>> sq = shapely.box(0, 0, 10, 10)
    >>> m = extrude_footprints(np.array([sq]), np.array([6.0]))
    >>> m.n_vertices, m.n_faces, float(m.xyz[:, 2].max())
    (8, 10, 6.0)
    """
    n = len(footprints)
    if n == 0:
        return MeshSet.empty()
    heights = np.asarray(heights, dtype=np.float64)
    base = np.zeros(n) if base is None else np.asarray(base, dtype=np.float64)
    ox, oy = origin
    polys, poly_owner = shapely.get_parts(np.asarray(footprints, dtype=object), return_index=True)
    polys = shapely.make_valid(polys) if not shapely.is_valid(polys).all() else polys
    polys, sub = shapely.get_parts(polys, return_index=True)
    poly_owner = poly_owner[sub]
    is_poly = shapely.get_type_id(polys) == 3
    polys, poly_owner = polys[is_poly], poly_owner[is_poly]

    # vertices: each ring point once at the base and once at the top (shared by walls and roof)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring_of_point = shapely.get_coordinates(rings, return_index=True)
    closing = np.r_[ring_of_point[1:] != ring_of_point[:-1], True]  # the repeated first point of each ring
    keep = ~closing
    xy, ring_id = coords[keep], ring_of_point[keep]
    owner = poly_owner[ring_poly[ring_id]]
    n = len(xy)
    z0 = base[owner]
    xyz = np.empty((2 * n, 3))
    xyz[:n, :2] = xyz[n:, :2] = xy
    xyz[:n, 2], xyz[n:, 2] = z0, z0 + heights[owner]
    # walls: edge a -> b of each ring (b wraps to the ring's first point) -> two triangles
    a = np.arange(n)
    first = np.r_[0, np.flatnonzero(np.diff(ring_id)) + 1]
    is_last = np.r_[ring_id[1:] != ring_id[:-1], True]
    b = a + 1
    b[is_last] = first[np.searchsorted(first, a[is_last], side="right") - 1]
    wall_faces = np.concatenate([np.stack([a, b, b + n], 1), np.stack([a, b + n, a + n], 1)])
    # roof: constrained Delaunay triangles of each polygon; their corners are ring points (no point is added)
    tris, tri_poly = shapely.get_parts(shapely.constrained_delaunay_triangles(polys), return_index=True)
    tri_xy = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(-1, 4, 2)[:, :3].reshape(-1, 2)
    tri_keys = np.column_stack([np.repeat(tri_poly, 3), tri_xy])
    top_keys = np.column_stack([ring_poly[ring_id], xy])
    _, inverse = np.unique(np.concatenate([top_keys, tri_keys]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    top_of_key = np.full(inverse.max() + 1, -1, dtype=np.int64)
    top_of_key[inverse[:n][::-1]] = np.arange(n)[::-1]
    roof_faces = (top_of_key[inverse[n:]] + n).reshape(-1, 3)
    merged = MeshSet(xyz, np.concatenate([wall_faces, roof_faces]), np.concatenate([owner, owner]))
    xyz = merged.xyz.astype(np.float64)
    xyz[:, 0] -= ox
    xyz[:, 1] -= oy
    return MeshSet(xyz.astype(np.float32), merged.faces, merged.owner)


def merge_blob_meshes(
    vertices: Sequence[bytes],
    faces: Sequence[bytes],
    origin_x: np.ndarray,
    origin_y: np.ndarray,
    owner: np.ndarray,
    origin: tuple[float, float] = (0, 0),
) -> MeshSet:
    """IFC element meshes (float32 xyz / int32 triangle blobs, each relative to its own origin) as one set.

    Each mesh is shifted from its origin to the scene origin in float64, then stored as float32.

    >>> v = np.array([0, 0, 0, 1, 0, 0, 0, 1, 0], np.float32).tobytes()
    >>> f = np.array([0, 1, 2], np.int32).tobytes()
    >>> m = merge_blob_meshes([v, v], [f, f], np.array([10.0, 20.0]), np.array([0.0, 0.0]), np.array([0, 1]))
    >>> m.n_vertices, m.faces.tolist(), m.xyz[3:, 0].tolist()
    (6, [[0, 1, 2], [3, 4, 5]], [20.0, 21.0, 20.0])
    """
    if len(vertices) == 0:
        return MeshSet.empty()
    verts = [np.frombuffer(v, dtype=np.float32).reshape(-1, 3) for v in vertices]
    tris = [np.frombuffer(f, dtype=np.int32).reshape(-1, 3) for f in faces]
    counts = np.array([len(v) for v in verts])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    xyz = np.concatenate(verts).astype(np.float64)
    xyz[:, 0] += np.repeat(np.asarray(origin_x, np.float64) - origin[0], counts)
    xyz[:, 1] += np.repeat(np.asarray(origin_y, np.float64) - origin[1], counts)
    face_counts = np.array([len(t) for t in tris])
    all_faces = np.concatenate(tris).astype(np.int64) + np.repeat(offsets, face_counts)[:, None]
    return MeshSet(
        xyz.astype(np.float32), all_faces.astype(np.int32), np.repeat(np.asarray(owner), counts).astype(np.int32)
    )
