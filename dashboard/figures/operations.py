"""The operations (hypervisor) view: a plan of the district with the sensors coloured by their latest value or
alert state, the citizen reports linked to their assets, and the time series of one sensor. Pure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import shapely

__all__ = [
    "ALERT_COLOURS",
    "SENSOR_TRACE",
    "operations_map",
    "sensor_colours",
    "sensor_hover",
    "sensor_series_figure",
]

SENSOR_TRACE = 1
"""Index of the sensors' trace in :func:`operations_map` (the live refresh patches only that trace)."""
ALERT_COLOURS = {0: "#2ecc71", 1: "#3498db", 2: "#f39c12", 3: "#e74c3c"}
ALERT_LABELS = {0: "no open alert", 1: "info", 2: "warning", 3: "critical"}
SERIES_POINTS = 2000
"""Points drawn for a sensor's time series: longer series are reduced with MinMaxLTTB (plotly-resampler), which
keeps the peaks and troughs."""


def sensor_colours(
    sensors: pa.Table, colour_by: str, values: Sequence[float | None] | None = None
) -> dict[str, object]:
    """Marker settings for the sensors: by alert state (``alert``), or by value for one sensor ``kind``.

    ``values`` replaces the latest values (the replay of a past hour). Sensors of other kinds are drawn small
    and grey; a sensor without a value is grey.

    >>> t = pa.table({"kind": ["co2", "co2", "temperature"], "value": [400.0, None, 20.0],
    ...               "alert_level": [None, 3, None], "unit_ucum": ["[ppm]"] * 2 + ["Cel"]})
    >>> sensor_colours(t, "alert")["color"]
    ['#2ecc71', '#e74c3c', '#2ecc71']
    >>> sensor_colours(t, "co2")["size"]
    [11, 11, 6]
    """
    kinds = sensors.column("kind").to_pylist()
    if colour_by == "alert":
        levels = [int(v or 0) for v in sensors.column("alert_level").to_pylist()]
        return {"color": [ALERT_COLOURS[v] for v in levels], "size": [9 + 3 * (v > 1) for v in levels]}
    vals = list(values) if values is not None else sensors.column("value").to_pylist()
    mine = [k == colour_by for k in kinds]
    known = np.array([v for v, m in zip(vals, mine, strict=True) if m and v is not None], dtype=float)
    lo, hi = (float(np.percentile(known, 2)), float(np.percentile(known, 98))) if known.size else (0.0, 1.0)
    units = [u for u, m in zip(sensors.column("unit_ucum").to_pylist(), mine, strict=True) if m]
    colour = [float(v) if m and v is not None else np.nan for v, m in zip(vals, mine, strict=True)]
    return {
        "color": [c if not np.isnan(c) else lo for c in colour],
        "colorscale": "Turbo",
        "cmin": lo,
        "cmax": hi if hi > lo else lo + 1,
        "colorbar": {"title": {"text": f"{colour_by} ({units[0] if units else ''})"}},
        "size": [11 if m else 6 for m in mine],
        "opacity": [0.95 if m and v is not None else 0.25 for v, m in zip(vals, mine, strict=True)],
        "line": {
            "width": [0 if m and v is not None else 1 for v, m in zip(vals, mine, strict=True)],
            "color": "#999",
        },
    }


def sensor_hover(sensors: pa.Table, values: Sequence[float | None]) -> list[str]:
    """One hover label per sensor: id, kind, value and unit."""
    return [
        f"<b>{s}</b> {k}<br>{'no value' if v is None else f'{v:.4g}'} {u}"
        for s, k, v, u in zip(
            sensors.column("sensor_id").to_pylist(),
            sensors.column("kind").to_pylist(),
            values,
            sensors.column("unit_ucum").to_pylist(),
            strict=True,
        )
    ]


