"""GIS buildings into the twin: Shapefile, GeoPackage, GeoJSON (through pyogrio) and CityJSON footprints.

One path for every format: read the layer (or the CityJSON buildings), check it whole, map its fields to the
twin's, estimate what is missing (flagged), repair invalid polygons (counted), reproject into the twin CRS, and
write the buildings with their import-log row in one transaction (:mod:`twin.imports` contract). Nothing is
dropped silently: a feature that cannot become a footprint is counted and named in the import warnings.

BD TOPO v3 (IGN) is read without options: its shapefile field names (``ID``, ``HAUTEUR``, ``NB_ETAGES``,
``USAGE1``, ``NB_LOGTS``, ``DATE_APP``) and its GeoPackage names (``cleabs``, ``hauteur``, ``nombre_d_etages``,
``usage_1``, ``nombre_de_logements``, ``date_d_apparition``) are recognised; every source field is kept in
``buildings.attributes`` (e.g. ``MAT_MURS``). Other schemas are read through ``mapping``.

The twin's own field names (``building_id``, ``height_m``, ``storeys_above_ground``, ``use``, ``dwellings``,
``construction_year``, as ``twin export`` writes them) are recognised too: an exported layer comes back as the
same buildings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ingest.cityjson import is_cityjson, read_cityjson
from ingest.vector import (
    geometry_column as _geometry_column,
)
from ingest.vector import (
    list_layers as _list_layers,
)
from ingest.vector import (
    read_arrow as _read_arrow,
)
from ingest.vector import (
    sha256 as _sha256,
)
from ingest.vector import (
    text_is_utf8 as _text_is_utf8,
)
from ingest.vector import (
    transformer as _transformer,
)
from twin.errors import TwinError
from twin.imports import ImportReport, now_utc, record_import, require_file
from twin.store import Twin

__all__ = [
    "BDTOPO_USES",
    "DEFAULT_FIELDS",
    "KIND",
    "TWIN_FIELDS",
    "USES",
    "BuildingIngestParams",
    "HeightsAndStoreys",
    "estimate_heights_and_storeys",
    "ingest_buildings",
    "link_gis_to_ifc",
    "map_uses",
]

# The rows are written before their import-log row (whose counts include what the write did), under this id.
_PROVISIONAL_IMPORT_ID = -1

KIND = "buildings"
"""The ``imports.kind`` of these imports."""

USES = ("housing", "office", "commerce", "industry", "school", "parking", "public", "other")
"""The twin's use vocabulary (``buildings.use``); NULL means unknown."""

BDTOPO_USES: Mapping[str, str | None] = MappingProxyType(
    {
        "Résidentiel": "housing",
        "Commercial et services": "commerce",
        "Industriel": "industry",
        "Agricole": "other",
        "Religieux": "public",
        "Sportif": "public",
        "Annexe": "other",
        "Indifférencié": None,  # the source says it does not know: unknown, not "other"
    }
)
"""BD TOPO v3 ``USAGE1`` values -> twin use (IGN, *BD TOPO v3, descriptif de contenu*, class BATIMENT)."""

TWIN_FIELDS = ("id", "name", "height_m", "storeys", "use", "dwellings", "construction_year")
"""The twin fields a ``mapping`` may name (keys), each mapped to a field of the source (values)."""

DEFAULT_FIELDS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "gis": MappingProxyType(
            {
                "id": ("ID", "cleabs", "building_id"),
                "name": ("name",),
                "height_m": ("HAUTEUR", "height_m"),
                "storeys": ("NB_ETAGES", "nombre_d_etages", "storeys_above_ground"),
                "use": ("USAGE1", "usage_1", "use"),
                "dwellings": ("NB_LOGTS", "nombre_de_logements", "dwellings"),
                "construction_year": ("DATE_APP", "date_d_apparition", "construction_year"),
            }
        ),
        # CityGML / CityJSON Building attributes (CityJSON 2.0 section 4.3.1); the height comes from the geometry.
        "cityjson": MappingProxyType(
            {
                "name": ("name",),
                "storeys": ("storeysAboveGround",),
                "construction_year": ("yearOfConstruction",),
                "use": ("use",),  # the twin's own CityJSON export (twin.export.cityjson)
                "dwellings": ("dwellings",),
            }
        ),
    }
)
"""Source fields recognised without a mapping, per source, in order of preference (matched ignoring case)."""


