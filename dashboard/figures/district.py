"""The district scene: every building in 3D (IFC meshes or extruded footprints) coloured by a KPI, the networks
as lines, street lights and sensors as points. Pure: tables and meshes in, a plotly figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import shapely

from dashboard.figures.colour import Colouring, mesh_traces
from dashboard.geometry import MeshSet, extrude_footprints, merge_blob_meshes

__all__ = [
    "DEFAULT_CAMERA",
    "NETWORK_COLOURS",
    "district_figure",
    "district_mesh",
    "network_traces",
    "point_trace",
]

NETWORK_COLOURS = {
    "water": "#1f77b4",
    "power": "#d62728",
    "heat": "#ff7f0e",
    "gas": "#bcbd22",
    "lighting": "#f2c200",
    "road": "#7f7f7f",
}
DEFAULT_CAMERA = {
    "eye": {"x": 1.1, "y": -1.5, "z": 1.25},
    "center": {"x": 0, "y": 0, "z": -0.1},
    "up": {"x": 0, "y": 0, "z": 1},
}
DEFAULT_HEIGHT_M = 6.0
"""Height drawn for a footprint whose height is unknown (drawn flat-roofed and marked so in the facts panel)."""


def district_mesh(buildings: pa.Table, meshes: pa.Table, origin: tuple[float, float]) -> MeshSet:
    """One mesh set for the buildings of ``buildings`` (owner = row index): IFC element meshes for the buildings
    that have them (``meshes`` rows with ``building_id``, ``vertices``, ``faces``, ``origin_x_m``, ``origin_y_m``),
    extruded footprints (``footprint_wkb``, ``height_m``) for the others."""
    ids = buildings.column("building_id").to_pylist()
    row_of = {b: k for k, b in enumerate(ids)}
    parts: list[MeshSet] = []
    with_mesh: set[str] = set()
    if meshes.num_rows:
        mesh_owner = np.array([row_of.get(b, -1) for b in meshes.column("building_id").to_pylist()])
        keep = mesh_owner >= 0
        if keep.any():
            idx = np.flatnonzero(keep)
            sub = meshes.take(pa.array(idx))
            parts.append(
                merge_blob_meshes(
                    sub.column("vertices").to_pylist(),
                    sub.column("faces").to_pylist(),
                    sub.column("origin_x_m").to_numpy(),
                    sub.column("origin_y_m").to_numpy(),
                    mesh_owner[keep],
                    origin,
                )
            )
            with_mesh = set(sub.column("building_id").to_pylist())
    extrude = np.array([b not in with_mesh for b in ids], dtype=bool)
    if extrude.any():
        rows = np.flatnonzero(extrude)
        wkb = np.array(buildings.column("footprint_wkb").to_pylist(), dtype=object)[rows]
        has = np.array([w is not None for w in wkb])
        rows, wkb = rows[has], wkb[has]
        geoms = shapely.from_wkb(wkb)
        heights = np.array(
            [h if h is not None and h > 0 else DEFAULT_HEIGHT_M for h in buildings.column("height_m").to_pylist()]
        )[rows]
        prism = extrude_footprints(geoms, heights, origin=origin)
        parts.append(MeshSet(prism.xyz, prism.faces, rows[prism.owner].astype(np.int32)))
    return MeshSet.concat(parts)


def _lines_xyz(wkb: Sequence[bytes], origin: tuple[float, float], z: float) -> tuple[np.ndarray, ...]:
    """Coordinates of many linestrings as one polyline with NaN breaks (one trace draws them all)."""
    geoms = shapely.from_wkb(np.array(list(wkb), dtype=object))
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if not len(coords):
        return np.array([]), np.array([]), np.array([]), np.array([], dtype=int)
    breaks = np.flatnonzero(np.diff(index)) + 1
    xs = np.insert(coords[:, 0] - origin[0], breaks, np.nan)
    ys = np.insert(coords[:, 1] - origin[1], breaks, np.nan)
    owner = np.insert(index, breaks, -1)
    return xs, ys, np.where(np.isnan(xs), np.nan, z), owner


def network_traces(lines: pa.Table, origin: tuple[float, float], colour_by: str = "kind") -> list[go.Scatter3d]:
    """One line trace per network kind (``kind``, ``geom_wkb``); ``colour_by="loading"`` colours the links by
    ``loading_percent`` where a capacity check stored it (the others stay in their kind's colour)."""
    traces = []
    kinds = lines.column("kind").to_pylist() if lines.num_rows else []
    for kind in sorted(set(kinds)):
        rows = pa.array([k for k, v in enumerate(kinds) if v == kind])
        sub = lines.take(rows)
        xs, ys, zs, owner = _lines_xyz(sub.column("geom_wkb").to_pylist(), origin, 0.4)
        line: dict[str, object] = {"color": NETWORK_COLOURS.get(kind, "#444"), "width": 3}
        loading = sub.column("loading_percent").to_numpy(zero_copy_only=False).astype(float)
        if colour_by == "loading" and np.isfinite(loading).any():
            per_vertex = np.where(owner >= 0, loading[np.maximum(owner, 0)], np.nan)
            line = {
                "color": np.nan_to_num(per_vertex, nan=0.0),
                "colorscale": "YlOrRd",
                "cmin": 0,
                "cmax": 120,
                "width": 5,
                "colorbar": {"title": {"text": "loading (%)"}, "x": 1.08, "len": 0.4},
            }
        link_ids = np.array(sub.column("link_id").to_pylist(), dtype=object)
        text = np.where(owner >= 0, link_ids[np.maximum(owner, 0)], None)
        traces.append(
            go.Scatter3d(
                x=xs,
                y=ys,
                z=zs,
                mode="lines",
                name=f"{kind} network",
                line=line,
                hovertext=text,
                hovertemplate=f"{kind}: %{{hovertext}}<extra></extra>",
                legendgroup="networks",
            )
        )
    return traces


def point_trace(
    x: np.ndarray,
    y: np.ndarray,
    origin: tuple[float, float],
    *,
    name: str,
    z: float,
    colour: str | np.ndarray,
    text: Sequence[str] | None = None,
    size: float = 3,
    customdata: Sequence[str] | None = None,
    symbol: str = "circle",
) -> go.Scatter3d:
    return go.Scatter3d(
        x=np.asarray(x, float) - origin[0],
        y=np.asarray(y, float) - origin[1],
        z=np.full(len(x), z),
        mode="markers",
        name=name,
        marker={"size": size, "color": colour, "symbol": symbol},
        hovertext=list(text) if text is not None else None,
        hovertemplate="%{hovertext}<extra></extra>" if text is not None else None,
        customdata=list(customdata) if customdata is not None else None,
    )


def district_figure(
    buildings: pa.Table,
    mesh: MeshSet,
    colouring: Colouring,
    *,
    keep: np.ndarray | None = None,
    extra: Sequence[go.BaseTraceType] = (),
    camera: dict[str, object] | None = None,
    uirevision: str = "district",
) -> go.Figure:
    """The district: the buildings' merged mesh coloured by ``colouring`` (per row of ``buildings``),
    ``keep`` a boolean mask of the rows shown (filters), plus the network and point traces of ``extra``."""
    names = [
        f"<b>{n or b}</b><br>{u or 'use unknown'}, {y or 'year unknown'}"
        for b, n, u, y in zip(
            buildings.column("building_id").to_pylist(),
            buildings.column("name").to_pylist(),
            buildings.column("use").to_pylist(),
            buildings.column("construction_year").to_pylist(),
            strict=True,
        )
    ]
    shown = mesh if keep is None else mesh.select(np.asarray(keep, dtype=bool))
    traces = mesh_traces(
        shown,
        colouring,
        names,
        name="buildings",
        uid="district-buildings",
        ids=buildings.column("building_id").to_pylist(),
    )
    fig = go.Figure(data=[*traces, *extra])
    fig.update_layout(
        scene={
            "aspectmode": "data",
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "zaxis": {"visible": False},
            "camera": camera or DEFAULT_CAMERA,
            "bgcolor": "#f4f6f8",
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.8)", "title": {"text": colouring.title}},
        uirevision=uirevision,
        paper_bgcolor="#f4f6f8",
    )
    return fig
