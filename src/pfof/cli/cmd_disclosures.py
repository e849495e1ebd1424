"""``pfof ingest``, ``pfof brokers`` and ``pfof venues``: the Rule 606 disclosure store.

Tables are laid out to read at 80 columns: each groups its rows by broker (or canonical
venue) and holds a few figures; ``--wide`` prints the one-row-per-quarter tables of old.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb
    from rich.console import Console
    from rich.table import Table

    from pfof.engine.broker_comparison import BrokerQuarter
    from pfof.engine.venue_identity import VenueSpelling
    from pfof.store.ingest import FileOutcome, IngestSummary

DEFAULT_DB = Path("pfof.duckdb")
DbOption = Annotated[
    Path, typer.Option("--db", help="DuckDB file of the store (created by `pfof ingest`).")
]
WideOption = Annotated[
    bool,
    typer.Option("--wide", help="One row per broker and quarter with every column (~170 wide)."),
]

#: A table: (name, title, [(record key, header)]).
Layout = tuple[str, str, list[tuple[str, str]]]

#: ``pfof brokers``: tables that fit 80 columns, rows grouped by broker.
NARROW: list[Layout] = [
    (
        "payments",
        "Net payment for order flow (USD, Rule 606)",
        [
            ("total_usd", "Net PFOF"),
            ("qoq_change_pct", "QoQ %"),
            ("top_venue", "Top venue"),
            ("top_venue_share_pct", "Top %"),
        ],
    ),
    (
        "sections",
        "Net payment by section (USD)",
        [
            ("sp500_usd", "S&P 500"),
            ("other_stocks_usd", "Other stocks"),
            ("options_usd", "Options"),
        ],
    ),
    (
        "order_types",
        "Net payment by order type (USD)",
        [
            ("market_usd", "Market"),
            ("marketable_limit_usd", "Marketable limit"),
            ("non_marketable_limit_usd", "Non-marketable limit"),
            ("other_usd", "Other"),
        ],
    ),
    (
        "rates",
        "Rates (¢ per 100 shares; per contract for options), implied volume (millions)",
        [
            ("sp500_rate", "S&P 500"),
            ("other_stocks_rate", "Other stocks"),
            ("options_rate", "Options"),
            ("implied_shares", "Shares"),
            ("implied_contracts", "Contracts"),
        ],
    ),
    (
        "hhi",
        "Venue concentration (HHI of routed %, 0-10,000)",
        [
            ("sp500_hhi", "S&P 500"),
            ("other_stocks_hhi", "Other stocks"),
            ("options_hhi", "Options"),
        ],
    ),
]
#: ``pfof brokers --wide``: one row per broker and quarter.
WIDE: list[Layout] = [
    (
        "payments",
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
    ),
    (
        "order_types",
        "Net payment by order type (USD)",
        [
            ("broker", "Broker"),
            ("period", "Quarter"),
            ("market_usd", "Market"),
            ("marketable_limit_usd", "Marketable limit"),
            ("non_marketable_limit_usd", "Non-marketable limit"),
            ("other_usd", "Other"),
        ],
    ),
    (
        "rates",
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
    ),
]
_TEXT = {"broker", "period", "top_venue"}
#: Files ``pfof ingest`` lists per outcome (ingested, skipped, rejected) without ``--all``.
LISTED = 20


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``brokers`` and ``venues`` to the root app."""
    app.command("ingest")(ingest_command)
    app.command("brokers")(brokers_command)
    app.command("venues")(venues_command)


