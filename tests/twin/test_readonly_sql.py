"""`twin sql` reads and never writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin import ReadOnlyError, Twin, TwinError
from twin.readonly_sql import run_read_only

WRITES = [
    "INSERT INTO buildings (building_id, source) VALUES ('x', 'gis')",
    "UPDATE scenarios SET name = 'x'",
    "DELETE FROM scenarios",
    "DROP TABLE buildings",
    "CREATE TABLE x (a INT)",
    "ALTER TABLE buildings ADD COLUMN x INT",
    "COPY scenarios TO 'out.csv'",
    "ATTACH 'other.duckdb' AS other",
    "SET threads = 1",
    "CHECKPOINT",
    "EXPLAIN ANALYZE DELETE FROM scenarios",
    "SELECT 1; DROP TABLE buildings",
    "PIVOT scenarios ON name",
]


@pytest.mark.parametrize("statement", WRITES)
def test_statements_that_write_are_refused_and_change_nothing(
    twin: Twin, statement: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = twin.table_checksums()
    with pytest.raises(ReadOnlyError, match="only reads"):
        run_read_only(twin, statement)
    assert twin.table_checksums() == before
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_queries_return_their_rows_with_geometry_as_text(twin: Twin) -> None:
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO buildings (building_id, source, footprint, height_m) VALUES "
            "('b1', 'gis', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'), 9.5)"
        )
    table = run_read_only(twin, "SELECT building_id, footprint, height_m FROM buildings")
    assert table.to_pylist() == [
        {"building_id": "b1", "footprint": "POLYGON ((0 0, 1 0, 1 1, 0 0))", "height_m": 9.5}
    ]


def test_several_read_statements_return_the_last_result_and_max_rows_limits_it(twin: Twin) -> None:
    table = run_read_only(twin, "SELECT 1 AS a; SELECT * FROM range(10) AS r(i)", max_rows=3)
    assert table.column("i").to_pylist() == [0, 1, 2]


def test_explain_of_a_query_is_allowed(twin: Twin) -> None:
    assert run_read_only(twin, "EXPLAIN SELECT count(*) FROM buildings").num_rows >= 1


@pytest.mark.parametrize(
    ("sql", "message"),
    [("SELEC 1", "syntax error"), ("", "no SQL statement"), ("SELECT * FROM nowhere", "nowhere")],
)
def test_bad_sql_gives_one_clear_error(twin: Twin, sql: str, message: str) -> None:
    with pytest.raises(TwinError, match=message) as caught:
        run_read_only(twin, sql)
    assert "\n" not in caught.value.message
