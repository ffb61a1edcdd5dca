"""Scenarios on the real demo twin with the Lyon weather: baseline, conversions, pipes, storage, sweeps."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from buildings.energy_twin import assess_energy
from buildings.reversibility_store import assess_twin
from buildings.weather import Climate, read_climate
from scenarios.baseline import Baseline, load_baseline, resolve
from scenarios.evaluate import evaluate
from scenarios.spec import parse_scenario
from scenarios.store import delete_scenario, kpi_rows, run_scenario
from scenarios.sweep import Grid, baseline_from_arrow, baseline_to_arrow, run_serial, run_sweep, variants_of
from tests.conftest import shared_data
from twin import Twin
from twin.errors import TwinError

if TYPE_CHECKING:
    from ingest.demo.generate import DemoFiles

ROOT = Path(__file__).resolve().parents[2]
LYON = ("weather-lyon-bron-tmyx", "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw")

CONVERT = """name: convert
interventions:
  - change_use:
      select: {use: office, built_to: 1975}
      from: office
      to: housing
    year: 2027
"""


@pytest.fixture(scope="module")
def demo_twin(demo_files: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo district without its sensor history: IFC buildings, GIS blocks, water, power, street lights."""
    from ingest.gis_buildings import ingest_buildings
    from ingest.ifc import ingest_ifc
    from ingest.networks import ingest_network
    from networks.service import connect_buildings

    path = tmp_path_factory.mktemp("scenario-demo") / "twin.duckdb"
    with Twin(path, crs="EPSG:2154") as twin:
        for key in ("office_1972", "office_1992", "school_2005", "car_park_1985", "housing_1963"):
            ingest_ifc(twin, demo_files.ifc[key])
        assert demo_files.buildings and demo_files.water and demo_files.power and demo_files.streetlights
        ingest_buildings(twin, demo_files.buildings)
        ingest_network(twin, demo_files.water, kind="water")
        ingest_network(twin, demo_files.power, kind="power")
        ingest_network(twin, demo_files.streetlights, kind="lighting")
        connect_buildings(twin)
    return path


@pytest.fixture(scope="module")
def climate() -> Climate:
    return read_climate(shared_data(*LYON))


@pytest.fixture
def twin(demo_twin: Path, tmp_path: Path) -> Iterator[Twin]:
    path = tmp_path / "twin.duckdb"
    shutil.copy(demo_twin, path)
    with Twin(path) as opened:
        yield opened


@pytest.fixture(scope="module")
def baseline(demo_twin: Path, climate: Climate) -> Baseline:
    with Twin(demo_twin, read_only=True) as t:
        return load_baseline(t, climate)


def _resolve(demo_twin: Path, text: str, baseline: Baseline) -> object:
    with Twin(demo_twin, read_only=True) as t:
        return resolve(t, parse_scenario(text, "s.yaml"), baseline)


def test_an_empty_scenario_reproduces_the_baseline_kpis_exactly(demo_twin: Path, baseline: Baseline) -> None:
    result = evaluate(baseline, _resolve(demo_twin, "name: empty\n", baseline))  # type: ignore[arg-type]
    for key, value in result.baseline_totals.items():
        assert result.totals[key] == value, key
    for name in ("final_kwh", "co2_t", "dwellings", "pupils"):
        assert len(set(result.years[name].to_pylist())) == 1
    assert result.totals["capex_cumulative_eur"] == 0.0
    # and the energy module, called on its own, gives the same total
    table = assess_energy(baseline.envelope, baseline.climate, carrier=baseline.carrier)
    ok = [r["final_kwh"] for r in table.to_pylist() if r["status"] == "ok"]
    assert result.totals["final_kwh"] == pytest.approx(sum(ok), rel=1e-12)


