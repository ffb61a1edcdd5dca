"""The command line: init, info, sql, serve; one clear error line plus a hint for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import HOLD_TWIN, python_process, wait_for
from twin import Twin
from twin.cli import cli
from twin.server import find_owner, owner_file


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def assert_clear_error(result: Result, *fragments: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("Error: ") and lines[1].startswith("Hint: ")
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_init_creates_a_twin_in_lambert_93_and_info_describes_it(tmp_path: Path) -> None:
    path = tmp_path / "town.duckdb"
    created = run("--twin", str(path), "init")
    assert created.exit_code == 0, created.output
    assert "EPSG:2154" in created.output and "Lambert-93" in created.output
    info = run("--twin", str(path), "info", "--format", "json")
    data = json.loads(info.output)
    assert data["crs"] == "EPSG:2154"
    assert data["schema_version"] >= 1
    assert data["counts"]["buildings"] == 0 and data["counts"]["scenarios"] == 1
    pretty = run("--twin", str(path), "info")
    assert "schema version" in pretty.output and "buildings" in pretty.output and "No imports yet" in pretty.output


def test_init_takes_a_path_argument_and_the_twin_path_from_the_environment(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "a.duckdb"), "--crs", "EPSG:32631").exit_code == 0
    env = {"TWIN_PATH": str(tmp_path / "a.duckdb")}
    assert json.loads(run("info", "--format", "json", env=env).output)["crs"] == "EPSG:32631"


def test_init_on_an_existing_twin_changes_nothing_and_refuses_another_crs(twin_path: Path) -> None:
    with Twin(twin_path) as opened:
        before = opened.table_checksums()
    again = run("init", str(twin_path))
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert_clear_error(run("init", str(twin_path), "--crs", "EPSG:3857"), "cannot change to EPSG:3857")
    with Twin(twin_path) as opened:
        assert opened.table_checksums() == before


def test_sql_prints_a_table_csv_or_json(twin_path: Path) -> None:
    query = "SELECT scenario_id, name FROM scenarios"
    assert "baseline" in run("--twin", str(twin_path), "sql", query).output
    assert run("--twin", str(twin_path), "sql", query, "--format", "csv").output.splitlines() == [
        '"scenario_id","name"',
        '0,"baseline"',
    ]
    assert json.loads(run("--twin", str(twin_path), "sql", query, "--format", "json").output) == [
        {"scenario_id": 0, "name": "baseline"}
    ]


def test_sql_refuses_a_statement_that_writes(twin_path: Path) -> None:
    assert_clear_error(run("--twin", str(twin_path), "sql", "DELETE FROM scenarios"), "only reads", "DELETE")
    with Twin(twin_path) as opened:
        assert opened.query("SELECT count(*) FROM scenarios").column(0).to_pylist() == [1]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--twin", "{tmp}/missing.duckdb", "info"], ["does not exist", "twin init"]),
        (["--twin", "{tmp}/notes.txt", "info"], ["is not a DuckDB file"]),
        (["init", "{tmp}/x.duckdb", "--crs", "EPSG:99999"], ["unknown CRS code 'EPSG:99999'"]),
        (["init", "{tmp}/x.duckdb", "--crs", "EPSG:4326"], ["not projected"]),
        (["init", "{tmp}/no/such/folder/x.duckdb"], ["does not exist"]),
        (["--twin", "{tmp}/twin.duckdb", "sql", "SELEC 1"], ["syntax error"]),
    ],
)
def test_bad_input_gives_one_error_line_and_a_hint_and_creates_nothing(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not a twin\n")
    Twin(tmp_path / "twin.duckdb").close()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_clear_error(run(*[a.format(tmp=tmp_path) for a in args]), *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "notes.txt").read_text() == "not a twin\n"


def test_every_command_has_help_text() -> None:
    for command in ["init", "info", "sql", "serve"]:
        result = run(command, "--help")
        assert result.exit_code == 0
        assert len(result.output.split("\n\n")[1].strip()) > 20


def test_the_cli_explains_a_file_held_by_another_process(twin_path: Path) -> None:
    with python_process(HOLD_TWIN, str(twin_path)) as holder:
        result = run("--twin", str(twin_path), "info")
        assert_clear_error(result, f"PID {holder.pid}", "in use by another process")
        assert "Could not set lock" not in result.stderr


@contextmanager
def serving(path: Path) -> Iterator[subprocess.Popen[str]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "twin", "--twin", str(path), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: find_owner(path) is not None or server.poll() is not None, what="twin serve")
        assert server.poll() is None, server.communicate()[1]
        yield server
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, timeout=60)


def test_commands_are_sent_to_a_running_twin_serve(twin_path: Path) -> None:
    with serving(twin_path) as server:
        owner = find_owner(twin_path)
        assert owner is not None and owner.pid == server.pid and owner.host == "127.0.0.1"
        assert oct(os.stat(owner_file(twin_path)).st_mode & 0o777) == "0o600"
        info = _cli("--twin", str(twin_path), "info", "--format", "json")
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["crs"] == "EPSG:2154"
        query = _cli("--twin", str(twin_path), "sql", "SELECT name FROM scenarios", "--format", "csv")
        assert query.returncode == 0 and query.stdout.splitlines() == ['"name"', '"baseline"']
        refused = _cli("--twin", str(twin_path), "sql", "DROP TABLE buildings")
        assert refused.returncode == 1
        assert refused.stderr.startswith("Error: `twin sql` only reads") and "Traceback" not in refused.stderr
        second = _cli("--twin", str(twin_path), "serve")
        assert second.returncode == 1 and f"already served by PID {server.pid}" in second.stderr
        init = _cli("init", str(twin_path))
        assert init.returncode == 0 and "nothing to do" in init.stdout
    assert not owner_file(twin_path).exists()
    with Twin(twin_path) as opened:
        assert "buildings" in opened.tables()


def test_the_local_api_refuses_a_request_without_the_token(twin_path: Path) -> None:
    import urllib.error
    import urllib.request

    with serving(twin_path):
        owner = find_owner(twin_path)
        assert owner is not None
        request = urllib.request.Request(
            f"{owner.url}/api/run",
            data=b'{"command": "info"}',
            method="POST",
            headers={"X-Twin-Token": "wrong"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 401
        caught.value.close()


def test_a_stale_owner_file_is_ignored(twin_path: Path) -> None:
    owner_file(twin_path).write_text(
        json.dumps({"pid": 2**22 + 12345, "host": "127.0.0.1", "port": 9, "token": "x", "path": str(twin_path)})
    )
    assert find_owner(twin_path) is None
    assert run("--twin", str(twin_path), "info").exit_code == 0
