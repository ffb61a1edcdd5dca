"""The office fit-out of the benchmark building (OfficeDetail): deterministic valid IFC4 that the ingest reads
whole; and the kernel's two ways of running (a fork sharing the opened model, a subprocess) agree."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import ifcopenshell
import ifcopenshell.validate
import numpy as np
import pytest

from ingest.demo.archetypes import archetypes
from ingest.demo.ifc_builder import OfficeDetail, build_ifc
from ingest.ifc import ingest_ifc
from ingest.ifc_geometry import triangulate
from tests.conftest import shared_data
from twin import Twin

BASE = next(s for s in archetypes() if s.key == "office_1972")
SPEC = replace(
    BASE,
    key="fitout",
    storeys=2,
    length_m=3 * BASE.grid_m,
    windows_per_bay=3,
    window_width_m=1.2,
    column_rows=4,
    stairs=1,
    lifts=1,
    shafts=1,
)


@pytest.fixture(scope="module")
def fitout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    model, counts = build_ifc(SPEC, seed=3, detail=OfficeDetail())
    path = tmp_path_factory.mktemp("fitout") / "fitout.ifc"
    model.write(str(path))
    return path, counts.by_class


def test_the_fitted_out_office_is_valid_ifc4_and_the_same_bytes_for_the_same_seed(
    fitout: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    path, _ = fitout
    again, _ = build_ifc(SPEC, seed=3, detail=OfficeDetail())
    again.write(str(tmp_path / "again.ifc"))
    assert (
        hashlib.sha256(path.read_bytes()).digest()
        == hashlib.sha256((tmp_path / "again.ifc").read_bytes()).digest()
    )
    logger = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(ifcopenshell.open(str(path)), logger)
    assert logger.statements == []


def test_every_bay_gets_its_offices_beams_radiators_lights_and_desks(fitout: tuple[Path, dict[str, int]]) -> None:
    _, counts = fitout
    bays, storeys, d = 3, SPEC.storeys, OfficeDetail()
    assert counts["IfcDoor"] == storeys * bays * 2 + SPEC.stairs  # an office door on each side, the entrance
    assert counts["IfcBeam"] == storeys * bays * SPEC.column_rows
    assert counts["IfcSpaceHeater"] == storeys * bays * SPEC.windows_per_bay * 2
    assert counts["IfcLightFixture"] == storeys * bays * d.lights_per_bay
    assert counts["IfcFurniture"] == storeys * bays * d.desks_per_bay * 2  # desks and chairs
    assert counts["IfcDuctSegment"] == storeys * bays


def test_the_ingest_reads_the_fit_out_whole_and_keeps_it_out_of_the_envelope(
    fitout: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    path, counts = fitout
    twin = Twin(tmp_path / "t.duckdb")
    report = ingest_ifc(twin, path)
    spaces = counts["IfcSpace"]
    assert report.counts["elements"] == sum(counts.values()) - spaces
    assert report.counts["meshes"] == sum(counts.values())
    doors = twin.query("SELECT elements FROM envelope_surfaces WHERE surface_kind = 'door'").column(0).to_pylist()
    assert sum(doors) == SPEC.stairs, "office doors open on the corridor, not outside"
    facts = twin.query("SELECT depth_m, stair_cores, column_count FROM building_facts").to_pylist()[0]
    assert facts["depth_m"] == pytest.approx(13.0, abs=0.01) and facts["stair_cores"] == 1
    assert facts["column_count"] == counts["IfcColumn"], "beams and fit-out do not count as columns"
    desk = twin.query(
        "SELECT m.volume_m3, e.quantities FROM element_meshes m JOIN elements e USING (ifc_guid) "
        "WHERE e.predefined_type = 'DESK' LIMIT 1"
    ).to_pylist()[0]
    assert desk["volume_m3"] == pytest.approx(1.6 * 0.8 * 0.03 + 4 * 0.05 * 0.05 * 0.72, rel=1e-4)
    assert json.loads(desk["quantities"])["computed"]["volume_m3"] == pytest.approx(desk["volume_m3"], abs=1e-4)


def test_the_forked_kernel_and_the_subprocess_give_the_same_meshes_and_leave_openings_out() -> None:
    path = shared_data("ifc-web-ifc-samples", "AC20-FZK-Haus.ifc")
    model = ifcopenshell.open(str(path))
    wanted = {e.id(): e.GlobalId for e in model.by_type("IfcProduct") if e.Representation}
    forked = triangulate(path, dict(wanted), model=model, kernels=("manifold",))
    spawned = triangulate(path, dict(wanted), kernels=("manifold",))
    openings = {e.GlobalId for e in model.by_type("IfcOpeningElement")}
    assert openings and not openings & set(forked.vertices)
    assert set(forked.vertices) == set(spawned.vertices) and len(forked.vertices) > 50
    for guid, vertices in forked.vertices.items():
        assert np.array_equal(vertices, spawned.vertices[guid])
        assert np.array_equal(forked.faces[guid], spawned.faces[guid])
