"""``pfof ingest``, ``pfof brokers`` and ``pfof venues``: the Rule 606 disclosure store."""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from pfof.engine.disclosures import (
    BROKER_QUARTER_COLUMNS,
    BrokerQuarter,
    VenueSpelling,
    broker_quarters,
    venue_mapping,
)
from pfof.store import queries
from pfof.store.ingest import IngestSummary, Outcome, ingest
from pfof.store.schema import connect

DEFAULT_DB = Path("pfof.duckdb")
DbOption = Annotated[
    Path, typer.Option("--db", help="DuckDB file of the store (created by `pfof ingest`).")
]

#: The default output's tables: (title, [(record key, header)]).
_PAYMENTS = (
    "Net payment for order flow per broker and quarter (USD, Rule 606)",
    [
        ("broker", "Broker"),
        ("period", "Quarter"),
        ("total_usd", "Net PFOF"),
        ("qoq_change_pct", "QoQ %"),
        ("sp500_usd", "S&P 500"),
        ("other_stocks_usd", "Other stocks"),
        ("options_usd", "Options"),
        ("top_venue", "Top venue"),
        ("top_venue_share_pct", "Top %"),
    ],
)
_ORDER_TYPES = (
    "Net payment by order type (USD)",
    [
        ("broker", "Broker"),
        ("period", "Quarter"),
        ("market_usd", "Market"),
        ("marketable_limit_usd", "Marketable limit"),
        ("non_marketable_limit_usd", "Non-marketable limit"),
        ("other_usd", "Other"),
    ],
)
_RATES = (
    "Rates (¢ per 100 shares; per contract for options), implied volume, venue HHI (0-10,000)",
    [
        ("broker", "Broker"),
        ("period", "Quarter"),
        ("sp500_rate", "S&P 500"),
        ("other_stocks_rate", "Other stocks"),
        ("options_rate", "Options"),
        ("implied_shares", "Shares"),
        ("implied_contracts", "Contracts"),
        ("sp500_hhi", "HHI S&P"),
        ("other_stocks_hhi", "HHI other"),
        ("options_hhi", "HHI options"),
    ],
)
_MONEY = {key for key, _ in _PAYMENTS[1] + _ORDER_TYPES[1] if key.endswith("_usd")}


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``brokers`` and ``venues`` to the root app."""
    app.command("ingest")(ingest_command)
    app.command("brokers")(brokers_command)
    app.command("venues")(venues_command)


def ingest_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="606 XML files, folders, or zip archives (nested zips allowed)."),
    ],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Ingest Rule 606 reports into the DuckDB store (idempotent: known files are skipped).

    Each file is stored in its own transaction with its SHA-256, path and ingestion time; a file
    that fails is rolled back whole and reported while the others go on. Exits 1 if any file
    was rejected.
    """
    console = Console(stderr=True)
    con = _connect(db, read_only=False)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
        console=console,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("ingest", total=None, current="")

            def advance(outcome: Outcome) -> None:
                progress.update(task, advance=1, current=_short(outcome.path))

            summary = ingest(con, paths, progress=advance)
    finally:
        con.close()
    _print_ingest_summary(console, summary, db)
    if summary.rejected:
        raise typer.Exit(1)


def _short(path: str, width: int = 60) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def _print_ingest_summary(console: Console, summary: IngestSummary, db: Path) -> None:
    ingested, skipped, rejected = summary.ingested, summary.skipped, summary.rejected

    def say(tag: str, outcome: Outcome, text: str) -> None:
        console.print(f"{tag} {escape(outcome.path)}: {escape(text)}", soft_wrap=True)

    for outcome in ingested:
        quarter = f"{outcome.year} Q{outcome.quarter}" if outcome.quarter else f"{outcome.year}"
        note = f", {outcome.warnings} warnings" if outcome.warnings else ""
        say(
            "[green]ingested[/]",
            outcome,
            f"{outcome.kind} {outcome.broker} {quarter}, {outcome.rows} rows{note}",
        )
    for outcome in skipped:
        say("[yellow]skipped[/] ", outcome, outcome.reason)
    for outcome in rejected:
        lines = outcome.reason.splitlines()
        if len(lines) > 4:  # `pfof rule606 validate` lists all
            lines = [*lines[:4], f"  ... and {len(lines) - 4} more"]
        say("[red]rejected[/]", outcome, "\n".join(lines))
    console.print(
        f"[bold]{len(ingested)} ingested ({summary.rows} rows), {len(skipped)} skipped, "
        f"{len(rejected)} rejected[/] -> {escape(str(db))}",
        soft_wrap=True,
    )


