"""The ``pfof`` command line: thin Typer commands that call one layer and print with Rich.

Each command group lives in its own module and registers itself on the root app.
"""

from __future__ import annotations

import typer

from pfof.cli import (
    cmd_demo,
    cmd_disclosures,
    cmd_quality,
    cmd_rule605,
    cmd_rule606,
    cmd_simulate,
)

app = typer.Typer(
    name="pfof",
    help="Make payment for order flow measurable: Rule 606/605 reports, NBBO execution "
    "quality, and a simulated retail market.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for _module in (cmd_demo, cmd_rule606, cmd_disclosures, cmd_simulate, cmd_quality, cmd_rule605):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
