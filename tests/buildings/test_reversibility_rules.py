"""The rule file and the scoring's invariants: typos named by line and key, scores in [0, 100], a stricter
threshold never raises a score, a new veto never makes a building convertible (hypothesis)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildings.reversibility import applicable_paths, assess, criterion_scores
from buildings.reversibility_measures import MEASURE_SCHEMA, STOREY_SCHEMA, Measures
from buildings.reversibility_rules import (
    CRITERIA,
    DEFAULT_RULES_PATH,
    Rules,
    default_rules,
    load_rules,
    parse_rules,
)
from twin import TwinError

RULES = default_rules()
TEXT = DEFAULT_RULES_PATH.read_text(encoding="utf-8")


def _line_of(fragment: str) -> int:
    return next(i for i, line in enumerate(TEXT.splitlines(), start=1) if fragment in line)


def test_the_default_rules_cover_the_five_paths_of_the_issue_with_sources() -> None:
    assert set(RULES.paths) == {
        "office->housing",
        "housing->office",
        "parking->commerce",
        "parking->housing",
        "any->school",
    }
    for path in RULES.paths.values():
        assert all(c.source for c in path.criteria.values())
    assert RULES.version and applicable_paths(RULES, "parking") == [
        "parking->commerce",
        "parking->housing",
        "any->school",
    ]


def test_a_typo_in_a_criterion_name_names_the_file_line_and_key(tmp_path: Path) -> None:
    file = tmp_path / "mine.yaml"
    file.write_text(TEXT.replace("      glazing: ", "      glasing: ", 1), encoding="utf-8")
    with pytest.raises(TwinError) as err:
        load_rules(file)
    line = _line_of("      glazing: ")
    assert str(err.value).startswith(f"{file}:{line}: paths.office->housing.criteria.glasing: unknown key")


def test_a_typo_in_a_field_names_the_line_and_key_even_when_fields_go_missing() -> None:
    text = TEXT.replace("depth:            {weight: 3,", "depth:            {wieght: 3,", 1)
    with pytest.raises(TwinError) as err:
        parse_rules(text, "r.yaml")
    line = _line_of("depth:            {weight: 3,")
    assert str(err.value).startswith(f"r.yaml:{line}: paths.office->housing.criteria.depth.wieght: unknown key")


def test_inconsistent_thresholds_and_unknown_uses_are_refused_with_their_line() -> None:
    flipped = TEXT.replace(
        "threshold: 13.0, worst: 18.0, veto: 18.0", "threshold: 13.0, worst: 10.0, veto: 18.0", 1
    )
    with pytest.raises(TwinError, match=r"r\.yaml:\d+: paths\.office->housing\.criteria\.depth\.worst"):
        parse_rules(flipped, "r.yaml")
    with pytest.raises(TwinError, match=r"r\.yaml:\d+: paths\.office->housing\.to: .*unknown use flats"):
        parse_rules(TEXT.replace("    to: housing", "    to: flats", 1), "r.yaml")
    with pytest.raises(TwinError, match="not valid YAML"):
        parse_rules("paths: [", "r.yaml")
    with pytest.raises(TwinError, match="does not exist"):
        load_rules("/nonexistent/rules.yaml")


def test_an_unknown_path_is_refused_with_the_known_ones() -> None:
    with pytest.raises(TwinError, match="unknown conversion path 'office->flats'") as err:
        assess(_measures([[1.0]], [[2.8]]), _buildings(1), RULES, ["office->flats"])
    assert "office->housing" in err.value.hint


def test_criterion_scores_rise_from_worst_to_threshold_and_veto_beyond() -> None:
    fraction, passed, vetoed = criterion_scores(np.array([12.0, 15.5, 18.0, 19.0]), "max", 13.0, 18.0, 18.0)
    assert fraction.tolist() == [1.0, 0.5, 0.0, 0.0]
    assert passed.tolist() == [True, False, False, False] and vetoed.tolist() == [False, False, False, True]


# ------------------------------------------------------------------------------------------ properties
PATH = "office->housing"
BUILDING_LEVEL = [k for k in RULES.paths[PATH].criteria if not CRITERIA[k].per_storey]
PER_STOREY = [k for k in RULES.paths[PATH].criteria if CRITERIA[k].per_storey]
_RANGES = {  # plausible measured values of each criterion, around its thresholds
    "depth": (8.0, 30.0),
    "free_height": (2.0, 3.5),
    "structure": (0.0, 0.4),
    "core_position": (0.0, 1.0),
    "stairs": (0.0, 4.0),
    "stair_distance": (5.0, 60.0),
    "shafts": (50.0, 1500.0),
    "ground_floor_height": (2.4, 5.0),
    "glazing": (0.0, 0.4),
    "imposed_load": (1.0, 5.0),
    "fire_height": (0.0, 60.0),
    "acoustics": (40.0, 60.0),
    "facade_change": (0.0, 1.0),
    "lift_access": (0.0, 1.0),
    "period": (1900.0, 2025.0),
}


def _buildings(n: int) -> pa.Table:
    return pa.table({"building_id": [f"b{i}" for i in range(n)], "use": ["office"] * n, "route": ["ifc"] * n})


def _measures(building_values: list[list[float]], storey_values: list[list[float]]) -> Measures:
    """Building i has building-level values building_values[i] (in BUILDING_LEVEL order, NaN = unknown) and one
    storey per row of storey_values[i] ... here one value list per storey, the same value for each per-storey
    criterion offset by its range."""
    rows, storeys = [], []
    for i, values in enumerate(building_values):
        for key, u in zip(BUILDING_LEVEL, values, strict=False):
            lo, hi = _RANGES[key]
            rows.append((f"b{i}", None, key, lo + u * (hi - lo) if not math.isnan(u) else math.nan))
        for j, u in enumerate(storey_values[i]):
            sid = f"b{i}/s{j}"
            storeys.append((f"b{i}", sid, f"R+{j}", j, 1, 100.0 + 10 * j))
            for key in PER_STOREY:
                lo, hi = _RANGES[key]
                rows.append((f"b{i}", sid, key, lo + u * (hi - lo) if not math.isnan(u) else math.nan))
    crit = pa.table(
        {
            "building_id": [r[0] for r in rows],
            "storey_id": [r[1] for r in rows],
            "criterion": [r[2] for r in rows],
            "value": pa.array([r[3] for r in rows], pa.float64()),
            "evidence": ["{}"] * len(rows),
            "note": [""] * len(rows),
        }
    ).cast(MEASURE_SCHEMA)
    table = pa.Table.from_pylist([dict(zip(STOREY_SCHEMA.names, s, strict=True)) for s in storeys], STOREY_SCHEMA)
    return Measures(crit, table)


def _with(rules: Rules, key: str, **changes: float | None) -> Rules:
    path = rules.paths[PATH]
    criterion = path.criteria[key].model_copy(update=changes)
    new_path = path.model_copy(update={"criteria": {**path.criteria, key: criterion}})
    return rules.model_copy(update={"paths": {**rules.paths, PATH: new_path}})


unit = st.one_of(st.floats(0.0, 1.0), st.just(math.nan))
buildings = st.integers(1, 6).flatmap(
    lambda n: st.tuples(
        st.lists(
            st.lists(unit, min_size=len(BUILDING_LEVEL), max_size=len(BUILDING_LEVEL)), min_size=n, max_size=n
        ),
        st.lists(st.lists(unit, min_size=0, max_size=4), min_size=n, max_size=n),
    )
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scores(measures: Measures, n: int, rules: Rules) -> pa.Table:
    return assess(measures, _buildings(n), rules, [PATH]).results


@SETTINGS
@given(data=buildings)
def test_scores_stay_between_0_and_100_and_the_low_end_never_exceeds_the_high_end(data) -> None:
    values, storeys = data
    r = _scores(_measures(values, storeys), len(values), RULES).to_pydict()
    for low, high, coverage in zip(r["score"], r["score_max"], r["coverage"], strict=True):
        assert 0.0 <= low <= high <= 100.0 and 0.0 <= coverage <= 1.0 + 1e-9


@SETTINGS
@given(data=buildings, key=st.sampled_from(BUILDING_LEVEL + PER_STOREY), step=st.floats(0.0, 1.0))
def test_a_stricter_threshold_never_raises_a_score(data, key: str, step: float) -> None:
    values, storeys = data
    measures = _measures(values, storeys)
    c = RULES.paths[PATH].criteria[key]
    if c.threshold is None:
        return  # imposed_load: the threshold is the new use's load (tested through imposed_loads below)
    sign = 1.0 if CRITERIA[key].direction == "min" else -1.0
    lo, hi = _RANGES[key]
    stricter = c.threshold + sign * step * (hi - lo)
    base = _scores(measures, len(values), RULES).to_pydict()
    strict = _scores(measures, len(values), _with(RULES, key, threshold=stricter)).to_pydict()
    for name in ("score", "score_max"):
        assert all(s <= b + 1e-9 for s, b in zip(strict[name], base[name], strict=True)), name


@SETTINGS
@given(data=buildings, key=st.sampled_from([k for k in BUILDING_LEVEL + PER_STOREY if k != "imposed_load"]))
def test_adding_a_veto_never_makes_a_building_convertible(data, key: str) -> None:
    values, storeys = data
    measures = _measures(values, storeys)
    c = RULES.paths[PATH].criteria[key]
    veto = c.worst if c.worst is not None else c.threshold
    base = _scores(measures, len(values), RULES)["convertible"].to_pylist()
    vetoed = _scores(measures, len(values), _with(RULES, key, veto=veto))["convertible"].to_pylist()
    for before, after in zip(base, vetoed, strict=True):
        assert after is not True or before is True
        if before is False:
            assert after is False


@SETTINGS
@given(data=buildings, extra=st.floats(0.0, 3.0))
def test_a_heavier_new_use_never_raises_the_score(data, extra: float) -> None:
    values, storeys = data
    measures = _measures(values, storeys)
    heavier = RULES.model_copy(
        update={"imposed_loads_kn_m2": {**RULES.imposed_loads_kn_m2, "housing": 1.5 + extra}}
    )
    base = _scores(measures, len(values), RULES)["score"].to_pylist()
    strict = _scores(measures, len(values), heavier)["score"].to_pylist()
    assert all(s <= b + 1e-9 for s, b in zip(strict, base, strict=True))


def test_unknown_values_are_unknown_never_passed() -> None:
    nan = math.nan
    result = assess(_measures([[nan] * len(BUILDING_LEVEL)], [[nan]]), _buildings(1), RULES, [PATH])
    assert set(result.criteria["status"].to_pylist()) == {"unknown"}
    row = result.results.to_pylist()[0]
    assert row["score"] == 0.0 and row["score_max"] == 100.0 and row["coverage"] == 0.0
    assert row["convertible"] is None


def test_a_key_given_twice_is_refused_with_both_lines() -> None:
    line = _line_of("      glazing: ")
    text = TEXT.replace("      glazing: ", "      depth: ", 1)
    with pytest.raises(
        TwinError, match=rf"r\.yaml:{line}: paths\.office->housing\.criteria\.depth: duplicate key"
    ):
        parse_rules(text, "r.yaml")
