"""Embodied carbon kept by converting: structure volumes x factors (methods.md 2.6), indicative, never guessed."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from buildings.carbon import CarbonParams, material_family, structure_carbon


def _elements(rows: list[tuple[str, str, bool | None, bool | None, dict | None]]) -> pa.Table:
    return pa.table(
        {
            "ifc_guid": [r[0] for r in rows],
            "building_id": ["B"] * len(rows),
            "ifc_class": [r[1] for r in rows],
            "load_bearing": [r[2] for r in rows],
            "is_external": [r[3] for r in rows],
            "materials": [json.dumps(r[4]) if r[4] else None for r in rows],
        }
    )


def test_materials_are_matched_by_category_then_name_in_french_english_and_german() -> None:
    assert material_family("Béton armé", "concrete") == "concrete"
    assert material_family("Stahlbeton C30/37", None) == "concrete"  # concrete before steel
    assert material_family("Acier S355", None) == "steel"
    assert material_family("Brettschichtholz", None) == "timber"
    assert material_family("Brique monomur", "masonry") is None  # no factor in methods.md 2.6: not guessed


def test_structure_carbon_splits_layers_and_leaves_out_finishes_and_unknown_materials() -> None:
    layers = {
        "kind": "layers",
        "layers": [
            {"material": "Béton armé", "category": "concrete", "thickness_m": 0.2},
            {"material": "Laine de verre", "category": "insulation", "thickness_m": 0.1},
        ],
    }
    table = _elements(
        [
            ("w1", "IfcWall", False, True, layers),  # external wall: kept shell, 2/3 concrete
            (
                "w2",
                "IfcWall",
                False,
                False,
                {"kind": "material", "name": "Plaque de plâtre"},
            ),  # partition: not kept
            ("c1", "IfcColumn", True, False, {"kind": "material", "name": "Acier S235"}),
            ("s1", "IfcSlab", True, False, {"kind": "material", "name": "Brique"}),  # no factor
            ("d1", "IfcDoor", None, True, None),
        ]
    )
    volumes = pa.table({"ifc_guid": ["w1", "w2", "c1", "s1", "d1"], "volume_m3": [3.0, 1.0, 0.1, 2.0, 0.1]})
    row = structure_carbon(table, volumes).to_pylist()[0]
    assert row["elements"] == 3 and row["structure_volume_m3"] == pytest.approx(5.1)
    assert row["classified_volume_m3"] == pytest.approx(2.0 + 0.1)
    assert row["carbon_kgco2e"] == pytest.approx(2.0 * 250 + 0.1 * 1.46 * 7850, rel=1e-3)
    assert row["coverage"] == pytest.approx(2.1 / 5.1, abs=1e-3)
    families = json.loads(row["by_family"])
    assert set(families) == {"concrete", "steel"} and "indicative" in row["note"]


def test_factors_are_overridable_and_more_volume_never_lowers_the_carbon() -> None:
    table = _elements([("s1", "IfcSlab", True, False, {"kind": "material", "name": "Béton"})])
    small = structure_carbon(table, pa.table({"ifc_guid": ["s1"], "volume_m3": [1.0]})).to_pylist()[0]
    large = structure_carbon(table, pa.table({"ifc_guid": ["s1"], "volume_m3": [2.0]})).to_pylist()[0]
    assert large["carbon_kgco2e"] >= small["carbon_kgco2e"] == 250.0
    low = CarbonParams(factors_kgco2e_m3={"concrete": 170.0})
    assert structure_carbon(table, pa.table({"ifc_guid": ["s1"], "volume_m3": [1.0]}), low).to_pylist()[0][
        "carbon_kgco2e"
    ] == pytest.approx(170.0)
