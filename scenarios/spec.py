"""Scenario files: YAML validated by pydantic, every error naming the file, the line and the field.

A scenario describes a future as interventions on the baseline twin, each staged in a year of the pathway
(2026-2050 by default)::

    name: convert-1972-office
    description: Turn the 1970s office slab into flats.
    horizon: 2050
    interventions:
      - change_use:
          select: {ids: [office-1972]}
          from: office
          to: housing
        year: 2027
      - retrofit:
          select: {use: [school]}
          package: deep_renovation
        year: 2028

Each list item holds one intervention key (``change_use``, ``retrofit``, ``lighting``, ``add_pv``, ``demolish``,
``new_building``, ``intensify``) and an optional ``year``. Selections (``select``) combine, with AND: ``ids``,
``use``, ``built_from``/``built_to`` (construction year), ``reversibility`` (a path and a minimum score),
``within`` (a WKT polygon in the twin CRS) and ``where`` (a SQL condition on the ``buildings`` table, checked by
DuckDB's parser and run with parameters on a read-only cursor; see :mod:`scenarios.select`).

:func:`load_scenario` keeps the YAML line of every key and value, so that a pydantic error (a typo in a key, a
wrong type) and the later checks against the twin (an unknown building or package) both say
``scenario.yaml, line 12, interventions[0].change_use.select.ids[0]: ...``. :func:`scenario_json_schema` is the
published JSON schema (``docs/scenario.schema.json``, kept equal by a test).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twin.errors import TwinError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "USES",
    "AddPv",
    "ChangeUse",
    "Demolish",
    "Intensify",
    "Intervention",
    "LightingPlan",
    "LoadedScenario",
    "NewBuilding",
    "Retrofit",
    "Scenario",
    "Selection",
    "SqlCondition",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
]

FIRST_YEAR = 2026
"""First year of a pathway (the baseline year)."""
LAST_YEAR = 2050
"""Last year of a pathway (the décret tertiaire's last milestone)."""

USES = ("housing", "office", "commerce", "industry", "school", "parking", "public", "other")
"""The twin's use vocabulary (``buildings.use``)."""

Use = Literal["housing", "office", "commerce", "industry", "school", "parking", "public", "other"]
Year = int


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqlCondition(_Model):
    """A SQL condition on the ``buildings`` table with named parameters (``$name``), never pasted into SQL."""

    sql: str = Field(min_length=1, description="A boolean expression on the buildings table's columns.")
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Values of the $name parameters of the condition."
    )


class ReversibilityFilter(_Model):
    path: str = Field(description="A conversion path of the reversibility rules, e.g. office->housing.")
    min_score: float = Field(default=0.0, ge=0, le=100)
    convertible: bool | None = Field(default=None, description="Keep only convertible (true) or vetoed (false).")


class Selection(_Model):
    """Which buildings an intervention applies to: every given filter must hold (AND)."""

    ids: list[str] | None = Field(default=None, description="Building ids.")
    use: list[Use] | Use | None = Field(default=None, description="Current use, or a list of uses.")
    built_from: int | None = Field(default=None, description="Construction year >= this.")
    built_to: int | None = Field(default=None, description="Construction year <= this.")
    reversibility: ReversibilityFilter | None = None
    within: str | None = Field(
        default=None, description="WKT polygon in the twin CRS; footprints intersecting it."
    )
    where: SqlCondition | str | None = Field(default=None, description="SQL condition on the buildings table.")

    @field_validator("use", mode="after")
    @classmethod
    def _one_use(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _not_empty(self) -> Selection:
        if all(getattr(self, f) is None for f in type(self).model_fields):
            raise ValueError("a selection needs at least one of ids, use, built_from, built_to, reversibility, "
                             "within, where")  # fmt: skip
        return self

    def condition(self) -> SqlCondition | None:
        if self.where is None:
            return None
        return SqlCondition(sql=self.where) if isinstance(self.where, str) else self.where


class ChangeUse(_Model):
    """Convert buildings (or some storeys) to another use; a reversibility veto blocks it unless forced."""

    select: Selection
    from_: Use = Field(alias="from")
    to: Use
    storeys: list[int] | None = Field(
        default=None, description="Level indexes converted (default: all above ground)."
    )
    force: bool = Field(default=False, description="Convert even where the reversibility assessment vetoes it.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Retrofit(_Model):
    """Apply a retrofit package (or one measure) of the catalogue to the selected buildings."""

    select: Selection
    package: str = Field(description="A package or measure name of the retrofit catalogue.")
    subsidy_share: float | None = Field(default=None, ge=0, le=1, description="Share of the capex subsidised.")


class LightingPlan(_Model):
    """Relamp (and dim) the street lights of an area."""

    option: str = Field(default="led", description="A lighting option of networks.lighting (led, led_dim, ...).")
    within: str | None = Field(default=None, description="WKT polygon in the twin CRS (default: every lamp).")
    network: str | None = Field(default=None, description="One lighting network id.")


class AddPv(_Model):
    """Rooftop photovoltaics on the selected buildings (a pv measure of the catalogue)."""

    select: Selection
    measure: str = Field(default="pv", description="The pv measure of the catalogue.")


class Demolish(_Model):
    select: Selection


class NewBuilding(_Model):
    """A building that does not exist yet."""

    id: str = Field(min_length=1)
    footprint: str = Field(description="WKT polygon in the twin CRS.")
    storeys: int = Field(gt=0, le=60)
    use: Use
    storey_height_m: float = Field(default=3.0, gt=0)
    construction_year: int = Field(default=2026, ge=1000, le=2100)
    dwellings: int | None = Field(default=None, ge=0, description="Default: from the floor area (methods.md 1.6).")
    school_places: int | None = Field(default=None, ge=0, description="Pupil places of a new school.")


class Intensify(_Model):
    """Open under-used spaces (res_utilisation below a threshold) to other users: added workstations."""

    select: Selection | None = None
    below: float = Field(default=0.3, gt=0, le=1, description="Utilisation under which a space is opened.")


class Intervention(_Model):
    """One intervention (exactly one of the keys) staged in ``year``."""

    year: int = Field(default=FIRST_YEAR, ge=FIRST_YEAR, le=LAST_YEAR)
    change_use: ChangeUse | None = None
    retrofit: Retrofit | None = None
    lighting: LightingPlan | None = None
    add_pv: AddPv | None = None
    demolish: Demolish | None = None
    new_building: NewBuilding | None = None
    intensify: Intensify | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Intervention:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_KINDS)} (got {len(given)})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _KINDS if getattr(self, k) is not None)

    @property
    def body(self) -> Any:
        return getattr(self, self.kind)


