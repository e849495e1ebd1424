"""``pfof demo``: the main job on the embedded default data, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from pfof.app.demo import DemoError, DemoResult, run_demo
from pfof.cli.cmd_disclosures import print_brokers
from pfof.engine.disclosures import broker_quarters, venue_mapping
from pfof.reports.html import usd
from pfof.sim.peer_disclosures import BROKERS


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
    seed: Annotated[int, typer.Option(help="Seed of the simulation and the disclosures.")] = 0,
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

    try:
        with bars:
            result = run_demo(out, seed=seed, days=days, quarters=quarters, progress=progress)
    except DemoError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    _print(console, result)


def _print(console: Console, r: DemoResult) -> None:
    s = r.disclosures
    console.print(
        f"\n[bold]Other brokers' Rule 606 disclosures[/] ({len(BROKERS)} x "
        f"{r.disclosure_quarters} quarters): {len(s.ingested)} reports ingested, "
        f"{len(s.skipped)} already stored, {len(s.rejected)} rejected"
    )
    cells = r.disclosure_cells
    print_brokers(broker_quarters(cells), venue_mapping(cells, only_merged=True))
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
    console.print(f"\nFiles in {r.out}/")
    console.print(listing)
    example = r.files_605[0][1] if r.files_605 else r.out / "reports" / "605" / "FILE"
    console.print(
        f"Next: `pfof rule605 validate {example}`, "
        f"`pfof brokers --db {r.out / 'pfof.duckdb'} --json`"
    )


def _headline(r: DemoResult) -> Table:
    c = r.comparison
    a, b = c.actual, c.alternative
    table = Table(
        title=f"{r.broker} (simulated), {r.period}, {r.orders:,} orders",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("")
    table.add_column(a.label, justify="right")
    table.add_column(b.label, justify="right")
    table.add_column("change", justify="right")
    table.add_row(
        "Customers' price improvement",
        usd(a.price_improvement_usd),
        usd(b.price_improvement_usd),
        usd(c.pi_gain_usd, True),
    )
    table.add_row(
        "Broker's payment for order flow",
        usd(a.pfof_usd),
        usd(b.pfof_usd),
        usd(c.pfof_change_usd, True),
    )
    return table
