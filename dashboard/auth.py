"""Who may do what on the dashboard: users with hashed passwords, three roles, and a check on the server.

Users live in a JSON file beside the twin (``twin.duckdb.users.json``, mode 0600): name, role, and a salted
scrypt hash of the password (never the password). Sessions are Flask's signed cookie, signed with a secret
generated once per twin (``twin.duckdb.secret``, mode 0600), so that a restart keeps people logged in and two
twins never accept each other's cookies.

Every callback that changes the twin calls :func:`require` with the name of its action: the check runs on the
server, whatever the page shows. Roles (issue 10): operators acknowledge alerts; planners edit scenarios;
architects read everything and change nothing operational;
planners and architects (re)assess a building's reversibility from its page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from twin.errors import TwinError

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "PermissionDenied",
    "User",
    "UsersFile",
    "allowed",
    "hash_password",
    "secret_for",
    "users_file_for",
    "verify_password",
]

ROLES = ("planner", "architect", "operator")
PERMISSIONS: dict[str, frozenset[str]] = {
    "acknowledge_alert": frozenset({"operator"}),
    "assess_building": frozenset({"planner", "architect"}),
    "edit_scenario": frozenset({"planner"}),
    "run_scenario": frozenset({"planner"}),
}
"""Action -> the roles allowed to perform it. Reading is open to every logged-in role."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class PermissionDenied(TwinError):
    """A role asked for an action it does not have."""


@dataclass(frozen=True)
class User:
    name: str
    role: str


def allowed(role: str | None, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (unknown actions are refused).

    >>> allowed("operator", "acknowledge_alert"), allowed("architect", "acknowledge_alert")
    (True, False)
    >>> allowed("operator", "edit_scenario"), allowed("planner", "edit_scenario")
    (False, True)
    """
    return role is not None and role in PERMISSIONS.get(action, frozenset())


def hash_password(password: str, salt: bytes | None = None) -> dict[str, object]:
    """A salted scrypt hash record (RFC 7914; N=2^14, r=8, p=1) of ``password``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return {"scheme": "scrypt", "salt": salt.hex(), "hash": digest.hex(), **_SCRYPT}


def verify_password(password: str, record: dict[str, object]) -> bool:
    """Constant-time check of ``password`` against a record of :func:`hash_password`.

    >>> rec = hash_password("correct horse")
    >>> verify_password("correct horse", rec), verify_password("wrong", rec)
    (True, False)
    """
    if record.get("scheme") != "scrypt":
        return False
    params = {k: int(record[k]) for k in ("n", "r", "p", "dklen")}  # type: ignore[call-overload]
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(str(record["salt"])), **params)
    return hmac.compare_digest(digest.hex(), str(record["hash"]))


def users_file_for(twin_path: str | os.PathLike[str]) -> Path:
    return Path(f"{Path(twin_path).resolve()}.users.json")


def _write_private(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(scratch, path)


def secret_for(twin_path: str | os.PathLike[str]) -> str:
    """The session-signing secret of this twin, created (random, 0600) on first use."""
    path = Path(f"{Path(twin_path).resolve()}.secret")
    if not path.exists():
        _write_private(path, secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


class UsersFile:
    """The users of a twin's dashboard, read from disk at every check (adding a user needs no restart)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, dict[str, object]]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            users = data["users"]
            assert isinstance(users, dict)
            return users
        except (ValueError, KeyError, AssertionError) as exc:
            raise TwinError(f"{self.path} is not a twin users file", "recreate it with `twin users add`") from exc

    def names(self) -> list[User]:
        return [User(name, str(rec["role"])) for name, rec in sorted(self._load().items())]

    def add(self, name: str, role: str, password: str) -> None:
        """Add or replace the user ``name``."""
        if role not in ROLES:
            raise TwinError(f"unknown role '{role}'", f"choose one of {', '.join(ROLES)}")
        if not name.strip() or any(c.isspace() for c in name):
            raise TwinError(f"user name '{name}' is empty or has spaces", "use a name without spaces")
        if len(password) < 8:
            raise TwinError(f"the password of {name} is shorter than 8 characters", "choose a longer one")
        users = self._load()
        users[name] = {"role": role, "password": hash_password(password)}
        _write_private(self.path, json.dumps({"users": users}, indent=1))

    def remove(self, name: str) -> None:
        users = self._load()
        if name not in users:
            raise TwinError(f"no user '{name}' in {self.path}", "list them with `twin users list`")
        del users[name]
        _write_private(self.path, json.dumps({"users": users}, indent=1))

    def authenticate(self, name: str, password: str) -> User | None:
        record = self._load().get(name)
        if record is None:
            verify_password(password, hash_password("x" * 12))  # same time whether the user exists or not
            return None
        if not verify_password(password, dict(record["password"])):  # type: ignore[call-overload]
            return None
        return User(name, str(record["role"]))

    def role_of(self, name: str) -> str | None:
        """The role the file gives ``name`` now (a removed user loses access at the next request)."""
        record = self._load().get(name)
        return None if record is None else str(record["role"])
