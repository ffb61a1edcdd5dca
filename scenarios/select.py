"""Selections of buildings: ids, use, construction year, reversibility score, a polygon, or a SQL condition.

The SQL condition is the user's text, so it is never pasted into a query as it is. DuckDB's own parser reads it
inside ``SELECT 1 FROM buildings WHERE <condition>`` (through ``json_serialize_sql``, with the text passed as a
parameter) and the parse tree is checked (:func:`check_condition`): one SELECT statement, nothing but the WHERE
clause, no subquery anywhere, only columns of ``buildings``, every ``$name`` parameter given. The query that
runs is the one DuckDB rebuilds from the checked tree (``json_deserialize_sql``), with the parameter values bound
by DuckDB, on a cursor inside a transaction that is always rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import duckdb

from scenarios.spec import Selection, SqlCondition
from twin.store import Twin

__all__ = ["check_condition", "select_buildings"]

_ALLOWED_NODE_KEYS_EMPTY = ("group_expressions", "group_sets")


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def check_condition(cur: duckdb.DuckDBPyConnection, condition: SqlCondition, columns: Sequence[str]) -> str:
    """Check a condition on ``buildings`` and return the query DuckDB rebuilds from it (selecting building_id).

    Raises ``ValueError`` with a one-line reason when the condition is not a single expression on the buildings
    table's ``columns`` with its parameters given.
    """
    row = cur.execute(
        "SELECT json_serialize_sql(?)", [f"SELECT 1 FROM buildings WHERE {condition.sql}"]
    ).fetchone()
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True, "error_message": "no result"}
    if tree.get("error"):
        message = str(tree.get("error_message") or "not a SQL condition")
        if "Only SELECT" in message:
            message = "a statement is not allowed here: give a condition (an expression), e.g. use = 'office'"
        raise ValueError(f"SQL condition: {message.splitlines()[0]}")
    statements: list[Any] = list(tree.get("statements") or [])
    if len(statements) != 1:
        raise ValueError("SQL condition: a single expression is allowed, not several statements")
    node = statements[0]["node"]
    if node.get("type") != "SELECT_NODE":
        raise ValueError("SQL condition: set operations (UNION, EXCEPT ...) are not allowed")
    source = node.get("from_table") or {}
    if source.get("type") != "BASE_TABLE" or source.get("table_name") != "buildings":
        raise ValueError("SQL condition: the condition may only read the buildings table")
    extra = [k for k in _ALLOWED_NODE_KEYS_EMPTY if node.get(k)]
    if extra or node.get("having") or node.get("qualify") or node.get("modifiers") or node.get("sample"):
        raise ValueError("SQL condition: only a WHERE condition is allowed (no GROUP BY, ORDER BY, LIMIT ...)")
    if (node.get("cte_map") or {}).get("map"):
        raise ValueError("SQL condition: WITH clauses are not allowed")
    where = node.get("where_clause")
    if where is None:
        raise ValueError("SQL condition: empty")
    allowed = {c.lower() for c in columns}
    given = set(condition.params)
    used: set[str] = set()
    for item in _walk(where):
        kind = item.get("class")
        if kind == "SUBQUERY":
            raise ValueError("SQL condition: subqueries are not allowed (select on the buildings table's columns)")
        if kind == "COLUMN_REF":
            names: list[str] = [str(n).lower() for n in list(item.get("column_names") or [])]
            if len(names) == 2 and names[0] == "buildings":
                names = names[1:]
            if len(names) != 1 or names[0] not in allowed:
                raise ValueError(
                    f"SQL condition: unknown column {'.'.join(names)} (columns: {', '.join(sorted(allowed))})"
                )
        if kind == "PARAMETER":
            used.add(str(item.get("identifier")))
        if kind == "FUNCTION" and str(item.get("function_name", "")).lower() in _FORBIDDEN_FUNCTIONS:
            raise ValueError(f"SQL condition: function {item.get('function_name')} is not allowed")
    missing = sorted(used - given)
    if missing:
        raise ValueError(f"SQL condition: no value for parameter ${missing[0]} (give it under params)")
    node["select_list"] = [{"class": "COLUMN_REF", "type": "COLUMN_REF", "alias": "", "query_location": 0,
                            "column_names": ["building_id"]}]  # fmt: skip
    rebuilt = cur.execute("SELECT json_deserialize_sql(?)", [json.dumps(tree)]).fetchone()
    assert rebuilt is not None
    return str(rebuilt[0])


_FORBIDDEN_FUNCTIONS = frozenset({"getenv", "current_setting", "read_text", "read_blob", "query", "query_table"})


def _columns(cur: duckdb.DuckDBPyConnection) -> list[str]:
    rows = cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'buildings'"
    ).fetchall()
    return [str(r[0]) for r in rows]


def select_buildings(
    twin: Twin,
    selection: Selection,
    *,
    reversibility: Mapping[tuple[str, str], tuple[bool | None, float]] | None = None,
    universe: Sequence[str] | None = None,
) -> list[str]:
    """Ids of the buildings matching every filter of ``selection``, sorted.

    ``reversibility`` maps (building_id, path) to (convertible, score) for the ``reversibility`` filter;
    ``universe`` limits the result (the buildings the scenarios work on). Unknown ids are left to the caller.
    Raises ``ValueError`` naming the filter that is wrong (a bad polygon or SQL condition).
    """
    clauses: list[str] = ["(source = 'ifc' OR ifc_building_id IS NULL)"]
    params: list[Any] = []
    if selection.ids is not None:
        clauses.append("list_contains(?, building_id)")
        params.append(list(selection.ids))
    if selection.use is not None:
        clauses.append("list_contains(?, use)")
        params.append(list(selection.use))
    if selection.built_from is not None:
        clauses.append("construction_year >= ?")
        params.append(selection.built_from)
    if selection.built_to is not None:
        clauses.append("construction_year <= ?")
        params.append(selection.built_to)
    with twin.read() as cur:
        if selection.within is not None:
            try:
                cur.execute("SELECT ST_GeomFromText(?)", [selection.within]).fetchone()
            except duckdb.Error as exc:
                raise ValueError(f"within: not a WKT polygon ({str(exc).splitlines()[0]})") from None
            clauses.append("footprint IS NOT NULL AND ST_Intersects(footprint, ST_GeomFromText(?))")
            params.append(selection.within)
        base = f"SELECT building_id FROM buildings WHERE {' AND '.join(clauses)}"
        ids = {str(r[0]) for r in cur.execute(base, params).fetchall()}
        condition = selection.condition()
        if condition is not None:
            query = check_condition(cur, condition, _columns(cur))
            cur.execute("BEGIN TRANSACTION")
            try:
                found = cur.execute(query, dict(condition.params) or None).fetchall()
            except duckdb.Error as exc:
                raise ValueError(f"SQL condition: {str(exc).splitlines()[0]}") from None
            finally:
                cur.execute("ROLLBACK")
            ids &= {str(r[0]) for r in found}
    if selection.reversibility is not None:
        rf = selection.reversibility
        table = reversibility or {}
        keep = set()
        for b in ids:
            convertible, score = table.get((b, rf.path), (None, float("nan")))
            if (
                score == score
                and score >= rf.min_score
                and (rf.convertible is None or convertible is rf.convertible)
            ):
                keep.add(b)
        ids = keep
    if universe is not None:
        ids &= set(universe)
    return sorted(ids)
