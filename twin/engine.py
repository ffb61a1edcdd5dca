"""The DuckDB engine: connecting with the spatial extension loaded offline, and reading file headers.

The spatial extension cannot be downloaded on the machines twin targets, so it is loaded by path from the
``duckdb-extension-spatial`` wheel, with DuckDB's auto-install and auto-load turned off so that nothing ever
tries the network.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from twin.errors import EngineMismatchError, NotATwinError, TwinError, TwinLockedError

__all__ = [
    "DUCKDB_MAGIC",
    "ENGINE_VERSION",
    "FileHeader",
    "connect",
    "read_header",
    "same_release_line",
    "spatial_extension_path",
]

ENGINE_VERSION: str = duckdb.__version__
DUCKDB_MAGIC = b"DUCK"
# A DuckDB database file starts with an 8-byte checksum, the magic bytes, then the storage version (u64 LE).
_MAGIC_OFFSET = 8
_VERSION_OFFSET = 12
# Since DuckDB 1.2 the main header also holds the library version that created the file ("v1.5.5"), after the
# storage version and four u64 flags.
_LIBRARY_OFFSET = 52
_LIBRARY_LEN = 32
_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<proc>.+?) \(PID (?P<pid>\d+)\)")

_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


@functools.cache
def spatial_extension_path() -> Path:
    """Path of the spatial extension binary shipped in the ``duckdb-extension-spatial`` wheel."""
    try:
        import duckdb_extension_spatial
    except ImportError as exc:  # pragma: no cover - the dependency is pinned
        raise TwinError(
            "the DuckDB spatial extension is not installed",
            f"pip install duckdb-extension-spatial=={ENGINE_VERSION}",
        ) from exc
    root = Path(duckdb_extension_spatial.__file__).parent
    found = sorted(root.glob(f"**/v{ENGINE_VERSION}/**/spatial.duckdb_extension"))
    if not found:
        raise TwinError(
            f"no spatial extension for DuckDB {ENGINE_VERSION} in {root}",
            f"pip install duckdb-extension-spatial=={ENGINE_VERSION} (it must match duckdb exactly)",
        )
    return found[0]


@dataclass(frozen=True)
class FileHeader:
    """What the first bytes of a file say about it."""

    is_duckdb: bool
    storage_version: int | None
    library_version: str | None
    """DuckDB version that created the file, e.g. ``"1.5.5"`` (None when the header does not say)."""


def read_header(path: Path) -> FileHeader:
    """Read the DuckDB header of ``path`` without opening it as a database (so nothing is modified)."""
    with path.open("rb") as fh:
        head = fh.read(_LIBRARY_OFFSET + _LIBRARY_LEN)
    if len(head) < _VERSION_OFFSET + 8 or head[_MAGIC_OFFSET:_VERSION_OFFSET] != DUCKDB_MAGIC:
        return FileHeader(False, None, None)
    storage = int.from_bytes(head[_VERSION_OFFSET : _VERSION_OFFSET + 8], "little")
    raw = head[_LIBRARY_OFFSET : _LIBRARY_OFFSET + _LIBRARY_LEN].split(b"\0", 1)[0]
    library = raw.decode("ascii", "replace").lstrip("v") or None
    return FileHeader(True, storage, library)


def same_release_line(a: str, b: str) -> bool:
    """True when two DuckDB versions share major and minor (patch releases keep the storage format)."""
    return a.split(".")[:2] == b.split(".")[:2]


def connect(database: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``database`` with the spatial extension loaded from the local wheel.

    DuckDB's own errors about locks and storage versions are turned into :class:`TwinError` subclasses with a
    message a person can act on.
    """
    try:
        con = duckdb.connect(database, read_only=read_only, config=dict(_CONFIG))
    except duckdb.IOException as exc:
        raise _translate_io_error(database, exc) from exc
    except duckdb.SerializationException as exc:
        raise _version_error(database, str(exc)) from exc
    except duckdb.Error as exc:
        text = str(exc)
        if "version" in text.lower():
            raise _version_error(database, text) from exc
        if "not a valid DuckDB database file" in text:
            raise NotATwinError(
                f"{database} is not a DuckDB file", "give the path of a twin made with `twin init`"
            ) from exc
        raise
    try:
        con.execute(f"LOAD '{spatial_extension_path()}'")
    except Exception:
        con.close()
        raise
    return con


def _translate_io_error(database: str, exc: duckdb.IOException) -> TwinError:
    text = str(exc)
    match = _LOCK_RE.search(text)
    if match:
        pid = int(match["pid"])
        return TwinLockedError(
            f"{database} is in use by another process (PID {pid}, {Path(match['proc']).name})",
            "a twin file has one owner at a time: stop that process, or start `twin serve` so that "
            "commands are sent to it",
            pid=pid,
        )
    if "not a valid DuckDB database file" in text:
        return NotATwinError(f"{database} is not a DuckDB file", "give the path of a twin made with `twin init`")
    if "version" in text.lower():
        return _version_error(database, text)
    return TwinError(f"cannot open {database}: {text}", "check the path and its permissions")


def _version_error(database: str, text: str) -> EngineMismatchError:
    first = text.strip().splitlines()[0] if text.strip() else text
    return EngineMismatchError(
        f"{database} was written by a DuckDB version that {ENGINE_VERSION} cannot read ({first})",
        "open it with the DuckDB version that wrote it and export it, or rebuild the twin from its sources",
    )
