"""``twin sensors archive``: move older readings to Parquet month files beside the twin (read back through
``readings_all``)."""

from __future__ import annotations

from typing import Any

import click

from twin.store import Twin

__all__ = ["register"]


def _sensors_archive(twin: Twin, older_than: str) -> dict[str, Any]:
    from ingest.readings_archive import archive_readings, parse_cutoff

    return archive_readings(twin, parse_cutoff(older_than)).as_dict()


def register(cli: click.Group, commands: dict[str, Any]) -> None:
    """Add ``archive`` to the ``twin sensors`` group."""
    commands["sensors_archive"] = _sensors_archive

    @click.command("archive")
    @click.option(
        "--older-than",
        required=True,
        metavar="AGE|DATE",
        help="Archive readings older than an age (90d, 12w, 48h) or before a date (2026-01-01, UTC).",
    )
    @click.pass_context
    def sensors_archive(ctx: click.Context, older_than: str) -> None:
        """Move readings older than the cut-off out of the twin file into Parquet files by month
        (TWIN.archive/readings/month=YYYY-MM/), verified before they are deleted; queries on readings_all (and
        the utilisation and consumption analyses) still read them. Hourly roll-ups and latest values stay.
        """
        from twin import cli as twin_cli

        data = twin_cli.run(ctx, "sensors_archive", {"older_than": older_than})
        if data["leftovers_removed"]:
            twin_cli.out.print(f"Removed {len(data['leftovers_removed'])} leftovers of an interrupted archive.")
        if not data["readings"]:
            twin_cli.out.print(f"No reading before {data['cutoff_utc'][:19]}Z: nothing to archive.")
            return
        months = ", ".join(f"{m} ({n:,})" for m, n in data["months"].items())
        twin_cli.out.print(
            f"Archived {data['readings']:,} readings before {data['cutoff_utc'][:19]}Z "
            f"in {data['seconds']:.1f} s: {months}.",
            soft_wrap=True,
        )

    sensors_group = cli.commands["sensors"]
    assert isinstance(sensors_group, click.Group)
    sensors_group.add_command(sensors_archive)
