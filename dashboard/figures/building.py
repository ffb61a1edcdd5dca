"""The building scene: an IFC model's element meshes in 3D, coloured by class or by what matters for a change of
use (load-bearing or not, external or not, cores, windows), one storey isolated on demand. Pure."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa

from dashboard.figures.colour import Colouring, category_colouring, mesh_traces
from dashboard.geometry import MeshSet, merge_blob_meshes

__all__ = ["COLOUR_MODES", "building_figure", "element_colouring", "element_mesh"]

_CLASS_PALETTE = [
    "#8c8c8c",
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
    "#1b9e77",
    "#7570b3",
    "#66a61e",
]
COLOUR_MODES = {
    "class": "IFC class",
    "load_bearing": "Load-bearing",
    "external": "External / internal",
    "cores": "Cores and shafts",
    "windows": "Windows and doors",
    "evidence": "Evidence of a criterion",
}
_MODE_CATEGORIES = {
    "load_bearing": (
        ("load-bearing", "not load-bearing"),
        {"load-bearing": "#c0392b", "not load-bearing": "#95a5a6"},
    ),
    "external": (("external", "internal"), {"external": "#2e86c1", "internal": "#d5dbdb"}),
    "cores": (
        ("stair", "lift", "shaft", "other"),
        {"stair": "#e67e22", "lift": "#8e44ad", "shaft": "#16a085", "other": "#e5e7e9"},
    ),
    "windows": (("window", "door", "other"), {"window": "#3498db", "door": "#a04000", "other": "#e5e7e9"}),
    "evidence": (("evidence", "other"), {"evidence": "#e74c3c", "other": "#e5e7e9"}),
}


def element_mesh(elements: pa.Table, origin: tuple[float, float]) -> MeshSet:
    """The merged meshes of ``elements`` (one row per element mesh), owner = row index."""
    if not elements.num_rows:
        return MeshSet.empty()
    return merge_blob_meshes(
        elements.column("vertices").to_pylist(),
        elements.column("faces").to_pylist(),
        elements.column("origin_x_m").to_numpy(),
        elements.column("origin_y_m").to_numpy(),
        np.arange(elements.num_rows),
        origin,
    )


def _flag(values: Sequence[bool | None], yes: str, no: str) -> list[str | None]:
    return [None if v is None else (yes if v else no) for v in values]


def element_colouring(elements: pa.Table, mode: str, evidence: Collection[str] = ()) -> Colouring:
    """Per-element colouring for ``mode`` (a key of :data:`COLOUR_MODES`); unknown flags stay unknown.

    >>> t = pa.table({"ifc_class": ["IfcWall", "IfcWindow"], "load_bearing": [True, None],
    ...               "is_external": [True, False], "circulation": [None, None], "ifc_guid": ["a", "b"]})
    >>> element_colouring(t, "load_bearing").labels
    ['load-bearing', 'unknown']
    >>> element_colouring(t, "windows").labels
    ['other', 'window']
    """
    classes = elements.column("ifc_class").to_pylist()
    if mode == "class":
        present = sorted(set(classes))
        colours = {c: _CLASS_PALETTE[k % len(_CLASS_PALETTE)] for k, c in enumerate(present)}
        return category_colouring(classes, present, colours, COLOUR_MODES[mode])
    if mode not in _MODE_CATEGORIES:
        raise ValueError(f"unknown colour mode {mode!r}: one of {', '.join(COLOUR_MODES)}")
    if mode == "load_bearing":
        values = _flag(elements.column("load_bearing").to_pylist(), "load-bearing", "not load-bearing")
    elif mode == "external":
        values = _flag(elements.column("is_external").to_pylist(), "external", "internal")
    elif mode == "cores":
        values = [c or "other" for c in elements.column("circulation").to_pylist()]
    elif mode == "windows":
        values = ["window" if c == "IfcWindow" else "door" if c == "IfcDoor" else "other" for c in classes]
    else:
        wanted = set(evidence)
        values = ["evidence" if g in wanted else "other" for g in elements.column("ifc_guid").to_pylist()]
    categories, colours = _MODE_CATEGORIES[mode]
    return category_colouring(values, categories, colours, COLOUR_MODES[mode])


def building_figure(
    elements: pa.Table,
    mesh: MeshSet,
    colouring: Colouring,
    *,
    storey_id: str | None = None,
    uirevision: str = "building",
) -> go.Figure:
    """The model, or one storey of it (``storey_id``: only the elements of that storey are drawn)."""
    keep = None
    if storey_id:
        keep = np.array([s == storey_id for s in elements.column("storey_id").to_pylist()], dtype=bool)
    shown = mesh if keep is None else mesh.select(keep)
    names = [
        f"<b>{c}</b> {n or ''}<br>{g}"
        for c, n, g in zip(
            elements.column("ifc_class").to_pylist(),
            elements.column("name").to_pylist(),
            elements.column("ifc_guid").to_pylist(),
            strict=True,
        )
    ]
    traces = mesh_traces(
        shown,
        colouring,
        names,
        name="elements",
        uid="building-elements",
        ids=elements.column("ifc_guid").to_pylist(),
    )
    fig = go.Figure(data=traces)
    fig.update_layout(
        scene={
            "aspectmode": "data",
            "xaxis": {"title": {"text": "x (m)"}},
            "yaxis": {"title": {"text": "y (m)"}},
            "zaxis": {"title": {"text": "z (m)"}},
            "camera": {"eye": {"x": 0.9, "y": -2.2, "z": 1.3}},
            "bgcolor": "#f4f6f8",
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.8)", "title": {"text": colouring.title}},
        uirevision=uirevision,
        paper_bgcolor="#f4f6f8",
    )
    return fig