def ingest_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="606 XML and 605 (.txt, .dat, .csv) files, folders, or zip archives (nested "
            "zips allowed)."
        ),
    ],
    db: DbOption = DEFAULT_DB,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help=f"List every file, not only the first {LISTED} of each outcome."
        ),
    ] = False,
) -> None:
    """Ingest Rule 606 reports and Rule 605 files into the DuckDB store (idempotent: known
    files are skipped).

    Each file is stored in its own transaction with its SHA-256, path and ingestion time; a file
    that fails is rolled back whole and reported while the others go on. The same report in
    another byte form (line endings, indentation, a new <timestamp>) is skipped as a duplicate;
    a restatement is stored and replaces the earlier edition in every total (`pfof reports`).
    A FINRA bulk file's CRD is kept; another filer's report identical to a stored one (an
    affiliated broker-dealer) is listed as such and counted once. Exits 1 if any file was
    rejected.
    """
    import duckdb
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    from pfof.cli.arg_checks import store_file
    from pfof.cli.safe_text import markup
    from pfof.errors import StoreError
    from pfof.store.ingest import entry_count, ingest

    console = Console(stderr=True)
    con = _connect(store_file(db), read_only=False)
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
            task = progress.add_task("ingest", total=None, current="counting files")
            # the total up front: folder and zip listings only, no report read
            progress.update(task, total=entry_count(paths), current="")

            def advance(outcome: FileOutcome) -> None:
                progress.update(task, advance=1, current=markup(_short(outcome.path)))

            summary = ingest(paths, con, progress=advance)
    except duckdb.Error as exc:  # the store refused a write (disk full, file gone read-only)
        raise StoreError(f"{db}: cannot write the store: {exc}") from exc
    finally:
        con.close()
    print_ingest_summary(console, summary, db, limit=None if show_all else LISTED)
    if summary.rejected:
        raise typer.Exit(1)


def _short(path: str, width: int = 40) -> str:
    return path if len(path) <= width else "..." + path[-(width - 3) :]


def print_ingest_summary(
    console: Console, summary: IngestSummary, db: Path, *, limit: int | None = LISTED
) -> None:
    """One line per file (ingested, skipped, rejected with its first reasons), at most
    ``limit`` of each outcome (``None``: all) with a count of the rest, then totals."""
    from pfof.cli.safe_text import markup

    ingested, skipped, rejected = summary.ingested, summary.skipped, summary.rejected

    def say(tag: str, path: str, *lines: str) -> None:
        text = "\n".join(markup(line) for line in lines)  # each line escaped, breaks kept
        console.print(f"{tag} {markup(path)}: {text}", soft_wrap=True)

    def listing(outcomes: list[FileOutcome], what: str) -> Iterator[FileOutcome]:
        yield from outcomes if limit is None else outcomes[:limit]
        if limit is not None and len(outcomes) > limit:
            rest = len(outcomes) - limit
            console.print(f"  ... and {rest:,} more {what} (--all lists every file)")

    for outcome in listing(ingested, "ingested"):
        quarter = f"{outcome.year} Q{outcome.quarter}" if outcome.quarter else f"{outcome.year}"
        note = f", {outcome.warnings} warnings" if outcome.warnings else ""
        note += f"; {outcome.reason}" if outcome.reason else ""  # restates / superseded by
        what = f"{outcome.kind} {outcome.broker} {quarter}"
        if outcome.format is not None:  # a Rule 605 file: format, market center, month
            what = f"605 {outcome.format} {outcome.market_center} {outcome.month}"
        say("[green]ingested[/]", outcome.path, f"{what}, {outcome.rows} rows{note}")
    for outcome in listing(skipped, "skipped"):
        say("[yellow]skipped[/] ", outcome.path, outcome.reason)
    for outcome in listing(rejected, "rejected"):
        lines = outcome.reason.splitlines()
        if len(lines) > 4:  # `pfof rule606 validate` lists all
            lines = [*lines[:4], f"  ... and {len(lines) - 4} more"]
        say("[red]rejected[/]", outcome.path, *lines)
    if summary.affiliated:
        console.print(
            f"{len(summary.affiliated)} identical to another filer's report (affiliated "
            "filers): shown by `pfof reports`, counted once",
            soft_wrap=True,
        )
    console.print(
        f"[bold]{len(ingested)} ingested ({summary.rows} rows), {len(skipped)} skipped, "
        f"{len(rejected)} rejected[/] -> {markup(db)}",
        soft_wrap=True,
    )


def _open_store(db: Path) -> duckdb.DuckDBPyConnection:
    from pfof.errors import InputError

    if not db.exists():
        raise InputError(f"{db}: no such store; run `pfof ingest PATH... --db {db}`")
    return _connect(db, read_only=True)


