"""The buildings of the twin as CityJSON 2.0, LoD1: each footprint extruded from the ground to its height.

Structure (CityJSON 2.0 specification, sections 2-6): one ``Building`` CityObject per building, keyed by its
``building_id``; a ``Solid`` (``MultiSolid`` for a multipolygon footprint) of LoD ``1`` whose shell has a
GroundSurface (the footprint seen from below), a RoofSurface (seen from above) and one WallSurface per edge of
every ring, each surface's outer ring anticlockwise seen from outside (section 3.2); integer vertices with a
``transform`` at 0.1 mm resolution (section 6.3); the twin CRS as ``metadata.referenceSystem``.

The twin has no terrain, so the ground is at z = 0 and the roof at ``height_m``. A building of unknown height
cannot be extruded: it is written as a LoD0 ``MultiSurface`` footprint and counted, never given a made-up height.
Attributes use CityJSON's names where it has one (``measuredHeight``, ``storeysAboveGround``,
``yearOfConstruction``) and the twin's names otherwise (``use``, ``dwellings``), which ``twin ingest buildings``
reads back.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from twin.errors import TwinError
from twin.export.layers import ExportReport, _move_into_place, _scratch_beside
from twin.store import Twin

__all__ = ["CITYJSON_VERSION", "buildings_cityjson", "export_cityjson"]

CITYJSON_VERSION = "2.0"
_SCALE_M = 0.0001  # vertices in tenths of a millimetre: footprint areas survive a round trip to 0.01 m2
_SEMANTICS = [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}]


def buildings_cityjson(twin: Twin) -> tuple[dict[str, Any], dict[str, int]]:
    """The CityJSON document of the twin's buildings, and counts (LoD1 solids, LoD0 footprints)."""
    rows = twin.query(
        """
        SELECT building_id, name, use, construction_year, height_m, height_estimated, storeys_above_ground,
               storeys_estimated, dwellings, source, ST_AsWKB(footprint) AS wkb
        FROM buildings WHERE footprint IS NOT NULL ORDER BY building_id
        """
    )
    if rows.num_rows == 0:
        raise TwinError("the twin has no building footprints to export", "import buildings first")
    footprints = shapely.orient_polygons(
        shapely.from_wkb(np.asarray(rows.column("wkb").to_numpy(zero_copy_only=False), dtype=object))
    )
    bounds = shapely.total_bounds(footprints)
    translate = [float(np.floor(bounds[0])), float(np.floor(bounds[1])), 0.0]
    vertices: list[np.ndarray] = []
    n_vertices = 0
    objects: dict[str, Any] = {}
    counts = {"lod1_solids": 0, "lod0_footprints": 0}
    heights = rows.column("height_m").to_pylist()
    for i, building_id in enumerate(rows.column("building_id").to_pylist()):
        height = heights[i]
        polygons = shapely.get_parts(footprints[i])
        solids: list[Any] = []  # per part: a shell (LoD1) or the rings of a footprint (LoD0)
        for polygon in polygons:
            rings = [shapely.get_coordinates(polygon.exterior)[:-1]]
            rings += [shapely.get_coordinates(r)[:-1] for r in polygon.interiors]
            if height is None or height <= 0:
                ids = []
                for ring in rings:
                    xyz = np.column_stack([ring, np.zeros(len(ring))])
                    vertices.append(xyz)
                    ids.append(list(range(n_vertices, n_vertices + len(ring))))
                    n_vertices += len(ring)
                solids.append(ids)
                continue
            surfaces, n_vertices = _extruded(rings, float(height), n_vertices, vertices)
            solids.append(surfaces)
        attributes = _attributes(rows, i)
        if height is None or height <= 0:
            counts["lod0_footprints"] += 1
            geometry = {"type": "MultiSurface", "lod": "0", "boundaries": solids}
        else:
            counts["lod1_solids"] += 1
            geometry = _solid_geometry(solids)
        objects[str(building_id)] = {"type": "Building", "attributes": attributes, "geometry": [geometry]}
    stacked = np.concatenate(vertices) if vertices else np.zeros((0, 3))
    quantised = np.round((stacked - np.asarray(translate)) / _SCALE_M).astype(np.int64)
    epsg = twin.crs.split(":")[-1]
    document = {
        "type": "CityJSON",
        "version": CITYJSON_VERSION,
        "transform": {"scale": [_SCALE_M] * 3, "translate": translate},
        "metadata": {
            "referenceSystem": f"https://www.opengis.net/def/crs/EPSG/0/{epsg}",
            "geographicalExtent": [
                *map(float, bounds[:2]),
                0.0,
                *map(float, bounds[2:]),
                float(max((h for h in heights if h is not None), default=0.0)),
            ],
            "title": f"Buildings of the twin {Path(twin.path).name}",
        },
        "CityObjects": objects,
        "vertices": quantised.tolist(),
    }
    return document, counts


