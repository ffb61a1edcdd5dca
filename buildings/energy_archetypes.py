"""Envelopes for the monthly balance: LoD1 buildings from footprint, height and an archetype, and IFC buildings
from their real envelope surfaces.

Archetype U-values by construction period are the French 3CL defaults for climate zone H1, insulation unknown,
non-electric heating (methods.md 2.2 table ✔ [N5]); window U-values, air infiltration and window-to-wall
ratios, which that table does not give, come from the TABULA France typology (``../shared/data/
tabula-france-typology``, existing state of the single-family and apartment-block types, ⚠ rounded) and are
flagged as such in each result's assumptions.

Both builders are vectorised over buildings and return an :class:`~buildings.energy.Envelope` whose
``unknown_reason`` says why a building cannot be assessed (no footprint, no height, no construction year...):
unknown is a value, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from buildings.energy import SURFACE_KINDS, Envelope
from buildings.weather import ORIENTATIONS
from twin.errors import TwinError

__all__ = [
    "DEFAULT_ARCHETYPES",
    "ArchetypeParameters",
    "ArchetypeTable",
    "envelope_from_lod1",
    "envelope_from_surfaces",
    "heat_capacity_class_from_materials",
    "period_index",
    "tabula_archetypes",
]


@dataclass(frozen=True)
class ArchetypeTable:
    """Envelope defaults by construction period: row ``i`` covers years ``<= last_year[i]`` (after row i-1).

    All arrays have one value per period. U in W/(m2 K), air changes per hour.
    """

    last_year: tuple[int, ...] = (1974, 1977, 1982, 1988, 2000, 2005, 2012, 9999)
    label: tuple[str, ...] = (
        "<=1974", "1975-77", "1978-82", "1983-88", "1989-2000", "2001-05", "2006-12", ">=2013"
    )  # fmt: skip
    u_wall: tuple[float, ...] = (2.5, 1.0, 1.0, 0.8, 0.5, 0.40, 0.36, 0.23)  # ✔ methods.md 2.2 [N5]
    u_lost_attic: tuple[float, ...] = (2.5, 0.50, 0.50, 0.30, 0.25, 0.23, 0.20, 0.14)  # ✔ idem
    u_flat_roof: tuple[float, ...] = (2.5, 0.75, 0.75, 0.55, 0.40, 0.30, 0.27, 0.14)  # ✔ idem
    u_ground_floor: tuple[float, ...] = (2.0, 0.9, 0.9, 0.8, 0.5, 0.30, 0.27, 0.23)  # ✔ idem
    u_window: tuple[float, ...] = (2.9, 2.8, 2.8, 2.6, 2.6, 1.8, 1.6, 1.4)  # ⚠ TABULA FR / 3CL double glazing
    u_door: tuple[float, ...] = (3.1, 3.1, 3.1, 3.1, 2.5, 2.5, 2.0, 1.5)  # ⚠ TABULA FR U_Door
    infiltration_1_h: tuple[float, ...] = (0.4, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.05)  # ⚠ TABULA FR High..Minimal
    heat_capacity_class: tuple[str, ...] = ("heavy", "medium", "medium", "medium", "medium", "medium", "medium",
                                            "medium")  # fmt: skip  # ⚠ masonry before 1975
    source: str = "3CL defaults zone H1 (methods.md 2.2 ✔); windows, doors, infiltration: TABULA FR ⚠"

    def __post_init__(self) -> None:
        n = len(self.last_year)
        for name in ("label", "u_wall", "u_lost_attic", "u_flat_roof", "u_ground_floor", "u_window", "u_door",
                     "infiltration_1_h", "heat_capacity_class"):  # fmt: skip
            if len(getattr(self, name)) != n:
                raise ValueError(f"ArchetypeTable.{name} needs {n} values, one per period")


DEFAULT_ARCHETYPES = ArchetypeTable()


def tabula_archetypes(csv_path: str | Path, size_class: str = "SFH") -> ArchetypeTable:
    """An :class:`ArchetypeTable` from the TABULA France typology (``tabula_france.csv``, one size class).

    One period per construction-year class of the existing state (``*.001`` variants): roof, wall, floor,
    window and door U-values (``U_*_1``) and infiltration (``n_air_infiltration``); heavy below 1975 as in the
    default table. ``size_class``: SFH (single family), TH (terraced), MFH (multi-family), AB (apartment block).
    Cite: Loga, Stein & Diefenbach 2016, TABULA/EPISCOPE (see the data set's SOURCE.md).
    """
    import csv

    file = Path(csv_path)
    if not file.is_file():
        raise TwinError(f"TABULA typology {file}: not found", "give the tabula_france.csv file")
    with file.open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r.get("Code_BuildingSizeClass") == size_class and r.get("Code_BuildingVariant", "").endswith(".001")
        ]
    if not rows:
        raise TwinError(f"TABULA typology {file}: no existing-state row of size class {size_class}",
                        "size classes: SFH, TH, MFH, AB")  # fmt: skip
    rows.sort(key=lambda r: int(r["Year2_Building"]))

    def values(column: str) -> tuple[float, ...]:
        return tuple(float(r[column]) for r in rows)

    last = tuple(int(r["Year2_Building"]) for r in rows)
    return ArchetypeTable(
        last_year=(*last[:-1], 9999),
        label=tuple(f"{r['Year1_Building']}-{r['Year2_Building']}" for r in rows),
        u_wall=values("U_Wall_1"),
        u_lost_attic=values("U_Roof_1"),
        u_flat_roof=values("U_Roof_1"),
        u_ground_floor=values("U_Floor_1"),
        u_window=values("U_Window_1"),
        u_door=values("U_Door_1"),
        infiltration_1_h=values("n_air_infiltration"),
        heat_capacity_class=tuple("heavy" if y < 1975 else "medium" for y in last),
        source=f"TABULA France {size_class} existing state (Loga et al. 2016), {file.name}",
    )


@dataclass(frozen=True)
class ArchetypeParameters:
    """How a LoD1 block becomes an envelope. ⚠ all: geometric conventions, not in methods.md.

    Attributes
    ----------
    table : U-values and infiltration by period (:data:`DEFAULT_ARCHETYPES`).
    storey_height_m : to estimate storeys from the height or the height from storeys.
    net_to_gross : conditioned (reference) floor area / gross floor area.
    room_height_m : heated volume = reference area x this (TABULA ``h_room`` 2.5 m).
    window_to_wall : window share of the facade by use; ``default`` for the others.
    ventilation_1_h : air changes by ventilation (TABULA ``n_air_use`` 0.4 /h).
    flat_roof_min_storeys : from this many storeys (or for non-housing uses) the roof is taken as flat, else
        as a lost attic.
    default_year : construction year assumed when unknown; ``None`` keeps such buildings unknown.
    """

    table: ArchetypeTable = DEFAULT_ARCHETYPES
    storey_height_m: float = 3.0
    net_to_gross: float = 0.85
    room_height_m: float = 2.5
    window_to_wall: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"housing": 0.18, "default": 0.30})
    )
    ventilation_1_h: float = 0.4
    flat_roof_min_storeys: int = 4
    default_year: int | None = None


def period_index(year: np.ndarray, table: ArchetypeTable = DEFAULT_ARCHETYPES) -> np.ndarray:
    """Row of ``table`` for each construction year (-1 where the year is unknown / NaN).

    >>> period_index(np.array([1900, 1974, 1975, 2012, 2013, np.nan])).tolist()
    [0, 0, 1, 6, 7, -1]
    """
    y = np.asarray(year, dtype=float)
    idx = np.searchsorted(np.asarray(table.last_year, dtype=float), y, side="left")
    return np.where(np.isfinite(y), np.minimum(idx, len(table.last_year) - 1), -1)


def _pick(values: tuple[Any, ...], idx: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    arr = np.asarray(values)
    out = arr[np.maximum(idx, 0)]
    if out.dtype.kind == "f":
        return np.where(idx >= 0, out, fill)
    return np.where(idx >= 0, out, fill).astype(object)


def _as_float(values: object, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    arr = np.array(values, dtype=object)
    return (
        np.array([np.nan if v is None else float(v) for v in arr], dtype=float)
        if arr.dtype == object
        else (arr.astype(float))
    )


def envelope_from_lod1(
    building_id: np.ndarray,
    footprint_area_m2: np.ndarray,
    height_m: np.ndarray,
    storeys: np.ndarray,
    construction_year: np.ndarray,
    use: np.ndarray,
    perimeter_m: np.ndarray | None = None,
    params: ArchetypeParameters | None = None,
) -> Envelope:
    """Envelope of LoD1 blocks (route ``lod1``): a prism on the footprint, U-values by period.

    Geometry: storeys S (or ``round(H / storey height)``, at least 1), height H (or ``S x storey height``);
    gross floor ``A x S``, reference floor ``net_to_gross x A x S``, volume ``reference x room height``;
    facade ``P x H`` with ``P`` the footprint perimeter (``4 sqrt(A)``, a square, when not given), windows
    ``window_to_wall x facade`` split equally between N, E, S and W (a block's facades are not oriented here),
    roof and ground floor = footprint. Party walls are not known and count as facade (an upper bound on losses).

    U-values: :class:`ArchetypeTable` by construction period (roof: lost attic below ``flat_roof_min_storeys``
    storeys for housing, flat roof otherwise). A missing footprint, both height and storeys missing, or a
    missing year (with ``default_year`` None) leave the building unknown, with the reason.
    """
    p = params or ArchetypeParameters()
    t = p.table
    ids = np.asarray(building_id, dtype=object)
    n = len(ids)
    area = _as_float(footprint_area_m2, n)
    height = _as_float(height_m, n)
    floors = _as_float(storeys, n)
    year = _as_float(construction_year, n)
    uses = np.asarray(use, dtype=object) if use is not None else np.full(n, None, dtype=object)
    if p.default_year is not None:
        year = np.where(np.isfinite(year), year, float(p.default_year))
    perimeter = _as_float(perimeter_m, n) if perimeter_m is not None else np.full(n, np.nan)
    square = ~np.isfinite(perimeter) | (perimeter <= 0)
    perimeter = np.where(square, 4.0 * np.sqrt(np.clip(area, 0, None)), perimeter)

    estimated = np.maximum(1.0, np.round(height / p.storey_height_m))
    floors = np.where(np.isfinite(floors) & (floors > 0), floors, estimated)
    height = np.where(np.isfinite(height) & (height > 0), height, floors * p.storey_height_m)
    gross = area * floors
    reference = p.net_to_gross * gross
    facade = perimeter * height
    is_housing = uses == "housing"
    wwr = np.where(is_housing, p.window_to_wall.get("housing", 0.18), p.window_to_wall.get("default", 0.30))
    windows = wwr * facade

    idx = period_index(year, t)
    flat = ~is_housing | (floors >= p.flat_roof_min_storeys)
    u_roof = np.where(flat, _pick(t.u_flat_roof, idx), _pick(t.u_lost_attic, idx))
    area_kinds = np.stack([facade - windows, area, area, np.zeros(n), windows], axis=1)
    u_kinds = np.stack(
        [_pick(t.u_wall, idx), u_roof, _pick(t.u_ground_floor, idx), _pick(t.u_door, idx), _pick(t.u_window, idx)],
        axis=1,
    )
    window_area = np.zeros((n, len(ORIENTATIONS)))
    for o in ("N", "E", "S", "W"):
        window_area[:, ORIENTATIONS.index(o)] = windows / 4.0

    reason = np.full(n, None, dtype=object)
    reason[idx < 0] = "construction year unknown: no archetype U-values (set a default year to assume one)"
    reason[~(np.isfinite(height) & (height > 0))] = "height and storeys unknown"
    reason[~(np.isfinite(area) & (area > 0))] = "footprint area unknown"
    labels = _pick(t.label, idx, fill="unknown")
    common = [
        f"LoD1 prism; U by period from {t.source}",
        "windows split equally N/E/S/W; party walls counted as facade",
        f"reference floor = {p.net_to_gross} x footprint x storeys; volume = reference x {p.room_height_m} m",
    ]
    # one shared list per (period, square) group, not one per building
    group = np.where(idx >= 0, idx, len(t.last_year)) * 2 + square.astype(int)
    notes = {
        int(g): [
            *common,
            f"period {labels[np.argmax(group == g)]}",
            *(["perimeter of a square footprint"] if g % 2 else []),
        ]
        for g in np.unique(group)
    }
    assumptions = [notes[g] for g in group.tolist()]
    return Envelope(
        building_id=ids,
        route=np.full(n, "lod1", dtype=object),
        floor_area_m2=reference,
        volume_m3=reference * p.room_height_m,
        area_m2=area_kinds,
        u_w_m2k=u_kinds,
        window_area_m2=window_area,
        ventilation_1_h=np.full(n, p.ventilation_1_h),
        infiltration_1_h=_pick(t.infiltration_1_h, idx),
        heat_recovery=np.zeros(n),
        heat_capacity_class=_pick(t.heat_capacity_class, idx, fill="medium"),
        use=uses,
        unknown_reason=reason,
        assumptions=assumptions,
    )


_HEAVY = ("concrete", "beton", "béton", "brick", "brique", "stone", "pierre", "masonry", "maçonnerie",
          "maconnerie", "parpaing", "block", "mauerwerk", "ziegel", "kalksandstein", "stahlbeton")  # fmt: skip
_LIGHT = ("timber", "wood", "bois", "clt", "holz", "gypsum", "plaster", "placo", "steel frame", "ossature")


def heat_capacity_class_from_materials(materials: list[str | None]) -> str:
    """Heat capacity class from the material names of a building's walls and slabs (keywords, ⚠ coarse).

    ``heavy`` when most named materials are masonry or concrete, ``light`` when most are timber or boards,
    ``medium`` otherwise (and when nothing is named).

    >>> heat_capacity_class_from_materials(["Beton C25/30", "Mauerwerk", "Holz"])
    'heavy'
    >>> heat_capacity_class_from_materials([])
    'medium'
    """
    names = [m.casefold() for m in materials if m]
    heavy = sum(any(k in m for k in _HEAVY) for m in names)
    light = sum(any(k in m for k in _LIGHT) for m in names)
    if heavy > light and heavy >= max(1, len(names) // 3):
        return "heavy"
    if light > heavy:
        return "light"
    return "medium"


def envelope_from_surfaces(
    building_id: np.ndarray,
    surfaces: Mapping[str, np.ndarray],
    gross_floor_area_m2: np.ndarray,
    construction_year: np.ndarray,
    use: np.ndarray,
    heat_capacity_class: np.ndarray | None = None,
    params: ArchetypeParameters | None = None,
) -> Envelope:
    """Envelope of IFC buildings (route ``ifc``) from their ``envelope_surfaces`` rows.

    ``surfaces`` holds equal-length arrays ``building_id``, ``surface_kind``, ``orientation``, ``area_m2``,
    ``u_value_w_m2k`` (NaN when unknown) and ``u_known_area_m2``. Areas are summed per building and kind exactly
    as the IFC ingest derived them; window areas also per orientation. U per kind is the area-weighted mean of
    the known U-values; the part of the area without a U-value takes the period default of the building's
    construction year (said in the assumptions); when that year is unknown too the building is unknown. A
    building without envelope rows or without floor area is unknown, with the reason.
    """
    p = params or ArchetypeParameters()
    ids = np.asarray(building_id, dtype=object)
    n = len(ids)
    position = {b: i for i, b in enumerate(ids)}
    s_bid = np.asarray(surfaces["building_id"], dtype=object)
    keep = np.array([b in position for b in s_bid], dtype=bool)
    row = np.array([position[b] for b in s_bid[keep]], dtype=int)
    kind = np.asarray(surfaces["surface_kind"], dtype=object)[keep]
    orient = np.asarray(surfaces["orientation"], dtype=object)[keep]
    area = np.asarray(surfaces["area_m2"], dtype=float)[keep]
    u = np.asarray(surfaces["u_value_w_m2k"], dtype=float)[keep]
    known = np.where(np.isfinite(u), np.asarray(surfaces["u_known_area_m2"], dtype=float)[keep], 0.0)
    known = np.minimum(known, area)

    k = np.array([SURFACE_KINDS.index(x) for x in kind], dtype=int)
    flat = row * len(SURFACE_KINDS) + k
    size = n * len(SURFACE_KINDS)
    area_k = np.bincount(flat, weights=area, minlength=size).reshape(n, -1)
    known_k = np.bincount(flat, weights=known, minlength=size).reshape(n, -1)
    ua_known = np.bincount(flat, weights=np.nan_to_num(u) * known, minlength=size).reshape(n, -1)
    o = np.array([ORIENTATIONS.index(x) for x in orient], dtype=int)
    is_window = kind == "window"
    window_area = np.bincount(
        row[is_window] * len(ORIENTATIONS) + o[is_window], weights=area[is_window], minlength=n * len(ORIENTATIONS)
    ).reshape(n, -1)

    year = _as_float(construction_year, n)
    if p.default_year is not None:
        year = np.where(np.isfinite(year), year, float(p.default_year))
    idx = period_index(year, p.table)
    t = p.table
    defaults = np.stack(
        [
            _pick(t.u_wall, idx),
            _pick(t.u_flat_roof, idx),
            _pick(t.u_ground_floor, idx),
            _pick(t.u_door, idx),
            _pick(t.u_window, idx),
        ],
        axis=1,
    )
    unknown_area = np.clip(area_k - known_k, 0.0, None)
    has_gap = unknown_area > 1e-6
    with np.errstate(invalid="ignore", divide="ignore"):
        u_k = np.where(area_k > 0, (ua_known + np.where(has_gap, unknown_area * defaults, 0.0)) / area_k, 0.0)

    gross = _as_float(gross_floor_area_m2, n)
    reference = p.net_to_gross * gross
    uses = np.asarray(use, dtype=object) if use is not None else np.full(n, None, dtype=object)
    classes = (
        np.asarray(heat_capacity_class, dtype=object)
        if heat_capacity_class is not None
        else np.full(n, "medium", dtype=object)
    )
    reason = np.full(n, None, dtype=object)
    gap_unfilled = (has_gap & ~np.isfinite(defaults)).any(axis=1)
    reason[gap_unfilled] = "U-values missing in the model and construction year unknown: no default to fill them"
    reason[~(np.isfinite(gross) & (gross > 0))] = "gross floor area unknown (no storeys or slabs in the model)"
    reason[area_k.sum(axis=1) <= 0] = "no envelope data (no external walls, roofs or slabs found in the model)"
    assumptions = []
    for i in range(n):
        notes = [
            "IFC envelope areas and U-values (envelope_surfaces)",
            f"reference floor = {p.net_to_gross} x IFC gross floor area; volume = reference x {p.room_height_m} m",
            f"heat capacity class {classes[i]} (from the material names)",
        ]
        filled = [SURFACE_KINDS[j] for j in range(len(SURFACE_KINDS)) if has_gap[i, j]]
        if filled:
            notes.append(f"U of {', '.join(filled)} partly from period defaults ({t.source})")
        assumptions.append(notes)
    return Envelope(
        building_id=ids,
        route=np.full(n, "ifc", dtype=object),
        floor_area_m2=reference,
        volume_m3=reference * p.room_height_m,
        area_m2=area_k,
        u_w_m2k=np.nan_to_num(u_k, nan=np.nan),
        window_area_m2=window_area,
        ventilation_1_h=np.full(n, p.ventilation_1_h),
        infiltration_1_h=np.where(idx >= 0, _pick(t.infiltration_1_h, idx), 0.2),
        heat_recovery=np.zeros(n),
        heat_capacity_class=classes,
        use=uses,
        unknown_reason=reason,
        assumptions=assumptions,
    )
