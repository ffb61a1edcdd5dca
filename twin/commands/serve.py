"""``twin serve``: own the twin file and serve it — the dashboard, the local API for other ``twin`` commands, the
live feed (demo) and the MQTT subscriber, all threads of this one process (DuckDB admits no second process)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click

from twin.errors import TwinError
from twin.server import LocalApi, find_owner
from twin.store import Twin

__all__ = ["DashboardServer", "register", "serve_twin"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DashboardServer:
    """The Dash app of a twin on a WSGI server thread (werkzeug, threaded: one thread per request)."""

    def __init__(self, twin: Twin, host: str, port: int, *, no_auth: bool = False) -> None:
        from werkzeug.serving import make_server

        from dashboard.app import create_app
        from dashboard.auth import UsersFile, users_file_for

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        users = None if no_auth else UsersFile(users_file_for(twin.path))
        self.app = create_app(twin, users=users)
        self._server = make_server(host, port, self.app.server, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="twin-dashboard", daemon=True)

    def start(self) -> DashboardServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def _dashboard_users(path: str, host: str, no_auth: bool) -> bool:
    """Whether the dashboard can start: with users to log in, or --no-auth on the loopback interface."""
    from dashboard.auth import UsersFile, users_file_for

    if no_auth:
        if host not in _LOOPBACK:
            raise TwinError(
                f"--no-auth with --host {host} would open the twin to the network",
                "use --no-auth only on 127.0.0.1, or add users with `twin users add`",
            )
        return True
    return bool(UsersFile(users_file_for(path)).names())


def serve_twin(
    path: str,
    host: str = "127.0.0.1",
    port: int = 8050,
    api_port: int = 0,
    live_feed_s: float | None = None,
    mqtt: str | None = None,
    *,
    dashboard: bool = True,
    no_auth: bool = False,
) -> None:
    """Hold ``path`` and serve it until Ctrl+C / SIGTERM; every thread stops cleanly and the owner file goes."""
    from twin.cli import COMMANDS, out

    owner = find_owner(path)
    if owner is not None:
        raise TwinError(f"{path} is already served by PID {owner.pid} on {owner.url}", "stop that process first")
    dashboard_off = ""
    if dashboard and not _dashboard_users(path, host, no_auth):
        dashboard, dashboard_off = (
            False,
            (
                "Dashboard off: no users yet. Add one with `twin users add NAME --role planner|architect|operator`"
                " "
                "(or serve with --no-auth on 127.0.0.1)."
            ),
        )
    stop = threading.Event()
    with Twin(path, create=False) as twin:
        api = LocalApi(twin, COMMANDS, host="127.0.0.1" if host not in _LOOPBACK else host, port=api_port).start()
        feed = subscriber = web = None
        try:
            if live_feed_s:
                from ingest.demo.live import LiveFeed

                feed = LiveFeed(twin, interval_s=live_feed_s).start()
            if mqtt:
                from ingest.mqtt import DEFAULT_TOPIC, MqttSubscriber

                broker, _, mqtt_port = mqtt.partition(":")
                subscriber = MqttSubscriber(
                    twin, host=broker, port=int(mqtt_port or 1883), topic=DEFAULT_TOPIC, client_id="twin-serve"
                )
                subscriber.start()
                out.print(
                    f"Live readings from MQTT {broker}:{mqtt_port or 1883} topic {DEFAULT_TOPIC} "
                    "(acknowledged once committed).",
                    soft_wrap=True,
                )
            if dashboard:
                try:
                    web = DashboardServer(twin, host, port, no_auth=no_auth).start()
                except OSError as exc:
                    raise TwinError(
                        f"the dashboard cannot listen on {host}:{port}: {exc.strerror}",
                        "choose another --port (0: any free one)",
                    ) from exc
            previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                out.print(
                    f"Serving [bold]{path}[/]; local API on {api.owner.url} (Ctrl+C to stop).", soft_wrap=True
                )
                if web is not None:
                    note = " (no login: --no-auth)" if no_auth else ""
                    out.print(f"Dashboard on {web.url}{note}", soft_wrap=True)
                if dashboard_off:
                    out.print(dashboard_off, soft_wrap=True)
                if feed is not None:
                    out.print(f"Live feed: new readings for {len(feed._ids)} sensors every {live_feed_s:g} s.")
                stop.wait()
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
        finally:
            if web is not None:
                web.stop()
            if subscriber is not None:
                subscriber.stop()
            if feed is not None:
                feed.stop()
            api.stop()
    out.print("Stopped.")


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    @cli.command()
    @click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        help="Address of the dashboard (the local API always stays on 127.0.0.1).",
    )
    @click.option(
        "--port", type=int, default=8050, show_default=True, help="Port of the dashboard (0: any free one)."
    )
    @click.option(
        "--api-port", type=int, default=0, show_default=True, help="Port of the local API (0: any free one)."
    )
    @click.option(
        "--live-demo",
        "live_feed_s",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Feed the twin's sensors with simulated live readings every SECONDS (demo).",
    )
    @click.option(
        "--mqtt",
        metavar="HOST[:PORT]",
        help="Subscribe to an MQTT broker for live readings (topic twin/readings/#, JSON payloads).",
    )
    @click.option("--no-dashboard", is_flag=True, help="Serve the local API and live feeds only.")
    @click.option(
        "--no-auth",
        is_flag=True,
        help="No login on the dashboard (everyone is a planner): only with --host 127.0.0.1.",
    )
    @click.pass_context
    def serve(
        ctx: click.Context,
        host: str,
        port: int,
        api_port: int,
        live_feed_s: float | None,
        mqtt: str | None,
        no_dashboard: bool,
        no_auth: bool,
    ) -> None:
        """Own the twin file and serve it: the dashboard, and the local API that other `twin` commands use while
        it runs. Log in with a user of `twin users add`."""
        serve_twin(
            str(ctx.find_root().params["twin_path"]),
            host,
            port,
            api_port,
            live_feed_s,
            mqtt,
            dashboard=not no_dashboard,
            no_auth=no_auth,
        )
