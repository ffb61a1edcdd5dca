"""Street lighting: the Limoges example, the Montpellier inventory, sums per level, options and bad input."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ingest.networks import ingest_network
from networks.lighting import (
    OPTIONS,
    DimmingWindow,
    LampInventory,
    LightingOption,
    LightingParameters,
    aggregate_lighting,
    lamps_from_twin,
    lighting_per_lamp,
    option_by_name,
    store_lighting,
)
from tests.conftest import shared_data
from twin import Twin
from twin.cli import cli
from twin.errors import TwinError

MONTPELLIER = ("streetlights-montpellier", "VilleMTP_MTP_EclairagePublic.shp")


def inventory(n: int, technology: str | None = "shp", wattage: float = 150.0) -> LampInventory:
    return LampInventory(
        node_id=np.array([f"L{i}" for i in range(n)], dtype=object),
        technology=np.full(n, technology, dtype=object),
        wattage_w=np.full(n, wattage),
        street=np.array([f"rue {i % 3}" for i in range(n)], dtype=object),
        district=np.array([f"q{i % 2}" for i in range(n)], dtype=object),
        network_id=np.full(n, "lighting:test", dtype=object),
    )


def test_the_limoges_example_is_reproduced() -> None:
    # methods.md 3: 70 x 150 W SHP, 12 h at 100 % = 50,589 kWh -> LED 70 W, 3 h at 100 % + 8 h at 40 % + 1 h at
    # 100 % = 13,429 kWh (-73 %). 12 h a night = 4,380 h; ballast 10 %.
    params = LightingParameters(burning_hours=4380.0, ballast=0.10)
    limoges = LightingOption("limoges", "Limoges", led=True, dimming=(DimmingWindow(21.0, 5.0, 0.4),))
    town = aggregate_lighting(lighting_per_lamp(inventory(70), [limoges], params), "town").to_pylist()[0]
    assert town["baseline_kwh"] == pytest.approx(50_589, abs=1)
    # our LED energy has no driver loss: 70 x 70 W x 7.2 h x 365 = 12,877 kWh, 4 % under the reported 13,429
    assert town["option_kwh"] == pytest.approx(13_429, rel=0.05)
    assert town["saving_percent"] == pytest.approx(73, abs=2)


def test_deeper_dimming_never_uses_more_energy() -> None:
    lamps = inventory(10)
    levels = [1.0, 0.8, 0.7, 0.5, 0.3, 0.0]
    options = [LightingOption(f"d{x}", "", led=True, dimming=(DimmingWindow(22.0, 5.0, x),)) for x in levels]
    town = aggregate_lighting(lighting_per_lamp(lamps, options), "town").to_pylist()
    energy = [r["option_kwh"] for r in sorted(town, key=lambda r: -float(r["option"][1:]))]
    assert all(a >= b for a, b in itertools.pairwise(energy))


def test_street_district_and_town_sums_add_up_to_the_lamps() -> None:
    lamps = inventory(30)
    lamps.wattage_w[:5] = np.nan  # five lamps of unknown wattage: counted, left out of the sums
    per_lamp = lighting_per_lamp(lamps, [OPTIONS["led_dimming"]])
    known = per_lamp.filter(per_lamp.column("known"))
    total = sum(known.column("saving_kwh").to_pylist())
    for level in ("street", "district", "town"):
        rows = aggregate_lighting(per_lamp, level).to_pylist()
        assert sum(r["saving_kwh"] for r in rows) == pytest.approx(total)
        assert sum(r["lamps"] for r in rows) == 30 and sum(r["lamps_unknown"] for r in rows) == 5
    assert len(aggregate_lighting(per_lamp, "street")) == 3


def test_an_existing_led_is_not_replaced_but_can_be_dimmed() -> None:
    per_lamp = lighting_per_lamp(inventory(1, "led", 40.0), [OPTIONS["led"], OPTIONS["led_dimming"]]).to_pylist()
    assert per_lamp[0]["saving_kwh"] == 0 and per_lamp[0]["capex_eur"] == 0
    assert per_lamp[1]["saving_kwh"] > 0


def test_presence_detection_costs_more_than_it_adds() -> None:
    rows = {
        r["option"]: r
        for r in aggregate_lighting(
            lighting_per_lamp(inventory(100), [OPTIONS["led_dimming"], OPTIONS["led_presence"]]), "town"
        ).to_pylist()
    }
    extra_capex = rows["led_presence"]["capex_eur"] - rows["led_dimming"]["capex_eur"]
    extra_saving = rows["led_presence"]["cost_saved_eur_yr"] - rows["led_dimming"]["cost_saved_eur_yr"]
    assert extra_saving > 0 and extra_capex / extra_saving > rows["led_dimming"]["simple_payback_yr"]


def test_an_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(TwinError, match="lighting profile 'disco': unknown") as info:
        option_by_name("disco")
    assert "led_dimming" in info.value.hint


@pytest.fixture(scope="module")
def montpellier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("montpellier") / "twin.duckdb"
    with Twin(path) as twin:
        ingest_network(twin, shared_data(*MONTPELLIER), kind="lighting")
    return path


def test_montpellier_lamps_are_unknown_until_an_input_is_stated(montpellier: Path) -> None:
    with Twin(montpellier, read_only=True) as twin:
        lamps = lamps_from_twin(twin)
    assert len(lamps) == 29_969
    town = aggregate_lighting(lighting_per_lamp(lamps, [OPTIONS["led_dimming"]]), "town").to_pylist()[0]
    assert town["lamps_unknown"] == 29_969 and town["baseline_kwh"] == 0 and town["saving_percent"] is None


def test_montpellier_led_and_dimming_saves_65_to_80_percent_with_the_inputs_stated(montpellier: Path) -> None:
    # Inputs: the layer names luminaires (LANTERNE, PROJECTEUR...), not lamps: every lamp is assumed a 100 W
    # high-pressure sodium lamp (SHP is 50-60 % of the French stock; 100 W x 1.10 x 4,100 h = 451 kWh/point, near
    # the national 530 kWh/point of methods.md 3), replaced by a 45 W LED, dimmed to 70 % from 22:00 to 05:00.
    params = LightingParameters(assume_unknown=("shp", 100.0))
    options = [OPTIONS["led"], OPTIONS["led_dimming"]]
    with Twin(montpellier) as twin:
        lamps = lamps_from_twin(twin)
        per_lamp = lighting_per_lamp(lamps, options, params)
        written = store_lighting(twin, per_lamp, options, params)
        stored = twin.query(
            "SELECT option, lamps, saving_percent, assumptions FROM res_lighting WHERE level = 'town' ORDER BY 1"
        ).to_pylist()
        districts = twin.query("SELECT count(*) FROM res_lighting WHERE level = 'district'").column(0)[0].as_py()
    led, dimmed = stored
    assert led["lamps"] == dimmed["lamps"] == 29_969
    assert 50 <= led["saving_percent"] < 65  # LED alone: about -50 % (methods.md 3)
    assert 65 <= dimmed["saving_percent"] <= 80
    assert json.loads(dimmed["assumptions"])["assume_unknown"] == ["shp", 100.0]
    assert districts > 10 and written > 2 * 29_969


def test_the_lighting_command_compares_the_options(montpellier: Path, tmp_path: Path) -> None:
    path = tmp_path / "twin.duckdb"
    path.write_bytes(montpellier.read_bytes())
    runner = CliRunner()
    result = runner.invoke(cli, ["--twin", str(path), "lighting", "--assume-unknown", "shp:100"])
    assert result.exit_code == 0, result.output
    for name in OPTIONS:
        assert f"{name} (" in result.output
    assert "Presence detection on top of LED + dimming" in result.output
    bare = runner.invoke(cli, ["--twin", str(path), "lighting", "--profile", "led_dimming"])
    assert bare.exit_code == 0 and "29,969 lamps of unknown wattage left out" in bare.output
    bad = runner.invoke(cli, ["--twin", str(path), "lighting", "--profile", "disco"])
    assert bad.exit_code == 1 and "'disco': unknown" in bad.stderr
