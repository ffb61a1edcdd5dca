"""Retrofit catalogue, measures and packages: savings, money, invariants and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildings.energy import Envelope, monthly_needs
from buildings.retrofit import (
    FinanceParameters,
    apply_package,
    assess_retrofit,
    load_catalogue,
    npv,
    resolve_measures,
    store_retrofit,
)
from tests.buildings.test_energy import climate, envelope, envelopes, temperatures
from twin import Twin
from twin.errors import TwinError

CATALOGUE = load_catalogue()


def pv_climate() -> object:
    base = climate()
    return type(base)(
        base.name, base.theta_e_c, base.hours, base.irradiance_kwh_m2, 45.7, 4.9, None, {(30.0, 180.0): 1400.0}
    )


def test_the_shipped_catalogue_has_every_kind_of_measure_and_flags_its_costs() -> None:
    kinds = {m.kind for m in CATALOGUE.measures.values()}
    assert kinds == {"insulate", "window", "heat_pump", "ventilation", "pv", "lighting"}
    assert "indicative" in CATALOGUE.costs_status
    assert CATALOGUE.measures["wall_external"].r_add_m2k_w == 3.7  # type: ignore[union-attr]  # CEE BAR-EN-102
    assert CATALOGUE.measures["roof"].r_add_m2k_w == 7.0  # type: ignore[union-attr]  # BAR-EN-101
    assert resolve_measures(CATALOGUE, "bbc")[1][-1] == "heat_pump"


def test_an_unknown_measure_name_is_a_clear_error_listing_the_known_ones() -> None:
    with pytest.raises(TwinError, match="'triple_glazing': unknown") as info:
        resolve_measures(CATALOGUE, "triple_glazing")
    assert "wall_external" in info.value.hint and "bbc" in info.value.hint


def test_a_catalogue_package_naming_an_unknown_measure_is_refused_with_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        "measures:\n"
        "  roof: {kind: insulate, element: roof, r_add_m2k_w: 7, cost_eur_per_m2: 30, lifetime_yr: 30}\n"
        "packages:\n  p: {measures: [roof, solar_roof]}\n"
    )
    with pytest.raises(TwinError, match=r"mine\.yaml: .*unknown measure 'solar_roof'"):
        load_catalogue(bad)
    bad.write_text("measures:\n  roof: {kind: insulate, element: attic, r_add_m2k_w: 7}\n")
    with pytest.raises(TwinError, match=r"mine\.yaml: measures\.roof"):
        load_catalogue(bad)
    bad.write_text("measures: [unclosed\n")
    with pytest.raises(TwinError, match=r"mine\.yaml, line \d+: not valid YAML"):
        load_catalogue(bad)


SINGLE = sorted(m for m in CATALOGUE.measures if m != "rooftop_pv")


@settings(max_examples=25, deadline=None)
@given(env=envelopes(), theta=temperatures, measure=st.sampled_from(SINGLE))
def test_no_measure_ever_raises_the_heating_need(env: Envelope, theta: np.ndarray, measure: str) -> None:
    table = assess_retrofit(env, climate(theta), CATALOGUE, measure).to_pylist()
    for row in table:
        assert row["heating_need_after_kwh"] <= row["heating_need_before_kwh"] * (1 + 1e-9) + 1e-9


def test_a_package_saves_more_than_its_best_single_measure_and_reports_money_and_dpe() -> None:
    env = envelope(u_w_m2k=np.tile([2.5, 2.5, 2.0, 3.1, 2.9], (1, 1)))  # an uninsulated 1960s house
    rows = {r["measure"]: r for r in assess_retrofit(env, climate(), CATALOGUE, "envelope").to_pylist()}
    assert set(rows) == {"wall_external", "roof", "low_floor", "windows", "*"}
    package = rows["*"]
    assert package["final_saved_kwh"] > max(r["final_saved_kwh"] for m, r in rows.items() if m != "*")
    assert package["capex_eur"] == pytest.approx(sum(r["capex_eur"] for m, r in rows.items() if m != "*"))
    assert package["simple_payback_yr"] == pytest.approx(package["capex_eur"] / package["cost_saved_eur_yr"])
    assert package["dpe_after"] < package["dpe_before"]  # letters: a better class sorts first
    assert rows["wall_external"]["capex_eur"] == pytest.approx(120.0 * 150.0)


def test_a_heat_pump_keeps_the_need_and_cuts_final_energy_by_its_cop() -> None:
    (row,) = assess_retrofit(envelope(), climate(), CATALOGUE, "heat_pump").to_pylist()
    assert row["heating_need_after_kwh"] == pytest.approx(row["heating_need_before_kwh"])
    assert row["final_saved_kwh"] > 0.6 * row["heating_need_before_kwh"]


def test_rooftop_pv_produces_roof_share_times_peak_power_times_irradiance_times_pr() -> None:
    (row,) = assess_retrofit(envelope(), pv_climate(), CATALOGUE, "rooftop_pv").to_pylist()  # type: ignore[arg-type]
    produced = 80.0 * 0.5 * 0.2 * 1400.0 * 0.8  # roof 80 m2, half of it, 0.2 kWp/m2, 1,400 kWh/m2, PR 0.8
    assert row["final_saved_kwh"] == pytest.approx(0.3 * produced)  # the self-consumed share
    assert row["cost_saved_eur_yr"] == pytest.approx(0.3 * produced * 0.25 + 0.7 * produced * 0.04)
    assert row["capex_eur"] == pytest.approx(80.0 * 0.5 * 0.2 * 1800.0)


def test_npv_discounts_escalated_savings_over_the_lifetime() -> None:
    flat = npv(np.array([1000.0]), np.array([100.0]), np.array([20.0]), FinanceParameters(0.0, 0.0))
    assert flat[0] == pytest.approx(1000.0)
    f = FinanceParameters(0.04, 0.02)
    by_hand = -1000.0 + sum(100.0 * 1.02 ** (y - 1) / 1.04**y for y in range(1, 21))
    assert npv(np.array([1000.0]), np.array([100.0]), np.array([20.0]), f)[0] == pytest.approx(by_hand)


def test_a_building_without_envelope_is_unknown_in_every_row() -> None:
    env = envelope(2, unknown_reason=np.array([None, "no envelope data"], dtype=object))
    rows = assess_retrofit(env, climate(), CATALOGUE, "quick_wins").to_pylist()
    assert {r["status"] for r in rows if r["building_id"] == "b1"} == {"unknown"}
    assert all(r["capex_eur"] is None for r in rows if r["building_id"] == "b1")
    assert {r["status"] for r in rows if r["building_id"] == "b0"} == {"ok"}


def test_the_measures_do_not_touch_the_envelope_they_were_given() -> None:
    env = envelope()
    before = monthly_needs(env, climate()).heating_kwh.copy()
    assess_retrofit(env, climate(), CATALOGUE, "bbc")
    np.testing.assert_array_equal(monthly_needs(env, climate()).heating_kwh, before)


def test_store_retrofit_replaces_the_rows_of_the_same_package(twin: Twin) -> None:
    table = assess_retrofit(envelope(), climate(), CATALOGUE, "roof")
    assert store_retrofit(twin, table) == 1
    store_retrofit(twin, table)
    assert twin.query("SELECT count(*) FROM res_retrofit").column(0)[0].as_py() == 1


def test_apply_package_gives_the_retrofitted_envelope_for_the_scenarios_engine() -> None:
    env = envelope()
    state = apply_package(env, climate(), CATALOGUE, "bbc")
    assert state.carrier.tolist() == ["heat_pump"] and state.envelope.heat_recovery[0] == 0.75
    assert state.envelope.u_w_m2k[0, 0] == pytest.approx(1 / (1 / 0.5 + 3.7))
    (row,) = [r for r in assess_retrofit(env, climate(), CATALOGUE, "bbc").to_pylist() if r["measure"] == "*"]
    assert row["heating_need_after_kwh"] == pytest.approx(
        monthly_needs(state.envelope, climate()).heating_annual_kwh[0]
    )
    assert row["capex_eur"] == pytest.approx(state.capex[0])
