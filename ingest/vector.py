"""Reading vector GIS files for the ingest paths: layers, Arrow tables, text encodings, CRS transforms and file
fingerprints. Shared by the building and network ingest (pyogrio, pyproj; no geopandas)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError

from ingest.cityjson import load_json
from twin.errors import CrsError, TwinError

__all__ = [
    "geometry_column",
    "list_layers",
    "name",
    "read_arrow",
    "same_crs",
    "sha256",
    "text_is_utf8",
    "transformer",
]


def list_layers(file: Path) -> np.ndarray:
    try:
        return pyogrio.list_layers(file)
    except DataSourceError as exc:
        if file.suffix.lower() in {".json", ".geojson"}:
            load_json(file)  # a damaged GeoJSON: name the line where it breaks
        raise TwinError(
            f"{file} is not a GIS file that can be read ({exc})".replace("\n", " "),
            "give a Shapefile (.shp), GeoPackage (.gpkg), GeoJSON or CityJSON file",
        ) from exc


def read_arrow(file: Path, layer: str, encoding: str | None) -> tuple[dict[str, Any], pa.Table]:
    try:
        meta, table = pyogrio.read_arrow(file, layer=layer, encoding=encoding)
    except DataLayerError as exc:
        raise TwinError(f"{file}: layer '{layer}' cannot be read ({exc})", "check the layer name") from exc
    except DataSourceError as exc:
        raise TwinError(f"{file} cannot be read as a GIS file ({exc})", "check the file is complete") from exc
    except (UnicodeDecodeError, LookupError) as exc:
        raise TwinError(
            f"{file}: the attributes cannot be decoded as {encoding} ({exc})", "give the right encoding"
        ) from exc
    return meta, table


def text_is_utf8(table: pa.Table) -> bool:
    """False when a text column holds bytes that are not UTF-8, or replacement characters (U+FFFD)."""
    for column in table.columns:
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:
            return False
        if pc.any(pc.match_substring(column, "\ufffd")).as_py():
            return False
    return True


def geometry_column(table: pa.Table) -> str | None:
    for f in table.schema:
        if (f.metadata or {}).get(b"ARROW:extension:name") == b"geoarrow.wkb":
            return str(f.name)
    return None


def transformer(file: Path, declared: str | None, given: str | None, target: str) -> Transformer | None:
    """The transform from the file's CRS into the twin's (None when they are the same)."""
    try:
        given_crs = (
            CRS.from_user_input(f"EPSG:{given}" if given and given.strip().isdigit() else given) if given else None
        )
    except ProjCRSError as exc:
        raise CrsError(f"unknown CRS '{given}' given for {file}", "use an EPSG code such as EPSG:2154") from exc
    declared_crs = CRS.from_user_input(declared) if declared else None
    if declared_crs is None and given_crs is None:
        raise CrsError(
            f"{file} does not declare its CRS",
            "give it with --crs EPSG:n (e.g. --crs EPSG:2154 for Lambert-93), or add a .prj / referenceSystem",
        )
    if declared_crs is not None and given_crs is not None and not same_crs(declared_crs, given_crs):
        raise CrsError(
            f"{file} declares {name(declared_crs)} but --crs says {name(given_crs)}",
            "drop --crs to use the file's CRS, or fix the file",
        )
    source = declared_crs or given_crs
    assert source is not None
    target_crs = CRS.from_user_input(target)
    if same_crs(source, target_crs):
        return None
    return Transformer.from_crs(source, target_crs, always_xy=True)


def same_crs(a: CRS, b: CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    code_a, code_b = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return code_a is not None and code_a == code_b


def name(crs: CRS) -> str:
    authority = crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]} ({crs.name})" if authority else crs.name


def sha256(file: Path) -> str:
    """SHA-256 of the file; for a Shapefile, of its .shp, .shx, .dbf, .prj and .cpg together (attributes too)."""
    members = [file]
    if file.suffix.lower() == ".shp":
        members = [p for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg") if (p := file.with_suffix(ext)).exists()]
    digest = hashlib.sha256()
    for member in members:
        with member.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
