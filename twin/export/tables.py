"""Every table of the twin as Parquet or CSV, with a data dictionary taken from the schema.

Parquet keeps types (geometry columns become GeoParquet through DuckDB spatial); readings are partitioned by
month (``readings/month=YYYY-MM/*.parquet``), the layout a data-lake engine reads directly. CSV writes geometry
as WKT. ``data_dictionary.csv`` lists every exported column with its type, its unit (read from the column
name's suffix, the twin's naming rule) and its description (the ``COMMENT`` of the migration that made it).
Tables that could hold personal data are never exported.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from twin.errors import TwinError
from twin.export.layers import ExportReport, _move_into_place, _scratch_beside
from twin.store import Twin

__all__ = ["PERSONAL_TABLES", "TABLE_FORMATS", "data_dictionary", "export_tables", "unit_of"]

TABLE_FORMATS = ("parquet", "csv")

PERSONAL_TABLES = frozenset({"report_contacts", "users"})
"""Tables that may hold personal data (names, e-mails of citizens or users): never exported."""

_SKIPPED = frozenset({"schema_migrations"})

# Column-name suffix -> unit, longest first (the twin's rule: units in column names).
_UNITS = (
    ("_w_m2k", "W/(m2.K)"),
    ("_kwh_m2", "kWh/m2"),
    ("_kn_m2", "kN/m2"),
    ("_m_per_m2", "m/m2"),
    ("_m3_h", "m3/h"),
    ("_l_s", "L/s"),
    ("_kwh", "kWh"),
    ("_mwh", "MWh"),
    ("_kw", "kW"),
    ("_kva", "kVA"),
    ("_kv", "kV"),
    ("_ka", "kA"),
    ("_eur", "EUR"),
    ("_kg", "kg"),
    ("_m2", "m2"),
    ("_m3", "m3"),
    ("_mm", "mm"),
    ("_deg", "degree"),
    ("_pct", "%"),
    ("_utc", "UTC"),
    ("_bar", "bar"),
    ("_w", "W"),
    ("_s", "s"),
    ("_h", "h"),
    ("_t", "t"),
    ("_m", "m"),
)


def unit_of(column: str) -> str | None:
    """The unit a column name declares by its suffix, or None.

    Examples
    --------
    >>> unit_of("u_value_w_m2k"), unit_of("height_m"), unit_of("time_utc"), unit_of("name")
    ('W/(m2.K)', 'm', 'UTC', None)
    """
    for suffix, unit in _UNITS:
        if column.endswith(suffix) and len(column) > len(suffix):
            return unit
    return None


def data_dictionary(twin: Twin, tables: Sequence[str] | None = None) -> pa.Table:
    """Table, column, type, unit and description of every column of the chosen tables (all by default)."""
    chosen = list(tables) if tables is not None else _exportable(twin)
    rows = twin.query(
        """
        SELECT c.table_name AS "table", c.column_name AS "column", c.data_type AS type,
               c.comment AS description, t.comment AS table_description, c.column_index
        FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
        WHERE c.database_name = current_database() AND c.schema_name = 'main' AND list_contains(?, c.table_name)
        ORDER BY c.table_name, c.column_index
        """,
        [chosen],
    )
    units = pa.array([unit_of(c) for c in rows.column("column").to_pylist()], pa.string())
    return pa.table(
        {
            "table": rows.column("table"),
            "column": rows.column("column"),
            "type": rows.column("type"),
            "unit": units,
            "description": rows.column("description"),
            "table_description": rows.column("table_description"),
        }
    )


def export_tables(
    twin: Twin, fmt: str, out: str | os.PathLike[str], tables: Sequence[str] | None = None
) -> ExportReport:
    """Write the chosen tables (all exportable ones by default) into the folder ``out``, plus the dictionary."""
    if fmt not in TABLE_FORMATS:
        raise TwinError(f"unknown table format '{fmt}'", f"choose among: {', '.join(TABLE_FORMATS)}")
    available = _exportable(twin)
    chosen = list(tables or available)
    for name in chosen:
        if name in PERSONAL_TABLES:
            raise TwinError(f"table {name} may hold personal data and is never exported", "leave it out")
        if name not in available:
            raise TwinError(f"unknown table '{name}'", f"choose among: {', '.join(available)}")
    target = Path(out)
    report = ExportReport(format=fmt, out=str(target), crs=twin.crs)
    scratch = _scratch_beside(target)
    try:
        written: list[Path] = []
        with twin.read() as cur:
            for name in chosen:
                report.rows[name] = int(cur.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
                if fmt == "parquet" and name == "readings":
                    path = scratch / "readings"
                    cur.execute(
                        "COPY (SELECT *, strftime(time_utc, '%Y-%m') AS month FROM readings) "
                        f"TO '{_sql_path(path)}' (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)"
                    )
                    path.mkdir(exist_ok=True)  # an empty table still gives its folder
                elif fmt == "parquet":
                    path = scratch / f"{name}.parquet"
                    cur.execute(f"COPY \"{name}\" TO '{_sql_path(path)}' (FORMAT parquet)")
                else:
                    path = scratch / f"{name}.csv"
                    cur.execute(f"COPY \"{name}\" TO '{_sql_path(path)}' (FORMAT csv, HEADER)")
                written.append(path)
        dictionary = scratch / "data_dictionary.csv"
        pacsv.write_csv(data_dictionary(twin, chosen), dictionary)
        written.append(dictionary)
        report.files = _move_into_place(scratch, target, written, folder=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _exportable(twin: Twin) -> list[str]:
    names = twin.query(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "ORDER BY table_name"
    ).column(0)
    return [n for n in names.to_pylist() if n not in _SKIPPED and n not in PERSONAL_TABLES]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
