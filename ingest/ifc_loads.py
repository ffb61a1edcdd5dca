"""Design imposed floor loads per storey (kN/m2) and where each comes from.

Reversibility compares the imposed load of a new use with the one a floor was designed for (methods.md 1.3,
"Twin rule": a new use passes if q_k(new) <= q_k(design)); this module finds q_k(design) for every storey, in
this order, and says which source gave it (``storeys.imposed_load_source``):

1. ``pset``: a load the file states on the storey itself, else on its floor slabs (the smallest: the weakest part
   of a floor limits its use), else on its spaces (the smallest as well);
2. ``design_basis``: a load stated on the building (the demo writes ``Twin_DesignBasis.ImposedLoad_kN_m2``). It
   applies to the storeys whose own use is the building's design use or unknown; a storey whose spaces say
   another use (shops under dwellings) takes the category of that use instead;
3. ``use_category``: the EN 1991-1-1 Table 6.2 category of the storey's use (the use of the largest floor area of
   its spaces, else the building's use) and the value of :data:`EN_1991_1_1_TABLE_6_2` (methods.md 1.3,
   overridable with :class:`LoadParams`, e.g. with :data:`NF_P06_001` for the French values);
4. otherwise unknown (NULL): never a guess.

A load property is one whose name reads as an imposed / live / operating load (``ImposedLoad``, ``LiveLoad``,
``Nutzlast``, ``ChargeExploitation``, ...). Its unit: kN/m2 when the name says so or when it is typed
IfcPlanarForceMeasure (converted from the project's unit, Pa by default); a plain number is read as kN/m2 only
between 0.5 and 50 (the span of Table 6.2 and heavy industrial floors), else it is ignored with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EN_1991_1_1_TABLE_6_2",
    "LOAD_PROPERTY",
    "NF_P06_001",
    "ImposedLoad",
    "LoadParams",
    "category_of_use",
    "read_load_property",
    "storey_imposed_loads",
]

EN_1991_1_1_TABLE_6_2: Mapping[str, float] = {
    # methods.md 1.3, column "EN recommended" (kN/m2): the rows A, B, C1, C2, C3, C5, D1/D2, E1, F.
    "A": 2.0,  # residential floors
    "B": 3.0,  # offices
    "C1": 3.0,  # areas with tables: schools, canteens
    "C2": 4.0,  # fixed seats: assembly halls, lecture theatres
    "C3": 5.0,  # circulation in public buildings, museums, halls
    "C5": 5.0,  # crowds: concert and sports halls
    "D": 5.0,  # shops (D1/D2)
    "E1": 7.5,  # storage
    "F": 2.5,  # car parks, vehicles <= 30 kN
}
"""EN 1991-1-1 Table 6.2 recommended imposed floor loads q_k by category, kN/m2 (methods.md 1.3)."""

NF_P06_001: Mapping[str, float] = {
    # methods.md 1.3, column "France (old NF P 06-001)": dwellings 1.5, offices 2.5, tables 2.5, fixed seats 4.0,
    # halls 4.0, crowds 5.0 (5.0-6.0), shops 5.0, car parks 2.5; storage has no value there.
    "A": 1.5,
    "B": 2.5,
    "C1": 2.5,
    "C2": 4.0,
    "C3": 4.0,
    "C5": 5.0,
    "D": 5.0,
    "F": 2.5,
}
"""The French values of methods.md 1.3 (old NF P 06-001), to pass as ``LoadParams(table=NF_P06_001)``."""

# Words of a space's or building's use -> EN 1991-1-1 category. Checked in this order; the first match wins.
_CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    ("F", r"parking|car.?park|garage|stationnement|tiefgarage|parkhaus"),
    ("E1", r"storage|stockage|entrep[oô]t|warehouse|archive|lager"),
    ("D", r"commerce|shop|retail|boutique|magasin|store\b|laden|gesch[aä]ft|verkauf"),
    ("C5", r"gym|sport|concert|salle des f[eê]tes|tribune|turnhalle"),
    ("C2", r"assembly|conseil|theat|th[eé][aâ]tre|auditorium|lecture|amphi|cinema|cin[eé]ma|church|[eé]glise"),
    ("C1", r"school|[eé]cole|classroom|classe|canteen|cantine|restaurant|caf[eé]|schul|klassen"),
    ("C3", r"lobby|hall\b|accueil|museum|mus[eé]e|exhibition|exposition|foyer public"),
    ("B", r"office|bureau|b[uü]ro|buero|verwaltung"),
    (
        "A",
        r"housing|dwelling|residential|r[eé]sidentiel|logement|appartement|apartment|flat\b|house|maison|"
        r"wohn|living|bedroom|chambre|kitchen|cuisine|k[uü]che|schlafzimmer|kinderzimmer|bathroom|bad\b|"
        r"salle de bain|s[eé]jour|pi[eè]ce de vie",
    ),
)
_CATEGORY_RES = tuple((category, re.compile(words, re.IGNORECASE)) for category, words in _CATEGORY_WORDS)
# Spaces that serve a use rather than have one: they do not decide a storey's use.
_SERVING = re.compile(
    r"shaft|gaine|riser|schacht|stair|escalier|treppe|corridor|couloir|flur|hallway|circulation|wc\b|toilet|"
    r"technique|technical|technik|lift|ascenseur|aufzug",
    re.IGNORECASE,
)
_BUILDING_USE_CATEGORY = {"housing": "A", "office": "B", "school": "C1", "commerce": "D", "parking": "F"}
LOAD_PROPERTY = re.compile(
    r"imposed.?load|live.?load|nutzlast|verkehrslast|charges?.?d.?exploitation|charges?.?exploitation|"
    r"surcharge.?d.?exploitation|floor.?load|design.?load|variable.?load",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LoadParams:
    """The category table (kN/m2 by EN 1991-1-1 category) used when the file states no load."""

    table: Mapping[str, float] = field(default_factory=lambda: dict(EN_1991_1_1_TABLE_6_2))
    table_name: str = "EN 1991-1-1 Table 6.2 recommended (methods.md 1.3)"


@dataclass(frozen=True)
class ImposedLoad:
    """A storey's design imposed load, its source and the evidence (property, or category row)."""

    kn_m2: float | None
    source: str | None  # pset, design_basis, use_category; None when unknown
    category: str | None
    evidence: str | None


