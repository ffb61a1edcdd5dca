"""Utility and road networks into the twin: EPANET, pandapower, pandapipes and GIS layers become nodes and links.

One path for every format: a reader turns the file into :class:`NetworkData` (nodes and links with their source
ids, kinds, positions and attributes, units in the attribute names), then :func:`ingest_network` checks it whole
(unique ids, every link's endpoints present, a CRS or an origin), places it in the twin CRS, prefixes every id
with the network id (so ids stay unique across the twin) and writes ``networks``, ``network_nodes`` and
``network_links`` with the import-log row in one transaction (:mod:`twin.imports` contract).

Readers, chosen by the file:

- ``.inp``: EPANET through wntr (:mod:`ingest.epanet`); the file has no CRS, so ``crs`` or ``origin`` places it;
- pandapower or pandapipes JSON, told apart by content (:mod:`ingest.pandapower_net`);
- GeoPackage, Shapefile, GeoJSON through ``pyogrio.read_arrow`` (here): a point layer ``nodes`` with a line
  layer of links (``pipes``, ``cables``, ...), or one line layer whose endpoints become nodes (endpoints closer
  than ``snap_m`` merged), or, for ``kind="lighting"`` only, one point layer of street lights
  (:mod:`ingest.streetlights`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ingest.network_data import Layer, NetworkData
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
    same_crs as _same_crs,
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
from twin.errors import CrsError, TwinError
from twin.imports import ImportReport, now_utc, record_import, require_file
from twin.store import Twin

__all__ = [
    "FIELD_UNITS",
    "IMPORT_KIND",
    "KINDS",
    "NetworkData",
    "ingest_network",
    "snap_endpoints",
]

IMPORT_KIND = "network"
"""The ``imports.kind`` of these imports."""

KINDS = ("water", "power", "heat", "gas", "lighting", "road")
"""Network kinds (``networks.kind``)."""

_PROVISIONAL_IMPORT_ID = -1

FIELD_UNITS: Mapping[str, str] = {
    "largeur": "width_m",
    "diametre": "diameter_mm",
    "longueur": "length_m",
    "puissance": "wattage_w",
    "altitude": "elevation_m",
    "z": "elevation_m",
}
"""Source field names (case-folded) whose unit is known but not in the name -> the twin's name with the unit.

