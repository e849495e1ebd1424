"""``pfof demo``: the main job on the embedded default data, offline.

The pipeline is :func:`pfof.app.demo.run_demo`; this module shows its progress and prints
what it returns, readable at 80 columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from pfof.app.demo import DemoResult


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root app."""
    app.command("demo")(demo_command)


def demo_command(
    out: Annotated[Path, typer.Option(help="Folder for the demo's files.")] = Path("pfof-demo"),
    quarters: Annotated[
        int,
        typer.Option(
            min=1, max=12, help="Quarters of 606 disclosures per broker in the broker comparison."
        ),
    ] = 4,
    seed: Annotated[
        int, typer.Option(help="Seed of the simulation and the disclosures.", min=0)
    ] = 0,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, max=63, help="Trading days to simulate (default: the demo preset's month)."
        ),
    ] = None,
) -> None:
    """Simulate a broker's month, measure it, write its SEC reports and an HTML report.

    Runs offline on data pfof makes itself: one broker (routing for payment) sends a month of
    retail orders to four wholesalers and the exchanges; pfof measures every order against
    the NBBO, routes the same orders again with a best-price policy, writes the wholesalers'
    amended Rule 605 files, the broker's Rule 606(a)(1) XML and OUT/report.html, then ingests
    four other brokers' 606 disclosures into OUT/pfof.duckdb and compares them. OUT/data and
    OUT/reports are rewritten on every run.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from pfof.app.demo import run_demo
    from pfof.cli.arg_checks import output_folder

    output_folder(out)
    console = Console()
    bars = Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, TaskID] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total)
        bars.update(tasks[step], completed=done, total=total)

    with bars:
        result = run_demo(out, seed=seed, days=days, quarters=quarters, progress=progress)
    print_demo(console, result)


def print_demo(console: Console, r: DemoResult) -> None:
    """The demo's outcome: the broker comparison, the headline, the files and what next."""
    from rich.table import Table

    from pfof.cli.cmd_disclosures import print_brokers
    from pfof.cli.safe_text import markup
    from pfof.engine.broker_comparison import broker_quarters
    from pfof.engine.venue_identity import venue_mapping

    s = r.disclosures
    console.print(
        f"\n[bold]Other brokers' Rule 606 disclosures[/] ({r.disclosure_brokers} x "
        f"{r.disclosure_quarters} quarters): {len(s.ingested)} reports ingested, "
        f"{len(s.skipped)} already stored, {len(s.rejected)} rejected"
    )
    cells = r.disclosure_cells
    print_brokers(
        broker_quarters(cells),
        venue_mapping(cells, only_merged=True),
        tables=("payments", "rates"),
        console=console,
    )
    console.print()
    console.print(_headline(r))
    c = r.comparison
    console.print(
        f"Same orders, same simulated market, routed to the wholesaler with the best expected "
        f"price improvement: {c.better:,} of the {c.orders:,} market and "
        f"marketable limit orders get more, {c.worse:,} less. Price improvement is "
        "measured against the NBBO at receipt; PFOF is net of exchange fees and rebates."
    )
    listing = Table.grid(padding=(0, 2))
    listing.add_row("report.html", "the HTML report (charts work offline)")
    listing.add_row(
        "reports/605/",
        f"amended Rule 605 summary and detailed files of the "
        f"wholesalers ({len(r.files_605)} files, all valid)",
    )
    listing.add_row(
        "reports/606/",
        "the broker's Rule 606(a)(1) report"
        + (f" ({', '.join(p.name for p in r.files_606)})" if r.files_606 else ""),
    )
    listing.add_row("data/", "simulated canonical tables and per-order quality (Parquet)")
    listing.add_row("606/", "other brokers' 606 disclosures, compared above")
    listing.add_row("pfof.duckdb", "the DuckDB store of all of it")
    console.print(f"\nFiles in {markup(str(r.out))}/")
    console.print(listing)
    console.print("Next:")
    example = r.example_605
    if example is not None:
        console.print(
            f"  pfof rule605 validate {markup(str(example.path))}\n"
            f"    ({markup(example.what)}: {example.rows:,} rows)",
            soft_wrap=True,
        )
    console.print(
        f"  pfof brokers --db {markup(str(r.store))}\n"
        "    (the whole broker comparison, from the store)",
        soft_wrap=True,
    )


def _headline(r: DemoResult) -> Table:
    from rich.table import Table

    from pfof.cli.safe_text import markup
    from pfof.model.money import format_usd

    c = r.comparison
    a, b = c.actual, c.alternative
    table = Table(
        title=f"{markup(r.broker)}, {r.period}, {r.orders:,} orders",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("")
    table.add_column(a.label, justify="right")
    table.add_column(b.label, justify="right")
    table.add_column("change", justify="right")
    table.add_row(
        "Customers' price improvement",
        format_usd(a.price_improvement_usd),
        format_usd(b.price_improvement_usd),
        format_usd(c.pi_gain_usd, signed=True),
    )
    table.add_row(
        "Broker's payment for order flow",
        format_usd(a.pfof_usd),
        format_usd(b.pfof_usd),
        format_usd(c.pfof_change_usd, signed=True),
    )
    if r.options is not None:
        oa, ob = r.options

        def per(v: float | None, fmt: str = ",.2f", unit: str = "$") -> str:
            return "-" if v is None else f"{unit}{v:{fmt}}"

        def diff(x: float | None, y: float | None, fmt: str, unit: str = "$") -> str:
            if x is None or y is None:
                return "-"
            return f"{'+' if y >= x else '-'}{unit}{abs(y - x):{fmt}}"

        for label, x, y, fmt, unit in (
            ("Options PFOF per contract", oa.pfof_per_contract, ob.pfof_per_contract, ",.2f", "$"),
            ("Options improvement/contract", oa.pi_per_contract, ob.pi_per_contract, ",.2f", "$"),
            ("Options cost, vol points", oa.vol_points, ob.vol_points, ".3f", ""),
        ):
            table.add_row(label, per(x, fmt, unit), per(y, fmt, unit), diff(x, y, fmt, unit))
    return table
