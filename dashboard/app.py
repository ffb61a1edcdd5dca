"""The Dash application: a shell (navigation, who is logged in), one module per page, and the login.

Built by :func:`create_app` around a :class:`~twin.store.Twin` the calling process owns (``twin serve``). Every
asset (Dash, React, plotly.js) is served from the installed packages: the dashboard works with no internet.
"""

from __future__ import annotations

import html as html_text
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dash
import flask
from dash import Input, Output, dcc, html

from dashboard.auth import UsersFile, secret_for
from dashboard.context import AppContext
from dashboard.pages import building, district, operations, scenarios
from twin.store import Twin

__all__ = ["PAGES", "create_app"]

PAGES = (district, building, operations, scenarios)
"""The page modules, in menu order. Each has ``PATH``, ``TITLE``, ``layout(ctx, **params)`` and
``register(app, ctx)``."""
_ASSETS = Path(__file__).parent / "assets"
_OPEN_PATHS = ("/login", "/logout", "/favicon.ico")


def create_app(twin: Twin, *, users: UsersFile | None, secret: str | None = None) -> dash.Dash:
    """The dashboard of ``twin``. ``users`` None disables login (loopback only, see ``twin serve --no-auth``)."""
    ctx = AppContext(twin, users)
    server = flask.Flask("twin-dashboard")
    server.secret_key = secret or secret_for(twin.path)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app = dash.Dash(
        "twin-dashboard",
        server=server,  # type: ignore[arg-type]
        serve_locally=True,
        assets_folder=str(_ASSETS),
        title="twin",
        update_title=None,  # type: ignore[arg-type]
        suppress_callback_exceptions=True,
        external_stylesheets=[],
        external_scripts=[],
    )
    app.layout = _shell
    if users is not None:
        _install_login(server, users)

    @app.callback(
        Output("shell-page", "children"),
        Output("shell-user", "children"),
        Input("shell-url", "pathname"),
        Input("shell-url", "search"),
    )
    def route(pathname: str | None, search: str | None) -> tuple[Any, Any]:
        user = ctx.user()
        who = (
            [
                html.Span(f"{user.name} · {user.role}", className="user"),
                html.A("log out", href="/logout", className="logout"),
            ]
            if user and users is not None
            else []
        )
        params = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
        path = pathname or "/"
        match = re.fullmatch(r"/building/(.+)", path)
        if match:
            return building.layout(ctx, building_id=dash_unquote(match.group(1)), **params), who
        for page in PAGES:
            if path == page.PATH:
                return page.layout(ctx, **params), who
        return html.Div(
            [html.H2("No such page"), dcc.Link("Back to the district", href="/")], className="empty"
        ), who

    for page in PAGES:
        page.register(app, ctx)
    return app


def dash_unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


def _shell() -> html.Div:
    return html.Div(
        [
            dcc.Location(id="shell-url"),
            html.Header(
                [
                    html.Span("twin", className="brand"),
                    html.Nav([dcc.Link(p.TITLE, href=p.MENU_PATH, className="nav-link") for p in PAGES]),
                    html.Div(id="shell-user", className="shell-user"),
                ],
                className="shell-header",
            ),
            html.Main(id="shell-page", className="shell-page"),
        ]
    )


_LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>twin: log in</title>
<style>body{{font-family:system-ui,sans-serif;background:#eef1f4;display:flex;align-items:center;justify-content:center;
height:100vh;margin:0}}form{{background:#fff;padding:2em 2.5em;border-radius:8px;box-shadow:0 2px 12px #0002;
min-width:18em}}h1{{margin:0 0 .8em;font-size:1.4em}}label{{display:block;margin:.6em 0 .2em}}
input{{width:100%;padding:.5em;box-sizing:border-box}}button{{margin-top:1.2em;width:100%;padding:.6em;
background:#2c6fbb;color:#fff;border:0;border-radius:4px;font-size:1em}}.err{{color:#b00020}}</style></head>
<body><form method="post" action="/login"><h1>twin</h1>{error}
<input type="hidden" name="next" value="{next}">
<label for="username">User</label><input id="username" name="username" autocomplete="username" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password"
 autocomplete="current-password"><button type="submit" id="login-submit">Log in</button></form></body></html>"""


def _safe_next(target: str | None) -> str:
    parsed = urlparse(target or "/")
    if parsed.scheme or parsed.netloc or not (target or "/").startswith("/"):
        return "/"
    return target or "/"


def _install_login(server: flask.Flask, users: UsersFile) -> None:
    @server.before_request
    def gate() -> Any:
        path = flask.request.path
        if path in _OPEN_PATHS or (flask.session.get("user") and users.role_of(str(flask.session["user"]))):
            return None
        if flask.request.method == "GET" and not path.startswith(("/_dash", "/_reload")):
            return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}")
        return flask.Response('{"error": "log in first"}', status=401, mimetype="application/json")

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = ""
        target = _safe_next(flask.request.values.get("next"))
        if flask.request.method == "POST":
            user = users.authenticate(
                flask.request.form.get("username", ""), flask.request.form.get("password", "")
            )
            if user is not None:
                flask.session.clear()
                flask.session["user"] = user.name
                return flask.redirect(target)
            error = '<p class="err">Unknown user or wrong password.</p>'
        page = _LOGIN_PAGE.format(error=error, next=html_text.escape(target))
        return flask.Response(page, status=401 if error else 200, mimetype="text/html")

    @server.route("/logout")
    def logout() -> Any:
        flask.session.clear()
        return flask.redirect("/login")