BD TOPO ``LARGEUR`` is a width in metres (IGN, *BD TOPO v3, descriptif de contenu*, TRONCON_DE_ROUTE); the
others are common French GIS field names. The source field is kept too, under its own name.
"""

_NODE_ID_FIELDS = ("node_id", "id", "noeud_id")
_LINK_ID_FIELDS = ("link_id", "id", "ID", "cleabs")
_FROM_FIELDS = ("from_node", "from", "node_from", "noeud_amont")
_TO_FIELDS = ("to_node", "to", "node_to", "noeud_aval")
_CREATED_NODE_KIND = {"road": "intersection", "power": "joint"}
_LINK_KIND = {
    "water": "pipe",
    "heat": "pipe",
    "gas": "pipe",
    "power": "cable",
    "road": "street",
    "lighting": "cable",
}


# ---------------------------------------------------------------------------------------------------- entry point
def ingest_network(
    twin: Twin,
    path: str | os.PathLike[str],
    *,
    kind: str,
    crs: str | None = None,
    origin: str | tuple[float, float] | None = None,
    layer: str | None = None,
    snap_m: float = 0.5,
    network_id: str | None = None,
    encoding: str | None = None,
    lamp_types: Mapping[str, Any] | None = None,
) -> ImportReport:
    """Import a network file (EPANET, pandapower/pandapipes JSON, GIS layers) as nodes and links of the twin.

    Parameters
    ----------
    twin:
        The twin to write to; coordinates are placed in ``twin.crs``.
    path:
        ``.inp`` (EPANET), pandapower or pandapipes ``.json``, or a GeoPackage / Shapefile / GeoJSON.
    kind:
        One of :data:`KINDS`: water, power, heat, gas, lighting, road.
    crs:
        The CRS of the file's coordinates when the file does not declare one (EPANET, pandapipes x/y). A file
        that declares another CRS is an error.
    origin:
        ``"X,Y"`` (twin CRS, m): the file's coordinates are metres relative to that point (EPANET plans).
    layer:
        For a GIS file: the one layer to read (else ``nodes`` + a line layer, or the single layer).
    snap_m:
        Line endpoints closer than this (m) become one node; an endpoint this close to a node joins it.
    network_id:
        The id of the network in the twin (default ``<kind>:<file stem>``); node and link ids are prefixed with
        it and ``:``. Importing another file under an existing id replaces that network.
    encoding:
        Text encoding of GIS attributes when the file does not say (old Shapefiles are often latin-1).
    lamp_types:
        Street lights: lamp type text -> :class:`ingest.streetlights.LampType` (technology, default wattage),
        replacing :data:`ingest.streetlights.LAMP_TYPES`.

    Returns
    -------
    ImportReport
        ``counts``: ``nodes``, ``links``, ``nodes_<kind>``, ``links_<kind>``, ``nodes_unplaced``,
        ``replaced_nodes``/``replaced_links`` and format-specific counts; ``warnings`` say what was guessed
        (axis order, CRS, latin-1). ``unchanged`` is True when this file was already imported as this network.

    Raises
    ------
    TwinError
        Whatever makes the file unusable, naming the file; the twin is then left exactly as it was.
    """
    started_at = now_utc()
    if kind not in KINDS:
        raise TwinError(f"unknown network kind '{kind}'", f"use one of {', '.join(KINDS)}")
    if not snap_m >= 0:
        raise TwinError(f"snap_m must be >= 0, not {snap_m}", "give a tolerance in metres, e.g. 0.5")
    file = require_file(path, "network file (EPANET .inp, pandapower/pandapipes JSON, GeoPackage, Shapefile)")
    network_id = network_id or f"{kind}:{file.name.split('.')[0]}"
    data = _read(
        twin,
        file,
        kind=kind,
        crs=crs,
        origin=origin,
        layer=layer,
        snap_m=snap_m,
        encoding=encoding,
        lamp_types=lamp_types,
    )
    report = ImportReport(kind=IMPORT_KIND, file_path=data.file_ref, sha256=_sha256(file))
    for ref, message in data.warnings:
        report.warn(ref, message)
    nodes, links = _prepare(twin, file, data, kind, crs, origin, network_id, report)

    if _already_imported(twin, report.sha256, network_id):
        report.unchanged = True
        return report
    with twin.write() as cur:
        cur.register("__twin_nodes", nodes)
        cur.register("__twin_links", links)
        try:
            report.counts["replaced_nodes"], report.counts["replaced_links"] = _delete_network(cur, network_id)
            _insert(cur, network_id, kind, data, nodes, links)
            import_id = record_import(cur, report, started_at)
            cur.execute("UPDATE networks SET import_id = ? WHERE network_id = ?", [import_id, network_id])
        finally:
            cur.unregister("__twin_nodes")
            cur.unregister("__twin_links")
    return report


# ---------------------------------------------------------------------------------------------------- reading
def _read(
    twin: Twin,
    file: Path,
    *,
    kind: str,
    crs: str | None,
    origin: str | tuple[float, float] | None,
    layer: str | None,
    snap_m: float,
    encoding: str | None,
    lamp_types: Mapping[str, Any] | None,
) -> NetworkData:
    suffix = file.suffix.lower()
    if suffix == ".inp":
        from ingest.epanet import read_epanet

        return read_epanet(file)
    if suffix == ".json":
        with file.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="replace")
        if "pandapipesNet" in head or "pandapowerNet" in head:
            from ingest.pandapower_net import read_pandapipes, read_pandapower

            return read_pandapipes(file, crs) if "pandapipesNet" in head else read_pandapower(file, crs)
    return _read_gis(
        twin, file, kind=kind, crs=crs, layer=layer, snap_m=snap_m, encoding=encoding, lamp_types=lamp_types
    )


def _read_gis(
    twin: Twin,
    file: Path,
    *,
    kind: str,
    crs: str | None,
    layer: str | None,
    snap_m: float,
    encoding: str | None,
    lamp_types: Mapping[str, Any] | None,
) -> NetworkData:
    layers = _list_layers(file)
    names = [str(n) for n, _ in layers]
    types = {str(n): str(t or "") for n, t in layers}
    if layer is not None and layer not in names:
        raise TwinError(f"{file} has no layer '{layer}'", f"its layers are: {', '.join(names) or 'none'}")
    chosen = [layer] if layer else names
    points = [n for n in chosen if "Point" in types[n]]
    lines = [n for n in chosen if "LineString" in types[n]]
    if len(chosen) > 1:
        points = [n for n in points if n.casefold() == "nodes"] or points
        if len(points) > 1 or len(lines) > 1:
            raise TwinError(
                f"{file} has layers {', '.join(names)}: it is not clear which hold the nodes and the links",
                "choose one with --layer, or name the point layer 'nodes' beside one line layer",
            )
    if not points and not lines:
        what = ", ".join(f"{n} ({types[n] or 'no geometry'})" for n in chosen)
        raise TwinError(f"{file}: no point or line layer ({what})", "give network nodes (points) or links (lines)")
    ref = str(file.resolve()) + (f"|layername={layer}" if layer and len(names) > 1 else "")
    if kind == "lighting":
        if lines or not points:
            raise TwinError(
                f"{file} (layer {(lines or chosen)[0]}) holds lines, not street-light points",
                "give the point layer of the lights (one point per lamp), or import lines with another --kind",
            )
        from ingest.streetlights import read_streetlights

        layer_data = _read_layer(file, points[0], encoding, crs, twin.crs, expect="Point")
        lights = read_streetlights(file, ref, layer_data, lamp_types)
        lights.crs = twin.crs
        return lights
    if not lines:
        raise TwinError(
            f"{file} (layer {points[0]}) holds only points: a {kind} network needs links",
            "give a line layer (pipes, cables, streets) with or beside its nodes; points alone are for lighting",
        )
    node_layer = _read_layer(file, points[0], encoding, crs, twin.crs, expect="Point") if points else None
    link_layer = _read_layer(file, lines[0], encoding, crs, twin.crs, expect="LineString")
    data = _gis_network(file, kind, node_layer, link_layer, snap_m)
    data.file_ref = ref
    data.crs = twin.crs
    return data


def _read_layer(
    file: Path, name: str, encoding: str | None, crs: str | None, twin_crs: str, *, expect: str
) -> Layer:
    meta, table = _read_arrow(file, name, encoding)
    warnings: list[tuple[str, str]] = []
    if encoding is None and not _text_is_utf8(table):
        if file.suffix.lower() == ".shp" and not file.with_suffix(".cpg").exists():
            meta, table = _read_arrow(file, name, "latin1")
            warnings.append((file.name, "no .cpg and the text is not UTF-8: attributes decoded as latin-1"))
        else:
            raise TwinError(
                f"{file}: the attribute text is not valid UTF-8", "give its encoding (encoding='latin1')"
            )
    if table.num_rows == 0:
        raise TwinError(f"{file} (layer {name}) has no features", "give a layer that holds the network")
    geometry_column = _geometry_column(table)
    if geometry_column is None:
        raise TwinError(f"{file} (layer {name}) has no geometry", "give a point or line layer")
    try:
        geometries = shapely.from_wkb(
            table.column(geometry_column).combine_chunks().to_numpy(zero_copy_only=False)
        )
    except shapely.errors.GEOSException as exc:
        raise TwinError(f"{file} (layer {name}): a geometry cannot be decoded ({exc})", "repair the file") from exc
    geometries = shapely.force_2d(geometries)
    present = ~shapely.is_missing(geometries)
    types = shapely.get_type_id(geometries)
    allowed = [shapely.GeometryType.POINT] if expect == "Point" else [1, 5]  # LineString, MultiLineString
    wrong = present & ~np.isin(types, allowed)
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        raise TwinError(
            f"{file} (layer {name}): feature {first} is a {shapely.GeometryType(int(types[first])).name.title()}, "
            f"not a {expect}",
            "split the layer by geometry type: points for nodes and lights, lines for links",
        )
    bad = present & (shapely.is_empty(geometries) | ~shapely.is_valid(geometries))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise TwinError(
            f"{file} (layer {name}): {int(bad.sum())} broken geometries (first: feature {first}, "
            f"{shapely.is_valid_reason(geometries[first])})",
            "repair the geometries (empty or degenerate lines, NaN coordinates) and import again",
        )
    transformer = _transformer(file, meta.get("crs"), crs, twin_crs)
    if transformer is not None and present.any():
        geometries[present] = shapely.transform(
            geometries[present], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    if present.any() and not np.isfinite(shapely.get_coordinates(geometries[present])).all():
        raise CrsError(
            f"{file} (layer {name}): coordinates fall outside the CRS {'given' if crs else 'declared'} "
            f"({crs or meta.get('crs')}) once placed in {twin_crs}",
            "check the CRS: a GeoJSON without 'crs' is WGS84 degrees by definition; give --crs or fix the file",
        )
    fields = table.drop_columns([geometry_column])
    attributes = _attributes(fields)
    return Layer(name, fields, geometries, attributes, warnings)


def _attributes(fields: pa.Table) -> pa.Array:
    """The source fields as a struct (kept as they are), plus unit-named copies of known fields (FIELD_UNITS)."""
    arrays = [c.combine_chunks() for c in fields.columns]
    names = list(fields.column_names)
    for name, array in zip(list(names), list(arrays), strict=True):
        unit_name = FIELD_UNITS.get(name.casefold())
        if unit_name and unit_name not in names:
            names.append(unit_name)
            arrays.append(array)
    if not names:
        return pa.repeat(pa.scalar("{}"), fields.num_rows)
    return pa.StructArray.from_arrays(arrays, names=names)


def _gis_network(file: Path, kind: str, nodes: Layer | None, links: Layer, snap_m: float) -> NetworkData:
    n_links = len(links.geometries)
    present = ~shapely.is_missing(links.geometries)
    merged = links.geometries.copy()
    multi = present & (shapely.get_type_id(merged) == 5)
    if multi.any():
        merged[multi] = shapely.line_merge(merged[multi])
    warnings = list(links.warnings) + (list(nodes.warnings) if nodes else [])
    still_multi = present & (shapely.get_type_id(merged) == 5)
    if still_multi.any():
        warnings.append((links.name, f"{int(still_multi.sum())} multi-part lines do not join: kept as they are"))

    link_id_field = links.column(_LINK_ID_FIELDS)
    link_ids = links.text(link_id_field) if link_id_field else np.array([f"L{i}" for i in range(n_links)], object)
    from_field, to_field = links.column(_FROM_FIELDS), links.column(_TO_FIELDS)
    counts: dict[str, int] = {}

    if nodes is not None:
        node_id_field = nodes.column(_NODE_ID_FIELDS)
        n_nodes = len(nodes.geometries)
        node_ids = (
            nodes.text(node_id_field) if node_id_field else np.array([f"N{i}" for i in range(n_nodes)], object)
        )
        kind_field = nodes.column(("node_kind", "kind", "type"))
        node_kinds = nodes.text(kind_field) if kind_field else np.full(n_nodes, "junction", object)
        node_xy = np.column_stack([shapely.get_x(nodes.geometries), shapely.get_y(nodes.geometries)])
        node_attributes: pa.Array = nodes.attributes
        elevation = nodes.numbers(("elevation_m", "altitude", "z"))
    else:
        node_ids = np.array([], object)
        node_kinds = np.array([], object)
        node_xy = np.empty((0, 2))
        node_attributes = pa.array([], pa.string())
        elevation = np.array([], float)

    if from_field and to_field:
        from_ids, to_ids = links.text(from_field), links.text(to_field)
        missing = pc.or_(pc.is_null(pa.array(from_ids)), pc.is_null(pa.array(to_ids))).to_numpy(
            zero_copy_only=False
        )
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise TwinError(
                f"{file} (layer {links.name}): link {link_ids[first]} has no {from_field}/{to_field}",
                "fill both ends of every link, or drop the columns to snap the line ends to nodes",
            )
    else:
        if (~present).any():
            first = int(np.flatnonzero(~present)[0])
            raise TwinError(
                f"{file} (layer {links.name}): link {link_ids[first]} has no geometry and no from/to nodes",
                "give every link a line, or from_node/to_node columns",
            )
        starts = shapely.get_point(shapely.get_geometry(merged, 0), 0)
        ends = shapely.get_point(shapely.get_geometry(merged, -1), -1)
        ends_xy = np.concatenate(
            [
                np.column_stack([shapely.get_x(starts), shapely.get_y(starts)]),
                np.column_stack([shapely.get_x(ends), shapely.get_y(ends)]),
            ]
        )
        index, new_xy = snap_endpoints(ends_xy, node_xy, snap_m)
        n_new = len(new_xy)
        created = np.array([f"n{i}" for i in range(n_new)], object)
        all_ids = np.concatenate([node_ids, created])
        from_ids, to_ids = all_ids[index[:n_links]], all_ids[index[n_links:]]
        counts["nodes_created_at_line_ends"] = n_new
        counts["line_ends_snapped"] = int(2 * n_links - len(np.unique(index)))
        node_ids = all_ids
        node_kinds = np.concatenate([node_kinds, np.full(n_new, _CREATED_NODE_KIND.get(kind, "junction"), object)])
        node_xy = np.concatenate([node_xy, new_xy])
        elevation = np.concatenate([elevation, np.full(n_new, np.nan)])
        if n_new:
            node_attributes = _concat_attributes(node_attributes, pa.repeat(pa.scalar("{}"), n_new))

    kind_field = links.column(("link_kind",))
    link_kinds = links.text(kind_field) if kind_field else np.full(n_links, _LINK_KIND[kind], object)
    diameter = links.numbers(("diameter_mm", "diametre_mm", "dn"))
    if links.column(("diameter_mm", "diametre_mm", "dn")) is None:
        metres = links.numbers(("diameter_m",))
        diameter = metres * 1000.0
    return NetworkData(
        source="gis",
        node_ids=node_ids,
        node_kinds=node_kinds,
        x=node_xy[:, 0],
        y=node_xy[:, 1],
        elevation_m=elevation,
        node_attributes=node_attributes,
        link_ids=link_ids,
        from_ids=from_ids,
        to_ids=to_ids,
        link_kinds=link_kinds,
        link_geometries=_masked(merged, present),
        length_m=links.numbers(("length_m",)),
        diameter_mm=diameter,
        link_attributes=links.attributes,
        counts=counts,
        warnings=warnings,
    )


def _masked(geometries: np.ndarray, keep: np.ndarray) -> np.ndarray:
    out = np.full(len(geometries), None, dtype=object)
    out[keep] = geometries[keep]
    return out


def _concat_attributes(first: pa.Array, second: pa.Array) -> pa.Array:
    """Two attribute arrays as one of JSON text (a struct and text cannot be concatenated as they are)."""

    def as_json(array: pa.Array) -> pa.Array:
        if pa.types.is_struct(array.type):
            with duckdb.connect() as con:
                con.register("a", pa.table({"a": array}))
                return con.execute("SELECT CAST(to_json(a) AS VARCHAR) AS j FROM a").to_arrow_table().column(0)
        return array

    return pa.concat_arrays([pa.chunked_array([as_json(first)]).combine_chunks(), as_json(second)])


def snap_endpoints(ends_xy: np.ndarray, node_xy: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Give every line end a node: an existing node within ``snap_m``, else a new node shared by close ends.

    Returns ``(index, new_xy)``: ``index[i]`` is the node of end ``i`` (``< len(node_xy)``: an existing node,
    else ``len(node_xy) + k`` for new node ``k``), and ``new_xy`` the positions of the new nodes (the first end of
    each group). Ends are grouped transitively (ends a-b and b-c within ``snap_m`` make one node). Vectorised:
    one STRtree query for all ends.

    Examples
    --------
    >>> idx, new = snap_endpoints(np.array([[0, 0], [10, 0], [10.3, 0], [50, 0]]), np.array([[50.2, 0.0]]), 0.5)
    >>> idx.tolist(), new.tolist()
    ([1, 2, 2, 0], [[0.0, 0.0], [10.0, 0.0]])
    """
    n = len(ends_xy)
    points = shapely.points(ends_xy)
    index = np.full(n, -1, dtype=np.int64)
    if len(node_xy):
        tree = shapely.STRtree(shapely.points(node_xy))
        (src, hit), _ = tree.query_nearest(points, max_distance=snap_m, return_distance=True, all_matches=False)
        index[src] = hit
    rest = np.flatnonzero(index < 0)
    if not len(rest):
        return index, np.empty((0, 2))
    tree = shapely.STRtree(points[rest])
    a, b = tree.query(points[rest], predicate="dwithin", distance=snap_m)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(rest), len(rest)))
    _, labels = connected_components(graph, directed=False)
    # Number the groups in order of first appearance, so ids follow the file order.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    index[rest] = len(node_xy) + rank[inverse]
    new_xy = ends_xy[rest][first[order]].astype(float)
    return index, new_xy