@dataclass(frozen=True)
class BuildingIngestParams:
    """Parameters of the building ingest; every default is a documented, overridable choice.

    Attributes
    ----------
    storey_height_m:
        Height of one storey (floor to floor) used to estimate a missing height from the storeys and missing
        storeys from the height, m. 3.0 m is a **convention, not a measured figure**: no row of
        ``shared/reference/methods.md`` gives a floor-to-floor height (its 2.70 m row is a clear height,
        not floor to floor). Override it for a stock you know (e.g. 2.8 m for post-war housing).
    use_mapping:
        Source use value -> twin use (one of :data:`USES`) or None for unknown. Values already in the twin
        vocabulary are kept as they are. Default: :data:`BDTOPO_USES`.
    link_overlap_ratio:
        A GIS building is linked to an IFC building when their footprints overlap by more than this share of
        the smaller of the two areas.
    """

    storey_height_m: float = 3.0
    use_mapping: Mapping[str, str | None] = field(default_factory=lambda: BDTOPO_USES)
    link_overlap_ratio: float = 0.5

    def __post_init__(self) -> None:
        if not self.storey_height_m > 0:
            raise TwinError(f"storey_height_m must be > 0, not {self.storey_height_m}", "give a height in metres")
        if not 0 < self.link_overlap_ratio <= 1:
            raise TwinError(
                f"link_overlap_ratio must be in (0, 1], not {self.link_overlap_ratio}", "give a share, e.g. 0.5"
            )
        wrong = sorted(str(v) for v in self.use_mapping.values() if v is not None and v not in USES)
        if wrong:
            raise TwinError(
                f"use_mapping maps to {', '.join(wrong)}, which are not twin uses", f"use one of {', '.join(USES)}"
            )


# ---------------------------------------------------------------------------------------------------- pure parts
class HeightsAndStoreys(NamedTuple):
    height_m: np.ndarray
    """m, NaN where unknown."""
    height_estimated: np.ndarray
    storeys: np.ndarray
    """float (whole numbers), NaN where unknown."""
    storeys_estimated: np.ndarray


def estimate_heights_and_storeys(
    height_m: np.ndarray, storeys: np.ndarray, storey_height_m: float
) -> HeightsAndStoreys:
    """Fill a missing height from the storeys and missing storeys from the height; flag every estimate.

    ``height = storeys * storey_height_m`` where only the storeys are known, and
    ``storeys = max(1, round(height / storey_height_m))`` where only the height is known (the storey height is
    :attr:`BuildingIngestParams.storey_height_m`, a convention). A value that is NaN, zero or negative counts
    as missing. Where neither is known both stay NaN (unknown), never zero.

    Examples
    --------
    >>> r = estimate_heights_and_storeys(np.array([6.2, np.nan, 0.0]), np.array([np.nan, 2, np.nan]), 3.0)
    >>> r.height_m.tolist(), r.height_estimated.tolist()
    ([6.2, 6.0, nan], [False, True, False])
    >>> r.storeys.tolist(), r.storeys_estimated.tolist()
    ([2.0, 2.0, nan], [True, False, False])
    """
    height = np.where(np.asarray(height_m, float) > 0, height_m, np.nan)
    levels = np.where(np.asarray(storeys, float) > 0, np.round(np.asarray(storeys, float)), np.nan)
    height_known, storeys_known = ~np.isnan(height), ~np.isnan(levels)
    height_estimated = storeys_known & ~height_known
    storeys_estimated = height_known & ~storeys_known
    return HeightsAndStoreys(
        height_m=np.where(height_estimated, levels * storey_height_m, height),
        height_estimated=height_estimated,
        storeys=np.where(storeys_estimated, np.maximum(1.0, np.round(height / storey_height_m)), levels),
        storeys_estimated=storeys_estimated,
    )


