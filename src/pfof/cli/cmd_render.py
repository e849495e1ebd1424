"""``pfof rule606 render``: a Rule 606 report in the SEC's layout, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``render`` to the ``rule606`` command group."""
    from pfof.cli.cmd_rule606 import rule606

    rule606.command("render")(render_command)


def render_command(
    file: Annotated[Path, typer.Argument(help="A 606 XML report.", exists=True, dir_okay=False)],
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", help="Write a PDF here (printed by headless Chromium)."),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML page here.")] = None,
) -> None:
    """Render a 606(a)(1), (b)(1) or (b)(3) report as the SEC's renderings lay it out.

    With neither --pdf nor --html the HTML page goes to standard output. Reports are read
    leniently (as `pfof rule606 validate --lenient` accepts them).
    """
    from pfof.formats.sec606 import read_606
    from pfof.reports.sec606_layout import html_to_pdf, render_606_html

    page = render_606_html(read_606(file).report)
    if html is not None:
        html.write_text(page, encoding="utf-8")
        typer.echo(f"wrote {html}", err=True)
    if pdf is not None:
        html_to_pdf(page, pdf)
        typer.echo(f"wrote {pdf}", err=True)
    if html is None and pdf is None:
        typer.echo(page)
