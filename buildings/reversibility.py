"""Reversibility: can this building change use, why, at what cost, and what does it bring to the town?

The scoring follows the Transformation Potential Meter (methods.md 1.1: veto criteria, then gradual criteria
in a weighted sum), with the criteria, thresholds and weights of a versioned rule file
(:mod:`buildings.reversibility_rules`, French defaults from methods.md 1.2-1.6) and the measures of
:mod:`buildings.reversibility_measures` (IFC: full criteria with GlobalIds; GIS LoD1: a screening in which what
cannot be seen is unknown).

For a path with criteria i (weight w_i, threshold t_i, worst u_i, veto v_i, direction min or max):

- criterion score s_i = clip((x - u_i) / (t_i - u_i), 0, 1) (a step at t_i when u_i = t_i); status ``pass``
  when x reaches t_i, ``fail`` otherwise, ``unknown`` when x is unknown; measured values are rounded to 3
  decimals first (no measurement is more precise);
- a criterion vetoes when x is strictly beyond v_i; a per-storey criterion vetoes its storey, and the building
  when vetoed storeys hold more than ``storey_veto_share`` of the floor area in scope;
- score S = 100 · Σ w_i s_i / Σ w_i, where a per-storey criterion contributes its floor-area-weighted mean over
  the storeys in scope. Unknown criteria count 0 in ``score`` (a lower bound) and 1 in ``score_max``;
  ``coverage`` is the share of the weight that is known;
- ``convertible``: False when anything vetoes; None (unknown) when no veto fired but a veto criterion is
  unknown (or unknown storeys could tip the storey share); True otherwise.

Yield (methods.md 1.6): dwellings n = ⌊A · η / a_dw⌋ over the converted area A (storeys in scope not vetoed),
residents = 2.16 n, pupils = 0.21 n; a school counts A / m² per pupil, offices A · η / 18 m². Cost: the
converted area times the €/m² range of the difficulty class given by the score (twin convention ⚠).

Entry points: :func:`assess` (measures -> results and criteria tables; pure), :func:`applicable_paths`.
The scenarios engine calls :func:`assess` with its own measures (e.g. a scenario's changed heights or uses fed to
:func:`~buildings.reversibility_measures.measure_gis`) and rules; :mod:`buildings.reversibility_store` does the
same on a twin and stores the results.

Examples
--------
>>> import shapely
>>> from buildings.reversibility_measures import measure_gis
>>> from buildings.reversibility_rules import default_rules
>>> lod1 = pa.table({"building_id": ["a", "b"], "footprint": shapely.to_wkb([shapely.box(0, 0, 40, 13),
...     shapely.box(0, 0, 40, 20)]), "height_m": [12.0, 12.0], "storeys_above_ground": [4, 4],
...     "use": ["office", "office"], "construction_year": [1972, 1990], "source_ref": ["1", "2"],
...     "route": ["gis", "gis"]})
>>> rules = default_rules()
>>> result = assess(measure_gis(lod1, rules), lod1, rules, ["office->housing"])
>>> [(r["building_id"], r["convertible"], json.loads(r["vetoes"])[0]["criterion"] if r["vetoes"] != "[]" else None)
...  for r in result.results.to_pylist()]
[('a', None, None), ('b', False, 'depth')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from buildings.reversibility_measures import TEXT, Measures
from buildings.reversibility_rules import CRITERIA, CriterionRule, PathRule, Rules

__all__ = [
    "CRITERIA_SCHEMA",
    "RESULT_SCHEMA",
    "Assessment",
    "applicable_paths",
    "assess",
    "criterion_scores",
]

RESULT_SCHEMA = pa.schema(
    [
        ("building_id", pa.string()),
        ("path", pa.string()),
        ("route", pa.string()),  # ifc | gis
        ("rules_version", pa.string()),
        ("convertible", pa.bool_()),  # NULL = unknown
        ("vetoes", pa.string()),  # JSON list of {criterion, storey_id, value, veto, reason}
        ("score", pa.float64()),  # 0-100, unknown criteria counted 0
        ("score_max", pa.float64()),  # 0-100, unknown criteria counted 1
        ("coverage", pa.float64()),  # share of the weight that is known, 0-1
        ("storey_scores", pa.string()),  # JSON list of {storey_id, name, level_index, area_m2, score, convertible}
        ("difficulty", pa.string()),  # light | medium | heavy | NULL
        ("converted_area_m2", pa.float64()),
        ("dwellings", pa.float64()),
        ("residents", pa.float64()),
        ("pupils", pa.float64()),
        ("workstations", pa.float64()),
        ("cost_low_eur", pa.float64()),
        ("cost_high_eur", pa.float64()),
    ]
)
CRITERIA_SCHEMA = pa.schema(
    [
        ("building_id", TEXT),
        ("path", TEXT),
        ("storey_id", TEXT),  # NULL: building level (for a per-storey criterion: the worst storey)
        ("criterion", TEXT),
        ("label", TEXT),
        ("value", pa.float64()),
        ("unit", TEXT),
        ("threshold", pa.float64()),
        ("worst", pa.float64()),
        ("veto_threshold", pa.float64()),
        ("source", TEXT),
        ("status", TEXT),  # pass | fail | unknown
        ("weight", pa.float64()),
        ("is_veto", pa.bool_()),  # the criterion can veto on this path
        ("vetoed", pa.bool_()),  # ... and it does here (NULL when unknown)
        ("fraction", pa.float64()),  # criterion score 0-1 (NULL when unknown)
        ("evidence", TEXT),
        ("note", TEXT),
    ]
)


@dataclass(frozen=True)
class Assessment:
    """Results (:data:`RESULT_SCHEMA`: one row per building and path) and criteria (:data:`CRITERIA_SCHEMA`)."""

    results: pa.Table
    criteria: pa.Table


def applicable_paths(rules: Rules, use: str | None) -> list[str]:
    """The paths of ``rules`` that start from ``use`` (paths from ``any`` apply to every building).

    >>> from buildings.reversibility_rules import default_rules
    >>> applicable_paths(default_rules(), "office")
    ['office->housing', 'any->school']
    >>> applicable_paths(default_rules(), None)
    ['any->school']
    """
    return [name for name, p in rules.paths.items() if "any" in p.from_ or (use is not None and use in p.from_)]


def criterion_scores(
    values: np.ndarray,
    direction: str,
    threshold: float,
    worst: float | None,
    veto: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score fraction (NaN unknown), pass (bool), vetoed (bool) of measured ``values`` against one criterion.

    >>> f, ok, vetoed = criterion_scores(np.array([2.95, 2.6, 2.3, np.nan]), "min", 2.70, 2.50, 2.50)
    >>> f.round(2).tolist(), ok.tolist(), vetoed.tolist()
    ([1.0, 0.5, 0.0, nan], [True, False, False, False], [False, False, True, False])
    """
    sign = 1.0 if direction == "min" else -1.0
    x = sign * np.round(values, 3)
    t = sign * threshold
    u = sign * worst if worst is not None else t
    known = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((x - u) / (t - u), 0.0, 1.0) if t > u else (x >= t).astype(float)
    fraction = np.where(known, fraction, np.nan)
    passed = known & (x >= t)
    vetoed = known & (x < sign * veto) if veto is not None else np.zeros(len(x), bool)
    return fraction, passed, vetoed


