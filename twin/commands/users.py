"""``twin users``: the people who may log in to the dashboard of a twin, and their roles.

The users file sits beside the twin (``TWIN.users.json``, mode 0600) and holds salted scrypt hashes, never
passwords; a running ``twin serve`` reads it at every login, so changes need no restart.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import click

from twin.errors import TwinError

__all__ = ["DEMO_USERS", "ensure_demo_users", "register"]

DEMO_USERS = (("planner", "planner"), ("architect", "architect"), ("operator", "operator"))
"""(name, role) of the users ``twin demo`` creates."""


def ensure_demo_users(twin_path: str | Path) -> dict[str, str]:
    """Create one user per role with a random password when the demo twin has no users file yet.

    Returns {name: password} of the users created (empty when the file existed: its passwords stay as they
    were, only their hashes are on disk)."""
    from dashboard.auth import UsersFile, users_file_for

    users = UsersFile(users_file_for(twin_path))
    if users.path.exists() and users.names():
        return {}
    created = {}
    for name, role in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        users.add(name, role, password)
        created[name] = password
    return created


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    from dashboard.auth import ROLES

    @cli.group()
    def users() -> None:
        """Dashboard users of the twin: planners, architects, operators."""

    def _file(ctx: click.Context) -> Any:
        from dashboard.auth import UsersFile, users_file_for

        return UsersFile(users_file_for(str(ctx.find_root().params["twin_path"])))

    @users.command("add")
    @click.argument("name")
    @click.option(
        "--role",
        type=click.Choice(ROLES),
        required=True,
        help="planner: edits and runs scenarios; architect: reads; operator: acknowledges alerts.",
    )
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Asked for when not given (prefer that: a password on the command line stays in history).",
    )
    @click.pass_context
    def add(ctx: click.Context, name: str, role: str, password: str) -> None:
        """Add the user NAME (or change their role and password)."""
        from twin.cli import out

        file = _file(ctx)
        file.add(name, role, password)
        out.print(f"User [bold]{name}[/] ({role}) saved in {file.path}.")

    @users.command("list")
    @click.pass_context
    def list_users(ctx: click.Context) -> None:
        """The users and their roles."""
        from twin.cli import out

        file = _file(ctx)
        names = file.names()
        if not names:
            raise TwinError(f"no users in {file.path}", "add one with `twin users add NAME --role planner`")
        for user in names:
            out.print(f"{user.name}\t{user.role}")

    @users.command("remove")
    @click.argument("name")
    @click.pass_context
    def remove(ctx: click.Context, name: str) -> None:
        """Remove the user NAME (their open sessions stop at their next request)."""
        from twin.cli import out

        _file(ctx).remove(name)
        out.print(f"User {name} removed.")
