"""The reversibility results of one building for people: the criteria table of a conversion path (one clickable
row per criterion and storey, its status coloured, its evidence GlobalIds carried in the row) and the summary of
the path (score, coverage, verdict, vetoes, yield). Pure: rows of ``res_reversibility*`` in, Dash components out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from dash import html

from dashboard.pages.common import fmt

__all__ = [
    "STATUS_COLOURS",
    "criteria_rows",
    "criteria_table",
    "evidence_ids",
    "summary_rows",
    "verdict",
]

STATUS_COLOURS = {"pass": "#1e7d32", "fail": "#c0392b", "unknown": "#7b8794"}
"""Colour of a criterion's status: green passes, red fails, grey is unknown (never counted as a pass)."""

_COLUMNS = ("criterion", "storey", "value", "unit", "threshold", "status", "weight", "veto", "source")


def evidence_ids(evidence: str | Mapping[str, Any] | None) -> list[str]:
    """The IFC GlobalIds of a criterion's evidence (``{"ifc": [...]}``); none for GIS evidence.

    >>> evidence_ids('{"ifc": ["a", "b"], "facts": ["depth_m"]}'), evidence_ids('{"gis": ["height"]}')
    (['a', 'b'], [])
    """
    if evidence is None:
        return []
    data = json.loads(evidence) if isinstance(evidence, str) else dict(evidence)
    ids = data.get("ifc") or []
    return [str(g) for g in ids if isinstance(g, str)]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _value(value: float | None, unit: str) -> str:
    """A criterion's value or threshold for people: years whole, infinite as ∞, missing as unknown.

    >>> _value(1972.0, "year"), _value(float("inf"), "kN/m²"), _value(None, "m"), _value(2.95, "m")
    ('1972', '∞', 'unknown', '2.95')
    """
    if value is None:
        return "unknown"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if unit == "year":
        return f"{value:.0f}"
    return fmt(value)


def criteria_rows(
    criteria: Sequence[Mapping[str, Any]],
    storey_names: Mapping[str, str],
    drawable: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """One display row per criterion (and storey) of ``res_reversibility_criteria`` rows of one path.

    Each row has the displayed cells (:data:`_COLUMNS`), its ``colour`` (:data:`STATUS_COLOURS`) and the
    ``evidence`` GlobalIds to highlight: with ``drawable`` (the GlobalIds that have a mesh), only those; the
    others (the building or a storey itself) are counted in ``evidence_other``. Rows keep the given order.
    """
    rows = []
    for c in criteria:
        storey = c.get("storey_id")
        value = _number(c.get("value"))
        threshold = _number(c.get("threshold"))
        veto = _number(c.get("veto_threshold"))
        status = str(c.get("status") or "unknown")
        ids = evidence_ids(c.get("evidence"))
        rows.append(
            {
                "criterion": str(c.get("label") or c.get("criterion")),
                "key": str(c.get("criterion")),
                "storey": storey_names.get(storey, storey) if storey else "building",
                "storey_id": storey,
                "value": _value(value, str(c.get("unit") or "")),
                "unit": str(c.get("unit") or ""),
                "threshold": "—" if threshold is None else _value(threshold, str(c.get("unit") or "")),
                "status": status,
                "colour": STATUS_COLOURS.get(status, STATUS_COLOURS["unknown"]),
                "weight": fmt(_number(c.get("weight"))),
                "veto": (
                    ("VETO" if c.get("vetoed") else f"veto at {fmt(veto)}" if veto is not None else "veto")
                    if c.get("is_veto")
                    else ""
                ),
                "vetoed": bool(c.get("vetoed")),
                "source": str(c.get("source") or ""),
                "note": str(c.get("note") or ""),
                "evidence": [g for g in ids if drawable is None or g in drawable],
                "evidence_other": sum(1 for g in ids if drawable is not None and g not in drawable),
            }
        )
    return rows


def criteria_table(rows: Sequence[Mapping[str, Any]], table_id: str = "building-criteria-table") -> html.Table:
    """The criteria table; row ``i`` has the id ``{"type": "building-criterion", "index": i}`` (click: highlight
    its evidence) and says how many evidence elements it has."""
    head = html.Thead(html.Tr([html.Th(c) for c in _COLUMNS] + [html.Th("evidence")]))
    body = []
    for i, r in enumerate(rows):
        cells = [
            html.Td(r["criterion"], title=r["note"] or None),
            html.Td(r["storey"]),
            html.Td(r["value"]),
            html.Td(r["unit"]),
            html.Td(r["threshold"]),
            html.Td(
                r["status"], style={"color": r["colour"], "fontWeight": 600}, className=f"status-{r['status']}"
            ),
            html.Td(r["weight"]),
            html.Td(r["veto"], className="refused" if r["vetoed"] else None),
            html.Td(r["source"], className="note source", title=r["source"]),
            html.Td(str(len(r["evidence"])) if r["evidence"] else "—"),
        ]
        body.append(
            html.Tr(
                cells,
                id={"type": "building-criterion", "index": i},
                n_clicks=0,
                className="criterion clickable" if r["evidence"] else "criterion",
                title="click: highlight its evidence in the model" if r["evidence"] else None,
            )
        )
    return html.Table([head, html.Tbody(body)], className="facts criteria", id=table_id)


def verdict(convertible: bool | None) -> str:
    """The verdict of a path in words.

    >>> verdict(True), verdict(False), verdict(None)
    ('convertible', 'not convertible', 'unknown (a veto criterion could not be judged)')
    """
    if convertible is None:
        return "unknown (a veto criterion could not be judged)"
    return "convertible" if convertible else "not convertible"


def summary_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (label, text) lines summarising one ``res_reversibility`` row; unknown figures say 'unknown'."""
    vetoes = json.loads(result["vetoes"]) if isinstance(result.get("vetoes"), str) else result.get("vetoes") or []
    low, high = _number(result.get("cost_low_eur")), _number(result.get("cost_high_eur"))
    cost = "unknown" if low is None or high is None else f"{fmt(low / 1e6)} – {fmt(high / 1e6)} M€"
    carbon = _number(result.get("carbon_kept_kgco2e"))
    rows = [
        ("verdict", verdict(result.get("convertible"))),
        ("score", f"{fmt(_number(result.get('score')))} (up to {fmt(_number(result.get('score_max')))}) / 100"),
        ("criteria known", f"{fmt(100 * float(result.get('coverage') or 0.0))} % of the weight"),
        ("route", str(result.get("route") or "unknown")),
        ("difficulty", fmt(result.get("difficulty"))),
        ("converted area", fmt(_number(result.get("converted_area_m2")), "m²")),
        ("dwellings", fmt(_number(result.get("dwellings")))),
        ("residents", fmt(_number(result.get("residents")))),
        ("pupils", fmt(_number(result.get("pupils")))),
        ("cost range", cost),
        ("carbon kept", "unknown" if carbon is None else f"{fmt(carbon / 1000)} t CO₂e"),
    ]
    for v in vetoes:
        rows.append(("veto", str(v.get("reason") or v.get("criterion"))))
    return rows
