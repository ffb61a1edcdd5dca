"""Colouring many objects of one merged Mesh3d trace, by a number or by a category, without per-vertex strings.

Colours travel as a float32 ``intensity`` per vertex and a colour scale: continuous for numbers, stepped for
categories (category k has the value k). Objects whose value is unknown go to a second, grey trace labelled
"unknown", so that unknown never looks like a low or a high value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from dashboard.geometry import MeshSet

__all__ = ["UNKNOWN_COLOUR", "Colouring", "category_colouring", "mesh_traces", "numeric_colouring"]

UNKNOWN_COLOUR = "#c8c8c8"
HOVER_VERTEX_LIMIT = 60_000
"""Above this many vertices the per-vertex hover labels are left out (their strings would dominate the payload);
the hover then shows the value only and a click gives the full facts."""


@dataclass(frozen=True)
class Colouring:
    """Per-object ``code`` (float, NaN = unknown) with the colour scale and legend that explain it."""

    code: np.ndarray
    colorscale: list[list[object]]
    cmin: float
    cmax: float
    legend: list[tuple[str, str]]  # (label, colour) for categories; empty for numbers
    title: str
    labels: list[str]  # readable value per object, for hover


def numeric_colouring(
    values: Sequence[float | None], title: str, unit: str = "", higher_is_better: bool | None = None
) -> Colouring:
    """A continuous scale from the 2nd to the 98th percentile of the known values.

    >>> c = numeric_colouring([1.0, None, 3.0], "height", "m")
    >>> c.code.tolist()[0], np.isnan(c.code[1]), c.labels
    (1.0, np.True_, ['1 m', 'unknown', '3 m'])
    """
    code = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    known = code[~np.isnan(code)]
    lo, hi = (float(np.percentile(known, 2)), float(np.percentile(known, 98))) if known.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    scale = "RdYlGn" if higher_is_better else ("RdYlGn_r" if higher_is_better is False else "Viridis")
    import plotly.colors as pc

    colorscale = [[float(s), c] for s, c in pc.get_colorscale(scale)]
    labels = ["unknown" if np.isnan(v) else f"{v:,.4g} {unit}".strip() for v in code]
    return Colouring(code, colorscale, lo, hi, [], f"{title} ({unit})" if unit else title, labels)


def category_colouring(
    values: Sequence[str | None], categories: Sequence[str], colours: dict[str, str], title: str
) -> Colouring:
    """A stepped scale: category k -> k; values outside ``categories`` (and None) are unknown.

    >>> c = category_colouring(["b", None, "a", "z"], ["a", "b"], {"a": "#f00", "b": "#00f"}, "use")
    >>> c.code.tolist()[0], c.code.tolist()[2], bool(np.isnan(c.code[1])), bool(np.isnan(c.code[3]))
    (1.0, 0.0, True, True)
    """
    index = {c: k for k, c in enumerate(categories)}
    code = np.array([index.get(v, np.nan) if v is not None else np.nan for v in values], dtype=np.float64)
    k = max(len(categories), 1)
    scale: list[list[object]] = []
    for i, cat in enumerate(categories):
        colour = colours.get(cat, UNKNOWN_COLOUR)
        scale += [[i / k, colour], [(i + 1) / k, colour]]
    if not scale:
        scale = [[0.0, UNKNOWN_COLOUR], [1.0, UNKNOWN_COLOUR]]
    present = {v for v in values if v in index}
    legend = [(c, colours.get(c, UNKNOWN_COLOUR)) for c in categories if c in present]
    labels = [v if v in index else "unknown" for v in values]
    return Colouring(code, scale, -0.5, k - 0.5, legend, title, labels)


def mesh_traces(
    mesh: MeshSet,
    colouring: Colouring,
    names: Sequence[str],
    *,
    name: str,
    uid: str,
    ids: Sequence[str],
    showscale: bool = True,
    opacity: float = 1.0,
) -> list[go.BaseTraceType]:
    """The merged Mesh3d trace(s) of the objects of ``mesh``: known values coloured, unknown ones grey.

    Each vertex carries ``customdata`` = the index of its object in ``ids`` (the trace's ``meta``), which is
    what a click returns.
    """
    known_obj = ~np.isnan(colouring.code)
    traces: list[go.BaseTraceType] = []
    hover = mesh.n_vertices <= HOVER_VERTEX_LIMIT
    for part_name, keep, grey in ((name, known_obj, False), (f"{name}: unknown", ~known_obj, True)):
        part = mesh.select(keep)
        if not part.n_vertices:
            continue
        kwargs: dict[str, object] = {}
        if hover:
            text = np.array(
                [f"{n}<br>{lab}" for n, lab in zip(names, colouring.labels, strict=True)], dtype=object
            )
            kwargs["hovertext"] = text[part.owner]
            kwargs["hovertemplate"] = "%{hovertext}<extra></extra>"
        else:
            kwargs["hovertemplate"] = (
                "%{intensity:.4g}" if not grey else "unknown"
            ) + "<extra>click for facts</extra>"
        if grey:
            kwargs["color"] = UNKNOWN_COLOUR
        else:
            kwargs.update(
                intensity=colouring.code[part.owner].astype(np.float32),
                colorscale=colouring.colorscale,
                cmin=colouring.cmin,
                cmax=colouring.cmax,
                showscale=showscale and not colouring.legend,
                colorbar={"title": {"text": colouring.title}, "thickness": 14, "len": 0.6},
            )
        traces.append(
            go.Mesh3d(
                x=part.xyz[:, 0],
                y=part.xyz[:, 1],
                z=part.xyz[:, 2],
                i=part.faces[:, 0],
                j=part.faces[:, 1],
                k=part.faces[:, 2],
                customdata=part.owner.astype(np.uint16 if len(ids) < 65_536 else np.int32),
                name=part_name,
                uid=f"{uid}-{'unknown' if grey else 'known'}",
                meta=None if traces else {"ids": list(ids)},
                flatshading=True,
                opacity=opacity,
                showlegend=grey,
                lighting={"ambient": 0.55, "diffuse": 0.7, "specular": 0.05, "roughness": 0.9},
                lightposition={"x": 1000, "y": 2000, "z": 4000},
                **kwargs,
            )
        )
    for label, colour in colouring.legend:
        traces.append(
            go.Scatter3d(
                x=[None],
                y=[None],
                z=[None],
                mode="markers",
                name=label,
                marker={"color": colour, "size": 8, "symbol": "square"},
                legendgroup=f"{uid}-legend",
                showlegend=True,
                hoverinfo="skip",
            )
        )
    return traces
