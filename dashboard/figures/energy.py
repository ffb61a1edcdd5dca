"""The energy results of one building for people: the headline figures of ``res_energy`` (needs per m2,
final/primary, CO2, DPE class on both criteria, décret tertiaire), the monthly need as bars, and the retrofit
options of ``res_retrofit`` sorted by payback. Pure: rows in, figures and (label, text) lines out."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from dashboard.pages.common import fmt

__all__ = ["DPE_COLOURS", "MONTHS", "assumption_rows", "energy_rows", "monthly_need_figure", "retrofit_rows"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DPE_COLOURS = {
    "A": "#009c6d",
    "B": "#52b153",
    "C": "#78bd76",
    "D": "#f4e70f",
    "E": "#f0b50f",
    "F": "#eb8235",
    "G": "#d7221f",
}
"""The colours of the French DPE label (arrêté du 31 mars 2021)."""


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _dpe(value: Any) -> str:
    return {"not_applicable": "not applicable (not housing)", None: "unknown"}.get(value, str(value))


def energy_rows(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (label, text) lines of one ``res_energy`` row; unknown figures say 'unknown'."""
    if row.get("status") != "ok":
        return [("status", f"unknown: {row.get('unknown_reason') or 'no reason stored'}")]
    subject = row.get("tertiary_subject")
    if subject is None:
        tertiary = "unknown"
    elif subject:
        targets = [_number(row.get(f"tertiary_target_{y}_kwh")) for y in (2030, 2040, 2050)]
        tertiary = "subject (≥ 1,000 m² tertiary); targets 2030 / 2040 / 2050: " + " / ".join(
            fmt(t, "kWh") for t in targets
        )
    else:
        tertiary = "not subject"
    rows = [
        ("route", str(row.get("route"))),
        ("floor area", fmt(_number(row.get("floor_area_m2")), "m²")),
        ("heating need", fmt(_number(row.get("heating_need_kwh_m2")), "kWh/m²·yr")),
        ("cooling need", fmt(_number(row.get("cooling_need_kwh_m2")), "kWh/m²·yr")),
        ("heating carrier", fmt(row.get("carrier"))),
        ("final energy", fmt(_number(row.get("final_kwh_m2")), "kWh/m²·yr")),
        ("primary energy", fmt(_number(row.get("primary_kwh_m2")), "kWhep/m²·yr")),
        ("CO₂", fmt(_number(row.get("co2_kg_m2")), "kg/m²·yr")),
        ("energy cost", fmt(_number(row.get("energy_cost_eur")), "€/yr")),
        (
            "DPE class",
            _dpe("not_applicable")
            if row.get("dpe_class") == "not_applicable"
            else f"{_dpe(row.get('dpe_class'))} (energy {_dpe(row.get('dpe_energy_class'))}, "
            f"climate {_dpe(row.get('dpe_climate_class'))})",
        ),
        ("décret tertiaire", tertiary),
    ]
    if _number(row.get("metered_kwh")) is not None:
        rows.append(("metered", f"{fmt(_number(row.get('metered_kwh')), 'kWh')} (calibration factor "
                     f"{fmt(_number(row.get('calibration_factor')))})"))  # fmt: skip
    return rows


def assumption_rows(assumptions: str | Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The stored assumptions (JSON) as (key, text) lines.

    >>> assumption_rows('{"climate": "Lyon", "n50": 3}')
    [('climate', 'Lyon'), ('n50', '3')]
    """
    if not assumptions:
        return []
    data = json.loads(assumptions) if isinstance(assumptions, str) else dict(assumptions)
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)[:300]) for k, v in data.items()
    ]


def monthly_need_figure(
    heating_kwh: Sequence[float | None] | None, cooling_kwh: Sequence[float | None] | None
) -> go.Figure:
    """Twelve monthly bars of heating need (and cooling, when there is any), kWh."""
    fig = go.Figure()
    for name, values, colour in (("heating", heating_kwh, "#c0392b"), ("cooling", cooling_kwh, "#2e86c1")):
        if values is None:
            continue
        ys = [_number(v) for v in values]
        if name == "cooling" and not any(ys):
            continue
        fig.add_trace(go.Bar(x=list(MONTHS), y=ys, name=f"{name} need", marker_color=colour))
    fig.update_layout(
        barmode="group",
        height=220,
        margin={"l": 40, "r": 10, "t": 10, "b": 30},
        yaxis_title="kWh",
        legend={"orientation": "h", "y": 1.15},
        paper_bgcolor="#fff",
        plot_bgcolor="#fff",
    )
    return fig


def retrofit_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The retrofit options (``res_retrofit`` rows) as display rows, the quickest payback first (unknown last).

    >>> [r["measure"] for r in retrofit_rows([
    ...     {"package": "p", "measure": "roof", "simple_payback_yr": 20.0, "status": "ok"},
    ...     {"package": "p", "measure": "walls", "simple_payback_yr": None, "status": "ok"},
    ...     {"package": "p", "measure": "windows", "simple_payback_yr": 8.0, "status": "ok"}])]
    ['windows', 'roof', 'walls']
    """

    def key(r: Mapping[str, Any]) -> tuple[int, float]:
        payback = _number(r.get("simple_payback_yr"))
        return (1, 0.0) if payback is None else (0, payback)

    out = []
    for r in sorted(rows, key=key):
        measure = str(r.get("measure"))
        out.append(
            {
                "measure": str(r.get("package")) if measure == "*" else measure,
                "package": str(r.get("package")),
                "status": str(r.get("status")) + (f": {r['reason']}" if r.get("reason") else ""),
                "saved_kwh": fmt(_number(r.get("final_saved_kwh")), "kWh/yr"),
                "saved_eur": fmt(_number(r.get("cost_saved_eur_yr")), "€/yr"),
                "capex": fmt(_number(r.get("capex_eur")), "€"),
                "payback": fmt(_number(r.get("simple_payback_yr")), "yr"),
                "npv": fmt(_number(r.get("npv_eur")), "€"),
                "dpe_after": _dpe(r.get("dpe_after")) if r.get("dpe_after") else "unknown",
            }
        )
    return out
