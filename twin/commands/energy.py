"""``twin assess energy``, ``twin retrofit`` and ``twin lighting``: energy needs, retrofit measures and street
lighting options, stored in ``res_energy``, ``res_retrofit`` and ``res_lighting``.

Weather: ``--weather FILE.epw``; the file given is remembered in the twin (metadata ``weather_epw``) so later runs
use it without the option; ``TWIN_WEATHER`` can name one too. Without any, the command says what to give.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import click

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["register"]

_WEATHER_KEY = "weather_epw"


def _climate(twin: Twin, weather: str | None) -> Any:
    from buildings.weather import read_climate

    path = weather or os.environ.get("TWIN_WEATHER") or twin.metadata().get(_WEATHER_KEY)
    if not path:
        raise TwinError(
            "no weather file: the energy balance needs a year of hourly weather",
            "pass --weather FILE.epw (EnergyPlus weather of the nearest station, e.g. climate.onebuilding.org); "
            "the twin remembers it",
        )
    climate = read_climate(path)
    if weather and not twin.read_only and twin.metadata().get(_WEATHER_KEY) != os.path.abspath(weather):
        twin.set_metadata(_WEATHER_KEY, os.path.abspath(weather))
    return climate


def _carriers(twin: Twin, ids: list[str]) -> Any:
    import numpy as np

    rows = twin.query(
        """SELECT building_id, coalesce(attributes->>'heating_carrier', attributes->>'energie_chauffage') AS c
           FROM buildings WHERE building_id IN (SELECT unnest(?))""",
        [ids],
    ).to_pylist()
    by_id = {r["building_id"]: r["c"] for r in rows}
    return np.array([by_id.get(b) for b in ids], dtype=object)


def assess_energy_command(
    twin: Twin,
    building_ids: list[str] | None = None,
    weather: str | None = None,
    default_year: int | None = None,
    scenario_id: int = 0,
    tabula: str | None = None,
    tabula_class: str = "SFH",
) -> dict[str, Any]:
    """Assess the energy of the twin's buildings (or some) and store ``res_energy``; returns a summary."""
    from buildings.energy_archetypes import DEFAULT_ARCHETYPES, ArchetypeParameters, tabula_archetypes
    from buildings.energy_twin import assess_energy, envelopes_from_twin, metered_consumption, store_energy

    climate = _climate(twin, weather)
    table_of_periods = tabula_archetypes(tabula, tabula_class) if tabula else DEFAULT_ARCHETYPES
    archetypes = ArchetypeParameters(table=table_of_periods, default_year=default_year)
    envelope = envelopes_from_twin(twin, building_ids, archetypes)
    ids = envelope.building_id.astype(str).tolist()
    table = assess_energy(
        envelope,
        climate,
        carrier=_carriers(twin, ids),
        metered_kwh=metered_consumption(twin, ids),
        scenario_id=scenario_id,
    )
    store_energy(twin, table, scenario_id, replace_all=building_ids is None)
    rows = table.to_pylist()
    ok = [r for r in rows if r["status"] == "ok"]
    keep = (
        "heating_need_kwh_m2",
        "final_kwh_m2",
        "primary_kwh_m2",
        "co2_kg_m2",
        "dpe_class",
        "calibration_factor",
    )
    return {
        "climate": climate.name,
        "buildings": len(rows),
        "routes": dict(Counter(r["route"] for r in rows)),
        "ok": len(ok),
        "unknown": dict(Counter(r["unknown_reason"] for r in rows if r["status"] != "ok")),
        "dpe": dict(sorted(Counter(r["dpe_class"] for r in rows).items())),
        "heating_need_mwh": sum(r["heating_need_kwh"] for r in ok) / 1000.0,
        "final_mwh": sum(r["final_kwh"] for r in ok) / 1000.0,
        "co2_t": sum(r["co2_kg"] for r in ok) / 1000.0,
        "tertiary_subject": sum(1 for r in rows if r["tertiary_subject"]),
        "calibrated": sum(1 for r in rows if r["calibration_factor"] is not None),
        "details": [
            {"building_id": r["building_id"], "route": r["route"], "status": r["status"],
             "reason": r["unknown_reason"], **{k: r[k] for k in keep}}
            for r in rows[:20]
        ]
        if building_ids
        else [],
    }  # fmt: skip


