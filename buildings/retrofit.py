"""Retrofit measures and packages: what each saves (kWh, EUR, tCO2 per year), costs, pays back, and the DPE class
after, building by building.

The catalogue is a YAML file shipped with the package (``buildings/catalogue/retrofit-fr.yaml``; targets from
methods.md 2.3, costs indicative), validated by pydantic (:func:`load_catalogue`). A measure changes the envelope
or the system, and the monthly balance (:mod:`buildings.energy`) is run again (methods.md 2.3 "How to compute"):

- ``insulate``: ``U' = 1/(1/U + R_add)`` on one element kind; capex = area x EUR/m2;
- ``window``: ``U' = min(U, U_new)``; capex = window area x EUR/m2;
- ``heat_pump``: heating carrier becomes ``heat_pump``; capex = EUR/kW x ``(H_tr + H_ve)(theta_int -
  theta_design)`` of the envelope after the package's other measures;
- ``ventilation``: heat recovery on the ventilation air; capex = EUR/m2 of floor;
- ``pv``: rooftop PV, ``roof area x share x kWp/m2 x annual irradiance on the plane (pvlib, from the EPW) x PR``;
  the self-consumed share saves electricity at its price, the surplus sells at the export price; capex = EUR/kWp;
- ``lighting``: LED lighting electricity saved ``floor x (P_before - P_after) x hours``; its effect on the
  internal gains is neglected (it would slightly raise the heating need).

Money: ``simple payback = capex / EUR saved per year``; ``NPV = -capex + sum_{y=1..L} S (1+e)^(y-1)/(1+r)^y``
with the discount rate r and the energy price escalation e (:class:`FinanceParameters`). A package's lifetime
is the capex-weighted mean of its measures'. No measure raises the heating need (tested).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from buildings.energy import SURFACE_KINDS, EnergyParameters, Envelope, heat_transfer_coefficients, monthly_needs
from buildings.energy_systems import (
    DPE_THRESHOLDS,
    DpeThresholds,
    SystemParameters,
    delivered_energy,
    dpe_class,
)
from buildings.weather import Climate
from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "DEFAULT_CATALOGUE",
    "Catalogue",
    "FinanceParameters",
    "Measure",
    "RetrofitState",
    "apply_package",
    "assess_retrofit",
    "load_catalogue",
    "measure_names",
    "npv",
    "resolve_measures",
    "store_retrofit",
]

DEFAULT_CATALOGUE = "retrofit-fr.yaml"
"""The catalogue shipped in ``buildings/catalogue/``."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str = ""
    lifetime_yr: float = Field(gt=0)


class Insulate(_Base):
    kind: Literal["insulate"]
    element: Literal["wall", "roof", "ground_floor"]
    r_add_m2k_w: float = Field(gt=0)
    cost_eur_per_m2: float = Field(ge=0)


class Window(_Base):
    kind: Literal["window"]
    u_new_w_m2k: float = Field(gt=0)
    cost_eur_per_m2: float = Field(ge=0)


class HeatPump(_Base):
    kind: Literal["heat_pump"]
    carrier: str = "heat_pump"
    cost_eur_per_kw: float = Field(ge=0)
    design_temperature_c: float = -7.0


class Ventilation(_Base):
    kind: Literal["ventilation"]
    heat_recovery: float = Field(gt=0, lt=1)
    cost_eur_per_m2: float = Field(ge=0)


class Pv(_Base):
    kind: Literal["pv"]
    roof_share: float = Field(gt=0, le=1)
    kwp_per_m2: float = Field(gt=0)
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    performance_ratio: float = Field(gt=0, le=1)
    self_consumed_share: float = Field(ge=0, le=1)
    export_price_eur_kwh: float = Field(ge=0)
    cost_eur_per_kwp: float = Field(ge=0)


