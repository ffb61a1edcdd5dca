"""Embodied carbon of an existing structure: what converting keeps instead of demolishing and rebuilding.

Indicative only (methods.md 2.6: every factor ⚠ except the concrete range). For each IFC element of the kept
structure (slabs, roofs, columns, beams, footings, piles, stairs, ramps, load-bearing members, and the walls
that bear loads or close the envelope), the mesh volume is split among its materials (layer thicknesses, else
equally among listed materials) and each material is matched by name or category to a family with an A1-A3
factor in kgCO₂e/m³:

- concrete 250 kgCO₂e/m³ (generic concrete 0.107 kgCO₂e/kg ≈ 250 kgCO₂e/m³; C25-C32 range 170-340 ✔ [M2]);
- steel 1.46 kgCO₂e/kg x 7,850 kg/m³ (generic steel, ICE v2 ⚠ [M1]);
- timber 0.42 kgCO₂e/kg x 500 kg/m³ (generic timber, fossil only, biogenic carbon not counted ⚠ [M1]).

A material without a family (masonry, unnamed) is not guessed: its volume is reported as unclassified and the
``coverage`` says how much of the structure's volume has a factor. Rebuilding the same structure would emit the
same A1-A3 again, so the figure is the carbon kept by converting (demolition and new finishes are left out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pyarrow as pa

__all__ = ["CARBON_SCHEMA", "CarbonParams", "material_family", "structure_carbon"]

CARBON_SCHEMA = pa.schema(
    [
        ("building_id", pa.string()),
        ("structure_volume_m3", pa.float64()),
        ("classified_volume_m3", pa.float64()),
        ("coverage", pa.float64()),  # classified / structure volume
        ("carbon_kgco2e", pa.float64()),  # A1-A3 of the classified volume (indicative)
        ("by_family", pa.string()),  # JSON {family: {"volume_m3": .., "kgco2e": ..}}
        ("elements", pa.int64()),
        ("note", pa.string()),
    ]
)

_STRUCTURE = (
    "IfcSlab",
    "IfcRoof",
    "IfcColumn",
    "IfcBeam",
    "IfcFooting",
    "IfcPile",
    "IfcStair",
    "IfcStairFlight",
    "IfcRamp",
    "IfcRampFlight",
)


@dataclass(frozen=True)
class CarbonParams:
    """Factors (kgCO₂e per m³ of material) and the name keywords of each family (matched lowercase)."""

    factors_kgco2e_m3: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"concrete": 250.0, "steel": 1.46 * 7850.0, "timber": 0.42 * 500.0}
        )
    )
    keywords: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType(
            {  # order matters: "Stahlbeton" is concrete before it is steel
                "concrete": ("béton", "beton", "concrete", "ciment", "cement"),
                "steel": ("acier", "steel", "stahl"),
                "timber": ("bois", "wood", "timber", "holz", "glulam", "clt", "lamellé"),
            }
        )
    )


def material_family(name: str | None, category: str | None, params: CarbonParams | None = None) -> str | None:
    """The family (concrete, steel, timber) of a material from its category or name; None when not known.

    >>> material_family("Stahlbeton 65690", None), material_family("Laine de verre", "insulation")
    ('concrete', None)
    """
    p = params or CarbonParams()
    for text in (category, name):
        low = (text or "").lower()
        for family, words in p.keywords.items():
            if any(w in low for w in words):
                return family
    return None


def _shares(materials: Any) -> list[tuple[str | None, str | None, float]]:
    """(name, category, share of the volume) of an element's materials JSON as the IFC ingest writes it."""
    if not materials:
        return []
    data = json.loads(materials) if isinstance(materials, str) else materials
    kind = data.get("kind")
    if kind == "layers":
        layers = data.get("layers") or []
        total = sum(layer.get("thickness_m") or 0.0 for layer in layers)
        if total <= 0:
            return [(layer.get("material"), layer.get("category"), 1.0 / len(layers)) for layer in layers]
        return [
            (layer.get("material"), layer.get("category"), (layer.get("thickness_m") or 0.0) / total)
            for layer in layers
        ]
    if kind == "material":
        return [(data.get("name"), data.get("category"), 1.0)]
    items = data.get("materials") or data.get("constituents") or data.get("profiles") or []
    names = [
        (m.get("name") or m.get("material"), m.get("category")) if isinstance(m, dict) else (str(m), None)
        for m in items
    ]
    return [(n, c, 1.0 / len(names)) for n, c in names]


