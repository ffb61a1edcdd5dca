"""What the Scenarios page reads and writes: stored scenarios, drafts saved from the editor, per-building deltas.

Runs, deletions and comparisons go through :mod:`scenarios.store` (the functions ``twin scenario run|delete|
compare`` use); the one thing this module adds is the *draft*: a validated scenario file saved from the editor
before it is run, a row of ``scenarios`` whose spec carries ``x_draft: true`` and the planner's YAML text
(``x_yaml``, comments kept) and which has no results yet. Running it replaces the draft.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from scenarios.spec import LoadedScenario
from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "DPE_ORDER",
    "EXAMPLES",
    "add_intervention",
    "building_deltas",
    "example_files",
    "is_draft",
    "list_stored",
    "save_draft",
    "spec_yaml",
]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
"""The scenario files shipped with twin (run against the demo twin), offered as templates in the editor."""
DPE_ORDER = "GFEDCBA"
"""DPE classes from worst to best: a gain is a positive step count."""


def example_files() -> dict[str, Path]:
    """The example scenario files by file name (``grid.yaml``, a sweep grid, is not a scenario)."""
    if not EXAMPLES.is_dir():
        return {}
    return {p.name: p for p in sorted(EXAMPLES.glob("*.yaml")) if p.name != "grid.yaml"}


def list_stored(twin: Twin) -> list[dict[str, Any]]:
    """The stored scenarios but the baseline: name, description, created, last run (None for a draft), buildings
    changed."""
    return twin.query(
        """SELECT s.scenario_id, s.name, s.description, s.created_at, s.updated_at,
                  coalesce(json_extract(s.spec, '$.x_draft')::BOOLEAN, false) AS draft,
                  (SELECT count(*) FROM scenario_overlay o WHERE o.scenario_id = s.scenario_id)
                      AS buildings_changed,
                  (SELECT max(year) FROM scenario_results r WHERE r.scenario_id = s.scenario_id) AS horizon
           FROM scenarios s WHERE s.scenario_id > 0 ORDER BY s.scenario_id"""
    ).to_pylist()


def is_draft(twin: Twin, name: str) -> bool | None:
    """True for a saved draft, False for a scenario that has been run, None when there is no such scenario."""
    rows = twin.query(
        "SELECT coalesce(json_extract(spec, '$.x_draft')::BOOLEAN, false) FROM scenarios WHERE name = ?", [name]
    ).column(0)
    return None if len(rows) == 0 else bool(rows[0].as_py())


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v is not None and not str(k).startswith("x_")}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def spec_yaml(twin: Twin, name: str) -> str:
    """The YAML text of a stored scenario: the planner's own text for a draft, else its validated spec."""
    rows = twin.query("SELECT spec::VARCHAR FROM scenarios WHERE name = ?", [name]).column(0)
    if len(rows) == 0:
        raise TwinError(f"no scenario '{name}' in the twin", "pick one from the list")
    spec = json.loads(rows[0].as_py() or "{}")
    if isinstance(spec.get("x_yaml"), str):
        return str(spec["x_yaml"])
    return yaml.safe_dump(_drop_empty(spec), sort_keys=False, allow_unicode=True)


