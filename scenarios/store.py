"""Scenarios as rows of the twin: run (validate, resolve, evaluate, check the pipes, store), list, show, compare,
delete. The only module of ``scenarios/`` that writes, and it writes in one transaction per scenario: a file that
fails anywhere (validation, an unknown building, a bad SQL condition) leaves the twin as it was.

Rows written by a run: ``scenarios`` (the validated file as JSON), ``scenario_results`` (totals per year with
``building_id`` NULL, the horizon values per building, and the baseline's totals under ``baseline.<kpi>``),
``scenario_overlay`` (the buildings the scenario changes), ``scenario_feasibility`` (each use change) and the
scenario's water check in ``res_network_nodes`` / ``res_network_links``. The baseline (scenario 0) is never
written.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa

from buildings.weather import Climate
from scenarios.baseline import Baseline, load_baseline, resolve
from scenarios.evaluate import KPI_UNITS, EvaluationParameters, ScenarioResult, evaluate
from scenarios.spec import LoadedScenario
from scenarios.water import scenario_water_check
from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "compare_scenarios",
    "delete_scenario",
    "export_comparison",
    "kpi_rows",
    "list_scenarios",
    "run_scenario",
    "show_scenario",
]  # fmt: skip

_OWNED = ("scenario_results", "scenario_overlay", "scenario_feasibility", "res_network_nodes", "res_network_links")


def kpi_rows(scenario_id: int, result: ScenarioResult) -> pa.Table:
    """The ``scenario_results`` rows of a result: totals per year, per building at the horizon, the baseline's."""
    sid: list[int] = []
    building: list[str | None] = []
    kpi: list[str] = []
    year: list[int | None] = []
    value: list[float | None] = []
    unit: list[str | None] = []
    years = result.years["year"].to_pylist()
    horizon = years[-1] if years else None

    def add(b: str | None, k: str, y: int | None, v: Any) -> None:
        sid.append(scenario_id)
        building.append(b)
        kpi.append(k)
        year.append(y)
        value.append(None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v))
        unit.append(KPI_UNITS.get(k.removeprefix("baseline."), "buildings" if "dpe_" in k else None))

    for name in result.years.column_names:
        if name == "year":
            continue
        for y, v in zip(years, result.years[name].to_pylist(), strict=True):
            add(None, name, y, v)
    for k in ("npv_eur", "simple_payback_yr"):
        add(None, k, horizon, result.totals.get(k))
    for k, v in result.baseline_totals.items():
        add(None, f"baseline.{k}", None, v)
    # demand per network (water m3/day, electricity MWh/yr), at the horizon and in the baseline
    nets: dict[str, list[float]] = {}
    units_of: dict[str, str] = {}
    for r in result.networks.to_pylist():
        key = f"demand:{r['network_id']}"
        before_after = nets.setdefault(key, [0.0, 0.0])
        before_after[0] += r["demand_before"]
        before_after[1] += r["demand_after"]
        units_of[key] = r["unit"]
    for key, (before, after) in sorted(nets.items()):
        add(None, key, horizon, after)
        unit[-1] = units_of[key]
        add(None, f"baseline.{key}", None, before)
        unit[-1] = units_of[key]
    per_building = ("final_kwh", "primary_kwh", "co2_kg", "opex_eur", "capex_eur", "npv_eur", "dwellings",
                    "residents_added", "pupils_added", "water_m3_day")  # fmt: skip
    units = {"co2_kg": "kgCO2e/yr", "residents_added": "persons", "pupils_added": "pupils"}
    b = result.buildings
    touched = _touched(result)
    ids = b["building_id"].to_pylist()
    for k in per_building:
        for bid, v in zip(ids, b[k].to_pylist(), strict=True):
            if bid in touched:
                add(bid, k, horizon, v)
                if k in units:
                    unit[-1] = units[k]
    return pa.table(
        {
            "scenario_id": pa.array(sid, pa.int32()),
            "building_id": pa.array(building, pa.string()),
            "kpi": pa.array(kpi, pa.string()),
            "year": pa.array(year, pa.int32()),
            "value": pa.array(value, pa.float64()),
            "unit": pa.array(unit, pa.string()),
        }
    )


