"""``twin ingest ifc``: an IFC file into the twin: semantics, meshes, georeferencing, derived facts, IDS checks.

Order of work, so that a bad file changes nothing:
1. check the file (header, schema, ending), hash it; an identical file already imported -> nothing to do;
2. triangulate in a worker process while this process parses the semantics (two cores busy);
3. georeference, derive the building facts, run the IDS checks (``strict`` refuses a failing file);
4. one write transaction: remove what an earlier version of the same file brought, insert everything, log it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from ingest.ifc_facts import BuildingFacts, FactParams, derive_facts
from ingest.ifc_geometry import GeometryResult, mesh_measures, triangulate
from ingest.ifc_georef import Georeference, georeference
from ingest.ifc_model import ElementRecord, ModelRecords, open_ifc, read_model, to_json
from twin.errors import TwinError
from twin.imports import ImportReport, already_imported, file_sha256, now_utc, record_import, require_file
from twin.store import Twin

__all__ = ["IfcIngestOptions", "ingest_ifc"]

_USES = {"housing", "office", "commerce", "industry", "school", "parking", "public", "other"}


@dataclass(frozen=True)
class IfcIngestOptions:
    ids_path: str | None = None
    strict: bool = False
    at: tuple[float, float, float] | None = None  # x, y in the twin CRS and rotation in degrees
    facts: FactParams = field(default_factory=FactParams)


def _use_of(psets: dict[str, Any]) -> str | None:
    for pset, key in (("Pset_BuildingCommon", "OccupancyType"), ("Twin_DesignBasis", "DesignUse")):
        value = str(psets.get(pset, {}).get(key, "")).strip().lower()
        if value in _USES:
            return value
    return None


def _year_of(psets: dict[str, Any]) -> int | None:
    raw = psets.get("Pset_BuildingCommon", {}).get("YearOfConstruction")
    try:
        year = int(str(raw)[:4])
    except (TypeError, ValueError):
        return None
    return year if 1000 <= year <= 2100 else None


def _ids_check(model: Any, ids_path: str) -> list[dict[str, Any]]:
    from ifctester import ids as ifctester_ids

    try:
        spec = ifctester_ids.open(ids_path)
    except Exception as exc:
        raise TwinError(
            f"{ids_path} is not a readable IDS file: {str(exc).splitlines()[0]}", "give an IDS 1.0 XML file"
        ) from exc
    spec.validate(model)
    rows = []
    for specification in spec.specifications:
        for facet in specification.requirements or [None]:
            if facet is None:
                rows.append(
                    {
                        "specification": specification.name,
                        "requirement": None,
                        "status": "pass" if specification.status else "fail",
                        "failed_guids": [],
                    }
                )
                continue
            try:
                label = facet.to_string("requirement", specification, facet)
            except Exception:
                label = type(facet).__name__
            failed = sorted({getattr(f["element"], "GlobalId", str(f["element"])) for f in facet.failures})
            ok = facet.status if facet.status is not None else bool(specification.status)
            rows.append(
                {
                    "specification": specification.name,
                    "requirement": label,
                    "status": "pass" if ok else "fail",
                    "failed_guids": failed,
                }
            )
    return rows


def ingest_ifc(
    twin: Twin,
    path: str | os.PathLike[str],
    options: IfcIngestOptions | None = None,
    progress: Callable[[str, int | None], None] | None = None,
) -> ImportReport:
    """Import one IFC file; see the module docstring. Returns what was done (``unchanged`` if nothing)."""
    opts = options or IfcIngestOptions()

    def say(step: str, n: int | None = None) -> None:
        if progress is not None:
            progress(step, n)

    file = require_file(path, "IFC file").resolve()
    started = now_utc()
    report = ImportReport("ifc", str(file), file_sha256(file))
    model_holder: dict[str, Any] = {}

    def parse() -> dict[int, str]:
        model = open_ifc(file)
        model_holder["model"] = model
        model_holder["records"] = read_model(model)
        return model_holder["records"].geometry_wanted()

    if already_imported(twin, "ifc", report.sha256) is not None:
        open_ifc(file)  # still say if the file is broken
        report.unchanged = True
        return report

    say("geometry", None)
    geometry = triangulate(file, parse, progress=lambda n: say("geometry", n))
    model, records = model_holder["model"], model_holder["records"]
    if not records.buildings:
        raise TwinError(f"{file} has no IfcBuilding", "the twin imports building models; check the export")
    georef = georeference(model, str(file), twin.crs, opts.at)
    for note in georef.notes:
        report.warn("georeferencing", note)
    for guid, reason in sorted(geometry.failures.items()):
        report.warn(guid, f"no geometry: {reason}")

    say("facts", None)
    meshes = _world_meshes(geometry, georef)
    facts = [
        derive_facts(b["guid"], records.elements, records.spaces, records.storeys, meshes, opts.facts)
        for b in records.buildings
    ]

    ids_rows: list[dict[str, Any]] = []
    if opts.ids_path:
        ids_rows = _ids_check(model, opts.ids_path)
        failing = [r for r in ids_rows if r["status"] == "fail"]
        if failing and opts.strict:
            first = failing[0]
            where = ", ".join(first["failed_guids"][:3]) or "the model"
            raise TwinError(
                f"{file} fails {len(failing)} IDS requirement(s) of {opts.ids_path}, "
                f"e.g. '{first['specification']}' ({first['requirement']}) on {where}",
                "fix the model, or import without --strict to store it with the IDS report",
            )

    say("writing", None)
    _check_conflicts(twin, records, str(file))
    with twin.write() as cur:
        _remove_previous(cur, str(file))
        counts = _write(cur, twin, file, report, records, geometry, meshes, georef, facts)
        report.counts.update(counts)
        import_id = record_import(cur, report, started)
        cur.execute(
            "INSERT INTO ifc_sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                str(file),
                report.sha256,
                records.schema,
                import_id,
                georef.method,
                georef.origin_x_m,
                georef.origin_y_m,
                georef.origin_z_m,
                georef.rotation_deg,
                georef.scale,
                json.dumps(georef.as_json()),
            ],
        )
        cur.execute("UPDATE buildings SET import_id = ? WHERE ifc_source_path = ?", [import_id, str(file)])
        cur.execute("UPDATE elements SET import_id = ? WHERE source_path = ?", [import_id, str(file)])
        for row in ids_rows:
            cur.execute(
                "INSERT INTO ids_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    import_id,
                    str(file),
                    str(opts.ids_path),
                    row["specification"],
                    row["requirement"],
                    row["status"],
                    json.dumps(row["failed_guids"]),
                    started,
                ],
            )
    if ids_rows:
        report.counts["ids_failed"] = sum(r["status"] == "fail" for r in ids_rows)
        report.counts["ids_passed"] = sum(r["status"] == "pass" for r in ids_rows)
    return report


def _world_meshes(geometry: GeometryResult, georef: Georeference) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Meshes with x, y in the twin CRS and z in the model's metres (ground floor near 0)."""
    out = {}
    for guid, v in geometry.vertices.items():
        world = georef.to_twin(v)
        world[:, 2] = v[:, 2]
        out[guid] = (world, geometry.faces[guid])
    return out


