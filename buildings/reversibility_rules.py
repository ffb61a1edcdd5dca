"""The reversibility rule file: conversion paths, their criteria, thresholds, vetoes and weights (YAML, versioned).

The French defaults ship in ``buildings/rules/reversibility-fr.yaml`` (every figure cites its row of
``shared/reference/methods.md``). A user file replaces them whole (``--rules FILE``). The file is validated with
pydantic; an error names the file, the line and the key (``rules.yaml:12: paths.office->housing.criteria.dept:
unknown key``), never a traceback.

Each criterion has a *direction* fixed by the code that measures it (:data:`CRITERIA`): ``min`` (the measured
value must be at least the threshold, e.g. free height) or ``max`` (at most, e.g. depth). The score of a
criterion rises linearly from ``worst`` (0) to ``threshold`` (1); ``veto`` is the value beyond which the building
(or, for per-storey criteria, the storey) cannot be converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from twin.errors import TwinError

__all__ = [
    "CRITERIA",
    "DEFAULT_RULES_PATH",
    "USES",
    "CriterionInfo",
    "CriterionRule",
    "Parameters",
    "PathRule",
    "Rules",
    "default_rules",
    "load_rules",
    "parse_rules",
]

USES = ("housing", "office", "commerce", "industry", "school", "parking", "public", "other")
"""The twin's use vocabulary (``buildings.use``)."""


@dataclass(frozen=True)
class CriterionInfo:
    """What the code knows of a criterion: its label, unit, direction, and whether it is judged per storey."""

    label: str
    unit: str
    direction: Literal["min", "max"]
    per_storey: bool = False


CRITERIA: dict[str, CriterionInfo] = {
    "depth": CriterionInfo("Building depth", "m", "max"),
    "free_height": CriterionInfo("Free (clear) height", "m", "min", per_storey=True),
    "structure": CriterionInfo("Internal load-bearing walls (cross walls)", "m/m²", "max"),
    "core_position": CriterionInfo("Stair cores at the facade", "share", "min"),
    "stairs": CriterionInfo("Stair cores", "count", "min"),
    "stair_distance": CriterionInfo("Farthest point to a stair core", "m", "max"),
    "shafts": CriterionInfo("Floor area per technical shaft", "m²/shaft", "max"),
    "ground_floor_height": CriterionInfo("Ground-floor height (floor to floor)", "m", "min"),
    "glazing": CriterionInfo("Glazing / net floor area (SHAB)", "ratio", "min", per_storey=True),
    "imposed_load": CriterionInfo("Design imposed load vs new use", "kN/m²", "min", per_storey=True),
    "fire_height": CriterionInfo("Height of the top floor (fire regime)", "m", "max"),
    "acoustics": CriterionInfo("Rated sound insulation of separating elements", "dB", "min"),
    "facade_change": CriterionInfo("Share of the facade to change", "share", "max"),
    "lift_access": CriterionInfo("Lift access where required", "yes=1", "min"),
    "period": CriterionInfo("Construction year (age)", "year", "max"),
    "exits": CriterionInfo("Exits provided / required by headcount", "ratio", "min"),
    "erp_headcount": CriterionInfo("Headcount of the public building", "persons", "max"),
}
"""Every criterion the code can measure (:mod:`buildings.reversibility_measures`)."""

