"""Systems, DPE classes at and around every threshold, décret tertiaire and calibration."""

from __future__ import annotations

import numpy as np
import pytest

from buildings.energy_systems import (
    DPE_THRESHOLDS,
    DPE_THRESHOLDS_ALTITUDE,
    SystemParameters,
    calibration_factor,
    delivered_energy,
    dpe_class,
    tertiary_trajectory,
)

CLASSES = "ABCDEFG"
ENERGY_BOUNDS = [70, 110, 180, 250, 330, 420]
CLIMATE_BOUNDS = [6, 11, 30, 50, 70, 100]

# (value, class) at, just under and just over every bound of methods.md 2.4 (a bound belongs to the better class)
ENERGY_CASES = [(v, CLASSES[i]) for i, b in enumerate(ENERGY_BOUNDS) for v in (b - 0.01, b)] + [
    (b + 0.01, CLASSES[i + 1]) for i, b in enumerate(ENERGY_BOUNDS)
]
CLIMATE_CASES = [(v, CLASSES[i]) for i, b in enumerate(CLIMATE_BOUNDS) for v in (b - 0.01, b)] + [
    (b + 0.01, CLASSES[i + 1]) for i, b in enumerate(CLIMATE_BOUNDS)
]


@pytest.mark.parametrize(("primary", "expected"), ENERGY_CASES)
def test_the_energy_criterion_classes_at_and_around_every_threshold(primary: float, expected: str) -> None:
    overall, energy, climate = dpe_class(np.array([primary]), np.array([0.0]))
    assert (energy[0], climate[0], overall[0]) == (expected, "A", expected)


@pytest.mark.parametrize(("co2", "expected"), CLIMATE_CASES)
def test_the_climate_criterion_classes_at_and_around_every_threshold(co2: float, expected: str) -> None:
    overall, energy, climate = dpe_class(np.array([0.0]), np.array([co2]))
    assert (energy[0], climate[0], overall[0]) == ("A", expected, expected)


@pytest.mark.parametrize(
    ("primary", "co2", "expected"),
    [(60, 90, "F"), (400, 5, "F"), (250, 50, "D"), (250.01, 50, "E"), (250, 50.01, "E"), (421, 101, "G")],
)
def test_the_class_is_the_worse_of_the_two_criteria(primary: float, co2: float, expected: str) -> None:
    assert dpe_class(np.array([primary]), np.array([co2]))[0][0] == expected


def test_the_altitude_thresholds_move_only_e_and_f() -> None:
    values = np.array([330.5, 390.0, 390.5, 500.0, 500.5])
    assert dpe_class(values, np.zeros(5), DPE_THRESHOLDS_ALTITUDE)[1].tolist() == ["E", "E", "F", "F", "G"]
    assert dpe_class(values, np.zeros(5), DPE_THRESHOLDS)[1].tolist() == ["F", "F", "F", "G", "G"]


def test_an_unknown_value_gives_an_unknown_class() -> None:
    assert dpe_class(np.array([np.nan, 100.0]), np.array([5.0, np.nan]))[0].tolist() == ["unknown", "unknown"]


def test_electricity_is_counted_at_1_9_in_primary_energy_and_the_factor_is_configurable() -> None:
    args = (np.array([1000.0]), np.array([0.0]), np.array([100.0]), np.array(["office"]), np.array(["electric"]))
    assert delivered_energy(*args).primary_kwh[0] == pytest.approx(1900.0)
    old = SystemParameters(primary_factor={"electricity": 2.3, "gas": 1.0})
    assert delivered_energy(*args, params=old).primary_kwh[0] == pytest.approx(2300.0)


def test_gas_heating_uses_the_dpe_emission_factor_and_an_unknown_carrier_stays_unknown() -> None:
    d = delivered_energy(
        np.array([900.0, 900.0, 900.0]),
        np.zeros(3),
        np.full(3, 100.0),
        np.array(["office"] * 3),
        np.array(["gas", "district_heat", "peat"], dtype=object),
    )
    assert d.final_kwh[0] == pytest.approx(1000.0) and d.co2_kg[0] == pytest.approx(227.0)
    assert np.isfinite(d.final_kwh[1]) and np.isnan(d.co2_kg[1])  # district heating: factor per network
    assert np.isnan(d.final_kwh[2])


def test_cooling_counts_only_where_the_building_is_cooled() -> None:
    d = delivered_energy(
        np.zeros(2), np.array([300.0, 300.0]), np.full(2, 100.0), np.array(["office"] * 2),
        np.array(["gas", "gas"]), cooled=np.array([True, False]),
    )  # fmt: skip
    assert d.cooling_final_kwh.tolist() == [100.0, 0.0]


def test_the_decret_tertiaire_applies_from_1000_m2_of_tertiary_floor_only() -> None:
    t = tertiary_trajectory(
        np.array([100.0, 100.0, 100.0, 100.0]),
        np.array([999.0, 1000.0, 5000.0, 5000.0]),
        np.array(["office", "school", "housing", "commerce"], dtype=object),
        reference_kwh=np.array([np.nan, np.nan, np.nan, 200.0]),
    )
    assert t["subject"].tolist() == [False, True, False, True]
    assert t["target_2030_kwh"][1] == pytest.approx(60.0) and t["target_2050_kwh"][1] == pytest.approx(40.0)
    assert t["target_2030_kwh"][3] == pytest.approx(120.0) and t["gap_2030_kwh"][3] == pytest.approx(-20.0)
    assert np.isnan(t["target_2030_kwh"][0])


def test_the_calibration_factor_is_meter_over_model() -> None:
    assert calibration_factor(np.array([80.0]), np.array([100.0]))[0] == pytest.approx(1.25)