def save_draft(twin: Twin, loaded: LoadedScenario, text: str) -> dict[str, Any]:
    """Store a validated scenario as a draft (insert, or update the draft of the same name) in one transaction.

    A scenario of that name that has been run is not overwritten: its results would no longer match its file.
    """
    scenario = loaded.scenario
    if scenario.name == "baseline":
        raise loaded.error(("name",), "'baseline' is the twin as it is (scenario 0)", "give another name")
    spec = json.loads(scenario.model_dump_json(by_alias=True))
    spec.update({"x_draft": True, "x_yaml": text})
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with twin.write() as cur:
        row = cur.execute(
            "SELECT scenario_id, coalesce(json_extract(spec, '$.x_draft')::BOOLEAN, false) FROM scenarios "
            "WHERE name = ?",
            [scenario.name],
        ).fetchone()
        if row is not None and not row[1]:
            raise loaded.error(("name",), f"'{scenario.name}' has been run already (id {row[0]})",
                               "run it again with 'replace' ticked, or give the draft another name")  # fmt: skip
        if row is None:
            got = cur.execute(
                "INSERT INTO scenarios (name, description, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                "RETURNING scenario_id",
                [scenario.name, scenario.description, json.dumps(spec), now, now],
            ).fetchone()
            assert got is not None
            scenario_id = int(got[0])
        else:
            scenario_id = int(row[0])
            cur.execute(
                "UPDATE scenarios SET description = ?, spec = ?, updated_at = ? WHERE scenario_id = ?",
                [scenario.description, json.dumps(spec), now, scenario_id],
            )
    return {"scenario_id": scenario_id, "name": scenario.name}


def building_deltas(twin: Twin, name: str) -> pa.Table:
    """Per building a scenario touches: the dwellings it adds, the DPE classes it gains (unknown when either
    class is unknown), its capex (EUR) and its state (converted, demolished, new, kept)."""
    return twin.query(
        f"""SELECT o.building_id, o.state, o.use_before, o.use_after,
                  coalesce(o.dwellings_after, 0) - coalesce(o.dwellings_before, 0) AS dwellings_delta,
                  CASE WHEN o.dpe_before IS NULL OR o.dpe_after IS NULL THEN NULL
                       ELSE (instr('{DPE_ORDER}', o.dpe_after) - instr('{DPE_ORDER}', o.dpe_before))::DOUBLE
                  END AS dpe_gain,
                  o.capex_eur
           FROM scenario_overlay o JOIN scenarios s USING (scenario_id)
           WHERE s.name = ? ORDER BY o.building_id""",
        [name],
    )


def add_intervention(
    text: str,
    kind: str,
    year: int,
    *,
    ids: list[str] | None = None,
    use: str | None = None,
    built_from: int | None = None,
    built_to: int | None = None,
    to_use: str | None = None,
    package: str | None = None,
) -> str:
    r"""The scenario text ``text`` with one more ``change_use`` or ``retrofit`` intervention appended (the form
    helper of the editor). Buildings are picked by ``ids`` (clicked on the map) or by use and construction years;
    the text is re-emitted as YAML (comments are lost: the result is validated when it is saved or run).

    >>> print(add_intervention("name: a\n", "retrofit", 2030, use="school", package="envelope"), end="")
    name: a
    interventions:
    - retrofit:
        select:
          use: school
        package: envelope
      year: 2030
    """
    select: dict[str, Any] = {}
    if ids:
        select["ids"] = list(ids)
    if use and not ids:
        select["use"] = use
    if built_from is not None and not ids:
        select["built_from"] = int(built_from)
    if built_to is not None and not ids:
        select["built_to"] = int(built_to)
    if not select:
        raise TwinError("no building is picked", "click buildings on the map, or give a use or construction years")
    if kind == "change_use":
        if not use or not to_use:
            raise TwinError("a use change needs the current use and the new one", "choose both uses")
        body: dict[str, Any] = {"select": select, "from": use, "to": to_use}
    elif kind == "retrofit":
        if not package:
            raise TwinError("a retrofit needs a package of the catalogue", "choose a package")
        body = {"select": select, "package": package}
    else:
        raise TwinError(f"the form adds change_use or retrofit, not '{kind}'", "write other interventions in YAML")
    try:
        data = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        raise TwinError("the scenario text is not valid YAML", "fix it (Validate shows where) first") from None
    if not isinstance(data, dict):
        raise TwinError("the scenario text is not a mapping", "start from an example")
    data.setdefault("name", "new-scenario")
    data["interventions"] = [*(data.get("interventions") or []), {kind: body, "year": int(year)}]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
