"""The monthly ISO 13790 balance: a hand-computed month, invariants, the utilisation factors, both routes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from buildings.energy import (
    SURFACE_KINDS,
    EnergyParameters,
    Envelope,
    cooling_utilisation,
    heat_transfer_coefficients,
    heating_utilisation,
    monthly_needs,
)
from buildings.energy_archetypes import (
    ArchetypeParameters,
    envelope_from_lod1,
    envelope_from_surfaces,
    tabula_archetypes,
)
from buildings.weather import ORIENTATIONS, Climate
from tests.conftest import shared_data
from twin.errors import TwinError

LYON_LIKE = np.array([3.9, 4.2, 8.1, 12.1, 16.4, 20.8, 22.6, 22.3, 18.0, 13.8, 8.8, 4.7])
HOURS = np.array([744, 672, 744, 720, 744, 720, 744, 744, 720, 744, 720, 744], dtype=float)


def climate(theta: np.ndarray = LYON_LIKE, sun: float = 1.0) -> Climate:
    irradiance = np.tile(np.array([20, 30, 50, 70, 80, 70, 50, 30, 60], float)[:, None], (1, 12)) * sun
    return Climate("synthetic", np.asarray(theta, float), HOURS, irradiance, 45.7, 4.9)


def envelope(n: int = 1, **overrides: np.ndarray) -> Envelope:
    """n identical single-zone houses: 100 m2 floor, 250 m3, walls, roof, floor and 20 m2 of windows."""
    windows = np.zeros((n, len(ORIENTATIONS)))
    windows[:, ORIENTATIONS.index("S")] = 12.0
    windows[:, ORIENTATIONS.index("N")] = 8.0
    fields = {
        "building_id": np.array([f"b{i}" for i in range(n)], dtype=object),
        "route": np.full(n, "ifc", dtype=object),
        "floor_area_m2": np.full(n, 100.0),
        "volume_m3": np.full(n, 250.0),
        "area_m2": np.tile([120.0, 80.0, 80.0, 2.0, 20.0], (n, 1)),
        "u_w_m2k": np.tile([0.5, 0.3, 0.4, 2.0, 1.8], (n, 1)),
        "window_area_m2": windows,
        "ventilation_1_h": np.full(n, 0.4),
        "infiltration_1_h": np.full(n, 0.2),
        "heat_recovery": np.zeros(n),
        "heat_capacity_class": np.full(n, "medium", dtype=object),
        "use": np.full(n, "housing", dtype=object),
        "unknown_reason": np.full(n, None, dtype=object),
    }
    fields.update(overrides)
    return Envelope(**fields)


def test_a_hand_computed_month_of_transmission_and_ventilation_matches_the_engine_to_a_thousandth() -> None:
    # January, theta_e = 3.9 degC, 19 degC inside, 744 h, no gains (no sun, no internal gains).
    # H_tr = 120x0.5 + 80x0.3 + 0.5x80x0.4 + 2x2.0 + 20x1.8 = 60 + 24 + 16 + 4 + 36 = 140 W/K
    #        + thermal bridges 0.05 x (120 + 80 + 80 + 2 + 20) = 15.1 W/K  -> 155.1 W/K
    # H_ve = 0.34 x 250 x (0.4 + 0.2) = 51 W/K
    # Q_H  = (155.1 + 51) x (19 - 3.9) x 744 / 1000 = 2315.4 kWh (to 0.1 kWh: 206.1 x 15.1 x 0.744)
    hand = (155.1 + 51.0) * (19.0 - 3.9) * 744.0 / 1000.0
    env = envelope(use=np.array(["parking"], dtype=object))  # parking: no internal gains
    needs = monthly_needs(env, climate(sun=0.0))
    assert needs.h_tr_w_k[0] == pytest.approx(155.1, rel=1e-9)
    assert needs.h_ve_w_k[0] == pytest.approx(51.0, rel=1e-9)
    assert needs.heating_kwh[0, 0] == pytest.approx(hand, rel=1e-3)
    assert needs.transmission_kwh[0, 0] + needs.ventilation_kwh[0, 0] == pytest.approx(hand, rel=1e-9)


def test_the_utilisation_factor_takes_its_three_forms_and_is_continuous_at_one() -> None:
    a = 2.5
    assert heating_utilisation(np.array([1.0]), a)[0] == pytest.approx(a / (a + 1))
    near = heating_utilisation(np.array([1 - 1e-6, 1 + 1e-6]), a)
    assert near == pytest.approx([a / (a + 1)] * 2, abs=1e-5)
    assert heating_utilisation(np.array([-0.5]), a)[0] == pytest.approx(-2.0)
    assert heating_utilisation(np.array([0.0]), a)[0] == 1.0
    assert heating_utilisation(np.array([1e12]), a)[0] == pytest.approx(0.0, abs=1e-9)
    assert cooling_utilisation(np.array([1.0]), a)[0] == pytest.approx(a / (a + 1))
    assert cooling_utilisation(np.array([-3.0, np.inf]), a).tolist() == [1.0, 1.0]


def test_a_heavier_building_uses_more_of_its_gains() -> None:
    light = monthly_needs(envelope(heat_capacity_class=np.array(["very_light"], dtype=object)), climate())
    heavy = monthly_needs(envelope(heat_capacity_class=np.array(["very_heavy"], dtype=object)), climate())
    assert heavy.tau_h[0] > light.tau_h[0]
    assert heavy.heating_annual_kwh[0] < light.heating_annual_kwh[0]


positive = st.floats(0.0, 500.0, allow_nan=False, allow_subnormal=False)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    n = draw(st.integers(1, 8))
    area = draw(arrays(float, (n, len(SURFACE_KINDS)), elements=positive))
    u = draw(arrays(float, (n, len(SURFACE_KINDS)), elements=st.floats(0.05, 6.0)))
    windows = draw(arrays(float, (n, len(ORIENTATIONS)), elements=st.floats(0.0, 60.0, allow_subnormal=False)))
    area[:, SURFACE_KINDS.index("window")] = windows.sum(axis=1)
    classes = draw(st.lists(st.sampled_from(["very_light", "light", "medium", "heavy", "very_heavy"]), min_size=n,
                            max_size=n))  # fmt: skip
    uses = draw(st.lists(st.sampled_from(["housing", "office", "parking", "school"]), min_size=n, max_size=n))
    return envelope(
        n,
        floor_area_m2=draw(arrays(float, n, elements=st.floats(10.0, 5000.0))),
        volume_m3=draw(arrays(float, n, elements=st.floats(10.0, 15000.0))),
        area_m2=area,
        u_w_m2k=u,
        window_area_m2=windows,
        ventilation_1_h=draw(arrays(float, n, elements=st.floats(0.0, 2.0, allow_subnormal=False))),
        infiltration_1_h=draw(arrays(float, n, elements=st.floats(0.0, 1.0, allow_subnormal=False))),
        heat_capacity_class=np.array(classes, dtype=object),
        use=np.array(uses, dtype=object),
    )


temperatures = arrays(float, 12, elements=st.floats(-15.0, 35.0, allow_subnormal=False))


@settings(max_examples=30, deadline=None)
@given(env=envelopes(), theta=temperatures, sun=st.floats(0.0, 3.0, allow_subnormal=False))
def test_needs_are_never_negative(env: Envelope, theta: np.ndarray, sun: float) -> None:
    needs = monthly_needs(env, climate(theta, sun))
    assert np.all(needs.heating_kwh >= 0) and np.all(needs.cooling_kwh >= 0)
    assert np.all(np.isfinite(needs.heating_kwh)) and np.all(np.isfinite(needs.cooling_kwh))


@settings(max_examples=30, deadline=None)
@given(env=envelopes(), theta=temperatures)
def test_with_no_gains_the_utilisation_terms_vanish(env: Envelope, theta: np.ndarray) -> None:
    no_gains = EnergyParameters(internal_gains_w_m2={}, default_use="parking")
    needs = monthly_needs(
        env.with_(window_area_m2=np.zeros_like(env.window_area_m2)), climate(theta, 0.0), no_gains
    )
    losses = needs.transmission_kwh + needs.ventilation_kwh
    assert np.all(needs.internal_gains_kwh == 0) and np.all(needs.solar_gains_kwh == 0)
    np.testing.assert_allclose(needs.heating_kwh, np.maximum(losses, 0.0), rtol=1e-12, atol=1e-9)
    # no gains to remove: cooling only where the outside is warmer than the cooling set point (eta_C,ls = 1)
    h = needs.h_tr_w_k + needs.h_ve_w_k
    inflow = h[:, None] * (theta - no_gains.theta_cooling_c)[None, :] * HOURS[None, :] / 1000.0
    np.testing.assert_allclose(needs.cooling_kwh, np.maximum(inflow, 0.0), rtol=1e-12, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(env=envelopes(), theta=temperatures, seed=st.integers(0, 2**31))
def test_results_do_not_depend_on_the_order_of_buildings(env: Envelope, theta: np.ndarray, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(len(env))
    first = monthly_needs(env, climate(theta))
    shuffled = monthly_needs(env.take(order), climate(theta))
    np.testing.assert_allclose(shuffled.heating_kwh, first.heating_kwh[order], rtol=1e-12)
    np.testing.assert_allclose(shuffled.cooling_kwh, first.cooling_kwh[order], rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(env=envelopes(), theta=temperatures, factor=st.floats(0.1, 1.0))
def test_lower_u_values_never_raise_the_heating_need(env: Envelope, theta: np.ndarray, factor: float) -> None:
    before = monthly_needs(env, climate(theta))
    after = monthly_needs(env.with_(u_w_m2k=env.u_w_m2k * factor), climate(theta))
    assert np.all(after.heating_annual_kwh <= before.heating_annual_kwh * (1 + 1e-9) + 1e-9)


def test_a_building_with_an_unknown_reason_gives_nan_and_the_others_are_untouched() -> None:
    env = envelope(2, unknown_reason=np.array([None, "no envelope data"], dtype=object))
    needs = monthly_needs(env, climate())
    assert np.isfinite(needs.heating_kwh[0]).all() and np.isnan(needs.heating_kwh[1]).all()
    alone = monthly_needs(env.take(np.array([0])), climate())
    np.testing.assert_allclose(needs.heating_kwh[0], alone.heating_kwh[0])


def test_the_lod1_route_builds_a_prism_with_period_u_values() -> None:
    env = envelope_from_lod1(
        np.array(["a", "b", "c", "d"], dtype=object),
        np.array([100.0, 100.0, None, 100.0], dtype=object),
        np.array([6.0, None, 6.0, 9.0], dtype=object),
        np.array([None, 3, 2, 3], dtype=object),
        np.array([1960, 2015, 2000, None], dtype=object),
        np.array(["housing", "office", "housing", "housing"], dtype=object),
    )
    assert env.route.tolist() == ["lod1"] * 4
    # a: 2 storeys from 6 m / 3 m, square footprint 10 x 10 -> facade 40 x 6 = 240 m2, 18 % windows
    assert env.floor_area_m2[0] == pytest.approx(0.85 * 200)
    assert env.area_m2[0].tolist() == pytest.approx([240 * 0.82, 100, 100, 0, 240 * 0.18])
    assert env.u_w_m2k[0, 0] == 2.5 and env.u_w_m2k[1, 0] == 0.23  # <= 1974 and >= 2013 walls (3CL, H1)
    assert env.u_w_m2k[1, 1] == 0.14  # office: flat roof
    assert env.unknown_reason.tolist() == [
        None,
        None,
        "footprint area unknown",
        "construction year unknown: no archetype U-values (set a default year to assume one)",
    ]
    assert any("square" in a for a in env.assumptions[0])


def test_the_ifc_route_sums_areas_and_fills_missing_u_values_from_the_period() -> None:
    surfaces = {
        "building_id": np.array(["x", "x", "x", "x"], dtype=object),
        "surface_kind": np.array(["wall", "wall", "window", "roof"], dtype=object),
        "orientation": np.array(["N", "S", "S", "horizontal"], dtype=object),
        "area_m2": np.array([50.0, 50.0, 10.0, 80.0]),
        "u_value_w_m2k": np.array([0.3, np.nan, 1.4, 0.2]),
        "u_known_area_m2": np.array([50.0, 0.0, 10.0, 40.0]),
    }
    env = envelope_from_surfaces(
        np.array(["x", "empty"], dtype=object), surfaces, np.array([160.0, 100.0]), np.array([2008, 2008]),
        np.array([None, None], dtype=object),
    )  # fmt: skip
    assert env.area_m2[0].tolist() == [100.0, 80.0, 0.0, 0.0, 10.0]
    assert env.window_area_m2[0, ORIENTATIONS.index("S")] == 10.0
    assert env.u_w_m2k[0, 0] == pytest.approx((50 * 0.3 + 50 * 0.36) / 100)  # half from the 2006-12 default
    assert env.u_w_m2k[0, 1] == pytest.approx((40 * 0.2 + 40 * 0.27) / 80)  # flat-roof default for the rest
    assert env.unknown_reason[1].startswith("no envelope data")
    np.testing.assert_allclose(heat_transfer_coefficients(env, EnergyParameters())[0][1], 0.0)


def test_the_tabula_typology_gives_an_archetype_table_by_period() -> None:
    table = tabula_archetypes(shared_data("tabula-france-typology", "tabula_france.csv"), "SFH")
    assert len(table.last_year) == 10 and table.last_year[0] == 1914 and table.last_year[-1] == 9999
    assert table.u_wall[1] == 2.5 and table.u_window[-1] == 1.4  # 1915-48 walls; 2013+ windows
    env = envelope_from_lod1(
        np.array(["a"], dtype=object), np.array([100.0]), np.array([6.0]), np.array([2]), np.array([1930]),
        np.array(["housing"], dtype=object), params=ArchetypeParameters(table=table),
    )  # fmt: skip
    assert env.u_w_m2k[0, 0] == 2.5 and "TABULA" in env.assumptions[0][0]
    with pytest.raises(TwinError, match="no existing-state row of size class XL"):
        tabula_archetypes(shared_data("tabula-france-typology", "tabula_france.csv"), "XL")
