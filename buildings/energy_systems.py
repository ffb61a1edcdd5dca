"""From needs to what is paid and emitted: systems, final and primary energy, CO2, DPE class, décret tertiaire,
and calibration against meters.

Pure and vectorised over buildings. Sources (methods.md):

- primary-energy factors: electricity 1.9 from 1 Jan 2026 (2.3 before), gas, oil and wood 1 (2.4 ✔ [P3,P4]);
- DPE emission factors, kgCO2e per kWh final (2.4 ✔ [N6,P5]): electricity for heating 0.079, for cooling 0.064,
  for hot water 0.065; natural gas 0.227; heating oil 0.324; wood 0.030; district heating per network (no
  default: unknown unless given);
- DPE 2021 classes on both thresholds, the worse of the two (2.4 ✔), with the altitude variant;
- décret tertiaire: -40 % 2030, -50 % 2040, -60 % 2050 for tertiary floor area >= 1,000 m2 (2.5 ✔ [E3,E4]).

Generation efficiencies and seasonal COPs are not in methods.md: the defaults of :data:`CARRIERS` are ⚠.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from buildings.energy import group_codes

__all__ = [
    "CARRIERS",
    "DPE_CLASSES",
    "DPE_THRESHOLDS",
    "DPE_THRESHOLDS_ALTITUDE",
    "TERTIARY_TARGETS",
    "Carrier",
    "DeliveredEnergy",
    "DpeThresholds",
    "SystemParameters",
    "calibration_factor",
    "delivered_energy",
    "dpe_class",
    "tertiary_trajectory",
]


@dataclass(frozen=True)
class Carrier:
    """A heating system's energy carrier: efficiency (or seasonal COP), primary-energy and CO2 factors."""

    efficiency: float
    """Seasonal generation + distribution efficiency (COP for heat pumps), final energy = need / efficiency ⚠."""
    energy: str
    """Energy bought: electricity, gas, oil, wood, district_heat."""
    co2_kg_kwh: float | None
    """DPE emission factor for heating, kgCO2e per kWh final (methods.md 2.4 ✔); None = unknown."""


CARRIERS: Mapping[str, Carrier] = MappingProxyType(
    {
        "gas": Carrier(0.90, "gas", 0.227),  # condensing/standard boiler mix ⚠
        "oil": Carrier(0.85, "oil", 0.324),
        "electric": Carrier(1.00, "electricity", 0.079),  # direct electric ("Joule")
        "heat_pump": Carrier(3.0, "electricity", 0.079),  # air-to-water seasonal COP ⚠
        "district_heat": Carrier(0.95, "district_heat", None),  # per network (annual arrêté): give it
        "wood": Carrier(0.75, "wood", 0.030),
    }
)
"""Heating carriers: efficiency ⚠ (not in methods.md), emission factor ✔ methods.md 2.4."""


@dataclass(frozen=True)
class SystemParameters:
    """Systems and factors; all overridable.

    Attributes
    ----------
    carriers : :data:`CARRIERS`.
    default_carrier : heating carrier where the twin does not know it (⚠ gas, the commonest in French housing).
    primary_factor : per energy bought; electricity 1.9 from 2026 (methods.md 2.4 ✔), others 1.
    cooling_eer : seasonal energy-efficiency ratio of cooling (⚠ 3.0), cooling on electricity at 0.064 kgCO2e/kWh.
    cooling_co2_kg_kwh : 0.064 ✔ methods.md 2.4.
    hot_water_kwh_m2 : domestic hot water need per m2 of floor and year by use (TABULA FR ``q_w_nd`` 15 for
        housing ⚠; 0 for others), delivered by the heating carrier.
    prices_eur_kwh : energy prices per energy bought, EUR/kWh incl. taxes ⚠ (2025 French regulated order of
        magnitude), for retrofit savings.
    """

    carriers: Mapping[str, Carrier] = field(default_factory=lambda: CARRIERS)
    default_carrier: str = "gas"
    primary_factor: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"electricity": 1.9, "gas": 1.0, "oil": 1.0, "wood": 1.0, "district_heat": 1.0}
        )
    )
    cooling_eer: float = 3.0
    cooling_co2_kg_kwh: float = 0.064
    hot_water_kwh_m2: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({"housing": 15.0}))
    prices_eur_kwh: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"electricity": 0.25, "gas": 0.12, "oil": 0.13, "wood": 0.08, "district_heat": 0.10}
        )
    )


