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
The scenarios engine calls :func:`assess` with its own measures and rules.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from buildings.reversibility_measures import Measures
from buildings.reversibility_rules import CRITERIA, PathRule, Rules

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
        ("building_id", pa.string()),
        ("path", pa.string()),
        ("storey_id", pa.string()),  # NULL: building level (for a per-storey criterion: the worst storey)
        ("criterion", pa.string()),
        ("label", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("threshold", pa.float64()),
        ("worst", pa.float64()),
        ("veto_threshold", pa.float64()),
        ("source", pa.string()),
        ("status", pa.string()),  # pass | fail | unknown
        ("weight", pa.float64()),
        ("is_veto", pa.bool_()),  # the criterion can veto on this path
        ("vetoed", pa.bool_()),  # ... and it does here (NULL when unknown)
        ("fraction", pa.float64()),  # criterion score 0-1 (NULL when unknown)
        ("evidence", pa.string()),
        ("note", pa.string()),
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


def _in_scope(storeys: pa.Table, scope: str) -> np.ndarray:
    level = storeys["level_index"].to_numpy(zero_copy_only=False)
    level = np.array([np.nan if v is None else v for v in level], float) if level.dtype == object else level
    pseudo = np.isnan(level.astype(float))
    if scope == "all":
        return np.ones(storeys.num_rows, bool)
    if scope == "ground":
        return pseudo | (level == 0)
    return pseudo | (level >= 0)


def assess(
    measures: Measures,
    buildings: pa.Table,
    rules: Rules,
    paths: list[str] | None = None,
    *,
    carbon: pa.Table | None = None,
    force: bool = False,
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
        Assess the given paths even for buildings whose current use is not the path's origin (a study of one
        building asked for explicitly).

    Returns
    -------
    Assessment
        One result row per (building, applicable path) and one criteria row per building-level criterion
        and per storey for per-storey criteria (plus a building-level summary row giving the worst storey).
    """
    names = list(rules.paths) if paths is None else paths
    for name in names:
        rules.path(name)  # unknown path -> TwinError
    results, criteria = [], []
    uses = buildings["use"].to_pylist()
    for name in names:
        rule = rules.paths[name]
        mask = np.array(
            [force or "any" in rule.from_ or (u is not None and u in rule.from_) for u in uses], dtype=bool
        )
        if not mask.any():
            continue
        r, c = _assess_path(measures, buildings.filter(pa.array(mask)), rules, name, rule)
        results.append(r)
        criteria.append(c)
    return Assessment(
        pa.concat_tables(results) if results else RESULT_SCHEMA.empty_table(),
        pa.concat_tables(criteria) if criteria else CRITERIA_SCHEMA.empty_table(),
    )


def _assess_path(
    measures: Measures, buildings: pa.Table, rules: Rules, name: str, rule: PathRule
) -> tuple[pa.Table, pa.Table]:
    p = rules.parameters
    ids = buildings["building_id"]
    nb = len(ids)
    index = {b: i for i, b in enumerate(ids.to_pylist())}
    crit = measures.criteria
    keep = pc.is_in(crit["building_id"], value_set=ids.combine_chunks() if nb else pa.array([], pa.string()))
    crit = crit.filter(keep)
    crit = crit.filter(pc.is_in(crit["criterion"], value_set=pa.array(list(rule.criteria), pa.string())))
    storeys = measures.storeys.filter(
        pc.is_in(
            measures.storeys["building_id"], value_set=ids.combine_chunks() if nb else pa.array([], pa.string())
        )
    )
    storeys = storeys.filter(pa.array(_in_scope(storeys, rule.storeys))) if storeys.num_rows else storeys
    s_index = {s: i for i, s in enumerate(storeys["storey_id"].to_pylist())}
    ns = storeys.num_rows
    s_building = np.array([index[b] for b in storeys["building_id"].to_pylist()], dtype=np.int64)
    s_levels = storeys["levels"].to_numpy(zero_copy_only=False).astype(float)
    s_area = storeys["area_m2"].to_numpy(zero_copy_only=False).astype(float)
    if rule.storeys == "ground":  # a pseudo-storey (GIS) stands for all levels: keep one
        pseudo = np.isnan(
            np.array([np.nan if v is None else v for v in storeys["level_index"].to_pylist()], float)
        )
        s_area = np.where(pseudo, s_area / np.maximum(s_levels, 1), s_area)
        s_levels = np.where(pseudo, 1.0, s_levels)
    # Area weights of the storeys within their building (fallback: levels when an area is unknown).
    area_known_all = np.ones(nb, bool)
    np.logical_and.at(area_known_all, s_building, ~np.isnan(s_area))
    s_weight = np.where(area_known_all[s_building], np.nan_to_num(s_area), s_levels)
    total_weight = np.bincount(s_building, s_weight, minlength=nb)

    b_ids = crit["building_id"].to_pylist()
    s_ids = crit["storey_id"].to_pylist()
    names = crit["criterion"].to_pylist()
    values = crit["value"].to_numpy(zero_copy_only=False).astype(float)
    row_b = np.array([index[b] for b in b_ids], dtype=np.int64)
    row_s = np.array([s_index.get(s, -1) if s is not None else -1 for s in s_ids], dtype=np.int64)
    names_arr = np.array(names, dtype=object)

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
    vetoes: list[list[dict[str, object]]] = [[] for _ in range(nb)]
    storey_names = storeys["name"].to_pylist()

    n_rows = crit.num_rows
    out_fraction = np.full(n_rows, np.nan)
    out_status = np.full(n_rows, "unknown", dtype=object)
    out_vetoed = np.zeros(n_rows, bool)
    out_threshold = np.full(n_rows, np.nan)
    out_worst = np.full(n_rows, np.nan)
    out_veto = np.full(n_rows, np.nan)
    out_weight = np.zeros(n_rows)
    out_keep = np.ones(n_rows, bool)
    summary_rows: list[dict[str, object]] = []

    for key, c in rule.criteria.items():
        info = CRITERIA[key]
        threshold = c.threshold if c.threshold is not None else rules.imposed_loads_kn_m2[rule.to]
        worst = c.worst
        sel = names_arr == key
        idx = np.where(sel)[0]
        frac, ok, vet = criterion_scores(values[idx], info.direction, threshold, worst, c.veto)
        out_fraction[idx] = frac
        out_status[idx] = np.where(np.isnan(frac), "unknown", np.where(ok, "pass", "fail"))
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
                    vetoes[row_b[i]].append(_veto_entry(key, values[i], c.veto))
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
        summary_rows += _storey_summaries(name, key, c, info, threshold, crit, idx, values, frac, vet)

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
    for i in np.where(storey_vetoed)[0]:
        hit = [j for j in np.where((s_building == i) & s_veto)[0]]
        reason_rows = [r for r in summary_rows if r["building_id"] == ids[i].as_py() and r["vetoed"]]
        vetoes[i].append(
            {
                "criterion": ",".join(sorted({str(r["criterion"]) for r in reason_rows})) or "storeys",
                "storeys": [storey_names[j] for j in hit],
                "share": round(float(share_vetoed[i]), 3),
                "reason": f"{len(hit)} storeys vetoed ({', '.join(str(storey_names[j]) for j in hit[:8])}) hold "
                f"{share_vetoed[i]:.0%} of the floor area in scope (more than {limit:.0%})",
            }
        )
    vetoed = b_veto | storey_vetoed
    maybe = b_veto_unknown | storey_maybe | (no_storeys & has_storey_veto)
    convertible = np.where(vetoed, False, np.where(maybe, None, True))

    score = 100.0 * low / total_w
    score_max = 100.0 * high / total_w
    coverage = known_w / total_w

    # Per storey scores: building-level part + the storey's own per-storey criteria.
    building_part = _building_level_low(rule, row_b, names_arr, out_fraction, nb)
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
    difficulty = np.where(score >= light, "light", np.where(score >= medium, "medium", "heavy")).astype(object)
    difficulty[vetoed] = None
    cost = p.cost_eur_m2
    cost_low = np.array([cost[d][0] if d else np.nan for d in difficulty]) * converted
    cost_high = np.array([cost[d][1] if d else np.nan for d in difficulty]) * converted

    storey_json = _storey_json(storeys, s_building, storey_score, s_veto, s_veto_unknown, b_veto, nb)
    results = pa.table(
        {
            "building_id": ids,
            "path": pa.array([name] * nb, pa.string()),
            "route": buildings["route"],
            "rules_version": pa.array([rules.version] * nb, pa.string()),
            "convertible": pa.array(convertible.tolist(), pa.bool_()),
            "vetoes": pa.array([json.dumps(v, ensure_ascii=False) for v in vetoes], pa.string()),
            "score": pa.array(np.round(score, 2)),
            "score_max": pa.array(np.round(score_max, 2)),
            "coverage": pa.array(np.round(coverage, 4)),
            "storey_scores": pa.array(storey_json, pa.string()),
            "difficulty": pa.array(difficulty.tolist(), pa.string()),
            "converted_area_m2": pa.array(converted),
            "dwellings": pa.array(dwellings),
            "residents": pa.array(residents),
            "pupils": pa.array(pupils),
            "workstations": pa.array(workstations),
            "cost_low_eur": pa.array(cost_low),
            "cost_high_eur": pa.array(cost_high),
        },
        schema=RESULT_SCHEMA,
    )
    keep_idx = np.where(out_keep)[0]
    labels = {k: CRITERIA[k].label for k in rule.criteria}
    units = {k: CRITERIA[k].unit for k in rule.criteria}
    sources = {k: c.source for k, c in rule.criteria.items()}
    kept = crit.take(pa.array(keep_idx, pa.int64()))
    kept_names = names_arr[keep_idx]
    is_veto = np.array([rule.criteria[k].veto is not None for k in kept_names], bool)
    fraction = out_fraction[keep_idx]
    criteria = pa.table(
        {
            "building_id": kept["building_id"],
            "path": pa.array([name] * len(keep_idx), pa.string()),
            "storey_id": kept["storey_id"],
            "criterion": kept["criterion"],
            "label": pa.array([labels[k] for k in kept_names], pa.string()),
            "value": kept["value"],
            "unit": pa.array([units[k] for k in kept_names], pa.string()),
            "threshold": pa.array(out_threshold[keep_idx]),
            "worst": pa.array(out_worst[keep_idx]),
            "veto_threshold": pa.array(out_veto[keep_idx], mask=np.isnan(out_veto[keep_idx])),
            "source": pa.array([sources[k] for k in kept_names], pa.string()),
            "status": pa.array(out_status[keep_idx].tolist(), pa.string()),
            "weight": pa.array(out_weight[keep_idx]),
            "is_veto": pa.array(is_veto),
            "vetoed": pa.array(
                np.where(np.isnan(fraction) & is_veto, None, out_vetoed[keep_idx]).tolist(), pa.bool_()
            ),
            "fraction": pa.array(fraction, mask=np.isnan(fraction)),
            "evidence": kept["evidence"],
            "note": kept["note"],
        },
        schema=CRITERIA_SCHEMA,
    )
    # The summary rows of per-storey criteria stand at building level; GIS pseudo-storey rows are replaced by them.
    real = pc.invert(pc.fill_null(pc.ends_with(criteria["storey_id"], "/all"), False))
    criteria = criteria.filter(real)
    if summary_rows:
        criteria = pa.concat_tables([criteria, pa.Table.from_pylist(summary_rows, CRITERIA_SCHEMA)])
    return results, criteria


def _building_level_low(
    rule: PathRule, row_b: np.ndarray, names: np.ndarray, fraction: np.ndarray, nb: int
) -> np.ndarray:
    total = np.zeros(nb)
    for key, c in rule.criteria.items():
        if CRITERIA[key].per_storey:
            continue
        idx = np.where((names == key) & ~np.isnan(fraction))[0]
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
    c: object,
    info: object,
    threshold: float,
    crit: pa.Table,
    idx: np.ndarray,
    values: np.ndarray,
    frac: np.ndarray,
    vet: np.ndarray,
) -> list[dict[str, object]]:
    """Building-level row of a per-storey criterion: the worst storey's value, the worst status."""
    from buildings.reversibility_rules import CriterionInfo, CriterionRule

    assert isinstance(c, CriterionRule) and isinstance(info, CriterionInfo)
    if len(idx) == 0:
        return []
    b_ids = np.array(crit["building_id"].take(pa.array(idx, pa.int64())).to_pylist(), dtype=object)
    notes = crit["note"].take(pa.array(idx, pa.int64())).to_pylist()
    evidence = crit["evidence"].take(pa.array(idx, pa.int64())).to_pylist()
    rows = []
    order = np.argsort(b_ids, kind="stable")
    b_sorted = b_ids[order]
    bounds = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1], True])
    for start, end in itertools.pairwise(bounds):
        members = order[start:end]
        v = values[idx[members]]
        f = frac[members]
        known = ~np.isnan(f)
        if known.any():
            pick = members[known][np.argmin(f[known] + 1e-9 * np.argsort(np.argsort(v[known])))]
            worst_value = values[idx[pick]]
        else:
            pick, worst_value = members[0], np.nan
        if (known & (f < 1.0)).any():
            status = "fail"  # the fraction reaches 1 exactly at the threshold: below 1 is a fail
        elif (~known).any():
            status = "unknown"
        else:
            status = "pass"
        any_veto = bool(vet[members].any())
        ids: list[str] = []
        for e in (evidence[m] for m in members):
            ids += json.loads(e).get("ifc", [])
        ev = json.loads(evidence[pick])
        if ids:
            ev["ifc"] = sorted(set(ids))
        n_known = int(known.sum())
        rows.append(
            {
                "building_id": str(b_sorted[start]),
                "path": path,
                "storey_id": None,
                "criterion": key,
                "label": info.label,
                "value": None if np.isnan(worst_value) else float(worst_value),
                "unit": info.unit,
                "threshold": threshold,
                "worst": c.worst if c.worst is not None else threshold,
                "veto_threshold": c.veto,
                "source": c.source,
                "status": status,
                "weight": c.weight,
                "is_veto": c.veto is not None,
                "vetoed": any_veto if (known.all() or any_veto or c.veto is None) else None,
                "fraction": float(np.mean(f[known])) if n_known else None,
                "evidence": json.dumps(ev, ensure_ascii=False),
                "note": f"worst of {len(members)} storeys ({n_known} known): {notes[pick]}",
            }
        )
    return rows


def _storey_json(
    storeys: pa.Table,
    s_building: np.ndarray,
    score: np.ndarray,
    s_veto: np.ndarray,
    s_veto_unknown: np.ndarray,
    b_veto: np.ndarray,
    nb: int,
) -> list[str]:
    out: list[list[dict[str, object]]] = [[] for _ in range(nb)]
    if storeys.num_rows == 0:
        return ["[]"] * nb
    level = storeys["level_index"].to_pylist()
    real = np.array([v is not None for v in level])
    if not real.any():
        return ["[]"] * nb
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
