"""Numbered SQL migrations: discovery, checksums and application, recorded in ``schema_migrations``.

An applied migration is never edited: its SHA-256 is recorded, and a file whose history differs from the
migrations shipped with this version of twin is refused rather than silently "repaired".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from twin.errors import MigrationError

__all__ = ["Migration", "applied_migrations", "available_migrations", "migrate", "pending_migrations"]

_NAME_RE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL
)
"""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file of ``twin/migrations``."""

    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def available_migrations() -> list[Migration]:
    """The migrations shipped with this version of twin, in order."""
    found: list[Migration] = []
    for entry in resources.files("twin.migrations").iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations are not numbered 1..n without gaps: {versions}", "fix twin/migrations")
    return found


def applied_migrations(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str]]:
    """``{version: (name, sha256)}`` of the migrations recorded in the file (empty for a new file)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return {}
    rows = con.execute("SELECT version, name, sha256 FROM schema_migrations ORDER BY version").fetchall()
    return {int(v): (str(n), str(s)) for v, n, s in rows}


def pending_migrations(con: duckdb.DuckDBPyConnection, database: str) -> list[Migration]:
    """Migrations not yet applied; raises when the recorded history does not match the shipped files."""
    shipped = available_migrations()
    by_version = {m.version: m for m in shipped}
    applied = applied_migrations(con)
    for version, (name, sha) in applied.items():
        mine = by_version.get(version)
        if mine is None:
            raise MigrationError(
                f"{database} has schema version {max(applied)}, newer than this twin knows ({len(shipped)})",
                "upgrade twin (pip install -U twin) to open this file",
            )
        if mine.sha256 != sha:
            raise MigrationError(
                f"{database}: migration {version:04d}_{name} was applied from a different text than the one "
                "shipped now",
                "applied migrations must never be edited; add a new numbered migration instead",
            )
    return [m for m in shipped if m.version not in applied]


def migrate(con: duckdb.DuckDBPyConnection, database: str) -> list[Migration]:
    """Apply the pending migrations, each in its own transaction, and record them. Returns what was applied."""
    con.execute(_HISTORY_DDL)
    todo = pending_migrations(con, database)
    for migration in todo:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, now()::TIMESTAMP)",
                [migration.version, migration.name, migration.sha256],
            )
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise MigrationError(
                f"{database}: migration {migration.version:04d}_{migration.name} failed: {exc}",
                "the file is unchanged; report this as a bug with the twin version",
            ) from exc
    return todo
