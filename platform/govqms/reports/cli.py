"""``govqms report JURISDICTION KIND [--year YYYY] [--format docx|xlsx] -o FILE``: the documents of a
jurisdiction's year from the command line, the same as the reports page's buttons make."""
from __future__ import annotations

from pathlib import Path

import click

from govqms.cli import system_command
from govqms.reports.documents import YEAR_KINDS


@click.command("report")
@click.argument("jurisdiction")
@click.argument("kind", type=click.Choice(YEAR_KINDS))
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="The year reported on (default: this year).")
@click.option("--format", "fmt", type=click.Choice(["docx", "xlsx"]), default="docx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="The file to write.")
@system_command
def report_command(jurisdiction: str, kind: str, year: int | None, fmt: str, output: Path) -> None:
    """Write the KIND document of JURISDICTION (its code): yearly (annex II of QĐ 19/2014),
    inspection-summary (November), inspection-plan (Mẫu 19 KHKT)."""
    from sqlalchemy import select

    from govqms.extensions import db
    from govqms.reports.documents import produce
    from govqms.tenancy.models import Jurisdiction

    found = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction))
    if found is None:
        codes = ", ".join(db.session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.code)))
        raise click.ClickException(f"no jurisdiction {jurisdiction!r} (known: {codes})")
    try:
        document = produce(found, kind, fmt, year=year)
    except LookupError as missing:
        raise click.ClickException(str(missing)) from missing
    output.write_bytes(document.data)
    click.echo(f"{output} ({len(document.data):,} bytes): {kind} of {found.name}, {fmt}")