def map_uses(
    values: pa.Array | pa.ChunkedArray, mapping: Mapping[str, str | None]
) -> tuple[pa.Array, dict[str, int]]:
    """Source use values -> twin uses (NULL = unknown), and the count of each value that has no mapping.

    A value already in :data:`USES` (any case) is kept; else ``mapping`` is looked up (exactly, then ignoring
    case); a value it maps to None is a known "unknown"; a value it lacks becomes unknown and is reported.
    Works on the distinct values only (dictionary encoding), so it costs nothing per building.

    Examples
    --------
    >>> uses, unmapped = map_uses(pa.array(["Résidentiel", "office", "Hangar", None]), BDTOPO_USES)
    >>> uses.to_pylist(), unmapped
    (['housing', 'office', None, None], {'Hangar': 1})
    """
    encoded = pc.dictionary_encode(pa.chunked_array([values]) if isinstance(values, pa.Array) else values)
    folded = {str(k).casefold(): v for k, v in mapping.items()}
    uses: list[str | None] = []
    unmapped_codes: list[int] = []
    dictionary = encoded.chunk(0).dictionary.to_pylist() if encoded.num_chunks else []
    for code, raw in enumerate(dictionary):
        text = str(raw).strip()
        if text.casefold() in USES:
            uses.append(text.casefold())
        elif text in mapping:
            uses.append(mapping[text])
        elif text.casefold() in folded:
            uses.append(folded[text.casefold()])
        else:
            uses.append(None)
            unmapped_codes.append(code)
    indices = (
        pa.concat_arrays([c.indices for c in encoded.chunks]) if encoded.num_chunks else pa.array([], pa.int32())
    )
    mapped = pc.take(pa.array(uses, pa.string()), indices)
    unmapped: dict[str, int] = {}
    if unmapped_codes:
        counts = np.bincount(indices.drop_null().to_numpy(), minlength=len(dictionary))
        unmapped = {str(dictionary[c]): int(counts[c]) for c in unmapped_codes}
    return mapped, unmapped


# ---------------------------------------------------------------------------------------------------- entry points
def ingest_buildings(
    twin: Twin,
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    params: BuildingIngestParams | None = None,
) -> ImportReport:
    """Import the building footprints of a GIS layer or a CityJSON file into the twin.

    Parameters
    ----------
    twin:
        The twin to write to; footprints are reprojected into ``twin.crs``.
    path:
        A Shapefile (``.shp``), GeoPackage, GeoJSON, or CityJSON 1.1/2.0 file.
    layer:
        The layer of a multi-layer file (GeoPackage); needed when the file has several polygon layers.
    crs:
        The CRS of a file that declares none (e.g. ``"EPSG:2154"``). A file that declares another CRS is an
        error: the twin never guesses between two CRSs.
    mapping:
        Twin field -> source field, for schemas other than BD TOPO (keys in :data:`TWIN_FIELDS`), e.g.
        ``{"height_m": "hoehe", "use": "nutzung"}``. Applies to CityJSON attributes too.
    encoding:
        Text encoding of the attributes, when the file does not say (old Shapefiles). A Shapefile without
        ``.cpg`` whose text is not UTF-8 is re-read as latin-1, with a warning.
    params:
        Storey height for estimates, use vocabulary mapping, IFC link threshold (:class:`BuildingIngestParams`).

    Returns
    -------
    ImportReport
        ``counts`` has ``buildings``, ``use_<use>`` and ``use_unknown``, ``height_estimated``,
        ``storeys_estimated``, ``height_unknown``, ``storeys_unknown``, ``repaired_geometries``,
        ``skipped_features``, ``replaced`` (rows of an earlier version or with the same ids) and
        ``linked_to_ifc``; ``unchanged`` is True when this file was already imported (nothing is written).

    Raises
    ------
    TwinError
        Whatever makes the file unusable (not a GIS file, no such layer, no CRS, no features, not polygons,
        an unknown field in ``mapping``...), naming the file; the twin is then left exactly as it was.
    """
    started_at = now_utc()
    params = params or BuildingIngestParams()
    file = require_file(path, "building file (Shapefile, GeoPackage, GeoJSON or CityJSON)")
    _check_mapping_keys(file, mapping)
    source = _read_cityjson(file) if is_cityjson(file) else _read_vector(file, layer, encoding)
    report = ImportReport(kind=KIND, file_path=source.file_ref, sha256=_sha256(file))
    for ref, message in source.warnings:
        report.warn(ref, message)
    rows = _prepare(twin, file, source, crs, mapping, params, report)

    if _already_imported(twin, report.sha256, source.file_ref):
        report.unchanged = True
        return report
    with twin.write() as cur:
        cur.register("__twin_buildings", rows)
        try:
            report.counts["replaced"] = _delete_previous(cur, source.file_ref)
            _insert(cur, source.kind, rows)
            report.counts["linked_to_ifc"] = _link(cur, params.link_overlap_ratio, _PROVISIONAL_IMPORT_ID)
            import_id = record_import(cur, report, started_at)
            cur.execute(
                "UPDATE buildings SET import_id = ? WHERE import_id = ?", [import_id, _PROVISIONAL_IMPORT_ID]
            )
        finally:
            cur.unregister("__twin_buildings")
    return report