# ---------------------------------------------------------------------------------------------------- preparing
def parse_origin(origin: str | tuple[float, float]) -> tuple[float, float]:
    """``"X,Y"`` (or a pair) as two floats; a clear error otherwise."""
    if isinstance(origin, str):
        parts = re.split(r"[,\s;]+", origin.strip())
        try:
            x, y = (float(p) for p in parts)
        except ValueError:
            raise TwinError(
                f"origin '{origin}' is not two numbers", "give it as X,Y in the twin CRS, e.g. 651200,6862400"
            ) from None
        return x, y
    return float(origin[0]), float(origin[1])


def _prepare(
    twin: Twin,
    file: Path,
    data: NetworkData,
    kind: str,
    crs: str | None,
    origin: str | tuple[float, float] | None,
    network_id: str,
    report: ImportReport,
) -> tuple[pa.Table, pa.Table]:
    """Checks, placement in the twin CRS and id prefixes: the rows to insert, as Arrow."""
    counts = report.counts
    n_nodes, n_links = len(data.node_ids), len(data.link_ids)
    if n_nodes == 0:
        raise TwinError(f"{file} has no network nodes", "give a file that holds the network")
    _check_unique(file, "node", data.node_ids)
    _check_unique(file, "link", data.link_ids)
    known = set(data.node_ids.tolist())
    for ends, side in ((data.from_ids, "from"), (data.to_ids, "to")):
        missing = ~np.isin(ends, data.node_ids) if n_links else np.array([], bool)
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise TwinError(
                f"{file}: link {data.link_ids[first]} has {side} node '{ends[first]}', which is not a node of "
                f"the file ({int(missing.sum())} such links)",
                "every link must join two nodes of the file: fix the ids, or drop from/to to snap the lines",
            )
    del known

    # Placement: a local plan needs an origin or a CRS; a CRS-declared source is transformed.
    x, y = data.x.astype(float), data.y.astype(float)
    geometries = data.link_geometries.copy()
    placed = ~(np.isnan(x) | np.isnan(y))
    if data.local:
        if crs is None and origin is None:
            raise CrsError(
                f"{file} has no CRS: its coordinates cannot be placed in the twin ({twin.crs})",
                "give --crs EPSG:n (the CRS of the file's coordinates) or --origin X,Y (the twin-CRS point that "
                "the file's 0,0 stands for, coordinates then read as metres)",
            )
        if crs is not None and origin is not None:
            raise TwinError(f"{file}: both --crs and --origin given", "give one: --crs or --origin")
        if origin is not None:
            ox, oy = parse_origin(origin)
            x, y = x + ox, y + oy
            report.warn(file.name, f"no CRS: coordinates read as metres from the twin-CRS point {ox:g}, {oy:g}")
            geometries = _map_lines(geometries, lambda a, b: (a + ox, b + oy))
        else:
            data.crs = crs
    if data.crs is not None:
        transformer = _to_twin(file, data.crs, twin.crs)
        if transformer is not None:
            x[placed], y[placed] = transformer.transform(x[placed], y[placed])
            geometries = _map_lines(geometries, transformer.transform)
    counts["nodes_unplaced"] = int((~placed).sum())
    if not placed.any():
        raise TwinError(f"{file}: no node has a position", "give a file with node coordinates")

    # Links without a geometry: a straight line between their nodes, when both are placed.
    position = {nid: i for i, nid in enumerate(data.node_ids.tolist())}
    fi = np.array([position[v] for v in data.from_ids.tolist()], dtype=np.int64)
    ti = np.array([position[v] for v in data.to_ids.tolist()], dtype=np.int64)
    no_line = shapely.is_missing(geometries) if n_links else np.array([], bool)
    drawable = no_line & placed[fi] & placed[ti] & ((x[fi] != x[ti]) | (y[fi] != y[ti]))
    if drawable.any():
        coords = np.stack(
            [np.column_stack([x[fi], y[fi]])[drawable], np.column_stack([x[ti], y[ti]])[drawable]], axis=1
        )
        geometries[drawable] = shapely.linestrings(coords)
    length = data.length_m.astype(float).copy()
    # Only GIS links are measured on their line: a pump or a transformer drawn as a line has no length.
    measured = np.isnan(length) & ~shapely.is_missing(geometries) & (data.source == "gis")
    length[measured] = shapely.length(geometries[measured])
    counts["links_length_from_geometry"] = int(measured.sum())

    prefix = f"{network_id}:"
    node_wkb = np.full(n_nodes, None, dtype=object)
    node_wkb[placed] = shapely.to_wkb(shapely.points(x[placed], y[placed]))
    nodes = pa.table(
        {
            "node_id": _prefixed(prefix, data.node_ids),
            "node_kind": pa.array(data.node_kinds, pa.string()),
            "wkb": pa.array(node_wkb, pa.binary()),
            "elevation_m": _nullable(data.elevation_m.astype(float)),
            "attrs": data.node_attributes,
        }
    )
    link_wkb = np.full(n_links, None, dtype=object)
    has_line = ~shapely.is_missing(geometries) if n_links else np.array([], bool)
    link_wkb[has_line] = shapely.to_wkb(geometries[has_line])
    diameter = data.diameter_mm.astype(float)
    links = pa.table(
        {
            "link_id": _prefixed(prefix, data.link_ids),
            "from_node": _prefixed(prefix, data.from_ids),
            "to_node": _prefixed(prefix, data.to_ids),
            "link_kind": pa.array(data.link_kinds, pa.string()),
            "wkb": pa.array(link_wkb, pa.binary()),
            "length_m": _nullable(np.where(length >= 0, length, np.nan)),
            "diameter_mm": _nullable(np.where(diameter > 0, diameter, np.nan)),
            "attrs": data.link_attributes,
        }
    )
    counts["nodes"], counts["links"] = n_nodes, n_links
    for name, values in (("nodes", data.node_kinds), ("links", data.link_kinds)):
        kinds, number = np.unique(values.astype(str), return_counts=True)
        counts.update({f"{name}_{k}": int(c) for k, c in zip(kinds, number, strict=True)})
    counts.update(data.counts)
    return nodes, links


