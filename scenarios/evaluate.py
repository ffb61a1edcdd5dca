"""Evaluate a scenario: an overlay on the baseline, KPIs per building, per year and in total. Pure.

The inputs are a :class:`~scenarios.baseline.Baseline` (Arrow tables and arrays read once from the twin) and a
:class:`~scenarios.baseline.Resolved` scenario (selections turned into building ids, the reversibility of every
use change, the lighting options of the area). Nothing here reads or writes the twin, so that the same function
runs in the owning process and in the workers of a sweep.

For each year of the pathway (2026 to the horizon) the interventions staged up to that year are applied, in
file order, to a copy of the baseline arrays (the baseline itself is never modified):

- ``change_use``: the building takes its new use (internal gains, hot water and décret tertiaire follow) when the
  reversibility assessment lets it (``convertible`` true), or when ``force: true``; else it is blocked and the
  veto's reasons are kept; the embodied carbon of the structure it keeps (reversibility's A1-A3 estimate, IFC
  buildings) is reported as ``carbon_kept_t``. Housing gains the assessment's yield:
  ``floor(A x eta / 63 m2)`` dwellings, ``2.16`` residents and ``0.21`` pupils per dwelling (methods.md 1.6);
  capex is the middle of the assessment's conversion cost range;
- ``retrofit`` and ``add_pv``: the catalogue's measures on the envelope and the system
  (:mod:`scenarios.retrofit_adapter`), capex less the subsidy share;
- ``demolish``: the building leaves every total; ``new_building``: an LoD1 block with an archetype envelope;
- ``intensify``: under-used spaces (``res_utilisation``) opened to other users, 18 m2 per workstation (1.6);
- ``lighting``: the option's savings over the lamps of the area (:mod:`networks.lighting`), town level.

Energy per state is the monthly balance and delivered energy of :mod:`buildings.energy` and
:mod:`buildings.energy_systems`, less self-consumed PV and LED savings. Money: opex = energy cost per year;
``NPV = sum_y [(opex_base - opex_y)(1+e)^t / (1+r)^(t+1) - capex_y / (1+r)^t]``, ``t = y - 2026``; simple
payback = capex / (opex_base - opex_horizon). Schools: pupils (0.21 per dwelling, town-wide; no catchments)
against school places (see :mod:`scenarios.baseline` for where places come from).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from buildings.energy import EnergyParameters, Envelope, monthly_needs
from buildings.energy_archetypes import ArchetypeParameters
from buildings.energy_systems import (
    TERTIARY_TARGETS,
    TERTIARY_USES,
    SystemParameters,
    delivered_energy,
    dpe_class,
)
from scenarios.baseline import Baseline, Resolved, Step
from scenarios.retrofit_adapter import apply_package, concat_envelopes, replace_rows
from scenarios.spec import FIRST_YEAR, Finance

__all__ = ["KPI_UNITS", "EvaluationParameters", "ScenarioResult", "evaluate"]

KPI_UNITS: Mapping[str, str] = {
    "final_kwh": "kWh/yr",
    "primary_kwh": "kWh/yr",
    "co2_t": "tCO2e/yr",
    "opex_eur": "EUR/yr",
    "capex_eur": "EUR",
    "capex_cumulative_eur": "EUR",
    "npv_eur": "EUR",
    "simple_payback_yr": "yr",
    "dwellings": "dwellings",
    "residents": "persons",
    "pupils": "pupils",
    "school_places": "places",
    "school_place_balance": "places",
    "workstations_opened": "workstations",
    "water_m3_day": "m3/day",
    "electricity_mwh": "MWh/yr",
    "lighting_saved_kwh": "kWh/yr",
    "buildings": "buildings",
    "buildings_unknown_energy": "buildings",
    "tertiary_subject": "buildings",
    "tertiary_compliant": "buildings",
    "tertiary_final_kwh": "kWh/yr",
    "tertiary_target_kwh": "kWh/yr",
    "use_changes_blocked": "buildings",
    "carbon_kept_t": "tCO2e",
}
"""Units of the KPIs (``scenario_results.unit``); ``dpe_<class>`` counts are in dwellings buildings."""


@dataclass(frozen=True)
class EvaluationParameters:
    """Defaults of the evaluation; ✔ = methods.md figure, ⚠ = twin convention, all overridable.

    Attributes
    ----------
    energy, systems : the energy balance's parameters (:mod:`buildings.energy`, :mod:`buildings.energy_systems`).
    litres_per_person_day : 148 L domestic water ✔ methods.md 1.6 / 5.1.
    office_litres_per_person_day : 50 L per workstation ✔ (non-French, methods.md 1.6 [W4]).
    household_electricity_kwh : 4,255 kWh per dwelling ✔ methods.md 1.6 [E1].
    tertiary_electricity_kwh_m2 : 146 kWh_fe/m2 all energies ✔ x an electric share of 0.5 ⚠ (methods.md 5.1
        step 1 "A x 146 x share_el" leaves the share open).
    demolition_eur_m2 : 100 EUR per m2 of gross floor ⚠ (not in methods.md).
    new_build_eur_m2 : 2,000 EUR per m2 of gross floor ⚠ (not in methods.md).
    """

    energy: EnergyParameters = field(default_factory=EnergyParameters)
    systems: SystemParameters = field(default_factory=SystemParameters)
    litres_per_person_day: float = 148.0
    office_litres_per_person_day: float = 50.0
    household_electricity_kwh: float = 4255.0
    tertiary_electricity_kwh_m2: float = 146.0 * 0.5
    demolition_eur_m2: float = 100.0
    new_build_eur_m2: float = 2000.0


@dataclass
class _State:
    ids: np.ndarray
    use: np.ndarray
    present: np.ndarray
    envelope: Envelope
    carrier: np.ndarray
    dwellings: np.ndarray  # NaN unknown
    school_places: np.ndarray
    workstations_opened: np.ndarray
    pv_kwh: np.ndarray
    pv_export_eur: np.ndarray
    lighting_kwh: np.ndarray
    capex: np.ndarray  # cumulative, EUR
    town_lighting_kwh: float = 0.0
    town_lighting_capex: float = 0.0
    carbon_kept_kg: float = 0.0
    blocked: set[str] = field(default_factory=set)
    dirty: set[int] = field(default_factory=set)  # rows whose energy inputs differ from the baseline

    def grow(self, n: int) -> None:
        for name in ("dwellings", "school_places", "workstations_opened", "pv_kwh", "pv_export_eur",
                     "lighting_kwh", "capex"):  # fmt: skip
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(n)]))
        self.present = np.concatenate([self.present, np.ones(n, bool)])


@dataclass(frozen=True)
class ScenarioResult:
    """What :func:`evaluate` returns.

    buildings : one row per building (baseline and new) at the horizon: use before/after, state, energy, money,
        people, water, before and after.
    years : one row per year of the pathway with the town totals (the KPIs of :data:`KPI_UNITS`).
    feasibility : one row per building of each ``change_use``: the reversibility verdict, forced, applied, reason.
    networks : demand per network (water m3/day, electricity MWh/yr) before and after.
    totals : the horizon year's totals, and the baseline's, as a dict.
    """

    buildings: pa.Table
    years: pa.Table
    feasibility: pa.Table
    networks: pa.Table
    totals: dict[str, float]
    baseline_totals: dict[str, float]


def _initial(baseline: Baseline) -> _State:
    b = baseline.buildings
    n = b.num_rows
    return _State(
        ids=np.array(b["building_id"].to_pylist(), dtype=object),
        use=np.array(b["use"].to_pylist(), dtype=object),
        present=np.ones(n, bool),
        envelope=baseline.envelope,
        carrier=baseline.carrier.copy(),
        dwellings=np.array(b["dwellings"].to_numpy(zero_copy_only=False), dtype=float),
        school_places=np.nan_to_num(np.array(b["school_places"].to_numpy(zero_copy_only=False), dtype=float)),
        workstations_opened=np.zeros(n),
        pv_kwh=np.zeros(n),
        pv_export_eur=np.zeros(n),
        lighting_kwh=np.zeros(n),
        capex=np.zeros(n),
    )


def _apply(state: _State, step: Step, baseline: Baseline, params: EvaluationParameters, finance: Finance) -> None:
    index = {b: i for i, b in enumerate(state.ids)}
    rows = np.array([index[b] for b in step.ids if b in index], dtype=int)
    rules = baseline.rules
    kind, body = step.kind, step.body
    if kind == "change_use":
        feas = step.feasibility
        for i, b in zip(rows, [state.ids[r] for r in rows], strict=True):
            verdict = feas.get(b, {})
            if not verdict.get("applied"):
                state.blocked.add(b)
                continue
            full = body.storeys is None
            if full:
                state.use[i] = body.to
                state.dirty.add(int(i))
                state.envelope = replace_rows(
                    state.envelope,
                    np.array([i]),
                    state.envelope.take(np.array([i])).with_(use=np.array([body.to], dtype=object)),
                )
            dwellings = float(verdict.get("dwellings") or 0.0)
            if body.to == "housing":
                state.dwellings[i] = np.nan_to_num(state.dwellings[i]) + dwellings
            elif body.from_ == "housing" and full:
                state.dwellings[i] = 0.0
            if body.to == "school":
                state.school_places[i] += float(verdict.get("pupils") or 0.0)
            elif body.from_ == "school" and full:
                state.school_places[i] = 0.0
            state.capex[i] += float(verdict.get("capex_eur") or 0.0)
            state.carbon_kept_kg += float(verdict.get("carbon_kept_kgco2e") or 0.0)
    elif kind in ("retrofit", "add_pv"):
        if len(rows) == 0:
            return
        package = body.package if kind == "retrofit" else body.measure
        sub = state.envelope.take(rows)
        effect = apply_package(
            sub, state.carrier[rows], baseline.catalogue, package, baseline.climate, params.energy, params.systems
        )
        state.envelope = replace_rows(state.envelope, rows, effect.envelope)
        state.dirty.update(int(r) for r in rows)
        state.carrier[rows] = effect.carrier
        state.pv_kwh[rows] += effect.pv_kwh
        state.pv_export_eur[rows] += effect.pv_export_eur
        state.lighting_kwh[rows] += effect.lighting_kwh
        subsidy = getattr(body, "subsidy_share", None)
        share = finance.subsidy_share if subsidy is None else subsidy
        state.capex[rows] += np.nan_to_num(effect.capex) * (1.0 - share)
    elif kind == "demolish":
        gross = state.envelope.floor_area_m2[rows] / ArchetypeParameters().net_to_gross
        state.capex[rows] += np.nan_to_num(gross) * params.demolition_eur_m2
        state.present[rows] = False
        state.dwellings[rows] = 0.0
        state.school_places[rows] = 0.0
    elif kind == "new_building":
        new = step.new_envelope
        assert new is not None
        state.ids = np.concatenate([state.ids, np.array([body.id], dtype=object)])
        state.use = np.concatenate([state.use, np.array([body.use], dtype=object)])
        state.envelope = concat_envelopes([state.envelope, new])
        state.carrier = np.concatenate([state.carrier, np.array([None], dtype=object)])
        state.grow(1)
        state.dirty.add(len(state.ids) - 1)
        gross = body.storeys * step.extra["footprint_area_m2"]
        state.capex[-1] = gross * params.new_build_eur_m2
        if body.use == "housing":
            default = np.floor(gross * rules.net_to_gross / rules.mean_dwelling_m2)
            state.dwellings[-1] = body.dwellings if body.dwellings is not None else default
        if body.use == "school":
            default = np.floor(gross * rules.net_to_gross / rules.m2_per_pupil)
            state.school_places[-1] = body.school_places if body.school_places is not None else default
    elif kind == "intensify":
        opened = step.extra.get("opened_m2", {})
        for i in rows:
            state.workstations_opened[i] += float(opened.get(state.ids[i], 0.0)) / rules.m2_per_workstation
    elif kind == "lighting":
        state.town_lighting_kwh += float(step.extra.get("saving_kwh", 0.0))
        state.town_lighting_capex += float(step.extra.get("capex_eur", 0.0))


@dataclass(frozen=True)
class _Energy:
    final: np.ndarray
    primary: np.ndarray
    co2_kg: np.ndarray
    opex: np.ndarray
    dpe: np.ndarray
    known: np.ndarray


@dataclass(frozen=True)
class _Raw:
    """Per building energy before demolitions are taken out and the price factor applied."""

    final: np.ndarray
    primary: np.ndarray
    co2_kg: np.ndarray
    cost: np.ndarray
    dpe: np.ndarray
    known: np.ndarray


def _raw_energy(state: _State, rows: np.ndarray, baseline: Baseline, params: EvaluationParameters) -> _Raw:
    """Energy of the ``rows`` of ``state`` (buildings are independent in the balance, so a subset suffices)."""
    p, s = params.energy, params.systems
    env = state.envelope.take(rows) if len(rows) != len(state.ids) else state.envelope
    area = np.asarray(env.floor_area_m2, dtype=float)
    use = np.array([u if u is not None else p.default_use for u in state.use[rows]], dtype=object)
    needs = monthly_needs(env, baseline.climate, p)
    d = delivered_energy(
        needs.heating_annual_kwh, needs.cooling_annual_kwh, area, use, state.carrier[rows], params=s
    )
    electric = state.pv_kwh[rows] + state.lighting_kwh[rows]
    pf = s.primary_factor.get("electricity", np.nan)
    price = s.prices_eur_kwh.get("electricity", np.nan)
    known = np.array([r is None for r in env.unknown_reason], dtype=bool) & np.isfinite(d.final_kwh)
    with np.errstate(divide="ignore", invalid="ignore"):
        cls = dpe_class(d.primary_kwh / area, d.co2_kg / area)[0]
    cls = np.where(use == "housing", np.where(known, cls, "unknown"), "not_applicable").astype(object)
    return _Raw(
        final=d.final_kwh - electric,
        primary=d.primary_kwh - electric * pf,
        co2_kg=d.co2_kg - electric * s.cooling_co2_kg_kwh,
        cost=d.cost_eur - electric * price - state.pv_export_eur[rows],
        dpe=cls,
        known=known,
    )


def _splice(base: _Raw, n: int, rows: np.ndarray, part: _Raw) -> _Raw:
    out = {}
    for name in ("final", "primary", "co2_kg", "cost", "dpe", "known"):
        whole = getattr(base, name)
        fill: object = "unknown" if whole.dtype == object else (False if whole.dtype == bool else np.nan)
        array = np.full(n, fill, dtype=whole.dtype)
        array[: len(whole)] = whole
        array[rows] = getattr(part, name)
        out[name] = array
    return _Raw(**out)


def _energy(state: _State, raw: _Raw, finance: Finance) -> _Energy:
    gone = ~state.present
    known = raw.known

    def net(values: np.ndarray) -> np.ndarray:
        out = np.where(known, values, np.nan)
        out[gone] = 0.0
        return out

    dpe = raw.dpe.copy()
    dpe[gone] = "demolished"
    return _Energy(
        final=net(raw.final),
        primary=net(raw.primary),
        co2_kg=net(raw.co2_kg),
        opex=net(raw.cost * finance.energy_price_factor),
        dpe=dpe,
        known=known | gone,
    )


def _people(state: _State, baseline: Baseline, params: EvaluationParameters) -> dict[str, np.ndarray]:
    rules = baseline.rules
    dwellings = np.where(state.present, state.dwellings, 0.0)
    residents = dwellings * rules.household_size
    gross = np.asarray(state.envelope.floor_area_m2, float) / ArchetypeParameters().net_to_gross
    office = (state.use == "office") & state.present
    workstations = (
        np.where(office, np.nan_to_num(gross) / rules.m2_per_workstation, 0.0) + state.workstations_opened
    )
    water = (
        np.nan_to_num(residents) * params.litres_per_person_day
        + workstations * params.office_litres_per_person_day
    ) / 1000.0
    tertiary = np.isin(state.use.astype(str), list(TERTIARY_USES)) & state.present
    electricity = (
        np.nan_to_num(dwellings) * params.household_electricity_kwh
        + np.where(tertiary, np.nan_to_num(gross) * params.tertiary_electricity_kwh_m2, 0.0)
    ) / 1000.0
    return {
        "dwellings": dwellings,
        "residents": residents,
        "pupils": dwellings * rules.pupils_per_dwelling,
        "school_places": np.where(state.present, state.school_places, 0.0),
        "workstations_opened": np.where(state.present, state.workstations_opened, 0.0),
        "water_m3_day": water,
        "electricity_mwh": electricity,
        "gross_m2": gross,
    }


@dataclass(frozen=True)
class _Snapshot:
    state: _State
    energy: _Energy
    people: dict[str, np.ndarray]
    still: np.ndarray  # subject to the décret at the baseline and still tertiary
    totals: dict[str, float]


_YEAR_KPIS = (
    *("final_kwh", "primary_kwh", "co2_t", "opex_eur", "capex_eur", "capex_cumulative_eur", "dwellings"),
    *("residents", "pupils", "school_places", "school_place_balance", "workstations_opened", "water_m3_day"),
    *("electricity_mwh", "lighting_saved_kwh", "buildings", "buildings_unknown_energy", "tertiary_subject"),
    *("tertiary_compliant", "tertiary_final_kwh", "tertiary_target_kwh", "use_changes_blocked", "carbon_kept_t"),
    *(f"dpe_{c}" for c in ("A", "B", "C", "D", "E", "F", "G", "unknown")),
)


def _snapshot(st: _State, en: _Energy, pe: dict[str, np.ndarray], subject0: np.ndarray, n_base: int) -> _Snapshot:
    """Totals of a state that do not depend on the year."""
    still = subject0 & st.present[:n_base] & np.isin(st.use[:n_base].astype(str), list(TERTIARY_USES))
    totals = {
        "final_kwh": float(np.nansum(en.final)),
        "primary_kwh": float(np.nansum(en.primary)),
        "co2_t": float(np.nansum(en.co2_kg)) / 1000.0,
        "opex_eur": float(np.nansum(en.opex)),
        "dwellings": float(np.nansum(pe["dwellings"])),
        "residents": float(np.nansum(pe["residents"])),
        "pupils": float(np.nansum(pe["pupils"])),
        "school_places": float(pe["school_places"].sum()),
        "school_place_balance": float(pe["school_places"].sum() - np.nansum(pe["pupils"])),
        "workstations_opened": float(pe["workstations_opened"].sum()),
        "water_m3_day": float(pe["water_m3_day"].sum()),
        "electricity_mwh": float(pe["electricity_mwh"].sum()),
        "buildings": float(st.present.sum()),
        "buildings_unknown_energy": float((~en.known).sum()),
        "tertiary_subject": float(still.sum()),
        "tertiary_final_kwh": float(np.nansum(np.where(still, en.final[:n_base], 0.0))),
        "use_changes_blocked": float(len(st.blocked)),
        "carbon_kept_t": st.carbon_kept_kg / 1000.0,
    }
    classes, counts = np.unique(en.dpe.astype(str), return_counts=True)
    found = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    for cls in ("A", "B", "C", "D", "E", "F", "G", "unknown"):
        totals[f"dpe_{cls}"] = float(found.get(cls, 0))
    return _Snapshot(st, en, pe, still, totals)


def _milestone_cut(year: int) -> float:
    cuts = [c for y, c in sorted(TERTIARY_TARGETS.items()) if y <= year]
    return cuts[-1] if cuts else 0.0


def evaluate(
    baseline: Baseline,
    resolved: Resolved,
    params: EvaluationParameters | None = None,
    finance: Finance | None = None,
) -> ScenarioResult:
    """KPIs of ``resolved`` over ``baseline`` for every year from 2026 to the horizon (see the module doc).

    ``finance`` overrides the scenario file's finance block (sweeps use it). Deterministic: the same inputs give
    the same numbers, in the same row order.
    """
    params = params or EvaluationParameters()
    finance = finance or resolved.scenario.finance
    horizon = resolved.scenario.horizon
    steps = sorted(resolved.steps, key=lambda s: (s.year, s.index))
    years = list(range(FIRST_YEAR, horizon + 1))

    base_state = _initial(baseline)
    everything = np.arange(len(base_state.ids))
    base_raw = _raw_energy(base_state, everything, baseline, params)
    base_energy = _energy(base_state, base_raw, finance)
    base_people = _people(base_state, baseline, params)
    n_base = len(base_state.ids)
    gross0 = base_people["gross_m2"]
    tertiary = list(TERTIARY_USES)
    subject0 = np.isin(base_state.use.astype(str), tertiary) & (np.nan_to_num(gross0) >= 1000.0)
    reference = np.where(np.isfinite(base_energy.final), base_energy.final, np.nan)

    # the state of each distinct set of applied steps, built incrementally; the energy of a state is the
    # baseline's with the rows its steps touched computed again
    snapshots: dict[int, _Snapshot] = {0: _snapshot(base_state, base_energy, base_people, subject0, n_base)}
    state = _initial(baseline)
    applied = 0
    per_year: list[int] = []
    for year in years:
        while applied < len(steps) and steps[applied].year <= year:
            _apply(state, steps[applied], baseline, params, finance)
            applied += 1
        if applied not in snapshots:
            frozen = _copy(state)
            dirty = np.array(sorted(frozen.dirty), dtype=int)
            raw = _splice(base_raw, len(frozen.ids), dirty, _raw_energy(frozen, dirty, baseline, params))
            energy = _energy(frozen, raw, finance)
            people = _people(frozen, baseline, params)
            snapshots[applied] = _snapshot(frozen, energy, people, subject0, n_base)
        per_year.append(applied)
    states = [snapshots[k] for k in per_year] or [snapshots[0]]
    final = states[-1]
    final_state, final_energy, final_people = final.state, final.energy, final.people
    n = len(final_state.ids)

    def pad(values: np.ndarray, fill: Any = 0.0) -> np.ndarray:
        out = np.full(n, fill, dtype=values.dtype if values.dtype != object else object)
        out[: len(values)] = values
        return out

    # money per building and year
    r, e = finance.discount_rate, finance.price_escalation
    base_opex = pad(np.nan_to_num(base_energy.opex))
    npv = np.zeros(n)
    previous_capex = np.zeros(n)
    town_npv = 0.0
    previous_light_capex = 0.0
    pf = params.systems.primary_factor.get("electricity", np.nan)
    rows_out: dict[str, list[float]] = {"year": []}
    for year, snap in zip(years, states, strict=True):
        st, en = snap.state, snap.energy
        t = year - FIRST_YEAR
        capex_cum = pad(st.capex)
        capex_year = capex_cum - previous_capex
        previous_capex = capex_cum
        saving = base_opex - pad(np.nan_to_num(en.opex))
        npv += saving * ((1 + e) ** t / (1 + r) ** (t + 1)) - capex_year / (1 + r) ** t
        light_saving_eur = st.town_lighting_kwh * baseline.lighting_price_eur_kwh * finance.energy_price_factor
        light_capex_year = st.town_lighting_capex - previous_light_capex
        previous_light_capex = st.town_lighting_capex
        town_npv += light_saving_eur * (1 + e) ** t / (1 + r) ** (t + 1) - light_capex_year / (1 + r) ** t
        cut = _milestone_cut(year)
        final_b = en.final[:n_base]
        ok = snap.still & (final_b <= reference * (1 - cut) + 1e-9)
        totals = dict(snap.totals)
        totals.update({
            "final_kwh": snap.totals["final_kwh"] - st.town_lighting_kwh,
            "primary_kwh": snap.totals["primary_kwh"] - st.town_lighting_kwh * pf,
            "co2_t": snap.totals["co2_t"] - st.town_lighting_kwh * baseline.lighting_co2_kg_kwh / 1000.0,
            "opex_eur": snap.totals["opex_eur"] - light_saving_eur,
            "capex_eur": float(capex_year.sum()) + light_capex_year,
            "capex_cumulative_eur": float(capex_cum.sum()) + st.town_lighting_capex,
            "lighting_saved_kwh": st.town_lighting_kwh,
            "tertiary_compliant": float(ok.sum()),
            "tertiary_target_kwh": float(np.nansum(np.where(snap.still, reference * (1 - cut), 0.0))),
        })  # fmt: skip
        rows_out["year"].append(year)
        for k in _YEAR_KPIS:
            rows_out.setdefault(k, []).append(totals[k])
    rows = rows_out

    years_table = pa.table({k: pa.array(v, pa.int32() if k == "year" else pa.float64()) for k, v in rows.items()})
    last = {k: float(v[-1]) for k, v in rows.items() if k != "year"}
    saving_h = float(base_opex.sum()) - last["opex_eur"]
    total_capex = last["capex_cumulative_eur"]
    last["npv_eur"] = float(npv.sum()) + town_npv
    last["simple_payback_yr"] = total_capex / saving_h if saving_h > 0 and total_capex > 0 else float("nan")
    cut_h = _milestone_cut(years[-1] if years else FIRST_YEAR)
    base_ok = snapshots[0].still & (base_energy.final[:n_base] <= reference * (1 - cut_h) + 1e-9)
    base_totals = {
        **snapshots[0].totals,
        "capex_eur": 0.0,
        "capex_cumulative_eur": 0.0,
        "lighting_saved_kwh": 0.0,
        "npv_eur": 0.0,
        "tertiary_compliant": float(base_ok.sum()),
        "tertiary_target_kwh": float(np.nansum(np.where(snapshots[0].still, reference * (1 - cut_h), 0.0))),
    }

    with np.errstate(divide="ignore", invalid="ignore"):
        saving_b = base_opex - np.nan_to_num(pad(final_energy.opex))
        payback_b = np.where((saving_b > 0) & (final_state.capex > 0), final_state.capex / saving_b, np.nan)
    before_use = pad(base_state.use.astype(object), None)
    buildings = pa.table(
        {
            "building_id": pa.array(final_state.ids.astype(str).tolist(), pa.string()),
            "state": pa.array(
                np.where(
                    ~final_state.present,
                    "demolished",
                    np.where(
                        np.arange(n) >= n_base, "new", np.where(before_use != final_state.use, "converted", "kept")
                    ),
                ).tolist()
            ),
            "use_before": pa.array(before_use.tolist(), pa.string()),
            "use_after": pa.array(final_state.use.tolist(), pa.string()),
            "final_kwh_before": _col(pad(base_energy.final, np.nan)),
            "final_kwh": _col(final_energy.final),
            "primary_kwh_before": _col(pad(base_energy.primary, np.nan)),
            "primary_kwh": _col(final_energy.primary),
            "co2_kg_before": _col(pad(base_energy.co2_kg, np.nan)),
            "co2_kg": _col(final_energy.co2_kg),
            "opex_eur_before": _col(pad(base_energy.opex, np.nan)),
            "opex_eur": _col(final_energy.opex),
            "capex_eur": _col(final_state.capex),
            "npv_eur": _col(npv),
            "simple_payback_yr": _col(payback_b),
            "dpe_before": pa.array(pad(base_energy.dpe, "new").tolist(), pa.string()),
            "dpe_after": pa.array(final_energy.dpe.tolist(), pa.string()),
            "dwellings_before": _col(pad(base_people["dwellings"])),
            "dwellings": _col(final_people["dwellings"]),
            "residents_added": _col(final_people["residents"] - pad(base_people["residents"])),
            "pupils_added": _col(final_people["pupils"] - pad(base_people["pupils"])),
            "water_m3_day_before": _col(pad(base_people["water_m3_day"])),
            "water_m3_day": _col(final_people["water_m3_day"]),
        }
    )
    return ScenarioResult(
        buildings=buildings,
        years=years_table,
        feasibility=resolved.feasibility_table(),
        networks=_networks(baseline, final_state, base_people, final_people),
        totals=last,
        baseline_totals=base_totals,
    )


def _networks(
    baseline: Baseline, state: _State, before: dict[str, np.ndarray], after: dict[str, np.ndarray]
) -> pa.Table:
    """Water (m3/day) and electricity (MWh/yr) demand per network and serving node, before and after."""
    links = baseline.service
    index = {b: i for i, b in enumerate(state.ids)}
    n0 = len(before["water_m3_day"])
    member = np.array([index.get(b, -1) for b in links["building_id"].to_pylist()], dtype=int)
    keep = member >= 0
    member = member[keep]
    net = np.array(links["network_id"].to_pylist(), dtype=object)[keep]
    kind = np.array(links["kind"].to_pylist(), dtype=object)[keep]
    node = np.array(links["node_id"].to_pylist(), dtype=object)[keep]
    keys = np.array([f"{a}\x1f{b}\x1f{c}" for a, b, c in zip(net, kind, node, strict=True)], dtype=object)
    uniq, first, group = np.unique(keys.astype(str), return_index=True, return_inverse=True)
    water = kind == "water"
    old = member < n0
    safe_old = np.where(old, member, 0)

    def sums(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        v = np.nan_to_num(np.asarray(values, dtype=float))
        w = v if mask is None else np.where(mask, v, 0.0)
        return np.bincount(group, weights=w, minlength=len(uniq))

    demand_before = np.where(water, before["water_m3_day"][safe_old], before["electricity_mwh"][safe_old])
    demand_after = np.where(water, after["water_m3_day"][member], after["electricity_mwh"][member])
    return pa.table(
        {
            "network_id": pa.array(net[first].tolist(), pa.string()),
            "kind": pa.array(kind[first].tolist(), pa.string()),
            "node_id": pa.array(node[first].tolist(), pa.string()),
            "buildings": pa.array(np.bincount(group, minlength=len(uniq)), pa.int64()),
            "demand_before": sums(demand_before, old),
            "demand_after": sums(demand_after),
            "unit": pa.array(np.where(water[first], "m3/day", "MWh/yr").tolist(), pa.string()),
            "residents_before": sums(before["residents"][safe_old], old),
            "residents_after": sums(after["residents"][member]),
        }
    )


def _copy(state: _State) -> _State:
    return _State(
        ids=state.ids.copy(),
        use=state.use.copy(),
        present=state.present.copy(),
        envelope=state.envelope,
        carrier=state.carrier.copy(),
        dwellings=state.dwellings.copy(),
        school_places=state.school_places.copy(),
        workstations_opened=state.workstations_opened.copy(),
        pv_kwh=state.pv_kwh.copy(),
        pv_export_eur=state.pv_export_eur.copy(),
        lighting_kwh=state.lighting_kwh.copy(),
        capex=state.capex.copy(),
        town_lighting_kwh=state.town_lighting_kwh,
        town_lighting_capex=state.town_lighting_capex,
        carbon_kept_kg=state.carbon_kept_kg,
        blocked=set(state.blocked),
        dirty=set(state.dirty),
    )


def _col(values: np.ndarray) -> pa.Array:
    v = np.asarray(values, dtype=float)
    return pa.array(v, pa.float64(), mask=~np.isfinite(v))