def link_gis_to_ifc(twin: Twin, *, params: BuildingIngestParams | None = None) -> int:
    """Link every GIS or CityJSON building to the IFC building its footprint overlaps; returns how many are linked.

    A GIS building is linked (``buildings.ifc_building_id``) to the IFC building (``source = 'ifc'``) it
    overlaps most, when the overlap is more than ``params.link_overlap_ratio`` (default half) of the smaller
    of the two footprint areas. The IFC building carries the detail; the GIS row keeps its footprint. Links
    are recomputed: one that no longer holds (the IFC building moved or went) is cleared.
    """
    params = params or BuildingIngestParams()
    with twin.write() as cur:
        return _link(cur, params.link_overlap_ratio, None)


# ---------------------------------------------------------------------------------------------------- reading
@dataclass
class _Source:
    """A building layer as read, before any mapping: fields, geometries (file CRS), and what was noticed."""

    kind: str  # 'gis' or 'cityjson'
    file_ref: str
    fields: pa.Table
    geometries: np.ndarray
    crs: str | None
    raw_attributes: pa.Array  # struct of source fields (gis) or JSON text (cityjson)
    geometry_height_m: np.ndarray | None = None
    extra_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _read_cityjson(file: Path) -> _Source:
    city = read_cityjson(file)
    if not city.ids:
        raise TwinError(f"{file} has no Building objects", "give a CityJSON file that holds buildings")
    names = sorted({k for attributes in city.attributes for k in attributes})
    columns = {"__id": pa.array(city.ids, pa.string())}
    for name in names:
        values = [a.get(name) for a in city.attributes]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as text
            columns[name] = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values])
    lods: dict[str, int] = {}
    for lod in city.lods:
        key = f"lod_{str(lod).split('.')[0]}" if lod is not None else "lod_none"
        lods[key] = lods.get(key, 0) + 1
    return _Source(
        kind="cityjson",
        file_ref=str(file.resolve()),
        fields=pa.table(columns),
        geometries=city.footprints,
        crs=city.crs,
        raw_attributes=pa.array([json.dumps(a, ensure_ascii=False) for a in city.attributes], pa.string()),
        geometry_height_m=city.height_m,
        extra_counts={"building_parts": city.parts, **lods},
        warnings=list(city.warnings),
    )