def retrofit_command(
    twin: Twin,
    building_id: str,
    package: str,
    weather: str | None = None,
    catalogue: str | None = None,
    discount_rate: float = 0.03,
    price_escalation: float = 0.02,
    default_year: int | None = None,
    scenario_id: int = 0,
) -> list[dict[str, Any]]:
    """Assess a retrofit package (or measure) on one building and store ``res_retrofit``; returns the rows."""
    from buildings.energy_archetypes import ArchetypeParameters
    from buildings.energy_twin import envelopes_from_twin
    from buildings.retrofit import (
        FinanceParameters,
        assess_retrofit,
        load_catalogue,
        resolve_measures,
        store_retrofit,
    )

    cat = load_catalogue(catalogue)
    resolve_measures(cat, package)  # an unknown name fails before any work
    climate = _climate(twin, weather)
    envelope = envelopes_from_twin(twin, [building_id], ArchetypeParameters(default_year=default_year))
    table = assess_retrofit(
        envelope,
        climate,
        cat,
        package,
        carrier=_carriers(twin, [building_id]),
        finance=FinanceParameters(discount_rate, price_escalation),
        scenario_id=scenario_id,
    )
    store_retrofit(twin, table, scenario_id)
    return [{k: v for k, v in r.items() if k not in ("assumptions", "computed_at")} for r in table.to_pylist()]


def lighting_command(
    twin: Twin,
    profiles: list[str],
    network_id: str | None = None,
    assume_unknown: str | None = None,
    burning_hours: float | None = None,
    price_eur_kwh: float | None = None,
    scenario_id: int = 0,
) -> dict[str, Any]:
    """Street-lighting options over the twin's lamps, stored in ``res_lighting``; returns the town sums."""
    import dataclasses

    from networks.lighting import (
        OPTIONS,
        LightingParameters,
        aggregate_lighting,
        lamps_from_twin,
        lighting_per_lamp,
        option_by_name,
        store_lighting,
    )

    options = [option_by_name(p) for p in (profiles or list(OPTIONS))]
    params = LightingParameters()
    if assume_unknown:
        tech, _, watts = assume_unknown.partition(":")
        try:
            params = dataclasses.replace(params, assume_unknown=(tech.strip().lower(), float(watts)))
        except ValueError:
            raise TwinError(
                f"--assume-unknown {assume_unknown}: expected TECHNOLOGY:WATTS", "e.g. --assume-unknown shp:100"
            ) from None
    if burning_hours:
        params = dataclasses.replace(params, burning_hours=burning_hours)
    if price_eur_kwh:
        params = dataclasses.replace(params, price_eur_kwh=price_eur_kwh)
    lamps = lamps_from_twin(twin, network_id)
    if len(lamps) == 0:
        raise TwinError("no street lights in the twin", "ingest them: twin ingest network FILE --kind lighting")
    per_lamp = lighting_per_lamp(lamps, options, params)
    store_lighting(twin, per_lamp, options, params, scenario_id)
    town = aggregate_lighting(per_lamp, "town").to_pylist()
    return {
        "lamps": len(lamps),
        "assumed": params.assume_unknown,
        "burning_hours": params.burning_hours,
        "town": town,
        "descriptions": {o.name: o.description for o in options},
    }


