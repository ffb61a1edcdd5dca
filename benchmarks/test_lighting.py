"""Street-lighting options over 30,000 lamps (the size of Montpellier's inventory).

Goal (issue 8): the lighting scenario over 30,000 lamps in < 0.5 s: every option per lamp, then the street,
district and town sums (numpy per lamp, Arrow group-by for the sums).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from networks.lighting import OPTIONS, LampInventory, LightingParameters, aggregate_lighting, lighting_per_lamp

N = 30_000


def scenario(lamps: LampInventory, params: LightingParameters) -> list[Any]:
    per_lamp = lighting_per_lamp(lamps, list(OPTIONS.values()), params)
    return [aggregate_lighting(per_lamp, level) for level in ("street", "district", "town")]


def test_lighting_options_over_30k_lamps(benchmark: Any) -> None:
    rng = np.random.default_rng(42)
    lamps = LampInventory(
        node_id=np.array([f"L{i}" for i in range(N)], dtype=object),
        technology=rng.choice(np.array(["shp", "mercury", "metal_halide", "led", None], dtype=object), N),
        wattage_w=rng.choice(np.array([70.0, 100.0, 150.0, 250.0, np.nan]), N),
        street=np.array([f"rue {i % 900}" for i in range(N)], dtype=object),
        district=np.array([f"q{i % 30}" for i in range(N)], dtype=object),
        network_id=np.full(N, "lighting:town", dtype=object),
    )
    sums = benchmark(scenario, lamps, LightingParameters(assume_unknown=("shp", 100.0)))
    benchmark.extra_info["rows"] = N
    assert sums[2].num_rows == len(OPTIONS)