def _touched(result: ScenarioResult) -> set[str]:
    """Buildings whose state the scenario changes (their rows are the overlay)."""
    b = result.buildings
    out = set()
    for r in b.select(["building_id", "state", "capex_eur", "final_kwh", "final_kwh_before", "dwellings",
                       "dwellings_before"]).to_pylist():  # fmt: skip
        same = r["final_kwh"] == r["final_kwh_before"] and r["dwellings"] == r["dwellings_before"]
        if r["state"] != "kept" or (r["capex_eur"] or 0) > 0 or not same:
            out.add(r["building_id"])
    return out


def run_scenario(
    twin: Twin,
    loaded: LoadedScenario,
    climate: Climate,
    *,
    params: EvaluationParameters | None = None,
    replace: bool = False,
    water: bool = True,
    baseline: Baseline | None = None,
) -> dict[str, Any]:
    """Validate against the twin, evaluate, run the water check and store the scenario; returns a summary.

    A scenario of the same name is an error unless ``replace``. Nothing is written when anything fails.
    """
    scenario = loaded.scenario
    existing = (
        twin.query("SELECT scenario_id FROM scenarios WHERE name = ?", [scenario.name]).column(0).to_pylist()
    )
    if existing and not replace:
        raise loaded.error(("name",), f"a scenario named '{scenario.name}' exists already (id {existing[0]})",
                           "give another name, run with --replace, or `twin scenario delete` it")  # fmt: skip
    if scenario.name == "baseline":
        raise loaded.error(("name",), "'baseline' is the twin as it is (scenario 0)", "give another name")
    base = baseline or load_baseline(twin, climate, _catalogue(loaded))
    resolved = resolve(twin, loaded, base)
    result = evaluate(base, resolved, params)
    summaries: list[dict[str, Any]] = []
    node_tables: list[pa.Table] = []
    link_tables: list[pa.Table] = []
    with twin.write() as cur:
        if existing:
            _delete_rows(cur, int(existing[0]))
            cur.execute("DELETE FROM scenarios WHERE scenario_id = ?", [existing[0]])
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        row = cur.execute(
            "INSERT INTO scenarios (name, description, spec, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING scenario_id",
            [scenario.name, scenario.description, scenario.model_dump_json(by_alias=True), now],
        ).fetchone()
        assert row is not None
        scenario_id = int(row[0])
        if water:
            summaries, node_tables, link_tables = scenario_water_check(
                twin, result.networks, scenario_id=scenario_id
            )
        _insert(cur, "scenario_results", kpi_rows(scenario_id, result))
        overlay = _overlay(scenario_id, result)
        _insert(cur, "scenario_overlay", overlay)
        feas = result.feasibility
        if feas.num_rows:
            feas = feas.append_column("scenario_id", pa.array([scenario_id] * feas.num_rows, pa.int32()))
            _insert(cur, "scenario_feasibility", feas)
        for table, target in [(t, "res_network_nodes") for t in node_tables] + [
            (t, "res_network_links") for t in link_tables
        ]:
            _insert(cur, target, table)
        cur.execute(
            "UPDATE scenarios SET spec = json_merge_patch(spec, ?::JSON) WHERE scenario_id = ?",
            [json.dumps({"x_water_check": summaries}), scenario_id],
        )
    return {
        "scenario_id": scenario_id,
        "name": scenario.name,
        "totals": result.totals,
        "baseline": result.baseline_totals,
        "feasibility": result.feasibility.to_pylist(),
        "water": summaries,
        "overlay_buildings": overlay.num_rows,
    }


