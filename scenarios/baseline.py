"""The baseline a scenario is evaluated on, read once from the twin, and scenarios resolved against it.

:func:`load_baseline` reads the buildings the analyses work on (IFC buildings, and GIS buildings not detailed by
an IFC model), their energy envelopes (:func:`buildings.energy_twin.envelopes_from_twin`), heating carriers,
service connections and school places into a :class:`Baseline` of Arrow tables and numpy arrays: it pickles,
so the workers of a sweep get it without opening the twin file.

School places (schools are buildings with a capacity), first found of:
1. the building attribute ``capacity_pupils`` (or ``school_places``) from the source;
2. the sum of ``spaces.capacity_persons`` of an IFC school;
3. gross floor area x net/gross / ``m2_per_pupil`` of the reversibility rule file (8 m2 per pupil, a twin
   convention ⚠ stated in ``buildings/rules/reversibility-fr.yaml``); the source is kept per school.

:func:`resolve` turns a validated scenario into :class:`Resolved` steps: selections become building ids, every
use change gets its reversibility verdict (:func:`buildings.reversibility_store.assess_twin`, not stored), the
lighting plan its savings (:mod:`networks.lighting`), intensification its opened area (``res_utilisation``).
Every error names the scenario file, the line and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from buildings.energy import Envelope
from buildings.energy_archetypes import ArchetypeParameters, envelope_from_lod1
from buildings.retrofit import Catalogue, load_catalogue, resolve_measures
from buildings.reversibility_rules import Parameters as RulesParameters
from buildings.reversibility_rules import default_rules
from buildings.weather import Climate
from scenarios.select import select_buildings
from scenarios.spec import LoadedScenario, Scenario
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["Baseline", "Resolved", "Step", "load_baseline", "resolve"]


@dataclass(frozen=True)
class Baseline:
    """The baseline tables a scenario needs; never modified by an evaluation."""

    buildings: (
        pa.Table
    )  # building_id, name, use, construction_year, dwellings, school_places, school_places_source
    envelope: Envelope
    carrier: np.ndarray
    service: pa.Table  # building_id, network_id, kind, node_id
    climate: Climate
    catalogue: Catalogue
    rules: RulesParameters
    lighting_price_eur_kwh: float = 0.20
    lighting_co2_kg_kwh: float = 0.069

    def ids(self) -> list[str]:
        return [str(b) for b in self.buildings["building_id"].to_pylist()]


@dataclass(frozen=True)
class Step:
    """One intervention resolved: its position in the file, year, kind, body and the buildings it touches."""

    index: int
    year: int
    kind: str
    body: Any
    ids: list[str]
    feasibility: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    new_envelope: Envelope | None = None


@dataclass(frozen=True)
class Resolved:
    scenario: Scenario
    steps: list[Step]

    def feasibility_table(self) -> pa.Table:
        cols: dict[str, list[Any]] = {k: [] for k in ("intervention", "year", "building_id", "path", "convertible",
                                                      "score", "forced", "applied", "reason", "dwellings",
                                                      "residents", "pupils", "capex_eur",
                                                      "carbon_kept_kgco2e")}  # fmt: skip
        for step in self.steps:
            for b, v in sorted(step.feasibility.items()):
                cols["intervention"].append(step.index)
                cols["year"].append(step.year)
                cols["building_id"].append(b)
                for k in ("path", "convertible", "score", "forced", "applied", "reason", "dwellings", "residents",
                          "pupils", "capex_eur", "carbon_kept_kgco2e"):  # fmt: skip
                    cols[k].append(v.get(k))
        return pa.table(cols, schema=_FEASIBILITY_SCHEMA)


_FEASIBILITY_SCHEMA = pa.schema([
    ("intervention", pa.int32()), ("year", pa.int32()), ("building_id", pa.string()), ("path", pa.string()),
    ("convertible", pa.bool_()), ("score", pa.float64()), ("forced", pa.bool_()), ("applied", pa.bool_()),
    ("reason", pa.string()), ("dwellings", pa.float64()), ("residents", pa.float64()), ("pupils", pa.float64()),
    ("capex_eur", pa.float64()), ("carbon_kept_kgco2e", pa.float64())])  # fmt: skip


def load_baseline(
    twin: Twin,
    climate: Climate,
    catalogue: Catalogue | None = None,
    archetypes: ArchetypeParameters | None = None,
) -> Baseline:
    """Read the baseline of ``twin`` (see the module doc)."""
    envelope = envelopes_from_twin_all(twin, archetypes)
    ids = [str(b) for b in envelope.building_id.tolist()]
    rules = default_rules().parameters
    facts = twin.query(
        """SELECT b.building_id, b.name, b.use, b.construction_year, CAST(b.dwellings AS DOUBLE) AS dwellings,
                  TRY_CAST(coalesce(b.attributes->>'capacity_pupils', b.attributes->>'school_places') AS DOUBLE)
                      AS attr_places,
                  (SELECT sum(s.capacity_persons) FROM spaces s
                   WHERE s.building_id = b.building_id) AS space_places,
                  coalesce(b.attributes->>'heating_carrier', b.attributes->>'energie_chauffage') AS carrier
           FROM buildings b WHERE list_contains(?, b.building_id)""",
        [ids],
    ).to_pylist()
    by_id = {r["building_id"]: r for r in facts}
    rows = [by_id[b] for b in ids]
    net = ArchetypeParameters().net_to_gross
    gross = np.asarray(envelope.floor_area_m2, dtype=float) / net
    places: list[float | None] = []
    sources: list[str | None] = []
    for r, g in zip(rows, gross, strict=True):
        if r["use"] != "school":
            places.append(None)
            sources.append(None)
        elif r["attr_places"] is not None:
            places.append(float(r["attr_places"]))
            sources.append("attribute")
        elif r["space_places"]:
            places.append(float(r["space_places"]))
            sources.append("ifc_spaces")
        elif np.isfinite(g):
            places.append(float(np.floor(g * rules.net_to_gross / rules.m2_per_pupil)))
            sources.append(f"floor_area / {rules.m2_per_pupil:g} m2 per pupil")
        else:
            places.append(None)
            sources.append("unknown")
    buildings = pa.table(
        {
            "building_id": pa.array(ids, pa.string()),
            "name": pa.array([r["name"] for r in rows], pa.string()),
            "use": pa.array([r["use"] for r in rows], pa.string()),
            "construction_year": pa.array([r["construction_year"] for r in rows], pa.int32()),
            "dwellings": pa.array(
                [np.nan if r["dwellings"] is None else r["dwellings"] for r in rows], pa.float64()
            ),
            "school_places": pa.array([np.nan if p is None else p for p in places], pa.float64()),
            "school_places_source": pa.array(sources, pa.string()),
        }
    )
    service = twin.query(
        """SELECT s.building_id, s.network_id, n.kind, s.node_id FROM service_connections s
           JOIN networks n USING (network_id) WHERE n.kind IN ('water', 'power')
           ORDER BY s.network_id, s.node_id, s.building_id"""
    )
    return Baseline(
        buildings=buildings,
        envelope=envelope,
        carrier=np.array([r["carrier"] for r in rows], dtype=object),
        service=service,
        climate=climate,
        catalogue=catalogue or load_catalogue(),
        rules=rules,
    )


def envelopes_from_twin_all(twin: Twin, archetypes: ArchetypeParameters | None = None) -> Envelope:
    from buildings.energy_twin import envelopes_from_twin

    return envelopes_from_twin(twin, None, archetypes)


def _reversibility(twin: Twin, ids: list[str], path: str) -> dict[str, dict[str, Any]]:
    from buildings.reversibility_store import assess_twin

    if not ids:
        return {}
    result, carbon = assess_twin(twin, building_ids=ids, paths=[path], store=False)
    kept = dict(zip(carbon["building_id"].to_pylist(), carbon["carbon_kgco2e"].to_pylist(), strict=True))
    out = {}
    for r in result.results.to_pylist():
        out[r["building_id"]] = {**r, "carbon_kept_kgco2e": kept.get(r["building_id"])}
    return out


def _veto_reason(vetoes: str | None) -> str:
    items = json.loads(vetoes) if vetoes else []
    return "; ".join(str(v.get("reason") or v.get("criterion")) for v in items) or "unknown criteria"


def resolve(twin: Twin, loaded: LoadedScenario, baseline: Baseline) -> Resolved:
    """Resolve every selection of ``loaded`` against ``twin``; errors name the file, line and field."""
    scenario = loaded.scenario
    universe = set(baseline.ids())
    all_ids = {str(b) for b in twin.query("SELECT building_id FROM buildings").column(0).to_pylist()}
    catalogue = baseline.catalogue
    steps: list[Step] = []
    new_ids: set[str] = set()
    for i, item in enumerate(scenario.interventions):
        kind, body = item.kind, item.body
        at = ("interventions", i, kind)
        selection = getattr(body, "select", None)
        ids: list[str] = []
        rev_table: dict[tuple[str, str], tuple[bool | None, float]] = {}
        if selection is not None:
            for j, b in enumerate(selection.ids or []):
                if b not in all_ids:
                    hint = 'list them with twin sql "SELECT building_id, name, use FROM buildings"'
                    raise loaded.error((*at, "select", "ids", j), f"unknown building '{b}'", hint)
            if selection.reversibility is not None:
                path = selection.reversibility.path
                try:
                    default_rules().path(path)
                except TwinError as exc:
                    raise loaded.error((*at, "select", "reversibility", "path"), exc.message, exc.hint) from None
                pre = select_buildings(
                    twin, selection.model_copy(update={"reversibility": None}), universe=sorted(universe)
                )
                for b, r in _reversibility(twin, pre, path).items():
                    rev_table[(b, path)] = (r["convertible"], r["score"])
            try:
                ids = select_buildings(twin, selection, reversibility=rev_table, universe=sorted(universe))
            except ValueError as exc:
                field_name = "where" if str(exc).startswith("SQL") else "within"
                raise loaded.error(
                    (*at, "select", field_name), str(exc), "see docs/scenario.schema.json and examples/"
                ) from None
        step = Step(index=i, year=item.year, kind=kind, body=body, ids=ids)
        if kind in ("retrofit", "add_pv"):
            name = body.package if kind == "retrofit" else body.measure
            try:
                resolve_measures(catalogue, name)
            except TwinError as exc:
                key = "package" if kind == "retrofit" else "measure"
                raise loaded.error((*at, key), exc.message, exc.hint) from None
        elif kind == "change_use":
            path = f"{body.from_}->{body.to}"
            rules = default_rules()
            if path not in rules.paths:
                path = f"any->{body.to}"
            if path not in rules.paths:
                raise loaded.error((*at, "to"), f"no conversion path {body.from_}->{body.to} in the rules",
                                   f"paths: {', '.join(rules.paths)}")  # fmt: skip
            uses = dict(zip(baseline.ids(), baseline.buildings["use"].to_pylist(), strict=True))
            wrong = [b for b in ids if uses.get(b) != body.from_]
            if wrong:
                message = f"building '{wrong[0]}' is {uses.get(wrong[0])}, not {body.from_}"
                raise loaded.error((*at, "from"), message, "select buildings of the 'from' use")
            assessed = _reversibility(twin, ids, path)
            for b in ids:
                r = assessed.get(b, {})
                convertible = r.get("convertible")
                dwellings, residents, pupils = r.get("dwellings"), r.get("residents"), r.get("pupils")
                if body.storeys is not None:
                    dwellings, residents, pupils = _partial(r, body.storeys, baseline.rules)
                applied = convertible is True or body.force
                if convertible is True:
                    reason = f"convertible (score {r.get('score', float('nan')):.0f}/100)"
                elif convertible is False:
                    reason = f"vetoed: {_veto_reason(r.get('vetoes'))}"
                else:
                    reason = f"unknown: {_veto_reason(r.get('vetoes'))}"
                if not applied:
                    reason += " -> blocked (set force: true to convert anyway)"
                elif body.force and convertible is not True:
                    reason += " -> forced"
                low, high = r.get("cost_low_eur"), r.get("cost_high_eur")
                step.feasibility[b] = {
                    "path": path, "convertible": convertible, "score": r.get("score"), "forced": body.force,
                    "applied": applied, "reason": reason,
                    "dwellings": dwellings if body.to == "housing" else 0.0,
                    "residents": residents if body.to == "housing" else 0.0,
                    "pupils": pupils if body.to in ("housing", "school") else 0.0,
                    "capex_eur": (low + high) / 2.0 if low is not None and high is not None else None,
                    "carbon_kept_kgco2e": r.get("carbon_kept_kgco2e"),
                }  # fmt: skip
        elif kind == "new_building":
            if body.id in all_ids or body.id in new_ids:
                raise loaded.error((*at, "id"), f"building '{body.id}' already exists", "choose a new id")
            new_ids.add(body.id)
            try:
                geom = twin.query(
                    "SELECT ST_Area(g) AS a, ST_Perimeter(g) AS p FROM (SELECT ST_GeomFromText(?) AS g)",
                    [body.footprint],
                ).to_pylist()[0]
            except Exception as exc:  # DuckDB's parse error names the WKT problem
                raise loaded.error((*at, "footprint"), f"not a WKT polygon ({str(exc).splitlines()[0]})",
                                   "give POLYGON((x y, ...)) in the twin CRS") from None  # fmt: skip
            one = np.array
            step.extra["footprint_area_m2"] = float(geom["a"])
            step = Step(i, item.year, kind, body, [body.id], extra=step.extra, new_envelope=envelope_from_lod1(
                one([body.id], dtype=object), one([geom["a"]], dtype=object),
                one([body.storeys * body.storey_height_m], dtype=object), one([body.storeys], dtype=object),
                one([body.construction_year], dtype=object), one([body.use], dtype=object),
                one([geom["p"]], dtype=object)))  # fmt: skip
        elif kind == "intensify":
            rows = twin.query(
                """SELECT s.building_id, sum(s.area_m2) AS area FROM res_utilisation u
                   JOIN spaces s ON s.space_id = u.entity_id
                   WHERE u.level = 'space' AND u.utilisation_ratio < ? GROUP BY s.building_id""",
                [body.below],
            ).to_pylist()
            opened = {r["building_id"]: float(r["area"] or 0.0) for r in rows}
            if selection is None:
                ids = sorted(b for b in opened if b in universe)
            step = Step(i, item.year, kind, body, ids, extra={"opened_m2": {b: opened.get(b, 0.0) for b in ids}})
        elif kind == "lighting":
            step = Step(i, item.year, kind, body, [], extra=_lighting(twin, loaded, at, body))
        steps.append(step)
    return Resolved(scenario, steps)


def _partial(row: dict[str, Any], storeys: list[int], rules: RulesParameters) -> tuple[float, float, float]:
    """Yield of the chosen storeys that no veto excludes (methods.md 1.6 yield formula)."""
    items = json.loads(row.get("storey_scores") or "[]")
    area = sum(float(s.get("area_m2") or 0.0) for s in items
               if s.get("level_index") in storeys and s.get("convertible") is not False)  # fmt: skip
    dwellings = float(np.floor(area * rules.net_to_gross / rules.mean_dwelling_m2))
    return dwellings, dwellings * rules.household_size, dwellings * rules.pupils_per_dwelling


def _lighting(twin: Twin, loaded: LoadedScenario, at: tuple[Any, ...], body: Any) -> dict[str, Any]:
    from networks.lighting import (
        LampInventory,
        LightingParameters,
        lamps_from_twin,
        lighting_per_lamp,
        option_by_name,
    )

    try:
        option = option_by_name(body.option)
    except TwinError as exc:
        raise loaded.error((*at, "option"), exc.message, exc.hint) from None
    if body.network is not None:
        known = twin.query("SELECT network_id FROM networks WHERE kind = 'lighting'").column(0).to_pylist()
        if body.network not in known:
            raise loaded.error((*at, "network"), f"no lighting network '{body.network}'",
                               f"lighting networks: {', '.join(known) or 'none'}")  # fmt: skip
    lamps = lamps_from_twin(twin, body.network)
    if body.within is not None:
        try:
            inside = set(
                twin.query(
                    "SELECT node_id FROM network_nodes WHERE node_kind = 'light' AND geom IS NOT NULL "
                    "AND ST_Intersects(geom, ST_GeomFromText(?))",
                    [body.within],
                )
                .column(0)
                .to_pylist()
            )
        except Exception as exc:
            raise loaded.error((*at, "within"), f"not a WKT polygon ({str(exc).splitlines()[0]})",
                               "give POLYGON((x y, ...)) in the twin CRS") from None  # fmt: skip
        keep = np.array([n in inside for n in lamps.node_id], dtype=bool)
        lamps = LampInventory(*(getattr(lamps, f)[keep] for f in LampInventory.__dataclass_fields__))
    if len(lamps) == 0:
        return {"lamps": 0, "saving_kwh": 0.0, "capex_eur": 0.0}
    per_lamp = lighting_per_lamp(lamps, [option], LightingParameters())
    saving = np.nansum(np.asarray(per_lamp["saving_kwh"].to_numpy(zero_copy_only=False), dtype=float))
    capex = np.nansum(np.asarray(per_lamp["capex_eur"].to_numpy(zero_copy_only=False), dtype=float))
    return {"lamps": len(lamps), "saving_kwh": float(saving), "capex_eur": float(capex)}
