"""GIS building ingest at city scale: 100k seeded footprints from a GeoPackage into a fresh twin file.

Goal (issue 5): 100,000 synthetic footprints ingested in under 10 s (read, map, estimate, check, write, log).
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest

from ingest.demo.archetypes import DISTRICT_ORIGIN, archetypes
from ingest.demo.district import generate_district
from ingest.gis_buildings import ingest_buildings
from twin import Twin

SEED = 11
BLOCKS = (71, 71)  # about 100,000 footprints


@pytest.fixture(scope="module")
def city_gpkg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    table = generate_district(SEED, archetypes(), DISTRICT_ORIGIN, blocks=BLOCKS).buildings
    path = tmp_path_factory.mktemp("gis-bench") / "buildings.gpkg"
    pyogrio.write_arrow(
        table,
        path,
        layer="batiment",
        driver="GPKG",
        crs="EPSG:2154",
        geometry_name="geometry",
        geometry_type="Polygon",
    )
    return path, table.num_rows


def test_100k_footprints_from_a_geopackage_into_a_fresh_twin(benchmark, city_gpkg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, n = city_gpkg
    assert n >= 100_000
    counter = iter(range(1000))

    def fresh_twin() -> tuple[tuple[Twin], dict[str, object]]:
        return (Twin(tmp_path / f"city-{next(counter)}.duckdb"),), {}

    def ingest(twin: Twin) -> None:
        report = ingest_buildings(twin, path)
        assert report.counts["buildings"] == n
        twin.close()

    benchmark.group = "gis-ingest-100k"
    benchmark.extra_info["rows"] = n
    benchmark.pedantic(ingest, setup=fresh_twin, rounds=3, iterations=1)
