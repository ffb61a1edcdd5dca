"""The demo's IFC buildings: valid IFC4, the entities the generator intended, deterministic, on the map."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.geolocation
import ifcopenshell.validate
import numpy as np
import pytest

from ingest.demo.archetypes import archetypes
from ingest.demo.ifc_builder import BuildingSpec, BuiltCounts, build_ifc

SPECS = {spec.key: spec for spec in archetypes()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, BuiltCounts]]:
    folder = tmp_path_factory.mktemp("demo-ifc")
    out = {}
    for seed, spec in enumerate(SPECS.values()):
        model, counts = build_ifc(spec, seed=seed)
        path = folder / f"{spec.key}.ifc"
        model.write(str(path))
        out[spec.key] = (path, counts)
    return out


def test_the_district_has_the_ten_archetypes_of_the_brief() -> None:
    assert len(SPECS) == 10
    uses = sorted(s.use for s in SPECS.values())
    assert uses.count("office") == 2 and "school" in uses and "parking" in uses and "public" in uses


@pytest.mark.parametrize("key", sorted(SPECS))
def test_every_demo_building_passes_ifcopenshell_validate(built: dict, key: str) -> None:
    path, _ = built[key]
    logger = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(ifcopenshell.open(str(path)), logger)
    assert logger.statements == []


@pytest.mark.parametrize("key", sorted(SPECS))
def test_every_demo_building_has_the_entities_the_generator_intended(built: dict, key: str) -> None:
    path, counts = built[key]
    model = ifcopenshell.open(str(path))
    spec = SPECS[key]
    assert model.schema == "IFC4"
    for ifc_class, n in counts.by_class.items():
        assert len(model.by_type(ifc_class, include_subtypes=False)) == n, ifc_class
    assert len(model.by_type("IfcBuildingStorey")) == spec.storeys
    assert len(model.by_type("IfcBuilding")) == 1
    # Every physical element sits in a storey, every space in one too.
    for element in model.by_type("IfcElement"):
        if element.is_a("IfcFeatureElement"):
            continue
        container = ifcopenshell.util.element.get_container(element)
        assert container is not None and container.is_a("IfcBuildingStorey"), element
    for space in model.by_type("IfcSpace"):
        assert ifcopenshell.util.element.get_aggregate(space).is_a("IfcBuildingStorey")
    # Every window fills an opening of a wall.
    for window in model.by_type("IfcWindow"):
        assert window.FillsVoids and window.FillsVoids[0].RelatingOpeningElement.VoidsElements


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    spec = SPECS["office_1972"]
    digests = []
    for name in ("a.ifc", "b.ifc"):
        model, _ = build_ifc(spec, seed=7)
        model.write(str(tmp_path / name))
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    other, _ = build_ifc(spec, seed=8)
    other.write(str(tmp_path / "c.ifc"))
    assert hashlib.sha256((tmp_path / "c.ifc").read_bytes()).hexdigest() != digests[0]


@pytest.mark.parametrize("key", sorted(SPECS))
def test_georeferencing_puts_each_building_at_its_placement(built: dict, key: str) -> None:
    path, _ = built[key]
    spec = SPECS[key]
    model = ifcopenshell.open(str(path))
    crs = model.by_type("IfcProjectedCRS")[0]
    assert crs.Name == "EPSG:2154"
    corner = np.eye(4)
    corner[:3, 3] = (spec.length_m, 0.0, 0.0)
    origin = ifcopenshell.util.geolocation.auto_local2global(model, np.eye(4))
    far = ifcopenshell.util.geolocation.auto_local2global(model, corner)
    p = spec.placement
    assert origin[0, 3] == pytest.approx(p.easting_m, abs=1e-6)
    assert origin[1, 3] == pytest.approx(p.northing_m, abs=1e-6)
    angle = math.radians(p.rotation_deg)
    assert far[0, 3] == pytest.approx(p.easting_m + spec.length_m * math.cos(angle), abs=1e-6)
    assert far[1, 3] == pytest.approx(p.northing_m + spec.length_m * math.sin(angle), abs=1e-6)


def _pset(element: ifcopenshell.entity_instance, name: str) -> dict:
    return ifcopenshell.util.element.get_psets(element).get(name, {})


def test_the_1972_office_is_13_m_deep_on_a_5_4_m_grid_with_two_facade_stairs(built: dict) -> None:
    spec: BuildingSpec = SPECS["office_1972"]
    model = ifcopenshell.open(str(built["office_1972"][0]))
    assert spec.depth_m == 13.0 and spec.floor_to_floor_m == 3.2 and spec.storeys == 6
    elevations = sorted(s.Elevation for s in model.by_type("IfcBuildingStorey"))
    assert np.allclose(np.diff(elevations), 3.2)
    xs = sorted(
        {round(c.ObjectPlacement.RelativePlacement.Location.Coordinates[0], 3) for c in model.by_type("IfcColumn")}
    )
    assert np.allclose(np.diff(xs)[1:-1], 5.4)
    stairs_ys = {
        round(s.ObjectPlacement.RelativePlacement.Location.Coordinates[1], 3) for s in model.by_type("IfcStair")
    }
    assert all(y < 3.5 for y in stairs_ys), "stair cores sit at the facade"
    assert (
        len(
            {
                round(s.ObjectPlacement.RelativePlacement.Location.Coordinates[0], 1)
                for s in model.by_type("IfcStair")
            }
        )
        == 2
    )
    assert all(_pset(c, "Pset_ColumnCommon")["LoadBearing"] for c in model.by_type("IfcColumn"))


def test_the_1992_office_leaves_2_5_m_under_its_suspended_ceiling(built: dict) -> None:
    spec = SPECS["office_1992"]
    assert spec.floor_to_floor_m - spec.slab_m - spec.ceiling_void_m == pytest.approx(2.5)
    model = ifcopenshell.open(str(built["office_1992"][0]))
    assert len(model.by_type("IfcCovering")) == spec.storeys
    assert all(
        _pset(s, "Pset_BuildingStoreyCommon")["NetHeight"] == pytest.approx(2.5)
        for s in model.by_type("IfcBuildingStorey")
    )


def test_the_1963_housing_bar_stands_on_load_bearing_cross_walls_every_6_m(built: dict) -> None:
    model = ifcopenshell.open(str(built["housing_1963"][0]))
    cross = [w for w in model.by_type("IfcWall") if w.Name.startswith("Refend")]
    assert cross and all(_pset(w, "Pset_WallCommon")["LoadBearing"] for w in cross)
    assert all(not _pset(w, "Pset_WallCommon")["IsExternal"] for w in cross)
    xs = sorted({round(w.ObjectPlacement.RelativePlacement.Location.Coordinates[0], 3) for w in cross})
    assert np.allclose(np.diff(xs), 6.0)


def test_the_car_park_has_2_3_m_clear_decks_over_a_4_m_ground_floor(built: dict) -> None:
    spec = SPECS["car_park_1985"]
    heights = spec.storey_heights()
    assert heights[0] == 4.0
    assert all(h - spec.slab_m == pytest.approx(2.3) for h in heights[1:])
    model = ifcopenshell.open(str(built["car_park_1985"][0]))
    assert len(model.by_type("IfcRamp")) == spec.storeys - 1


def test_school_classrooms_carry_their_capacity(built: dict) -> None:
    model = ifcopenshell.open(str(built["school_2005"][0]))
    classrooms = [s for s in model.by_type("IfcSpace") if s.Name.startswith("Salle de classe")]
    assert len(classrooms) == 9
    capacities = [_pset(s, "Pset_SpaceOccupancyRequirements")["OccupancyNumber"] for s in classrooms]
    assert sum(capacities) == 6 * 28 + 3 * 25
    names = {s.Name.split(" ")[0] for s in model.by_type("IfcSpace")}
    assert {"Cantine", "Gymnase"} <= names


def test_walls_carry_layer_sets_and_windows_carry_u_values(built: dict) -> None:
    model = ifcopenshell.open(str(built["office_1972"][0]))
    for wall in model.by_type("IfcWall"):
        material = ifcopenshell.util.element.get_material(wall, should_skip_usage=True)
        assert material.is_a("IfcMaterialLayerSet")
        assert sum(layer.LayerThickness for layer in material.MaterialLayers) == pytest.approx(0.213)
        assert "ThermalTransmittance" not in _pset(wall, "Pset_WallCommon"), "left for the reader to compute"
    assert {_pset(w, "Pset_WindowCommon")["ThermalTransmittance"] for w in model.by_type("IfcWindow")} == {5.8}
