"""Design imposed floor loads per storey: from the file where it says so, else the EN 1991-1-1 category of the
storey's use (methods.md 1.3), else unknown."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.demo.archetypes import archetypes
from ingest.demo.ifc_builder import build_ifc
from ingest.ifc import IfcIngestOptions, ingest_ifc
from ingest.ifc_loads import (
    EN_1991_1_1_TABLE_6_2,
    NF_P06_001,
    LoadParams,
    category_of_use,
    read_load_property,
    storey_imposed_loads,
)
from ingest.ifc_model import StoreyRecord
from tests.conftest import shared_data
from twin import Twin

FZK = ("ifc-web-ifc-samples", "AC20-FZK-Haus.ifc")
SOURCES = {"pset", "design_basis", "use_category"}


def loads(twin: Twin) -> list[dict]:
    return twin.query(
        "SELECT name, imposed_load_kn_m2 AS q, imposed_load_source AS source, imposed_load_category AS category, "
        "imposed_load_evidence AS evidence FROM storeys ORDER BY elevation_m"
    ).to_pylist()


def test_fzk_haus_is_housing_so_its_floors_take_category_a(tmp_path: Path) -> None:
    twin = Twin(tmp_path / "t.duckdb")
    ingest_ifc(twin, shared_data(*FZK))
    rows = loads(twin)
    assert len(rows) == 2
    for row in rows:
        assert (row["q"], row["source"], row["category"]) == (EN_1991_1_1_TABLE_6_2["A"], "use_category", "A")
        assert "EN 1991-1-1 Table 6.2" in row["evidence"] and "category A" in row["evidence"]


def test_the_category_table_can_be_overridden_with_the_french_values(tmp_path: Path) -> None:
    twin = Twin(tmp_path / "t.duckdb")
    ingest_ifc(twin, shared_data(*FZK), IfcIngestOptions(loads=LoadParams(NF_P06_001, "NF P 06-001")))
    assert {r["q"] for r in loads(twin)} == {1.5}
    assert all(r["evidence"].startswith("NF P 06-001") for r in loads(twin))


@pytest.fixture(scope="module")
def small_office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = next(s for s in archetypes() if s.key == "office_1972")
    spec = replace(base, storeys=3, length_m=2 * base.grid_m, stairs=1, lifts=1, shafts=1)
    model, _ = build_ifc(spec, seed=7)
    path = tmp_path_factory.mktemp("office") / "office.ifc"
    model.write(str(path))
    return path


def _edit(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    model = ifcopenshell.open(str(source))
    change(model)
    model.write(str(target))
    return target


def test_a_load_stated_on_a_storey_or_its_slab_wins_over_the_design_basis(
    small_office: Path, tmp_path: Path
) -> None:
    def change(model: ifcopenshell.file) -> None:
        ground, first, _ = sorted(model.by_type("IfcBuildingStorey"), key=lambda s: s.Elevation)
        pset = ifcopenshell.api.run("pset.add_pset", model, product=ground, name="Charges")
        ifcopenshell.api.run("pset.edit_pset", model, pset=pset, properties={"ImposedLoad_kN_m2": 5.0})
        slab = next(s for s in model.by_type("IfcSlab") if s.ContainedInStructure[0].RelatingStructure == first)
        pset = ifcopenshell.api.run("pset.add_pset", model, product=slab, name="Statik")
        prop = model.createIfcPropertySingleValue(
            "Nutzlast", None, model.createIfcPlanarForceMeasure(4000.0), None
        )
        pset.HasProperties = (prop,)  # typed in pascals, the project's default unit

    path = _edit(small_office, tmp_path / "stated.ifc", change)
    twin = Twin(tmp_path / "t.duckdb")
    ingest_ifc(twin, path)
    ground, first, second = loads(twin)
    assert (ground["q"], ground["source"], ground["evidence"]) == (5.0, "pset", "Charges.ImposedLoad_kN_m2")
    assert (first["q"], first["source"], first["evidence"]) == (4.0, "pset", "floor slab Statik.Nutzlast")
    assert (second["q"], second["source"]) == (2.5, "design_basis")


def test_without_a_stated_load_or_a_known_use_the_load_is_unknown(small_office: Path, tmp_path: Path) -> None:
    def change(model: ifcopenshell.file) -> None:
        building = model.by_type("IfcBuilding")[0]
        for definition in building.IsDefinedBy:
            ifcopenshell.api.run(
                "pset.remove_pset", model, product=building, pset=definition.RelatingPropertyDefinition
            )
        for space in model.by_type("IfcSpace"):
            ifcopenshell.api.run("root.remove_product", model, product=space)

    path = _edit(small_office, tmp_path / "bare.ifc", change)
    twin = Twin(tmp_path / "t.duckdb")
    ingest_ifc(twin, path)
    assert {(r["q"], r["source"], r["category"]) for r in loads(twin)} == {(None, None, None)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Appartement T3", "A"),
        ("Wohnen", "A"),
        ("office", "B"),
        ("Salle de classe élémentaire", "C1"),
        ("Salle du conseil municipal", "C2"),
        ("Hall d'accueil", "C3"),
        ("Salle de sport", "C5"),
        ("Boutique", "D"),
        ("Archives", "E1"),
        ("Niveau de stationnement", "F"),
        ("Galerie", None),
    ],
)
def test_uses_read_as_their_en_1991_1_1_category(text: str, category: str | None) -> None:
    assert category_of_use(text) == category


def test_load_properties_are_read_in_kn_per_m2_or_not_at_all() -> None:
    assert read_load_property("ImposedLoad_kN_m2", 2.5, "IfcReal") == 2.5
    assert read_load_property("LiveLoad", 3000.0, "IfcPlanarForceMeasure") == 3.0
    assert read_load_property("LiveLoad", 3.0, "IfcPlanarForceMeasure", planar_force_to_pa=1000.0) == 3.0
    assert read_load_property("LiveLoad", 3000.0, "IfcReal") is None, "a plain 3000 has no unit we can tell"
    assert read_load_property("LoadBearing", True, "IfcBoolean") is None
    assert read_load_property("Span", 5.4, "IfcReal") is None


_storey_uses = st.lists(
    st.tuples(
        st.sampled_from(["Bureau", "Logement", "Boutique", "Parking", "Galerie", "Gaine technique", None]),
        st.one_of(st.none(), st.floats(1.0, 500.0)),
    ),
    max_size=6,
)


@given(
    uses=st.lists(_storey_uses, min_size=1, max_size=4),
    building_use=st.sampled_from([None, "housing", "office", "public"]),
    basis=st.one_of(st.none(), st.floats(0.5, 10.0)),
    stated=st.one_of(st.none(), st.floats(0.5, 10.0)),
)
def test_every_storey_gets_a_sourced_load_or_unknown(
    uses: list[list[tuple[str | None, float | None]]],
    building_use: str | None,
    basis: float | None,
    stated: float | None,
) -> None:
    storeys = [StoreyRecord(f"s{i}", "b", None, 3.0 * i) for i in range(len(uses))]
    result = storey_imposed_loads(
        storeys,
        {"b": (basis, "P.ImposedLoad") if basis else None},
        {"b": [building_use]},
        {"s0": (stated, "P.ImposedLoad") if stated else None},
        {},
        {},
        {f"s{i}": [([use], area) for use, area in u] for i, u in enumerate(uses)},
    )
    assert set(result) == {s.guid for s in storeys}
    for load in result.values():
        if load.kn_m2 is None:
            assert load.source is None and load.evidence is None
            continue
        assert load.kn_m2 > 0 and load.source in SOURCES and load.evidence
        if load.source == "use_category":
            assert load.category is not None and load.kn_m2 == EN_1991_1_1_TABLE_6_2[load.category]
        if load.source == "design_basis":
            assert load.kn_m2 == basis
    if stated:
        assert (result["s0"].kn_m2, result["s0"].source) == (stated, "pset")
