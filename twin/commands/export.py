"""``twin export FORMAT --out PATH``: the twin's layers, tables and buildings in open formats."""

from __future__ import annotations

from typing import Any

import click

from twin.store import Twin

__all__ = ["register"]

_FORMATS = ("geojson", "gpkg", "parquet", "csv", "cityjson", "ifc")


def _export(
    twin: Twin,
    fmt: str,
    out: str,
    layers: list[str] | None = None,
    crs: str | None = None,
    building: str | None = None,
    bcf: str | None = None,
    scenario: int = 0,
) -> dict[str, Any]:
    if fmt == "ifc":
        from twin.export.bim import annotate_ifc

        return annotate_ifc(twin, str(building), out, bcf, scenario).as_dict()
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
@click.option("--building", metavar="ID", help="ifc: the IFC building whose model is annotated.")
@click.option("--bcf", metavar="FILE.bcf", help="ifc: also write the failing criteria as BCF topics.")
@click.option("--scenario", type=int, default=0, show_default=True, help="ifc: results of this scenario.")
@click.pass_context
def export_command(
    ctx: click.Context,
    fmt: str,
    out: str,
    layers: tuple[str, ...],
    crs: str | None,
    building: str | None,
    bcf: str | None,
    scenario: int,
) -> None:
    """Write what the twin holds in open formats: GIS layers (GeoJSON, GeoPackage), every table (Parquet with
    readings by month, or CSV) with a data dictionary, the buildings as CityJSON 2.0 LoD1, or (ifc) a copy of a
    building's IFC model with its results as property sets, plus its failing criteria as BCF topics.

    Citizen reports are exported without personal data. Files appear only once complete.
    """
    from pathlib import Path

    from twin import cli

    if crs is not None and fmt not in ("geojson", "gpkg"):
        raise click.UsageError("--crs applies to geojson and gpkg layers only")
    if (fmt == "ifc") != (building is not None):
        raise click.UsageError("--building is required with ifc, and applies to ifc only")
    target = str(Path(out).resolve())  # the serving process may run in another folder
    args: dict[str, Any] = {"fmt": fmt, "out": target, "layers": list(layers), "crs": crs}
    if fmt == "ifc":
        args |= {"building": building, "bcf": str(Path(bcf).resolve()) if bcf else None, "scenario": scenario}
    report = cli.run(ctx, "export", args, read_only=True)
    counts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in report["counts"].items())
    cli.out.print(f"Exported {fmt} ({report['crs']}) to [bold]{report['out']}[/]: {counts}.", soft_wrap=True)
    for _, note in report["warnings"]:
        cli.out.print(f"  [yellow]note[/] {note}", soft_wrap=True)


def register(root: click.Group, commands: dict[str, Any]) -> None:
    root.add_command(export_command)
    commands["export"] = _export
