"""``twin ingest ifc``: an IFC file into the twin: semantics, meshes, georeferencing, derived facts, IDS checks.

Order of work, so that a bad file changes nothing and both cores work:
1. check the file (header, schema, ending), hash it; an identical file already imported -> nothing to do;
2. open it, then triangulate in a fork of this process (:mod:`ingest.ifc_geometry`) while this process reads the
   semantics, georeferences, runs the IDS checks (``strict`` refuses a failing file), removes what an earlier
   version of the same file brought and prepares the element rows;
3. meshes are consumed in batches as the kernel makes them: twin-CRS coordinates, measures, hulls and the
   ``element_meshes`` rows, vectorised per batch and inserted at once;
4. once the kernel is done: the building facts (elements inserted meanwhile on a second thread), the storeys
   with their imposed loads (:mod:`ingest.ifc_loads`), spaces, envelope, circulation, the import log.
Steps 2-4 are one write transaction: any failure leaves the twin as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from ingest.ifc_facts import HULL_CLASSES, BuildingFacts, FactParams, convex_hulls, derive_facts
from ingest.ifc_geometry import MeshBatch, batch_measures, triangulate
from ingest.ifc_georef import Georeference, georeference
from ingest.ifc_loads import ImposedLoad, LoadParams, storey_imposed_loads
from ingest.ifc_model import ElementRecord, ModelRecords, check_ifc_file, open_ifc, read_model, to_json
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
    loads: LoadParams = field(default_factory=LoadParams)


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
    if already_imported(twin, "ifc", report.sha256) is not None:
        check_ifc_file(file)  # the same bytes imported fine before; still say if it is not an IFC file at all
        report.unchanged = True
        return report

    model = open_ifc(file)
    source = str(file)
    parsed: dict[str, Any] = {}
    # One transaction from the first batch of meshes to the end: meshes are inserted as they arrive, and a
    # failure anywhere (bad file, IDS in strict mode, kernel trouble) rolls everything back.
    with twin.write() as cur:

        def parse() -> dict[int, str]:
            """While the kernel triangulates: everything that does not need a mesh."""
            records = read_model(model)
            if not records.buildings:
                raise TwinError(f"{file} has no IfcBuilding", "the twin imports building models; check the export")
            georef = georeference(model, source, twin.crs, opts.at)
            parsed["ids"] = _ids_rows(model, file, opts)
            _check_conflicts(cur, records, source)
            _remove_previous(cur, source)
            parsed["import_id"] = record_import(cur, report, started)  # completed at the end
            parsed["records"], parsed["georef"] = records, georef
            parsed["sink"] = _MeshSink(cur, records, georef, source)
            parsed["rows"] = _element_rows(records, source)
            return records.geometry_wanted()

        say("geometry", None)
        geometry = triangulate(
            file, parse, progress=lambda n: say("geometry", n), model=model, on_batch=lambda b: parsed["sink"](b)
        )
        records, georef, sink = parsed["records"], parsed["georef"], parsed["sink"]
        ids_rows: list[dict[str, Any]] = parsed["ids"]
        for note in georef.notes:
            report.warn("georeferencing", note)
        for guid, reason in sorted(geometry.failures.items()):
            report.warn(guid, f"no geometry: {reason}")

        say("facts", None)
        # The elements go in on a second thread (DuckDB releases the GIL) while the facts are derived here.
        with ThreadPoolExecutor(1) as pool:
            elements_done = pool.submit(_insert_elements, cur, parsed["rows"], sink.measures, parsed["import_id"])
            try:
                meshes = sink.meshes()
                facts = [
                    derive_facts(
                        b["guid"],
                        records.elements,
                        records.spaces,
                        records.storeys,
                        meshes,
                        opts.facts,
                        sink.hulls,
                    )
                    for b in records.buildings
                ]
            finally:
                report.counts["elements"] = elements_done.result()
        say("writing", None)
        counts = _write(cur, file, report, records, sink, facts, opts.loads)
        report.counts.update(counts)
        report.counts["meshes"] = sink.rows
        import_id = parsed["import_id"]
        cur.execute(
            "UPDATE imports SET finished_at = ?, counts = ?, warnings = ? WHERE import_id = ?",
            [now_utc(), json.dumps(report.counts), json.dumps(report.warnings, ensure_ascii=False), import_id],
        )
        cur.execute(
            "INSERT INTO ifc_sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source,
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
        cur.execute("UPDATE buildings SET import_id = ? WHERE ifc_source_path = ?", [import_id, source])
        _insert(
            cur,
            "ids_results",
            {
                "import_id": [import_id] * len(ids_rows),
                "source_path": [source] * len(ids_rows),
                "ids_path": [str(opts.ids_path)] * len(ids_rows),
                "specification": [r["specification"] for r in ids_rows],
                "requirement": [r["requirement"] for r in ids_rows],
                "status": [r["status"] for r in ids_rows],
                "failed_guids": [json.dumps(r["failed_guids"]) for r in ids_rows],
                "checked_at": [started] * len(ids_rows),
            },
        )
    if ids_rows:
        report.counts["ids_failed"] = sum(r["status"] == "fail" for r in ids_rows)
        report.counts["ids_passed"] = sum(r["status"] == "pass" for r in ids_rows)
    return report


def _ids_rows(model: Any, file: Path, opts: IfcIngestOptions) -> list[dict[str, Any]]:
    if not opts.ids_path:
        return []
    rows = _ids_check(model, opts.ids_path)
    failing = [r for r in rows if r["status"] == "fail"]
    if failing and opts.strict:
        first = failing[0]
        where = ", ".join(first["failed_guids"][:3]) or "the model"
        raise TwinError(
            f"{file} fails {len(failing)} IDS requirement(s) of {opts.ids_path}, "
            f"e.g. '{first['specification']}' ({first['requirement']}) on {where}",
            "fix the model, or import without --strict to store it with the IDS report",
        )
    return rows


class _MeshSink:
    """Consumes the kernel's batches as they arrive: twin-CRS coordinates, volume and surface, and the columns
    of ``element_meshes`` (vertices relative to a whole-metre origin per mesh, as float32), all vectorised over
    the batch."""

    def __init__(self, cur: Any, records: ModelRecords, georef: Georeference, source: str) -> None:
        self.cur, self.georef, self.source = cur, georef, source
        self.rows = 0
        self.building_of = {r.guid: r.building_guid for r in [*records.elements, *records.spaces]}
        self.class_of = {r.guid: r.ifc_class for r in [*records.elements, *records.spaces]}
        self.world: list[MeshBatch] = []
        self.measures: dict[str, tuple[float, float]] = {}
        self.hulls: dict[str, shapely.Geometry] = {}

    def __call__(self, batch: MeshBatch) -> None:
        local = batch.vertices
        world = self.georef.to_twin(local)
        world[:, 2] = local[:, 2]  # z stays in the model's metres (ground floor near 0)
        wb = replace(batch, vertices=world)
        self.world.append(wb)
        n = len(batch)
        vcounts, fcounts = np.diff(batch.vertex_offsets), np.diff(batch.face_offsets)
        mesh_of_face = np.repeat(np.arange(n), fcounts)
        starts = np.minimum(batch.vertex_offsets[:-1], max(len(world) - 1, 0))
        has = vcounts > 0
        low = np.minimum.reduceat(world, starts, axis=0) if len(world) else np.zeros((n, 3))
        measures = batch_measures(world, wb.global_faces(), mesh_of_face, n, origins=low)
        self.measures.update(zip(batch.guids, map(tuple, measures.tolist()), strict=True))
        high_z = np.maximum.reduceat(world[:, 2], starts) if len(world) else np.zeros(n)
        origin = np.where(has[:, None], np.floor(low[:, :2]), 0.0)
        rel = world - np.repeat(np.column_stack([origin, np.zeros(n)]), vcounts, axis=0)
        keep = np.array([bool(self.building_of.get(g)) for g in batch.guids], bool)
        vbytes = (batch.vertex_offsets * 12).astype(np.int32)
        fbytes = (batch.face_offsets * 12).astype(np.int32)
        columns = {
            "ifc_guid": pa.array(batch.guids, pa.string()),
            "building_id": pa.array([self.building_of.get(g) or "" for g in batch.guids], pa.string()),
            "source_path": pa.array([self.source] * n, pa.string()),
            "ifc_class": pa.array([self.class_of.get(g, "") for g in batch.guids], pa.string()),
            "origin_x_m": pa.array(origin[:, 0]),
            "origin_y_m": pa.array(origin[:, 1]),
            "vertices": pa.Array.from_buffers(
                pa.binary(), n, [None, pa.py_buffer(vbytes), pa.py_buffer(rel.astype(np.float32).tobytes())]
            ),
            "faces": pa.Array.from_buffers(
                pa.binary(), n, [None, pa.py_buffer(fbytes), pa.py_buffer(batch.faces.astype(np.int32).tobytes())]
            ),
            "n_vertices": pa.array(vcounts.astype(np.int32)),
            "n_faces": pa.array(fcounts.astype(np.int32)),
            "volume_m3": pa.array(measures[:, 0]),
            "surface_m2": pa.array(measures[:, 1]),
            "min_z_m": pa.array(np.where(has, low[:, 2], np.nan), from_pandas=True),
            "max_z_m": pa.array(np.where(has, high_z, np.nan), from_pandas=True),
            "kernel": pa.array([batch.kernel] * n, pa.string()),
        }
        footprint_part = np.array([self.class_of.get(g, "").startswith(HULL_CLASSES) for g in batch.guids], bool)
        footprint_part &= vcounts > 0
        if footprint_part.any():
            part = wb.select(footprint_part)
            hulls = convex_hulls(part.vertices[:, :2], np.diff(part.vertex_offsets))
            self.hulls.update(zip(part.guids, hulls, strict=True))
        table = pa.table(columns)
        self.rows += _insert_table(
            self.cur, "element_meshes", table if keep.all() else table.filter(pa.array(keep))
        )

    def meshes(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every mesh by GlobalId: (vertices x, y in the twin CRS and z in model metres, faces)."""
        return {g: b.mesh(i) for b in self.world for i, g in enumerate(b.guids)}


