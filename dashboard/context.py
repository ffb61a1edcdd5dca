"""What every page's callbacks share: the served twin, the users, and a cache of the district scene."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from dashboard.auth import PermissionDenied, User, UsersFile, allowed
from twin.store import Twin

__all__ = ["AppContext"]


@dataclass
class AppContext:
    """The twin (read through its cursors, written through ``twin.write()``) and the users file (None: no login,
    only for a twin served on the loopback interface with ``--no-auth``)."""

    twin: Twin
    users: UsersFile | None
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def user(self) -> User | None:
        """The user of the current request (from the signed session cookie), with the role the file gives now."""
        if self.users is None:
            return User("local", "planner")
        import flask

        name = flask.session.get("user")
        if not name:
            return None
        role = self.users.role_of(str(name))
        return User(str(name), role) if role else None

    def require(self, action: str) -> User:
        """The current user if their role may perform ``action``; else :class:`PermissionDenied` (server side)."""
        user = self.user()
        if user is None or not allowed(user.role, action):
            who = f"{user.name} ({user.role})" if user else "nobody logged in"
            raise PermissionDenied(
                f"refused: {who} may not {action.replace('_', ' ')}",
                f"this needs the role {' or '.join(sorted(_roles(action)))}",
            )
        return user

    def data_version(self) -> tuple[object, ...]:
        """Changes when buildings or meshes change (a new import): the key of the cached scene."""
        row = self.twin.query(
            "SELECT (SELECT count(*) FROM buildings) AS b, (SELECT max(import_id) FROM imports) AS i, "
            "(SELECT count(*) FROM element_meshes) AS m"
        ).to_pylist()[0]
        return (row["b"], row["i"], row["m"])

    def cached(self, key: str, version: tuple[object, ...], build: Any) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
        value = build()
        with self._lock:
            self._cache[key] = (version, value)
        return value


def _roles(action: str) -> frozenset[str]:
    from dashboard.auth import PERMISSIONS

    return PERMISSIONS.get(action, frozenset())