_KINDS = ("change_use", "retrofit", "lighting", "add_pv", "demolish", "new_building", "intensify")


class Finance(_Model):
    discount_rate: float = Field(default=0.03, ge=0, lt=1)
    price_escalation: float = Field(default=0.02, gt=-1, lt=1)
    energy_price_factor: float = Field(default=1.0, gt=0, description="Multiplies every energy price.")
    subsidy_share: float = Field(
        default=0.0, ge=0, le=1, description="Default share of retrofit capex subsidised."
    )


class Scenario(_Model):
    """A scenario file."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$")
    description: str = ""
    horizon: int = Field(default=LAST_YEAR, ge=FIRST_YEAR, le=LAST_YEAR, description="Last year evaluated.")
    finance: Finance = Field(default_factory=Finance)
    catalogue: str | None = Field(default=None, description="Retrofit catalogue file (default: the shipped one).")
    interventions: list[Intervention] = Field(default_factory=list)

    @model_validator(mode="after")
    def _years_within_horizon(self) -> Scenario:
        for i, item in enumerate(self.interventions):
            if item.year > self.horizon:
                raise ValueError(f"interventions[{i}].year {item.year} is after the horizon {self.horizon}")
        return self


# ------------------------------------------------------------------------------------------------- loading
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from and the YAML line of each field (for later errors)."""

    scenario: Scenario
    source: str
    lines: Mapping[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest known prefix of ``path`` (1-based), or None."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def error(self, path: Sequence[str | int], message: str, hint: str) -> TwinError:
        """A TwinError naming the file, the line and the field ``path``."""
        return TwinError(f"{_where(self.source, self.line_of(path), path)}: {message}", hint)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _where(source: str, line: int | None, path: Sequence[str | int]) -> str:
    at = f", line {line}" if line is not None else ""
    return f"{source}{at}, {_dotted(path)}"


def _to_python(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    """Build Python data from a composed YAML node, recording the line of every key and item."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in out:
                raise TwinError(
                    f"{_where('', key_node.start_mark.line + 1, (*path, key)).lstrip(', ')}: duplicate key",
                    "give each key once",
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _SCALARS.construct_object(node)


class _ScalarLoader(yaml.SafeLoader):
    pass


_SCALARS = _ScalarLoader("")


def parse_scenario(text: str, source: str = "<scenario>") -> LoadedScenario:
    """Validate the YAML ``text`` of a scenario; errors are TwinErrors naming ``source``, the line and field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TwinError(f"{source}{at}: not valid YAML ({problem})", "fix the YAML syntax") from None
    if root is None:
        raise TwinError(f"{source}: empty scenario file", "give at least `name: ...`")
    lines: dict[Path_, int] = {}
    try:
        data = _to_python(root, (), lines)
    except TwinError as exc:
        raise TwinError(f"{source}, {exc.message}", exc.hint) from None
    if not isinstance(data, dict):
        raise TwinError(
            f"{source}, line 1: a scenario is a mapping (name:, interventions: ...)", "see the examples"
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        path = _clean_loc(first["loc"])
        loaded = LoadedScenario(Scenario(name="x"), source, lines)
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = f"unknown key '{path[-1]}'"
            hint = f"allowed here: {', '.join(_allowed(data, path[:-1]))}"
        elif first["type"] == "missing":
            hint = "add it"
        else:
            hint = "see docs/scenario.schema.json"
        raise loaded.error(path, message, hint) from None
    return LoadedScenario(scenario, source, lines)


def _clean_loc(loc: Sequence[Any]) -> Path_:
    """Drop pydantic's union-member labels (``str``, ``SqlCondition``) from an error location."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (part[:1].isupper() or part in ("str", "int", "float", "bool")):
            continue
        out.append(part)
    return tuple(out)


def _allowed(data: Any, path: Path_) -> list[str]:
    model: Any = Scenario
    for part in path:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if info is None:
            info = next((f for f in model.model_fields.values() if f.alias == part), None)
        if info is None:
            return []
        model = _model_of(info.annotation)
    if not hasattr(model, "model_fields"):
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file (see :func:`parse_scenario`)."""
    file = Path(path)
    if not file.is_file():
        raise TwinError(f"scenario file {file}: not found", "give the path of a .yaml scenario file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinError(f"scenario file {file}: cannot be read ({exc})", "save it as UTF-8 text") from None
    return parse_scenario(text, str(file))


def scenario_json_schema() -> dict[str, Any]:
    """The JSON schema of scenario files (``docs/scenario.schema.json``)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://twin.invalid/docs/scenario.schema.json"
    return json.loads(json.dumps(schema, sort_keys=True))
