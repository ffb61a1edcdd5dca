"""``twin demo``: generate the demo district's files and load them into a twin through the real ingest paths.

The twin is built in a scratch file beside its destination and moved into place only when every import has
succeeded, so an interrupted or failed demo leaves no broken twin behind (an older demo twin stays as it was).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.demo.generate import SIZES, DemoFiles, write_demo_files
from twin.errors import TwinError
from twin.server import find_owner
from twin.store import Twin

__all__ = ["DemoResult", "build_demo", "check_demo_arguments"]

Progress = Callable[[str], None]


@dataclass
class DemoResult:
    twin_path: Path
    files: DemoFiles
    seconds: dict[str, float] = field(default_factory=dict)
    imports: list[dict[str, object]] = field(default_factory=list)
    service: dict[str, object] = field(default_factory=dict)


def check_demo_arguments(out: Path, size: str) -> None:
    """One clear error for an unknown size or an output folder that cannot be written."""
    if size not in SIZES:
        raise TwinError(f"unknown demo size '{size}'", f"choose one of: {', '.join(SIZES)}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TwinError(f"cannot create the output folder {out}: {exc.strerror}", "choose another --out") from exc
    if not os.access(out, os.W_OK):
        raise TwinError(f"the output folder {out} is not writable", "choose another --out")
    owner = find_owner(out / "twin.duckdb")
    if owner is not None:
        raise TwinError(
            f"{out / 'twin.duckdb'} is served by PID {owner.pid}",
            "stop that twin serve first, or choose another --out",
        )


def build_demo(
    out: Path, *, seed: int = 42, size: str = "district", progress: Progress | None = None
) -> DemoResult:
    """Generate the data into ``out/data`` and the twin into ``out/twin.duckdb``."""
    from ingest.gis_buildings import ingest_buildings
    from ingest.ifc import ingest_ifc
    from ingest.networks import ingest_network
    from ingest.reports import ingest_reports
    from ingest.sensors import ingest_readings, ingest_sensor_registry

    say = progress or (lambda _msg: None)
    check_demo_arguments(out, size)
    started = time.perf_counter()
    files = write_demo_files(out, seed=seed, size=size, progress=lambda m: say(f"generating {m}"))
    result = DemoResult(out / "twin.duckdb", files, {"generate_s": time.perf_counter() - started})

    scratch = out / f".twin.duckdb.building-{os.getpid()}"
    for leftover in (scratch, Path(f"{scratch}.wal")):
        leftover.unlink(missing_ok=True)
    try:
        with Twin(scratch, crs="EPSG:2154") as twin:
            step = time.perf_counter()
            for key, path in files.ifc.items():
                say(f"importing IFC {key}")
                result.imports.append(ingest_ifc(twin, path).as_dict())
            result.seconds["ifc_s"] = time.perf_counter() - step
            step = time.perf_counter()
            say("importing GIS buildings")
            assert files.buildings is not None
            result.imports.append(ingest_buildings(twin, files.buildings).as_dict())
            result.seconds["gis_s"] = time.perf_counter() - step
            step = time.perf_counter()
            assert files.water and files.power and files.streetlights and files.roads
            for path, kind in (
                (files.water, "water"),
                (files.power, "power"),
                (files.streetlights, "lighting"),
                (files.roads, "road"),
            ):
                say(f"importing the {kind} network")
                result.imports.append(ingest_network(twin, path, kind=kind).as_dict())
            say("connecting buildings to the networks")
            from networks.service import connect_buildings

            result.service = connect_buildings(twin).as_dict()
            result.seconds["networks_s"] = time.perf_counter() - step
            step = time.perf_counter()
            assert files.sensors is not None and files.readings is not None and files.requests is not None
            say("importing sensors and readings")
            result.imports.append(ingest_sensor_registry(twin, files.sensors).as_dict())
            result.imports.append(ingest_readings(twin, files.readings, source="demo").as_dict())
            say("importing citizen reports")
            result.imports.append(ingest_reports(twin, files.requests, services_path=files.services).as_dict())
            result.seconds["operations_s"] = time.perf_counter() - step
            step = time.perf_counter()
            say("assessing the reversibility of every building")
            from buildings.reversibility_store import assess_twin

            assess_twin(twin)
            # energy is not assessed: it needs a year of hourly weather (an EPW file) the demo does not ship
            result.seconds["reversibility_s"] = time.perf_counter() - step
        os.replace(scratch, result.twin_path)
        Path(f"{result.twin_path}.wal").unlink(missing_ok=True)
    finally:
        for leftover in (scratch, Path(f"{scratch}.wal")):
            leftover.unlink(missing_ok=True)
    result.seconds["total_s"] = time.perf_counter() - started
    return result
