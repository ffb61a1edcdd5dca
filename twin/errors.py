"""Errors a user can act on: one line saying what is wrong, one hint saying what to do."""

from __future__ import annotations

__all__ = [
    "CrsError",
    "EngineMismatchError",
    "MigrationError",
    "NotATwinError",
    "ReadOnlyError",
    "TwinError",
    "TwinLockedError",
]


class TwinError(Exception):
    """Base of every error the twin raises on purpose.

    ``str(err)`` is the one-line message; ``err.hint`` says what to do about it.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotATwinError(TwinError):
    """The path is not a DuckDB file, or a DuckDB file that is not a twin."""


class EngineMismatchError(TwinError):
    """The file was written by a DuckDB version this install cannot (or must not) open."""


class TwinLockedError(TwinError):
    """Another process holds the twin file."""

    def __init__(self, message: str, hint: str = "", pid: int | None = None) -> None:
        super().__init__(message, hint)
        self.pid = pid


class CrsError(TwinError):
    """An unknown CRS code, or an attempt to change the twin's CRS."""


class MigrationError(TwinError):
    """The schema history of the file does not match this version of twin."""


class ReadOnlyError(TwinError):
    """A statement that would write was given where only reading is allowed."""
