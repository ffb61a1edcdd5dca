"""GIS layers of the twin as GeoJSON or GeoPackage, in the twin CRS or reprojected (e.g. EPSG:4326).

Each layer is one SQL query over the twin giving flat columns (units in their names, as in the twin) and a WKB
geometry; pyogrio writes them. Nested JSON columns (source attributes) are written as JSON text, since GIS
formats have no nested fields. Reports never carry personal fields: the twin does not store them in ``reports``
and the export selects named columns only, so a column added to that table later is not exported by accident.

The buildings layer uses the twin's own field names (``building_id``, ``height_m``, ``storeys_above_ground``,
``use``, ``construction_year``, ``dwellings``), which ``twin ingest buildings`` recognises: an exported layer
ingested into a fresh twin gives the same buildings.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS, Transformer

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["FORMATS", "LAYERS", "ExportReport", "export_layers", "layer_table"]

FORMATS = MappingProxyType({"geojson": ("GeoJSON", ".geojson"), "gpkg": ("GPKG", ".gpkg")})
"""Vector formats: name -> (OGR driver, file suffix)."""

# Each layer: its SQL (a ``geometry`` WKB column plus attributes) and the tables it needs.
_LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "buildings": (
        """
        SELECT b.building_id, b.name, b.use, b.construction_year, b.height_m, b.height_estimated,
               b.storeys_above_ground, b.storeys_below_ground, b.storeys_estimated, b.dwellings,
               b.footprint_area_m2, f.gross_floor_area_m2, f.depth_m, b.source, b.source_ref, b.ifc_building_id,
               CAST(b.attributes AS VARCHAR) AS source_attributes, ST_AsWKB(b.footprint) AS geometry
        FROM buildings b LEFT JOIN building_facts f USING (building_id)
        WHERE b.footprint IS NOT NULL
        ORDER BY b.building_id
        """,
        ("buildings", "building_facts"),
    ),
    "network_nodes": (
        """
        SELECT n.node_id, n.network_id, w.kind AS network_kind, n.node_kind, n.elevation_m,
               CAST(n.attributes AS VARCHAR) AS attributes, ST_AsWKB(n.geom) AS geometry
        FROM network_nodes n JOIN networks w USING (network_id)
        WHERE n.geom IS NOT NULL AND n.node_kind <> 'light'
        ORDER BY n.node_id
        """,
        ("network_nodes", "networks"),
    ),
    "network_links": (
        """
        SELECT l.link_id, l.network_id, w.kind AS network_kind, l.link_kind, l.from_node, l.to_node, l.length_m,
               l.diameter_mm, CAST(l.attributes AS VARCHAR) AS attributes, ST_AsWKB(l.geom) AS geometry
        FROM network_links l JOIN networks w USING (network_id)
        WHERE l.geom IS NOT NULL
        ORDER BY l.link_id
        """,
        ("network_links", "networks"),
    ),
    "streetlights": (
        """
        SELECT n.node_id AS light_id, n.network_id, n.attributes->>'technology' AS technology,
               TRY_CAST(n.attributes->>'wattage_w' AS DOUBLE) AS wattage_w,
               CAST(n.attributes AS VARCHAR) AS attributes, ST_AsWKB(n.geom) AS geometry
        FROM network_nodes n
        WHERE n.geom IS NOT NULL AND n.node_kind = 'light'
        ORDER BY n.node_id
        """,
        ("network_nodes",),
    ),
    "sensors": (
        """
        SELECT s.sensor_id, s.kind, s.unit_ucum, s.name, s.asset_kind, s.asset_id,
               l.time_utc AS latest_time_utc, l.value AS latest_value, ST_AsWKB(s.location) AS geometry
        FROM sensors s LEFT JOIN sensor_latest l USING (sensor_id)
        WHERE s.location IS NOT NULL
        ORDER BY s.sensor_id
        """,
        ("sensors", "sensor_latest"),
    ),
    "reports": (
        """
        SELECT report_id, service_code, service_name, description, status, requested_at, updated_at, address,
               media_url, asset_kind, asset_id, asset_distance_m, ST_AsWKB(location) AS geometry
        FROM reports
        WHERE location IS NOT NULL
        ORDER BY report_id
        """,
        ("reports",),
    ),
}

LAYERS = tuple(_LAYERS)
"""The layers ``twin export`` knows, in the order they are written."""


@dataclass
class ExportReport:
    """What an export wrote: files, rows per layer or table, and notes."""

    format: str
    out: str
    crs: str
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "out": self.out,
            "crs": self.crs,
            "counts": dict(self.rows),
            "files": list(self.files),
            "warnings": [["export", n] for n in self.notes],
        }


def layer_table(twin: Twin, layer: str) -> pa.Table:
    """The rows of one layer: attribute columns and a WKB ``geometry`` column, in the twin CRS."""
    if layer not in _LAYERS:
        raise TwinError(f"unknown layer '{layer}'", f"choose among: {', '.join(LAYERS)}")
    sql, _ = _LAYERS[layer]
    return twin.query(sql)


def export_layers(
    twin: Twin,
    fmt: str,
    out: str | os.PathLike[str],
    layers: Sequence[str] | None = None,
    crs: str | None = None,
) -> ExportReport:
    """Write layers as GeoJSON (one file per layer in the folder ``out``) or GeoPackage (one file ``out``).

    ``crs`` (e.g. ``EPSG:4326``) reprojects; by default the twin CRS is kept. Empty layers are skipped and said
    so. The files appear only once all are written.
    """
    if fmt not in FORMATS:
        raise TwinError(f"unknown vector format '{fmt}'", f"choose among: {', '.join(FORMATS)}")
    chosen = list(layers or LAYERS)
    for layer in chosen:
        if layer not in _LAYERS:
            raise TwinError(f"unknown layer '{layer}'", f"choose among: {', '.join(LAYERS)}")
    target_crs = _target_crs(crs, twin.crs)
    transformer = None
    if CRS.from_user_input(target_crs) != CRS.from_user_input(twin.crs):
        transformer = Transformer.from_crs(twin.crs, target_crs, always_xy=True)
    driver, suffix = FORMATS[fmt]
    target = Path(out)
    report = ExportReport(format=fmt, out=str(target), crs=target_crs)
    scratch = _scratch_beside(target)
    try:
        written: list[Path] = []
        for layer in chosen:
            table = layer_table(twin, layer)
            report.rows[layer] = table.num_rows
            if table.num_rows == 0:
                report.notes.append(f"layer {layer} is empty: not written")
                continue
            table = _prepared(table, transformer)
            file = scratch / (f"{layer}{suffix}" if fmt == "geojson" else target.name)
            pyogrio.write_arrow(
                table,
                file,
                layer=layer,
                driver=driver,
                geometry_name="geometry",
                geometry_type=_geometry_type(table),
                crs=target_crs,
                append=fmt == "gpkg" and file.exists(),
            )
            if file not in written:
                written.append(file)
        if not written:
            raise TwinError(
                "nothing to export: every chosen layer is empty", "import data first (twin ingest ...)"
            )
        report.files = _move_into_place(scratch, target, written, folder=fmt == "geojson")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _target_crs(crs: str | None, twin_crs: str) -> str:
    if crs is None:
        return twin_crs
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError, a plain Exception subclass, for any unknown text
        raise TwinError(f"unknown CRS '{crs}'", "give an EPSG code such as EPSG:4326 or EPSG:2154") from exc
    authority = parsed.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else str(parsed.to_wkt())


def _prepared(table: pa.Table, transformer: Transformer | None) -> pa.Table:
    """JSON text stays text; timestamps stay timestamps; the geometry is reprojected when asked."""
    index = table.schema.get_field_index("geometry")
    geometries = shapely.from_wkb(np.asarray(table.column(index).to_numpy(zero_copy_only=False), dtype=object))
    if transformer is not None:
        geometries = shapely.transform(
            geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    wkb = pa.array(shapely.to_wkb(geometries, output_dimension=2), pa.binary())
    return table.set_column(index, pa.field("geometry", pa.binary()), wkb)


_OGR_TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def _geometry_type(table: pa.Table) -> str:
    """The OGR geometry type of the layer: its one type, MultiPolygon for mixed polygons, else Unknown."""
    wkb = np.asarray(table.column("geometry").to_numpy(zero_copy_only=False), dtype=object)
    types = {int(t) for t in np.unique(shapely.get_type_id(shapely.from_wkb(wkb)))}
    if len(types) == 1 and next(iter(types)) in _OGR_TYPES:
        return _OGR_TYPES[next(iter(types))]
    if types <= {3, 6}:
        return "MultiPolygon"
    if types <= {1, 5}:
        return "MultiLineString"
    return "Unknown"


def _scratch_beside(target: Path) -> Path:
    parent = target.parent
    if not parent.exists():
        raise TwinError(f"cannot write {target}: the folder {parent} does not exist", "create it first")
    scratch = parent / f".{target.name}.export-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        scratch.mkdir()
    except OSError as exc:
        raise TwinError(f"cannot write in {parent}: {exc.strerror}", "choose a folder you can write to") from exc
    return scratch


def _move_into_place(scratch: Path, target: Path, written: list[Path], *, folder: bool) -> list[str]:
    """Move the finished files to their place; a folder target receives them, a file target is replaced."""
    if folder:
        target.mkdir(exist_ok=True)
        if not target.is_dir():
            raise TwinError(f"{target} is a file", "give a folder for GeoJSON layers (one file per layer)")
        moved = []
        for file in written:
            if (target / file.name).is_dir():  # a partitioned table written before: replaced whole
                shutil.rmtree(target / file.name)
            os.replace(file, target / file.name)
            moved.append(str(target / file.name))
        return moved
    if target.is_dir():
        raise TwinError(f"{target} is a folder", "give the path of the .gpkg file to write")
    os.replace(written[0], target)
    return [str(target)]
