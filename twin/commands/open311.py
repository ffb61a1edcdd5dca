"""Open311 GeoReport v2 on ``twin serve`` (``/open311/v2/...``, public: no token).

Registers the route that :class:`twin.server.LocalApi` answers; the request handling itself is
:mod:`ingest.open311_api`.
"""

from __future__ import annotations

from typing import Any

import click

from twin.server import PUBLIC_ROUTES
from twin.store import Twin

__all__ = ["register"]

PREFIX = "/open311/v2/"


def _open311(twin: Twin, method: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes, str]:
    from ingest.open311_api import handle

    answer = handle(twin, method, path, body, content_type)
    return answer.status, answer.body, answer.content_type


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Mount the Open311 endpoints on every LocalApi of this process."""
    PUBLIC_ROUTES[PREFIX] = _open311