def _check_conflicts(twin: Twin, records: ModelRecords, source: str) -> None:
    guids = [r.guid for r in records.elements]
    if not guids:
        return
    table = pa.table({"g": guids})
    with twin.read() as cur:
        cur.register("__new_guids", table)
        row = cur.execute(
            "SELECT e.ifc_guid, e.source_path FROM elements e JOIN __new_guids n ON e.ifc_guid = n.g "
            "WHERE e.source_path IS DISTINCT FROM ? LIMIT 1",
            [source],
        ).fetchone()
    if row:
        raise TwinError(
            f"{source}: element {row[0]} is already in the twin from {row[1]}",
            "two files share GlobalIds: import only one of them, or fix the GlobalIds in the model",
        )


def _remove_previous(cur: Any, source: str) -> None:
    old = "(SELECT building_id FROM buildings WHERE ifc_source_path = ?)"
    for table in ("building_facts", "envelope_surfaces", "vertical_circulation"):
        cur.execute(f"DELETE FROM {table} WHERE building_id IN {old}", [source])
    cur.execute("DELETE FROM element_meshes WHERE source_path = ?", [source])
    cur.execute("DELETE FROM elements WHERE source_path = ?", [source])
    cur.execute("DELETE FROM spaces WHERE source_path = ?", [source])
    cur.execute("DELETE FROM storeys WHERE source_path = ?", [source])
    cur.execute(
        "UPDATE buildings SET ifc_building_id = NULL WHERE ifc_building_id IN "
        "(SELECT building_id FROM buildings WHERE ifc_source_path = ?)",
        [source],
    )
    cur.execute("DELETE FROM buildings WHERE ifc_source_path = ?", [source])
    cur.execute("DELETE FROM ifc_sources WHERE source_path = ?", [source])
    cur.execute("DELETE FROM ids_results WHERE source_path = ?", [source])