def assess(
    measures: Measures,
    buildings: pa.Table,
    rules: Rules,
    paths: list[str] | None = None,
    *,
    carbon: pa.Table | None = None,
    force: bool = False,
    force_unknown_use: bool = False,
) -> Assessment:
    """Score every building of ``buildings`` on its applicable paths; pure and vectorised over buildings.

    Parameters
    ----------
    measures:
        From :func:`~buildings.reversibility_measures.measure_ifc` / ``measure_gis`` (concatenated).
    buildings:
        building_id, use, route (``ifc`` or ``gis``): which paths apply and how the result was reached.
    rules:
        The rule file (:func:`~buildings.reversibility_rules.load_rules`).
    paths:
        Only these paths (names of ``rules.paths``; an unknown name is a TwinError). Default: all.
    carbon:
        Optional per-building table from :func:`buildings.carbon.structure_carbon` (not used in the score).
    force:
        Assess the given paths even for buildings whose current use is not the path's origin (a path asked
        for explicitly on given buildings).
    force_unknown_use:
        Assess every path for buildings whose current use is unknown (a study of one building asked for
        explicitly); otherwise they get the paths from ``any`` only.

    Returns
    -------
    Assessment
        One result row per (building, applicable path) and one criteria row per building-level criterion
        and per storey for per-storey criteria (plus a building-level summary row giving the worst storey).
    """
    names = list(rules.paths) if paths is None else paths
    for name in names:
        rules.path(name)  # unknown path -> TwinError
    prep = _prepare(measures, buildings)
    results, criteria = [], []
    uses = np.array(buildings["use"].to_pylist(), dtype=object)
    for name in names:
        rule = rules.paths[name]
        if force or "any" in rule.from_:
            mask = np.ones(len(uses), bool)
        else:
            mask = np.isin(uses, np.array(rule.from_, dtype=object))
            if force_unknown_use:
                mask |= np.array([u is None for u in uses], bool)
        if not mask.any():
            continue
        r, c = _assess_path(prep, buildings.filter(pa.array(mask)), mask, rules, name, rule)
        results.append(r)
        criteria.append(c)
    return Assessment(
        pa.concat_tables(results) if results else RESULT_SCHEMA.empty_table(),
        pa.concat_tables(criteria) if criteria else CRITERIA_SCHEMA.empty_table(),
    )