def _fmt(value: Any, digits: int = 1) -> str:
    return "unknown" if value is None else f"{value:,.{digits}f}"


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Add ``assess energy``, ``retrofit`` and ``lighting`` to the CLI and their functions to ``commands``."""
    commands["energy_assess"] = assess_energy_command
    commands["energy_retrofit"] = retrofit_command
    commands["energy_lighting"] = lighting_command

    assess = cli.commands.get("assess")
    if not isinstance(assess, click.Group):

        @click.group("assess")
        def assess_group() -> None:
            """Assess the twin's buildings: energy, reversibility, ..."""

        cli.add_command(assess_group)
        assess = assess_group

    @assess.command("energy")
    @click.option("--building", "buildings", multiple=True, metavar="ID", help="Only this building (repeatable).")
    @click.option("--weather", metavar="FILE.epw", help="EnergyPlus weather file; remembered in the twin.")
    @click.option("--default-year", type=int, help="Construction year assumed where unknown (else: unknown).")
    @click.option("--scenario", "scenario_id", type=int, default=0, show_default=True)
    @click.option(
        "--tabula",
        metavar="FILE.csv",
        help="U-values by period from the TABULA France typology (tabula_france.csv) instead of the 3CL defaults.",
    )
    @click.option("--tabula-class", default="SFH", show_default=True, help="TABULA size class: SFH, TH, MFH, AB.")
    @click.pass_context
    def assess_energy(
        ctx: click.Context,
        buildings: tuple[str, ...],
        weather: str | None,
        default_year: int | None,
        scenario_id: int,
        tabula: str | None,
        tabula_class: str,
    ) -> None:
        """Monthly heating and cooling needs (ISO 13790), final and primary energy, CO2, DPE class and décret
        tertiaire targets of every building; IFC buildings with their real envelope, GIS blocks with an archetype.
        Results go to res_energy, each with its route and assumptions."""
        import twin.cli as tc

        data = tc.run(
            ctx,
            "energy_assess",
            {
                "building_ids": list(buildings) or None,
                "weather": os.path.abspath(weather) if weather else None,
                "default_year": default_year,
                "scenario_id": scenario_id,
                "tabula": os.path.abspath(tabula) if tabula else None,
                "tabula_class": tabula_class,
            },
        )
        routes = ", ".join(f"{n:,} {r}" for r, n in data["routes"].items())
        tc.out.print(f"Climate: {data['climate']}", soft_wrap=True)
        tc.out.print(f"{data['buildings']:,} buildings ({routes}): {data['ok']:,} assessed.", soft_wrap=True)
        for reason, n in data["unknown"].items():
            tc.out.print(f"  [yellow]unknown[/] {n:,}: {reason}", soft_wrap=True)
        if data["ok"]:
            tc.out.print(
                f"Heating need {data['heating_need_mwh']:,.1f} MWh/yr; final {data['final_mwh']:,.1f} MWh/yr; "
                f"{data['co2_t']:,.1f} tCO2/yr.",
                soft_wrap=True,
            )
            tc.out.print("DPE: " + ", ".join(f"{k} {v:,}" for k, v in data["dpe"].items()), soft_wrap=True)
        if data["tertiary_subject"]:
            tc.out.print(
                f"Décret tertiaire: {data['tertiary_subject']:,} buildings subject (targets in res_energy)."
            )
        if data["calibrated"]:
            tc.out.print(f"{data['calibrated']:,} buildings calibrated against their meters.")
        for d in data["details"]:
            if d["status"] != "ok":
                tc.out.print(f"{d['building_id']} ({d['route']}): unknown, {d['reason']}", soft_wrap=True)
                continue
            tc.out.print(
                f"{d['building_id']} ({d['route']}): heating need {_fmt(d['heating_need_kwh_m2'])} kWh/m2/yr, "
                f"primary {_fmt(d['primary_kwh_m2'])} kWh/m2/yr, {_fmt(d['co2_kg_m2'])} kgCO2/m2/yr, "
                f"DPE {d['dpe_class']}, calibration {_fmt(d['calibration_factor'], 2)}",
                soft_wrap=True,
            )

    @cli.command("retrofit")
    @click.argument("building_id", metavar="BUILDING")
    @click.option("--package", required=True, help="A package or a single measure of the catalogue.")
    @click.option("--weather", metavar="FILE.epw", help="EnergyPlus weather file (default: the one remembered).")
    @click.option("--catalogue", metavar="FILE.yaml", help="Your own catalogue (default: the French one shipped).")
    @click.option("--discount-rate", type=float, default=0.03, show_default=True)
    @click.option("--price-escalation", type=float, default=0.02, show_default=True, help="Energy price rise /yr.")
    @click.option("--default-year", type=int, help="Construction year assumed where unknown.")
    @click.pass_context
    def retrofit(
        ctx: click.Context,
        building_id: str,
        package: str,
        weather: str | None,
        catalogue: str | None,
        discount_rate: float,
        price_escalation: float,
        default_year: int | None,
    ) -> None:
        """What a retrofit package (or one measure) saves on BUILDING: kWh, EUR and tCO2 per year, capex
        (indicative), payback, NPV and the DPE class after. Results go to res_retrofit."""
        import twin.cli as tc

        rows = tc.run(
            ctx,
            "energy_retrofit",
            {
                "building_id": building_id,
                "package": package,
                "weather": os.path.abspath(weather) if weather else None,
                "catalogue": os.path.abspath(catalogue) if catalogue else None,
                "discount_rate": discount_rate,
                "price_escalation": price_escalation,
                "default_year": default_year,
            },
        )
        for r in rows:
            label = "package" if r["measure"] == "*" else r["measure"]
            if r["status"] != "ok":
                tc.out.print(f"{r['building_id']}: unknown, {r['reason']}", soft_wrap=True)
                break
            tc.out.print(
                f"{label}: saves {_fmt(r['final_saved_kwh'], 0)} kWh/yr, "
                f"{_fmt(r['cost_saved_eur_yr'], 0)} EUR/yr, "
                f"{_fmt(r['co2_saved_t_yr'], 2)} tCO2/yr; capex {_fmt(r['capex_eur'], 0)} EUR (indicative), "
                f"payback {_fmt(r['simple_payback_yr'])} yr, NPV {_fmt(r['npv_eur'], 0)} EUR; "
                f"DPE {r['dpe_before']} -> {r['dpe_after']}",
                soft_wrap=True,
            )

    @cli.command("lighting")
    @click.option(
        "--profile", "profiles", multiple=True, help="Option(s) to compute (default: all, side by side)."
    )
    @click.option("--network", "network_id", help="One lighting network (default: all).")
    @click.option(
        "--assume-unknown",
        metavar="TECH:WATTS",
        help="Lamp assumed where the wattage is unknown, e.g. shp:100 (else such lamps are left out).",
    )
    @click.option("--burning-hours", type=float, help="Hours per year at full night (default 4,100).")
    @click.option("--price", "price_eur_kwh", type=float, help="Electricity price, EUR/kWh (default 0.20).")
    @click.pass_context
    def lighting(
        ctx: click.Context,
        profiles: tuple[str, ...],
        network_id: str | None,
        assume_unknown: str | None,
        burning_hours: float | None,
        price_eur_kwh: float | None,
    ) -> None:
        """Street lighting: LED replacement, dimming profiles and presence detection over the lamp inventory;
        energy, cost, CO2 and payback per lamp, street, district and town, stored in res_lighting."""
        import twin.cli as tc

        data = tc.run(
            ctx,
            "energy_lighting",
            {
                "profiles": list(profiles),
                "network_id": network_id,
                "assume_unknown": assume_unknown,
                "burning_hours": burning_hours,
                "price_eur_kwh": price_eur_kwh,
            },
        )
        tc.out.print(f"{data['lamps']:,} lamps, {data['burning_hours']:,.0f} h/yr.")
        if data["assumed"]:
            tc.out.print(f"Lamps of unknown wattage assumed {data['assumed'][0]} {data['assumed'][1]:g} W.")
        for r in data["town"]:
            if r["lamps_unknown"] == r["lamps"]:
                tc.out.print(
                    f"{r['option']}: {r['entity_id']}: no lamp with a known wattage: "
                    f"{r['lamps_unknown']:,} lamps of unknown wattage left out; state one with "
                    "--assume-unknown TECH:WATTS (e.g. shp:100)",
                    soft_wrap=True,
                )
                continue
            tc.out.print(
                f"{r['option']} ({data['descriptions'][r['option']]}): {r['entity_id']}: "
                f"{_fmt(r['baseline_kwh'] / 1000, 0)} -> {_fmt(r['option_kwh'] / 1000, 0)} MWh/yr "
                f"(-{_fmt(r['saving_percent'])} %), {_fmt(r['cost_saved_eur_yr'], 0)} EUR/yr, capex "
                f"{_fmt(r['capex_eur'], 0)} EUR, payback {_fmt(r['simple_payback_yr'])} yr",
                soft_wrap=True,
            )
            if r["lamps_unknown"]:
                tc.out.print(
                    f"  [yellow]{r['lamps_unknown']:,} lamps of unknown wattage left out[/]: "
                    "state one with --assume-unknown TECH:WATTS",
                    soft_wrap=True,
                )
        by_option = {(r["option"], r["entity_id"]): r for r in data["town"]}
        for (name, entity), r in by_option.items():
            base = by_option.get(("led_dimming", entity))
            if name != "led_presence" or base is None or not base["cost_saved_eur_yr"]:
                continue
            extra_capex = r["capex_eur"] - base["capex_eur"]
            extra_saving = r["cost_saved_eur_yr"] - base["cost_saved_eur_yr"]
            payback = f"{extra_capex / extra_saving:,.1f} yr" if extra_saving > 0 else "never"
            tc.out.print(
                f"Presence detection on top of LED + dimming ({entity}): +{extra_capex:,.0f} EUR for "
                f"+{extra_saving:,.0f} EUR/yr: pays back in {payback}.",
                soft_wrap=True,
            )
