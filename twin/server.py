"""The owner of a twin file, and the small local HTTP API through which other processes use it.

DuckDB lets one process hold a file read-write and refuses every other process. When ``twin serve`` runs it is
that process: it writes an *owner file* beside the twin (``twin.duckdb.owner.json``: pid, port, token, mode
0600) and answers on 127.0.0.1. A CLI command first looks for a live owner and, if there is one, sends it the
command by name; otherwise it opens the file itself. Either way the same command function runs on a
:class:`~twin.store.Twin`.

Protocol: ``POST /api/run`` with ``{"command": NAME, "args": {...}}`` and the header ``X-Twin-Token``. The
answer is an Arrow IPC stream for tabular results, JSON otherwise, and ``{"error", "hint"}`` with status 4xx
for a :class:`~twin.errors.TwinError`.

Public routes: other paths can be served without the token (the Open311 GeoReport endpoints citizens post
to). A :data:`PUBLIC_ROUTES` entry maps a path prefix to a :data:`Route`; command modules register theirs
(``twin/commands``), so that this module depends on none of the code that answers.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa

from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "ARROW_TYPE",
    "PUBLIC_ROUTES",
    "Command",
    "LocalApi",
    "Owner",
    "Route",
    "find_owner",
    "owner_file",
    "request_base_url",
    "run_remote",
]

ARROW_TYPE = "application/vnd.apache.arrow.stream"
Command = Callable[..., Any]
"""A command: ``fn(twin, **args)`` returning JSON-serialisable data or a ``pyarrow.Table``."""
Route = Callable[[Twin, str, str, bytes, str], tuple[int, bytes, str]]
"""A public route: ``fn(twin, method, path_with_query, body, content_type) -> (status, body, content_type)``."""
PUBLIC_ROUTES: dict[str, Route] = {}
"""Path prefix -> route answered without the token (filled by the command modules)."""


@dataclass(frozen=True)
class Owner:
    """What the owner file says about the process that holds a twin."""

    pid: int
    host: str
    port: int
    token: str
    path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def owner_file(twin_path: str | os.PathLike[str]) -> Path:
    return Path(f"{Path(twin_path).resolve()}.owner.json")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def find_owner(twin_path: str | os.PathLike[str]) -> Owner | None:
    """The live process serving ``twin_path``, or None. Stale owner files (dead pid) are ignored."""
    file = owner_file(twin_path)
    try:
        owner = Owner(**json.loads(file.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    if owner.pid == os.getpid() or not _pid_alive(owner.pid):
        return None
    return owner


def run_remote(owner: Owner, command: str, args: Mapping[str, Any], timeout_s: float = 600) -> Any:
    """Send ``command`` to the owning process; return its result (a pyarrow.Table or JSON data)."""
    body = json.dumps({"command": command, "args": dict(args)}).encode("utf-8")
    request = urllib.request.Request(
        f"{owner.url}/api/run",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Twin-Token": owner.token},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload = response.read()
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read().decode("utf-8"))
        except ValueError:
            detail = {"error": f"HTTP {exc.code}", "hint": ""}
        raise TwinError(str(detail.get("error")), str(detail.get("hint", ""))) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TwinError(
            f"{owner.path} is held by twin serve (PID {owner.pid}) but it does not answer on {owner.url}",
            "stop that process and try again",
        ) from exc
    if kind.startswith(ARROW_TYPE):
        return pa.ipc.open_stream(payload).read_all()
    return json.loads(payload.decode("utf-8"))


class LocalApi:
    """Serve ``commands`` on 127.0.0.1 for the twin this process owns, and advertise it in the owner file."""

    def __init__(
        self,
        twin: Twin,
        commands: Mapping[str, Command],
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Mapping[str, Route] | None = None,
    ) -> None:
        self.twin = twin
        self.commands = dict(commands)
        self.routes = dict(PUBLIC_ROUTES if routes is None else routes)
        self.token = secrets.token_urlsafe(32)
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.owner = Owner(
            pid=os.getpid(),
            host=host,
            port=int(self._httpd.server_address[1]),
            token=self.token,
            path=str(Path(twin.path).resolve()),
        )

    def start(self) -> LocalApi:
        file = owner_file(self.twin.path)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self.owner), fh)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="twin-local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        file = owner_file(self.twin.path)
        try:
            if json.loads(file.read_text(encoding="utf-8")).get("pid") == os.getpid():
                file.unlink()
        except (FileNotFoundError, ValueError):
            pass


_MAX_PUBLIC_BODY = 1_000_000  # bytes: a citizen's request is a few hundred
_request = threading.local()


def request_base_url() -> str:
    """The scheme, host and port the current public request was sent to (for absolute links in answers)."""
    return str(getattr(_request, "base_url", ""))


def _handler_for(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "twin-local-api"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the CLI prints what matters

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, hint: str = "") -> None:
            self._send(status, json.dumps({"error": message, "hint": hint}).encode(), "application/json")

        def _route(self, method: str) -> bool:
            """Answer from a public route when the path is one of theirs; True when answered."""
            for prefix, route in api.routes.items():
                if self.path.startswith(prefix):
                    body = b""
                    if method == "POST":
                        try:
                            length = int(self.headers.get("Content-Length", "0"))
                        except ValueError:
                            length = 0
                        if length > _MAX_PUBLIC_BODY:
                            self._error(413, "request body too large", f"at most {_MAX_PUBLIC_BODY} bytes")
                            return True
                        body = self.rfile.read(length)
                    host = self.headers.get("Host") or f"{api.owner.host}:{api.owner.port}"
                    _request.base_url = f"http://{host}"
                    try:
                        status, payload, kind = route(
                            api.twin, method, self.path, body, self.headers.get("Content-Type", "")
                        )
                    except Exception as exc:  # a bug: one line, never a stack trace
                        self._error(500, f"{prefix} failed: {type(exc).__name__}: {exc}", "report this as a bug")
                        return True
                    self._send(status, payload, kind)
                    return True
            return False

        def do_GET(self) -> None:
            if self._route("GET"):
                return
            if self.path != "/api/health":
                self._error(404, f"no such endpoint {self.path}", "POST /api/run")
                return
            self._send(
                200, json.dumps({"path": api.owner.path, "pid": api.owner.pid}).encode(), "application/json"
            )

        def do_POST(self) -> None:
            if self.path != "/api/run" and self._route("POST"):
                return
            if self.path != "/api/run":
                self._error(404, f"no such endpoint {self.path}", "POST /api/run")
                return
            if not secrets.compare_digest(self.headers.get("X-Twin-Token", ""), api.token):
                self._error(401, "missing or wrong token", "read it from the owner file beside the twin")
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length).decode("utf-8"))
                name = str(request["command"])
                args = dict(request.get("args") or {})
            except (ValueError, KeyError, TypeError):
                self._error(400, "malformed request", 'send {"command": NAME, "args": {...}}')
                return
            command = api.commands.get(name)
            if command is None:
                self._error(404, f"unknown command '{name}'", f"known: {', '.join(sorted(api.commands))}")
                return
            try:
                result = command(api.twin, **args)
            except TwinError as exc:
                self._error(400, exc.message, exc.hint)
                return
            except Exception as exc:  # a bug: answer with one line, never a stack trace
                self._error(500, f"{name} failed: {type(exc).__name__}: {exc}", "report this as a bug")
                return
            if isinstance(result, pa.Table):
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, result.schema) as writer:
                    writer.write_table(result)
                self._send(200, sink.getvalue().to_pybytes(), ARROW_TYPE)
            else:
                self._send(200, json.dumps(result, default=str).encode("utf-8"), "application/json")

    return Handler