@dataclass(frozen=True)
class _Prepared:
    """The measures as integer codes, computed once per assessment (no string work per path)."""

    crit: pa.Table
    row_b: np.ndarray  # building index of each measure row (-1: not assessed)
    row_s: np.ndarray  # storey index of each measure row (-1: building level)
    code: np.ndarray  # index of the criterion in CRITERIA
    values: np.ndarray
    storeys: pa.Table
    s_building: np.ndarray
    s_level: np.ndarray  # NaN for a GIS pseudo-storey
    s_levels: np.ndarray
    s_area: np.ndarray


def _index(values: pa.ChunkedArray | pa.Array, value_set: pa.Array) -> np.ndarray:
    """Position of each value in ``value_set`` (-1 when absent or null); dictionaries are looked up once."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        table = _index(values.dictionary, value_set)
        codes = np.asarray(pc.fill_null(values.indices, -1).to_numpy(zero_copy_only=False), np.int64)
        return np.where(codes >= 0, table[np.maximum(codes, 0)] if len(table) else -1, -1)
    found = pc.index_in(values, value_set=value_set)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _prepare(measures: Measures, buildings: pa.Table) -> _Prepared:
    crit = measures.criteria
    if any(column.num_chunks > 1 for column in crit.columns):
        crit = crit.unify_dictionaries()
    crit = crit.combine_chunks()
    storeys = measures.storeys.combine_chunks()
    ids = buildings["building_id"].combine_chunks()
    level = pc.cast(storeys["level_index"], pa.float64()).fill_null(np.nan)
    return _Prepared(
        crit=crit,
        row_b=_index(crit["building_id"], ids),
        row_s=_index(crit["storey_id"], storeys["storey_id"].combine_chunks()),
        code=_index(crit["criterion"], pa.array(list(CRITERIA), pa.string())),
        values=crit["value"].to_numpy(zero_copy_only=False).astype(float),
        storeys=storeys,
        s_building=_index(storeys["building_id"], ids),
        s_level=np.asarray(level.to_numpy(zero_copy_only=False), float),
        s_levels=storeys["levels"].to_numpy(zero_copy_only=False).astype(float),
        s_area=storeys["area_m2"].to_numpy(zero_copy_only=False).astype(float),
    )


def _assess_path(
    prep: _Prepared, buildings: pa.Table, mask: np.ndarray, rules: Rules, name: str, rule: PathRule
) -> tuple[pa.Table, pa.Table]:
    p = rules.parameters
    ids = buildings["building_id"]
    nb = len(ids)
    local = np.cumsum(mask) - 1  # global building index -> index among the buildings of this path
    codes = np.array([list(CRITERIA).index(k) for k in rule.criteria])
    pseudo_all = np.isnan(prep.s_level)
    if rule.storeys == "all":
        scope = np.ones(len(pseudo_all), bool)
    elif rule.storeys == "ground":
        scope = pseudo_all | (prep.s_level == 0)
    else:
        scope = pseudo_all | (prep.s_level >= 0)
    s_sel = np.flatnonzero((prep.s_building >= 0) & mask[np.maximum(prep.s_building, 0)] & scope)
    s_local = np.full(len(pseudo_all), -1, np.int64)
    s_local[s_sel] = np.arange(len(s_sel))
    storeys = prep.storeys.take(pa.array(s_sel, pa.int64()))
    ns = len(s_sel)
    s_building = local[prep.s_building[s_sel]]
    s_levels = prep.s_levels[s_sel]
    s_area = prep.s_area[s_sel]
    if rule.storeys == "ground":  # a pseudo-storey (GIS) stands for all levels: keep one
        pseudo = pseudo_all[s_sel]
        s_area = np.where(pseudo, s_area / np.maximum(s_levels, 1), s_area)
        s_levels = np.where(pseudo, 1.0, s_levels)
    # Area weights of the storeys within their building (fallback: levels when an area is unknown).
    area_known_all = np.ones(nb, bool)
    np.logical_and.at(area_known_all, s_building, ~np.isnan(s_area))
    s_weight = np.where(area_known_all[s_building], np.nan_to_num(s_area), s_levels)
    total_weight = np.bincount(s_building, s_weight, minlength=nb)

    rows = np.flatnonzero((prep.row_b >= 0) & mask[np.maximum(prep.row_b, 0)] & np.isin(prep.code, codes))
    crit = prep.crit.take(pa.array(rows, pa.int64()))
    values = prep.values[rows]
    row_b = local[prep.row_b[rows]]
    row_s = np.full(len(rows), -1, np.int64)
    if len(s_local):
        row_s = np.where(prep.row_s[rows] >= 0, s_local[np.maximum(prep.row_s[rows], 0)], -1)
    keys = list(rule.criteria)
    path_pos = np.full(len(CRITERIA), -1, np.int64)
    path_pos[codes] = np.arange(len(codes))
    rk = path_pos[prep.code[rows]]  # position of each row's criterion among the path's criteria

    total_w = sum(c.weight for c in rule.criteria.values()) or 1.0
    low = np.zeros(nb)
    high = np.zeros(nb)
    known_w = np.zeros(nb)
    b_veto = np.zeros(nb, bool)
    b_veto_unknown = np.zeros(nb, bool)
    s_low = np.zeros(ns)  # per-storey sums of the per-storey criteria
    s_high = np.zeros(ns)
    s_veto = np.zeros(ns, bool)
    s_veto_unknown = np.zeros(ns, bool)
    vetoes: dict[int, list[dict[str, object]]] = {}

    n_rows = crit.num_rows
    out_fraction = np.full(n_rows, np.nan)
    out_status = np.full(n_rows, 2, np.int32)  # 0 pass, 1 fail, 2 unknown
    out_vetoed = np.zeros(n_rows, bool)
    out_threshold = np.full(n_rows, np.nan)
    out_worst = np.full(n_rows, np.nan)
    out_veto = np.full(n_rows, np.nan)
    out_weight = np.zeros(n_rows)
    out_keep = np.ones(n_rows, bool)
    summaries: list[pa.Table] = []
    s_veto_by: dict[int, set[str]] = {}  # storey -> criteria that veto it

    for j, (key, c) in enumerate(rule.criteria.items()):
        info = CRITERIA[key]
        threshold = c.threshold if c.threshold is not None else rules.imposed_loads_kn_m2[rule.to]
        worst = c.worst
        idx = np.flatnonzero(rk == j)
        frac, ok, vet = criterion_scores(values[idx], info.direction, threshold, worst, c.veto)
        out_fraction[idx] = frac
        out_status[idx] = np.where(np.isnan(frac), 2, np.where(ok, 0, 1))
        out_vetoed[idx] = vet
        out_threshold[idx] = threshold
        out_worst[idx] = worst if worst is not None else threshold
        out_veto[idx] = c.veto if c.veto is not None else np.nan
        out_weight[idx] = c.weight
        if not info.per_storey:
            rb = row_b[idx]
            known = ~np.isnan(frac)
            np.add.at(low, rb[known], c.weight * frac[known])
            np.add.at(high, rb, c.weight * np.where(known, frac, 1.0))
            np.add.at(known_w, rb[known], c.weight)
            missing = np.ones(nb, bool)
            missing[rb] = False  # a building without this measure: unknown
            high += c.weight * missing
            if c.veto is not None:
                b_veto[rb[vet]] = True
                b_veto_unknown[rb[~known]] = True
                b_veto_unknown |= missing
                for i in idx[vet]:
                    vetoes.setdefault(int(row_b[i]), []).append(_veto_entry(key, values[i], c.veto))
            continue
        # Per storey: only the storeys in scope.
        rs = row_s[idx]
        in_scope = rs >= 0
        out_keep[idx[~in_scope]] = False
        idx, frac, vet, rs = idx[in_scope], frac[in_scope], vet[in_scope], rs[in_scope]
        known = ~np.isnan(frac)
        np.add.at(s_low, rs[known], c.weight * frac[known])
        np.add.at(s_high, rs, c.weight * np.where(known, frac, 1.0))
        covered = np.zeros(ns, bool)
        covered[rs] = True
        s_high += c.weight * ~covered
        w = s_weight[rs]
        sums_low = np.bincount(row_b[idx][known], w[known] * frac[known], minlength=nb)
        sums_high = np.bincount(row_b[idx], w * np.where(known, frac, 1.0), minlength=nb)
        sums_high += np.bincount(s_building[~covered], s_weight[~covered], minlength=nb)
        sums_known = np.bincount(row_b[idx][known], w[known], minlength=nb)
        with np.errstate(invalid="ignore", divide="ignore"):
            low += c.weight * np.where(total_weight > 0, sums_low / total_weight, 0.0)
            high += c.weight * np.where(total_weight > 0, sums_high / total_weight, 1.0)
            known_w += c.weight * np.where(total_weight > 0, sums_known / total_weight, 0.0)
        if c.veto is not None:
            s_veto[rs[vet]] = True
            s_veto_unknown[rs[~known]] = True
            s_veto_unknown |= ~covered
            for j in rs[vet].tolist():
                s_veto_by.setdefault(j, set()).add(key)
        summaries.append(_storey_summaries(name, key, c, threshold, crit, idx, row_b[idx], values, frac, vet))

    # Storey vetoes -> building veto when they hold more than the allowed share of the floor area.
    share_vetoed = np.bincount(s_building, s_weight * s_veto, minlength=nb)
    share_unknown = np.bincount(s_building, s_weight * (s_veto_unknown & ~s_veto), minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_vetoed = np.where(total_weight > 0, share_vetoed / total_weight, 0.0)
        share_unknown = np.where(total_weight > 0, share_unknown / total_weight, 0.0)
    limit = p.storey_veto_share
    storey_vetoed = share_vetoed > limit
    storey_maybe = ~storey_vetoed & (share_vetoed + share_unknown > limit)
    has_storey_veto = any(rule.criteria[k].veto is not None and CRITERIA[k].per_storey for k in rule.criteria)
    no_storeys = total_weight <= 0
    hits: dict[int, list[int]] = {}
    for j in sorted(s_veto_by):
        hits.setdefault(int(s_building[j]), []).append(j)
    storey_names = storeys["name"].to_pylist() if storey_vetoed.any() else []
    for i in np.where(storey_vetoed)[0]:
        hit = hits.get(int(i), [])
        vetoes.setdefault(int(i), []).append(
            {
                "criterion": ",".join(sorted(set().union(*(s_veto_by[j] for j in hit)))) or "storeys",
                "storeys": [storey_names[j] for j in hit],
                "share": round(float(share_vetoed[i]), 3),
                "reason": f"{len(hit)} storeys vetoed ({', '.join(str(storey_names[j]) for j in hit[:8])}) hold "
                f"{share_vetoed[i]:.0%} of the floor area in scope (more than {limit:.0%})",
            }
        )
    vetoed = b_veto | storey_vetoed
    maybe = b_veto_unknown | storey_maybe | (no_storeys & has_storey_veto)

    score = 100.0 * low / total_w
    score_max = 100.0 * high / total_w
    coverage = known_w / total_w

    # Per storey scores: building-level part + the storey's own per-storey criteria.
    building_part = _building_level_low(rule, row_b, rk, out_fraction, nb)
    storey_score = 100.0 * (building_part[s_building] + s_low) / total_w if ns else np.zeros(0)
    storey_ok = ~s_veto & ~b_veto[s_building]
    converted = np.bincount(s_building, np.where(storey_ok, s_area, 0.0), minlength=nb)
    area_unknown = np.bincount(s_building, np.isnan(s_area) & storey_ok, minlength=nb) > 0
    converted = np.where(area_unknown | no_storeys, np.nan, converted)
    converted = np.where(vetoed, 0.0, converted)

    dwellings = workstations = pupils = residents = np.full(nb, np.nan)
    if rule.to == "housing":
        dwellings = np.floor(converted * p.net_to_gross / p.mean_dwelling_m2)
        residents = dwellings * p.household_size
        pupils = dwellings * p.pupils_per_dwelling
    elif rule.to == "school":
        pupils = np.floor(converted / p.m2_per_pupil)
    elif rule.to == "office":
        workstations = np.floor(converted * p.net_to_gross / p.m2_per_workstation)
    light, medium = p.difficulty_score["light"], p.difficulty_score["medium"]
    level = np.where(score >= light, 0, np.where(score >= medium, 1, 2))  # light, medium, heavy
    bands = np.array([p.cost_eur_m2[d] for d in ("light", "medium", "heavy")], float)
    cost_low = np.where(vetoed, np.nan, bands[level, 0] * converted)
    cost_high = np.where(vetoed, np.nan, bands[level, 1] * converted)

    storey_json = _storey_json(storeys, s_building, storey_score, s_veto, s_veto_unknown, b_veto, nb)
    results = pa.table(
        {
            "building_id": ids,
            "path": pa.array([name] * nb, pa.string()),
            "route": buildings["route"],
            "rules_version": pa.array([rules.version] * nb, pa.string()),
            "convertible": pa.array(~vetoed, mask=maybe & ~vetoed),
            "vetoes": pa.array(_veto_json(vetoes, nb), pa.string()),
            "score": pa.array(np.round(score, 2)),
            "score_max": pa.array(np.round(score_max, 2)),
            "coverage": pa.array(np.round(coverage, 4)),
            "storey_scores": pa.array(storey_json, pa.string()),
            "difficulty": pa.array(
                np.array(["light", "medium", "heavy"], dtype=object)[level], pa.string(), mask=vetoed
            ),
            "converted_area_m2": _nullable(converted),
            "dwellings": _nullable(dwellings),
            "residents": _nullable(residents),
            "pupils": _nullable(pupils),
            "workstations": _nullable(workstations),
            "cost_low_eur": _nullable(cost_low),
            "cost_high_eur": _nullable(cost_high),
        },
        schema=RESULT_SCHEMA,
    )
    pseudo_rows = (row_s >= 0) & pseudo_all[s_sel][np.maximum(row_s, 0)] if ns else np.zeros(len(rows), bool)
    keep_idx = np.flatnonzero(out_keep & ~pseudo_rows)  # GIS pseudo-storey rows: their summary rows stand for them
    kept = crit.take(pa.array(keep_idx, pa.int64()))
    k = rk[keep_idx]
    is_veto = np.array([rule.criteria[key].veto is not None for key in keys], bool)[k]
    fraction = out_fraction[keep_idx]
    criteria = pa.table(
        {
            "building_id": kept["building_id"],
            "path": _text(np.zeros(len(keep_idx), np.int32), [name]),
            "storey_id": kept["storey_id"],
            "criterion": kept["criterion"],
            "label": _text(k, [CRITERIA[key].label for key in keys]),
            "value": _nullable(values[keep_idx]),
            "unit": _text(k, [CRITERIA[key].unit for key in keys]),
            "threshold": pa.array(out_threshold[keep_idx]),
            "worst": pa.array(out_worst[keep_idx]),
            "veto_threshold": pa.array(out_veto[keep_idx], mask=np.isnan(out_veto[keep_idx])),
            "source": _text(k, [rule.criteria[key].source for key in keys]),
            "status": _text(out_status[keep_idx], ["pass", "fail", "unknown"]),
            "weight": pa.array(out_weight[keep_idx]),
            "is_veto": pa.array(is_veto),
            "vetoed": pa.array(out_vetoed[keep_idx], mask=np.isnan(fraction) & is_veto),
            "fraction": pa.array(fraction, mask=np.isnan(fraction)),
            "evidence": kept["evidence"],
            "note": kept["note"],
        },
        schema=CRITERIA_SCHEMA,
    )
    # The summary rows of per-storey criteria stand at building level; GIS pseudo-storey rows are replaced by them.
    criteria = pa.concat_tables([criteria, *summaries])
    return results, criteria


def _text(codes: np.ndarray, texts: list[str]) -> pa.Array:
    """Strings from integer codes into ``texts``, built in Arrow (no Python string per row)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(texts, pa.string()))


