"""Opening files: bad paths, foreign files and other engine versions give one clear error and change nothing."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from twin import EngineMismatchError, NotATwinError, Twin, TwinError
from twin.engine import ENGINE_VERSION, read_header


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "content", [b"", b"hello, this is a text file\n", b"PK\x03\x04" + b"\0" * 200], ids=["empty", "text", "zip"]
)
def test_a_file_that_is_not_duckdb_is_refused_and_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(content)
    with pytest.raises(NotATwinError, match="is not a DuckDB file"):
        Twin(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]


def test_a_duckdb_file_that_is_not_a_twin_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE cities (name VARCHAR)")
    con.close()
    before = _sha(path)
    with pytest.raises(NotATwinError, match="not a twin"):
        Twin(path)
    assert _sha(path) == before
    con = duckdb.connect(str(path), read_only=True)
    assert [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()] == ["cities"]
    con.close()


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotATwinError, match="is a folder"):
        Twin(tmp_path)


def test_a_missing_folder_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(TwinError, match="does not exist"):
        Twin(tmp_path / "no" / "such" / "twin.duckdb")
    assert list(tmp_path.iterdir()) == []


def test_the_header_records_the_duckdb_version_that_wrote_the_file(twin_path: Path) -> None:
    header = read_header(twin_path)
    assert header.is_duckdb
    assert header.library_version == ENGINE_VERSION
    with Twin(twin_path) as opened:
        assert opened.metadata()["engine_version"] == ENGINE_VERSION


def _patch_header(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_a_file_written_by_duckdb_2_is_refused_before_duckdb_opens_it(twin_path: Path, tmp_path: Path) -> None:
    newer = tmp_path / "from-duckdb-2.duckdb"
    shutil.copy(twin_path, newer)
    _patch_header(newer, 52, b"v2.0.0\0")
    before = _sha(newer)
    with pytest.raises(EngineMismatchError, match=r"written with DuckDB 2\.0\.0; this twin runs DuckDB 1\.5"):
        Twin(newer)
    assert _sha(newer) == before


def test_a_file_in_a_newer_storage_format_is_refused(twin_path: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer-storage.duckdb"
    shutil.copy(twin_path, newer)
    _patch_header(newer, 12, (99).to_bytes(8, "little"))
    before = _sha(newer)
    with pytest.raises(EngineMismatchError, match="storage format 99"):
        Twin(newer)
    assert _sha(newer) == before


def test_a_twin_whose_metadata_names_another_engine_line_is_refused(twin_path: Path) -> None:
    con = duckdb.connect(str(twin_path))
    con.execute("UPDATE metadata SET value = '1.4.2' WHERE key = 'engine_version'")
    con.close()
    with pytest.raises(EngineMismatchError, match=r"written with DuckDB 1\.4\.2") as caught:
        Twin(twin_path)
    assert "duckdb==1.4.2" in caught.value.hint


NO_NETWORK = """
import socket, sys
def refuse(*a, **k):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from twin import Twin
with Twin(sys.argv[1]) as t:
    with t.write() as cur:
        cur.execute("INSERT INTO buildings (building_id, source, footprint) VALUES "
                    "('b', 'gis', ST_GeomFromText('POLYGON((0 0, 10 0, 10 13, 0 13, 0 0))'))")
    area = t.query("SELECT ST_Area(footprint) AS a FROM buildings "
                   "WHERE ST_Intersects(footprint, ST_MakeEnvelope(5, 5, 6, 6))").column("a").to_pylist()
    loaded = t.query("SELECT extension_name FROM duckdb_extensions() WHERE loaded").column(0).to_pylist()
    auto = t.query("SELECT value FROM duckdb_settings() WHERE name = 'autoinstall_known_extensions'").column(0)
print(area, "spatial" in loaded, auto.to_pylist())
"""


def test_spatial_loads_and_answers_with_no_network(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, str(tmp_path / "offline.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[130.0] True ['false']"
