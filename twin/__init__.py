"""twin: the store of the municipal digital twin (one DuckDB file), its schema and migrations, and the CLI."""

from twin.errors import (
    CrsError,
    EngineMismatchError,
    MigrationError,
    NotATwinError,
    ReadOnlyError,
    TwinError,
    TwinLockedError,
)
from twin.store import DEFAULT_CRS, DEFAULT_PATH, MEMORY, Twin, TwinInfo

__all__ = [
    "DEFAULT_CRS",
    "DEFAULT_PATH",
    "MEMORY",
    "CrsError",
    "EngineMismatchError",
    "MigrationError",
    "NotATwinError",
    "ReadOnlyError",
    "Twin",
    "TwinError",
    "TwinInfo",
    "TwinLockedError",
]
