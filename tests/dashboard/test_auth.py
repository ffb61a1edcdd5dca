"""Login, roles and their enforcement on the server: hashed passwords, a gate on every route, and callbacks
that refuse an action to a role that does not have it whatever the page shows."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard.app import create_app
from dashboard.auth import UsersFile, allowed, secret_for, users_file_for
from twin import Twin
from twin.cli import cli

PASSWORD = "s3cret-enough"


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """One twin file for the module (creating one costs seconds on a busy machine)."""
    with Twin(tmp_path_factory.mktemp("auth") / "twin.duckdb") as opened:
        yield opened


@pytest.fixture
def users(twin: Twin) -> UsersFile:
    file = UsersFile(users_file_for(twin.path))
    for role in ("planner", "architect", "operator"):
        file.add(role, role, PASSWORD)
    return file


def test_the_users_file_holds_salted_hashes_only_and_is_private(users: UsersFile) -> None:
    text = users.path.read_text()
    assert PASSWORD not in text
    records = json.loads(text)["users"]
    assert len({r["password"]["salt"] for r in records.values()}) == 3  # one salt each
    assert len({r["password"]["hash"] for r in records.values()}) == 3  # same password, different hashes
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600
    assert users.authenticate("operator", PASSWORD).role == "operator"  # type: ignore[union-attr]
    assert users.authenticate("operator", "wrong-password") is None
    assert users.authenticate("nobody", PASSWORD) is None


def test_each_twin_gets_its_own_private_session_secret(tmp_path: Path) -> None:
    a, b = secret_for(tmp_path / "a.duckdb"), secret_for(tmp_path / "b.duckdb")
    assert a != b and len(a) == 64 and a == secret_for(tmp_path / "a.duckdb")
    assert stat.S_IMODE((tmp_path / "a.duckdb.secret").stat().st_mode) == 0o600


def test_the_roles_of_the_issue(users: UsersFile) -> None:
    assert allowed("operator", "acknowledge_alert") and not allowed("operator", "edit_scenario")
    assert allowed("planner", "edit_scenario") and not allowed("architect", "acknowledge_alert")
    assert not allowed("planner", "no_such_action")


def login(client, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": name, "password": password, "next": "/operations"})


def test_nothing_is_served_before_login_and_a_wrong_password_is_refused(twin: Twin, users: UsersFile) -> None:
    app = create_app(twin, users=users)
    client = app.server.test_client()
    page = client.get("/operations")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert login(client, "operator", "not-the-password").status_code == 401
    answer = login(client, "operator")
    assert answer.status_code == 302 and answer.headers["Location"] == "/operations"
    assert client.get("/_dash-layout").status_code == 200
    users.remove("operator")  # a removed user loses access at the next request
    assert client.get("/_dash-layout").status_code == 401


def test_a_login_never_redirects_to_another_site(twin: Twin, users: UsersFile) -> None:
    client = create_app(twin, users=users).server.test_client()
    answer = client.post("/login", data={"username": "planner", "password": PASSWORD, "next": "//evil.example/"})
    assert answer.headers["Location"] == "/"


def ack_request(app, alert_id: int) -> dict:  # type: ignore[no-untyped-def]
    """The request the browser sends when Acknowledge is clicked on alert ``alert_id``."""
    key = next(k for k in app.callback_map if "operations-ack-message" in k)
    button = {"alert": alert_id, "type": "operations-ack"}
    return {
        "output": key,
        "outputs": [
            {"id": "operations-ack-message", "property": "children"},
            {"id": "operations-version", "property": "data"},
        ],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"],
        "state": [{"id": "operations-version", "property": "data", "value": 0}],
    }


@pytest.mark.parametrize("role", ["architect", "planner"])
def test_the_server_refuses_an_acknowledgement_to_other_roles_than_operator(
    twin: Twin, users: UsersFile, role: str
) -> None:
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO alerts (sensor_id, message, opened_at) VALUES ('t1', 'too hot', ?) RETURNING alert_id",
            [dt.datetime(2026, 10, 1)],
        )
        alert_id = int(cur.fetchone()[0])  # type: ignore[index]
    status = "SELECT status, acknowledged_by FROM alerts WHERE alert_id = ?"
    app = create_app(twin, users=users)
    client = app.server.test_client()
    login(client, role)
    answer = client.post("/_dash-update-component", json=ack_request(app, alert_id))
    assert answer.status_code == 200
    assert "refused" in answer.get_data(as_text=True)
    assert twin.query(status, [alert_id]).to_pylist() == [{"status": "open", "acknowledged_by": None}]

    operator = app.server.test_client()
    login(operator, "operator")
    answer = operator.post("/_dash-update-component", json=ack_request(app, alert_id))
    assert "acknowledged by operator" in answer.get_data(as_text=True)
    assert twin.query(status, [alert_id]).to_pylist() == [
        {"status": "acknowledged", "acknowledged_by": "operator"}
    ]


def test_an_operator_may_not_edit_scenarios_on_the_server(twin: Twin, users: UsersFile) -> None:
    from dashboard.auth import PermissionDenied
    from dashboard.context import AppContext

    app = create_app(twin, users=users)
    ctx = AppContext(twin, users)
    with app.server.test_request_context("/"):
        import flask

        flask.session["user"] = "operator"
        with pytest.raises(PermissionDenied, match="operator"):
            ctx.require("edit_scenario")
        flask.session["user"] = "planner"
        assert ctx.require("edit_scenario").name == "planner"


def test_twin_users_add_asks_for_the_password_and_stores_its_hash(tmp_path: Path) -> None:
    twin_path = tmp_path / "twin.duckdb"  # managing users does not open the twin
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--twin", str(twin_path), "users", "add", "alice", "--role", "architect"],
        input="long-password\nlong-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "long-password" not in users_file_for(twin_path).read_text()
    listed = runner.invoke(cli, ["--twin", str(twin_path), "users", "list"])
    assert listed.output.split() == ["alice", "architect"]
    bad = runner.invoke(cli, ["--twin", str(twin_path), "users", "add", "bob", "--role", "mayor"], input="x\nx\n")
    assert bad.exit_code != 0 and "mayor" in bad.output
