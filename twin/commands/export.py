"""``twin export FORMAT --out PATH``: the twin's layers, tables and buildings in open formats."""

from __future__ import annotations

from typing import Any

import click

from twin.store import Twin

__all__ = ["register"]

_FORMATS = ("geojson", "gpkg", "parquet", "csv", "cityjson")


def _export(
    twin: Twin, fmt: str, out: str, layers: list[str] | None = None, crs: str | None = None
) -> dict[str, Any]:
    if fmt in ("geojson", "gpkg"):
        from twin.export.layers import export_layers

        return export_layers(twin, fmt, out, layers or None, crs).as_dict()
    if fmt in ("parquet", "csv"):
        from twin.export.tables import export_tables

        return export_tables(twin, fmt, out, layers or None).as_dict()
    from twin.export.cityjson import export_cityjson

    return export_cityjson(twin, out).as_dict()


@click.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_FORMATS))
@click.option(
    "--out", required=True, metavar="PATH", help="Folder (geojson, parquet, csv) or file (gpkg, cityjson)."
)
@click.option(
    "--layer",
    "layers",
    multiple=True,
    metavar="NAME",
    help="Only this layer (geojson, gpkg: buildings, network_nodes, network_links, streetlights, sensors, "
    "reports) or table (parquet, csv); repeatable. Default: all.",
)
@click.option("--crs", metavar="EPSG:n", help="Reproject layers (e.g. EPSG:4326); default the twin CRS.")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, out: str, layers: tuple[str, ...], crs: str | None) -> None:
    """Write what the twin holds in open formats: GIS layers (GeoJSON, GeoPackage), every table (Parquet with
    readings by month, or CSV) with a data dictionary, or the buildings as CityJSON 2.0 LoD1.

    Citizen reports are exported without personal data. Files appear only once complete.
    """
    from pathlib import Path

    from twin import cli

    if crs is not None and fmt not in ("geojson", "gpkg"):
        raise click.UsageError("--crs applies to geojson and gpkg layers only")
    target = str(Path(out).resolve())  # the serving process may run in another folder
    args = {"fmt": fmt, "out": target, "layers": list(layers), "crs": crs}
    report = cli.run(ctx, "export", args, read_only=True)
    counts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in report["counts"].items())
    cli.out.print(f"Exported {fmt} ({report['crs']}) to [bold]{report['out']}[/]: {counts}.", soft_wrap=True)
    for _, note in report["warnings"]:
        cli.out.print(f"  [yellow]note[/] {note}", soft_wrap=True)


def register(root: click.Group, commands: dict[str, Any]) -> None:
    root.add_command(export_command)
    commands["export"] = _export
