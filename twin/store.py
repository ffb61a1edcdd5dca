"""The twin store: one DuckDB file, its migrations, its CRS, one write path and read cursors.

A :class:`Twin` owns one DuckDB connection. Writes go through :meth:`Twin.write`, a transaction that is
serialised across threads and rolled back whole on any exception. Reads use their own cursor
(:meth:`Twin.read`, :meth:`Twin.query`), so many threads can read while one writes (DuckDB's MVCC gives each
reader a consistent snapshot).

Only one process may hold a DuckDB file read-write (DuckDB refuses every other process, even read-only), so the
long-running ``twin serve`` is the owner when it runs, and CLI commands send their work to it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from twin import engine
from twin.crs import normalize_crs
from twin.errors import CrsError, EngineMismatchError, MigrationError, NotATwinError, ReadOnlyError, TwinError
from twin.schema import applied_migrations, migrate, pending_migrations

__all__ = ["DEFAULT_CRS", "DEFAULT_PATH", "MEMORY", "ImportSummary", "Twin", "TwinInfo", "check_crs_unchanged"]

DEFAULT_PATH = "twin.duckdb"
DEFAULT_CRS = "EPSG:2154"  # Lambert-93, the French national projection
MEMORY = ":memory:"

# Metadata written once, at creation, and never changed afterwards.
_IMMUTABLE_KEYS = frozenset({"crs", "crs_name", "engine_version", "created_at"})
_INTERNAL_TABLES = frozenset({"schema_migrations", "metadata"})


@dataclass(frozen=True)
class ImportSummary:
    """One row of the imports log, as shown by ``twin info``."""

    import_id: int
    kind: str
    file_path: str | None
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    counts: str | None
    message: str | None


@dataclass(frozen=True)
class TwinInfo:
    """What ``twin info`` reports about a twin file."""

    path: str
    crs: str
    crs_name: str
    schema_version: int
    engine_version: str
    created_at: str
    counts: dict[str, int] = field(default_factory=dict)
    last_imports: list[ImportSummary] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "crs": self.crs,
            "crs_name": self.crs_name,
            "schema_version": self.schema_version,
            "engine_version": self.engine_version,
            "created_at": self.created_at,
            "counts": dict(self.counts),
            "last_imports": [
                {
                    "import_id": i.import_id,
                    "kind": i.kind,
                    "file_path": i.file_path,
                    "status": i.status,
                    "started_at": i.started_at.isoformat(),
                    "finished_at": i.finished_at.isoformat() if i.finished_at else None,
                    "counts": i.counts,
                    "message": i.message,
                }
                for i in self.last_imports
            ],
        }


class Twin:
    """A twin file: open it (creating it if asked), migrate it, and read and write it safely.

    Parameters
    ----------
    path:
        The DuckDB file, or ``":memory:"`` for a throw-away twin (tests).
    crs:
        The CRS of a new twin (default EPSG:2154). For an existing twin it must be omitted or equal to the
        stored one: the CRS of a twin never changes.
    create:
        Create the file when it does not exist (else a missing file is an error).
    read_only:
        Open without the right to write (for queries). A read-only open still needs the file not to be held by
        another process: DuckDB refuses that.

    Examples
    --------
    >>> with Twin(":memory:") as twin:
    ...     twin.append("sensors", {"sensor_id": ["t1"], "kind": ["temperature"], "unit_ucum": ["Cel"]})
    ...     twin.query("SELECT count(*) AS n FROM sensors").column("n").to_pylist()
    1
    [1]
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        crs: str | None = None,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        self._database = str(path)
        self._read_only = read_only
        self._cursor_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._closed = False
        self.applied_on_open: list[str] = []

        if self._database == MEMORY:
            if read_only:
                raise TwinError("an in-memory twin cannot be read-only", "open a file, or drop read_only")
            self._con = engine.connect(MEMORY)
            _initialise(self._con, MEMORY, normalize_crs(crs or DEFAULT_CRS))
        else:
            file = Path(self._database)
            if not file.exists():
                if not create or read_only:
                    raise NotATwinError(f"{file} does not exist", "create it with `twin init`")
                _create_file(file, normalize_crs(crs or DEFAULT_CRS))
            self._con = _open_existing(file, read_only=read_only)
        try:
            self._check_and_migrate(crs)
        except BaseException:
            self._con.close()
            raise

    # ------------------------------------------------------------------------------------------------ opening
    def _check_and_migrate(self, requested_crs: str | None) -> None:
        con = self._con
        has_metadata = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'metadata'"
        ).fetchone()
        if not has_metadata or has_metadata[0] == 0:
            raise NotATwinError(
                f"{self._database} is a DuckDB database but not a twin (it has no metadata table)",
                "give the path of a twin made with `twin init`; this file was left untouched",
            )
        meta = self.metadata()
        written_by = meta.get("engine_version", "unknown")
        if not engine.same_release_line(written_by, engine.ENGINE_VERSION):
            raise EngineMismatchError(
                f"{self._database} was written with DuckDB {written_by}; this twin runs DuckDB "
                f"{engine.ENGINE_VERSION}",
                f"install duckdb=={written_by} to open it, or rebuild the twin from its source files",
            )
        check_crs_unchanged(self._database, meta["crs"], requested_crs)
        pending = pending_migrations(con, self._database)
        if pending and self._read_only:
            raise MigrationError(
                f"{self._database} needs schema upgrades ({', '.join(f'{m.version:04d}' for m in pending)}) "
                "and was opened read-only",
                "run `twin info` once to upgrade it",
            )
        if pending:
            self.applied_on_open = [f"{m.version:04d}_{m.name}" for m in migrate(con, self._database)]

    # ------------------------------------------------------------------------------------------------ access
    @property
    def path(self) -> str:
        return self._database

    @property
    def read_only(self) -> bool:
        return self._read_only

    @functools.cached_property
    def crs(self) -> str:
        """The twin CRS as ``AUTHORITY:CODE`` (e.g. ``EPSG:2154``); every geometry in the twin is in it."""
        return self.metadata()["crs"]

    def metadata(self) -> dict[str, str]:
        with self.read() as cur:
            return {str(k): str(v) for k, v in cur.execute("SELECT key, value FROM metadata").fetchall()}

    def set_metadata(self, key: str, value: str) -> None:
        """Record a fact about the twin. The CRS, engine version and creation time cannot be changed."""
        if key in _IMMUTABLE_KEYS:
            cls = CrsError if key.startswith("crs") else TwinError
            raise cls(f"metadata '{key}' is fixed when the twin is created", "create a new twin instead")
        with self.write() as cur:
            cur.execute("INSERT OR REPLACE INTO metadata VALUES (?, ?)", [key, value])

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._cursor_lock:
            if self._closed:
                raise TwinError(f"{self._database} is closed", "open the twin again")
            return self._con.cursor()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for reading; safe to use from any thread while another thread writes."""
        cur = self._cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The one write path: a transaction, serialised across threads, rolled back whole on any exception.

        A ``write()`` opened inside another on the same thread joins the outer transaction.
        """
        if self._read_only:
            raise ReadOnlyError(f"{self._database} was opened read-only", "open it without read_only to write")
        outer = getattr(self._local, "cursor", None)
        if outer is not None:
            yield outer
            return
        with self._write_lock:
            cur = self._cursor()
            self._local.cursor = cur
            try:
                cur.execute("BEGIN TRANSACTION")
                try:
                    yield cur
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            finally:
                self._local.cursor = None
                cur.close()

    def query(self, sql: str, params: list[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        """Run a read query on a cursor of its own and return an Arrow table."""
        with self.read() as cur:
            return cur.execute(sql, params).to_arrow_table()

    def tables(self) -> list[str]:
        """Base tables of the twin, in name order."""
        with self.read() as cur:
            rows = cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def append(self, table: str, data: pa.Table | pa.RecordBatchReader | Any) -> int:
        """Append rows to ``table`` through the write path, matching columns by name. Returns the row count.

        ``data`` is an Arrow table or record-batch reader, a pandas DataFrame, or a dict of equal-length arrays.
        This is the fast path (Arrow scan inside DuckDB); never insert readings row by row.
        """
        if table not in self.tables():
            raise TwinError(f"no table '{table}' in {self._database}", "see `twin info` for the tables")
        if isinstance(data, dict):
            data = pa.table(data)
        with self.write() as cur:
            cur.register("__twin_append", data)
            try:
                cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM __twin_append')
                row = cur.fetchone()
            finally:
                cur.unregister("__twin_append")
        return int(row[0]) if row else 0

    def table_checksums(self) -> dict[str, str]:
        """An order-independent checksum of every table's content, to prove that an operation changed nothing."""
        sums: dict[str, str] = {}
        with self.read() as cur:
            for table in self.tables():
                row = cur.execute(
                    f"SELECT count(*) || ':' || coalesce(md5(string_agg(CAST(t AS VARCHAR), chr(30) "
                    f"ORDER BY CAST(t AS VARCHAR))), '') FROM \"{table}\" AS t"
                ).fetchone()
                sums[table] = str(row[0]) if row else ""
        return sums

    def schema_version(self) -> int:
        with self.read() as cur:
            applied = applied_migrations(cur)
        return max(applied) if applied else 0

    def info(self, last_imports: int = 5) -> TwinInfo:
        """Schema version, CRS, row counts per table and the last imports."""
        meta = self.metadata()
        user_tables = [t for t in self.tables() if t not in _INTERNAL_TABLES]
        counts: dict[str, int] = {}
        if user_tables:
            union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in user_tables)
            with self.read() as cur:
                counts = {str(t): int(n) for t, n in cur.execute(union).fetchall()}
        with self.read() as cur:
            rows = cur.execute(
                "SELECT import_id, kind, file_path, status, started_at, finished_at, counts::VARCHAR, message "
                "FROM imports ORDER BY import_id DESC LIMIT ?",
                [last_imports],
            ).fetchall()
        return TwinInfo(
            path=self._database,
            crs=meta["crs"],
            crs_name=meta.get("crs_name", ""),
            schema_version=self.schema_version(),
            engine_version=meta.get("engine_version", "unknown"),
            created_at=meta.get("created_at", ""),
            counts=counts,
            last_imports=[ImportSummary(*r) for r in rows],
        )

    def close(self) -> None:
        with self._cursor_lock:
            if not self._closed:
                self._closed = True
                self._con.close()

    def __enter__(self) -> Twin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Twin({self._database!r})"


# ---------------------------------------------------------------------------------------------------- helpers
def check_crs_unchanged(database: str, stored: str, requested: str | None) -> None:
    """Refuse a requested CRS that differs from the twin's: the CRS of a twin never changes."""
    if requested is None:
        return
    wanted = normalize_crs(requested)[0]
    if wanted != stored:
        raise CrsError(
            f"{database} is in {stored}; its CRS cannot change to {wanted}",
            "the CRS is chosen at creation: create a new twin with --crs, and ingest the files into it",
        )


def _open_existing(file: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Check the file's header, then connect. Nothing is written to a file that fails a check."""
    if file.is_dir():
        raise NotATwinError(f"{file} is a folder, not a twin file", "give the path of a .duckdb file")
    header = engine.read_header(file)
    if not header.is_duckdb:
        raise NotATwinError(
            f"{file} is not a DuckDB file",
            "give the path of a twin made with `twin init`; the file was left untouched",
        )
    if header.library_version and not engine.same_release_line(header.library_version, engine.ENGINE_VERSION):
        raise EngineMismatchError(
            f"{file} was written with DuckDB {header.library_version}; this twin runs DuckDB "
            f"{engine.ENGINE_VERSION}",
            f"install duckdb=={header.library_version} to open it, or rebuild the twin from its source files",
        )
    native = _native_storage_version()
    if header.storage_version is not None and header.storage_version > native:
        raise EngineMismatchError(
            f"{file} uses DuckDB storage format {header.storage_version}; DuckDB {engine.ENGINE_VERSION} reads "
            f"up to {native}",
            "open it with the newer DuckDB that wrote it, or rebuild the twin from its source files",
        )
    return engine.connect(str(file), read_only=read_only)


def _initialise(con: duckdb.DuckDBPyConnection, database: str, crs: tuple[str, str]) -> None:
    """Apply every migration to an empty database and record the facts fixed at creation."""
    migrate(con, database)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    con.execute(
        "INSERT INTO metadata VALUES ('crs', ?), ('crs_name', ?), ('engine_version', ?), ('created_at', ?)",
        [crs[0], crs[1], engine.ENGINE_VERSION, now],
    )


@functools.cache
def _native_storage_version() -> int:
    """The storage format number this DuckDB writes (read from the header of a scratch file)."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "probe.duckdb"
        duckdb.connect(str(scratch)).close()
        version = engine.read_header(scratch).storage_version
    if version is None:  # pragma: no cover - DuckDB always writes a header
        raise TwinError("could not read this DuckDB's storage version", "reinstall duckdb")
    return version


def _create_file(file: Path, crs: tuple[str, str]) -> None:
    """Build a new twin in a scratch file beside ``file`` and move it into place only once complete."""
    folder = file.parent if str(file.parent) else Path(".")
    if not folder.is_dir():
        raise TwinError(f"cannot create {file}: the folder {folder} does not exist", "create the folder first")
    if not os.access(folder, os.W_OK):
        raise TwinError(f"cannot create {file}: the folder {folder} is not writable", "choose another --twin path")
    scratch = folder / f".{file.name}.creating-{os.getpid()}"
    try:
        con = engine.connect(str(scratch))
        try:
            _initialise(con, str(file), crs)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(scratch, file)
    finally:
        for leftover in (scratch, scratch.with_name(scratch.name + ".wal")):
            with suppress(FileNotFoundError):
                leftover.unlink()