def _insert_elements(
    cur: Any, element_rows: dict[str, list[Any]], measures: dict[str, tuple[float, float]], import_id: int
) -> int:
    """Insert the elements, their stated quantity sets completed with the volume and surface of their mesh."""

    def quantities(guid: str, stated: str) -> str:
        if guid not in measures:
            return stated
        volume, surface = measures[guid]
        computed = to_json(
            {
                "volume_m3": round(volume, 4),
                "surface_m2": round(surface, 4),
                "note": "computed from the mesh by twin",
            }
        )
        return f'{stated[:-1]}, "computed": {computed}}}' if stated != "{}" else f'{{"computed": {computed}}}'

    rows = dict(element_rows)
    rows["quantities"] = [quantities(g, q) for g, q in zip(rows["ifc_guid"], rows["quantities"], strict=True)]
    rows["import_id"] = [import_id] * len(rows["ifc_guid"])
    return _insert(cur, "elements", rows)


def _element_rows(records: ModelRecords, source: str) -> dict[str, list[Any]]:
    """The ``elements`` columns that need no mesh, made while the kernel runs."""
    elements = [e for e in records.elements if e.building_guid is not None]
    return {
        "ifc_guid": [e.guid for e in elements],
        "building_id": [e.building_guid for e in elements],
        "storey_id": [e.storey_guid for e in elements],
        "ifc_class": [e.ifc_class for e in elements],
        "predefined_type": [e.predefined_type for e in elements],
        "type_name": [e.type_name for e in elements],
        "name": [e.name for e in elements],
        "psets": [to_json(e.psets) for e in elements],
        "quantities": [to_json(e.quantities) for e in elements],
        "materials": [to_json(e.materials) if e.materials else None for e in elements],
        "is_external": [e.is_external for e in elements],
        "load_bearing": [e.load_bearing for e in elements],
        "u_value_w_m2k": [e.u_value for e in elements],
        "u_value_source": [e.u_source for e in elements],
        "fire_rating": [e.fire_rating for e in elements],
        "acoustic_rating": [e.acoustic_rating for e in elements],
        "source_path": [source] * len(elements),
    }