def export_cityjson(twin: Twin, out: str | os.PathLike[str]) -> ExportReport:
    """Write the twin's buildings to the CityJSON 2.0 file ``out`` (replaced only once complete)."""
    document, counts = buildings_cityjson(twin)
    target = Path(out)
    report = ExportReport(format="cityjson", out=str(target), crs=twin.crs)
    report.rows = {"buildings": len(document["CityObjects"]), **counts}
    if counts["lod0_footprints"]:
        report.notes.append(
            f"{counts['lod0_footprints']} buildings of unknown height written as LoD0 footprints, not extruded"
        )
    scratch = _scratch_beside(target)
    try:
        file = scratch / target.name
        with file.open("w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
        report.files = _move_into_place(scratch, target, [file], folder=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _extruded(
    rings: list[np.ndarray], height: float, first: int, vertices: list[np.ndarray]
) -> tuple[list[list[list[int]]], int]:
    """The shell of a footprint (rings oriented: exterior anticlockwise, holes clockwise) extruded to height."""
    bottom_ids: list[list[int]] = []
    top_ids: list[list[int]] = []
    walls: list[list[list[int]]] = []
    n = first
    for ring in rings:
        k = len(ring)
        vertices.append(np.column_stack([ring, np.zeros(k)]))
        vertices.append(np.column_stack([ring, np.full(k, height)]))
        bottom = list(range(n, n + k))
        top = list(range(n + k, n + 2 * k))
        n += 2 * k
        bottom_ids.append(bottom[::-1])  # seen from below
        top_ids.append(top)
        for j in range(k):  # the material is on the left of each ring: outside is on the right
            a, b = j, (j + 1) % k
            walls.append([[bottom[a], bottom[b], top[b], top[a]]])
    return [bottom_ids, top_ids, *walls], n


def _solid_geometry(solids: list[Any]) -> dict[str, Any]:
    values = [[0, 1] + [2] * (len(shell) - 2) for shell in solids]
    if len(solids) == 1:
        return {
            "type": "Solid",
            "lod": "1",
            "boundaries": [solids[0]],
            "semantics": {"surfaces": _SEMANTICS, "values": [values[0]]},
        }
    return {
        "type": "MultiSolid",
        "lod": "1",
        "boundaries": [[shell] for shell in solids],
        "semantics": {"surfaces": _SEMANTICS, "values": [[v] for v in values]},
    }


def _attributes(rows: Any, i: int) -> dict[str, Any]:
    def value(name: str) -> Any:
        return rows.column(name)[i].as_py()

    attributes = {
        "name": value("name"),
        "measuredHeight": value("height_m"),
        "storeysAboveGround": value("storeys_above_ground"),
        "yearOfConstruction": value("construction_year"),
        "use": value("use"),
        "dwellings": value("dwellings"),
        "height_estimated": value("height_estimated"),
        "storeys_estimated": value("storeys_estimated"),
        "twin_source": value("source"),
    }
    return {k: v for k, v in attributes.items() if v is not None}
