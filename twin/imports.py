"""The imports log: every ingest path records its file, hash, counts and warnings here.

The contract every ingest function follows:

1. read and validate the whole input *before* writing anything (bad input raises a :class:`TwinError` naming the
   file, line or entity and what to do);
2. if :func:`already_imported` says the same file (same SHA-256, same kind) is in the twin, change nothing;
3. otherwise write the data and :func:`record_import` inside one ``twin.write()`` transaction, so a failure
   leaves the twin exactly as it was (the log included).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["ImportReport", "already_imported", "file_sha256", "now_utc", "record_import", "require_file"]


def now_utc() -> dt.datetime:
    """The current time in UTC as a naive TIMESTAMP (the twin stores UTC without a zone)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def require_file(path: str | os.PathLike[str], what: str) -> Path:
    """The path as a Path, or a clear error when it is missing, a folder or empty."""
    file = Path(path)
    if not file.exists():
        raise TwinError(f"{file} does not exist", f"give the path of the {what} to import")
    if file.is_dir():
        raise TwinError(f"{file} is a folder, not a {what}", f"give the path of the {what} file")
    if file.stat().st_size == 0:
        raise TwinError(f"{file} is empty", f"give a {what} that has content")
    return file


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def already_imported(twin: Twin, kind: str, sha256: str) -> int | None:
    """The id of a successful import of the same kind with the same file hash, if any."""
    table = twin.query(
        "SELECT max(import_id) AS id FROM imports WHERE kind = ? AND sha256 = ? AND status = 'ok'", [kind, sha256]
    )
    value = table.column("id")[0].as_py()
    return int(value) if value is not None else None


@dataclass
class ImportReport:
    """What an ingest did: shown by the CLI, returned by the ingest functions."""

    kind: str
    file_path: str
    sha256: str
    import_id: int | None = None
    unchanged: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def warn(self, ref: str, message: str) -> None:
        self.warnings.append({"ref": ref, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_path": self.file_path,
            "sha256": self.sha256,
            "import_id": self.import_id,
            "unchanged": self.unchanged,
            "counts": dict(self.counts),
            "warnings": list(self.warnings),
        }


def record_import(cur: duckdb.DuckDBPyConnection, report: ImportReport, started_at: dt.datetime) -> int:
    """Log a successful import inside the caller's write transaction; returns its import_id."""
    row = cur.execute(
        "INSERT INTO imports (kind, file_path, sha256, started_at, finished_at, status, counts, warnings) "
        "VALUES (?, ?, ?, ?, ?, 'ok', ?, ?) RETURNING import_id",
        [
            report.kind,
            report.file_path,
            report.sha256,
            started_at,
            now_utc(),
            json.dumps(report.counts),
            json.dumps(report.warnings, ensure_ascii=False),
        ],
    ).fetchone()
    assert row is not None
    report.import_id = int(row[0])
    return report.import_id
