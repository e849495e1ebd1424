"""``pfof audit``: an investor's trades against the NBBO and the broker's 606 disclosures.

The audit is :func:`pfof.app.audit.audit`; this module parses the arguments and prints the
result as tables (80 columns), JSON or CSV, and writes the HTML report. Rows of the trades
file that cannot be read are listed on stderr with their line and reason; the others are
audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from pfof.app.audit import AuditResult

#: Unreadable rows listed on stderr before "and N more".
SHOWN_ISSUES = 20


def register(app: typer.Typer) -> None:
    """Add ``pfof audit`` to the root app."""
    app.command("audit")(audit_command)


def audit_command(
    trades: Annotated[
        Path,
        typer.Argument(
            metavar="TRADES",
            help="Trades file, CSV or Parquet: trade_id, symbol, side, quantity, price, "
            "order_time [, execution_time, order_type, limit_price, broker, venue] "
            "(docs/audit.md).",
        ),
    ],
    quotes: Annotated[
        list[Path],
        typer.Option(
            "--quotes",
            "-q",
            metavar="SOURCE",
            help="Market data covering the trades (repeat for several files): Databento DBN, "
            "Polygon/Massive JSON, TAQ or any CSV/Parquet of quotes (docs/market-data.md).",
        ),
    ],
    tz: Annotated[
        str | None,
        typer.Option(help="Time zone of trade times written without a UTC offset."),
    ] = None,
    column_map: Annotated[
        str | None,
        typer.Option(
            "--map", help="Trades columns under other names: symbol=Ticker,side=Action,..."
        ),
    ] = None,
    quotes_tz: Annotated[
        str | None,
        typer.Option(help="Time zone of quote times written without one (e.g. UTC for TAQ)."),
    ] = None,
    quotes_map: Annotated[
        str | None,
        typer.Option(help="Quote columns under other names: bid=BidPx,ask=AskPx,..."),
    ] = None,
    quotes_format: Annotated[
        str | None,
        typer.Option(help="Format of the quote files when their name does not tell."),
    ] = None,
    quotes_symbol: Annotated[
        str | None,
        typer.Option(help="The symbol of quote files that name none (a one-symbol CSV)."),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="STORE",
            help="Store holding the broker's Rule 606(a)(1) reports (pfof ingest), for the "
            "payment estimate.",
        ),
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(help="The broker of rows that name none, as its 606 reports spell it."),
    ] = None,
    sp500: Annotated[
        Path | None,
        typer.Option(
            "--sp500",
            metavar="FILE",
            help="S&P 500 symbols, one per line (606 prices them apart); without it stocks "
            "count as 'other stocks', flagged.",
        ),
    ] = None,
    max_quote_age: Annotated[
        float | None,
        typer.Option(
            help="Seconds after which a quote is too old to use (default: no limit).", min=0
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            help="Continuous annual risk-free rate for option trades' cost in volatility "
            "points (default 0.045).",
        ),
    ] = None,
    dividend_yield: Annotated[
        float | None,
        typer.Option(
            help="Continuous annual dividend yield of option trades' underlyings (default 0).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per trade.")] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Write the HTML report (works offline)."),
    ] = None,
) -> None:
    """Each trade against the NBBO when the order arrived, and what the broker was paid."""
    import json
    import sys

    from rich.console import Console

    from pfof.app.audit import audit
    from pfof.errors import ParameterError

    if as_json and as_csv:
        raise ParameterError("--json and --csv each print the whole audit: choose one")
    if not quotes:
        raise ParameterError("no quote source given: pass --quotes FILE (repeat for several)")
    result = audit(
        trades,
        list(quotes),
        tz=tz,
        columns=column_map,
        quotes_format=quotes_format,
        quotes_tz=quotes_tz,
        quotes_columns=quotes_map,
        quotes_symbol=quotes_symbol,
        db=db,
        sp500=sp500,
        broker=broker,
        max_quote_age_s=max_quote_age,
        rate=rate,
        dividend_yield=dividend_yield,
    )
    _print_issues(Console(stderr=True, highlight=False, soft_wrap=True), result)
    if html is not None:
        result.write_html(html)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    elif as_csv:
        sys.stdout.write(result.to_csv())
    else:
        console = Console(highlight=False)
        _print_tables(console, result)
        if html is not None:
            console.print(f"wrote {html}")


def _print_issues(err: Console, result: AuditResult) -> None:
    from rich.markup import escape

    errors = result.issues
    for issue in errors[:SHOWN_ISSUES]:
        err.print(f"[yellow]{issue.severity.value}:[/] {escape(str(issue))}")
    if len(errors) > SHOWN_ISSUES:
        err.print(f"... and {len(errors) - SHOWN_ISSUES} more")


def _print_tables(console: Console, result: AuditResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    from pfof.cli.fit_width import column_parts, print_parts
    from pfof.model.money import format_usd

    data = result.to_json()
    headers = ["trade", "symbol", "side", "qty", "price", "bid", "ask", "position"]
    headers += ["PI ¢/sh", "PI $", "PFOF $", "flags"]
    rows = []
    for t in data["trades"]:
        pi = t["price_improvement_per_share"]
        rows.append(
            [
                escape(t["trade_id"]),
                escape(t["symbol"]),
                t["side"],
                t["quantity"],
                t["price"],
                t["nbbo_bid"] or "-",
                t["nbbo_ask"] or "-",
                t["position"],
                "-" if pi is None else f"{float(pi) * 100:.2f}",
                "-" if t["price_improvement_usd"] is None else t["price_improvement_usd"],
                t["pfof_estimate_usd"] or "-",
                escape(", ".join(t["flags"])) or "-",
            ]
        )
    title = "Trades against the NBBO at order time"
    print_parts(
        console,
        title,
        column_parts(console, title, headers, rows, keys=1, left={"trade", "symbol", "flags"}),
    )
    s = result.summary
    summary = Table(title="Summary")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_row("trades / with a quote", f"{s.trades:,} / {s.with_quote:,}")
    for position, count in s.positions.items():
        summary.add_row(f"  {position}", f"{count:,}")
    summary.add_row("price improvement, total", format_usd(s.total_price_improvement_usd))
    pfof = s.total_pfof_estimate_usd
    summary.add_row(
        "payment for order flow, estimated", "-" if pfof is None else format_usd(pfof, places=4)
    )
    ratio = s.price_improvement_per_pfof_dollar
    summary.add_row("price improvement per PFOF $", "-" if ratio is None else f"{ratio:,.2f}")
    console.print(summary)
    for note in result.notes:
        console.print(f"note: {escape(note)}")
