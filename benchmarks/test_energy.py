"""Energy balance at town scale: 100,000 LoD1 buildings x 12 months.

Goal (issue 8): the monthly ISO 13790 balance of 100,000 LoD1 buildings in < 2 s (numpy over [n, 12] arrays),
so that a scenario can re-run a whole town's energy after every change. The second benchmark adds delivered
energy, DPE classes, the décret tertiaire and the Arrow result table (what ``twin assess energy`` stores).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from buildings.energy import Envelope, monthly_needs
from buildings.energy_archetypes import envelope_from_lod1
from buildings.energy_twin import assess_energy
from buildings.weather import Climate, read_climate
from tests.conftest import shared_data

N = 100_000


@pytest.fixture(scope="module")
def lyon() -> Climate:
    return read_climate(shared_data("weather-lyon-bron-tmyx", "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw"))


@pytest.fixture(scope="module")
def town() -> Envelope:
    rng = np.random.default_rng(42)
    uses = np.array(["housing", "housing", "housing", "office", "commerce", "school"], dtype=object)
    return envelope_from_lod1(
        np.array([f"b{i}" for i in range(N)], dtype=object),
        rng.uniform(40.0, 1500.0, N),
        rng.uniform(3.0, 40.0, N),
        np.full(N, None, dtype=object),
        rng.integers(1850, 2025, N),
        rng.choice(uses, N),
    )


def test_monthly_needs_of_100k_lod1_buildings(benchmark: Any, town: Envelope, lyon: Climate) -> None:
    needs = benchmark(monthly_needs, town, lyon)
    benchmark.extra_info["rows"] = N * 12
    assert needs.heating_kwh.shape == (N, 12) and np.isfinite(needs.heating_kwh).all()


def test_assess_energy_of_100k_lod1_buildings(benchmark: Any, town: Envelope, lyon: Climate) -> None:
    table = benchmark.pedantic(assess_energy, args=(town, lyon), rounds=3, iterations=1)
    benchmark.extra_info["rows"] = N
    assert table.num_rows == N