class Lighting(_Base):
    kind: Literal["lighting"]
    power_before_w_m2: dict[str, float]
    power_after_w_m2: dict[str, float]
    hours_per_yr: dict[str, float]
    cost_eur_per_m2: dict[str, float]


Measure = Annotated[Insulate | Window | HeatPump | Ventilation | Pv | Lighting, Field(discriminator="kind")]


class Package(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str = ""
    measures: list[str] = Field(min_length=1)


class Catalogue(BaseModel):
    """A retrofit catalogue: measures by name and packages combining them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    currency: str = "EUR"
    costs_status: str = "indicative"
    measures: dict[str, Measure]
    packages: dict[str, Package] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _packages_name_measures(self) -> Catalogue:
        for name, package in self.packages.items():
            unknown = [m for m in package.measures if m not in self.measures]
            if unknown:
                raise ValueError(f"package {name}: unknown measure {unknown[0]!r}")
        return self


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue at ``path``, or the one shipped with the package; a bad file is a TwinError naming it."""
    if path is None:
        text = resources.files("buildings").joinpath("catalogue", DEFAULT_CATALOGUE).read_text(encoding="utf-8")
        where = f"buildings/catalogue/{DEFAULT_CATALOGUE}"
    else:
        file = Path(path)
        if not file.is_file():
            raise TwinError(f"retrofit catalogue {file}: not found", "give a YAML catalogue, or leave the default")
        text, where = file.read_text(encoding="utf-8"), str(file)
    try:
        return Catalogue.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f", line {line + 1}" if line is not None else ""
        raise TwinError(f"retrofit catalogue {where}{at}: not valid YAML", "fix the YAML syntax") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise TwinError(f"retrofit catalogue {where}: {loc}: {first['msg']}", "fix the catalogue entry") from exc


def resolve_measures(catalogue: Catalogue, name: str) -> tuple[str, list[str]]:
    """(package name, its measure names) for a package or a single measure; unknown -> TwinError listing names.

    >>> resolve_measures(load_catalogue(), "roof")
    ('roof', ['roof'])
    """
    if name in catalogue.packages:
        return name, list(catalogue.packages[name].measures)
    if name in catalogue.measures:
        return name, [name]
    raise TwinError(
        f"retrofit measure or package '{name}': unknown",
        f"packages: {', '.join(sorted(catalogue.packages))}; measures: {', '.join(sorted(catalogue.measures))}",
    )


@dataclass(frozen=True)
class FinanceParameters:
    """Discount rate and energy price escalation per year (both ⚠ defaults: 3 % and 2 %)."""

    discount_rate: float = 0.03
    price_escalation: float = 0.02


def npv(
    capex: np.ndarray, saving_eur_yr: np.ndarray, lifetime_yr: np.ndarray, finance: FinanceParameters
) -> np.ndarray:
    """``-capex + sum_{y=1..L} S (1+e)^(y-1) / (1+r)^y``, with a fractional last year pro rata.

    >>> float(npv(np.array([1000.0]), np.array([100.0]), np.array([10.0]), FinanceParameters(0.0, 0.0))[0])
    0.0
    """
    life = np.asarray(lifetime_yr, dtype=float)
    years = np.arange(1, int(np.ceil(np.nanmax(life, initial=1))) + 1, dtype=float)
    weight = np.clip(life[:, None] - (years[None, :] - 1), 0.0, 1.0)
    factor = ((1 + finance.price_escalation) ** (years - 1) / (1 + finance.discount_rate) ** years)[None, :]
    return -np.asarray(capex, float) + np.asarray(saving_eur_yr, float) * (weight * factor).sum(axis=1)


def _by_use(values: Mapping[str, float], use: np.ndarray) -> np.ndarray:
    default = values.get("default", 0.0)
    return np.array([values.get(str(u), default) for u in use], dtype=float)


@dataclass
class RetrofitState:
    """Buildings after some measures: the changed envelope and carriers, PV and lighting savings, capex.

    ``capex_life`` is the sum of capex x lifetime (for the capex-weighted lifetime of a package).
    """

    envelope: Envelope
    carrier: np.ndarray
    pv_kwh: np.ndarray  # self-consumed PV electricity, kWh/yr
    pv_export_eur: np.ndarray  # PV surplus sold, EUR/yr
    lighting_kwh: np.ndarray
    capex: np.ndarray
    capex_life: np.ndarray  # sum of capex x lifetime, for the weighted lifetime


def _apply(
    state: RetrofitState, measure: Measure, climate: Climate, params: EnergyParameters, systems: SystemParameters
) -> RetrofitState:
    env = state.envelope
    n = len(env)
    capex = np.zeros(n)
    pv = state.pv_kwh.copy()
    export = state.pv_export_eur.copy()
    light = state.lighting_kwh.copy()
    carrier = state.carrier.copy()
    if isinstance(measure, Insulate):
        k = SURFACE_KINDS.index(measure.element)
        u = env.u_w_m2k.copy()
        with np.errstate(divide="ignore"):
            u[:, k] = np.where(u[:, k] > 0, 1.0 / (1.0 / u[:, k] + measure.r_add_m2k_w), u[:, k])
        env = env.with_(u_w_m2k=u)
        capex = env.area_m2[:, k] * measure.cost_eur_per_m2
    elif isinstance(measure, Window):
        k = SURFACE_KINDS.index("window")
        u = env.u_w_m2k.copy()
        u[:, k] = np.minimum(u[:, k], measure.u_new_w_m2k)
        env = env.with_(u_w_m2k=u)
        capex = env.area_m2[:, k] * measure.cost_eur_per_m2
    elif isinstance(measure, Ventilation):
        env = env.with_(heat_recovery=np.maximum(env.heat_recovery, measure.heat_recovery))
        capex = env.floor_area_m2 * measure.cost_eur_per_m2
    elif isinstance(measure, HeatPump):
        carrier = np.full(n, measure.carrier, dtype=object)
        h_tr, h_ve = heat_transfer_coefficients(env, params)
        kw = (h_tr + h_ve) * (params.theta_heating_c - measure.design_temperature_c) / 1000.0
        capex = kw * measure.cost_eur_per_kw
    elif isinstance(measure, Pv):
        plane = (float(measure.tilt_deg), float(measure.azimuth_deg))
        if plane not in climate.pv_planes_kwh_m2:
            raise TwinError(
                f"rooftop PV plane tilt {plane[0]} azimuth {plane[1]}: no irradiance in the climate",
                f"use one of {sorted(climate.pv_planes_kwh_m2)}",
            )
        roof = env.area_m2[:, SURFACE_KINDS.index("roof")]
        kwp = roof * measure.roof_share * measure.kwp_per_m2
        produced = kwp * climate.pv_planes_kwh_m2[plane] * measure.performance_ratio
        pv = pv + produced * measure.self_consumed_share
        export = export + produced * (1 - measure.self_consumed_share) * measure.export_price_eur_kwh
        capex = kwp * measure.cost_eur_per_kwp
    elif isinstance(measure, Lighting):
        use = np.array([u if u is not None else params.default_use for u in env.use], dtype=object)
        delta = np.clip(_by_use(measure.power_before_w_m2, use) - _by_use(measure.power_after_w_m2, use), 0, None)
        light = light + env.floor_area_m2 * delta * _by_use(measure.hours_per_yr, use) / 1000.0
        capex = env.floor_area_m2 * _by_use(measure.cost_eur_per_m2, use)
    return RetrofitState(
        env, carrier, pv, export, light, state.capex + capex, state.capex_life + capex * measure.lifetime_yr
    )


def apply_package(
    envelope: Envelope,
    climate: Climate,
    catalogue: Catalogue,
    package: str,
    *,
    carrier: np.ndarray | None = None,
    params: EnergyParameters | None = None,
    systems: SystemParameters | None = None,
) -> RetrofitState:
    """The buildings after every measure of ``package`` (or one measure), in the package's order.

    For the scenarios engine: run :func:`~buildings.energy.monthly_needs` on ``state.envelope`` and
    :func:`~buildings.energy_systems.delivered_energy` with ``state.carrier`` to get the retrofitted twin's energy.
    """
    p = params or EnergyParameters()
    s = systems or SystemParameters()
    _, measures = resolve_measures(catalogue, package)
    n = len(envelope)
    base = np.asarray(carrier, dtype=object).copy() if carrier is not None else np.full(n, None, dtype=object)
    base[np.array([c is None for c in base], dtype=bool)] = s.default_carrier
    zero = np.zeros(n)
    state = RetrofitState(envelope, base, zero, zero, zero, zero, zero)
    for m in measures:
        state = _apply(state, catalogue.measures[m], climate, p, s)
    return state


def assess_retrofit(
    envelope: Envelope,
    climate: Climate,
    catalogue: Catalogue,
    package: str,
    *,
    carrier: np.ndarray | None = None,
    params: EnergyParameters | None = None,
    systems: SystemParameters | None = None,
    finance: FinanceParameters | None = None,
    dpe_thresholds: DpeThresholds = DPE_THRESHOLDS,
    each_measure: bool = True,
    scenario_id: int = 0,
) -> pa.Table:
    """Savings, capex, payback, NPV and DPE after, for a package (or one measure) over every building.

    Returns ``res_retrofit`` rows: one per building for the whole package (``measure = '*'``) and, with
    ``each_measure``, one per building and measure applied alone to the current state. Buildings whose envelope
    is unknown get ``status = unknown`` with the reason.
    """
    p = params or EnergyParameters()
    s = systems or SystemParameters()
    f = finance or FinanceParameters()
    name, measures = resolve_measures(catalogue, package)
    n = len(envelope)
    base_carrier = (
        np.asarray(carrier, dtype=object).copy() if carrier is not None else np.full(n, None, dtype=object)
    )
    base_carrier[np.array([c is None for c in base_carrier], dtype=bool)] = s.default_carrier
    use = np.array([u if u is not None else p.default_use for u in envelope.use], dtype=object)
    area = np.asarray(envelope.floor_area_m2, dtype=float)
    elec_price = s.prices_eur_kwh.get("electricity", np.nan)
    elec_co2 = s.cooling_co2_kg_kwh

    def evaluate(state: RetrofitState) -> dict[str, np.ndarray]:
        needs = monthly_needs(state.envelope, climate, p)
        d = delivered_energy(
            needs.heating_annual_kwh, needs.cooling_annual_kwh, area, use, state.carrier, params=s
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            cls = dpe_class(d.primary_kwh / area, d.co2_kg / area, dpe_thresholds)[0]
        cls = np.where(use == "housing", cls, "not_applicable")
        return {
            "need": needs.heating_annual_kwh,
            "final": d.final_kwh,
            "cost": d.cost_eur,
            "co2": d.co2_kg,
            "dpe": cls,
        }

    zero = np.zeros(n)
    start = RetrofitState(envelope, base_carrier, zero, zero, zero, zero, zero)
    before = evaluate(start)
    runs: list[tuple[str, RetrofitState]] = []
    if each_measure and len(measures) > 1:
        runs += [(m, _apply(start, catalogue.measures[m], climate, p, s)) for m in measures]
    state = start
    for m in measures:
        state = _apply(state, catalogue.measures[m], climate, p, s)
    runs.append(("*" if len(measures) > 1 else measures[0], state))

    known = np.array([r is None for r in envelope.unknown_reason], dtype=bool) & np.isfinite(before["need"])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    tables = []
    for measure_name, after_state in runs:
        after = evaluate(after_state)
        saved_kwh = before["final"] - after["final"] + after_state.pv_kwh + after_state.lighting_kwh
        saved_eur = (
            before["cost"]
            - after["cost"]
            + (after_state.pv_kwh + after_state.lighting_kwh) * elec_price
            + after_state.pv_export_eur
        )
        saved_co2 = (
            before["co2"] - after["co2"] + (after_state.pv_kwh + after_state.lighting_kwh) * elec_co2
        ) / 1000
        capex = after_state.capex
        with np.errstate(divide="ignore", invalid="ignore"):
            life = np.where(capex > 0, after_state.capex_life / capex, 0.0)
            payback = np.where(saved_eur > 0, capex / saved_eur, np.nan)
        value = npv(capex, saved_eur, life, f)
        notes = json.dumps(
            {
                "measures": measures if measure_name == "*" else [measure_name],
                "costs": catalogue.costs_status,
                "discount_rate": f.discount_rate,
                "price_escalation": f.price_escalation,
                "prices_eur_kwh": dict(s.prices_eur_kwh),
                "pv_and_lighting": "self-consumed PV and LED savings at the electricity price, PV surplus at the "
                "export price; PV not deducted in the DPE class",
                "climate": climate.name,
            },
            ensure_ascii=False,
        )

        def col(values: np.ndarray) -> pa.Array:
            v = np.where(known, np.asarray(values, dtype=float), np.nan)
            return pa.array(v, pa.float64(), mask=~np.isfinite(v))

        reason = [
            None if k else (r or "an input is missing")
            for k, r in zip(known, envelope.unknown_reason, strict=True)
        ]
        tables.append(
            pa.table(
                {
                    "scenario_id": pa.array(np.full(n, scenario_id, np.int32)),
                    "building_id": pa.array(envelope.building_id.astype(str).tolist(), pa.string()),
                    "package": pa.array([name] * n, pa.string()),
                    "measure": pa.array([measure_name] * n, pa.string()),
                    "status": pa.array(np.where(known, "ok", "unknown").tolist(), pa.string()),
                    "reason": pa.array(reason, pa.string()),
                    "heating_need_before_kwh": col(before["need"]),
                    "heating_need_after_kwh": col(after["need"]),
                    "final_saved_kwh": col(saved_kwh),
                    "cost_saved_eur_yr": col(saved_eur),
                    "co2_saved_t_yr": col(saved_co2),
                    "capex_eur": col(capex),
                    "lifetime_yr": col(life),
                    "simple_payback_yr": col(payback),
                    "npv_eur": col(value),
                    "dpe_before": pa.array(np.where(known, before["dpe"], "unknown").tolist(), pa.string()),
                    "dpe_after": pa.array(np.where(known, after["dpe"], "unknown").tolist(), pa.string()),
                    "assumptions": pa.array([notes] * n, pa.string()),
                    "computed_at": pa.array([now] * n, pa.timestamp("us")),
                }
            )
        )
    return pa.concat_tables(tables)


def store_retrofit(twin: Twin, table: pa.Table, scenario_id: int = 0) -> int:
    """Replace the rows of the table's (scenario, package, buildings) in ``res_retrofit``; returns rows written."""
    packages = sorted(set(table.column("package").to_pylist()))
    with twin.write() as cur:
        cur.execute(
            "DELETE FROM res_retrofit WHERE scenario_id = ? AND package IN (SELECT unnest(?)) "
            "AND building_id IN (SELECT unnest(?))",
            [scenario_id, packages, sorted(set(table.column("building_id").to_pylist()))],
        )
        cur.register("retrofit_rows", table)
        cur.execute(
            "INSERT INTO res_retrofit BY NAME "
            "SELECT * REPLACE (assumptions::JSON AS assumptions) FROM retrofit_rows"
        )
        cur.unregister("retrofit_rows")
    return table.num_rows


def measure_names(catalogue: Catalogue) -> Sequence[str]:
    """Names of the catalogue's measures and packages."""
    return sorted([*catalogue.measures, *catalogue.packages])
