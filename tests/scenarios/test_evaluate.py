"""The evaluation's invariants on a small seeded town (no twin file: the function is pure)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildings.energy_archetypes import envelope_from_lod1
from buildings.retrofit import load_catalogue
from buildings.reversibility_rules import default_rules
from buildings.weather import Climate
from scenarios.baseline import Baseline, Resolved, Step
from scenarios.evaluate import evaluate
from scenarios.spec import parse_scenario

N = 60
IDS = [f"b{i:03d}" for i in range(N)]


@pytest.fixture(scope="module")
def town() -> Baseline:
    rng = np.random.default_rng(3)
    ids = np.array(IDS, dtype=object)
    uses = rng.choice(np.array(["housing", "office", "school"], dtype=object), N, p=[0.6, 0.3, 0.1])
    uses[0], uses[1] = "office", "school"
    area = rng.uniform(100, 1200, N)
    storeys = rng.integers(1, 7, N)
    years = rng.integers(1900, 2015, N)
    env = envelope_from_lod1(ids, area.astype(object), (storeys * 3.0).astype(object), storeys.astype(object),
                             years.astype(object), uses, (4 * np.sqrt(area)).astype(object))  # fmt: skip
    hours = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) * 24.0
    theta = np.array([3.0, 4.5, 8.5, 11.5, 15.5, 19.5, 22.0, 21.5, 17.5, 13.0, 7.5, 4.0])
    planes = {(30.0, a): 1300.0 for a in (180.0, 135.0, 225.0, 90.0, 270.0)} | {(10.0, 180.0): 1250.0}
    climate = Climate("synthetic", theta, hours, np.full((9, 12), 40.0), 45.7, 4.9, None, planes)
    buildings = pa.table({
        "building_id": IDS, "name": IDS, "use": uses.tolist(), "construction_year": pa.array(years, pa.int32()),
        "dwellings": np.where(uses == "housing", np.floor(area * storeys * 0.8 / 63), np.nan),
        "school_places": np.where(uses == "school", np.floor(area * storeys * 0.8 / 8), np.nan),
        "school_places_source": pa.array([None] * N, pa.string())})  # fmt: skip
    service = pa.table({"building_id": IDS, "network_id": ["w"] * N, "kind": ["water"] * N,
                        "node_id": [f"n{i // 6}" for i in range(N)]})  # fmt: skip
    rules = default_rules().parameters
    return Baseline(buildings, env, np.full(N, None, dtype=object), service, climate, load_catalogue(), rules)


def _scenario(text: str, steps: list[Step]) -> Resolved:
    return Resolved(parse_scenario(text, "t.yaml").scenario, steps)


RETROFIT = "name: t\ninterventions:\n  - retrofit: {select: {ids: [b000]}, package: PKG}\n    year: YEAR\n"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chosen=st.lists(st.sampled_from(IDS), min_size=1, max_size=15, unique=True),
    package=st.sampled_from(["envelope", "roof", "windows", "bbc", "quick_wins"]),
    year=st.integers(2026, 2050),
)
def test_a_retrofit_never_raises_a_buildings_final_energy_and_starts_in_its_year(
    town: Baseline, chosen: list[str], package: str, year: int
) -> None:
    text = RETROFIT.replace("PKG", package).replace("YEAR", str(year))
    spec = parse_scenario(text, "t.yaml").scenario
    result = evaluate(
        town, Resolved(spec, [Step(0, year, "retrofit", spec.interventions[0].body, sorted(chosen))])
    )
    before = result.buildings["final_kwh_before"].to_numpy(zero_copy_only=False)
    after = result.buildings["final_kwh"].to_numpy(zero_copy_only=False)
    known = np.isfinite(before)
    assert np.all(after[known] <= before[known] + 1e-6)
    untouched = ~np.isin(np.array(IDS), chosen)
    assert np.array_equal(after[untouched], before[untouched], equal_nan=True)
    finals = dict(zip(result.years["year"].to_pylist(), result.years["final_kwh"].to_pylist(), strict=True))
    assert all(finals[y] == result.baseline_totals["final_kwh"] for y in finals if y < year)
    capex = result.years["capex_cumulative_eur"].to_pylist()
    assert capex == sorted(capex) and capex[-1] > 0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(IDS), max_size=20, unique=True))
def test_demolishing_takes_the_buildings_and_their_dwellings_out_of_every_total(
    town: Baseline, chosen: list[str]
) -> None:
    spec = parse_scenario("name: t\ninterventions:\n  - demolish: {select: {ids: []}}\n", "t.yaml").scenario
    result = evaluate(
        town, Resolved(spec, [Step(0, 2026, "demolish", spec.interventions[0].body, sorted(chosen))])
    )
    dwellings = dict(zip(IDS, town.buildings["dwellings"].to_pylist(), strict=True))
    lost = sum(np.nan_to_num(dwellings[b]) for b in chosen)
    assert result.totals["buildings"] == N - len(chosen)
    assert result.totals["dwellings"] == pytest.approx(result.baseline_totals["dwellings"] - lost)
    assert result.totals["pupils"] == pytest.approx(result.totals["dwellings"] * 0.21)
    assert result.totals["final_kwh"] <= result.baseline_totals["final_kwh"] + 1e-6


def test_a_new_housing_block_adds_dwellings_residents_and_pupils_in_the_methods_ratios(town: Baseline) -> None:
    text = (
        "name: t\ninterventions:\n  - new_building:\n      id: new-1\n"
        "      footprint: 'POLYGON((0 0, 20 0, 20 10, 0 10, 0 0))'\n      storeys: 4\n      use: housing\n"
        "    year: 2030\n"
    )
    spec = parse_scenario(text, "t.yaml").scenario
    body = spec.interventions[0].body
    new = envelope_from_lod1(np.array(["new-1"], dtype=object), np.array([200.0], dtype=object),
                             np.array([12.0], dtype=object), np.array([4], dtype=object),
                             np.array([2026], dtype=object), np.array(["housing"], dtype=object),
                             np.array([60.0], dtype=object))  # fmt: skip
    step = Step(0, 2030, "new_building", body, ["new-1"], extra={"footprint_area_m2": 200.0}, new_envelope=new)
    result = evaluate(town, Resolved(spec, [step]))
    added = result.totals["dwellings"] - result.baseline_totals["dwellings"]
    assert added == np.floor(800 * 0.8 / 63)
    assert result.totals["residents"] - result.baseline_totals["residents"] == pytest.approx(added * 2.16)
    assert result.totals["pupils"] - result.baseline_totals["pupils"] == pytest.approx(added * 0.21)
    assert result.totals["final_kwh"] > result.baseline_totals["final_kwh"]
    assert result.years["dwellings"].to_pylist()[3] == result.baseline_totals["dwellings"]  # 2029: not yet built


def test_an_office_retrofit_counts_towards_the_decret_tertiaire_from_2030(town: Baseline) -> None:
    offices = [b for b, u in zip(IDS, town.buildings["use"].to_pylist(), strict=True) if u == "office"]
    spec = parse_scenario(RETROFIT.replace("PKG", "bbc").replace("YEAR", "2027"), "t.yaml").scenario
    result = evaluate(town, Resolved(spec, [Step(0, 2027, "retrofit", spec.interventions[0].body, offices)]))
    by_year = {r["year"]: r for r in result.years.to_pylist()}
    reference = by_year[2026]["tertiary_target_kwh"]  # before 2030 the target is the reference itself
    assert by_year[2026]["tertiary_subject"] > 0 and by_year[2029]["tertiary_final_kwh"] < reference
    for year, cut in ((2030, 0.4), (2040, 0.5), (2050, 0.6)):
        assert by_year[year]["tertiary_target_kwh"] == pytest.approx(reference * (1 - cut))
    assert by_year[2029]["tertiary_compliant"] == by_year[2029]["tertiary_subject"]
    assert (
        by_year[2050]["tertiary_compliant"]
        <= by_year[2040]["tertiary_compliant"]
        <= by_year[2030]["tertiary_compliant"]
    )


def test_intensifying_opens_one_workstation_per_18_m2_of_under_used_space(town: Baseline) -> None:
    spec = parse_scenario("name: t\ninterventions:\n  - intensify: {below: 0.3}\n", "t.yaml").scenario
    step = Step(0, 2026, "intensify", spec.interventions[0].body, ["b000"], extra={"opened_m2": {"b000": 360.0}})
    result = evaluate(town, Resolved(spec, [step]))
    assert result.totals["workstations_opened"] == 20.0
    assert result.totals["water_m3_day"] == pytest.approx(result.baseline_totals["water_m3_day"] + 20 * 0.05)
    assert result.totals["final_kwh"] == result.baseline_totals["final_kwh"]


def test_an_empty_scenario_gives_every_baseline_kpi_in_every_year(town: Baseline) -> None:
    result = evaluate(town, _scenario("name: t\n", []))
    assert result.totals.keys() >= result.baseline_totals.keys()
    for key, value in result.baseline_totals.items():
        assert result.totals[key] == value, key
        if key in result.years.column_names and key not in ("tertiary_compliant", "tertiary_target_kwh"):
            assert set(result.years[key].to_pylist()) == {value}, key
    assert result.buildings["final_kwh"].equals(result.buildings["final_kwh_before"])
