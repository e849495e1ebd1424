"""``pfof quality``: every order against the NBBO, from a folder of canonical Parquet tables.

The measuring is :func:`pfof.app.measure.measure_quality`; this module parses the arguments,
shows progress and prints the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from datetime import date

    from rich.table import Table

    from pfof.engine.quality_summary import QualitySummary


def register(app: typer.Typer) -> None:
    """Add ``pfof quality`` to the root app."""
    app.command("quality")(quality_command)


def quality_command(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Canonical tables as DIR/<table>/date=YYYY-MM-DD/*.parquet: orders, fills, and "
            "nbbo (or quotes, consolidated into the NBBO), e.g. the output of pfof simulate.",
            exists=True,
            file_okay=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the per-order table as OUT/date=YYYY-MM-DD/"
            "part-0.parquet (default: DIR/order_quality).",
        ),
    ] = None,
    stale_after_ms: Annotated[
        float,
        typer.Option(
            help="Also call a receipt NBBO older than this 'stale' (its spread metrics "
            "are null); 0, the default, sets no age limit. A quote from another "
            "session or before the open is always stale.",
            min=0,
        ),
    ] = 0.0,
    workers: Annotated[
        int, typer.Option(help="Trading days (or symbol batches) processed at once.", min=1)
    ] = 1,
    batch_symbols: Annotated[
        int | None,
        typer.Option(
            help="Measure each day in batches of this many symbols, reading one batch's "
            "NBBO at a time (default: only days whose NBBO has over 40 M rows, in batches "
            "of about 8 M NBBO rows).",
            min=1,
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="local (this process) or spark (PySpark runs the per-(day, symbol batch) "
            "kernels; needs pfof[spark] and Java).",
        ),
    ] = "local",
    master: Annotated[
        str | None,
        typer.Option(help="Spark master URL with --engine spark (default: local[2])."),
    ] = None,
) -> None:
    """Measure every order against the NBBO: spreads, price improvement, realized spreads."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from pfof.app.measure import measure_quality
    from pfof.cli.arg_checks import output_folder
    from pfof.cli.safe_text import markup

    if engine not in ("local", "spark"):
        raise typer.BadParameter(f"expected local or spark, got {engine!r}", param_hint="--engine")
    if master is not None and engine != "spark":
        raise typer.BadParameter("only with --engine spark", param_hint="--master")
    console = Console()
    out = output_folder(out or directory / "order_quality")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bars:
        task = bars.add_task("order quality by day", total=None)

        def progress(done: int, total: int, day: date) -> None:
            bars.update(task, completed=done, total=total, description=f"order quality {day}")

        def batch_progress(day: date, done: int, total: int) -> None:
            bars.update(task, description=f"order quality {day} (batch {done}/{total})")

        if engine == "spark":
            from pfof.app.spark_quality import spark_quality

            run = spark_quality(
                directory,
                out=out,
                master=master or "local[2]",
                stale_after_ms=stale_after_ms,
                batch_symbols=batch_symbols,
                progress=progress,
            )
        else:
            run = measure_quality(
                directory,
                out=out,
                stale_after_ms=stale_after_ms,
                workers=workers,
                progress=progress,
                batch_symbols=batch_symbols,
                batch_progress=batch_progress,
            )
    console.print(summary_table(run.summary))
    if run.dropped_fills:
        console.print(
            f"[yellow]{run.dropped_fills:,} fills of orders received on another day were "
            "not measured[/yellow]"
        )
    console.print(
        f"wrote {run.summary.orders:,} rows for {len(run.days)} day(s) to {markup(out)}",
        soft_wrap=True,
    )


def summary_table(s: QualitySummary) -> Table:
    """A summary as a two-column table (measure, value): readable at 80 columns."""
    from rich.table import Table

    table = Table(title="Execution quality (share-weighted over measured orders)")
    table.add_column("measure")
    table.add_column("value", justify="right")

    from pfof.model.money import format_amount, format_usd

    def money(v: float | None, digits: int = 4) -> str:
        return "-" if v is None else format_usd(v, places=digits)

    table.add_row("orders / filled", f"{s.orders:,} / {s.filled:,}")
    table.add_row("shares executed", format_amount(s.shares))
    table.add_row("avg quoted spread /sh", money(s.quoted_spread))
    table.add_row("avg effective spread /sh", money(s.effective_spread))
    table.add_row("E/Q", "-" if s.eq_ratio is None else f"{s.eq_ratio:.3f}")
    table.add_row("price improvement /sh", money(s.price_improvement_per_share))
    table.add_row("price improvement total", money(s.price_improvement_usd, 2))
    table.add_row("realized spread 15 s /sh", money(s.realized_spread_15s))
    table.add_row("realized spread 1 min /sh", money(s.realized_spread_1m))
    speed = s.time_to_first_fill_ms
    table.add_row("time to first fill (ms)", "-" if speed is None else f"{speed:,.1f}")
    for label, counts in (
        ("NBBO at receipt", s.nbbo_states),
        ("price vs quote", s.quote_positions),
    ):
        for key, n in counts.items():
            table.add_row(f"{label}: {key}", f"{n:,}")
    return table