def _insert(cur: Any, table: str, data: dict[str, list[Any]], geometry: tuple[str, ...] = ()) -> int:
    if not data or not next(iter(data.values())):
        return 0
    arrow = pa.table(data)
    cur.register("__rows", arrow)
    try:
        columns = ", ".join(f'"{c}"' for c in data)
        select = ", ".join(f'ST_GeomFromWKB("{c}")' if c in geometry else f'"{c}"' for c in data)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {select} FROM __rows")
    finally:
        cur.unregister("__rows")
    return arrow.num_rows


def _write(
    cur: Any,
    twin: Twin,
    file: Path,
    report: ImportReport,
    records: ModelRecords,
    geometry: GeometryResult,
    meshes: dict[str, tuple[np.ndarray, np.ndarray]],
    georef: Georeference,
    facts: list[BuildingFacts],
) -> dict[str, int]:
    source = str(file)
    by_building = {f.building_guid: f for f in facts}
    storey_facts = {s.guid: s for f in facts for s in f.storeys}
    counts: dict[str, int] = {}

    counts["buildings"] = _insert(
        cur,
        "buildings",
        {
            "building_id": [b["guid"] for b in records.buildings],
            "name": [b["name"] for b in records.buildings],
            "footprint": [
                shapely.to_wkb(by_building[b["guid"]].footprint)
                if by_building[b["guid"]].footprint is not None
                else None
                for b in records.buildings
            ],
            "footprint_area_m2": [
                by_building[b["guid"]].facts.get("footprint_area_m2") for b in records.buildings
            ],
            "height_m": [by_building[b["guid"]].facts.get("height_m") for b in records.buildings],
            "storeys_above_ground": [
                by_building[b["guid"]].facts.get("storeys_above_ground") for b in records.buildings
            ],
            "use": [_use_of(b["psets"]) for b in records.buildings],
            "construction_year": [_year_of(b["psets"]) for b in records.buildings],
            "source": ["ifc"] * len(records.buildings),
            "source_ref": [b["guid"] for b in records.buildings],
            "ifc_source_path": [source] * len(records.buildings),
            "attributes": [to_json(b["psets"]) for b in records.buildings],
        },
        geometry=("footprint",),
    )

    storeys = [s for s in records.storeys]
    counts["storeys"] = _insert(
        cur,
        "storeys",
        {
            "storey_id": [s.guid for s in storeys],
            "building_id": [s.building_guid for s in storeys],
            "name": [s.name for s in storeys],
            "level_index": [storey_facts[s.guid].level_index if s.guid in storey_facts else None for s in storeys],
            "elevation_m": [s.elevation_m for s in storeys],
            "floor_to_floor_m": [_positive(storey_facts.get(s.guid), "floor_to_floor_m") for s in storeys],
            "free_height_m": [_positive(storey_facts.get(s.guid), "free_height_m") for s in storeys],
            "gross_floor_area_m2": [_positive(storey_facts.get(s.guid), "gross_floor_area_m2") for s in storeys],
            "window_to_floor_ratio": [
                storey_facts[s.guid].window_to_floor_ratio if s.guid in storey_facts else None for s in storeys
            ],
            "source_path": [source] * len(storeys),
        },
    )

    measures = {guid: mesh_measures(v, f) for guid, (v, f) in meshes.items()}

    def quantities(e: ElementRecord) -> str:
        q: dict[str, Any] = dict(e.quantities)
        if e.guid in measures:
            volume, surface = measures[e.guid]
            q["computed"] = {
                "volume_m3": round(volume, 4),
                "surface_m2": round(surface, 4),
                "note": "computed from the mesh by twin",
            }
        return to_json(q)

    spaces = records.spaces
    space_area = []
    space_volume = []
    space_fp = []
    for s in spaces:
        qto: dict[str, Any] = next((v for k, v in s.quantities.items() if "Space" in k), {})
        area = qto.get("NetFloorArea") or qto.get("GrossFloorArea")
        volume = qto.get("NetVolume") or qto.get("GrossVolume")
        fp = None
        if s.guid in meshes:
            v, f = meshes[s.guid]
            tris = shapely.polygons(v[f][:, :, :2])
            tris = tris[shapely.area(tris) > 1e-9]
            fp = shapely.union_all(tris) if len(tris) else None
            if area is None and fp is not None:
                area = fp.area
            if volume is None:
                volume = measures[s.guid][0]
        space_area.append(float(area) if area is not None else None)
        space_volume.append(float(volume) if volume is not None else None)
        space_fp.append(shapely.to_wkb(fp) if fp is not None and not fp.is_empty else None)
    counts["spaces"] = _insert(
        cur,
        "spaces",
        {
            "space_id": [s.guid for s in spaces],
            "building_id": [s.building_guid for s in spaces],
            "storey_id": [s.storey_guid for s in spaces],
            "name": [s.name for s in spaces],
            "long_name": [s.long_name for s in spaces],
            "usage": [s.psets.get("Pset_SpaceCommon", {}).get("Reference") or s.object_type for s in spaces],
            "area_m2": space_area,
            "volume_m3": space_volume,
            "capacity_persons": [_capacity(s) for s in spaces],
            "footprint": space_fp,
            "attributes": [
                to_json({"psets": s.psets, "quantities": s.quantities, "object_type": s.object_type})
                for s in spaces
            ],
            "source_path": [source] * len(spaces),
        },
        geometry=("footprint",),
    )

    elements = [e for e in records.elements if e.building_guid is not None]
    counts["elements"] = _insert(
        cur,
        "elements",
        {
            "ifc_guid": [e.guid for e in elements],
            "building_id": [e.building_guid for e in elements],
            "storey_id": [e.storey_guid for e in elements],
            "ifc_class": [e.ifc_class for e in elements],
            "predefined_type": [e.predefined_type for e in elements],
            "type_name": [e.type_name for e in elements],
            "name": [e.name for e in elements],
            "psets": [to_json(e.psets) for e in elements],
            "quantities": [quantities(e) for e in elements],
            "materials": [to_json(e.materials) if e.materials else None for e in elements],
            "is_external": [e.is_external for e in elements],
            "load_bearing": [e.load_bearing for e in elements],
            "u_value_w_m2k": [e.u_value for e in elements],
            "u_value_source": [e.u_source for e in elements],
            "fire_rating": [e.fire_rating for e in elements],
            "acoustic_rating": [e.acoustic_rating for e in elements],
            "source_path": [source] * len(elements),
        },
    )

    building_of = {r.guid: r.building_guid for r in [*records.elements, *records.spaces]}
    class_of = {r.guid: r.ifc_class for r in [*records.elements, *records.spaces]}
    mesh_guids = [g for g in meshes if building_of.get(g)]
    origins = {
        f.building_guid: (math.floor(f.footprint.bounds[0]), math.floor(f.footprint.bounds[1]))
        if f.footprint is not None
        else (math.floor(georef.origin_x_m), math.floor(georef.origin_y_m))
        for f in facts
    }
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "ifc_guid",
            "building_id",
            "source_path",
            "ifc_class",
            "origin_x_m",
            "origin_y_m",
            "vertices",
            "faces",
            "n_vertices",
            "n_faces",
            "volume_m3",
            "surface_m2",
            "min_z_m",
            "max_z_m",
            "kernel",
        )
    }
    for guid in mesh_guids:
        v, f = meshes[guid]
        building = building_of[guid] or ""
        ox, oy = origins.get(building, (0, 0))
        rel = v - np.array([ox, oy, 0.0])
        volume, surface = measures[guid]
        for key, value in (
            ("ifc_guid", guid),
            ("building_id", building),
            ("source_path", source),
            ("ifc_class", class_of[guid]),
            ("origin_x_m", float(ox)),
            ("origin_y_m", float(oy)),
            ("vertices", rel.astype(np.float32).tobytes()),
            ("faces", f.astype(np.int32).tobytes()),
            ("n_vertices", len(v)),
            ("n_faces", len(f)),
            ("volume_m3", volume),
            ("surface_m2", surface),
            ("min_z_m", float(v[:, 2].min()) if len(v) else None),
            ("max_z_m", float(v[:, 2].max()) if len(v) else None),
            ("kernel", geometry.kernel[guid]),
        ):
            rows[key].append(value)
    counts["meshes"] = _insert(cur, "element_meshes", rows)

    fact_rows: dict[str, list[Any]] = {"building_id": []}
    keys = [
        "footprint_area_m2",
        "gross_floor_area_m2",
        "depth_m",
        "length_m",
        "max_facade_distance_m",
        "principal_axis_deg",
        "storeys_above_ground",
        "height_m",
        "window_to_floor_ratio",
        "loadbearing_wall_m_per_m2",
        "internal_loadbearing_wall_m_per_m2",
        "column_count",
        "column_grid_m",
        "stair_cores",
        "stair_separation_m",
        "lifts",
        "shafts",
        "core_position",
    ]
    for key in keys:
        fact_rows[key] = []
    fact_rows["evidence"] = []
    for bf in facts:
        fact_rows["building_id"].append(bf.building_guid)
        for key in keys:
            fact_rows[key].append(bf.facts.get(key))
        fact_rows["evidence"].append(to_json(bf.evidence))
    counts["building_facts"] = _insert(cur, "building_facts", fact_rows)

    env = [(f.building_guid, row) for f in facts for row in f.envelope]
    counts["envelope_surfaces"] = _insert(
        cur,
        "envelope_surfaces",
        {
            "building_id": [b for b, _ in env],
            "surface_kind": [r["surface_kind"] for _, r in env],
            "orientation": [r["orientation"] for _, r in env],
            "area_m2": [r["area_m2"] for _, r in env],
            "u_value_w_m2k": [r["u_value_w_m2k"] for _, r in env],
            "u_known_area_m2": [r["u_known_area_m2"] for _, r in env],
            "elements": [r["elements"] for _, r in env],
            "ifc_guids": [to_json(r["ifc_guids"]) for _, r in env],
        },
    )
    circ = [(f.building_guid, row) for f in facts for row in f.circulation]
    counts["vertical_circulation"] = _insert(
        cur,
        "vertical_circulation",
        {
            "ifc_guid": [r["ifc_guid"] for _, r in circ],
            "building_id": [b for b, _ in circ],
            "kind": [r["kind"] for _, r in circ],
            "x_m": [r["x_m"] for _, r in circ],
            "y_m": [r["y_m"] for _, r in circ],
            "distance_to_facade_m": [r["distance_to_facade_m"] for _, r in circ],
            "position": [r["position"] for _, r in circ],
        },
    )
    computed = sum(1 for e in elements if e.guid in meshes and not e.quantities)
    if computed:
        report.warn(
            "quantities",
            f"{computed} elements had no quantity set: volume and surface computed "
            "from their meshes (marked 'computed')",
        )
    return counts


def _positive(storey: Any, attribute: str) -> float | None:
    value = getattr(storey, attribute, None) if storey is not None else None
    return float(value) if value is not None and value > 0 else None


def _capacity(space: ElementRecord) -> int | None:
    value = space.psets.get("Pset_SpaceOccupancyRequirements", {}).get("OccupancyNumber")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
