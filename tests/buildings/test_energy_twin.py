"""Energy on a real twin: AC20-FZK-Haus with the Lyon weather, GIS blocks, meters, bad input and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from buildings.energy import SURFACE_KINDS
from buildings.energy_twin import assess_energy, envelopes_from_twin, metered_consumption, store_energy
from buildings.weather import ORIENTATIONS, read_climate
from ingest.ifc import ingest_ifc
from tests.conftest import shared_data
from twin import Twin
from twin.cli import cli
from twin.errors import TwinError

FZK = ("ifc-web-ifc-samples", "AC20-FZK-Haus.ifc")
LYON = ("weather-lyon-bron-tmyx", "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw")


@pytest.fixture(scope="module")
def fzk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fzk") / "twin.duckdb"
    with Twin(path) as twin:
        ingest_ifc(twin, shared_data(*FZK))
    return path


@pytest.fixture(scope="module")
def lyon() -> object:
    return read_climate(shared_data(*LYON))


def test_the_lyon_epw_gives_a_plausible_monthly_climate(lyon: object) -> None:
    c = lyon
    assert c.hours.sum() == 8760  # type: ignore[attr-defined]
    assert c.theta_e_c[0] < 6 < 20 < c.theta_e_c[6] < 25  # type: ignore[attr-defined]
    south, north = ORIENTATIONS.index("S"), ORIENTATIONS.index("N")
    winter = c.irradiance_kwh_m2[:, 0]  # type: ignore[attr-defined]
    assert winter[south] > 1.5 * winter[north]
    assert 1200 < c.irradiance_kwh_m2[ORIENTATIONS.index("horizontal")].sum() < 1500  # type: ignore[attr-defined]


def test_fzk_haus_uses_the_ifc_envelope_areas_and_needs_what_a_recent_insulated_house_needs(
    fzk: Path, lyon: object
) -> None:
    with Twin(fzk) as twin:
        env = envelopes_from_twin(twin)
        derived = twin.query(
            "SELECT surface_kind, sum(area_m2) AS a FROM envelope_surfaces GROUP BY 1"
        ).to_pylist()
        windows = twin.query(
            "SELECT orientation, sum(area_m2) AS a FROM envelope_surfaces WHERE surface_kind = 'window' GROUP BY 1"
        ).to_pylist()
        table = assess_energy(env, lyon)  # type: ignore[arg-type]
        store_energy(twin, table)
        stored = twin.query("SELECT * FROM res_energy").to_pylist()
    assert env.route.tolist() == ["ifc"]
    for row in derived:
        assert env.area_m2[0, SURFACE_KINDS.index(row["surface_kind"])] == pytest.approx(row["a"], rel=1e-12)
    for row in windows:
        assert env.window_area_m2[0, ORIENTATIONS.index(row["orientation"])] == pytest.approx(row["a"], rel=1e-12)
    (r,) = stored
    # Built 2008 (RT 2005): U walls 0.4, roof 0.3, windows 1.4 from the model. French houses of 2006-12 need
    # about 40-100 kWh/m2/yr of heating (TABULA FR SFH 2006-2012 existing state, RT 2005 Cep max ~130 kWhep
    # including hot water in H1); allow 30-110 for the monthly method's simplifications.
    assert r["route"] == "ifc" and r["status"] == "ok"
    assert 30.0 <= r["heating_need_kwh_m2"] <= 110.0
    assert sum(r["heating_need_monthly_kwh"]) == pytest.approx(r["heating_need_kwh"])
    assert r["heating_need_monthly_kwh"][0] > r["heating_need_monthly_kwh"][4] >= r["heating_need_monthly_kwh"][6]
    assert r["dpe_class"] in "ABCD"
    notes = json.loads(r["assumptions"])
    assert notes["route"] == "ifc" and any("use unknown" in n for n in notes["notes"])


def test_gis_blocks_take_the_lod1_route_and_a_block_without_data_is_unknown_with_the_reason(
    twin: Twin, lyon: object
) -> None:
    with twin.write() as cur:
        cur.execute(
            """INSERT INTO buildings (building_id, footprint_area_m2, height_m, use, construction_year, source,
                                      footprint)
               VALUES ('g1', 400, 12, 'housing', 1965, 'gis',
                       ST_GeomFromText('POLYGON((0 0,20 0,20 20,0 20,0 0))')),
                      ('g2', 2000, 15, 'office', 1990, 'gis', NULL),
                      ('g3', NULL, NULL, 'housing', 1950, 'gis', NULL)"""
        )
    env = envelopes_from_twin(twin)
    table = assess_energy(env, lyon)  # type: ignore[arg-type]
    rows = {r["building_id"]: r for r in table.to_pylist()}
    assert {r["route"] for r in rows.values()} == {"lod1"}
    assert rows["g1"]["status"] == "ok" and rows["g1"]["heating_need_kwh_m2"] > 100  # 1965 block, no insulation
    assert rows["g2"]["tertiary_subject"] and rows["g2"]["dpe_class"] == "not_applicable"
    assert rows["g2"]["tertiary_target_2030_kwh"] == pytest.approx(0.6 * rows["g2"]["final_kwh"])
    assert rows["g3"]["status"] == "unknown" and rows["g3"]["unknown_reason"] == "footprint area unknown"
    assert rows["g3"]["heating_need_kwh"] is None and rows["g3"]["dpe_class"] == "unknown"
    assert "perimeter" not in " ".join(json.loads(rows["g1"]["assumptions"])["notes"])  # from the polygon
    assert store_energy(twin, table) == 3


def test_an_ifc_building_without_envelope_data_is_unknown_with_the_reason(twin: Twin, lyon: object) -> None:
    with twin.write() as cur:
        cur.execute("INSERT INTO buildings (building_id, source, construction_year) VALUES ('i1', 'ifc', 2000)")
    (row,) = assess_energy(envelopes_from_twin(twin), lyon).to_pylist()  # type: ignore[arg-type]
    assert row["route"] == "ifc" and row["status"] == "unknown"
    assert row["unknown_reason"].startswith("no envelope data")


def test_metered_consumption_is_set_beside_the_model_with_its_calibration_factor(twin: Twin, lyon: object) -> None:
    with twin.write() as cur:
        cur.execute(
            """INSERT INTO buildings (building_id, footprint_area_m2, height_m, use, construction_year, source)
               VALUES ('m1', 200, 6, 'housing', 1980, 'gis')"""
        )
        cur.execute(
            """INSERT INTO res_consumption (level, entity_id, building_id, carrier, year, consumption_kwh,
                   consumption_filled_kwh, intervals_expected, intervals_read, intervals_missing,
                   intervals_zero_run, interval_h, computed_at)
               VALUES ('building', 'm1', 'm1', 'gas', 2024, 30000, 31000, 8760, 8700, 60, 0, 1, ?)""",
            [dt.datetime(2025, 1, 1)],
        )
    metered = metered_consumption(twin, ["m1", "nobody"])
    assert metered[0] == 31000.0 and np.isnan(metered[1])
    (row,) = assess_energy(envelopes_from_twin(twin, ["m1"]), lyon, metered_kwh=metered[:1]).to_pylist()  # type: ignore[arg-type]
    assert row["metered_kwh"] == 31000.0
    assert row["calibration_factor"] == pytest.approx(31000.0 / row["final_kwh"])
    assert row["calibrated_final_kwh"] == pytest.approx(31000.0)


def test_an_unknown_building_id_is_a_clear_error(twin: Twin) -> None:
    with pytest.raises(TwinError, match="building nope: not in the twin"):
        envelopes_from_twin(twin, ["nope"])


def test_a_missing_weather_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TwinError, match=r"weather file .*nothere\.epw: not found"):
        read_climate(tmp_path / "nothere.epw")


def test_a_malformed_weather_line_is_named_by_its_number(tmp_path: Path) -> None:
    lines = shared_data(*LYON).read_text(encoding="latin-1").splitlines()
    fields = lines[8 + 99].split(",")
    fields[6] = "warm"
    lines[8 + 99] = ",".join(fields)
    bad = tmp_path / "bad.epw"
    bad.write_text("\n".join(lines), encoding="latin-1")
    with pytest.raises(TwinError, match=r"bad\.epw, line 108: dry bulb temperature 'warm' is not a number"):
        read_climate(bad)
    (tmp_path / "notepw.epw").write_text("hello\n")
    with pytest.raises(TwinError, match="line 1: not an EPW header"):
        read_climate(tmp_path / "notepw.epw")


def test_the_cli_assesses_remembers_the_weather_and_says_what_is_missing(fzk: Path, tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    path.write_bytes(fzk.read_bytes())
    runner = CliRunner()
    first = runner.invoke(cli, ["--twin", str(path), "assess", "energy"])
    assert first.exit_code == 1 and "no weather file" in first.stderr
    weather = str(shared_data(*LYON))
    done = runner.invoke(cli, ["--twin", str(path), "assess", "energy", "--weather", weather])
    assert done.exit_code == 0, done.output
    assert "1 buildings (1 ifc): 1 assessed" in done.output
    again = runner.invoke(cli, ["--twin", str(path), "assess", "energy", "--building", "2hQBAVPOr5VxhS3Jl0O47h"])
    assert again.exit_code == 0 and "kWh/m2/yr" in again.output
    with Twin(path, read_only=True) as twin:
        assert twin.query("SELECT count(*) FROM res_energy").column(0)[0].as_py() == 1


def test_the_retrofit_command_stores_a_package_for_fzk_haus(fzk: Path, tmp_path: Path) -> None:
    path = tmp_path / "twin.duckdb"
    path.write_bytes(fzk.read_bytes())
    with Twin(path) as twin:
        bid = twin.query("SELECT building_id FROM buildings").column(0)[0].as_py()
    weather = str(shared_data(*LYON))
    runner = CliRunner()
    result = runner.invoke(cli, ["--twin", str(path), "retrofit", bid, "--package", "bbc", "--weather", weather])
    assert result.exit_code == 0, result.output
    assert "package: saves" in result.output and "DPE" in result.output
    bad = runner.invoke(cli, ["--twin", str(path), "retrofit", bid, "--package", "magic"])
    assert bad.exit_code == 1 and "'magic': unknown" in bad.stderr
    with Twin(path, read_only=True) as twin:
        rows = twin.query("SELECT measure, status FROM res_retrofit ORDER BY measure").to_pylist()
    assert len(rows) == 7 and {r["status"] for r in rows} == {"ok"}