def _read_vector(file: Path, layer: str | None, encoding: str | None) -> _Source:
    layers = _list_layers(file)
    chosen = _choose_layer(file, layers, layer)
    meta, table = _read_arrow(file, chosen, encoding)
    warnings: list[tuple[str, str]] = []
    if encoding is None and not _text_is_utf8(table):
        if file.suffix.lower() == ".shp" and not file.with_suffix(".cpg").exists():
            meta, table = _read_arrow(file, chosen, "latin1")
            warnings.append((file.name, "no .cpg and the text is not UTF-8: attributes decoded as latin-1"))
        else:
            raise TwinError(
                f"{file}: the attribute text is not valid UTF-8",
                "give its encoding (encoding='latin1', 'cp1252', ...)",
            )
    geometry_type = str(meta.get("geometry_type") or "")
    geometry_column = _geometry_column(table)
    if geometry_column is None or not geometry_type:
        raise TwinError(f"{file} (layer {chosen}) has no geometry", "give a layer of building footprints")
    base = geometry_type.replace("3D ", "").split(" ")[0]
    if base not in {"Polygon", "MultiPolygon", "Unknown", "Geometry", "GeometryCollection"}:
        raise TwinError(
            f"{file} (layer {chosen}) holds {geometry_type} geometries, not building footprints",
            "give a polygon layer (buildings); lines and points belong to networks",
        )
    if table.num_rows == 0:
        raise TwinError(f"{file} (layer {chosen}) has no features", "give a layer that holds buildings")
    try:
        geometries = shapely.from_wkb(
            table.column(geometry_column).combine_chunks().to_numpy(zero_copy_only=False)
        )
    except shapely.errors.GEOSException as exc:
        raise TwinError(
            f"{file} (layer {chosen}): a geometry cannot be decoded ({exc})", "repair the file"
        ) from exc
    fields = table.drop_columns([geometry_column])
    if fields.num_columns:
        raw = pa.StructArray.from_arrays([c.combine_chunks() for c in fields.columns], names=fields.column_names)
    else:  # DuckDB has no empty struct: an empty JSON object instead
        raw = pa.repeat(pa.scalar("{}"), table.num_rows)
    ref = str(file.resolve()) if len(layers) <= 1 else f"{file.resolve()}|layername={chosen}"
    return _Source("gis", ref, fields, geometries, meta.get("crs"), raw, warnings=warnings)


def _choose_layer(file: Path, layers: np.ndarray, layer: str | None) -> str:
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise TwinError(f"{file} has no layer '{layer}'", f"its layers are: {', '.join(names) or 'none'}")
        return layer
    if len(names) == 1:
        return names[0]
    polygons = [str(n) for n, t in layers if t and "Polygon" in str(t)]
    if len(polygons) == 1:
        return polygons[0]
    raise TwinError(
        f"{file} has {len(names)} layers and it is not clear which holds the buildings",
        f"choose one with --layer: {', '.join(names)}",
    )


# ---------------------------------------------------------------------------------------------------- preparing
def _check_mapping_keys(file: Path, mapping: Mapping[str, str] | None) -> None:
    wrong = sorted(set(mapping or {}) - set(TWIN_FIELDS))
    if wrong:
        raise TwinError(
            f"{file}: --map names {', '.join(wrong)}, which are not twin fields",
            f"map twin fields to source fields, e.g. height_m=HAUTEUR; twin fields: {', '.join(TWIN_FIELDS)}",
        )


