"""``twin scenario run|list|show|compare|delete|sweep|schema``: futures described in YAML, evaluated against the
baseline, stored as rows of the twin (scenarios/)."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from twin.errors import TwinError
from twin.store import Twin

__all__ = ["register"]


def _abs(path: str | None) -> str | None:
    return os.path.abspath(path) if path else None


def _climate(twin: Twin, weather: str | None) -> Any:
    from buildings.weather import read_climate

    path = weather or os.environ.get("TWIN_WEATHER") or twin.metadata().get("weather_epw")
    if not path:
        raise TwinError(
            "no weather file: scenarios run the energy balance, which needs a year of hourly weather",
            "pass --weather FILE.epw (or run `twin assess energy --weather FILE.epw` once: the twin remembers it)",
        )
    return read_climate(path)


def scenario_run(twin: Twin, path: str, weather: str | None = None, replace: bool = False) -> dict[str, Any]:
    from scenarios.spec import load_scenario
    from scenarios.store import run_scenario

    loaded = load_scenario(path)
    summary = run_scenario(twin, loaded, _climate(twin, weather), replace=replace)
    if weather and twin.metadata().get("weather_epw") != os.path.abspath(weather):
        twin.set_metadata("weather_epw", os.path.abspath(weather))  # remembered once a run succeeded
    return summary


def scenario_list(twin: Twin) -> list[dict[str, Any]]:
    from scenarios.store import list_scenarios

    return [{**r, "created_at": str(r["created_at"])} for r in list_scenarios(twin)]


def scenario_show(twin: Twin, name: str) -> dict[str, Any]:
    from scenarios.store import show_scenario

    return show_scenario(twin, name)


def scenario_delete(twin: Twin, name: str) -> dict[str, Any]:
    from scenarios.store import delete_scenario

    return delete_scenario(twin, name)


def scenario_compare(twin: Twin, names: list[str], exports: list[str] | None = None) -> dict[str, Any]:
    from scenarios.store import compare_scenarios, export_comparison

    table = compare_scenarios(twin, names)
    written = [str(export_comparison(table, p)) for p in exports or []]
    return {"columns": table.column_names, "rows": table.to_pylist(), "written": written}


def scenario_sweep(
    twin: Twin,
    path: str,
    grid: str,
    weather: str | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    out: str | None = None,
) -> dict[str, Any]:
    from scenarios.baseline import load_baseline, resolve
    from scenarios.spec import load_scenario
    from scenarios.sweep import load_grid, run_sweep

    loaded = load_scenario(path)
    variants = load_grid(grid)
    baseline = load_baseline(twin, _climate(twin, weather))
    resolved = resolve(twin, loaded, baseline)
    table = run_sweep(baseline, resolved, variants, scheduler=scheduler, workers=workers)
    written = None
    if out:
        from scenarios.store import export_comparison

        written = str(export_comparison(table, out))
    return {"variants": table.num_rows, "rows": table.to_pylist()[:20], "written": written,
            "columns": table.column_names}  # fmt: skip


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Add the ``scenario`` group to the CLI and its functions to ``commands``."""
    commands["scenario_run"] = scenario_run
    commands["scenario_list"] = scenario_list
    commands["scenario_show"] = scenario_show
    commands["scenario_delete"] = scenario_delete
    commands["scenario_compare"] = scenario_compare
    commands["scenario_sweep"] = scenario_sweep

    @cli.group("scenario")
    def scenario() -> None:
        """Scenarios: describe a future in YAML (convert, retrofit, relamp, demolish, build), evaluate it against
        the baseline (energy, money, carbon, dwellings, pupils, pipes), compare several, sweep parameter grids."""

    @scenario.command("run")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option(
        "--weather", metavar="FILE.epw", help="EnergyPlus weather (default: the one the twin remembers)."
    )
    @click.option("--replace", is_flag=True, help="Replace a stored scenario of the same name.")
    @click.pass_context
    def run(ctx: click.Context, file: str, weather: str | None, replace: bool) -> None:
        """Validate FILE, evaluate it over the baseline and store its KPIs (nothing is written if it fails)."""
        import twin.cli as tc

        data = tc.run(ctx, "scenario_run", {"path": os.path.abspath(file), "replace": replace,
                                             "weather": _abs(weather)})  # fmt: skip
        tc.out.print(
            f"Scenario {data['scenario_id']} '{data['name']}': {data['overlay_buildings']} buildings changed."
        )
        _print_totals(tc, data["totals"], data["baseline"])
        for f in data["feasibility"]:
            tc.out.print(f"  {f['building_id']} {f['path']}: {f['reason']}", soft_wrap=True)
        for w in data["water"]:
            tc.out.print(
                f"  water {w['network_id']}: +{w['added_demand_l_s']:.2f} L/s peak at "
                f"{len(w['nodes_with_added_demand'])} nodes; min pressure {w['min_pressure_m_before']:.1f} -> "
                f"{w['min_pressure_m_after']:.1f} m; flags {w['flags_before'] or 'none'} -> "
                f"{w['flags_after'] or 'none'}",
                soft_wrap=True,
            )

    @scenario.command("list")
    @click.pass_context
    def list_(ctx: click.Context) -> None:
        """The scenarios stored in the twin (0 is the baseline)."""
        import twin.cli as tc

        for r in tc.run(ctx, "scenario_list", {}):
            tc.out.print(f"{r['scenario_id']:>4}  {r['name']}  ({r['buildings_changed']} buildings changed)  "
                         f"{r['description'] or ''}", soft_wrap=True)  # fmt: skip

    @scenario.command("show")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
    @click.pass_context
    def show(ctx: click.Context, name: str, as_json: bool) -> None:
        """A stored scenario: its file, horizon totals against the baseline, pathway and use-change verdicts."""
        import twin.cli as tc

        data = tc.run(ctx, "scenario_show", {"name": name})
        if as_json:
            tc.out.print_json(json.dumps(data, default=str))
            return
        tc.out.print(f"Scenario {data['scenario_id']} '{data['name']}': {data['spec'].get('description', '')}")
        _print_totals(tc, data["horizon"], data["baseline"])
        by_year: dict[int, dict[str, float]] = {}
        for r in data["pathway"]:
            by_year.setdefault(r["year"], {})[r["kpi"]] = r["value"]
        tc.out.print("Pathway (décret tertiaire: -40 % 2030, -50 % 2040, -60 % 2050 of the reference):")
        for year in sorted(y for y in by_year if y in (2026, 2030, 2035, 2040, 2045, 2050) or y == max(by_year)):
            k = by_year[year]
            tc.out.print(
                f"  {year}: final {k['final_kwh'] / 1000:,.0f} MWh, {k['co2_t']:,.0f} tCO2, capex to date "
                f"{k['capex_cumulative_eur']:,.0f} EUR; tertiary {k['tertiary_final_kwh'] / 1000:,.0f} MWh vs "
                f"target {k['tertiary_target_kwh'] / 1000:,.0f} MWh, {k['tertiary_compliant']:.0f}/"
                f"{k['tertiary_subject']:.0f} buildings on track",
                soft_wrap=True,
            )
        for f in data["feasibility"]:
            tc.out.print(f"  {f['building_id']} {f['path']}: {f['reason']}", soft_wrap=True)

    @scenario.command("delete")
    @click.argument("name")
    @click.pass_context
    def delete(ctx: click.Context, name: str) -> None:
        """Delete a scenario and its results; the baseline is untouched."""
        import twin.cli as tc

        data = tc.run(ctx, "scenario_delete", {"name": name})
        tc.out.print(f"Deleted scenario {data['scenario_id']} '{data['name']}'.")

    @scenario.command("compare")
    @click.argument("names", nargs=-1, required=True)
    @click.option("--export", "exports", multiple=True, metavar="FILE",
                  help="Write the table to FILE (.csv, .parquet or .html); repeatable.")  # fmt: skip
    @click.pass_context
    def compare(ctx: click.Context, names: tuple[str, ...], exports: tuple[str, ...]) -> None:
        """Scenarios side by side at their horizon, with their deltas to the baseline."""
        from rich.table import Table

        import twin.cli as tc

        data = tc.run(ctx, "scenario_compare", {"names": list(names),
                                                 "exports": [os.path.abspath(p) for p in exports]})  # fmt: skip
        table = Table(*data["columns"])
        for r in data["rows"]:
            table.add_row(*[v if isinstance(v, str) else ("unknown" if v is None else f"{v:,.1f}")
                            for v in r.values()])  # fmt: skip
        tc.out.print(table)
        for p in data["written"]:
            tc.out.print(f"Wrote {p}")

    @scenario.command("sweep")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--grid", required=True, type=click.Path(dir_okay=False), help="YAML grid of parameters.")
    @click.option("--scheduler", metavar="tcp://HOST:8786", help="A dask.distributed scheduler (default: local).")
    @click.option("--workers", type=int, default=2, show_default=True, help="Local worker processes.")
    @click.option("--weather", metavar="FILE.epw")
    @click.option("--out", metavar="FILE", help="Write every variant to FILE (.csv, .parquet, .html).")
    @click.pass_context
    def sweep(ctx: click.Context, file: str, grid: str, scheduler: str | None, workers: int,
              weather: str | None, out: str | None) -> None:  # fmt: skip
        """Evaluate FILE over a parameter grid (package x subsidy x energy price x discount rate) on
        dask.distributed; the workers get the baseline as Arrow and never open the twin file."""
        import twin.cli as tc

        data = tc.run(ctx, "scenario_sweep", {
            "path": os.path.abspath(file), "grid": os.path.abspath(grid), "scheduler": scheduler,
            "workers": workers, "weather": os.path.abspath(weather) if weather else None,
            "out": os.path.abspath(out) if out else None})  # fmt: skip
        tc.out.print(f"{data['variants']} variants evaluated.")
        for r in data["rows"]:
            tc.out.print(", ".join(f"{k} {v:,.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()),
                         soft_wrap=True)  # fmt: skip
        if data["written"]:
            tc.out.print(f"Wrote {data['written']}")

    @scenario.command("schema")
    def schema() -> None:
        """Print the JSON schema of scenario files (docs/scenario.schema.json)."""
        from scenarios.spec import scenario_json_schema

        click.echo(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))


def _print_totals(tc: Any, totals: dict[str, Any], baseline: dict[str, Any]) -> None:
    for k in ("final_kwh", "primary_kwh", "co2_t", "opex_eur", "capex_cumulative_eur", "npv_eur",
              "simple_payback_yr", "dwellings", "residents", "pupils", "school_places", "water_m3_day",
              "tertiary_subject", "tertiary_compliant", "use_changes_blocked", "carbon_kept_t"):  # fmt: skip
        v, b = totals.get(k), baseline.get(k)
        shown = "unknown" if v is None or v != v else f"{v:,.1f}"
        delta = f" (baseline {b:,.1f}, {v - b:+,.1f})" if b is not None and v is not None and v == v else ""
        tc.out.print(f"  {k}: {shown}{delta}", soft_wrap=True)