def _check_unique(file: Path, what: str, ids: np.ndarray) -> None:
    if pc.any(pc.is_null(pa.array(ids, pa.string()))).as_py():
        raise TwinError(f"{file}: a {what} has no id", f"give every {what} an id")
    values, number = np.unique(ids.astype(str), return_counts=True)
    if (number > 1).any():
        first = int(np.flatnonzero(number > 1)[0])
        raise TwinError(
            f"{file}: {int((number > 1).sum())} {what} ids occur more than once (e.g. '{values[first]}', "
            f"{number[first]} times)",
            f"give every {what} a unique id",
        )


def _to_twin(file: Path, source: str, target: str) -> Transformer | None:
    try:
        source_crs = CRS.from_user_input(f"EPSG:{source}" if source.strip().isdigit() else source)
    except Exception as exc:
        raise CrsError(f"unknown CRS '{source}' for {file}", "use an EPSG code such as EPSG:2154") from exc
    target_crs = CRS.from_user_input(target)
    if _same_crs(source_crs, target_crs):
        return None
    return Transformer.from_crs(source_crs, target_crs, always_xy=True)


def _map_lines(geometries: np.ndarray, fn: Any) -> np.ndarray:
    present = ~shapely.is_missing(geometries) if len(geometries) else np.array([], bool)
    if not present.any():
        return geometries
    out = geometries.copy()
    out[present] = shapely.transform(geometries[present], lambda xy: np.column_stack(fn(xy[:, 0], xy[:, 1])))
    return out