def test_converting_no_building_adds_no_pupils(demo_twin: Path, baseline: Baseline) -> None:
    text = CONVERT.replace("{use: office, built_to: 1975}", "{use: office, built_to: 1900}")
    result = evaluate(baseline, _resolve(demo_twin, text, baseline))  # type: ignore[arg-type]
    assert result.totals["pupils"] == result.baseline_totals["pupils"]
    assert np.nansum(result.buildings["pupils_added"].to_numpy(zero_copy_only=False)) == 0.0


def test_running_a_scenario_twice_gives_identical_results(demo_twin: Path, baseline: Baseline) -> None:
    text = ROOT.joinpath("examples/combined-plan.yaml").read_text()
    first = evaluate(baseline, _resolve(demo_twin, text, baseline))  # type: ignore[arg-type]
    second = evaluate(baseline, _resolve(demo_twin, text, baseline))  # type: ignore[arg-type]
    assert kpi_rows(1, first).equals(kpi_rows(1, second))
    assert first.buildings.equals(second.buildings)


def test_converting_the_1972_office_adds_the_reversibility_yield_and_loads_its_pipe(
    twin: Twin, climate: Climate
) -> None:
    office = twin.query("SELECT building_id FROM buildings WHERE use = 'office' AND construction_year = 1972")
    office_id = office.column(0)[0].as_py()
    verdict = assess_twin(twin, building_ids=[office_id], paths=["office->housing"], store=False)[0]
    expected = verdict.results.to_pylist()[0]
    assert expected["convertible"] is True and expected["dwellings"] > 0
    summary = run_scenario(twin, parse_scenario(CONVERT, "convert.yaml"), climate)
    added = summary["totals"]["dwellings"] - summary["baseline"]["dwellings"]
    assert added == expected["dwellings"]
    assert summary["totals"]["residents"] - summary["baseline"]["residents"] == pytest.approx(
        expected["residents"]
    )
    assert summary["totals"]["pupils"] - summary["baseline"]["pupils"] == pytest.approx(expected["pupils"])
    assert summary["totals"]["carbon_kept_t"] > 0 == summary["baseline"]["carbon_kept_t"]
    # the water check: the node serving the office carries the new demand, and its pressure does not rise
    node = (
        twin.query(
            "SELECT s.node_id FROM service_connections s JOIN networks n USING (network_id) "
            "WHERE n.kind = 'water' AND s.building_id = ?",
            [office_id],
        )
        .column(0)[0]
        .as_py()
    )
    water = summary["water"][0]
    assert node in water["nodes_with_added_demand"] and water["added_demand_l_s"] > 0
    assert water["pressure_m_after"][node] <= water["pressure_m_before"][node] + 1e-9
    pipes = water["pipes_serving"].values()
    assert pipes and any(abs(p["flow_l_s_after"]) > abs(p["flow_l_s_before"]) + 1e-6 for p in pipes)
    stored = (
        twin.query(
            "SELECT added_demand_l_s FROM res_network_nodes WHERE scenario_id = ? AND node_id = ?",
            [summary["scenario_id"], node],
        )
        .column(0)[0]
        .as_py()
    )
    assert stored >= water["added_demand_l_s"] - 1e-9


def test_deleting_a_scenario_leaves_the_baseline_untouched(twin: Twin, climate: Climate) -> None:
    before = twin.table_checksums()
    summary = run_scenario(twin, parse_scenario(CONVERT, "convert.yaml"), climate)
    assert twin.table_checksums() != before
    delete_scenario(twin, str(summary["scenario_id"]))
    assert twin.table_checksums() == before


def _scenario_tables(twin: Twin) -> dict[str, str]:
    """Checksums of the tables a scenario run writes (the full twin's are checked by the deletion test)."""
    tables = ("scenarios", "scenario_results", "scenario_overlay", "scenario_feasibility", "res_network_nodes",
              "res_network_links", "buildings")  # fmt: skip
    return {t: v for t, v in twin.table_checksums().items() if t in tables}


