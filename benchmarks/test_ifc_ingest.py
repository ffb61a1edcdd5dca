"""IFC ingest of a large generated building against the bare geometry iterator on the same file, same run.

Goal (issue 4): full ingest time <= 1.3 x the bare iterator (ifcopenshell.open + manifold, one thread).
The file: the 1970s office archetype stretched to 10 storeys x 50 bays, 3 windows a bay, 4 column rows.
"""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.geom
import pytest

from ingest.demo.archetypes import archetypes
from ingest.demo.ifc_builder import build_ifc
from ingest.ifc import ingest_ifc
from twin import Twin

CACHE = Path(__file__).resolve().parent.parent / ".benchmarks" / "large-office-10x50.ifc"


@pytest.fixture(scope="module")
def large_ifc() -> Path:
    if not CACHE.exists():
        from dataclasses import replace

        base = next(s for s in archetypes() if s.key == "office_1972")
        spec = replace(base, key="large_office", storeys=10, length_m=50 * 5.4, windows_per_bay=3, column_rows=4,
                       window_width_m=1.2, stairs=4, lifts=4, shafts=8)
        model, _ = build_ifc(spec, seed=1)
        CACHE.parent.mkdir(exist_ok=True)
        model.write(str(CACHE))
    return CACHE


def test_bare_geometry_iterator(benchmark, large_ifc: Path) -> None:  # type: ignore[no-untyped-def]
    def iterate() -> int:
        model = ifcopenshell.open(str(large_ifc))
        settings = ifcopenshell.geom.settings()
        settings.set("use-world-coords", True)
        it = ifcopenshell.geom.iterator(settings, model, 1, geometry_library="manifold")
        n = 0
        if it.initialize():
            while True:
                it.get()
                n += 1
                if not it.next():
                    break
        return n

    benchmark.group = "ifc-ingest-large"
    benchmark.extra_info["file_mb"] = round(large_ifc.stat().st_size / 1e6, 1)
    benchmark.extra_info["rows"] = 1  # one file: the summary prints files/s and the ratio
    benchmark.extra_info["baseline"] = True
    n = benchmark.pedantic(iterate, rounds=2, iterations=1)
    benchmark.extra_info["shapes"] = n


def test_full_ifc_ingest(benchmark, large_ifc: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(100))

    def fresh() -> tuple[tuple[Twin], dict[str, object]]:
        return (Twin(tmp_path / f"t{next(counter)}.duckdb"),), {}

    def run(twin: Twin) -> None:
        report = ingest_ifc(twin, large_ifc)
        assert report.counts["elements"] > 5000
        twin.close()

    benchmark.group = "ifc-ingest-large"
    benchmark.extra_info["file_mb"] = round(large_ifc.stat().st_size / 1e6, 1)
    benchmark.extra_info["rows"] = 1
    benchmark.pedantic(run, setup=fresh, rounds=2, iterations=1)
