"""The BIM round trip: results as property sets on the right GlobalIds of a valid IFC copy, failures as BCF."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.validate
import pytest
from bcf.v3.bcfxml import BcfXml
from click.testing import CliRunner

from buildings.reversibility_store import assess_twin
from twin import Twin, TwinError
from twin.cli import cli
from twin.export.bim import EVIDENCE_PSET, annotate_ifc, pset_name
from twin.imports import file_sha256

OFFICE_1992 = "Le Central (bureaux 1992)"


@pytest.fixture(scope="module")
def assessed(demo_twin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the demo twin whose buildings have been assessed for reversibility."""
    path = tmp_path_factory.mktemp("bim") / "twin.duckdb"
    shutil.copy(demo_twin, path)
    with Twin(path) as twin:
        assess_twin(twin)
    yield path


def _office(twin: Twin) -> dict[str, str]:
    row = twin.query(
        "SELECT building_id, ifc_source_path FROM buildings WHERE name = ?", [OFFICE_1992]
    ).to_pylist()
    return row[0]


def test_the_annotated_copy_is_valid_ifc_with_the_results_on_the_right_global_ids(
    assessed: Path, tmp_path: Path
) -> None:
    with Twin(assessed, read_only=True) as twin:
        office = _office(twin)
        source_hash = file_sha256(office["ifc_source_path"])
        report = annotate_ifc(twin, office["building_id"], tmp_path / "office.ifc", tmp_path / "office.bcf")
        summary = twin.query(
            "SELECT path, score, convertible FROM res_reversibility WHERE building_id = ? AND scenario_id = 0",
            [office["building_id"]],
        ).to_pylist()
        criteria = twin.query(
            "SELECT path, storey_id, criterion, status, evidence FROM res_reversibility_criteria "
            "WHERE building_id = ? AND scenario_id = 0",
            [office["building_id"]],
        ).to_pylist()
    assert file_sha256(office["ifc_source_path"]) == source_hash  # the source is never touched
    model = ifcopenshell.open(str(tmp_path / "office.ifc"))
    logger = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(model, logger)
    errors = [s for s in logger.statements if s.get("level", logging.ERROR) >= logging.ERROR]
    assert errors == []

    building_psets = ifcopenshell.util.element.get_psets(model.by_guid(office["building_id"]))
    for row in summary:
        pset = building_psets[pset_name(row["path"])]
        assert pset["Score"] == pytest.approx(row["score"])
        assert pset["Convertible"] == ("yes" if row["convertible"] else "no")
    assert report.rows["building_psets"] == len(summary)

    storeys_checked = elements_checked = 0
    for row in criteria:
        if row["storey_id"]:
            pset = ifcopenshell.util.element.get_psets(model.by_guid(row["storey_id"]))[pset_name(row["path"])]
            assert pset[f"{row['criterion']}_Status"] == row["status"]
            storeys_checked += 1
        for guid in json.loads(row["evidence"]).get("ifc", []):
            if guid in (office["building_id"], row["storey_id"]):
                continue
            evidence = ifcopenshell.util.element.get_psets(model.by_guid(guid))[EVIDENCE_PSET]
            assert evidence[f"{row['path']}/{row['criterion']}"].startswith(row["status"] + ":")
            elements_checked += 1
    assert storeys_checked > 0 and elements_checked > 0 and report.rows["evidence_elements"] > 0

    failing = [r for r in criteria if r["status"] == "fail"]
    assert failing and report.rows["bcf_topics"] == len(failing)
    bcf = BcfXml.load(tmp_path / "office.bcf")
    assert bcf is not None
    topics = list(bcf.topics.values())
    assert len(topics) == len(failing)
    titles = {t.topic.title for t in topics}
    assert any("height fails on storey" in title for title in titles), titles
    for topic in topics:
        (viewpoint,) = topic.viewpoints.values()
        selected = viewpoint.get_selected_guids() or []
        assert selected and all(model.by_guid(g) is not None for g in selected)
    bcf.close()


def test_annotating_refuses_unknown_gis_and_unassessed_buildings(
    assessed: Path, demo_twin: Path, tmp_path: Path
) -> None:
    with Twin(assessed, read_only=True) as twin:
        gis = twin.query("SELECT building_id FROM buildings WHERE source = 'gis' LIMIT 1").column(0)[0].as_py()
        with pytest.raises(TwinError, match="no building 'nope'"):
            annotate_ifc(twin, "nope", tmp_path / "a.ifc")
        with pytest.raises(TwinError, match="not from an IFC model"):
            annotate_ifc(twin, gis, tmp_path / "b.ifc")
    fresh = tmp_path / "fresh.duckdb"
    shutil.copy(demo_twin, fresh)
    with Twin(fresh) as twin:
        office = _office(twin)
        with twin.write() as cur:  # the demo assesses every building: forget the office's results
            cur.execute("DELETE FROM res_reversibility WHERE building_id = ?", [office["building_id"]])
            cur.execute("DELETE FROM res_reversibility_criteria WHERE building_id = ?", [office["building_id"]])
        with pytest.raises(TwinError, match="has no reversibility results"):
            annotate_ifc(twin, office["building_id"], tmp_path / "c.ifc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.duckdb"]  # nothing half-written


def test_the_export_ifc_command_writes_the_copy_and_the_bcf(assessed: Path, tmp_path: Path) -> None:
    with Twin(assessed, read_only=True) as twin:
        office = _office(twin)
    result = CliRunner().invoke(
        cli,
        [
            "--twin", str(assessed), "export", "ifc", "--building", office["building_id"],
            "--out", str(tmp_path / "o.ifc"), "--bcf", str(tmp_path / "o.bcf"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o.ifc").exists() and (tmp_path / "o.bcf").exists() and "bcf topics" in result.output
