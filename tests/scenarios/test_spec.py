"""Scenario files: validation with the line and field of every error, the published schema, the SQL condition."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from scenarios.select import check_condition, select_buildings
from scenarios.spec import Selection, SqlCondition, parse_scenario, scenario_json_schema
from twin import Twin
from twin.errors import TwinError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in ROOT.joinpath("examples").glob("*.yaml") if p.name != "grid.yaml")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates_and_matches_the_published_schema(path: Path) -> None:
    loaded = parse_scenario(path.read_text(), str(path))
    assert loaded.scenario.name
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_json_schema())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nhorizn: 2040\n", r"s\.yaml, line 2, horizn: unknown key 'horizn'"),
        (
            "name: x\ninterventions:\n  - year: 2030\n",
            r"line 3, interventions\[0\]: Value error, give exactly one",
        ),
        (
            "name: x\nhorizon: 2030\ninterventions:\n  - demolish: {select: {ids: [a]}}\n    year: 2040\n",
            r"line 1, \(top\): Value error, interventions\[0\]\.year 2040 is after the horizon 2030",
        ),
        (
            "name: x\ninterventions:\n  - demolish: {select: {}}\n",
            r"line 3, interventions\[0\]\.demolish\.select: ",
        ),
        ("name: x\nname: y\n", r"line 2, name: duplicate key"),
        ("name: [x\n", r"s\.yaml, line 2: not valid YAML"),
        ("", r"s\.yaml: empty scenario file"),
        (
            "name: x\ninterventions:\n  - change_use:\n      select: {ids: [a]}\n      from: office\n"
            "      to: hotel\n",
            r"line 6, interventions\[0\]\.change_use\.to: Input should be 'housing'",
        ),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_field(text: str, message: str) -> None:
    with pytest.raises(TwinError, match=message):
        parse_scenario(text, "s.yaml")


def test_the_docs_schema_is_generated_from_the_models() -> None:
    assert json.loads(ROOT.joinpath("docs/scenario.schema.json").read_text()) == scenario_json_schema()


@pytest.fixture
def town(memory_twin: Twin) -> Twin:
    memory_twin.append(
        "buildings",
        {
            "building_id": ["a", "b", "c"],
            "use": ["office", "housing", "office"],
            "construction_year": [1972, 1990, 2001],
            "source": ["gis", "gis", "gis"],
        },
    )
    return memory_twin


COLUMNS = ["building_id", "use", "construction_year", "source", "ifc_building_id", "footprint"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("1=1; DROP TABLE buildings", "a statement is not allowed"),
        ("use = 'office' UNION SELECT 1 FROM sensors", "set operations|statement|syntax"),
        ("building_id IN (SELECT sensor_id FROM sensors)", "subqueries are not allowed"),
        ("EXISTS (SELECT 1)", "subqueries are not allowed"),
        ("sensor_id = 'x'", "unknown column sensor_id"),
        ("use = $u", r"no value for parameter \$u"),
        ("getenv('HOME') = 'x'", "function getenv is not allowed"),
        ("use = 'office' GROUP BY use", "only a WHERE condition"),
        ("use = 'office' ORDER BY 1", "only a WHERE condition"),
    ],
)
def test_a_sql_condition_that_is_not_one_expression_on_buildings_is_refused(
    town: Twin, sql: str, message: str
) -> None:
    with town.read() as cur, pytest.raises(ValueError, match=message):
        check_condition(cur, SqlCondition(sql=sql), COLUMNS)


def test_a_sql_condition_selects_with_bound_parameters_and_filters_combine(town: Twin) -> None:
    where = SqlCondition(sql="use = $u AND construction_year < $y", params={"u": "office", "y": 2000})
    assert select_buildings(town, Selection(where=where)) == ["a"]
    assert select_buildings(town, Selection(use=["office"])) == ["a", "c"]
    assert select_buildings(town, Selection(use=["office"], built_from=2000)) == ["c"]
    # a quote in a parameter is a value, never SQL
    assert (
        select_buildings(town, Selection(where=SqlCondition(sql="use = $u", params={"u": "x' OR '1'='1"}))) == []
    )
    assert town.query("SELECT count(*) FROM buildings").column(0)[0].as_py() == 3