def _catalogue(loaded: LoadedScenario) -> Any:
    from buildings.retrofit import load_catalogue

    path = loaded.scenario.catalogue
    if path is None:
        return None
    file = Path(path)
    if not file.is_absolute():
        file = Path(loaded.source).parent / file
    try:
        return load_catalogue(file)
    except TwinError as exc:
        raise loaded.error(("catalogue",), exc.message, exc.hint) from None


def _overlay(scenario_id: int, result: ScenarioResult) -> pa.Table:
    touched = _touched(result)
    b = result.buildings
    rows = [r for r in b.to_pylist() if r["building_id"] in touched]
    return pa.table(
        {
            "scenario_id": pa.array([scenario_id] * len(rows), pa.int32()),
            "building_id": pa.array([r["building_id"] for r in rows], pa.string()),
            "state": pa.array([r["state"] for r in rows], pa.string()),
            "use_before": pa.array([r["use_before"] for r in rows], pa.string()),
            "use_after": pa.array([r["use_after"] for r in rows], pa.string()),
            "dwellings_before": pa.array([r["dwellings_before"] for r in rows], pa.float64()),
            "dwellings_after": pa.array([r["dwellings"] for r in rows], pa.float64()),
            "dpe_before": pa.array([r["dpe_before"] for r in rows], pa.string()),
            "dpe_after": pa.array([r["dpe_after"] for r in rows], pa.string()),
            "capex_eur": pa.array([r["capex_eur"] for r in rows], pa.float64()),
        }
    )


def _insert(cur: Any, table: str, data: pa.Table) -> None:
    if data.num_rows == 0:
        return
    cur.register("__scenario_rows", data)
    try:
        cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM __scenario_rows')
    finally:
        cur.unregister("__scenario_rows")


def _delete_rows(cur: Any, scenario_id: int) -> None:
    for table in _OWNED:
        cur.execute(f"DELETE FROM {table} WHERE scenario_id = ?", [scenario_id])


def _find(twin: Twin, name_or_id: str) -> tuple[int, str]:
    rows = twin.query(
        "SELECT scenario_id, name FROM scenarios WHERE name = ? OR CAST(scenario_id AS VARCHAR) = ?",
        [name_or_id, name_or_id],
    ).to_pylist()
    if not rows:
        raise TwinError(f"no scenario '{name_or_id}' in the twin", "list them with `twin scenario list`")
    return int(rows[0]["scenario_id"]), str(rows[0]["name"])


def list_scenarios(twin: Twin) -> list[dict[str, Any]]:
    return twin.query(
        """SELECT s.scenario_id, s.name, s.description, s.created_at,
                  (SELECT count(*) FROM scenario_overlay o
                   WHERE o.scenario_id = s.scenario_id) AS buildings_changed
           FROM scenarios s ORDER BY s.scenario_id"""
    ).to_pylist()


def show_scenario(twin: Twin, name_or_id: str) -> dict[str, Any]:
    scenario_id, name = _find(twin, name_or_id)
    if scenario_id == 0:
        raise TwinError("scenario 0 is the baseline: it has no results of its own", "show a scenario you ran")
    spec = json.loads(
        twin.query("SELECT spec::VARCHAR FROM scenarios WHERE scenario_id = ?", [scenario_id])[0][0].as_py()
    )
    years = twin.query(
        """SELECT kpi, year, value, unit FROM scenario_results WHERE scenario_id = ? AND building_id IS NULL
           AND year IS NOT NULL ORDER BY kpi, year""",
        [scenario_id],
    ).to_pylist()
    horizon = max((r["year"] for r in years), default=None)
    return {
        "scenario_id": scenario_id,
        "name": name,
        "spec": spec,
        "horizon": {r["kpi"]: r["value"] for r in years if r["year"] == horizon},
        "units": {r["kpi"]: r["unit"] for r in years},
        "baseline": {
            r["kpi"].removeprefix("baseline."): r["value"]
            for r in twin.query(
                "SELECT kpi, value FROM scenario_results WHERE scenario_id = ? AND kpi LIKE 'baseline.%'",
                [scenario_id],
            ).to_pylist()
        },
        "pathway": years,
        "feasibility": twin.query(
            "SELECT * EXCLUDE (scenario_id) FROM scenario_feasibility WHERE scenario_id = ? "
            "ORDER BY intervention, "
            "building_id",
            [scenario_id],
        ).to_pylist(),
        "overlay": twin.query(
            "SELECT * EXCLUDE (scenario_id) FROM scenario_overlay WHERE scenario_id = ? ORDER BY building_id",
            [scenario_id],
        ).to_pylist(),
    }


