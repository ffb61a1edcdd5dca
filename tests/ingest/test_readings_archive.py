"""Archive of older readings to Parquet by month: nothing lost or doubled (crash between write and delete
included), and every reader of reading history still sees the archived readings through readings_all."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildings.consumption import consumption_from_twin
from buildings.utilisation import utilisation_from_twin
from ingest.readings_archive import archive_readings, parse_cutoff, refresh_readings_view
from tests.conftest import ROOT
from twin import Twin
from twin.errors import TwinError

T0 = dt.datetime(2026, 1, 1)


def fill(twin: Twin, n: int = 60_000) -> None:
    """Four sensors (two occupancy, a meter in kW.h, a temperature) over 1 January to about 20 April 2026."""
    twin.append(
        "sensors",
        {
            "sensor_id": ["occ-1", "occ-2", "meter-1", "temp-1"],
            "kind": ["occupancy", "occupancy", "electricity_meter", "temperature"],
            "unit_ucum": ["1", "1", "kW.h", "Cel"],
        },
    )
    with twin.write() as cur:
        # One reading every ~10 minutes per sensor: i-th row at T0 + i * 2.5 min.
        cur.execute(
            "INSERT INTO readings (sensor_id, time_utc, value, import_id) SELECT "
            "['occ-1', 'occ-2', 'meter-1', 'temp-1'][(i % 4) + 1], "
            "TIMESTAMP '2026-01-01' + i * INTERVAL 150 second, "
            "CASE i % 4 WHEN 0 THEN (i // 4) % 2 WHEN 1 THEN ((i // 4) % 3 = 0)::INT WHEN 2 THEN 0.25 + (i % 7) "
            "ELSE 15 + (i % 11) / 2.0 END, 1 FROM range(?) t(i)",
            [n],
        )


def fingerprint(twin: Twin, relation: str = "readings_all") -> tuple[int, int, float]:
    """Count, exact order-independent checksum and sum of a readings relation."""
    row = twin.query(
        f"SELECT count(*) AS n, sum(hash(sensor_id, time_utc, value)) AS h, sum(value) AS s FROM {relation}"
    ).to_pylist()[0]
    return int(row["n"]), int(row["h"] or 0), float(row["s"] or 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A filled twin file, made once and copied by the tests (creating a twin costs more than a copy)."""
    path = tmp_path_factory.mktemp("template") / "twin.duckdb"
    with Twin(path) as twin:
        fill(twin)
    return path


def copy_of(template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "twin.duckdb")
    return folder / "twin.duckdb"


@pytest.fixture
def filled(template: Path, tmp_path: Path) -> Iterator[Twin]:
    with Twin(copy_of(template, tmp_path)) as twin:
        yield twin


def test_archiving_moves_old_months_to_parquet_partitions_and_readings_all_still_sees_every_reading(
    filled: Twin, tmp_path: Path
) -> None:
    before = fingerprint(filled)
    hourly = filled.table_checksums()["readings_hourly"], filled.table_checksums()["sensor_latest"]
    report = archive_readings(filled, dt.datetime(2026, 3, 10))
    assert list(report.months) == ["2026-01", "2026-02", "2026-03"]
    assert fingerprint(filled) == (before[0], before[1], pytest.approx(before[2]))
    stored = filled.query("SELECT count(*) AS n, min(time_utc) AS t FROM readings").to_pylist()[0]
    assert stored["t"] >= dt.datetime(2026, 3, 10) and stored["n"] == before[0] - report.readings
    folder = tmp_path / "twin.duckdb.archive" / "readings"
    files = sorted(folder.glob("month=*/*.parquet"))
    assert [f.parent.name for f in files] == ["month=2026-01", "month=2026-02", "month=2026-03"]
    assert sum(pq.read_metadata(f).num_rows for f in files) == report.readings
    listed = filled.query("SELECT file_path, n_readings FROM readings_archive ORDER BY 1").to_pylist()
    assert [r["file_path"] for r in listed] == [f.relative_to(tmp_path).as_posix() for f in files]
    # Roll-ups and latest values are left as they were.
    assert (filled.table_checksums()["readings_hourly"], filled.table_checksums()["sensor_latest"]) == hourly
    # A second run later in the year adds a second file to March, and still nothing is lost.
    again = archive_readings(filled, dt.datetime(2026, 4, 1))
    assert list(again.months) == ["2026-03"] and len(list((folder / "month=2026-03").glob("*.parquet"))) == 2
    assert fingerprint(filled) == (before[0], before[1], pytest.approx(before[2]))


def test_an_empty_archive_and_an_archive_run_that_finds_nothing_leave_the_readings_alone(filled: Twin) -> None:
    before = fingerprint(filled)
    assert fingerprint(filled, "readings_all") == fingerprint(filled, "readings")  # no archive yet
    report = archive_readings(filled, dt.datetime(2025, 1, 1))
    assert report.readings == 0 and report.files == []
    assert fingerprint(filled) == before == fingerprint(filled, "readings")