def _is_structure(row: dict[str, Any]) -> bool:
    cls = row["ifc_class"] or ""
    if cls.startswith(_STRUCTURE):
        return True
    if cls.startswith(("IfcWall", "IfcCurtainWall")) and not cls.startswith("IfcCurtainWall"):
        return bool(row.get("load_bearing")) or bool(row.get("is_external"))
    return cls.startswith("IfcMember") and bool(row.get("load_bearing"))


def structure_carbon(elements: pa.Table, volumes: pa.Table, params: CarbonParams | None = None) -> pa.Table:
    """A1-A3 embodied carbon of the kept structure of each building (:data:`CARBON_SCHEMA`), indicative.

    Parameters
    ----------
    elements:
        ifc_guid, building_id, ifc_class, load_bearing, is_external, materials (JSON text of the IFC ingest).
    volumes:
        ifc_guid, volume_m3 (``element_meshes``: closed-mesh volumes).

    Examples
    --------
    >>> e = pa.table({"ifc_guid": ["a", "b"], "building_id": ["B", "B"], "ifc_class": ["IfcSlab", "IfcWindow"],
    ...     "load_bearing": [True, None], "is_external": [False, True],
    ...     "materials": ['{"kind": "material", "name": "Béton armé", "category": "concrete"}', None]})
    >>> row = structure_carbon(e, pa.table({"ifc_guid": ["a", "b"], "volume_m3": [10.0, 0.1]})).to_pylist()[0]
    >>> row["carbon_kgco2e"], row["coverage"]
    (2500.0, 1.0)
    """
    p = params or CarbonParams()
    volume = dict(zip(volumes["ifc_guid"].to_pylist(), volumes["volume_m3"].to_pylist(), strict=True))
    totals: dict[str, dict[str, Any]] = {}
    for row in elements.to_pylist():
        if not _is_structure(row):
            continue
        v = volume.get(row["ifc_guid"])
        b = totals.setdefault(
            row["building_id"], {"volume": 0.0, "classified": 0.0, "carbon": 0.0, "families": {}, "n": 0}
        )
        b["n"] += 1
        if v is None or v <= 0:
            continue
        b["volume"] += v
        for name, category, share in _shares(row["materials"]):
            family = material_family(name, category, p)
            if family is None or family not in p.factors_kgco2e_m3:
                continue
            part = v * share
            kg = part * p.factors_kgco2e_m3[family]
            b["classified"] += part
            b["carbon"] += kg
            fam = b["families"].setdefault(family, {"volume_m3": 0.0, "kgco2e": 0.0})
            fam["volume_m3"] += part
            fam["kgco2e"] += kg
    rows = []
    for building, b in sorted(totals.items()):
        coverage = b["classified"] / b["volume"] if b["volume"] else None
        rows.append(
            {
                "building_id": building,
                "structure_volume_m3": round(b["volume"], 3),
                "classified_volume_m3": round(b["classified"], 3),
                "coverage": round(coverage, 4) if coverage is not None else None,
                "carbon_kgco2e": round(b["carbon"], 1),
                "by_family": json.dumps(
                    {k: {kk: round(vv, 2) for kk, vv in v.items()} for k, v in b["families"].items()}
                ),
                "elements": b["n"],
                "note": "indicative A1-A3 (methods.md 2.6 ⚠): mesh volumes x generic factors; "
                f"{(coverage or 0):.0%} of the structure volume has a factor",
            }
        )
    return pa.Table.from_pylist(rows, CARBON_SCHEMA) if rows else CARBON_SCHEMA.empty_table()