def delete_scenario(twin: Twin, name_or_id: str) -> dict[str, Any]:
    scenario_id, name = _find(twin, name_or_id)
    if scenario_id == 0:
        raise TwinError("scenario 0 is the baseline and cannot be deleted", "delete a scenario you ran")
    with twin.write() as cur:
        _delete_rows(cur, scenario_id)
        cur.execute("DELETE FROM scenarios WHERE scenario_id = ?", [scenario_id])
    return {"scenario_id": scenario_id, "name": name}


def compare_scenarios(twin: Twin, names: list[str]) -> pa.Table:
    """Horizon totals side by side: one row per KPI, the baseline, each scenario and its delta to the baseline."""
    if not names:
        raise TwinError("give at least one scenario to compare", "e.g. twin scenario compare plan-a plan-b")
    found = [_find(twin, n) for n in names]
    columns: dict[str, dict[str, float | None]] = {}
    baseline: dict[str, float | None] = {}
    units: dict[str, str | None] = {}
    for sid, name in found:
        rows = twin.query(
            """WITH h AS (SELECT max(year) AS y FROM scenario_results
                         WHERE scenario_id = ? AND building_id IS NULL)
               SELECT kpi, value, unit FROM scenario_results, h WHERE scenario_id = ? AND building_id IS NULL
               AND (year = h.y OR year IS NULL)""",
            [sid, sid],
        ).to_pylist()
        columns[name] = {r["kpi"]: r["value"] for r in rows if not r["kpi"].startswith("baseline.")}
        units.update({r["kpi"]: r["unit"] for r in rows if not r["kpi"].startswith("baseline.")})
        for r in rows:
            if r["kpi"].startswith("baseline."):
                baseline.setdefault(r["kpi"].removeprefix("baseline."), r["value"])
    kpis = sorted({k for c in columns.values() for k in c})
    out: dict[str, list[Any]] = {"kpi": kpis, "unit": [units.get(k) for k in kpis],
                                 "baseline": [baseline.get(k) for k in kpis]}  # fmt: skip
    for name, values in columns.items():
        out[name] = [values.get(k) for k in kpis]
        out[f"{name} - baseline"] = [
            None if values.get(k) is None or baseline.get(k) is None else values[k] - baseline[k]  # type: ignore[operator]
            for k in kpis
        ]
    schema = pa.schema([(k, pa.string() if k in ("kpi", "unit") else pa.float64()) for k in out])
    return pa.table(out, schema=schema)


def export_comparison(table: pa.Table, path: str | Path) -> Path:
    """Write a comparison as CSV, Parquet or HTML, chosen by the file's suffix."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, file)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, file)
    elif suffix in (".html", ".htm"):
        frame = table.to_pandas()
        body = frame.to_html(index=False, na_rep="unknown", float_format=lambda v: f"{v:,.2f}", border=0)
        file.write_text(
            "<!doctype html><meta charset='utf-8'><title>twin: scenario comparison</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style>"
            f"<h1>Scenario comparison</h1>{body}",
            encoding="utf-8",
        )
    else:
        raise TwinError(f"cannot export to {file.name}", "give a .csv, .parquet or .html file")
    return file