BAD = {
    "unknown building": (
        "name: x\ninterventions:\n  - demolish:\n      select:\n        ids: [nope]\n",
        r"s\.yaml, line 5, interventions\[0\]\.demolish\.select\.ids\[0\]: unknown building 'nope'",
    ),
    "unknown package": (
        "name: x\ninterventions:\n  - retrofit:\n      select: {use: school}\n      package: golden\n",
        r"s\.yaml, line 5, interventions\[0\]\.retrofit\.package: retrofit measure or package 'golden'",
    ),
    "typo in a key": (
        "name: x\ninterventions:\n  - retrofit:\n      select: {use: school}\n      pakage: roof\n",
        r"s\.yaml, line 5, interventions\[0\]\.retrofit\.pakage: unknown key 'pakage'",
    ),
    "a statement in the SQL": (
        'name: x\ninterventions:\n  - demolish:\n      select:\n        where: "1=1; DROP TABLE buildings"\n',
        r"s\.yaml, line 5, interventions\[0\]\.demolish\.select\.where: SQL condition: a statement",
    ),
    "a subquery in the SQL": (
        "name: x\ninterventions:\n  - demolish:\n      select:\n"
        '        where: "building_id IN (SELECT sensor_id FROM sensors)"\n',
        r"line 5, interventions\[0\]\.demolish\.select\.where: SQL condition: subqueries are not allowed",
    ),
}