@dataclass(frozen=True)
class DeliveredEnergy:
    """Annual final and primary energy, CO2 and cost per building (shape (n,)); NaN = unknown."""

    carrier: np.ndarray
    final_kwh: np.ndarray
    primary_kwh: np.ndarray
    co2_kg: np.ndarray
    cost_eur: np.ndarray
    heating_final_kwh: np.ndarray
    hot_water_final_kwh: np.ndarray
    cooling_final_kwh: np.ndarray


def _lookup(keys: np.ndarray, table: Mapping[str, object], attribute: str | None = None) -> np.ndarray:
    names, inverse = group_codes(keys)
    values = []
    for name in names:
        item = table.get(str(name)) if name is not None else None
        value = getattr(item, attribute) if (item is not None and attribute) else item
        values.append(np.nan if value is None else value)
    return np.asarray(values, dtype=float if attribute != "energy" else object)[inverse]


def delivered_energy(
    heating_need_kwh: np.ndarray,
    cooling_need_kwh: np.ndarray,
    floor_area_m2: np.ndarray,
    use: np.ndarray,
    carrier: np.ndarray | None = None,
    cooled: np.ndarray | None = None,
    params: SystemParameters | None = None,
) -> DeliveredEnergy:
    """Final, primary energy, CO2 (DPE factors) and cost of heating, hot water and (where ``cooled``) cooling.

    ``final = (Q_H + Q_W) / efficiency + cooled x Q_C / EER``; ``primary = final x factor(energy)``;
    ``co2 = heating final x factor(carrier) + cooling final x 0.064`` (methods.md 2.4 "How to compute"). An
    unknown carrier name gives NaN (unknown), never a guess; ``None`` entries take ``default_carrier``.

    >>> d = delivered_energy(np.array([9000.0]), np.array([0.0]), np.array([100.0]), np.array(["housing"]),
    ...                      np.array(["heat_pump"]))
    >>> float(d.final_kwh[0]), float(d.primary_kwh[0]), round(float(d.co2_kg[0]), 1)
    (3500.0, 6650.0, 276.5)
    """
    p = params or SystemParameters()
    n = len(heating_need_kwh)
    carriers = (
        np.asarray(carrier, dtype=object) if carrier is not None else np.full(n, None, dtype=object)
    ).copy()
    carriers[np.array([c is None for c in carriers], dtype=bool)] = p.default_carrier
    cooled_mask = np.zeros(n, bool) if cooled is None else np.asarray(cooled, dtype=bool)
    efficiency = _lookup(carriers, p.carriers, "efficiency")
    energy = _lookup(carriers, p.carriers, "energy")
    co2_factor = _lookup(carriers, p.carriers, "co2_kg_kwh")
    energy_known = np.array([e == e and e is not None for e in energy], dtype=bool)
    energy_str = np.where(energy_known, energy, "unknown")
    primary = _lookup(energy_str, p.primary_factor)
    price = _lookup(energy_str, p.prices_eur_kwh)
    dhw_need = _lookup(np.asarray(use, dtype=object), p.hot_water_kwh_m2)
    dhw_need = np.nan_to_num(dhw_need, nan=0.0) * np.asarray(floor_area_m2, dtype=float)

    heating_final = np.asarray(heating_need_kwh, float) / efficiency
    dhw_final = dhw_need / efficiency
    cooling_final = np.where(cooled_mask, np.asarray(cooling_need_kwh, float) / p.cooling_eer, 0.0)
    elec_primary = p.primary_factor.get("electricity", np.nan)
    elec_price = p.prices_eur_kwh.get("electricity", np.nan)
    final = heating_final + dhw_final + cooling_final
    return DeliveredEnergy(
        carrier=carriers,
        final_kwh=final,
        primary_kwh=(heating_final + dhw_final) * primary + cooling_final * elec_primary,
        co2_kg=(heating_final + dhw_final) * co2_factor + cooling_final * p.cooling_co2_kg_kwh,
        cost_eur=(heating_final + dhw_final) * price + cooling_final * elec_price,
        heating_final_kwh=heating_final,
        hot_water_final_kwh=dhw_final,
        cooling_final_kwh=cooling_final,
    )


DPE_CLASSES = ("A", "B", "C", "D", "E", "F", "G")


@dataclass(frozen=True)
class DpeThresholds:
    """Upper bounds (inclusive) of classes A..F; above the last bound is G (methods.md 2.4 ✔)."""

    primary_kwh_m2: tuple[float, ...] = (70, 110, 180, 250, 330, 420)
    co2_kg_m2: tuple[float, ...] = (6, 11, 30, 50, 70, 100)


