"""The ``twin`` command line: the composition root. Commands parse arguments, call library functions and
print; they hold no logic of their own.

Commands that touch the twin file run through :func:`_run`: when ``twin serve`` owns the file they are sent to
it over the local API, otherwise the file is opened here. The user never meets DuckDB's lock error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import duckdb
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from twin.errors import TwinError
from twin.readonly_sql import run_read_only
from twin.server import Command, find_owner, run_remote
from twin.store import DEFAULT_CRS, DEFAULT_PATH, Twin, check_crs_unchanged

__all__ = ["COMMANDS", "cli", "main"]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _info(twin: Twin) -> dict[str, Any]:
    return twin.info().as_dict()


def _sql(twin: Twin, sql: str, max_rows: int | None = None) -> pa.Table:
    return run_read_only(twin, sql, max_rows=max_rows)


def _ingest_ifc(
    twin: Twin, path: str, ids_path: str | None = None, strict: bool = False, at: list[float] | None = None
) -> dict[str, Any]:
    from ingest.ifc import IfcIngestOptions, ingest_ifc

    options = IfcIngestOptions(ids_path=ids_path, strict=strict, at=(at[0], at[1], at[2]) if at else None)
    return ingest_ifc(twin, path, options).as_dict()


def _ingest_buildings(
    twin: Twin,
    path: str,
    layer: str | None = None,
    crs: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    from ingest.gis_buildings import ingest_buildings

    return ingest_buildings(twin, path, layer=layer, crs=crs, mapping=mapping, encoding=encoding).as_dict()


def _ingest_sensors(twin: Twin, path: str, timezone: str | None = None) -> dict[str, Any]:
    from ingest.sensors import ingest_readings, ingest_sensor_registry, read_csv_header

    file = Path(path)
    if file.suffix.lower() == ".json":
        from ingest.sensorthings import ingest_sensorthings

        return ingest_sensorthings(twin, file).as_dict()
    if file.suffix.lower() == ".csv":
        columns = {c.strip().lower() for c in read_csv_header(file)[0]}
        if {"sensor_id", "kind", "unit_ucum"} <= columns:
            return ingest_sensor_registry(twin, file).as_dict()
    return ingest_readings(twin, file, timezone=timezone).as_dict()


def _ingest_reports(twin: Twin, path: str, services: str | None = None) -> dict[str, Any]:
    from ingest.reports import ingest_reports

    return ingest_reports(twin, path, services_path=services).as_dict()


def _sensors_latest(twin: Twin, kind: str | None = None) -> pa.Table:
    where = "WHERE s.kind = ?" if kind else ""
    return twin.query(
        "SELECT s.sensor_id, s.kind, s.unit_ucum, l.value, l.time_utc, s.asset_kind, s.asset_id "
        f"FROM sensors s LEFT JOIN sensor_latest l USING (sensor_id) {where} ORDER BY s.sensor_id",
        [kind] if kind else None,
    )


def _ingest_network(
    twin: Twin,
    path: str,
    kind: str,
    crs: str | None = None,
    origin: str | None = None,
    layer: str | None = None,
    snap_m: float = 0.5,
    network_id: str | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    from ingest.networks import ingest_network

    return ingest_network(
        twin,
        path,
        kind=kind,
        crs=crs,
        origin=origin,
        layer=layer,
        snap_m=snap_m,
        network_id=network_id,
        encoding=encoding,
    ).as_dict()


def _network_connect(twin: Twin, max_distance_m: float = 100.0, kinds: list[str] | None = None) -> dict[str, Any]:
    from networks.service import connect_buildings

    report = connect_buildings(twin, max_distance_m=max_distance_m, kinds=tuple(kinds) if kinds else None)
    data = dict(report.as_dict())
    data["unconnected_ids"] = {k: v[:20] for k, v in report.unconnected.items()}
    return data


def _network_check(
    twin: Twin,
    kind: str,
    network_id: str | None = None,
    min_pressure_m: float | None = None,
    velocity_limit_m_s: float | None = None,
    max_loading_percent: float | None = None,
) -> list[dict[str, Any]]:
    from networks.capacity import PowerCheckParams, WaterCheckParams, power_check, water_check

    ids = (
        [network_id]
        if network_id
        else twin.query("SELECT network_id FROM networks WHERE kind = ? ORDER BY 1", [kind]).column(0).to_pylist()
    )
    if not ids:
        raise TwinError(f"no {kind} network in the twin", "import one with twin ingest network FILE --kind ...")
    results = []
    for nid in ids:
        if kind == "water":
            water = WaterCheckParams()
            params = WaterCheckParams(
                min_pressure_m=min_pressure_m if min_pressure_m is not None else water.min_pressure_m,
                velocity_limit_m_s=velocity_limit_m_s
                if velocity_limit_m_s is not None
                else water.velocity_limit_m_s,
            )
            nodes, links = water_check(twin, nid, params)
        elif kind == "power":
            power = PowerCheckParams()
            nodes, links = power_check(
                twin,
                nid,
                PowerCheckParams(
                    max_loading_percent=max_loading_percent
                    if max_loading_percent is not None
                    else power.max_loading_percent
                ),
            )
        else:
            raise TwinError(f"no capacity check for {kind} networks yet", "use --kind water or power")
        node_flags = [f for f in nodes.column("flag").to_pylist() if f not in ("ok", "not_judged")]
        link_flags = [f for f in links.column("flag").to_pylist() if f not in ("ok", "not_judged", "closed")]
        if kind == "power" and "transformer_loading_percent" in nodes.column_names:
            # substations modelled as points carry their transformer's loading on the node (networks/power.py)
            limit = PowerCheckParams().max_loading_percent if max_loading_percent is None else max_loading_percent
            loadings = [v for v in nodes.column("transformer_loading_percent").to_pylist() if v is not None]
            link_flags += ["transformer_overloaded"] * sum(v > limit for v in loadings)
        results.append(
            {
                "network_id": nid,
                "nodes": nodes.num_rows,
                "links": links.num_rows,
                "node_flags": {f: node_flags.count(f) for f in sorted(set(node_flags))},
                "link_flags": {f: link_flags.count(f) for f in sorted(set(link_flags))},
            }
        )
    return results


def _network_failure(twin: Twin, link_id: str) -> dict[str, Any]:
    from networks.failure import failure_impact

    found = twin.query("SELECT network_id FROM network_links WHERE link_id = ?", [link_id]).column(0).to_pylist()
    if not found:
        raise TwinError(
            f"no link '{link_id}' in the twin", 'list them with twin sql "SELECT link_id FROM network_links"'
        )
    impact = failure_impact(twin, found[0], link_id)
    return {
        "network_id": found[0],
        "link_id": link_id,
        "nodes_cut": len(impact.nodes_cut),
        "buildings": impact.buildings.to_pylist(),
    }


def _network_critical(twin: Twin, kind: str, top: int = 10) -> list[dict[str, Any]]:
    from networks.failure import n1_ranking

    rows = []
    for nid in (
        twin.query("SELECT network_id FROM networks WHERE kind = ? ORDER BY 1", [kind]).column(0).to_pylist()
    ):
        table = n1_ranking(twin, nid)
        rows += [{"network_id": nid, **r} for r in table.slice(0, top).to_pylist()]
    return rows


COMMANDS: dict[str, Command] = {
    "network_check": _network_check,
    "network_failure": _network_failure,
    "network_critical": _network_critical,
    "ingest_network": _ingest_network,
    "network_connect": _network_connect,
    "ingest_sensors": _ingest_sensors,
    "ingest_reports": _ingest_reports,
    "sensors_latest": _sensors_latest,
    "info": _info,
    "sql": _sql,
    "ingest_ifc": _ingest_ifc,
    "ingest_buildings": _ingest_buildings,
}
"""Commands that run against an open twin, here or in the owning ``twin serve`` process."""


class TwinCliError(click.ClickException):
    """A TwinError shown as one line, plus a hint."""

    def __init__(self, error: TwinError) -> None:
        super().__init__(error.message)
        self.hint = error.hint

    def show(self, file: Any = None) -> None:
        err.print(f"[bold red]Error:[/] {self.message}", soft_wrap=True)
        if self.hint:
            err.print(f"[yellow]Hint:[/] {self.hint}", soft_wrap=True)


class _TwinGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TwinError as exc:
            raise TwinCliError(exc) from exc
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise TwinCliError(TwinError(f"database: {first}", "run `twin info` to check the twin")) from exc
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("TWIN_DEBUG"):
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            raise TwinCliError(
                TwinError(
                    f"unexpected {type(exc).__name__}: {first}",
                    "this is a bug in twin: set TWIN_DEBUG=1 to see where, and report it with the command you ran",
                )
            ) from exc


def _twin_path(ctx: click.Context) -> str:
    return str(ctx.find_root().params["twin_path"])


def _run(ctx: click.Context, name: str, args: Mapping[str, Any], *, read_only: bool = False) -> Any:
    """Run a command on the twin: through its owner process when one serves it, else by opening the file."""
    path = _twin_path(ctx)
    owner = find_owner(path)
    if owner is not None:
        return run_remote(owner, name, args)
    with Twin(path, create=False, read_only=read_only) as twin:
        return COMMANDS[name](twin, **args)


@click.group(cls=_TwinGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--twin",
    "twin_path",
    envvar="TWIN_PATH",
    default=DEFAULT_PATH,
    show_default=True,
    metavar="PATH",
    help="The twin file every command works on (or set TWIN_PATH).",
)
@click.version_option(package_name="twin", prog_name="twin")
def cli(twin_path: str) -> None:
    """twin: a digital twin of a town's buildings and networks in one DuckDB file.

    Load IFC models, GIS layers, networks and sensor data into the twin, then ask it whether buildings can
    change use, what retrofits save, and whether the networks cope.
    """


@cli.command()
@click.argument("path", required=False, metavar="[PATH]")
@click.option(
    "--crs",
    default=None,
    metavar="CODE",
    help=f"Projected CRS of the new twin, e.g. EPSG:2154 (default {DEFAULT_CRS}). Fixed once created.",
)
@click.pass_context
def init(ctx: click.Context, path: str | None, crs: str | None) -> None:
    """Create a new, empty twin file (nothing happens if it already exists with the same CRS)."""
    target = path or _twin_path(ctx)
    existed = Path(target).exists()
    owner = find_owner(target) if existed else None
    if owner is not None:  # served: ask the owner rather than fight it for the lock
        stored = run_remote(owner, "info", {})["crs"]
        check_crs_unchanged(target, stored, crs)
        out.print(f"{target} already exists ({stored}); nothing to do.")
        return
    with Twin(target, crs=crs, create=True) as twin:
        if existed:
            out.print(f"{target} already exists ({twin.crs}); nothing to do.")
        else:
            out.print(f"Created twin [bold]{target}[/] in {twin.crs} ({twin.metadata()['crs_name']}).")
        if twin.applied_on_open:
            out.print(f"Upgraded its schema: {', '.join(twin.applied_on_open)}.")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def info(ctx: click.Context, fmt: str) -> None:
    """What the twin holds: schema version, CRS, rows per table and the last imports."""
    data = _run(ctx, "info", {})
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    out.print(f"[bold]{data['path']}[/]")
    out.print(f"  CRS             {data['crs']} ({data['crs_name']})")
    out.print(f"  schema version  {data['schema_version']}")
    out.print(f"  written with    DuckDB {data['engine_version']}, created {data['created_at']}")
    counts = Table("table", "rows", title="Contents", title_justify="left")
    for name, n in data["counts"].items():
        counts.add_row(name, f"{n:,}")
    out.print(counts)
    if data["last_imports"]:
        imports = Table("id", "kind", "file", "status", "finished", "what it brought", title="Last imports")
        for row in data["last_imports"]:
            counts = json.loads(row["counts"]) if row["counts"] else {}
            brought = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in list(counts.items())[:4])
            imports.add_row(
                str(row["import_id"]),
                row["kind"],
                Path(row["file_path"] or "").name,
                row["status"],
                (row["finished_at"] or "")[:19],
                brought,
            )
        out.print(imports)
    else:
        out.print("No imports yet.")


@cli.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Pretty table for reading, CSV or JSON for other tools.",
)
@click.option("--max-rows", type=click.IntRange(min=0), default=None, help="Return at most this many rows.")
@click.pass_context
def sql(ctx: click.Context, query: str, fmt: str, max_rows: int | None) -> None:
    """Run a read-only SQL QUERY on the twin (statements that write are refused).

    Example: twin sql "SELECT use, count(*) FROM buildings GROUP BY use"
    """
    shown = max_rows if max_rows is not None else (1000 if fmt == "table" else None)
    table: pa.Table = _run(ctx, "sql", {"sql": query, "max_rows": shown}, read_only=True)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sys.stdout.buffer)
        return
    if fmt == "json":
        click.echo(json.dumps(table.to_pylist(), default=str, indent=1))
        return
    view = Table(*table.column_names)
    for row in table.to_pylist():
        view.add_row(*("" if v is None else str(v) for v in row.values()))
    out.print(view)
    note = f"{table.num_rows:,} row(s)"
    if shown is not None and table.num_rows == shown:
        note += f" (limited to {shown}: use --max-rows or --format csv for more)"
    out.print(note)


@cli.group()
def ingest() -> None:
    """Load files into the twin (IFC models, GIS layers, networks, sensors, reports).

    Each file is one import: checked first, then written in one transaction, so a bad file leaves the twin as it
    was. Importing the same file again changes nothing; a changed file replaces what it brought before.
    """


def _parse_at(value: str | None) -> list[float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        numbers = [float(x) for x in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 3:
        raise TwinError(f"--at '{value}' is not X,Y,ROTATION", "give three numbers, e.g. --at 843200,6519400,15")
    return numbers


def _print_report(report: dict[str, Any]) -> None:
    name = Path(report["file_path"]).name
    if report["unchanged"]:
        out.print(f"[bold]{name}[/]: already in the twin, nothing changed.")
        return
    counts = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in report["counts"].items())
    out.print(f"[bold]{name}[/]: imported (import {report['import_id']}): {counts}.")
    for warning in report["warnings"][:10]:
        out.print(f"  [yellow]warning[/] {warning['ref']}: {warning['message']}", soft_wrap=True)
    if len(report["warnings"]) > 10:
        out.print(f"  ... {len(report['warnings']) - 10} more warnings in the imports log (twin info)")


@ingest.command("ifc")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--ids", "ids_path", metavar="RULES.ids", help="Check the model against an IDS file; results stored."
)
@click.option("--strict", is_flag=True, help="With --ids: refuse a model that fails a requirement.")
@click.option(
    "--at",
    "at",
    metavar="X,Y,ROTATION",
    help="Place the model's origin at X,Y (twin CRS) turned by ROTATION degrees; overrides the file.",
)
@click.pass_context
def ingest_ifc_command(
    ctx: click.Context, files: tuple[str, ...], ids_path: str | None, strict: bool, at: str | None
) -> None:
    """IFC models (IFC2X3, IFC4, IFC4X3): storeys, spaces, elements, properties, meshes and building facts."""
    position = _parse_at(at)
    path = _twin_path(ctx)
    owner = find_owner(path)
    for file in files:
        args = {"path": str(Path(file).resolve()), "ids_path": ids_path, "strict": strict, "at": position}
        if owner is not None:
            report = run_remote(owner, "ingest_ifc", args)
        else:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            from ingest.ifc import IfcIngestOptions, ingest_ifc

            with (
                Twin(path, create=False) as twin,
                Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as bar,
            ):
                task = bar.add_task(f"{Path(file).name}: reading")

                def show(step: str, n: int | None, _task: Any = task, _file: str = file) -> None:
                    done = f" ({n:,} elements)" if n else ""
                    bar.update(_task, description=f"{Path(_file).name}: {step}{done}")

                options = IfcIngestOptions(
                    ids_path=ids_path,
                    strict=strict,
                    at=(position[0], position[1], position[2]) if position else None,
                )
                report = ingest_ifc(twin, file, options, progress=show).as_dict()
        _print_report(report)


def _run_ingest(ctx: click.Context, name: str, args: dict[str, Any]) -> None:
    """Run an ingest command here or in the owning server, and print its report."""
    _print_report(_run(ctx, name, args))


@ingest.command("buildings")
@click.argument("file")
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option("--crs", metavar="EPSG:n", help="CRS of a file that declares none (required then).")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=field",
    help="Read a twin field from another source field: id, name, height_m, storeys, use, dwellings, "
    "construction_year. Repeatable.",
)
@click.option("--encoding", help="Text encoding of the attributes (e.g. latin1) when the file does not say.")
@click.pass_context
def ingest_buildings_command(
    ctx: click.Context, file: str, layer: str | None, crs: str | None, maps: tuple[str, ...], encoding: str | None
) -> None:
    """Building footprints: Shapefile, GeoPackage, GeoJSON or CityJSON (BD TOPO fields recognised)."""
    mapping = {}
    for item in maps:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise TwinError(f"--map '{item}' is not FIELD=field", "e.g. --map height_m=hauteur_m")
        mapping[key.strip()] = value.strip()
    _run_ingest(
        ctx,
        "ingest_buildings",
        {
            "path": str(Path(file).resolve()),
            "layer": layer,
            "crs": crs,
            "mapping": mapping or None,
            "encoding": encoding,
        },
    )


@ingest.command("sensors")
@click.argument("file")
@click.option("--timezone", help="Zone of times written without one (e.g. Europe/Paris); default UTC.")
@click.pass_context
def ingest_sensors_command(ctx: click.Context, file: str, timezone: str | None) -> None:
    """Sensors or their readings: a registry CSV (sensor_id, kind, unit_ucum, x, y, ...), readings as CSV or
    Parquet (long: sensor, time, value; or wide: a column per sensor), or SensorThings JSON.

    Rows that cannot be stored (unknown sensor, non-numeric value, a time in the future, a unit that does not
    match) go to the rejected_readings table with the reason; the rest is stored.
    """
    _run_ingest(ctx, "ingest_sensors", {"path": str(Path(file).resolve()), "timezone": timezone})


@ingest.command("reports")
@click.argument("file")
@click.option("--services", metavar="FILE", help="The Open311 services list (services.json).")
@click.pass_context
def ingest_reports_command(ctx: click.Context, file: str, services: str | None) -> None:
    """Citizen reports (Open311 GeoReport v2 requests JSON), each linked to the nearest asset it concerns.

    Names, e-mail addresses and phone numbers in the file are never stored.
    """
    _run_ingest(
        ctx,
        "ingest_reports",
        {"path": str(Path(file).resolve()), "services": str(Path(services).resolve()) if services else None},
    )


@ingest.command("network")
@click.argument("file")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["water", "power", "heat", "gas", "lighting", "road"]),
    help="What the network carries.",
)
@click.option("--crs", metavar="EPSG:n", help="CRS of the file's coordinates when it declares none (EPANET).")
@click.option("--origin", metavar="X,Y", help="Twin-CRS point where the file's 0,0 lies (EPANET in local metres).")
@click.option("--layer", help="Layer of a multi-layer file.")
@click.option("--snap-m", type=float, default=0.5, show_default=True, help="Line ends closer than this meet.")
@click.option("--network-id", help="Id of the network (default KIND:FILE-STEM).")
@click.option("--encoding", help="Text encoding of the attributes when the file does not say (e.g. latin1).")
@click.pass_context
def ingest_network_command(
    ctx: click.Context,
    file: str,
    kind: str,
    crs: str | None,
    origin: str | None,
    layer: str | None,
    snap_m: float,
    network_id: str | None,
    encoding: str | None,
) -> None:
    """A utility network: GIS lines and points, EPANET .inp, pandapower or pandapipes JSON, street-light points."""
    _run_ingest(
        ctx,
        "ingest_network",
        {
            "path": str(Path(file).resolve()),
            "kind": kind,
            "crs": crs,
            "origin": origin,
            "layer": layer,
            "snap_m": snap_m,
            "network_id": network_id,
            "encoding": encoding,
        },
    )


@cli.group()
def network() -> None:
    """Networks of the twin: service connections of the buildings."""


@network.command("connect")
@click.option(
    "--max-distance-m",
    type=float,
    default=100.0,
    show_default=True,
    help="A building further than this from every node of a network is left unconnected.",
)
@click.option(
    "--kind", "kinds", multiple=True, help="Only these kinds (repeatable); default water, power, heat, gas."
)
@click.pass_context
def network_connect(ctx: click.Context, max_distance_m: float, kinds: tuple[str, ...]) -> None:
    """Link every building to the nearest service node of each network, and list those left unconnected."""
    data = _run(ctx, "network_connect", {"max_distance_m": max_distance_m, "kinds": list(kinds) or None})
    for kind, n in data["connected"].items():
        left = data["unconnected"].get(kind, 0)
        out.print(
            f"{kind}: {n:,} buildings connected (mean {data['mean_distance_m'].get(kind, 0):.1f} m), "
            f"{left:,} unconnected",
            soft_wrap=True,
        )
        if left:
            out.print("  e.g. " + ", ".join(data["unconnected_ids"][kind][:10]), soft_wrap=True)
    if data["skipped_kinds"]:
        out.print(f"No network of kind: {', '.join(data['skipped_kinds'])}")


@network.command("check")
@click.option("--kind", type=click.Choice(["water", "power"]), required=True)
@click.option("--network", "network_id", help="One network id (default: every network of the kind).")
@click.option("--min-pressure-m", type=float, help="Minimum service pressure (water), m of head.")
@click.option("--velocity-limit-m-s", type=float, help="Velocity limit per pipe (water), m/s.")
@click.option("--max-loading-percent", type=float, help="Loading limit of lines and transformers (power), %.")
@click.pass_context
def network_check(
    ctx: click.Context,
    kind: str,
    network_id: str | None,
    min_pressure_m: float | None,
    velocity_limit_m_s: float | None,
    max_loading_percent: float | None,
) -> None:
    """Does the network cope? Water: EPANET (wntr) with the buildings' demand added; power: pandapower load flow.
    Results (pressure, velocity, loading, voltage, flags) go to the res_network_* tables."""
    results = _run(
        ctx,
        "network_check",
        {
            "kind": kind,
            "network_id": network_id,
            "min_pressure_m": min_pressure_m,
            "velocity_limit_m_s": velocity_limit_m_s,
            "max_loading_percent": max_loading_percent,
        },
    )
    for r in results:
        flags = (
            ", ".join(f"{n} {f}" for f, n in {**r["node_flags"], **r["link_flags"]}.items()) or "nothing flagged"
        )
        out.print(f"{r['network_id']}: {r['nodes']:,} nodes, {r['links']:,} links: {flags}", soft_wrap=True)


@network.command("failure")
@click.argument("link_id")
@click.pass_context
def network_failure(ctx: click.Context, link_id: str) -> None:
    """The buildings (and residents) left without supply when LINK_ID fails."""
    data = _run(ctx, "network_failure", {"link_id": link_id})
    residents = sum(b.get("residents") or 0 for b in data["buildings"])
    out.print(
        f"{link_id}: {data['nodes_cut']} nodes and {len(data['buildings'])} buildings "
        f"({residents:,.0f} residents) cut off.",
        soft_wrap=True,
    )
    for b in data["buildings"][:50]:
        out.print(f"  {b['building_id']} (node {b['node_id']})")


@network.command("critical")
@click.option("--kind", type=click.Choice(["water", "power", "heat", "gas"]), required=True)
@click.option("--top", type=int, default=10, show_default=True)
@click.pass_context
def network_critical(ctx: click.Context, kind: str, top: int) -> None:
    """N-1 ranking: each link removed in turn, the most critical first (stored in res_network_failures)."""
    for r in _run(ctx, "network_critical", {"kind": kind, "top": top}):
        out.print(f"{r['rank']:>4} {r['link_id']}: {r['buildings_cut']} buildings, {r['nodes_cut']} nodes cut")


@cli.group()
def sensors() -> None:
    """The sensor registry and the latest readings."""


def _print_table(table: pa.Table, limit: int = 200) -> None:
    view = Table(*table.column_names)
    for row in table.slice(0, limit).to_pylist():
        view.add_row(*("" if v is None else str(v) for v in row.values()))
    out.print(view)
    if table.num_rows > limit:
        out.print(f"... {table.num_rows - limit:,} more (use twin sql for everything)")


@sensors.command("list")
@click.option("--kind", help="Only this kind (temperature, co2, occupancy, electricity_meter, ...).")
@click.pass_context
def sensors_list(ctx: click.Context, kind: str | None) -> None:
    """Every sensor with its kind, unit and the asset it is attached to."""
    table = _run(ctx, "sensors_latest", {"kind": kind}, read_only=True)
    _print_table(table.select(["sensor_id", "kind", "unit_ucum", "asset_kind", "asset_id"]))


@sensors.command("latest")
@click.option("--kind", help="Only this kind.")
@click.pass_context
def sensors_latest(ctx: click.Context, kind: str | None) -> None:
    """The latest value of each sensor and when it was read (UTC)."""
    _print_table(
        _run(ctx, "sensors_latest", {"kind": kind}, read_only=True).select(
            ["sensor_id", "kind", "value", "unit_ucum", "time_utc"]
        )
    )


@cli.command()
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same district, byte for byte.")
@click.option(
    "--size",
    default="district",
    show_default=True,
    help="district (10 IFC buildings, ~560 footprints) or city (100,000 footprints).",
)
@click.option(
    "--out",
    "out_dir",
    default="demo",
    show_default=True,
    metavar="DIR",
    help="Folder for the generated data (DIR/data) and the twin (DIR/twin.duckdb).",
)
@click.option("--no-serve", is_flag=True, help="Stop after building the twin instead of serving it.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the dashboard.")
@click.option("--port", type=int, default=8050, show_default=True, help="Port of the dashboard.")
@click.option("--api-port", type=int, default=0, show_default=True, help="Port of the local API (0: any).")
@click.option(
    "--live-demo",
    "live_feed_s",
    type=float,
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Simulated live readings every SECONDS while served (0: none).",
)
@click.option("--mqtt", metavar="HOST[:PORT]", help="Also take live readings from this MQTT broker.")
def demo(
    seed: int,
    size: str,
    out_dir: str,
    no_serve: bool,
    host: str,
    port: int,
    api_port: int,
    live_feed_s: float,
    mqtt: str | None,
) -> None:
    """Generate a realistic French district and load it into a new twin: the quickest way to see twin work.

    Ten IFC buildings (1970s and 1990s offices, a 1960s housing bar, a school, a car park, a town hall, a mixed
    building, houses), BD TOPO-like footprints, networks, street lights, sensors and citizen reports, all
    generated by twin itself from the seed.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ingest.demo.build import build_demo, check_demo_arguments

    out_path = Path(out_dir)
    check_demo_arguments(out_path, size)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task("demo")
        result = build_demo(
            out_path, seed=seed, size=size, progress=lambda message: bar.update(task, description=message)
        )
    out.print(
        f"Demo twin ready in {result.seconds['total_s']:.1f} s: [bold]{result.twin_path}[/] "
        f"(data in {result.files.root}).",
        soft_wrap=True,
    )
    with Twin(result.twin_path, create=False, read_only=True) as twin:
        info = twin.info()
    rows = ", ".join(f"{n:,} {t}" for t, n in info.counts.items() if n and t not in ("imports", "scenarios"))
    out.print(f"It holds {rows}.", soft_wrap=True)
    out.print(f'Explore it: twin --twin {result.twin_path} info | sql "SELECT ..."', soft_wrap=True)
    if not no_serve:
        from twin.commands.serve import serve_twin
        from twin.commands.users import ensure_demo_users

        created = ensure_demo_users(result.twin_path)
        if created:
            out.print("Dashboard users of the demo (one per role; passwords shown once, stored hashed):")
            for name, password in created.items():
                out.print(f"  {name:<10} password [bold]{password}[/]")
        else:
            out.print(
                "Log in with the demo users created before (twin users list); reset one with twin users add."
            )
        serve_twin(str(result.twin_path), host, port, api_port, live_feed_s, mqtt)


run = _run
"""Run a named command of :data:`COMMANDS` here or in the owning ``twin serve`` (for twin.commands modules)."""
print_report = _print_report
"""Print an import report (for twin.commands modules)."""

from twin.commands import register_all  # noqa: E402  (command modules use the helpers defined above)

register_all(cli, COMMANDS)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="twin")
