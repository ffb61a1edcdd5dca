"""The store: creating, reopening, migrating, the write path, the CRS, threads and other processes."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import HOLD_TWIN, python_process
from twin import CrsError, MigrationError, ReadOnlyError, Twin, TwinError, TwinLockedError
from twin import schema as twin_schema
from twin.schema import Migration, available_migrations

CORE_TABLES = {
    "metadata",
    "schema_migrations",
    "imports",
    "buildings",
    "storeys",
    "spaces",
    "elements",
    "networks",
    "network_nodes",
    "network_links",
    "service_connections",
    "sensors",
    "readings",
    "alerts",
    "reports",
    "scenarios",
    "scenario_results",
}


def test_a_new_twin_has_every_core_table_and_records_its_migrations(twin: Twin) -> None:
    assert set(twin.tables()) >= CORE_TABLES
    recorded = twin.query("SELECT version, name, sha256 FROM schema_migrations ORDER BY version").to_pylist()
    shipped = available_migrations()
    assert [(r["version"], r["name"], r["sha256"]) for r in recorded] == [
        (m.version, m.name, m.sha256) for m in shipped
    ]
    assert twin.schema_version() == len(shipped)


def test_the_core_schema_carries_units_in_names_and_comments(twin: Twin) -> None:
    columns = twin.query(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main'"
    ).to_pylist()
    names = {(c["table_name"], c["column_name"]) for c in columns}
    for expected in [
        ("buildings", "footprint_area_m2"),
        ("buildings", "height_m"),
        ("storeys", "free_height_m"),
        ("elements", "u_value_w_m2k"),
        ("network_links", "diameter_mm"),
        ("service_connections", "distance_m"),
        ("readings", "time_utc"),
        ("sensors", "unit_ucum"),
    ]:
        assert expected in names
    comments = {
        c["table_name"]
        for c in twin.query("SELECT table_name FROM duckdb_tables() WHERE comment IS NOT NULL").to_pylist()
    }
    assert CORE_TABLES - {"schema_migrations"} <= comments
    footprint_type = (
        twin.query(
            "SELECT data_type FROM duckdb_columns() WHERE table_name = 'buildings' AND column_name = 'footprint'"
        )
        .column(0)
        .to_pylist()
    )
    assert footprint_type == ["GEOMETRY"]
    rtrees = twin.query("SELECT index_name FROM duckdb_indexes() WHERE sql ILIKE '%USING RTREE%'").column(0)
    assert "buildings_footprint_rtree" in rtrees.to_pylist()


def test_the_baseline_scenario_exists_with_id_zero(twin: Twin) -> None:
    assert twin.query("SELECT scenario_id, name FROM scenarios").to_pylist() == [
        {"scenario_id": 0, "name": "baseline"}
    ]


def test_reopening_a_twin_applies_no_migration_and_keeps_its_data(twin_path: Path) -> None:
    with Twin(twin_path) as first:
        first.append("sensors", {"sensor_id": ["t1"], "kind": ["temperature"], "unit_ucum": ["Cel"]})
        before = first.table_checksums()
    with Twin(twin_path) as again:
        assert again.applied_on_open == []
        assert again.table_checksums() == before


def test_a_new_migration_is_applied_once_when_the_twin_is_reopened(
    twin_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = Migration(len(available_migrations()) + 1, "test_extra", "CREATE TABLE test_extra (x_m DOUBLE);")
    shipped = available_migrations()
    monkeypatch.setattr(twin_schema, "available_migrations", lambda: [*shipped, extra])
    with Twin(twin_path) as opened:
        assert opened.applied_on_open == [f"{extra.version:04d}_test_extra"]
        assert "test_extra" in opened.tables()
    with Twin(twin_path) as reopened:
        assert reopened.applied_on_open == []
        assert reopened.schema_version() == extra.version


def test_an_applied_migration_that_was_edited_is_refused(twin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, *rest = available_migrations()
    edited = Migration(first.version, first.name, first.sql + "\n-- edited")
    monkeypatch.setattr(twin_schema, "available_migrations", lambda: [edited, *rest])
    with pytest.raises(MigrationError, match="applied from a different text"):
        Twin(twin_path)


def test_a_twin_from_a_newer_schema_is_refused(twin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = available_migrations()
    monkeypatch.setattr(twin_schema, "available_migrations", lambda: shipped[:-1] if len(shipped) > 1 else [])
    with pytest.raises(MigrationError, match="newer than this twin knows"):
        Twin(twin_path)


def test_a_failing_write_leaves_every_table_as_it_was(twin: Twin) -> None:
    twin.append("sensors", {"sensor_id": ["t1"], "kind": ["temperature"], "unit_ucum": ["Cel"]})
    before = twin.table_checksums()
    with pytest.raises(RuntimeError, match="midway"), twin.write() as cur:
        cur.execute("INSERT INTO buildings (building_id, source, height_m) VALUES ('b1', 'gis', 12.0)")
        cur.execute("DELETE FROM sensors")
        cur.execute("UPDATE scenarios SET description = 'changed'")
        raise RuntimeError("midway")
    assert twin.table_checksums() == before


def test_a_constraint_violation_rolls_back_the_whole_write(twin: Twin) -> None:
    before = twin.table_checksums()
    with pytest.raises(Exception, match="CHECK constraint"), twin.write() as cur:
        cur.execute("INSERT INTO buildings (building_id, source) VALUES ('ok', 'gis')")
        cur.execute("INSERT INTO buildings (building_id, source, height_m) VALUES ('bad', 'gis', -3)")
    assert twin.table_checksums() == before


def test_a_write_inside_a_write_joins_the_outer_transaction(twin: Twin) -> None:
    before = twin.table_checksums()
    with pytest.raises(ValueError), twin.write() as outer:
        outer.execute("INSERT INTO buildings (building_id, source) VALUES ('a', 'gis')")
        twin.append("sensors", {"sensor_id": ["s"], "kind": ["co2"], "unit_ucum": ["[ppm]"]})
        raise ValueError("undo both")
    assert twin.table_checksums() == before


def test_append_matches_columns_by_name_and_refuses_unknown_tables(twin: Twin) -> None:
    rows = pa.table(
        {"value": [1.5, 2.5], "sensor_id": ["a", "b"], "time_utc": pa.array([0, 1], pa.timestamp("us"))}
    )
    assert twin.append("readings", rows) == 2
    assert twin.query("SELECT sum(value) AS s FROM readings").column("s").to_pylist() == [4.0]
    with pytest.raises(TwinError, match="no table 'nope'"):
        twin.append("nope", rows)


def test_the_crs_is_lambert_93_by_default_and_cannot_change(twin_path: Path) -> None:
    with Twin(twin_path) as opened:
        assert opened.crs == "EPSG:2154"
        with pytest.raises(CrsError, match="fixed when the twin is created"):
            opened.set_metadata("crs", "EPSG:3857")
    with pytest.raises(CrsError, match="cannot change to EPSG:3857"):
        Twin(twin_path, crs="EPSG:3857")
    with Twin(twin_path, crs="epsg:2154") as same:
        assert same.crs == "EPSG:2154"
    with Twin(twin_path) as after:
        assert after.metadata()["crs"] == "EPSG:2154"


def test_a_twin_can_be_created_in_another_projected_crs(tmp_path: Path) -> None:
    with Twin(tmp_path / "utm.duckdb", crs="32631") as utm:
        assert utm.crs == "EPSG:32631"


@pytest.mark.parametrize(
    ("code", "message"),
    [("EPSG:99999", "unknown CRS code"), ("not-a-crs", "unknown CRS code"), ("EPSG:4326", "not projected")],
)
def test_an_unusable_crs_is_refused_and_creates_nothing(tmp_path: Path, code: str, message: str) -> None:
    with pytest.raises(CrsError, match=message):
        Twin(tmp_path / "new.duckdb", crs=code)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_twin_refuses_writes(twin_path: Path) -> None:
    with Twin(twin_path, read_only=True) as ro:
        assert ro.tables()
        with pytest.raises(ReadOnlyError), ro.write():
            pass


def test_many_threads_read_while_one_writes(twin: Twin) -> None:
    batch, batches, readers = 1_000, 40, 4
    seen: list[list[int]] = [[] for _ in range(readers)]
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for b in range(batches):
                twin.append(
                    "readings",
                    {
                        "sensor_id": [f"s{b}"] * batch,
                        "time_utc": pa.array(range(b * batch, (b + 1) * batch), pa.timestamp("s")),
                        "value": [float(b)] * batch,
                    },
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def read(slot: int) -> None:
        try:
            while not done.is_set() or len(seen[slot]) < 3:
                with twin.read() as cur:
                    row = cur.execute("SELECT count(*), count(DISTINCT sensor_id) FROM readings").fetchone()
                assert row is not None
                count, sensors = row
                assert count == sensors * batch, "a reader saw half a batch"
                seen[slot].append(count)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
    threads.append(threading.Thread(target=write))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for counts in seen:
        assert counts == sorted(counts), "a reader went back in time"
    assert twin.query("SELECT count(*) FROM readings").column(0).to_pylist() == [batch * batches]


def test_a_second_process_gets_a_clear_message_while_another_holds_the_file(twin_path: Path) -> None:
    with python_process(HOLD_TWIN, str(twin_path)) as holder:
        for read_only in (False, True):
            with pytest.raises(TwinLockedError) as caught:
                Twin(twin_path, read_only=read_only)
            assert caught.value.pid == holder.pid
            assert f"in use by another process (PID {holder.pid}" in caught.value.message
            assert "Could not set lock" not in caught.value.message
            assert "twin serve" in caught.value.hint
    with Twin(twin_path) as free_again:
        assert free_again.tables()