def _connect(db: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    from pfof.errors import StoreError
    from pfof.store.schema import connect

    try:
        return connect(str(db), read_only=read_only)
    except duckdb.Error as exc:  # locked by another process, not a DuckDB file, ...
        raise StoreError(f"{db}: cannot open the store: {exc}") from exc


def _cells(db: Path, **where: Any) -> Any:
    from pfof.store import queries

    con = _open_store(db)
    try:
        return queries.disclosure_cells(con, **where)
    finally:
        con.close()


def brokers_command(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    broker: Annotated[
        str | None, typer.Option(help="Only this broker (exact <bd> spelling).")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    wide: WideOption = False,
    quality: Annotated[
        bool,
        typer.Option(
            "--quality",
            help="Estimated price improvement (606 routing x venues' 605 data) next to PFOF.",
        ),
    ] = False,
) -> None:
    """Net PFOF per broker and quarter, from the 606(a)(1) reports in the store.

    Per broker-quarter: net payment by section and order type, payment-weighted rates (cents per
    100 shares; per contract for options), quarter-over-quarter change, implied routed volume,
    the top-paying venue's share and venue concentration (HHI of routed %, 0-10,000). Warnings
    flag quarters whose rates look ~100x off the broker's other quarters and show venue
    spellings merged across quarters. Money and rates are exact decimal strings in JSON/CSV.

    --quality joins each broker's routing of market and marketable limit orders to its
    venues' Rule 605 price improvement of the same months (docs/rule605.md): estimated
    improvement and PFOF in cents per 100 shares, improvement per $1 of PFOF, the coverage
    and the venues without 605 data.
    """
    import csv
    import json
    import sys

    from pfof.cli.safe_text import csv_cell
    from pfof.engine.broker_comparison import BROKER_QUARTER_COLUMNS, broker_quarters
    from pfof.engine.venue_identity import venue_mapping
    from pfof.errors import ParameterError

    if as_json and as_csv:
        raise ParameterError("choose one of --json and --csv")
    if quality:
        brokers_quality(db, as_json=as_json, as_csv=as_csv, broker=broker, year=year)
        return
    cells = _cells(db, broker=broker, year=year)
    rows = broker_quarters(cells)
    records = [bq.to_json() for bq in rows]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=BROKER_QUARTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            row = {**record, "warnings": "; ".join(record["warnings"])}
            writer.writerow({key: csv_cell(value) for key, value in row.items()})
    else:
        print_brokers(rows, venue_mapping(cells, only_merged=True), wide=wide)
        _note_affiliated(db)


def _note_affiliated(db: Path) -> None:
    """Say how many affiliated filers' identical reports the totals counted once."""
    from rich.console import Console

    from pfof.store import queries

    con = _open_store(db)
    try:
        n = sum(r.status == "affiliated" for r in queries.stored_reports(con))
    finally:
        con.close()
    if n:
        Console().print(
            f"{n} report(s) identical to another filer's (affiliated filers) counted once; "
            "`pfof reports` lists them",
            soft_wrap=True,
        )


#: ``pfof brokers --quality``: (record key, header) of the table's figures.
QUALITY: list[tuple[str, str]] = [
    ("pi_cents_per_100_shares", "Price impr."),
    ("pfof_cents_per_100_shares", "PFOF"),
    ("pi_per_pfof_dollar", "PI per $1"),
    ("coverage_pct", "Cover %"),
]
_SECTION_LABELS = {"sp500": "S&P 500", "other_stocks": "Other", "all": "All"}
_TYPE_LABELS = {"market": "Market", "marketable_limit": "Mkt limit", "all": "All"}


def brokers_quality(
    db: Path, *, as_json: bool, as_csv: bool, broker: str | None, year: int | None
) -> None:
    """``pfof brokers --quality``: the estimates of :mod:`pfof.engine.broker_quality`."""
    import csv
    import json
    import sys

    from pfof.cli.safe_text import csv_cell
    from pfof.engine.broker_quality import QUALITY_COLUMNS, broker_quality

    con = _open_store(db)
    try:
        rows = broker_quality(con, broker=broker, year=year)
    finally:
        con.close()
    records = [r.to_json() for r in rows]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=QUALITY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for r, record in zip(rows, records, strict=True):
            flat = {
                **record,
                "months_605": " ".join(record["months_605"]),
                "all_stock_venues": "; ".join(record["all_stock_venues"]),
                "unmatched_venues": "; ".join(str(u) for u in r.unmatched),
                "notes": "; ".join(record["notes"]),
            }
            writer.writerow({key: csv_cell(value) for key, value in flat.items()})
    else:
        print_quality(records)


def print_quality(records: list[dict[str, Any]], *, console: Console | None = None) -> None:
    """Estimated price improvement next to PFOF, rows grouped by broker, then the venues
    without 605 data and the notes of each broker-quarter."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from pfof.cli.safe_text import cell, markup, visible

    console = console or Console()
    if not records:
        console.print(
            "no broker-quarter whose venues have Rule 605 data for its months "
            "(`pfof ingest` 606 and 605 reports of the same months)"
        )
        return
    table = Table(title="Estimated price improvement (606 x 605) and PFOF, ¢ per 100 shares")
    table.add_column("Quarter", min_width=7)
    table.add_column("Section")
    table.add_column("Type")
    for _, header in QUALITY:
        table.add_column(header, justify="right")
    for broker in dict.fromkeys(r["broker"] for r in records):
        mine = [r for r in records if r["broker"] == broker]
        blank = [""] * (len(QUALITY) + 2)
        table.add_row(Text(visible(broker), style="bold", overflow="fold"), *blank)
        for i, r in enumerate(mine):
            table.add_row(
                f"{r['year']} Q{r['quarter']}",
                _SECTION_LABELS.get(r["section"], r["section"]),
                _TYPE_LABELS.get(r["order_type"], r["order_type"]),
                *(cell(_cents(r.get(key))) for key, _ in QUALITY),
                end_section=i == len(mine) - 1,
            )
    console.print(table)
    for r in records:
        if r["section"] != "all":
            continue
        period = f"{r['broker']} {r['year']} Q{r['quarter']}"
        unmatched = [u["venue"] for u in r["unmatched_venues"]]
        if unmatched:
            console.print(
                f"[yellow]no 605 data[/] {markup(period)}: {markup(', '.join(unmatched))}",
                soft_wrap=True,
            )
        if r["all_stock_venues"]:
            console.print(
                f"[dim]note[/] {markup(period)}: no S&P 500 flag in the 605 reports of "
                f"{markup(', '.join(r['all_stock_venues']))}; their all-stock figures stand "
                "for both sections",
                soft_wrap=True,
            )
        for note in r["notes"]:
            console.print(f"[dim]note[/] {markup(period)}: {markup(note)}", soft_wrap=True)


def _cents(value: object) -> str:
    """A figure of the quality table to 2 decimals (the JSON keeps 4), "–" for null."""
    from decimal import Decimal

    from pfof.model.money import format_amount

    return "–" if value is None else format_amount(Decimal(str(value)), 2)


def print_brokers(
    rows: list[BrokerQuarter],
    merged: list[VenueSpelling],
    *,
    wide: bool = False,
    tables: tuple[str, ...] | None = None,
    console: Console | None = None,
) -> None:
    """Broker-quarter tables (``tables``: names of :data:`NARROW`/:data:`WIDE` to print, default
    all), their warnings, and the venue spellings merged across reports."""
    from rich.console import Console

    from pfof.cli.safe_text import markup

    console = console or Console()
    if not rows:
        console.print("no 606(a)(1) reports in the store")
        return
    records = [{**bq.to_json(), "period": f"{bq.year} Q{bq.quarter}"} for bq in rows]
    for name, title, columns in WIDE if wide else NARROW:
        if tables is None or name in tables:
            table = _wide_table(title, columns, records) if wide else None
            console.print(table or _grouped_table(title, columns, records))
    for bq in rows:
        for warning in bq.warnings:
            console.print(f"[yellow]warning[/] {markup(warning)}", soft_wrap=True)
    if merged:
        print_venues(merged, "Venue spellings merged across reports", wide=wide, console=console)


def _wide_table(title: str, columns: list[tuple[str, str]], records: list[dict]) -> Table:
    from rich.table import Table

    from pfof.cli.safe_text import cell

    table = Table(title=title)
    for key, header in columns:
        table.add_column(header, justify="left" if key in _TEXT else "right")
    for record in records:
        table.add_row(*(cell(_cell(record.get(key), key)) for key, _ in columns))
    return table


def _grouped_table(title: str, columns: list[tuple[str, str]], records: list[dict]) -> Table:
    """Quarter rows under a bold row per broker: the broker's name takes no column of its own."""
    from rich.table import Table
    from rich.text import Text

    from pfof.cli.safe_text import cell, visible

    table = Table(title=title)
    table.add_column("Quarter", min_width=7)
    for key, header in columns:
        table.add_column(header, justify="left" if key in _TEXT else "right")
    brokers = list(dict.fromkeys(r["broker"] for r in records))
    for broker in brokers:
        mine = [r for r in records if r["broker"] == broker]
        table.add_row(Text(visible(broker), style="bold", overflow="fold"), *([""] * len(columns)))
        for i, record in enumerate(mine):
            cells = (cell(_cell(record.get(key), key, millions=True)) for key, _ in columns)
            table.add_row(record["period"], *cells, end_section=i == len(mine) - 1)
    return table


def _cell(value: object, key: str = "", *, millions: bool = False) -> str:
    """Table text: thousands separators on numbers, whole dollars for ``*_usd``, "–" for null;
    ``millions``: implied volumes (``implied_*``) in millions with one decimal."""
    from decimal import Decimal, InvalidOperation

    from pfof.model.money import format_amount

    if value is None:
        return "–"
    text = str(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if key.endswith("_usd"):
        return format_amount(number, 0)
    if millions and key.startswith("implied_"):
        return format_amount(number / 1_000_000, 1)
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_amount(number, places)


def venues_command(
    db: DbOption = DEFAULT_DB,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every spelling, not only the merged ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    wide: WideOption = False,
) -> None:
    """How raw venue spellings map to canonical venues (MIC, else MPID, else normalised name)."""
    import json

    from pfof.engine.venue_identity import venue_mapping

    mapping = venue_mapping(_cells(db), only_merged=not show_all)
    if as_json:
        records = [
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
        ]
        typer.echo(json.dumps(records, indent=2))
        return
    print_venues(mapping, "Venue spellings -> canonical venue", wide=wide)


def print_venues(
    mapping: list[VenueSpelling], title: str, *, wide: bool = False, console: Console | None = None
) -> None:
    """Venue spellings: grouped under their canonical venue, or (``wide``) one row each with
    the canonical key and both codes."""
    from rich.console import Console
    from rich.table import Table

    from pfof.cli.safe_text import cell

    console = console or Console()
    table = Table(title=title)
    if wide:
        for header in (
            "Key",
            "Canonical name",
            "Reported name",
            "MIC",
            "MPID",
            "Cells",
            "Quarters",
        ):
            table.add_column(header)
        for m in mapping:
            name, mic, mpid = m.name or "–", m.mic or "", m.mpid or ""
            texts = (m.key, m.canonical_name, name, mic, mpid)
            table.add_row(*map(cell, texts), str(m.cells), _span(m.quarters))
        console.print(table)
        return
    table.add_column("Venue (as reported, indented)")
    table.add_column("MIC / MPID")
    table.add_column("Cells", justify="right")
    table.add_column("Quarters")
    groups: dict[str, list[VenueSpelling]] = {}
    for m in mapping:
        groups.setdefault(m.key, []).append(m)
    for spellings in groups.values():
        first = spellings[0]
        quarters = sorted(q for m in spellings for q in m.quarters)
        codes = _codes(*{c for m in spellings for c in (m.mic, m.mpid) if c})
        cells = sum(m.cells for m in spellings)
        table.add_row(
            cell(first.canonical_name, style="bold"), cell(codes), f"{cells:,}", _span(quarters)
        )
        if len(spellings) == 1 and first.name == first.canonical_name:
            continue
        for i, m in enumerate(spellings):
            table.add_row(
                cell("  " + (m.name or "–")),
                cell(_codes(m.mic, m.mpid)),
                f"{m.cells:,}",
                _span(m.quarters),
                end_section=i == len(spellings) - 1,
            )
    console.print(table)


def _codes(*codes: str | None) -> str:
    return " ".join(sorted(c for c in codes if c))


def _span(quarters: Any) -> str:
    """``2020 Q1 – 2022 Q4`` (or one quarter) of sorted (year, quarter) pairs."""
    (y0, q0), (y1, q1) = quarters[0], quarters[-1]
    return f"{y0} Q{q0}" + (f" – {y1} Q{q1}" if (y1, q1) != (y0, q0) else "")