def read_load_property(
    name: str, value: Any, ifc_type: str | None, planar_force_to_pa: float = 1.0
) -> float | None:
    """A load property's value in kN/m2, or None when it is not a load or its unit cannot be told.

    >>> read_load_property("ImposedLoad_kN_m2", 2.5, "IfcReal")
    2.5
    >>> read_load_property("LiveLoad", 3000.0, "IfcPlanarForceMeasure")
    3.0
    >>> read_load_property("LiveLoad", 3000.0, "IfcReal") is None
    True
    """
    if not LOAD_PROPERTY.search(name) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number <= 0 or number != number:
        return None
    if re.search(r"kn", name, re.IGNORECASE):
        return number
    if ifc_type == "IfcPlanarForceMeasure":
        return number * planar_force_to_pa / 1000.0
    return number if 0.5 <= number <= 50.0 else None


def category_of_use(*texts: str | None) -> str | None:
    """The EN 1991-1-1 category a use reads as (first match over the texts), or None.

    >>> category_of_use("Appartement T3"), category_of_use("parking"), category_of_use("Galerie")
    ('A', 'F', None)
    """
    for text in texts:
        if not text:
            continue
        for category, pattern in _CATEGORY_RES:
            if pattern.search(text):
                return category
    return None


def _storey_category(spaces: list[tuple[list[str | None], float | None]]) -> tuple[str | None, str]:
    """Category of the largest floor area among a storey's spaces that have a use of their own."""
    area: dict[str, float] = {}
    for texts, space_area in spaces:
        if any(_SERVING.search(t or "") for t in texts):
            continue
        category = category_of_use(*texts)
        if category is not None:
            area[category] = area.get(category, 0.0) + (space_area or 1.0)
    if not area:
        return None, ""
    best = max(sorted(area), key=lambda c: area[c])
    share = area[best] / sum(area.values())
    return best, f"{share:.0%} of the storey's spaces with a use"


def storey_imposed_loads(
    storeys: list[Any],
    building_loads: Mapping[str, tuple[float, str] | None],
    building_use_texts: Mapping[str, list[str | None]],
    storey_loads: Mapping[str, tuple[float, str] | None],
    slab_loads: Mapping[str, list[tuple[float, str]]],
    space_loads: Mapping[str, list[tuple[float, str]]],
    storey_spaces: Mapping[str, list[tuple[list[str | None], float | None]]],
    params: LoadParams | None = None,
) -> dict[str, ImposedLoad]:
    """The design imposed load of every storey (GlobalId -> :class:`ImposedLoad`), see the module docstring.

    ``building_loads``, ``storey_loads``: (kN/m2, "Pset.Property") the file states on a building / storey;
    ``slab_loads`` / ``space_loads``: those of each storey's slabs / spaces; ``storey_spaces``: per storey, each
    space's use texts (usage, object type, long name, name) and floor area; ``building_use_texts``: the texts
    that say a building's use (design use, occupancy type, object type).
    """
    p = params or LoadParams()
    out: dict[str, ImposedLoad] = {}
    for storey in storeys:
        guid = storey.guid
        own_category, share = _storey_category(list(storey_spaces.get(guid, [])))
        building_category = category_of_use(*building_use_texts.get(storey.building_guid, []))
        category = own_category or building_category
        stated = storey_loads.get(guid)
        if stated is None and slab_loads.get(guid):
            stated = min(slab_loads[guid])
            stated = (stated[0], f"floor slab {stated[1]}")
        if stated is None and space_loads.get(guid):
            stated = min(space_loads[guid])
            stated = (stated[0], f"space {stated[1]}")
        if stated is not None:
            out[guid] = ImposedLoad(stated[0], "pset", category, stated[1])
            continue
        basis = building_loads.get(storey.building_guid)
        if basis is not None and (own_category is None or building_category in (None, own_category)):
            out[guid] = ImposedLoad(basis[0], "design_basis", category, f"building {basis[1]}")
            continue
        if category is not None and category in p.table:
            why = f"storey use ({share})" if own_category else "building use"
            evidence = f"{p.table_name}, category {category}, from the {why}"
            out[guid] = ImposedLoad(float(p.table[category]), "use_category", category, evidence)
            continue
        out[guid] = ImposedLoad(None, None, category, None)
    return out
