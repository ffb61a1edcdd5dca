"""What reversibility measures on each building: one row per (building, storey, criterion) with its evidence.

Two depths of evidence, one output shape (:class:`Measures`), so that one scoring (:mod:`buildings.reversibility`)
serves both:

- :func:`measure_ifc`: full criteria of IFC buildings, from the facts the IFC ingest derived (``building_facts``,
  ``storeys``, ``vertical_circulation``, ``envelope_surfaces``) and the elements; evidence = IFC GlobalIds.
- :func:`measure_gis`: the district screening of LoD1 buildings (footprint, height, storeys, use, year),
  vectorised with shapely 2 array functions; what LoD1 cannot see is ``unknown`` (NaN), never passed;
  evidence = the GIS fields used.

A measured value of NaN means unknown. Values are in the unit of :data:`~buildings.reversibility_rules.CRITERIA`.
Pure functions: Arrow tables in, Arrow tables out.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from buildings.reversibility_rules import CRITERIA, Rules

__all__ = [
    "MEASURE_SCHEMA",
    "STOREY_SCHEMA",
    "TEXT",
    "BuildingTables",
    "Measures",
    "equivalent_depth",
    "measure_gis",
    "measure_ifc",
    "required_exits",
]

TEXT = pa.dictionary(pa.int32(), pa.string())
"""Repeated strings (ids, criteria, evidence, notes) are dictionary-encoded: a city has millions of rows."""

MEASURE_SCHEMA = pa.schema(
    [
        ("building_id", TEXT),
        ("storey_id", TEXT),  # NULL for building-level criteria
        ("criterion", TEXT),
        ("value", pa.float64()),  # NaN = unknown
        ("evidence", TEXT),  # JSON: {"ifc": [GlobalIds]} or {"gis": [fields of the buildings row]}
        ("note", TEXT),
    ]
)
_PLAIN = pa.schema([pa.field(f.name, pa.string() if f.type == TEXT else f.type) for f in MEASURE_SCHEMA])
STOREY_SCHEMA = pa.schema(
    [
        ("building_id", pa.string()),
        ("storey_id", pa.string()),
        ("name", pa.string()),
        ("level_index", pa.int32()),  # NULL: a GIS pseudo-storey standing for all the storeys
        ("levels", pa.int32()),  # how many storeys the row stands for (1 for an IFC storey)
        ("area_m2", pa.float64()),  # gross floor area of the row (all its levels), NaN unknown
    ]
)

_LOD1 = "not visible in LoD1 GIS data (footprint, height, storeys, use, year)"


@dataclass(frozen=True)
class Measures:
    """The measured criteria (:data:`MEASURE_SCHEMA`) and the storeys they refer to (:data:`STOREY_SCHEMA`)."""

    criteria: pa.Table
    storeys: pa.Table

    @staticmethod
    def concat(parts: list[Measures]) -> Measures:
        return Measures(
            pa.concat_tables([p.criteria for p in parts] or [MEASURE_SCHEMA.empty_table()]),
            pa.concat_tables([p.storeys for p in parts] or [STOREY_SCHEMA.empty_table()]),
        )


@dataclass(frozen=True)
class BuildingTables:
    """The twin tables reversibility reads (as Arrow), for the buildings to assess.

    ``buildings``: building_id, name, use, construction_year, height_m, height_estimated, storeys_above_ground,
    storeys_estimated, footprint_area_m2, source, source_ref, attributes (JSON text), footprint (WKB).
    The others are the IFC tables of the same name (any may be empty): ``storeys`` (with
    ``imposed_load_kn_m2`` / ``imposed_load_source`` when the twin has them), ``facts`` (building_facts),
    ``elements`` (ifc_guid, building_id, storey_id, ifc_class, predefined_type, is_external, load_bearing,
    acoustic_rating, materials), ``meshes`` (ifc_guid, building_id, ifc_class, volume_m3),
    ``circulation`` (vertical_circulation), ``envelope`` (envelope_surfaces).
    """

    buildings: pa.Table
    storeys: pa.Table
    facts: pa.Table
    elements: pa.Table
    meshes: pa.Table
    circulation: pa.Table
    envelope: pa.Table


def required_exits(headcount: float) -> int:
    """Exits a workplace storey needs for ``headcount`` people (Code du travail R4227-5, methods.md 1.5 ✔).

    Fewer than 20 people: 1; 20 to 500: 2 (from 20 to 50 the second may be an accessory exit); then one more per
    500 people or part of 500.

    >>> [required_exits(n) for n in (5, 20, 120, 501, 1200)]
    [1, 2, 2, 3, 4]
    """
    if headcount < 20:
        return 1
    if headcount <= 500:
        return 2
    return 2 + math.ceil((headcount - 500) / 500)


def equivalent_depth(area: np.ndarray, perimeter: np.ndarray) -> np.ndarray:
    """Depth of the rectangle with the same area and perimeter: d = (P/2 - sqrt((P/2)² - 4A)) / 2.

    Follows the wings of L, U and courtyard plans (whose minimum rotated rectangle is much wider than their
    depth): a 40 m square courtyard block with 12 m wings gives 13.7 m. NaN where no rectangle fits.

    >>> equivalent_depth(np.array([54 * 13.0]), np.array([2 * (54 + 13.0)])).round(3).tolist()
    [13.0]
    """
    half = perimeter / 2.0
    disc = half * half - 4.0 * area
    with np.errstate(invalid="ignore"):
        return np.where(disc >= -1e-6, (half - np.sqrt(np.maximum(disc, 0.0))) / 2.0, np.nan)


# --------------------------------------------------------------------------------------------------- helpers
def _ev(ifc: list[str] | None = None, **fields: Any) -> str:
    data: dict[str, Any] = {}
    if ifc is not None:
        data["ifc"] = sorted(set(ifc))
    data.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(data, ensure_ascii=False)


def _f(value: Any) -> float:
    return float(value) if value is not None else math.nan


def _rows_by(table: pa.Table, key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if table.num_rows == 0 or key not in table.column_names:
        return out
    for row in table.to_pylist():
        out.setdefault(row[key], []).append(row)
    return out


_DB = re.compile(r"(\d+(?:[.,]\d+)?)")


def _decibels(text: Any) -> float | None:
    match = _DB.search(str(text or ""))
    return float(match.group(1).replace(",", ".")) if match else None


def _design_load(
    storey: dict[str, Any], building: dict[str, Any], psets: dict[str, Any], rules: Rules
) -> tuple[float, str, list[str]]:
    """Design imposed load of a storey: the storey's own, the building's Twin_DesignBasis, the current use."""
    own = storey.get("imposed_load_kn_m2")
    if own is not None:
        origin = storey.get("imposed_load_source") or "stored"
        read = f", read from {storey['imposed_load_evidence']}" if storey.get("imposed_load_evidence") else ""
        return float(own), f"storeys.imposed_load_kn_m2 ({origin}{read})", [storey["storey_id"]]
    basis = psets.get("Twin_DesignBasis", {}).get("ImposedLoad_kN_m2")
    if basis is not None:
        return float(basis), "Twin_DesignBasis.ImposedLoad_kN_m2 of the building", [building["building_id"]]
    use = building.get("use")
    if use in rules.imposed_loads_kn_m2:
        return (
            rules.imposed_loads_kn_m2[use],
            f"assumed: EN 1991-1-1 category of the current use ({use}), methods.md 1.3",
            [],
        )
    return math.nan, "no design load in the model and the current use is unknown", []


# --------------------------------------------------------------------------------------------------- IFC
def measure_ifc(tables: BuildingTables, rules: Rules) -> Measures:
    """Full criteria of the IFC buildings of ``tables`` (``source = 'ifc'``), with GlobalIds as evidence.

    Per building: depth = the diameter of the largest circle inscribed in the footprint (2 x
    ``max_facade_distance_m``: light wells and wings count), else the minimum-rectangle depth; structure =
    internal load-bearing wall length per m² of floor (cross walls; 1/spacing for walls across the whole depth);
    cores at the facade as a share of the stairs; the farthest footprint point from a stair; m² of storey per
    shaft; ground-floor height; top-floor height; the lowest rated sound insulation of separating elements;
    the share of facade to open for 1/6 of SHAB; lift access from R+3; construction year; exits provided /
    required (18 m² per workstation); headcount as a school (m² per pupil). Per storey: free height, glazing /
    SHAB (window / gross ÷ net_to_gross), design imposed load (the storey's, else the building's
    ``Twin_DesignBasis``, else the EN 1991-1-1 category of the current use; a slab on grade bears any load).
    """
    p = rules.parameters
    b_table = tables.buildings.filter(pc.equal(tables.buildings["source"], "ifc"))
    facts = {r["building_id"]: r for r in tables.facts.to_pylist()}
    storeys_by = _rows_by(tables.storeys, "building_id")
    elements_by = _rows_by(tables.elements, "building_id")
    circ_by = _rows_by(tables.circulation, "building_id")
    env_by = _rows_by(tables.envelope, "building_id")
    rows: list[dict[str, Any]] = []
    storey_rows: list[dict[str, Any]] = []

    for b in b_table.to_pylist():
        bid = b["building_id"]
        f = facts.get(bid, {})
        fev = json.loads(f.get("evidence") or "{}")
        psets = json.loads(b.get("attributes") or "{}") if isinstance(b.get("attributes"), str) else {}
        elements = elements_by.get(bid, [])
        by_class: dict[str, list[dict[str, Any]]] = {}
        for e in elements:
            by_class.setdefault(e["ifc_class"], []).append(e)
        slabs = [e for e in elements if e["ifc_class"].startswith("IfcSlab") and e["predefined_type"] != "ROOF"]
        storeys = sorted(storeys_by.get(bid, []), key=lambda s: (s["level_index"] is None, s["level_index"] or 0))
        above = [s for s in storeys if s["level_index"] is not None and s["level_index"] >= 0]
        gfa_above = sum(s["gross_floor_area_m2"] or 0.0 for s in above)
        largest = max((s["gross_floor_area_m2"] or 0.0 for s in above), default=0.0)

        def add(
            criterion: str, value: float, evidence: str, note: str, storey: str | None = None, bid: str = bid
        ) -> None:
            rows.append(
                {
                    "building_id": bid,
                    "storey_id": storey,
                    "criterion": criterion,
                    "value": value,
                    "evidence": evidence,
                    "note": note,
                }
            )

        # Depth.
        mfd, rect = f.get("max_facade_distance_m"), f.get("depth_m")
        depth = 2 * mfd if mfd is not None else _f(rect)
        add(
            "depth",
            depth,
            _ev([e["ifc_guid"] for e in slabs], facts=["max_facade_distance_m", "depth_m"]),
            f"inscribed-circle diameter of the footprint (rectangle {rect:.1f} m)"
            if mfd is not None and rect is not None
            else "minimum rotated rectangle of the footprint",
        )
        # Structure.
        internal = [
            e
            for e in elements
            if e["ifc_class"].startswith("IfcWall") and e["load_bearing"] and e["is_external"] is not True
        ]
        columns = [e["ifc_guid"] for e in elements if e["ifc_class"].startswith("IfcColumn")]
        wall_rate = f.get("internal_loadbearing_wall_m_per_m2")
        if wall_rate is None:
            note = "no wall of the model states LoadBearing: structure unknown"
        elif wall_rate > 0:
            note = f"{len(internal)} internal load-bearing walls (cross walls), {wall_rate:.3f} m per m² of floor"
        else:
            grid = f.get("column_grid_m")
            note = f"column-slab: {len(columns)} columns" + (f" on a {grid:.1f} m grid" if grid else "")
        add("structure", _f(wall_rate), _ev([e["ifc_guid"] for e in internal] + columns), note)
        # Circulation.
        stairs = [c for c in circ_by.get(bid, []) if c["kind"] == "stair"]
        stair_ids = [c["ifc_guid"] for c in stairs]
        placed = [c for c in stairs if c["position"] is not None]
        share = sum(c["position"] == "facade" for c in placed) / len(placed) if placed else math.nan
        add(
            "core_position",
            share,
            _ev(stair_ids),
            f"core position: {f.get('core_position') or 'unknown'}" if placed else "no stair placed in the model",
        )
        cores = f.get("stair_cores")
        add("stairs", _f(cores), _ev(stair_ids), f"{cores} stair cores" if cores is not None else "no facts")
        distance = math.nan
        if stairs and b.get("footprint") is not None:
            outline = shapely.from_wkb(b["footprint"])
            ring = shapely.segmentize(shapely.boundary(outline), 1.0)
            corners = shapely.get_coordinates(ring)
            points = np.array([[c["x_m"], c["y_m"]] for c in stairs])
            gaps = np.linalg.norm(corners[:, None, :] - points[None, :, :], axis=2).min(axis=1)
            distance = float(gaps.max())
        add(
            "stair_distance",
            distance,
            _ev(stair_ids),
            "straight-line distance from the farthest point of the facade to the nearest stair"
            if stairs
            else "no stair in the model",
        )
        shafts = f.get("shafts") or 0
        add(
            "shafts",
            largest / shafts if shafts and largest else math.nan,
            _ev(fev.get("shafts", [])),
            f"{shafts} shafts for a {largest:.0f} m² storey"
            if shafts
            else "no shaft modelled (IfcSpace of ObjectType SHAFT): unknown",
        )
        ground = next((s for s in storeys if s["level_index"] == 0), None)
        add(
            "ground_floor_height",
            _f(ground["floor_to_floor_m"]) if ground else math.nan,
            _ev([ground["storey_id"]] if ground else []),
            "floor to floor of the ground storey" if ground else "no ground storey",
        )
        top = above[-1] if above else None
        top_height = (top["elevation_m"] - ground["elevation_m"]) if (top and ground) else math.nan
        add(
            "fire_height",
            _f(top_height),
            _ev([top["storey_id"]] if top else []),
            f"floor of the top storey {top['name']} above the ground floor" if top else "no storeys",
        )
        rated: list[tuple[dict[str, Any], float]] = []
        for e in elements:
            db = _decibels(e["acoustic_rating"]) if e["is_external"] is not True else None
            if db:
                rated.append((e, db))
        add(
            "acoustics",
            min(db for _, db in rated) if rated else math.nan,
            _ev([e["ifc_guid"] for e, _ in rated]),
            "lowest AcousticRating (Rw, indicative of D_nT,A) of internal elements"
            if rated
            else "no internal element states an AcousticRating",
        )
        env = env_by.get(bid, [])
        window_area = sum(r["area_m2"] for r in env if r["surface_kind"] == "window")
        wall_area = sum(r["area_m2"] for r in env if r["surface_kind"] == "wall")
        facade_ids = [g for r in env if r["surface_kind"] == "window" for g in json.loads(r["ifc_guids"] or "[]")]
        needed = gfa_above * p.net_to_gross / 6.0
        add(
            "facade_change",
            max(0.0, needed - window_area) / (wall_area + window_area) if (wall_area + window_area) else math.nan,
            _ev(facade_ids),
            f"{window_area:.0f} m² of windows for {needed:.0f} m² needed (1/6 of SHAB), "
            f"over {wall_area + window_area:.0f} m² of facade"
            if env
            else "no envelope surfaces",
        )
        levels = len(above)
        lifts = [c["ifc_guid"] for c in circ_by.get(bid, []) if c["kind"] == "lift"]
        add(
            "lift_access",
            1.0 if (lifts or (levels and levels <= 3)) else (0.0 if levels else math.nan),
            _ev(lifts),
            f"{len(lifts)} lifts for {levels} storeys (a lift is required from R+3)",
        )
        year = b.get("construction_year")
        add(
            "period",
            _f(year),
            _ev([bid] if year is not None else [], fields=["construction_year"]),
            f"built {year}" if year else "construction year unknown",
        )
        headcount = largest / p.m2_per_workstation
        need = required_exits(headcount)
        add(
            "exits",
            (cores or 0) / need if cores is not None and largest else math.nan,
            _ev(stair_ids),
            f"{cores} stair cores for {need} exits required ({headcount:.0f} people at "
            f"{p.m2_per_workstation:g} m² each on the largest storey)",
        )
        add(
            "erp_headcount",
            gfa_above / p.m2_per_pupil if gfa_above else math.nan,
            _ev([s["storey_id"] for s in above]),
            f"{gfa_above:.0f} m² at {p.m2_per_pupil:g} m² per pupil",
        )
        # Per storey.
        for s in storeys:
            sid = s["storey_id"]
            storey_rows.append(
                {
                    "building_id": bid,
                    "storey_id": sid,
                    "name": s["name"],
                    "level_index": s["level_index"],
                    "levels": 1,
                    "area_m2": _f(s["gross_floor_area_m2"]),
                }
            )
            mine = [e for e in elements if e["storey_id"] == sid]
            covers = [
                e["ifc_guid"]
                for e in mine
                if e["ifc_class"].startswith(("IfcSlab", "IfcCovering", "IfcRoof"))
                and e["predefined_type"] != "BASESLAB"
            ]
            add(
                "free_height",
                _f(s["free_height_m"]),
                _ev([sid, *covers]),
                "floor top to the lowest slab, roof or ceiling above"
                if s["free_height_m"] is not None
                else "nothing found above this storey's floor",
                sid,
            )
            windows = [e["ifc_guid"] for e in mine if e["ifc_class"].startswith("IfcWindow")]
            ratio = s["window_to_floor_ratio"]
            add(
                "glazing",
                ratio / p.net_to_gross if ratio is not None else math.nan,
                _ev([sid, *windows]),
                f"{len(windows)} windows; window / gross floor area {ratio:.3f} ÷ {p.net_to_gross:g} (SHAB)"
                if ratio is not None
                else "no floor area for this storey",
                sid,
            )
            on_grade = [
                e["ifc_guid"] for e in mine if e["predefined_type"] == "BASESLAB" and s["level_index"] == 0
            ]
            if on_grade:
                add(
                    "imposed_load",
                    math.inf,
                    _ev(on_grade),
                    "slab on grade (BASESLAB): bears any imposed load",
                    sid,
                )
            else:
                load, source, ids = _design_load(s, b, psets, rules)
                add("imposed_load", load, _ev(ids), source, sid)
    return Measures(
        pa.Table.from_pylist(rows, _PLAIN).cast(MEASURE_SCHEMA) if rows else MEASURE_SCHEMA.empty_table(),
        pa.Table.from_pylist(storey_rows, STOREY_SCHEMA) if storey_rows else STOREY_SCHEMA.empty_table(),
    )


# --------------------------------------------------------------------------------------------------- GIS
def _float_column(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    return pc.cast(table[name], pa.float64()).to_numpy(zero_copy_only=False).astype(float)


def _bool_column(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(table.num_rows, bool)
    return np.asarray(pc.fill_null(table[name], False).to_numpy(zero_copy_only=False), bool)


def measure_gis(buildings: pa.Table, rules: Rules) -> Measures:
    """District screening of LoD1 buildings, vectorised (no Python loop over buildings).

    ``buildings`` has building_id, footprint (WKB), height_m, height_estimated, storeys_above_ground,
    storeys_estimated, use, construction_year, source_ref. Measured:

    - depth = min(width of the minimum rotated rectangle, :func:`equivalent_depth`) of the footprint, m;
    - free height = height / storeys - ``slab_allowance_m`` (a mean over the storeys; unknown when the height or
      the storeys were estimated at ingest, since one was then derived from the other);
    - top-floor height = height x (storeys - 1) / storeys; headcount as a school = footprint x storeys / m² per
      pupil; lift access known only for buildings of at most three storeys (no lift needed);
    - design imposed load = the EN 1991-1-1 category of the current use (assumed, methods.md 1.3);
    - construction year.

    Every other criterion is unknown (NaN) with the note saying LoD1 cannot see it.
    """
    p = rules.parameters
    n = buildings.num_rows
    ids = buildings["building_id"].combine_chunks() if n else pa.array([], pa.string())
    geoms = shapely.from_wkb(buildings["footprint"].to_numpy(zero_copy_only=False)) if n else np.array([])
    area = shapely.area(geoms) if n else np.zeros(0)
    area = np.where(area > 0, area, np.nan)
    rect = shapely.minimum_rotated_rectangle(geoms) if n else np.array([])
    if n:
        ring = shapely.get_coordinates(rect)  # a rectangle has 5 points and no hole
        counts = shapely.get_num_coordinates(rect)
        valid = counts == 5
        corners = np.full((n, 5, 2), np.nan)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        take = np.where(valid)[0]
        corners[take] = ring[(starts[take][:, None] + np.arange(5)[None, :])]
        sides = np.linalg.norm(np.diff(corners, axis=1)[:, :2, :], axis=2)
        rect_depth = np.nanmin(np.where(np.isnan(sides), np.inf, sides), axis=1)
        rect_depth = np.where(np.isfinite(rect_depth), rect_depth, np.nan)
        depth = np.fmin(rect_depth, equivalent_depth(area, shapely.length(geoms)))
    else:
        depth = np.zeros(0)
    height = _float_column(buildings, "height_m")
    levels = _float_column(buildings, "storeys_above_ground")
    height_read = (height > 0) & ~_bool_column(buildings, "height_estimated")
    levels_read = (levels > 0) & ~_bool_column(buildings, "storeys_estimated")
    both = height_read & levels_read
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_storey = np.where(both, height / levels, np.nan)
        top_floor = np.where(both, height * (levels - 1) / levels, np.nan)
        gfa = np.where(levels > 0, area * levels, np.nan)
    load_of = np.array([rules.imposed_loads_kn_m2.get(u, np.nan) if u else np.nan for u in USE_ORDER])
    use_code = _codes(buildings["use"]) if n else np.zeros(0, np.int64)
    design_load = load_of[use_code]
    year = _float_column(buildings, "construction_year")
    lift = np.where(levels_read & (levels <= 3), 1.0, np.nan)

    def evidence(fields: str) -> str:  # the fields of the buildings row (source_ref names the source)
        return f'{{"gis": [{fields}]}}'

    pseudo_ids = pc.binary_join_element_wise(ids, "all", "/")
    measured: dict[str, tuple[np.ndarray, str, str, bool]] = {
        "depth": (
            depth,
            evidence('"footprint"'),
            "min(rotated-rectangle width, equivalent-rectangle depth) of the footprint",
            False,
        ),
        "free_height": (
            mean_storey - p.slab_allowance_m,
            evidence('"height_m", "storeys_above_ground"'),
            f"mean storey height (height / storeys) - {p.slab_allowance_m:g} m slab; unknown if one was estimated",
            True,
        ),
        "fire_height": (
            top_floor,
            evidence('"height_m", "storeys_above_ground"'),
            "height x (storeys - 1) / storeys",
            False,
        ),
        "imposed_load": (
            design_load,
            evidence('"use"'),
            "assumed: EN 1991-1-1 category of the current use (methods.md 1.3)",
            True,
        ),
        "period": (year, evidence('"construction_year"'), "construction year (DATE_APP)", False),
        "lift_access": (lift, evidence('"storeys_above_ground"'), "no lift needed up to R+2; lifts unseen", False),
        "erp_headcount": (
            gfa / p.m2_per_pupil,
            evidence('"footprint", "storeys_above_ground"'),
            f"footprint x storeys at {p.m2_per_pupil:g} m² per pupil",
            False,
        ),
    }
    # One table in one chunk, built from integer codes: no string is copied per row (100k buildings x 17).
    names = list(CRITERIA)
    k = len(names)
    values = np.full((k, n), np.nan)
    evidence_texts, note_texts = [], []
    per_storey = np.zeros(k, bool)
    for j, criterion in enumerate(names):
        if criterion in measured:
            v, ev_text, note, storey_level = measured[criterion]
            values[j] = v
        else:
            ev_text, note, storey_level = "{}", _LOD1, CRITERIA[criterion].per_storey
        evidence_texts.append(ev_text)
        note_texts.append(note)
        per_storey[j] = storey_level
    rows = np.arange(n, dtype=np.int32)
    by_criterion = np.repeat(np.arange(k, dtype=np.int32), n)
    storey_codes = np.where(per_storey[:, None], rows[None, :], -1).ravel().astype(np.int32)
    criteria = pa.table(
        {
            "building_id": pa.DictionaryArray.from_arrays(pa.array(np.tile(rows, k)), ids),
            "storey_id": pa.DictionaryArray.from_arrays(pa.array(storey_codes, mask=storey_codes < 0), pseudo_ids),
            "criterion": pa.DictionaryArray.from_arrays(pa.array(by_criterion), pa.array(names, pa.string())),
            "value": pa.array(values.ravel()),
            "evidence": pa.DictionaryArray.from_arrays(
                pa.array(by_criterion), pa.array(evidence_texts, pa.string())
            ),
            "note": pa.DictionaryArray.from_arrays(pa.array(by_criterion), pa.array(note_texts, pa.string())),
        },
        schema=MEASURE_SCHEMA,
    )
    storeys = pa.table(
        {
            "building_id": ids,
            "storey_id": pseudo_ids,
            "name": pc.cast(_repeat("all storeys (LoD1 mean)", n), pa.string()),
            "level_index": pa.nulls(n, pa.int32()),
            "levels": pa.array(np.where(levels > 0, levels, 1).astype(np.int32)),
            "area_m2": pa.array(gfa, pa.float64()),
        },
        schema=STOREY_SCHEMA,
    )
    return Measures(criteria, storeys)


USE_ORDER = ("housing", "office", "commerce", "industry", "school", "parking", "public", "other", None)


def _repeat(text: str, n: int) -> pa.Array:
    """``text`` n times, built in Arrow."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([text], pa.string()))


def _codes(uses: pa.ChunkedArray) -> np.ndarray:
    """Index of each use in :data:`USE_ORDER` (unknown -> the last, None)."""
    found = pc.index_in(uses, value_set=pa.array(USE_ORDER[:-1], pa.string()))
    return np.asarray(pc.fill_null(found, len(USE_ORDER) - 1).to_numpy(zero_copy_only=False), np.int64)