@pytest.fixture(scope="module")
def shared_twin(demo_twin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    path = tmp_path_factory.mktemp("bad-files") / "twin.duckdb"
    shutil.copy(demo_twin, path)
    with Twin(path) as opened:
        yield opened


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_scenario_file_names_the_line_and_field_and_writes_nothing(
    case: str, shared_twin: Twin, climate: Climate
) -> None:
    twin = shared_twin
    text, message = BAD[case]
    before = _scenario_tables(twin)
    with pytest.raises(TwinError, match=message):
        run_scenario(twin, parse_scenario(text, "s.yaml"), climate)
    assert _scenario_tables(twin) == before


def test_a_sql_condition_runs_with_its_parameters(demo_twin: Path, baseline: Baseline) -> None:
    text = (
        "name: x\ninterventions:\n  - demolish:\n      select:\n        where:\n"
        '          sql: "use = $u AND construction_year < $y"\n          params: {u: office, y: 1980}\n'
    )
    resolved = _resolve(demo_twin, text, baseline)
    assert len(resolved.steps[0].ids) == 1  # type: ignore[attr-defined]


def test_a_forced_conversion_is_applied_and_a_vetoed_one_is_blocked_with_its_reason(
    demo_twin: Path, baseline: Baseline
) -> None:
    text = (
        "name: x\ninterventions:\n  - change_use:\n      select: {use: parking}\n      from: parking\n"
        "      to: housing\n"
    )
    blocked = evaluate(baseline, _resolve(demo_twin, text, baseline)).feasibility.to_pylist()  # type: ignore[arg-type]
    assert blocked and all(not r["applied"] and "blocked" in r["reason"] for r in blocked if not r["convertible"])
    forced = text + "      force: true\n"
    rows = evaluate(baseline, _resolve(demo_twin, forced, baseline)).feasibility.to_pylist()  # type: ignore[arg-type]
    assert all(r["applied"] for r in rows)


@pytest.mark.slow
def test_the_baseline_travels_as_arrow_and_a_two_worker_sweep_equals_the_serial_run(
    demo_twin: Path, baseline: Baseline
) -> None:
    again = baseline_from_arrow(baseline_to_arrow(baseline))
    assert again.buildings.to_pandas().equals(baseline.buildings.to_pandas())
    assert np.array_equal(again.envelope.u_w_m2k, baseline.envelope.u_w_m2k, equal_nan=True)
    text = ROOT.joinpath("examples/retrofit-schools.yaml").read_text()
    resolved = _resolve(demo_twin, text, baseline)
    variants = variants_of(Grid(package=["envelope", "roof"], subsidy_share=[0.0, 0.5], discount_rate=[0.03]))
    serial = run_serial(baseline, resolved, variants)  # type: ignore[arg-type]
    parallel = run_sweep(baseline, resolved, variants, workers=2)  # type: ignore[arg-type]
    assert parallel.num_rows == len(variants)
    assert parallel.to_pandas().equals(serial.to_pandas())  # NaN payback equals NaN here
    npv = serial["npv_eur"].to_pylist()
    assert npv[1] > npv[0]  # a subsidy raises the NPV of the same package


def test_scenarios_compare_side_by_side_and_export_as_csv_parquet_and_html(twin: Twin, climate: Climate) -> None:
    import pyarrow.parquet as pq

    from scenarios.store import compare_scenarios, export_comparison

    run_scenario(twin, parse_scenario(CONVERT, "a.yaml"), climate, water=False)
    text = ROOT.joinpath("examples/retrofit-schools.yaml").read_text()
    run_scenario(twin, parse_scenario(text, "b.yaml"), climate, water=False)
    table = compare_scenarios(twin, ["convert", "retrofit-schools"])
    rows = {r["kpi"]: r for r in table.to_pylist()}
    dwellings = rows["dwellings"]
    assert dwellings["convert - baseline"] == dwellings["convert"] - dwellings["baseline"] > 0
    assert dwellings["retrofit-schools - baseline"] == 0
    assert rows["final_kwh"]["retrofit-schools - baseline"] < 0
    water = next(k for k in rows if k.startswith("demand:water"))
    assert rows[water]["unit"] == "m3/day" and rows[water]["convert - baseline"] > 0
    folder = twin.path.rsplit("/", 1)[0]
    assert pq.read_table(export_comparison(table, f"{folder}/c.parquet")).equals(table)
    assert "convert - baseline" in export_comparison(table, f"{folder}/c.csv").read_text()
    assert "<table" in export_comparison(table, f"{folder}/c.html").read_text()


def test_the_cli_runs_lists_shows_compares_and_deletes(twin: Twin, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from twin.cli import cli

    path = twin.path
    twin.close()
    weather = str(shared_data(*LYON))
    runner = CliRunner()
    file = tmp_path / "convert.yaml"
    file.write_text(CONVERT)
    done = runner.invoke(cli, ["--twin", path, "scenario", "run", str(file), "--weather", weather])
    assert done.exit_code == 0, done.output
    assert "dwellings" in done.output and "office->housing: convertible" in done.output
    again = runner.invoke(cli, ["--twin", path, "scenario", "run", str(file), "--weather", weather])
    assert again.exit_code == 1 and "exists already" in again.stderr
    assert "convert" in runner.invoke(cli, ["--twin", path, "scenario", "list"]).output
    assert "office->housing" in runner.invoke(cli, ["--twin", path, "scenario", "show", "convert"]).output
    out = tmp_path / "cmp.csv"
    cmp = runner.invoke(cli, ["--twin", path, "scenario", "compare", "convert", "--export", str(out)])
    assert cmp.exit_code == 0 and out.exists()
    assert runner.invoke(cli, ["--twin", path, "scenario", "delete", "convert"]).exit_code == 0
    assert "convert" not in runner.invoke(cli, ["--twin", path, "scenario", "list"]).output


def test_converting_some_storeys_yields_the_dwellings_of_those_storeys_only(
    demo_twin: Path, baseline: Baseline
) -> None:
    full = evaluate(baseline, _resolve(demo_twin, CONVERT, baseline))  # type: ignore[arg-type]
    text = CONVERT.replace("      to: housing\n", "      to: housing\n      storeys: [1, 2]\n")
    part = evaluate(baseline, _resolve(demo_twin, text, baseline))  # type: ignore[arg-type]
    row = part.feasibility.to_pylist()[0]
    assert 0 < row["dwellings"] < full.feasibility.to_pylist()[0]["dwellings"]
    assert part.totals["dwellings"] - part.baseline_totals["dwellings"] == row["dwellings"]
    # the building keeps its use (and its décret tertiaire status) when only some storeys change
    assert part.totals["tertiary_subject"] == part.baseline_totals["tertiary_subject"]