def _nullable(values: np.ndarray) -> pa.Array:
    """Floats with NaN (unknown) as null."""
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _veto_json(vetoes: dict[int, list[dict[str, object]]], nb: int) -> np.ndarray:
    out = np.full(nb, "[]", dtype=object)
    for i, found in vetoes.items():
        out[i] = json.dumps(found, ensure_ascii=False)
    return out


def _encoded(values: pa.Array | list[str]) -> pa.Array:
    if isinstance(values, list):
        return pc.dictionary_encode(pa.array(values, pa.string())).cast(TEXT)
    return values


def _building_level_low(
    rule: PathRule, row_b: np.ndarray, rk: np.ndarray, fraction: np.ndarray, nb: int
) -> np.ndarray:
    total = np.zeros(nb)
    for j, (key, c) in enumerate(rule.criteria.items()):
        if CRITERIA[key].per_storey:
            continue
        idx = np.flatnonzero((rk == j) & ~np.isnan(fraction))
        np.add.at(total, row_b[idx], c.weight * fraction[idx])
    return total


def _veto_entry(criterion: str, value: float, veto: float) -> dict[str, object]:
    info = CRITERIA[criterion]
    unit = info.unit
    beyond = "below" if info.direction == "min" else "above"
    return {
        "criterion": criterion,
        "value": round(float(value), 3),
        "veto": veto,
        "reason": f"{info.label} {value:.2f} {unit} is {beyond} the veto value {veto:g} {unit}",
    }


