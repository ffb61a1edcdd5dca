"""The demo's data files: deterministic, in Lambert-93, consistent with the IFC buildings, faults planted."""

from __future__ import annotations

import json
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.geolocation
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from ingest.demo import generate as demo_generate
from ingest.demo.generate import DemoFiles, write_demo_files


@pytest.fixture(scope="module")
def demo(demo_files: DemoFiles) -> DemoFiles:
    return demo_files


def test_the_same_seed_writes_byte_identical_files_and_another_seed_does_not(
    demo: DemoFiles, tmp_path: Path
) -> None:
    again = write_demo_files(tmp_path / "again", seed=42)
    first = json.loads((demo.root / "MANIFEST.json").read_text())
    second = json.loads((again.root / "MANIFEST.json").read_text())
    assert first["files"] == second["files"]
    assert {name.split("/")[0] for name in first["files"]} == {"ifc", "gis", "networks", "sensors", "reports"}
    assert sum(name.startswith("ifc/") for name in first["files"]) == 10
    other = write_demo_files(tmp_path / "other", seed=43)
    third = json.loads((other.root / "MANIFEST.json").read_text())
    assert third["files"]["gis/buildings.gpkg"] != first["files"]["gis/buildings.gpkg"]


def test_the_district_has_about_500_footprints_and_1000_lights_in_lambert_93(demo: DemoFiles) -> None:
    info = pyogrio.read_info(demo.buildings)
    assert info["crs"] == "EPSG:2154"
    assert 450 <= info["features"] <= 650
    assert {"HAUTEUR", "NB_ETAGES", "USAGE1", "NB_LOGTS", "DATE_APP", "MAT_MURS"} <= set(info["fields"])
    lights = pyogrio.read_info(demo.streetlights)
    assert lights["crs"] == "EPSG:2154" and 900 <= lights["features"] <= 1200
    for path, layers in [(demo.water, {"nodes", "pipes"}), (demo.power, {"nodes", "cables"})]:
        assert {name for name, _ in pyogrio.list_layers(path)} == layers


def test_some_heights_and_storeys_are_missing_as_in_real_bd_topo(demo: DemoFiles) -> None:
    _, table = pyogrio.read_arrow(demo.buildings)
    n = table.num_rows
    assert 0 < table.column("HAUTEUR").null_count < n * 0.15
    assert 0 < table.column("NB_ETAGES").null_count < n * 0.25


def test_ifc_footprints_in_the_gis_layer_match_their_georeferenced_ifc(demo: DemoFiles) -> None:
    meta, table = pyogrio.read_arrow(demo.buildings)
    keys = table.column("IFC_KEY").to_pylist()
    geoms = shapely.from_wkb(table.column(meta["geometry_name"]).to_numpy(zero_copy_only=False))
    by_key = {k: g for k, g in zip(keys, geoms, strict=True) if k}
    assert set(by_key) == set(demo.ifc)
    for key, path in demo.ifc.items():
        spec = demo.specs[key]
        model = ifcopenshell.open(str(path))
        corners = []
        for x, y in [(0, 0), (spec.length_m, 0), (spec.length_m, spec.depth_m), (0, spec.depth_m)]:
            local = np.eye(4)
            local[:3, 3] = (x, y, 0)
            world = ifcopenshell.util.geolocation.auto_local2global(model, local)
            corners.append((world[0, 3], world[1, 3]))
        ifc_polygon = shapely.Polygon(corners)
        assert by_key[key].symmetric_difference(ifc_polygon).area < 1e-6, key
    others = shapely.STRtree([g for k, g in zip(keys, geoms, strict=True) if not k])
    assert len(others.query(list(by_key.values()), predicate="intersects")[0]) == 0


def test_readings_cover_30_days_and_carry_the_planted_faults(demo: DemoFiles) -> None:
    readings = pq.read_table(demo.readings)
    times = readings.column("time_utc")
    span = pc.max(times).as_py() - pc.min(times).as_py()
    assert span.days == 29
    assert set(demo.faults) >= {"office_1972-room000-temp", "office_1972-elec", "office_1992-gas"}

    def values(sensor: str) -> np.ndarray:
        mask = pc.equal(readings.column("sensor_id"), sensor)
        return readings.filter(mask).column("value").to_numpy()

    stuck = values("office_1972-room000-temp")
    assert np.all(stuck[-5 * 96 :] == 19.0) and np.std(stuck[: 10 * 96]) > 0.3
    assert len(values("office_1972-elec")) == 27 * 24  # three days missing
    assert len(values("office_1972-gas")) == 30 * 24
    gas = values("office_1992-gas")
    assert np.all(gas[20 * 24 : 22 * 24] == 0.0)
    assert _longest_zero_run(gas[: 20 * 24]) < 12, "warm afternoons need no heating, but never for half a day"
    leak = next(k for k in demo.faults if k.startswith("water-"))
    assert values(leak).min() < 2.5 < np.median(values(leak))
    occupancy = values("office_1972-room001-occ")
    assert set(np.unique(occupancy)) == {0.0, 1.0}


def _longest_zero_run(values: np.ndarray) -> int:
    longest = run = 0
    for v in values:
        run = run + 1 if v == 0 else 0
        longest = max(longest, run)
    return longest


def test_reports_are_open311_requests_near_the_district(demo: DemoFiles) -> None:
    requests = json.loads(demo.requests.read_text(encoding="utf-8"))
    services = json.loads(demo.services.read_text(encoding="utf-8"))
    assert len(requests) == 50
    codes = {s["service_code"] for s in services}
    for r in requests:
        assert r["service_code"] in codes and r["status"] in {"open", "closed"}
        assert 45.7 < r["lat"] < 45.8 and 4.8 < r["long"] < 4.95  # Lyon area, WGS84 as the standard says
    assert any("email" in r for r in requests), "some carry personal fields, which ingest must drop"


def test_a_failed_generation_leaves_no_partial_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_generate, "generate_operations", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_demo_files(tmp_path, seed=1)
    assert list(tmp_path.iterdir()) == []
