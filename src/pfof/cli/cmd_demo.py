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
    amended Rule 605 files, the broker's Rule 606(a)(1) XML and OUT/report.html, ingests both
    into OUT/pfof.duckdb and sets the price improvement they imply (`pfof brokers --quality`)
    next to the exact figure of the simulated orders, then ingests four other brokers' 606
    disclosures and compares them. OUT/data and OUT/reports are rewritten on every run.
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
        f"{len(s.skipped)} already stored, {len(s.rejected)} rejected; compared with the "
        "broker's own"
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
    if r.estimate_checks:
        own = r.own_reports
        if own is not None:
            console.print(
                f"\n[bold]The broker's 606 report and the wholesalers' 605 files[/] in the "
                f"store: {len(own.ingested)} ingested, {len(own.skipped)} already stored"
            )
        console.print(_estimate_table(r))
        console.print(
            "Estimate: the broker's 606 routing shares x each wholesaler's 605 net price "
            "improvement (`pfof brokers --quality`); exact: the simulated orders themselves, "
            "against the NBBO at the broker's receipt (docs/demo.md says why they differ)."
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
    if r.estimate_checks:
        console.print(
            f"  pfof brokers --quality --db {markup(str(r.store))}\n"
            "    (price improvement estimated from 606 and 605 reports, next to PFOF)",
            soft_wrap=True,
        )


#: Labels of the estimate table's groups.
_GROUPS = {
    ("sp500", "market"): "S&P 500 market",
    ("sp500", "marketable_limit"): "S&P 500 mkt limit",
    ("other_stocks", "market"): "Other market",
    ("other_stocks", "marketable_limit"): "Other mkt limit",
    ("all", "all"): "All",
}


def _estimate_table(r: DemoResult) -> Table:
    """Estimated (606 x 605) against exact price improvement, cents per 100 shares."""
    from decimal import Decimal

    from rich.table import Table

    from pfof.cli.safe_text import markup
    from pfof.model.money import format_amount

    def num(value: Decimal | None, places: int = 2, signed: bool = False) -> str:
        if value is None:
            return "-"
        text = format_amount(value, places)
        return f"+{text}" if signed and not text.startswith("-") else text

    table = Table(
        title=f"{markup(r.broker)}: price improvement, ¢ per 100 shares",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("")
    for header in ("606 x 605", "exact", "error", "PFOF", "covered"):
        table.add_column(header, justify="right")
    checks = r.estimate_checks
    for i, c in enumerate(checks):
        coverage = None if c.coverage is None else c.coverage * 100
        table.add_row(
            _GROUPS.get((c.section, c.order_type), f"{c.section} {c.order_type}"),
            num(c.estimate),
            num(c.exact),
            num(c.error, signed=True),
            num(c.pfof),
            "-" if coverage is None else f"{num(coverage, 0)}%",
            end_section=i == len(checks) - 2,  # the combined row stands apart
        )
    return table


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
