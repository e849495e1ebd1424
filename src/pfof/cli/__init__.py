"""The ``pfof`` command line: thin Typer commands that call the API and print with Rich.

Each command group lives in its own ``cmd_*`` module and registers itself on the root app.
Those modules import only typer, rich and the standard library at import time (the data
libraries load inside the commands), so ``pfof --help`` starts about as fast as Typer does.

Errors: a :class:`~pfof.errors.PfofError` ending a command is printed as one line on stderr,
``error: <message>``, and the process exits with its ``exit_code`` (2 for bad input or
arguments, 1 otherwise). Usage errors are Typer's own (exit 2); any other exception is a bug
and keeps its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from pfof.cli import (
    cmd_audit,
    cmd_demo,
    cmd_disclosures,
    cmd_quality,
    cmd_quotes,
    cmd_render,
    cmd_reports,
    cmd_rule605,
    cmd_rule606,
    cmd_serve,
    cmd_simulate,
)

if TYPE_CHECKING:
    from pfof.errors import PfofError

__all__ = ["app", "main", "print_error"]


class PfofGroup(TyperGroup):
    """The root command group: turns a :class:`~pfof.errors.PfofError` raised by any command
    (or sub-command) into one line on stderr and its exit status."""

    def invoke(self, ctx: Any) -> Any:
        from pfof.errors import PfofError

        try:
            return super().invoke(ctx)
        except PfofError as exc:
            print_error(exc)
            ctx.exit(exc.exit_code)


def print_error(exc: PfofError | str) -> None:
    """``error: <message>`` on stderr, on one line, the message shown as text: Rich markup
    escaped, control characters (from file names, say) as visible escapes."""
    from rich.console import Console

    from pfof.cli.safe_text import markup

    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        f"[bold red]error:[/] {markup(text)}"
    )


app = typer.Typer(
    name="pfof",
    cls=PfofGroup,
    help="Make payment for order flow measurable: Rule 606/605 reports, NBBO execution "
    "quality, and a simulated retail market.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # plain help: Typer's Rich help renderer imports Markdown and Pygments (~40 ms), which
    # alone would make `pfof --help` cost 2.2x a bare `import typer` (benchmarks/cli_startup.py)
    rich_markup_mode=None,
)

for _module in (
    cmd_demo,
    cmd_rule606,
    cmd_disclosures,
    cmd_reports,
    cmd_simulate,
    cmd_quality,
    cmd_quotes,
    cmd_audit,
    cmd_rule605,
    cmd_serve,
    cmd_render,
):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