DPE_THRESHOLDS = DpeThresholds()
DPE_THRESHOLDS_ALTITUDE = DpeThresholds((70, 110, 180, 250, 390, 500), (6, 11, 30, 50, 80, 110))
"""Zones H1b, H1c and H2d above 800 m: E <= 390 and F <= 500 kWh; GES E <= 80 and F <= 110 (methods.md 2.4 ✔)."""


def dpe_class(
    primary_kwh_m2: np.ndarray, co2_kg_m2: np.ndarray, thresholds: DpeThresholds = DPE_THRESHOLDS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DPE 2021 class of dwellings: (class, energy class, climate class), the class being the worse of the two.

    A value equal to a bound belongs to the better class (``<=``). NaN gives ``unknown``. Dwellings under 40 m2
    have higher bounds (methods.md 2.4) that are not applied here.

    >>> dpe_class(np.array([70.0, 70.1, 421.0, np.nan]), np.array([6.0, 5.0, 5.0, 5.0]))[0].tolist()
    ['A', 'B', 'G', 'unknown']
    """
    labels = np.array([*DPE_CLASSES, "unknown"], dtype=object)

    def grade(values: np.ndarray, bounds: tuple[float, ...]) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        i = np.searchsorted(np.asarray(bounds, dtype=float), v, side="left")
        return np.where(np.isfinite(v), i, len(DPE_CLASSES))

    energy = grade(primary_kwh_m2, thresholds.primary_kwh_m2)
    climate = grade(co2_kg_m2, thresholds.co2_kg_m2)
    return labels[np.maximum(energy, climate)], labels[energy], labels[climate]


TERTIARY_TARGETS: Mapping[int, float] = MappingProxyType({2030: 0.40, 2040: 0.50, 2050: 0.60})
"""Décret tertiaire reductions of final energy from the reference year (methods.md 2.5 ✔)."""

TERTIARY_USES = frozenset({"office", "commerce", "school", "public"})


def tertiary_trajectory(
    final_kwh: np.ndarray,
    floor_area_m2: np.ndarray,
    use: np.ndarray,
    reference_kwh: np.ndarray | None = None,
    min_area_m2: float = 1000.0,
    targets: Mapping[int, float] = TERTIARY_TARGETS,
) -> dict[str, np.ndarray]:
    """Décret tertiaire (décret 2019-771): which buildings are subject, and their final-energy targets, kWh.

    Subject: a tertiary use (office, commerce, school, public) and floor area >= 1,000 m2. The reference is the
    given reference-year consumption, else the modelled one (said by ``reference_source``). Returns arrays
    ``subject``, ``reference_kwh``, ``reference_source``, ``target_<year>_kwh`` (NaN where not subject) and
    ``gap_2030_kwh`` (current minus the 2030 target; > 0 means more to save).

    >>> t = tertiary_trajectory(np.array([100000.0]), np.array([2000.0]), np.array(["office"]))
    >>> bool(t["subject"][0]), float(t["target_2030_kwh"][0]), float(t["gap_2030_kwh"][0])
    (True, 60000.0, 40000.0)
    """
    final = np.asarray(final_kwh, dtype=float)
    subject = np.isin(np.asarray(use, dtype=object).astype(str), list(TERTIARY_USES)) & (
        np.nan_to_num(np.asarray(floor_area_m2, float)) >= min_area_m2
    )
    given = np.asarray(reference_kwh, float) if reference_kwh is not None else np.full(len(final), np.nan)
    reference = np.where(np.isfinite(given), given, final)
    out: dict[str, np.ndarray] = {
        "subject": subject,
        "reference_kwh": np.where(subject, reference, np.nan),
        "reference_source": np.where(np.isfinite(given), "given", "model").astype(object),
    }
    for year, cut in sorted(targets.items()):
        out[f"target_{year}_kwh"] = np.where(subject, reference * (1.0 - cut), np.nan)
    if 2030 in targets:
        out["gap_2030_kwh"] = np.where(subject, final - out["target_2030_kwh"], np.nan)
    return out


def calibration_factor(model_kwh: np.ndarray, metered_kwh: np.ndarray) -> np.ndarray:
    """Meter / model ratio per building (NaN where either is missing or the model is 0).

    Applied as ``calibrated = factor x model``; a factor far from 1 says the model misses something (occupancy,
    set points, system efficiency) as much as it corrects it.

    >>> calibration_factor(np.array([100.0, 0.0, np.nan]), np.array([120.0, 5.0, 3.0])).tolist()
    [1.2, nan, nan]
    """
    m = np.asarray(model_kwh, dtype=float)
    y = np.asarray(metered_kwh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(m) & np.isfinite(y) & (m > 0), y / np.where(m > 0, m, 1.0), np.nan)
