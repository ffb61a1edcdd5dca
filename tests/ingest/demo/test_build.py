"""twin demo: the demo district lands in a twin through the real ingest paths, and a failure breaks nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.demo import build as demo_build
from ingest.demo.build import build_demo
from twin import Twin, TwinError
from twin.cli import cli


@pytest.fixture(scope="module")
def demo_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = build_demo(out, seed=42)
    return result.twin_path


def test_the_demo_twin_holds_the_ifc_buildings_and_the_district_footprints(demo_twin: Path) -> None:
    with Twin(demo_twin, read_only=True) as twin:
        rows = twin.query(
            "SELECT source, count(*) AS n, count(ifc_building_id) AS linked FROM buildings GROUP BY 1 ORDER BY 1"
        ).to_pylist()
        assert rows == [{"source": "gis", "n": 567, "linked": 10}, {"source": "ifc", "n": 10, "linked": 0}]
        assert twin.crs == "EPSG:2154"
        kinds = twin.query("SELECT kind, count(*) AS n FROM imports GROUP BY 1 ORDER BY 1").to_pylist()
        assert {k["kind"]: k["n"] for k in kinds} == {
            "buildings": 1,
            "ifc": 10,
            "network": 4,
            "readings": 1,
            "reports": 1,
            "sensors": 1,
        }
        networks = twin.query("SELECT kind FROM networks ORDER BY 1").column(0).to_pylist()
        assert networks == ["lighting", "power", "road", "water"]
        assert twin.query("SELECT count(*) FROM sensors WHERE asset_id IS NULL").column(0)[0].as_py() == 0
        assert twin.query("SELECT count(*) FROM reports WHERE asset_id IS NULL").column(0)[0].as_py() == 0
        served = twin.query("SELECT count(DISTINCT building_id) FROM service_connections").column(0)[0].as_py()
        assert served >= 570, "nearly every building is connected to water and power"
        assert twin.query("SELECT count(*) FROM readings").column(0)[0].as_py() == 532_008
        assert twin.query("SELECT count(*) FROM reports").column(0)[0].as_py() == 50
        meters = (
            twin.query(
                "SELECT count(*) FROM sensors s JOIN buildings b ON s.asset_id = b.building_id "
                "WHERE s.kind LIKE '%meter'"
            )
            .column(0)[0]
            .as_py()
        )
        assert meters == 11, "every meter is attached to its IFC building"
        facts = twin.query("SELECT count(*) FROM building_facts WHERE depth_m > 0").column(0)[0].as_py()
        assert facts == 10


def test_the_demo_command_prints_what_it_built(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--no-serve", "--seed", "3"])
    assert result.exit_code == 0, result.output + result.stderr
    assert (tmp_path / "d" / "twin.duckdb").exists()
    manifest = json.loads((tmp_path / "d" / "data" / "MANIFEST.json").read_text())
    assert manifest["seed"] == 3
    # the footprint layer (IFC footprints included) plus the 10 IFC buildings themselves
    assert "Demo twin ready" in result.output
    assert f"{manifest['counts']['buildings'] + 10:,} buildings" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--size", "town"], "unknown demo size 'town'"),
        (["--out", "/proc/no/such"], "cannot create the output folder"),
    ],
)
def test_bad_demo_arguments_give_one_clear_line(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--no-serve", *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("Error: ") and fragment in lines[0] and lines[1].startswith("Hint: ")


def test_a_failed_demo_leaves_no_broken_twin_and_keeps_the_previous_one(
    demo_twin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "again"
    out.mkdir()
    previous = out / "twin.duckdb"
    previous.write_bytes(demo_twin.read_bytes())
    before = previous.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise TwinError("simulated failure in the GIS import", "none")

    import ingest.gis_buildings

    monkeypatch.setattr(ingest.gis_buildings, "ingest_buildings", broken)
    with pytest.raises(TwinError, match="simulated failure"):
        demo_build.build_demo(out, seed=42)
    assert previous.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["data", "twin.duckdb"], "no scratch file left"


def test_the_live_feed_adds_one_checked_reading_per_sensor(demo_twin: Path, tmp_path: Path) -> None:
    import datetime as dt

    from ingest.demo.live import LiveFeed

    copy = tmp_path / "live.duckdb"
    copy.write_bytes(demo_twin.read_bytes())
    with Twin(copy) as twin:
        before = twin.query("SELECT count(*) FROM readings").column(0)[0].as_py()
        now = dt.datetime(2026, 11, 16, 20, 30)  # a Monday evening in the past: lights on
        counts = LiveFeed(twin, interval_s=5.0, seed=1).step(now)
        assert counts["readings"] == 216 and counts["rejected"] == 0
        assert twin.query("SELECT count(*) FROM readings").column(0)[0].as_py() == before + 216
        latest = twin.query("SELECT min(time_utc) AS t FROM sensor_latest").column(0)[0].as_py()
        assert latest == now
        lights = (
            twin.query(
                "SELECT DISTINCT l.value FROM sensor_latest l JOIN sensors s USING (sensor_id) "
                "WHERE s.kind = 'streetlight_status'"
            )
            .column(0)
            .to_pylist()
        )
        assert lights == [1.0]
