"""Meshes of the 3D views: extruded footprints and merged IFC blobs keep every object and its vertices."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.geometry import MeshSet, extrude_footprints, merge_blob_meshes, scene_origin


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 500), st.floats(0, 500), st.floats(2, 60), st.floats(2, 60), st.floats(0.5, 80)),
        min_size=1,
        max_size=12,
    )
)
def test_an_extruded_box_has_its_walls_and_roof_at_its_height(boxes: list[tuple[float, ...]]) -> None:
    geoms = np.array([shapely.box(x, y, x + w, y + d) for x, y, w, d, _ in boxes], dtype=object)
    heights = np.array([b[4] for b in boxes])
    mesh = extrude_footprints(geoms, heights)
    assert mesh.n_vertices == 8 * len(boxes)  # each corner at the base and at the top
    assert mesh.n_faces == 10 * len(boxes)
    assert mesh.faces.max() < mesh.n_vertices
    assert (mesh.owner[mesh.faces] == mesh.owner[mesh.faces[:, :1]]).all()  # no triangle spans two buildings
    roof = np.all(mesh.xyz[mesh.faces][:, :, 2] > 0, axis=1)
    assert roof.sum() == 2 * len(boxes)  # two roof triangles a box, the walls reaching the ground
    for k in range(len(boxes)):
        z = mesh.xyz[mesh.owner == k, 2]
        assert z.min() == 0 and np.isclose(z.max(), heights[k], rtol=1e-6)


def test_a_courtyard_keeps_its_hole_open_in_the_roof() -> None:
    ring = shapely.box(0, 0, 30, 30).difference(shapely.box(10, 10, 20, 20))
    mesh = extrude_footprints(np.array([ring], dtype=object), np.array([9.0]))
    roof = mesh.faces[np.all(mesh.xyz[mesh.faces][:, :, 2] == 9.0, axis=1)]
    t = mesh.xyz[roof].astype(float)
    u, v = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    area = float(np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]).sum() / 2)
    assert np.isclose(area, 900 - 100)


def test_a_multipolygon_footprint_belongs_to_one_building() -> None:
    two = shapely.MultiPolygon([shapely.box(0, 0, 5, 5), shapely.box(10, 0, 15, 5)])
    mesh = extrude_footprints(np.array([two, shapely.box(0, 20, 5, 25)], dtype=object), np.array([3.0, 4.0]))
    assert set(mesh.owner.tolist()) == {0, 1}
    assert (mesh.owner == 0).sum() == 16


def test_far_coordinates_keep_millimetres_relative_to_the_scene_origin() -> None:
    origin = scene_origin(843000.0, 6519000.0, 843400.0, 6519600.0)
    box = shapely.box(843200.123, 6519300.456, 843210.123, 6519310.456)
    mesh = extrude_footprints(np.array([box], dtype=object), np.array([10.0]), origin=origin)
    assert mesh.xyz.dtype == np.float32
    assert np.isclose(mesh.xyz[:, 0].min() + origin[0], 843200.123, atol=1e-3)
    assert np.isclose(mesh.xyz[:, 1].min() + origin[1], 6519300.456, atol=1e-3)


def test_merged_blobs_count_every_vertex_and_point_faces_at_their_own_mesh() -> None:
    rng = np.random.default_rng(1)
    verts, faces, sizes = [], [], []
    for n in (3, 7, 4):
        verts.append(rng.random((n, 3)).astype(np.float32).tobytes())
        faces.append(rng.integers(0, n, (n, 3)).astype(np.int32).tobytes())
        sizes.append(n)
    mesh = merge_blob_meshes(verts, faces, np.zeros(3), np.zeros(3), np.array([0, 1, 2]))
    assert mesh.n_vertices == sum(sizes)
    starts = np.cumsum([0, *sizes[:-1]])
    for k, (s, n) in enumerate(zip(starts, sizes, strict=True)):
        own = mesh.faces[mesh.owner[mesh.faces[:, 0]] == k]
        assert own.min() >= s and own.max() < s + n


def test_selecting_objects_keeps_only_their_triangles() -> None:
    mesh = extrude_footprints(
        np.array([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)], dtype=object), np.array([1.0, 2.0])
    )
    one = mesh.select(np.array([False, True]))
    assert set(one.owner.tolist()) == {1} and one.n_vertices == 8 and one.faces.max() < 8
    assert MeshSet.concat([]).n_vertices == 0
