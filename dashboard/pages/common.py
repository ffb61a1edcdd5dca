"""Small layout helpers shared by the pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dash import html

__all__ = ["facts_table", "fmt"]


def fmt(value: Any, unit: str = "") -> str:
    """A value for people: unknown stays 'unknown', numbers get thousands separators and at most 4 digits
    (whole numbers from 1,000 up).

    >>> fmt(None), fmt(46330.2, "€/yr"), fmt(2.0273, "yr"), fmt(0.08205)
    ('unknown', '46,330 €/yr', '2.027 yr', '0.08205')
    """
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.4g}" if abs(value) < 1e3 else f"{value:,.0f}"  # never 4.633e+04
        return f"{text} {unit}".strip()
    return f"{value} {unit}".strip()


def facts_table(rows: Iterable[tuple[str, Any]] | Mapping[str, Any], table_id: str | None = None) -> html.Table:
    items = rows.items() if isinstance(rows, Mapping) else rows
    body = [
        html.Tr([html.Th(k), html.Td(v if not isinstance(v, (int, float, bool)) and v is not None else fmt(v))])
        for k, v in items
    ]
    if table_id:
        return html.Table(html.Tbody(body), className="facts", id=table_id)
    return html.Table(html.Tbody(body), className="facts")
