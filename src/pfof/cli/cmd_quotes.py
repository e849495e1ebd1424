"""``pfof quotes``: read market-data files (Databento, Polygon/Massive, TAQ, CSV/Parquet),
summarise them, build the NBBO and write pfof's canonical tables.

The work is :func:`pfof.app.quote_import.import_quotes`; this module parses the arguments and
prints the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

if TYPE_CHECKING:
    from pfof.formats.market_data import MarketDataFormat


def register(app: typer.Typer) -> None:
    """Add ``pfof quotes`` to the root app."""
    app.command("quotes")(quotes_command)


def quotes_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Market-data files or folders: Databento DBN (.dbn, .dbn.zst), Polygon/Massive "
            "v3 JSON pages, TAQ Parquet/CSV, or any CSV/Parquet with --map.",
        ),
    ],
    nbbo: Annotated[
        bool, typer.Option("--nbbo", help="Also build the NBBO of per-venue quotes.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write OUT/quotes and OUT/nbbo as date=YYYY-MM-DD/part-0.parquet (New York "
            "trading days), the layout pfof quality reads.",
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format", help="databento, polygon, taq or table (default: told by content)."
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone of times written without one, e.g. America/New_York (TAQ "
            "layouts have a documented default).",
        ),
    ] = None,
    column_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Column map for CSV/Parquet: symbol=Sym,ts=Time,bid=BidPx,bid_size=BidSz,"
            "ask=AskPx,ask_size=AskSz[,venue=Exch].",
        ),
    ] = None,
    symbol: Annotated[
        str | None,
        typer.Option("--symbol", help="Symbol of a source that names none (Polygon pages)."),
    ] = None,
) -> None:
    """Read market-data quotes, check them, and write canonical quotes/NBBO tables."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from pfof.app.quote_import import import_quotes
    from pfof.errors import ParameterError

    if format is not None and format not in ("databento", "polygon", "taq", "table"):
        raise ParameterError(f"--format {format!r}: expected databento, polygon, taq or table")
    done = import_quotes(
        files,
        out=out,
        nbbo=nbbo,
        format=cast("MarketDataFormat | None", format),
        tz=tz,
        columns=column_map,
        symbol=symbol,
    )
    console = Console(highlight=False)
    kind = "per-venue quotes" if done.per_venue else "consolidated quotes (NBBO)"
    console.print(f"{done.rows:,} {kind}; symbols: {escape(', '.join(done.symbols))}")
    if done.first is not None:
        console.print(f"from {done.first:%Y-%m-%d %H:%M:%S} to {done.last:%Y-%m-%d %H:%M:%S} UTC")
    if done.venues:
        table = Table("venue", "quotes", title="quotes by venue (MIC)")
        for venue, count in done.venues.items():
            table.add_row(escape(venue), f"{count:,}")
        console.print(table)
    if done.nbbo_rows is not None:
        states = ", ".join(f"{k} {v:,}" for k, v in sorted(done.states.items()))
        console.print(f"NBBO: {done.nbbo_rows:,} rows ({states})")
    if done.written:
        console.print(f"wrote {len(done.written)} file(s) under {escape(str(out))}")