def _storey_summaries(
    path: str,
    key: str,
    c: CriterionRule,
    threshold: float,
    crit: pa.Table,
    idx: np.ndarray,
    buildings: np.ndarray,
    values: np.ndarray,
    frac: np.ndarray,
    vet: np.ndarray,
) -> pa.Table:
    """Building-level rows of a per-storey criterion: the worst storey's value and evidence, the worst status.

    Status: ``fail`` if a storey fails, else ``unknown`` if a storey is unknown, else ``pass``. Vectorised; the
    GlobalIds of all the storeys are merged only for buildings with several storeys (IFC).
    """
    info = CRITERIA[key]
    if len(idx) == 0:
        return CRITERIA_SCHEMA.empty_table()
    known = ~np.isnan(frac)
    sort_key = np.where(known, frac, np.inf)
    # Among storeys that score alike (e.g. all pass), the worst is the one with the least margin: the lowest
    # value when higher is better (threshold above the score-0 value), else the highest.
    raw = values[idx]
    higher_is_better = c.worst is None or c.worst <= threshold
    tie = np.where(np.isnan(raw), np.inf, raw if higher_is_better else -raw)
    order = np.lexsort((tie, sort_key, buildings))
    b_sorted = buildings[order]
    starts = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    pick = order[starts]  # the worst known storey of each building (or the first when none is known)
    fails = np.logical_or.reduceat((known & (frac < 1.0))[order], starts)
    unknowns = np.logical_or.reduceat(~known[order], starts)
    n_known = np.add.reduceat(known[order].astype(np.int64), starts)
    vetoed = np.logical_or.reduceat(vet[order], starts)
    frac_sum = np.add.reduceat(np.where(known, frac, 0.0)[order], starts)
    status = np.where(fails, 1, np.where(unknowns, 2, 0))
    picked = pa.array(idx[pick], pa.int64())
    evidence: pa.Array | list[str] = crit["evidence"].take(picked)
    notes: pa.Array | list[str] = crit["note"].take(picked)
    several = np.flatnonzero(counts > 1)
    if len(several):  # IFC buildings with several storeys: merge their GlobalIds, say which storey is the worst
        evidence = crit["evidence"].take(picked).to_pylist()
        notes = crit["note"].take(picked).to_pylist()
        for g in several:
            members = pa.array(idx[order[starts[g] : starts[g] + counts[g]]], pa.int64())
            ids: set[str] = set()
            for e in crit["evidence"].take(members).to_pylist():
                ids.update(json.loads(e).get("ifc", []))
            merged = json.loads(evidence[g])
            merged["ifc"] = sorted(ids)
            evidence[g] = json.dumps(merged, ensure_ascii=False)
            notes[g] = f"worst of {counts[g]} storeys ({n_known[g]} known): {notes[g]}"
    value = np.where(known[pick], values[idx[pick]], np.nan)
    n = len(starts)
    mean_frac = np.where(n_known > 0, frac_sum / np.maximum(n_known, 1), np.nan)
    veto_known = vetoed | (n_known == counts) | (c.veto is None)
    return pa.table(
        {
            "building_id": crit["building_id"].take(picked),
            "path": _text(np.zeros(n, np.int32), [path]),
            "storey_id": pa.nulls(n, TEXT),
            "criterion": _text(np.zeros(n, np.int32), [key]),
            "label": _text(np.zeros(n, np.int32), [info.label]),
            "value": _nullable(value),
            "unit": _text(np.zeros(n, np.int32), [info.unit]),
            "threshold": pa.array(np.full(n, threshold)),
            "worst": pa.array(np.full(n, c.worst if c.worst is not None else threshold)),
            "veto_threshold": pa.array([c.veto] * n, pa.float64()),
            "source": _text(np.zeros(n, np.int32), [c.source]),
            "status": _text(status, ["pass", "fail", "unknown"]),
            "weight": pa.array(np.full(n, c.weight)),
            "is_veto": pa.array(np.full(n, c.veto is not None)),
            "vetoed": pa.array(vetoed, mask=~veto_known),
            "fraction": pa.array(mean_frac, mask=np.isnan(mean_frac)),
            "evidence": _encoded(evidence),
            "note": _encoded(notes),
        },
        schema=CRITERIA_SCHEMA,
    )


