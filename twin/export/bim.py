"""The BIM round trip: the twin's results written back into a copy of the source IFC, and failing criteria as BCF.

The architect opens the annotated copy in the authoring tool and sees, on the very objects they drew:

- on the ``IfcBuilding``: one property set per conversion path, ``Twin_Reversibility_<from>_<to>`` (score, its
  upper bound, coverage, convertible, vetoes, dwellings, cost range, embodied carbon kept, rule version), and
  ``Twin_Energy`` when the energy assessment has run (heating need, DPE class, CO2, route);
- on each ``IfcBuildingStorey``: ``Twin_Reversibility_<from>_<to>`` with, per criterion judged on that storey,
  its value, threshold and status (``<criterion>_Value``, ``_Threshold``, ``_Status``);
- on each element cited as evidence: ``Twin_ReversibilityEvidence`` with one property per path and criterion,
  ``"<status>: <value> <unit> (threshold <t>)"``.

Property sets are written with ``ifcopenshell.api`` (``pset.add_pset`` / ``pset.edit_pset``) into a copy; the
source file is never touched. Failing criteria become BCF 3.0 topics (``bcf-client``), one per criterion, each
with a viewpoint that selects its evidence elements.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api
import numpy as np

from twin.errors import TwinError
from twin.export.layers import ExportReport, _move_into_place, _scratch_beside
from twin.imports import file_sha256
from twin.store import Twin

__all__ = ["EVIDENCE_PSET", "annotate_ifc", "pset_name"]

EVIDENCE_PSET = "Twin_ReversibilityEvidence"
_AUTHOR = "twin@twin.invalid"


def pset_name(path: str) -> str:
    """The property set of a conversion path: ``office->housing`` -> ``Twin_Reversibility_office_housing``."""
    return "Twin_Reversibility_" + path.replace("->", "_").replace("/", "_").replace(" ", "_")


@dataclass(frozen=True)
class _Results:
    summary: list[dict[str, Any]]
    criteria: list[dict[str, Any]]
    energy: list[dict[str, Any]]


def annotate_ifc(
    twin: Twin,
    building_id: str,
    out: str | os.PathLike[str],
    bcf: str | os.PathLike[str] | None = None,
    scenario_id: int = 0,
) -> ExportReport:
    """Write a copy of the IFC of ``building_id`` annotated with its results to ``out``, and a BCF file of the
    failing criteria to ``bcf`` when given. The reversibility assessment must have run for the building."""
    building = twin.query(
        "SELECT b.building_id, b.source, b.ifc_source_path, s.sha256 FROM buildings b "
        "LEFT JOIN ifc_sources s ON s.source_path = b.ifc_source_path WHERE b.building_id = ?",
        [building_id],
    ).to_pylist()
    if not building:
        raise TwinError(
            f"no building '{building_id}' in the twin",
            "list them with: twin sql \"SELECT building_id, name FROM buildings WHERE source = 'ifc'\"",
        )
    row = building[0]
    if row["source"] != "ifc" or not row["ifc_source_path"]:
        raise TwinError(
            f"building {building_id} comes from {row['source']}, not from an IFC model",
            "annotate IFC buildings only",
        )
    source = Path(row["ifc_source_path"])
    if not source.is_file():
        raise TwinError(f"the IFC of {building_id} is no longer at {source}", "put the file back, or re-import it")
    if file_sha256(source) != row["sha256"]:
        raise TwinError(
            f"{source} changed since it was imported: the results would land on the wrong objects",
            f"re-import it (twin ingest ifc {source}) and assess again",
        )
    results = _results(twin, building_id, scenario_id)
    model = ifcopenshell.open(str(source))
    counts = {"building_psets": 0, "storey_psets": 0, "evidence_elements": 0, "bcf_topics": 0}
    ifc_building = _by_guid(model, building_id)
    for summary in results.summary:
        _write_pset(model, ifc_building, pset_name(summary["path"]), _summary_properties(summary))
        counts["building_psets"] += 1
    for energy in results.energy:
        _write_pset(model, ifc_building, "Twin_Energy", energy)
        counts["building_psets"] += 1
    by_storey: dict[tuple[str, str], dict[str, Any]] = {}
    evidence: dict[str, dict[str, Any]] = {}
    missing: set[str] = set()
    for criterion in results.criteria:
        if criterion["storey_id"]:
            properties = by_storey.setdefault((criterion["storey_id"], criterion["path"]), {})
            name = criterion["criterion"]
            properties[f"{name}_Value"] = _number(criterion["value"])
            properties[f"{name}_Threshold"] = _number(criterion["threshold"])
            properties[f"{name}_Status"] = criterion["status"]
        for guid in _guids(criterion["evidence"]):
            if guid == building_id or guid == criterion["storey_id"]:
                continue
            evidence.setdefault(guid, {})[f"{criterion['path']}/{criterion['criterion']}"] = _finding(criterion)
    for (storey_id, path), properties in sorted(by_storey.items()):
        storey = _by_guid(model, storey_id, missing)
        if storey is not None:
            _write_pset(model, storey, pset_name(path), properties)
            counts["storey_psets"] += 1
    for guid, properties in sorted(evidence.items()):
        element = _by_guid(model, guid, missing)
        if element is not None:
            _write_pset(model, element, EVIDENCE_PSET, properties)
            counts["evidence_elements"] += 1
    target = Path(out)
    report = ExportReport(format="ifc", out=str(target), crs=twin.crs)
    if missing:
        report.notes.append(
            f"{len(missing)} evidence ids are not in {source.name}: {', '.join(sorted(missing)[:5])}"
        )
    scratch = _scratch_beside(target)
    try:
        written = scratch / target.name
        model.write(str(written))
        files = [written]
        if bcf is not None:
            bcf_file = scratch / Path(bcf).name
            counts["bcf_topics"] = _write_bcf(model, results.criteria, building_id, bcf_file)
            files.append(bcf_file)
        report.files = _move_into_place(scratch, target, [written], folder=False)
        if bcf is not None:
            report.files += _move_into_place(scratch, Path(bcf), [files[1]], folder=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.rows = counts
    return report


def _results(twin: Twin, building_id: str, scenario_id: int) -> _Results:
    tables = set(twin.tables())
    if "res_reversibility" not in tables:
        raise TwinError(
            "this twin has no reversibility results table", "upgrade twin and run twin assess reversibility"
        )
    summary = twin.query(
        "SELECT * FROM res_reversibility WHERE building_id = ? AND scenario_id = ? ORDER BY path",
        [building_id, scenario_id],
    ).to_pylist()
    if not summary:
        raise TwinError(
            f"building {building_id} has no reversibility results (scenario {scenario_id})",
            f"run: twin assess reversibility --building {building_id}",
        )
    criteria = twin.query(
        "SELECT path, storey_id, criterion, label, value, unit, threshold, source, status, evidence "
        "FROM res_reversibility_criteria WHERE building_id = ? AND scenario_id = ? "
        "ORDER BY path, criterion, storey_id NULLS FIRST",
        [building_id, scenario_id],
    ).to_pylist()
    energy: list[dict[str, Any]] = []
    if "res_energy" in tables:
        columns = set(twin.query("SELECT * FROM res_energy LIMIT 0").column_names)
        wanted = [
            c
            for c in (
                "route",
                "heating_need_kwh_m2",
                "cooling_need_kwh_m2",
                "primary_kwh_m2",
                "co2_kg_m2",
                "dpe_class",
                "final_kwh",
            )
            if c in columns
        ]
        if wanted:
            found = twin.query(
                f"SELECT {', '.join(wanted)} FROM res_energy WHERE building_id = ? AND scenario_id = ?",
                [building_id, scenario_id],
            ).to_pylist()
            energy = [
                {_pascal(k): _number(v) if isinstance(v, float) else v for k, v in r.items() if v is not None}
                for r in found[:1]
            ]
    return _Results(summary=summary, criteria=criteria, energy=energy)


def _summary_properties(summary: dict[str, Any]) -> dict[str, Any]:
    vetoes = summary["vetoes"]
    vetoes = json.loads(vetoes) if isinstance(vetoes, str) else vetoes
    properties = {
        "Path": summary["path"],
        "Score": _number(summary["score"]),
        "ScoreMax": _number(summary["score_max"]),
        "Coverage": _number(summary["coverage"]),
        "Convertible": "unknown"
        if summary["convertible"] is None
        else ("yes" if summary["convertible"] else "no"),
        "Vetoes": "; ".join(str(v.get("criterion")) for v in vetoes)[:255] or "none",
        "Dwellings": _number(summary.get("dwellings")),
        "CostLow_EUR": _number(summary.get("cost_low_eur")),
        "CostHigh_EUR": _number(summary.get("cost_high_eur")),
        "CarbonKept_kgCO2e": _number(summary.get("carbon_kept_kgco2e")),
        "RulesVersion": summary["rules_version"],
        "Route": summary["route"],
    }
    return {k: v for k, v in properties.items() if v is not None}


def _finding(criterion: dict[str, Any]) -> str:
    value = _number(criterion["value"])
    threshold = _number(criterion["threshold"])
    shown = "unknown" if value is None else f"{value:g} {criterion['unit']}".strip()
    limit = "" if threshold is None else f" (threshold {threshold:g})"
    return f"{criterion['status']}: {shown}{limit}"[:255]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None  # IFC reals are finite


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _guids(evidence: Any) -> list[str]:
    data = json.loads(evidence) if isinstance(evidence, str) else evidence
    return [str(g) for g in (data or {}).get("ifc", []) or []]


def _by_guid(model: ifcopenshell.file, guid: str, missing: set[str] | None = None) -> Any:
    try:
        return model.by_guid(guid)
    except RuntimeError:
        if missing is None:
            raise TwinError(f"{guid} is not in the IFC file", "re-import the model and assess again") from None
        missing.add(guid)
        return None


def _write_pset(model: ifcopenshell.file, product: Any, name: str, properties: dict[str, Any]) -> None:
    clean = {k: v for k, v in properties.items() if v is not None}
    if not clean:
        return
    pset = ifcopenshell.api.run("pset.add_pset", model, product=product, name=name)
    ifcopenshell.api.run("pset.edit_pset", model, pset=pset, properties=clean)


def _write_bcf(model: ifcopenshell.file, criteria: list[dict[str, Any]], building_id: str, path: Path) -> int:
    """One BCF topic per failing criterion, its viewpoint selecting the evidence elements; returns the count."""
    from bcf.v3.bcfxml import BcfXml

    bcf = BcfXml.create_new(f"twin reversibility of {building_id}")
    topics = 0
    for criterion in criteria:
        if criterion["status"] != "fail":
            continue
        where = ""
        if criterion["storey_id"]:
            storey = model.by_guid(criterion["storey_id"]) if _exists(model, criterion["storey_id"]) else None
            where = f" on storey {getattr(storey, 'Name', None) or criterion['storey_id']}"
        value = _number(criterion["value"])
        threshold = _number(criterion["threshold"])
        title = f"{criterion['path']}: {criterion['label']} fails{where}"[:255]
        description = (
            f"{criterion['label']}: {value if value is not None else 'unknown'} {criterion['unit']} against the "
            f"threshold {threshold if threshold is not None else '-'} ({criterion['source']})."
        )
        topic = bcf.add_topic(title, description, _AUTHOR, topic_type="Issue", topic_status="Open")
        guids = [g for g in _guids(criterion["evidence"]) if _exists(model, g)]
        if not guids:
            guids = [building_id]
        topic.add_viewpoint_from_point_and_guids(_centre(model, guids), *guids)
        topics += 1
    bcf.save(path)
    return topics


def _exists(model: ifcopenshell.file, guid: str) -> bool:
    try:
        model.by_guid(guid)
    except RuntimeError:
        return False
    return True


def _centre(model: ifcopenshell.file, guids: list[str]) -> np.ndarray:
    """Where the viewpoint looks: the mean of the evidence elements' placements (model coordinates)."""
    import ifcopenshell.util.placement
    import ifcopenshell.util.unit

    scale = ifcopenshell.util.unit.calculate_unit_scale(model)  # model length unit -> metres
    points = []
    for guid in guids:
        element = model.by_guid(guid)
        placement = getattr(element, "ObjectPlacement", None)
        if placement is not None:
            points.append(ifcopenshell.util.placement.get_local_placement(placement)[:3, 3])
    return np.mean(points, axis=0) * scale if points else np.zeros(3)
