"""A read-only OGC SensorThings API v1.1 on ``twin serve`` (``/v1.1/...``, public: no token, GET only).

Registers the route that :class:`twin.server.LocalApi` answers; the API itself is :mod:`twin.sensorthings_api`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from twin.server import PUBLIC_ROUTES, request_base_url
from twin.store import Twin

__all__ = ["register"]

_JSON = "application/json"


def _sensorthings(twin: Twin, method: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes, str]:
    from twin.sensorthings_api import handle

    if method != "GET":
        answer = {"code": 405, "type": "error", "message": "this SensorThings API is read-only: use GET"}
        return 405, json.dumps(answer).encode(), _JSON
    route, _, query = path.partition("?")
    status, answer = handle(twin, route, query, request_base_url())
    return status, json.dumps(answer, ensure_ascii=False).encode("utf-8"), _JSON


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Mount the SensorThings endpoints on every LocalApi of this process."""
    PUBLIC_ROUTES["/v1.1"] = _sensorthings