def _prefixed(prefix: str, ids: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(ids, pa.string()), pa.string()), "")


def _nullable(values: np.ndarray) -> pa.Array:
    missing = np.isnan(values)
    return pa.array(np.where(missing, 0.0, values), pa.float64(), mask=missing)


# ---------------------------------------------------------------------------------------------------- writing
def _already_imported(twin: Twin, sha256: str, network_id: str) -> bool:
    """The same file was imported as this network, and the network is still the one from that import."""
    row = twin.query(
        "SELECT count(*) AS n FROM networks n JOIN imports i USING (import_id) "
        "WHERE n.network_id = ? AND i.kind = ? AND i.sha256 = ? AND i.status = 'ok'",
        [network_id, IMPORT_KIND, sha256],
    )
    return bool(row.column("n")[0].as_py())


def _delete_network(cur: duckdb.DuckDBPyConnection, network_id: str) -> tuple[int, int]:
    """Drop an earlier version of the network (its nodes, links and service connections)."""
    cur.execute("DELETE FROM service_connections WHERE network_id = ?", [network_id])
    links = cur.execute("DELETE FROM network_links WHERE network_id = ?", [network_id]).fetchone()
    nodes = cur.execute("DELETE FROM network_nodes WHERE network_id = ?", [network_id]).fetchone()
    cur.execute("DELETE FROM networks WHERE network_id = ?", [network_id])
    return int(nodes[0]) if nodes else 0, int(links[0]) if links else 0