def _outline_xy(wkb: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    geoms = shapely.from_wkb(np.array([w for w in wkb if w is not None], dtype=object))
    coords, index = shapely.get_coordinates(shapely.boundary(geoms), return_index=True)
    if not len(coords):
        return np.array([]), np.array([])
    breaks = np.flatnonzero(np.diff(index)) + 1
    return np.insert(coords[:, 0], breaks, np.nan), np.insert(coords[:, 1], breaks, np.nan)


def operations_map(
    footprints: Sequence[bytes | None],
    sensors: pa.Table,
    reports: pa.Table,
    asset_xy: dict[str, tuple[float, float]],
    *,
    colour_by: str = "alert",
    values: Sequence[float | None] | None = None,
    selected: str | None = None,
    title: str = "",
) -> go.Figure:
    """Plan view: building outlines, sensors (customdata = sensor_id), citizen reports with a dashed link to the
    asset each concerns (``asset_xy``: asset id -> position)."""
    bx, by = _outline_xy(footprints)
    traces: list[go.BaseTraceType] = [
        go.Scattergl(
            x=bx, y=by, mode="lines", line={"color": "#b0b7bf", "width": 1}, name="buildings", hoverinfo="skip"
        )
    ]
    vals = list(values) if values is not None else sensors.column("value").to_pylist()
    ids = sensors.column("sensor_id").to_pylist()
    text = sensor_hover(sensors, vals)
    marker = sensor_colours(sensors, colour_by, vals)
    traces.append(
        go.Scattergl(
            x=sensors.column("x").to_numpy(zero_copy_only=False),
            y=sensors.column("y").to_numpy(zero_copy_only=False),
            mode="markers",
            name="sensors",
            marker=marker,
            customdata=ids,
            hovertext=text,
            hovertemplate="%{hovertext}<extra></extra>",
            uid="operations-sensors",
        )
    )
    if colour_by == "alert":
        for level, label in ALERT_LABELS.items():
            traces.append(
                go.Scattergl(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=label,
                    marker={"color": ALERT_COLOURS[level], "size": 10},
                    hoverinfo="skip",
                )
            )
    if reports.num_rows:
        rx = reports.column("x").to_numpy(zero_copy_only=False)
        ry = reports.column("y").to_numpy(zero_copy_only=False)
        lx: list[float | None] = []
        ly: list[float | None] = []
        for x, y, a in zip(rx, ry, reports.column("asset_id").to_pylist(), strict=True):
            if a in asset_xy:
                lx += [x, asset_xy[a][0], None]
                ly += [y, asset_xy[a][1], None]
        traces.append(
            go.Scattergl(
                x=lx,
                y=ly,
                mode="lines",
                line={"color": "#8e44ad", "dash": "dot", "width": 1},
                name="report → asset",
                hoverinfo="skip",
            )
        )
        rtext = [
            f"<b>{r}</b> {s} ({st})<br>{d}<br>asset: {a or 'none linked'}"
            for r, s, st, d, a in zip(
                reports.column("report_id").to_pylist(),
                reports.column("service_name").to_pylist(),
                reports.column("status").to_pylist(),
                reports.column("description").to_pylist(),
                reports.column("asset_id").to_pylist(),
                strict=True,
            )
        ]
        traces.append(
            go.Scattergl(
                x=rx,
                y=ry,
                mode="markers",
                name="citizen reports",
                customdata=reports.column("report_id").to_pylist(),
                marker={
                    "symbol": "diamond",
                    "size": 10,
                    "color": [
                        "#8e44ad" if s == "open" else "#d2b4de" for s in reports.column("status").to_pylist()
                    ],
                },
                hovertext=rtext,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    if selected and selected in ids:
        k = ids.index(selected)
        traces.append(
            go.Scattergl(
                x=[sensors.column("x")[k].as_py()],
                y=[sensors.column("y")[k].as_py()],
                mode="markers",
                name=f"selected: {selected}",
                hoverinfo="skip",
                marker={"size": 20, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#000"}},
            )
        )
    fig = go.Figure(data=traces)
    fig.update_layout(
        xaxis={"scaleanchor": "y", "visible": False},
        yaxis={"visible": False},
        margin={"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        title={"text": title, "x": 0.01},
        legend={"x": 0.01, "y": 0.01, "bgcolor": "rgba(255,255,255,0.85)"},
        uirevision="operations",
        plot_bgcolor="#fbfcfd",
        paper_bgcolor="#fbfcfd",
    )
    return fig


def sensor_series_figure(
    times: np.ndarray, values: np.ndarray, *, name: str, unit: str, n_out: int = SERIES_POINTS
) -> go.Figure:
    """One sensor's series; beyond ``n_out`` points, the MinMaxLTTB selection of plotly-resampler is drawn."""
    times = np.asarray(times)
    values = np.asarray(values, dtype=float)
    shown = f"{len(values):,} readings"
    if len(values) > n_out:
        from plotly_resampler.aggregation import MinMaxLTTB

        index = MinMaxLTTB().arg_downsample(np.arange(len(values), dtype=np.int64), values, n_out=n_out)
        times, values = times[index], values[index]
        shown += f", {len(values):,} drawn (MinMaxLTTB)"
    fig = go.Figure(go.Scattergl(x=times, y=values, mode="lines", name=name, line={"width": 1.2}))
    if not len(values):
        fig.add_annotation(
            text="Click a sensor on the map, or choose one, to see its readings.",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    fig.update_layout(
        title={"text": f"{name} ({unit}): {shown}" if len(values) else "", "x": 0.01, "font": {"size": 13}},
        margin={"l": 50, "r": 10, "t": 35, "b": 30},
        yaxis={"title": {"text": unit}},
        xaxis={"title": None},
        uirevision=name,
    )
    return fig
