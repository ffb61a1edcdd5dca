"""twin export: layers, tables and CityJSON written from the demo twin come back as what they were."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cityjson_lib
import duckdb
import numpy as np
import pyarrow.csv as pacsv
import pyogrio
import pytest
from click.testing import CliRunner

from ingest.gis_buildings import ingest_buildings
from twin import Twin, TwinError
from twin.cli import cli
from twin.export.cityjson import export_cityjson
from twin.export.layers import LAYERS, export_layers
from twin.export.tables import PERSONAL_TABLES, export_tables

_ATTRIBUTES = ("use", "height_m", "storeys_above_ground", "construction_year", "dwellings")


def _buildings(twin: Twin) -> dict[str, dict[str, object]]:
    rows = twin.query(
        f"SELECT building_id, ST_Area(footprint) AS area, {', '.join(_ATTRIBUTES)} FROM buildings"
    ).to_pylist()
    return {r["building_id"]: r for r in rows}


def _assert_same_buildings(before: dict[str, dict[str, object]], after: dict[str, dict[str, object]]) -> None:
    assert set(after) == set(before)
    for building_id, old in before.items():
        new = after[building_id]
        assert abs(float(new["area"]) - float(old["area"])) < 0.01, building_id  # type: ignore[arg-type]
        for name in _ATTRIBUTES:  # numbers through GeoJSON text: equal to 1e-9
            expected = pytest.approx(old[name], rel=1e-9) if isinstance(old[name], float) else old[name]
            assert new[name] == expected, (building_id, name, old[name], new[name])


@pytest.mark.parametrize(("fmt", "name"), [("geojson", "layers/buildings.geojson"), ("gpkg", "district.gpkg")])
def test_buildings_exported_to_a_gis_layer_come_back_as_the_same_buildings(
    demo_twin: Path, twin: Twin, tmp_path: Path, fmt: str, name: str
) -> None:
    out = tmp_path / name.split("/")[0]
    with Twin(demo_twin, read_only=True) as source:
        report = export_layers(source, fmt, out, ["buildings"])
        before = _buildings(source)
    assert report.rows == {"buildings": len(before)} and len(before) == 577
    ingest_buildings(twin, tmp_path / name, layer="buildings" if fmt == "gpkg" else None)
    _assert_same_buildings(before, _buildings(twin))


def test_every_layer_is_written_with_its_rows_and_reprojected_when_asked(demo_twin: Path, tmp_path: Path) -> None:
    with Twin(demo_twin, read_only=True) as source:
        report = export_layers(source, "geojson", tmp_path / "wgs84", crs="EPSG:4326")
        counts = source.query(
            "SELECT (SELECT count(*) FROM network_nodes WHERE node_kind = 'light') AS lights, "
            "(SELECT count(*) FROM sensors) AS sensors, (SELECT count(*) FROM reports) AS reports"
        ).to_pylist()[0]
    assert set(report.rows) == set(LAYERS)
    assert report.rows["streetlights"] == counts["lights"] == 1068
    assert report.rows["sensors"] == counts["sensors"] and report.rows["reports"] == counts["reports"]
    for layer in LAYERS:
        info = pyogrio.read_info(tmp_path / "wgs84" / f"{layer}.geojson")
        assert info["features"] == report.rows[layer]
        assert info["crs"] == "EPSG:4326"
        west, south, east, north = info["total_bounds"]
        assert 4.7 < west < east < 5.0 and 45.6 < south < north < 45.9, layer  # the demo district lies in Lyon


def test_reports_are_exported_without_personal_fields_and_personal_tables_are_refused(
    demo_twin: Path, tmp_path: Path
) -> None:
    with Twin(demo_twin, read_only=True) as source:
        export_layers(source, "gpkg", tmp_path / "r.gpkg", ["reports"])
        for table in sorted(PERSONAL_TABLES):
            with pytest.raises(TwinError, match="personal data"):
                export_tables(source, "csv", tmp_path / "t", [table])
    fields = set(pyogrio.read_info(tmp_path / "r.gpkg", layer="reports")["fields"])
    assert "description" in fields and not fields & {"email", "first_name", "last_name", "phone", "name"}


def test_every_table_goes_to_parquet_with_readings_by_month_and_a_data_dictionary(
    demo_twin: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tables"
    with Twin(demo_twin, read_only=True) as source:
        report = export_tables(source, "parquet", out)
        total = source.query("SELECT count(*) AS n, sum(value) AS s FROM readings").to_pylist()[0]
        columns = source.query(
            "SELECT count(*) AS n FROM duckdb_columns() c "
            "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) "
            "WHERE c.database_name = current_database() AND c.schema_name = 'main' "
            "AND c.table_name NOT IN ('schema_migrations', 'users', 'report_contacts')"
        ).to_pylist()[0]["n"]
    assert report.rows["readings"] == total["n"] == 532_008
    months = sorted(p.name for p in (out / "readings").iterdir())
    assert months and all(m.startswith("month=") for m in months)
    back = duckdb.sql(
        f"SELECT count(*), sum(value), count(DISTINCT month) FROM read_parquet('{out}/readings/*/*.parquet', "
        "hive_partitioning = true)"
    ).fetchone()
    assert (
        back is not None
        and back[0] == total["n"]
        and back[1] == pytest.approx(total["s"])
        and back[2] == len(months)
    )
    for name, n in report.rows.items():
        if name != "readings":
            assert duckdb.sql(f"SELECT count(*) FROM '{out}/{name}.parquet'").fetchone() == (n,), name
    dictionary = pacsv.read_csv(out / "data_dictionary.csv").to_pylist()
    assert len(dictionary) == columns
    by_column = {(d["table"], d["column"]): d for d in dictionary}
    assert by_column[("buildings", "height_m")]["unit"] == "m"
    assert "roof" in by_column[("buildings", "height_m")]["description"]
    assert by_column[("elements", "u_value_w_m2k")]["unit"] == "W/(m2.K)"


def test_csv_tables_hold_the_rows_with_geometry_as_wkt(demo_twin: Path, tmp_path: Path) -> None:
    with Twin(demo_twin, read_only=True) as source:
        export_tables(source, "csv", tmp_path / "csv", ["buildings"])
    rows = pacsv.read_csv(tmp_path / "csv" / "buildings.csv").to_pylist()
    assert len(rows) == 577 and all(str(r["footprint"]).startswith(("POLYGON", "MULTIPOLYGON")) for r in rows)


def test_cityjson_shells_are_closed_and_the_buildings_come_back_the_same(
    demo_twin: Path, twin: Twin, tmp_path: Path
) -> None:
    out = tmp_path / "district.city.json"
    with Twin(demo_twin, read_only=True) as source:
        report = export_cityjson(source, out)
        before = _buildings(source)
        unknown_height = {k for k, v in before.items() if v["height_m"] is None}
    summary = cityjson_lib.CityModel.parse_document_bytes(out.read_bytes()).summary()  # a strict 2.0 reader
    assert summary.version == cityjson_lib.Version.V2_0 and summary.cityobject_count == len(before)
    assert summary.geometry_count == len(before) and summary.has_transform
    doc = json.loads(out.read_text())
    assert doc["version"] == "2.0" and doc["type"] == "CityJSON"
    assert doc["metadata"]["referenceSystem"].endswith("/EPSG/0/2154")
    assert report.rows["lod0_footprints"] == len(unknown_height) and report.rows["buildings"] == len(before)
    for key, obj in doc["CityObjects"].items():
        geometry = obj["geometry"][0]
        if key in unknown_height:
            assert geometry["lod"] == "0" and geometry["type"] == "MultiSurface"
            continue
        shells = (
            [geometry["boundaries"][0]] if geometry["type"] == "Solid" else [s[0] for s in geometry["boundaries"]]
        )
        for shell in shells:  # closed and consistently oriented: each edge used once each way
            edges = Counter(
                (ring[i], ring[(i + 1) % len(ring)])
                for surface in shell
                for ring in surface
                for i in range(len(ring))
            )
            assert all(n == 1 and edges[(b, a)] == 1 for (a, b), n in edges.items()), key
    ingest_buildings(twin, out)
    after = _buildings(twin)
    assert set(after) == set(before)
    for building_id, old in before.items():
        new = after[building_id]
        assert abs(float(new["area"]) - float(old["area"])) < 0.01, building_id  # type: ignore[arg-type]
        assert new["use"] == old["use"] and new["construction_year"] == old["construction_year"]
        if old["height_m"] is None:
            assert new["height_m"] is None
        else:
            assert new["height_m"] == pytest.approx(old["height_m"], abs=0.002)


def test_cityjson_volumes_are_footprint_times_height(demo_twin: Path, tmp_path: Path) -> None:
    """The extruded solids hold the right volume: signed volume of the closed shell (divergence theorem)."""
    out = tmp_path / "b.city.json"
    with Twin(demo_twin, read_only=True) as source:
        export_cityjson(source, out)
        rows = source.query(
            "SELECT building_id, ST_Area(footprint) * height_m AS volume FROM buildings WHERE height_m > 0 "
            "AND ST_GeometryType(footprint) = 'POLYGON' LIMIT 50"
        ).to_pylist()
    doc = json.loads(out.read_text())
    vertices = np.asarray(doc["vertices"], dtype=float) * doc["transform"]["scale"][0]
    for row in rows:
        shell = doc["CityObjects"][row["building_id"]]["geometry"][0]["boundaries"][0]
        volume = 0.0
        for surface in shell:
            for ring in surface:  # fan triangles; holes carry their own orientation
                points = vertices[ring]
                for i in range(1, len(points) - 1):
                    volume += float(np.dot(points[0], np.cross(points[i], points[i + 1]))) / 6.0
        assert volume == pytest.approx(row["volume"], rel=1e-4), row["building_id"]


def test_the_export_command_writes_and_bad_requests_get_one_line(demo_twin: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["--twin", str(demo_twin), "export", "gpkg", "--out", str(tmp_path / "a.gpkg")])
    assert ok.exit_code == 0, ok.output
    assert "577 buildings" in ok.output and (tmp_path / "a.gpkg").exists()
    bad = [
        (["export", "gpkg", "--out", str(tmp_path / "b.gpkg"), "--layer", "pipes"], "unknown layer 'pipes'"),
        (["export", "geojson", "--out", str(tmp_path / "c"), "--crs", "EPSG:999999"], "unknown CRS"),
        (["export", "csv", "--out", str(tmp_path / "nowhere" / "d")], "does not exist"),
        (["export", "cityjson", "--out", str(tmp_path)], "is a folder"),
    ]
    for args, message in bad:
        result = runner.invoke(cli, ["--twin", str(demo_twin), *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["a.gpkg"]  # nothing half-written, no scratch folder left behind
