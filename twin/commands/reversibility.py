"""``twin assess reversibility`` and ``twin report reversibility``: can these buildings change use?

Thin commands: they parse arguments, call :mod:`buildings.reversibility_store` (assess and store) and
:mod:`buildings.reversibility_report` (the HTML study), and print. The ``assess`` and ``report`` groups are
shared with other capabilities (energy adds ``twin assess energy``): whichever module registers first creates
them, the others add to them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from twin.store import Twin

__all__ = ["register"]

_TOP = 30


def _assess(
    twin: Twin,
    building: str | None = None,
    paths: list[str] | None = None,
    rules_path: str | None = None,
    scenario_id: int = 0,
) -> dict[str, Any]:
    """Assess and store; returns the distribution per path and the best results (JSON for ``twin serve``)."""
    from buildings.reversibility_rules import default_rules, load_rules
    from buildings.reversibility_store import assess_twin

    rules = load_rules(rules_path) if rules_path else default_rules()
    result, carbon = assess_twin(
        twin,
        building_ids=[building] if building else None,
        paths=paths or None,
        rules=rules,
        scenario_id=scenario_id,
    )
    res = result.results
    rows_all = [{k: _clean(v) for k, v in r.items()} for r in res.to_pylist()]
    ids = sorted(set(res["building_id"].to_pylist()))
    names = {
        r["building_id"]: r["name"]
        for r in twin.query(
            "SELECT building_id, coalesce(name, building_id) AS name FROM buildings "
            "WHERE list_contains(?, building_id)",
            [ids],
        ).to_pylist()
    }
    kept = dict(zip(carbon["building_id"].to_pylist(), carbon["carbon_kgco2e"].to_pylist(), strict=True))
    summary = []
    for path in dict.fromkeys(res["path"].to_pylist()):
        rows = [r for r in rows_all if r["path"] == path]
        scores = [r["score"] for r in rows]
        summary.append(
            {
                "path": path,
                "buildings": len(rows),
                "convertible": sum(r["convertible"] is True for r in rows),
                "not_convertible": sum(r["convertible"] is False for r in rows),
                "unknown": sum(r["convertible"] is None for r in rows),
                "score_quartiles": _quartiles(scores),
                "dwellings": sum(r["dwellings"] or 0 for r in rows if r["convertible"] is True),
                "pupils": sum(r["pupils"] or 0 for r in rows if r["convertible"] is True),
            }
        )
    ordered = sorted(rows_all, key=lambda r: (r["convertible"] is not True, -r["score"]))
    top = [
        {
            "building_id": r["building_id"],
            "name": names.get(r["building_id"], r["building_id"]),
            "path": r["path"],
            "route": r["route"],
            "convertible": r["convertible"],
            "score": r["score"],
            "score_max": r["score_max"],
            "coverage": r["coverage"],
            "dwellings": r["dwellings"],
            "pupils": r["pupils"],
            "cost_low_eur": r["cost_low_eur"],
            "cost_high_eur": r["cost_high_eur"],
            "carbon_kept_kgco2e": kept.get(r["building_id"]) if r["route"] == "ifc" else None,
            "vetoes": [v["reason"] for v in json.loads(r["vetoes"])],
            "storeys": json.loads(r["storey_scores"]) if building else [],
        }
        for r in ordered[: _TOP if not building else len(ordered)]
    ]
    return {"rules_version": rules.version, "rows": res.num_rows, "summary": summary, "top": top}


def _clean(value: Any) -> Any:
    """NaN (unknown) -> None, so that the data is JSON for ``twin serve`` and prints as blank."""
    return None if isinstance(value, float) and value != value else value


def _quartiles(values: list[float]) -> list[float]:
    if not values:
        return []
    ordered = sorted(values)
    return [ordered[int(q * (len(ordered) - 1))] for q in (0.0, 0.25, 0.5, 0.75, 1.0)]


def _report(
    twin: Twin,
    building: str,
    out: str,
    paths: list[str] | None = None,
    rules_path: str | None = None,
) -> dict[str, Any]:
    from buildings.reversibility_report import write_report
    from buildings.reversibility_rules import default_rules, load_rules

    rules = load_rules(rules_path) if rules_path else default_rules()
    return write_report(twin, building, Path(out), paths=paths or None, rules=rules)


def _group(cli: click.Group, name: str, help_text: str) -> click.Group:
    existing = cli.commands.get(name)
    if isinstance(existing, click.Group):
        return existing

    @click.group(name, help=help_text)
    def group() -> None:
        pass

    cli.add_command(group)
    return group


def _print(data: dict[str, Any]) -> None:
    from rich.table import Table

    from twin.cli import out

    table = Table(title=f"Reversibility (rules {data['rules_version']})")
    for column in ("building", "path", "route", "verdict", "score", "known", "yield", "cost k€", "vetoes"):
        table.add_column(column)
    for r in data["top"]:
        verdict = {True: "[green]convertible[/]", False: "[red]vetoed[/]", None: "[yellow]unknown[/]"}[
            r["convertible"]
        ]
        score = f"{r['score']:.0f}" if r["score"] == r["score_max"] else f"{r['score']:.0f}-{r['score_max']:.0f}"
        made = []
        if r["dwellings"]:
            made.append(f"{r['dwellings']:.0f} dwellings")
        if r["pupils"] and not r["dwellings"]:
            made.append(f"{r['pupils']:.0f} pupils")
        cost = (
            f"{r['cost_low_eur'] / 1000:,.0f}-{r['cost_high_eur'] / 1000:,.0f}"
            if r["cost_low_eur"] is not None and r["cost_high_eur"] is not None
            else ""
        )
        table.add_row(
            str(r["name"])[:40],
            r["path"],
            r["route"],
            verdict,
            score,
            f"{r['coverage']:.0%}",
            ", ".join(made),
            cost,
            "; ".join(r["vetoes"])[:120],
        )
    out.print(table)
    for r in data["top"]:
        if not r.get("storeys"):
            continue
        per = Table(title=f"{r['name']}: {r['path']} per storey")
        for column in ("storey", "level", "area m²", "score", "verdict"):
            per.add_column(column)
        for s in r["storeys"]:
            per.add_row(
                str(s["name"]),
                str(s["level_index"]),
                "" if s["area_m2"] is None else f"{s['area_m2']:,.0f}",
                f"{s['score']:.0f}",
                {True: "convertible", False: "vetoed", None: "unknown"}[s["convertible"]],
            )
        out.print(per)
    for s in data["summary"]:
        q = s["score_quartiles"]
        spread = f"scores min {q[0]:.0f} / median {q[2]:.0f} / max {q[4]:.0f}" if q else ""
        out.print(
            f"{s['path']}: {s['buildings']:,} buildings: {s['convertible']:,} convertible, "
            f"{s['not_convertible']:,} vetoed, {s['unknown']:,} unknown; {spread}"
            + (
                f"; {s['dwellings']:,.0f} dwellings, {s['pupils']:,.0f} pupils from the convertible ones"
                if s["dwellings"] or s["pupils"]
                else ""
            ),
            soft_wrap=True,
        )
    if data["rows"] > len(data["top"]):
        out.print(f"{data['rows']:,} results stored in res_reversibility (top {len(data['top'])} shown)")


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Add ``assess reversibility`` and ``report reversibility`` (creating the groups if need be)."""
    commands["assess_reversibility"] = _assess
    commands["report_reversibility"] = _report
    assess = _group(cli, "assess", "Analyses that judge the twin's buildings and store their results (res_*).")
    report = _group(cli, "report", "Studies written as self-contained files (HTML, printable to PDF).")

    @assess.command("reversibility")
    @click.option("--building", help="One building id (default: every building; GIS ones get a LoD1 screening).")
    @click.option(
        "--path",
        "paths",
        multiple=True,
        help="Conversion path(s) of the rule file, e.g. office->housing (repeatable; default: all that apply).",
    )
    @click.option(
        "--rules",
        "rules_path",
        type=click.Path(dir_okay=False),
        help="A YAML rule file replacing the French defaults (buildings/rules/reversibility-fr.yaml).",
    )
    @click.pass_context
    def assess_reversibility(
        ctx: click.Context, building: str | None, paths: tuple[str, ...], rules_path: str | None
    ) -> None:
        """Can these buildings change use? Vetoes, a 0-100 score per path and per storey, yield, cost and the
        embodied carbon kept, stored in res_reversibility and res_reversibility_criteria (re-running replaces)."""
        from twin.cli import run

        data = run(
            ctx,
            "assess_reversibility",
            {
                "building": building,
                "paths": list(paths) or None,
                "rules_path": str(Path(rules_path).resolve()) if rules_path else None,
            },
        )
        _print(data)

    @report.command("reversibility")
    @click.argument("building")
    @click.option("--out", "out_path", type=click.Path(dir_okay=False), help="HTML file (default BUILDING.html).")
    @click.option("--path", "paths", multiple=True, help="Conversion path(s) (default: those that apply).")
    @click.option("--rules", "rules_path", type=click.Path(dir_okay=False), help="A YAML rule file.")
    @click.pass_context
    def report_reversibility(
        ctx: click.Context, building: str, out_path: str | None, paths: tuple[str, ...], rules_path: str | None
    ) -> None:
        """Write the reversibility study of BUILDING: a self-contained HTML file (printable to PDF) with the
        criteria, their evidence (IFC GlobalIds), storey plans, scores, yield, impact and recommendations."""
        from twin.cli import out, run

        target = Path(out_path or f"{building.replace('/', '_')}-reversibility.html").resolve()
        data = run(
            ctx,
            "report_reversibility",
            {
                "building": building,
                "out": str(target),
                "paths": list(paths) or None,
                "rules_path": str(Path(rules_path).resolve()) if rules_path else None,
            },
        )
        out.print(f"Reversibility study of {data['name']} written to {data['path']} ({data['paths']} paths)")