def _open_store(db: Path) -> duckdb.DuckDBPyConnection:
    if not db.exists():
        typer.echo(f"error: {db}: no such store; run `pfof ingest PATH... --db {db}`", err=True)
        raise typer.Exit(2)
    return _connect(db, read_only=True)


def _connect(db: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return connect(str(db), read_only=read_only)
    except duckdb.Error as exc:  # locked by another process, not a DuckDB file, ...
        typer.echo(f"error: {db}: cannot open the store: {exc}", err=True)
        raise typer.Exit(2) from exc


def brokers_command(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    broker: Annotated[
        str | None, typer.Option(help="Only this broker (exact <bd> spelling).")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
) -> None:
    """Net PFOF per broker and quarter, from the 606(a)(1) reports in the store.

    Per broker-quarter: net payment by section and order type, payment-weighted rates (cents per
    100 shares; per contract for options), quarter-over-quarter change, implied routed volume,
    the top-paying venue's share and venue concentration (HHI of routed %, 0-10,000). Warnings
    flag quarters whose rates look ~100x off the broker's other quarters and show venue
    spellings merged across quarters. Money and rates are exact decimal strings in JSON/CSV.
    """
    if as_json and as_csv:
        typer.echo("error: choose one of --json and --csv", err=True)
        raise typer.Exit(2)
    con = _open_store(db)
    try:
        cells = queries.disclosure_cells(con, broker=broker, year=year)
    finally:
        con.close()
    rows = broker_quarters(cells)
    records = [bq.to_json() for bq in rows]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=BROKER_QUARTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "warnings": "; ".join(record["warnings"])})
    else:
        print_brokers(rows, venue_mapping(cells, only_merged=True))


def print_brokers(rows: list[BrokerQuarter], merged: list[VenueSpelling]) -> None:
    console = Console()
    if not rows:
        console.print("no 606(a)(1) reports in the store")
        return
    records = [{**bq.to_json(), "period": f"{bq.year} Q{bq.quarter}"} for bq in rows]
    for title, columns in (_PAYMENTS, _ORDER_TYPES, _RATES):
        table = Table(title=title)
        for key, header in columns:
            table.add_column(
                header, justify="left" if key in ("broker", "period", "top_venue") else "right"
            )
        for record in records:
            table.add_row(*(_cell(record.get(key), key in _MONEY) for key, _ in columns))
        console.print(table)
    for bq in rows:
        for warning in bq.warnings:
            console.print(f"[yellow]warning[/] {escape(warning)}", soft_wrap=True)
    if merged:
        _print_mapping(console, merged, "Venue spellings merged across reports")


def _cell(value: object, whole: bool = False) -> str:
    """Table text: thousands separators on numeric strings (``whole``: no cents), "–" for null."""
    if value is None:
        return "–"
    text = str(value)
    if whole:
        text = str(Decimal(text).quantize(Decimal(1)))
    head, dot, tail = text.partition(".")
    sign, digits = ("-", head[1:]) if head.startswith("-") else ("", head)
    return f"{sign}{int(digits):,}{dot}{tail}" if digits.isdigit() else text


def venues_command(
    db: DbOption = DEFAULT_DB,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every spelling, not only the merged ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """How raw venue spellings map to canonical venues (MIC, else MPID, else normalised name)."""
    con = _open_store(db)
    try:
        cells = queries.disclosure_cells(con)
    finally:
        con.close()
    mapping = venue_mapping(cells, only_merged=not show_all)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": m.name,
                        "mic": m.mic,
                        "mpid": m.mpid,
                        "key": m.key,
                        "canonical_name": m.canonical_name,
                        "cells": m.cells,
                        "quarters": [f"{y}Q{q}" for y, q in m.quarters],
                    }
                    for m in mapping
                ],
                indent=2,
            )
        )
        return
    _print_mapping(Console(), mapping, "Venue spellings -> canonical venue")


def _print_mapping(console: Console, mapping: list[VenueSpelling], title: str) -> None:
    table = Table(title=title)
    for header in ("Key", "Canonical name", "Reported name", "MIC", "MPID", "Cells", "Quarters"):
        table.add_column(header)
    for m in mapping:
        first, last = m.quarters[0], m.quarters[-1]
        quarters = f"{first[0]} Q{first[1]}" + (f" – {last[0]} Q{last[1]}" if last != first else "")
        name, mic, mpid = m.name or "–", m.mic or "", m.mpid or ""
        table.add_row(m.key, m.canonical_name, name, mic, mpid, str(m.cells), quarters)
    console.print(table)