def test_utilisation_and_consumption_are_the_same_before_and_after_archiving(filled: Twin) -> None:
    util_before = utilisation_from_twin(filled, store=False)
    cons_before, gaps_before = consumption_from_twin(filled, store=False)
    archive_readings(filled, dt.datetime(2026, 4, 1))
    util_after = utilisation_from_twin(filled, store=False)
    cons_after, gaps_after = consumption_from_twin(filled, store=False)
    assert util_after.num_rows > 0 and util_after.equals(util_before)
    cols = ["entity_id", "year", "consumption_kwh", "intervals_read", "intervals_missing"]
    after, before = cons_after.select(cols).to_pylist(), cons_before.select(cols).to_pylist()
    assert len(after) == len(before) > 0
    for new, old in zip(after, before, strict=True):  # sums over Parquet and the table: equal to rounding
        assert new["consumption_kwh"] == pytest.approx(old["consumption_kwh"])
        assert {k: v for k, v in new.items() if k != "consumption_kwh"} == {
            k: v for k, v in old.items() if k != "consumption_kwh"
        }
    assert gaps_after.num_rows == gaps_before.num_rows


CRASH = """
import datetime as dt, os, sys, time
from ingest.readings_archive import archive_readings
from twin import Twin

def hold(files):
    print("written " + " ".join(files), flush=True)
    time.sleep(120)

with Twin(sys.argv[1]) as twin:
    archive_readings(twin, dt.datetime(2026, 3, 10), after_write=hold)
"""


def test_a_kill_between_the_write_and_the_delete_loses_and_duplicates_nothing_and_a_rerun_finishes(
    template: Path, tmp_path: Path
) -> None:
    path = copy_of(template, tmp_path)
    with Twin(path) as twin:
        before = fingerprint(twin)
    child = subprocess.Popen(
        [sys.executable, "-c", CRASH, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line.startswith("written "), child.stderr.read() if child.stderr else line
        written = line.split()[1:]
        assert len(written) == 3 and all((tmp_path / f).is_file() for f in written)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate(timeout=30)
    with Twin(path) as twin:
        # The kill came before the commit: every reading is still in the table, the files are not listed.
        assert fingerprint(twin, "readings") == before == fingerprint(twin)
        assert twin.query("SELECT count(*) AS n FROM readings_archive").column("n").to_pylist() == [0]
        report = archive_readings(twin, dt.datetime(2026, 3, 10))
        assert set(written) <= set(report.leftovers_removed)
        assert not any((tmp_path / f).exists() for f in written)
        assert fingerprint(twin) == (before[0], before[1], pytest.approx(before[2]))
        dupes = twin.query(
            "SELECT count(*) AS n FROM (SELECT sensor_id, time_utc FROM readings_all GROUP BY ALL "
            "HAVING count(*) > 1)"
        )
        assert dupes.column("n").to_pylist() == [0]
        assert len(list((tmp_path / "twin.duckdb.archive").rglob("*.parquet"))) == 3


def test_a_moved_twin_reads_its_archive_from_the_new_place_once_refreshed(filled: Twin, tmp_path: Path) -> None:
    archive_readings(filled, dt.datetime(2026, 2, 1))
    before = fingerprint(filled)
    filled.close()
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("twin.duckdb", "twin.duckdb.archive"):
        os.replace(tmp_path / name, moved / name)
    with Twin(moved / "twin.duckdb") as twin:
        refresh_readings_view(twin)
        assert fingerprint(twin) == before
        (moved / "twin.duckdb.archive").rename(moved / "elsewhere")
        with pytest.raises(TwinError, match="is missing"):
            refresh_readings_view(twin)


def test_a_cut_off_is_an_age_or_a_utc_date_and_anything_else_is_refused() -> None:
    now = dt.datetime(2026, 6, 30, 12)
    assert parse_cutoff("90d", now) == now - dt.timedelta(days=90)
    assert parse_cutoff("2w", now) == now - dt.timedelta(weeks=2)
    assert parse_cutoff("2026-01-01T01:00+01:00") == dt.datetime(2026, 1, 1)
    with pytest.raises(TwinError, match="neither an age nor a date"):
        parse_cutoff("last spring")


def test_an_in_memory_twin_cannot_be_archived(memory_twin: Twin) -> None:
    with pytest.raises(TwinError, match="in-memory"):
        archive_readings(memory_twin, T0)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=3))
def test_any_sequence_of_cut_offs_keeps_the_readings_exactly(
    template: Path, tmp_path_factory: pytest.TempPathFactory, cuts: list[int]
) -> None:
    with Twin(copy_of(template, tmp_path_factory.mktemp("seq"))) as twin:
        before = fingerprint(twin)
        for days in cuts:
            archive_readings(twin, T0 + dt.timedelta(days=days))
            assert fingerprint(twin)[:2] == before[:2]
        assert twin.query(
            "SELECT count(*) AS n FROM readings WHERE time_utc < ?", [T0 + dt.timedelta(days=max(cuts))]
        ).column("n").to_pylist() == [0]


def test_twin_sensors_archive_reports_what_it_moved(template: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from twin.cli import cli

    path = copy_of(template, tmp_path)
    base = ["--twin", str(path), "sensors", "archive"]
    moved = CliRunner().invoke(cli, [*base, "--older-than", "2026-02-01"])
    assert moved.exit_code == 0, moved.stderr
    assert "Archived" in moved.stdout and "2026-01 (" in moved.stdout
    nothing = CliRunner().invoke(cli, [*base, "--older-than", "2025-06-01"])
    assert nothing.exit_code == 0 and "nothing to archive" in nothing.stdout
    bad = CliRunner().invoke(cli, [*base, "--older-than", "soon"])
    assert bad.exit_code == 1 and "neither an age nor a date" in bad.stderr
