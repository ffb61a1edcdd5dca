"""Read-only SQL for ``twin sql``: statements are checked by DuckDB's own parser and run in a rolled-back
transaction, so nothing a query does can change the twin."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from twin.errors import ReadOnlyError, TwinError
from twin.store import Twin

__all__ = ["check_read_only", "run_read_only"]

_READING = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_EXPLAIN_RE = re.compile(r"^\s*EXPLAIN(\s+ANALY[SZ]E)?\s+", re.IGNORECASE)


def check_read_only(cur: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """Split ``sql`` into statements and refuse any that is not a query. Returns the statements' texts."""
    try:
        statements = cur.extract_statements(sql)
    except duckdb.Error as exc:
        raise TwinError(f"SQL: {_first_line(exc)}", "check the query's syntax") from exc
    if not statements:
        raise TwinError("no SQL statement given", 'give a query, e.g. twin sql "SELECT count(*) FROM buildings"')
    texts: list[str] = []
    for number, statement in enumerate(statements, start=1):
        kind = statement.type
        text = statement.query
        if kind == duckdb.StatementType.EXPLAIN:
            # EXPLAIN ANALYZE runs its statement: the statement inside must itself be a query.
            inner = cur.extract_statements(_EXPLAIN_RE.sub("", text, count=1))
            if not inner or any(s.type != duckdb.StatementType.SELECT for s in inner):
                kind = inner[0].type if inner else kind
        if kind not in _READING:
            raise ReadOnlyError(
                f"`twin sql` only reads: statement {number} is {kind.name} ({text.strip()[:60]})",
                "write through the twin's commands (twin ingest, twin scenario ...), which keep the import log",
            )
        texts.append(text)
    return texts


def run_read_only(twin: Twin, sql: str, *, max_rows: int | None = None) -> pa.Table:
    """Run the read statements of ``sql`` and return the last one's result (geometry as WKT text).

    The statements run in a transaction that is always rolled back, on top of the statement check.
    """
    with twin.read() as cur:
        texts = check_read_only(cur, sql)
        cur.execute("BEGIN TRANSACTION")
        try:
            result: pa.Table | None = None
            for text in texts:
                rel = cur.sql(text)
                if rel is None:  # pragma: no cover - every read statement yields a relation
                    continue
                geometry = [
                    c for c, t in zip(rel.columns, rel.types, strict=True) if str(t).startswith("GEOMETRY")
                ]
                if geometry:
                    replace = ", ".join(f'ST_AsText("{c}") AS "{c}"' for c in geometry)
                    rel = rel.query("__q", f"SELECT * REPLACE ({replace}) FROM __q")
                if max_rows is not None:
                    rel = rel.limit(max_rows)
                result = rel.to_arrow_table()
            assert result is not None
            return result
        except duckdb.Error as exc:
            raise TwinError(f"SQL: {_first_line(exc)}", "check the query against `twin info`'s tables") from exc
        finally:
            cur.execute("ROLLBACK")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