DEFAULT_RULES_PATH = Path(str(resources.files("buildings") / "rules" / "reversibility-fr.yaml"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CriterionRule(_Strict):
    """One criterion of a path: weight in the score, threshold (pass), worst (score 0), veto, source row."""

    weight: float = Field(ge=0)
    threshold: float | None = None
    worst: float | None = None
    veto: float | None = None
    source: str


class PathRule(_Strict):
    """A conversion path: the current uses it applies to (``any`` = all), the new use, the storeys in scope."""

    label: str
    from_: list[str] = Field(alias="from", min_length=1)
    to: str
    storeys: Literal["all", "above_ground", "ground"] = "above_ground"
    criteria: dict[str, CriterionRule] = Field(min_length=1)

    @field_validator("from_")
    @classmethod
    def _uses(cls, value: list[str]) -> list[str]:
        wrong = [u for u in value if u not in (*USES, "any")]
        if wrong:
            raise ValueError(f"unknown use {', '.join(wrong)}; use one of {', '.join(USES)} or any")
        return value

    @field_validator("to")
    @classmethod
    def _use(cls, value: str) -> str:
        if value not in USES:
            raise ValueError(f"unknown use {value}; use one of {', '.join(USES)}")
        return value


class Parameters(_Strict):
    """Conversion factors (methods.md 1.6) and twin conventions; see the rule file's comments."""

    net_to_gross: float = Field(gt=0, le=1)
    mean_dwelling_m2: float = Field(gt=0)
    household_size: float = Field(gt=0)
    pupils_per_dwelling: float = Field(ge=0)
    m2_per_workstation: float = Field(gt=0)
    m2_per_pupil: float = Field(gt=0)
    slab_allowance_m: float = Field(ge=0)
    storey_veto_share: float = Field(ge=0, le=1)
    cost_eur_m2: dict[Literal["light", "medium", "heavy"], tuple[float, float]]
    difficulty_score: dict[Literal["light", "medium"], float]


class Rules(_Strict):
    """A whole rule file. ``version`` is stored with every result."""

    version: str
    name: str
    parameters: Parameters
    imposed_loads_kn_m2: dict[str, float]
    paths: dict[str, PathRule] = Field(min_length=1)

    def path(self, name: str) -> PathRule:
        """The path called ``name``; a :class:`TwinError` listing the known paths otherwise."""
        if name not in self.paths:
            raise TwinError(
                f"unknown conversion path '{name}' in rules {self.version}",
                f"use one of: {', '.join(self.paths)}",
            )
        return self.paths[name]


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the key (or value) at ``loc`` in a composed YAML tree; the deepest one found."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part) or (part == "from_" and key.value == "from"):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _check_duplicates(node: yaml.Node | None, origin: str, where: str = "") -> None:
    """YAML keeps the last of two equal keys silently; a rule file must not (which one did the author mean?)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            name = f"{where}.{key.value}" if where else str(key.value)
            if key.value in seen:
                raise TwinError(
                    f"{origin}:{line}: {name}: duplicate key (first at line {seen[key.value]})",
                    "keep one of the two",
                )
            seen[key.value] = line
            _check_duplicates(value, origin, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(item, origin, f"{where}[{i}]")


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join("from" if p == "from_" else str(p) for p in loc)


def parse_rules(text: str, origin: str = "<rules>") -> Rules:
    """Validate the YAML ``text`` of a rule file; errors name ``origin``, the line and the key.

    Examples
    --------
    >>> parse_rules("version: x", "r.yaml")
    Traceback (most recent call last):
    ...
    twin.errors.TwinError: r.yaml:1: name: field required (and 3 more errors)
    """
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        raise TwinError(
            f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})", "fix the YAML syntax"
        ) from exc
    _check_duplicates(tree, origin)
    if not isinstance(data, dict):
        raise TwinError(f"{origin}: a rule file is a mapping (version, name, paths, ...)", "see the default file")
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo names itself
        loc = tuple(first["loc"])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].lower()
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        raise TwinError(
            f"{origin}:{_line_of(tree, loc)}: {_dotted(loc)}: {message}{more}",
            "compare with the default rules (buildings/rules/reversibility-fr.yaml)",
        ) from None
    _check_semantics(rules, tree, origin)
    return rules


def _check_semantics(rules: Rules, tree: yaml.Node | None, origin: str) -> None:
    """Criteria the code knows; threshold, worst and veto in the order their direction asks."""

    def fail(loc: tuple[Any, ...], message: str, hint: str) -> None:
        raise TwinError(f"{origin}:{_line_of(tree, loc)}: {_dotted(loc)}: {message}", hint)

    for use in rules.imposed_loads_kn_m2:
        if use not in USES:
            fail(("imposed_loads_kn_m2", use), "unknown key", f"uses are {', '.join(USES)}")
    for name, path in rules.paths.items():
        if "->" not in name:
            fail(("paths", name), "a path is named FROM->TO", "e.g. office->housing")
        for key, c in path.criteria.items():
            loc = ("paths", name, "criteria", key)
            info = CRITERIA.get(key)
            if info is None:
                fail(loc, "unknown key", f"criteria are {', '.join(CRITERIA)}")
                continue
            if c.threshold is None and key != "imposed_load":
                fail(loc, "threshold required", "give the value a building must reach to pass")
            if key == "imposed_load" and c.threshold is None and path.to not in rules.imposed_loads_kn_m2:
                fail(loc, f"no imposed load for the new use {path.to}", "add it to imposed_loads_kn_m2")
            threshold = c.threshold if c.threshold is not None else rules.imposed_loads_kn_m2.get(path.to, 0.0)
            sign = 1.0 if info.direction == "min" else -1.0  # sign * value grows with quality
            if c.worst is not None and sign * c.worst > sign * threshold:
                fail(
                    (*loc, "worst"), f"worst must not be better than the threshold ({info.direction})", "swap them"
                )
            if c.veto is not None and sign * c.veto > sign * (c.worst if c.worst is not None else threshold):
                fail((*loc, "veto"), "veto must not be better than worst/threshold", "a veto is the extreme")


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and validate a rule file (default: the French rules shipped with twin)."""
    file = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TwinError(f"rule file {file} does not exist", "give the path of a YAML rule file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinError(f"rule file {file} cannot be read: {exc}", "give a UTF-8 YAML file") from None
    return parse_rules(text, str(file))


_DEFAULT: Rules | None = None


def default_rules() -> Rules:
    """The French default rules (parsed once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_rules()
    return _DEFAULT