def _resolve_fields(file: Path, source: _Source, mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Twin field -> source column: the mapping given, else the recognised defaults (ignoring case)."""
    by_folded = {name.casefold(): name for name in source.fields.column_names if not name.startswith("__")}
    resolved: dict[str, str] = {}
    for twin_field, source_field in (mapping or {}).items():
        found = by_folded.get(source_field.casefold())
        if found is None:
            raise TwinError(
                f"{file}: --map {twin_field}={source_field}, but there is no field '{source_field}'",
                f"its fields are: {', '.join(sorted(by_folded.values())) or 'none'}",
            )
        resolved[twin_field] = found
    for twin_field, candidates in DEFAULT_FIELDS[source.kind].items():
        if twin_field in resolved:
            continue
        hit = next((by_folded[c.casefold()] for c in candidates if c.casefold() in by_folded), None)
        if hit is not None:
            resolved[twin_field] = hit
    return resolved


def _as_float(file: Path, column: pa.ChunkedArray, name: str) -> np.ndarray:
    try:
        values = pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TwinError(f"{file}: field '{name}' is not numeric ({exc})", "map a numeric field") from exc
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _as_year(file: Path, column: pa.ChunkedArray, name: str) -> np.ndarray:
    kind = column.type
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return np.asarray(pc.cast(pc.year(column), pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        found = pc.extract_regex(pc.utf8_trim_whitespace(column), r"^(?P<y>\d{4})")
        return _as_float(file, pc.struct_field(found, "y"), name)
    return _as_float(file, column, name)


def _prepare(
    twin: Twin,
    file: Path,
    source: _Source,
    crs: str | None,
    mapping: Mapping[str, str] | None,
    params: BuildingIngestParams,
    report: ImportReport,
) -> pa.Table:
    """Everything checked and computed before the write: the rows to insert, as Arrow."""
    n = len(source.geometries)
    counts = report.counts
    fields = _resolve_fields(file, source, mapping)
    transformer = _transformer(file, source.crs, crs, twin.crs)
    ids = _building_ids(file, source, fields.get("id"))

    # Geometry: polygons only, 2D, repaired, in the twin CRS.
    geometries = shapely.force_2d(source.geometries)
    present = ~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)
    types = shapely.get_type_id(geometries)
    wrong = present & ~np.isin(types, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        raise TwinError(
            f"{file}: {int(wrong.sum())} of {n} features are not polygons (first: {ids[first]}, a "
            f"{shapely.GeometryType(int(types[first])).name.title()})",
            "building footprints must be polygons; split the layer by geometry type",
        )
    invalid = present & ~shapely.is_valid(geometries)
    if invalid.any():
        reasons = shapely.is_valid_reason(geometries[invalid])
        geometries[invalid] = shapely.make_valid(geometries[invalid], method="structure", keep_collapsed=False)
        for ref, reason in zip(pc.take(ids, pa.array(np.flatnonzero(invalid))).to_pylist(), reasons, strict=True):
            report.warn(str(ref), f"invalid polygon ({reason}) repaired with make_valid")
    counts["repaired_geometries"] = int(invalid.sum())
    usable = present & ~shapely.is_empty(geometries)
    for ref in pc.filter(ids, pa.array(~usable)).to_pylist():
        report.warn(str(ref), "no footprint (empty, missing or collapsed geometry): feature skipped")
    counts["skipped_features"] = int((~usable).sum())
    if not usable.any():
        raise TwinError(f"{file} has {n} features but none with a polygon footprint", "give building footprints")
    if transformer is not None:
        geometries[usable] = shapely.transform(
            geometries[usable], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    keep = pa.array(usable)

    # Attributes: numbers as float arrays (NaN = unknown), vectorised.
    def numbers(twin_field: str, read: Any = _as_float) -> np.ndarray:
        name = fields.get(twin_field)
        return np.full(n, np.nan) if name is None else read(file, source.fields.column(name), name)

    height = numbers("height_m")
    if "height_m" not in fields and source.geometry_height_m is not None:
        height = source.geometry_height_m
    estimate = estimate_heights_and_storeys(height, numbers("storeys"), params.storey_height_m)
    uses = pa.nulls(n, pa.string())
    if "use" in fields:
        uses, unmapped = map_uses(source.fields.column(fields["use"]), params.use_mapping)
        for value, count in sorted(unmapped.items()):
            report.warn(f"{fields['use']}={value}", f"{count} buildings: use '{value}' has no twin use: unknown")
    years = numbers("construction_year", _as_year)
    odd_year = ~np.isnan(years) & ((years < 1000) | (years > 2100))
    if odd_year.any():
        report.warn(fields["construction_year"], f"{int(odd_year.sum())} years outside 1000-2100: unknown")
    dwellings = numbers("dwellings")
    names = pa.nulls(n, pa.string())
    if "name" in fields:
        names = pc.cast(source.fields.column(fields["name"]), pa.string())

    footprints = geometries[usable]
    rows = pa.table(
        {
            "building_id": ids,
            "name": names,
            "height_m": _nullable(estimate.height_m),
            "height_estimated": estimate.height_estimated,
            "storeys": _nullable(estimate.storeys, pa.int32()),
            "storeys_estimated": estimate.storeys_estimated,
            "use": uses,
            "construction_year": _nullable(np.where(odd_year, np.nan, years), pa.int32()),
            "dwellings": _nullable(np.where(dwellings >= 0, np.round(dwellings), np.nan), pa.int32()),
            "raw": source.raw_attributes,
        }
    ).filter(keep)
    rows = rows.append_column("footprint_area_m2", pa.array(shapely.area(footprints), pa.float64()))
    rows = rows.append_column("wkb", pa.array(shapely.to_wkb(footprints), pa.binary()))

    _check_ids(twin, file, rows)
    counts["buildings"] = rows.num_rows
    _count_uses(counts, rows.column("use"))
    counts["height_estimated"] = int(pc.sum(rows.column("height_estimated")).as_py() or 0)
    counts["storeys_estimated"] = int(pc.sum(rows.column("storeys_estimated")).as_py() or 0)
    counts["height_unknown"] = rows.column("height_m").null_count
    counts["storeys_unknown"] = rows.column("storeys").null_count
    counts.update(source.extra_counts)
    return rows


def _nullable(values: np.ndarray, type_: pa.DataType | None = None) -> pa.Array:
    """NaN -> NULL, optionally cast (to a whole-number type: the values are already rounded)."""
    missing = np.isnan(values)
    array = pa.array(np.where(missing, 0, values), mask=missing)
    return array.cast(type_) if type_ is not None else array


def _building_ids(file: Path, source: _Source, id_field: str | None) -> pa.Array:
    """The source id, else ``<file stem>:<feature index>``."""
    n = len(source.geometries)
    stem = file.name.split(".")[0]
    fallback = pc.binary_join_element_wise(
        pa.array(np.full(n, stem, dtype=object), pa.string()), pc.cast(pa.array(np.arange(n)), pa.string()), ":"
    )
    if source.kind == "cityjson" and id_field is None:
        return source.fields.column("__id").combine_chunks()
    if id_field is None:
        return fallback
    ids = pc.utf8_trim_whitespace(pc.cast(source.fields.column(id_field), pa.string())).combine_chunks()
    return pc.if_else(pc.or_kleene(pc.is_null(ids), pc.equal(ids, "")), fallback, ids)


def _check_ids(twin: Twin, file: Path, rows: pa.Table) -> None:
    ids = rows.column("building_id")
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts, pc.greater(counts.field("counts"), 1))
    if len(repeated):
        first = repeated[0].as_py()
        raise TwinError(
            f"{file}: {len(repeated)} building ids occur more than once (e.g. '{first['values']}', "
            f"{first['counts']} times)",
            "map a unique id field with --map id=FIELD",
        )
    with twin.read() as cur:
        cur.register("__twin_new_ids", pa.table({"building_id": ids}))
        clash = cur.execute(
            "SELECT b.building_id, b.source FROM buildings b JOIN __twin_new_ids n USING (building_id) "
            "WHERE b.source NOT IN ('gis', 'cityjson') LIMIT 1"
        ).fetchone()
        cur.unregister("__twin_new_ids")
    if clash:
        raise TwinError(
            f"{file}: building id '{clash[0]}' is already in the twin, from {clash[1]}",
            "map another id field with --map id=FIELD",
        )


def _count_uses(counts: dict[str, int], uses: pa.ChunkedArray) -> None:
    for use in USES:
        counts[f"use_{use}"] = 0
    for item in pc.value_counts(uses).to_pylist():
        key = f"use_{item['values']}" if item["values"] is not None else "use_unknown"
        counts[key] = int(item["counts"])
    counts.setdefault("use_unknown", 0)


# ---------------------------------------------------------------------------------------------------- writing
def _already_imported(twin: Twin, sha256: str, file_ref: str) -> bool:
    """The same content, from the same layer, was imported already (a moved file counts as the same)."""
    layer = file_ref.partition("|layername=")[2]
    paths = twin.query(
        "SELECT file_path FROM imports WHERE kind = ? AND sha256 = ? AND status = 'ok'", [KIND, sha256]
    ).column("file_path")
    return any(str(p).partition("|layername=")[2] == layer for p in paths.to_pylist())


def _delete_previous(cur: duckdb.DuckDBPyConnection, file_ref: str) -> int:
    """Drop the GIS rows of an earlier import of this file, and those whose ids come again; returns how many."""
    row = cur.execute(
        "DELETE FROM buildings WHERE source IN ('gis', 'cityjson') AND ("
        " building_id IN (SELECT building_id FROM __twin_buildings)"
        " OR import_id IN (SELECT import_id FROM imports WHERE kind = ? AND file_path = ?))",
        [KIND, file_ref],
    ).fetchone()
    return int(row[0]) if row else 0


def _insert(cur: duckdb.DuckDBPyConnection, source: str, rows: pa.Table) -> None:
    """Insert the rows under :data:`_PROVISIONAL_IMPORT_ID`, replaced by the real one in the same transaction."""
    attributes = "to_json(raw)" if pa.types.is_struct(rows.schema.field("raw").type) else "CAST(raw AS JSON)"
    cur.execute(
        "INSERT INTO buildings (building_id, name, footprint, footprint_area_m2, height_m, height_estimated, "
        "storeys_above_ground, storeys_estimated, use, construction_year, dwellings, source, source_ref, "
        "import_id, attributes) "
        "SELECT building_id, name, ST_GeomFromWKB(wkb), footprint_area_m2, height_m, height_estimated, storeys, "
        f"storeys_estimated, use, construction_year, dwellings, ?, building_id, ?, {attributes} "
        "FROM __twin_buildings",
        [source, _PROVISIONAL_IMPORT_ID],
    )


def _link(cur: duckdb.DuckDBPyConnection, ratio: float, import_id: int | None) -> int:
    """Set ``ifc_building_id`` of GIS rows (of one import, or all) from the IFC footprints; returns how many."""
    scope = "AND g.import_id = $import_id" if import_id is not None else ""
    args: dict[str, Any] = {"ratio": ratio}
    if import_id is not None:
        args["import_id"] = import_id
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __twin_links AS
        WITH pairs AS (
            SELECT g.building_id AS gis_id, i.building_id AS ifc_id,
                   ST_Area(ST_Intersection(g.footprint, i.footprint)) AS overlap_m2,
                   least(ST_Area(g.footprint), ST_Area(i.footprint)) AS smaller_m2
            FROM buildings g JOIN buildings i ON ST_Intersects(g.footprint, i.footprint)
            WHERE g.source IN ('gis', 'cityjson') AND i.source = 'ifc' {scope}
        )
        SELECT gis_id, arg_max(ifc_id, overlap_m2) AS ifc_id
        FROM pairs WHERE overlap_m2 > $ratio * smaller_m2 GROUP BY gis_id
        """,
        args,
    )
    cur.execute(
        f"""
        UPDATE buildings g SET ifc_building_id = l.ifc_id
        FROM (SELECT b.building_id, l.ifc_id FROM buildings b LEFT JOIN __twin_links l ON l.gis_id = b.building_id
              WHERE b.source IN ('gis', 'cityjson') {scope.replace("g.", "b.")}) AS l
        WHERE g.building_id = l.building_id AND g.ifc_building_id IS DISTINCT FROM l.ifc_id
        """,
        {"import_id": import_id} if import_id is not None else {},
    )
    row = cur.execute("SELECT count(*) FROM __twin_links").fetchone()
    cur.execute("DROP TABLE __twin_links")
    return int(row[0]) if row else 0
