"""Fixtures shared by every test: real twin files in a temporary folder, and the shared data sets."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from twin import Twin

if TYPE_CHECKING:
    from ingest.demo.generate import DemoFiles

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TWIN_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
    """Path of a shared data set; skips the test with the reason when ../shared is absent (a clone elsewhere)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} is not here (it sits beside the project root in the team's workspace)")
    return path


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo district's files for seed 42, generated once per session (read-only for the tests)."""
    from ingest.demo.generate import write_demo_files

    return write_demo_files(tmp_path_factory.getbasetemp() / "demo-seed-42", seed=42)


@pytest.fixture(scope="session")
def demo_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo district's twin (seed 42), built once per session: open it read-only, or copy it to write."""
    from ingest.demo.build import build_demo

    return build_demo(tmp_path_factory.getbasetemp() / "demo-twin-seed-42", seed=42).twin_path


@pytest.fixture
def twin_path(tmp_path: Path) -> Path:
    """Path of a fresh twin file, created."""
    path = tmp_path / "twin.duckdb"
    Twin(path).close()
    return path


@pytest.fixture
def twin(twin_path: Path) -> Iterator[Twin]:
    with Twin(twin_path) as opened:
        yield opened


@pytest.fixture
def memory_twin() -> Iterator[Twin]:
    with Twin(":memory:") as opened:
        yield opened


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


HOLD_TWIN = """
import sys, time
from twin import Twin
t = Twin(sys.argv[1])
print('ready', flush=True)
time.sleep(60)
"""
"""A child process that holds a twin file open (give it the path), as another program would."""


@contextmanager
def python_process(code: str, *args: str, ready: str = "ready") -> Iterator[subprocess.Popen[str]]:
    """Run a Python child process; wait until it prints ``ready``; kill it and close its pipes afterwards."""
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if line != ready:
            child.kill()
            _, stderr = child.communicate(timeout=30)
            raise AssertionError(f"child process did not get ready: {line!r} {stderr[-2000:]}")
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)