def _check_conflicts(cur: Any, records: ModelRecords, source: str) -> None:
    guids = [r.guid for r in records.elements]
    if not guids:
        return
    cur.register("__new_guids", pa.table({"g": guids}))
    try:
        row = cur.execute(
            "SELECT e.ifc_guid, e.source_path FROM elements e JOIN __new_guids n ON e.ifc_guid = n.g "
            "WHERE e.source_path IS DISTINCT FROM ? LIMIT 1",
            [source],
        ).fetchone()
    finally:
        cur.unregister("__new_guids")
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
    return _insert_table(cur, table, pa.table(data), geometry)


def _insert_table(cur: Any, table: str, arrow: pa.Table, geometry: tuple[str, ...] = ()) -> int:
    data = arrow.column_names
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
    file: Path,
    report: ImportReport,
    records: ModelRecords,
    sink: _MeshSink,
    facts: list[BuildingFacts],
    load_params: LoadParams,
) -> dict[str, int]:
    source = str(file)
    measures = sink.measures
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

    spaces = records.spaces
    space_meshes = _space_meshes(sink, {s.guid for s in spaces})
    space_area = []
    space_volume = []
    space_fp = []
    for s in spaces:
        qto: dict[str, Any] = next((v for k, v in s.quantities.items() if "Space" in k), {})
        area = qto.get("NetFloorArea") or qto.get("GrossFloorArea")
        volume = qto.get("NetVolume") or qto.get("GrossVolume")
        fp = None
        if s.guid in space_meshes:
            v, f = space_meshes[s.guid]
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
    storeys = list(records.storeys)
    loads = _imposed_loads(records, space_area, load_params)
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
            "imposed_load_kn_m2": [loads[s.guid].kn_m2 for s in storeys],
            "imposed_load_source": [loads[s.guid].source for s in storeys],
            "imposed_load_category": [loads[s.guid].category for s in storeys],
            "imposed_load_evidence": [loads[s.guid].evidence for s in storeys],
            "attributes": [to_json({"psets": s.psets}) for s in storeys],
            "source_path": [source] * len(storeys),
        },
    )

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
    computed = sum(1 for e in records.elements if e.building_guid and e.guid in measures and not e.quantities)
    if computed:
        report.warn(
            "quantities",
            f"{computed} elements had no quantity set: volume and surface computed "
            "from their meshes (marked 'computed')",
        )
    return counts


