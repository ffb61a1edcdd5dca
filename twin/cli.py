"""The ``twin`` command line: the composition root. Commands parse arguments, call library functions and
print; they hold no logic of their own.

Commands that touch the twin file run through :func:`_run`: when ``twin serve`` owns the file they are sent to
it over the local API, otherwise the file is opened here. The user never meets DuckDB's lock error.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
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
from twin.server import Command, LocalApi, find_owner, run_remote
from twin.store import DEFAULT_CRS, DEFAULT_PATH, Twin, check_crs_unchanged

__all__ = ["COMMANDS", "cli", "main"]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _info(twin: Twin) -> dict[str, Any]:
    return twin.info().as_dict()


def _sql(twin: Twin, sql: str, max_rows: int | None = None) -> pa.Table:
    return run_read_only(twin, sql, max_rows=max_rows)


COMMANDS: dict[str, Command] = {"info": _info, "sql": _sql}
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
        imports = Table("id", "kind", "file", "status", "finished", "counts", title="Last imports")
        for row in data["last_imports"]:
            imports.add_row(
                str(row["import_id"]),
                row["kind"],
                row["file_path"] or "",
                row["status"],
                row["finished_at"] or "",
                row["counts"] or "",
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


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the local API.")
@click.option(
    "--api-port", type=int, default=0, show_default=True, help="Port of the local API (0: any free one)."
)
@click.pass_context
def serve(ctx: click.Context, host: str, api_port: int) -> None:
    """Own the twin file and serve it: other `twin` commands are sent here while it runs."""
    path = _twin_path(ctx)
    owner = find_owner(path)
    if owner is not None:
        raise TwinError(f"{path} is already served by PID {owner.pid} on {owner.url}", "stop that process first")
    stop = threading.Event()
    with Twin(path, create=False) as twin:
        api = LocalApi(twin, COMMANDS, host=host, port=api_port).start()
        previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            out.print(f"Serving [bold]{path}[/]; local API on {api.owner.url} (Ctrl+C to stop).")
            stop.wait()
        finally:
            api.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)
    out.print("Stopped.")


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="twin")
