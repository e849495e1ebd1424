"""``pfof simulate``: generate a simulated market and retail order flow as Parquet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer


def simulate_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Output directory (Parquet per table, partitioned by day)."
        ),
    ] = Path("sim-out"),
    days: Annotated[
        int | None,
        typer.Option(
            help="Trading days to simulate (weekends and NYSE holidays are skipped).", min=1
        ),
    ] = None,
    symbols: Annotated[int | None, typer.Option(help="Number of stocks.", min=3)] = None,
    orders_per_day: Annotated[
        int | None, typer.Option("--orders-per-day", help="Retail orders per day.", min=1)
    ] = None,
    quotes_per_day: Annotated[
        int | None,
        typer.Option(
            "--quotes-per-day", help="Target venue quote updates per day (approximate).", min=100
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives byte-identical files.", min=0)
    ] = 0,
    start: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD); the first session on or after it.")
    ] = None,
    preset: Annotated[
        str,
        typer.Option(
            help="'default' (four brokers, one per routing "
            "policy, with options) or 'demo' (one broker, four "
            "wholesalers, one month)."
        ),
    ] = "default",
    db: Annotated[
        Path | None, typer.Option(help="Also load the tables into this DuckDB file.")
    ] = None,
) -> None:
    """Simulate quotes, NBBO, retail orders, routing, fills and PFOF payments."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from pfof.cli.arg_checks import date_option, output_folder, store_file
    from pfof.cli.safe_text import markup
    from pfof.errors import ParameterError
    from pfof.model.money import format_usd
    from pfof.sim.config import SimConfig
    from pfof.sim.run import simulate

    console = Console()

    if preset not in ("default", "demo"):
        raise typer.BadParameter(f"--preset must be 'default' or 'demo', got {preset!r}")
    config = SimConfig.demo() if preset == "demo" else SimConfig()
    overrides = {
        k: v
        for k, v in {
            "days": days,
            "symbols": symbols,
            "orders_per_day": orders_per_day,
            "quotes_per_day": quotes_per_day,
            "start": None if start is None else date_option(start, "--start"),
        }.items()
        if v is not None
    }
    config = replace(config, seed=seed, **overrides)  # type: ignore[arg-type]
    if config.quotes_per_day < 20 * config.symbols:
        config = replace(config, quotes_per_day=20 * config.symbols)
    try:
        config.validate()
    except ParameterError as exc:  # a size out of range: named as the option that set it
        field = str(exc).split(" ", 1)[0]
        if field in overrides or field == "seed":
            raise ParameterError(f"--{field.replace('_', '-')}{str(exc)[len(field) :]}") from exc
        raise
    except ValueError as exc:  # an inconsistent combination of options
        raise ParameterError(str(exc)) from exc
    output_folder(out)
    if db is not None:
        store_file(db)

    sink = None
    con = None
    if db is not None:
        import duckdb

        from pfof.errors import StoreError
        from pfof.store.canonical import load_day, replace_broker_rows

        try:
            con = duckdb.connect(str(db))
        except duckdb.Error as exc:  # locked by another process, not a DuckDB file, ...
            raise StoreError(f"{db}: cannot open the store: {exc}") from exc
        source = f"sim:{out.resolve()}"

        def sink(session, tables):
            if session is None:
                for name, table in tables.items():
                    replace_broker_rows(con, name, table)
            else:
                load_day(con, session.day, tables, source)

    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=config.days)

        def progress(done: int, total: int, session) -> None:
            bar.update(task, completed=done, description=str(session.day))

        try:
            summary = simulate(config, out, progress=progress, sink=sink)
        finally:
            if con is not None:
                con.close()

    table = Table(
        title=f"{summary.days} trading days, {summary.first_day} to {summary.last_day}",
        caption=f"{summary.half_days} half days; {summary.seconds:.1f} s",
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in summary.rows.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(
        f"PFOF paid to brokers (net of exchange fees and rebates): "
        f"[bold]{format_usd(summary.payments_usd)}[/bold]; price improvement on marketable "
        f"orders: [bold]{format_usd(summary.price_improvement_usd)}[/bold]"
    )
    console.print(
        f"Parquet written to [bold]{markup(out)}[/bold]"
        + (f"; loaded into [bold]{markup(db)}[/bold]" if db is not None else ""),
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``pfof simulate`` to the root app."""
    app.command("simulate")(simulate_command)