def _imposed_loads(
    records: ModelRecords, space_area: list[float | None], params: LoadParams
) -> dict[str, ImposedLoad]:
    slabs: dict[str, list[tuple[float, str]]] = {}
    for e in records.elements:
        if e.imposed_loads and e.storey_guid and e.ifc_class.startswith("IfcSlab") and e.predefined_type != "ROOF":
            slabs.setdefault(e.storey_guid, []).extend(e.imposed_loads)
    space_loads: dict[str, list[tuple[float, str]]] = {}
    storey_spaces: dict[str, list[tuple[list[str | None], float | None]]] = {}
    for space, area in zip(records.spaces, space_area, strict=True):
        if space.storey_guid is None:
            continue
        if space.imposed_loads:
            space_loads.setdefault(space.storey_guid, []).extend(space.imposed_loads)
        usage = space.psets.get("Pset_SpaceCommon", {}).get("Reference")
        texts = [str(usage) if usage else None, space.object_type, space.long_name, space.name]
        storey_spaces.setdefault(space.storey_guid, []).append((texts, area))
    building_loads = {
        b["guid"]: min(b["imposed_loads"]) if b["imposed_loads"] else None for b in records.buildings
    }
    use_texts: dict[str, list[str | None]] = {
        b["guid"]: [
            _text(b["psets"].get("Twin_DesignBasis", {}).get("DesignUse")),
            _text(b["psets"].get("Pset_BuildingCommon", {}).get("OccupancyType")),
            b.get("object_type"),
        ]
        for b in records.buildings
    }
    return storey_imposed_loads(
        records.storeys,
        building_loads,
        use_texts,
        {s.guid: min(s.imposed_loads) if s.imposed_loads else None for s in records.storeys},
        slabs,
        space_loads,
        storey_spaces,
        params,
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _space_meshes(sink: _MeshSink, guids: set[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {g: b.mesh(i) for b in sink.world for i, g in enumerate(b.guids) if g in guids}


def _positive(storey: Any, attribute: str) -> float | None:
    value = getattr(storey, attribute, None) if storey is not None else None
    return float(value) if value is not None and value > 0 else None


def _capacity(space: ElementRecord) -> int | None:
    value = space.psets.get("Pset_SpaceOccupancyRequirements", {}).get("OccupancyNumber")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
