"""The Scenarios page's figures: KPI rows with deltas to the baseline, bars per KPI, the décret tertiaire pathway
and per-building deltas coloured on the district mesh. Pure: tables in, rows and plotly figures out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
from plotly.subplots import make_subplots

from dashboard.figures.colour import Colouring

__all__ = [
    "DECREASE_IS_GOOD",
    "HEADLINE_KPIS",
    "MAX_COMPARED",
    "NEUTRAL_KPIS",
    "delta_colouring",
    "kpi_bars",
    "kpi_table_rows",
    "pathway_figure",
]

MAX_COMPARED = 4
HEADLINE_KPIS = (
    "final_kwh", "primary_kwh", "co2_t", "opex_eur", "capex_cumulative_eur", "npv_eur", "simple_payback_yr",
    "dwellings", "residents", "pupils", "school_places", "water_m3_day", "tertiary_subject", "tertiary_compliant",
    "use_changes_blocked", "carbon_kept_t",
)  # fmt: skip
"""The KPIs shown first (those ``twin scenario run`` prints), in this order; the others follow alphabetically."""
DECREASE_IS_GOOD = frozenset({"final_kwh", "primary_kwh", "co2_t", "opex_eur", "capex_cumulative_eur",
                              "simple_payback_yr", "water_m3_day", "use_changes_blocked",
                              "tertiary_final_kwh", "electricity_mwh"})  # fmt: skip
"""KPIs where a fall is an improvement (drawn green), as are the ``demand:<network>`` ones."""
NEUTRAL_KPIS = frozenset({"buildings", "tertiary_subject"})
"""KPIs whose change is neither good nor bad in itself (as are the ``dpe_<class>`` counts): marked ``changed``."""
GOOD, NEUTRAL, BAD = "#1a9850", "#f7f7f7", "#d73027"


def _number(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _order(kpis: Sequence[str]) -> list[str]:
    head = [k for k in HEADLINE_KPIS if k in kpis]
    return head + sorted(k for k in kpis if k not in HEADLINE_KPIS)


def kpi_table_rows(comparison: pa.Table, names: Sequence[str], kpis: Sequence[str] | None = None) -> list[dict]:
    """One row per KPI of a comparison (``scenarios.store.compare_scenarios``): kpi, unit, baseline, and per
    scenario its value, its delta to the baseline and the delta's sense (``better``, ``worse``, ``changed``,
    ``same`` or ``unknown``). ``kpis`` restricts and orders the rows (default: the headline KPIs first, then the
    others).

    >>> t = pa.table({"kpi": ["co2_t"], "unit": ["t"], "baseline": [10.0], "a": [8.0], "a - baseline": [-2.0]})
    >>> r = kpi_table_rows(t, ["a"])[0]
    >>> r["kpi"], r["values"]["a"], r["deltas"]["a"], r["sense"]["a"]
    ('co2_t', 8.0, -2.0, 'better')
    """
    rows = comparison.to_pylist()
    by_kpi = {r["kpi"]: r for r in rows}
    wanted = [k for k in kpis if k in by_kpi] if kpis is not None else _order(list(by_kpi))
    out = []
    for k in wanted:
        r = by_kpi[k]
        values = {n: _number(r.get(n)) for n in names}
        deltas = {n: _number(r.get(f"{n} - baseline")) for n in names}
        sense = {}
        for n, d in deltas.items():
            if d is None:
                sense[n] = "unknown"
            elif abs(d) < 1e-9:
                sense[n] = "same"
            elif k in NEUTRAL_KPIS or k.startswith("dpe_"):
                sense[n] = "changed"
            else:
                lower_is_better = k in DECREASE_IS_GOOD or k.startswith("demand:")
                sense[n] = "better" if (d < 0) == lower_is_better else "worse"
        out.append({"kpi": k, "unit": r.get("unit"), "baseline": _number(r.get("baseline")), "values": values,
                    "deltas": deltas, "sense": sense})  # fmt: skip
    return out


def kpi_bars(rows: Sequence[Mapping[str, Any]], names: Sequence[str], columns: int = 3) -> go.Figure:
    """One small bar chart per KPI row (of :func:`kpi_table_rows`): the baseline, then each scenario, one trace
    per scenario and KPI (legend once per scenario); unknown values are left out, not drawn as zero."""
    n = max(len(rows), 1)
    cols = min(columns, n)
    nrows = math.ceil(n / cols)
    fig = make_subplots(
        rows=nrows,
        cols=cols,
        subplot_titles=[f"{r['kpi']} ({r['unit']})" if r.get("unit") else r["kpi"] for r in rows] or [""],
        vertical_spacing=min(0.12, 0.6 / nrows),
    )
    palette = ["#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
    series = ["baseline", *names]
    for i, r in enumerate(rows):
        row, col = i // cols + 1, i % cols + 1
        for j, s in enumerate(series):
            v = r["baseline"] if s == "baseline" else r["values"].get(s)
            fig.add_trace(
                go.Bar(
                    x=[s],
                    y=[v] if v is not None else [],
                    name=s,
                    legendgroup=s,
                    showlegend=i == 0,
                    marker_color=palette[j % len(palette)],
                    hovertemplate=f"{s}: %{{y:,.4g}}<extra>{r['kpi']}</extra>",
                ),
                row=row,
                col=col,
            )
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        height=max(260, 220 * nrows),
        margin={"l": 40, "r": 10, "t": 40, "b": 20},
        barmode="group",
        legend={"orientation": "h", "y": 1.0 + 0.25 / nrows, "x": 0},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#f4f6f8",
        font={"size": 11},
    )
    fig.update_annotations(font_size=11)
    return fig


def pathway_figure(pathway: Sequence[Mapping[str, Any]]) -> go.Figure:
    """The décret tertiaire pathway: tertiary final energy per year against its target (-40 % 2030, -50 % 2040,
    -60 % 2050 of the reference), and the town's final energy, in MWh/yr (rows ``kpi``, ``year``, ``value``)."""
    series: dict[str, dict[int, float]] = {}
    for r in pathway:
        if r.get("value") is not None and r.get("year") is not None:
            series.setdefault(r["kpi"], {})[int(r["year"])] = float(r["value"]) / 1000.0
    fig = go.Figure()
    styles = {
        "final_kwh": ("town final energy", "#1f77b4", "solid"),
        "tertiary_final_kwh": ("tertiary final energy", "#ff7f0e", "solid"),
        "tertiary_target_kwh": ("décret tertiaire target", "#d62728", "dash"),
    }
    for kpi, (label, colour, dash) in styles.items():
        points = series.get(kpi)
        if not points:
            continue
        years = sorted(points)
        fig.add_trace(
            go.Scatter(
                x=years,
                y=[points[y] for y in years],
                name=label,
                yaxis="y2" if kpi == "final_kwh" else "y",
                mode="lines",
                line={"color": colour, "dash": dash, "shape": "hv"},
                hovertemplate="%{x}: %{y:,.0f} MWh/yr<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(
        height=260,
        margin={"l": 50, "r": 10, "t": 30, "b": 30},
        title={"text": "Décret tertiaire pathway (MWh/yr)", "font": {"size": 13}},
        yaxis={"title": {"text": "tertiary"}, "rangemode": "tozero"},
        yaxis2={
            "title": {"text": "town"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.2},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#f4f6f8",
    )
    return fig


def delta_colouring(
    values: Sequence[float | None], title: str, unit: str = "", decrease_is_good: bool = False
) -> Colouring:
    """A diverging scale centred on zero (no change: near white), symmetric so that a gain and a loss of the same
    size get opposite colours of the same strength: green where the change is an improvement, red where it is
    worse. Buildings the scenario leaves alone are passed as 0.0; None stays unknown (grey).

    >>> c = delta_colouring([2.0, 0.0, -1.0, None], "dwellings", "dwellings")
    >>> c.cmin, c.cmax, c.colorscale[0][1] == BAD, c.colorscale[-1][1] == GOOD, c.labels[0], c.labels[3]
    (-2.0, 2.0, True, True, '+2 dwellings', 'unknown')
    """
    code = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    known = code[~np.isnan(code)]
    span = float(np.max(np.abs(known))) if known.size else 0.0
    span = span if span > 0 else 1.0
    low, high = (GOOD, BAD) if decrease_is_good else (BAD, GOOD)
    colorscale: list[list[object]] = [[0.0, low], [0.5, NEUTRAL], [1.0, high]]
    labels = ["unknown" if np.isnan(v) else f"{v:+,.4g} {unit}".strip() for v in code]
    return Colouring(code, colorscale, -span, span, [], f"{title} ({unit})" if unit else title, labels)