def _json_sql(table: pa.Table, column: str = "attrs") -> str:
    return (
        f"to_json({column})" if pa.types.is_struct(table.schema.field(column).type) else f"CAST({column} AS JSON)"
    )


def _insert(
    cur: duckdb.DuckDBPyConnection, network_id: str, kind: str, data: NetworkData, nodes: pa.Table, links: pa.Table
) -> None:
    attributes = {"format": data.source, "crs_of_source": data.crs, "local": data.local}
    cur.execute(
        "INSERT INTO networks (network_id, kind, name, source, import_id, attributes) VALUES (?, ?, ?, ?, ?, ?)",
        [network_id, kind, data.name, data.file_ref, _PROVISIONAL_IMPORT_ID, json.dumps(attributes)],
    )
    cur.execute(
        "INSERT INTO network_nodes (node_id, network_id, node_kind, geom, elevation_m, attributes) "
        f"SELECT node_id, ?, node_kind, ST_GeomFromWKB(wkb), elevation_m, {_json_sql(nodes)} FROM __twin_nodes",
        [network_id],
    )
    cur.execute(
        "INSERT INTO network_links (link_id, network_id, from_node, to_node, link_kind, geom, length_m, "
        "diameter_mm, attributes) "
        "SELECT link_id, ?, from_node, to_node, link_kind, ST_GeomFromWKB(wkb), length_m, diameter_mm, "
        f"{_json_sql(links)} FROM __twin_links",
        [network_id],
    )