def _storey_json(
    storeys: pa.Table,
    s_building: np.ndarray,
    score: np.ndarray,
    s_veto: np.ndarray,
    s_veto_unknown: np.ndarray,
    b_veto: np.ndarray,
    nb: int,
) -> list[str]:
    if storeys.num_rows == 0 or storeys["level_index"].null_count == storeys.num_rows:
        return ["[]"] * nb  # GIS pseudo-storeys only: no storey to list
    out: list[list[dict[str, object]]] = [[] for _ in range(nb)]
    level = storeys["level_index"].to_pylist()
    real = np.array([v is not None for v in level])
    sid = storeys["storey_id"].to_pylist()
    names = storeys["name"].to_pylist()
    area = storeys["area_m2"].to_pylist()
    for j in np.where(real)[0]:
        ok: bool | None = False if (s_veto[j] or b_veto[s_building[j]]) else (None if s_veto_unknown[j] else True)
        out[s_building[j]].append(
            {
                "storey_id": sid[j],
                "name": names[j],
                "level_index": level[j],
                "area_m2": None if area[j] is None or np.isnan(area[j]) else round(area[j], 1),
                "score": round(float(score[j]), 2),
                "convertible": ok,
            }
        )
    return [json.dumps(sorted(o, key=lambda r: r["level_index"]), ensure_ascii=False) for o in out]
