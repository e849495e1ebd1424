"""``pfof rule605``: check and summarise SEC Rule 605 files (legacy, amended detailed, summary).

The commands parse arguments, call :mod:`pfof.formats.sec605` (imported when a command runs)
and print. Tables read at 80 columns: when one does not fit the terminal, ``validate`` lists one
line per issue and ``show`` splits its columns over several tables; ``--wide`` forces the one
wide table.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pfof.cli.fit_width import column_parts, fits, print_parts
from pfof.cli.safe_text import markup

if TYPE_CHECKING:
    from pfof.errors import Issue
    from pfof.model.records605 import DetailedRecord, LegacyRecord, SummaryRecord

app = typer.Typer(
    name="rule605",
    help="SEC Rule 605 execution-quality files: validate and summarise legacy (26-field), "
    "amended detailed (55-field) and amended summary (CSV) reports.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Rule 605 file.")
]
KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind", help="Format (legacy, detailed, summary); detected from line 1 if omitted."
    ),
]
MetadataOpt = Annotated[
    Path | None,
    typer.Option(
        "--metadata",
        exists=True,
        dir_okay=False,
        help="CSVW metadata JSON (e.g. the SEC's oes-metadata.json) to validate a summary "
        "file against, instead of pfof's built-in rules.",
    ),
]
WideOption = Annotated[
    bool, typer.Option("--wide", help="One table with every column, whatever the width.")
]


def _issue_json(issue: Issue) -> dict[str, Any]:
    """An issue as the JSON of ``validate --json`` (keys as ever; ``constraint`` is the rule)."""
    return {
        "severity": issue.severity.value,
        "file": issue.file,
        "line": issue.line,
        "column": issue.column,
        "constraint": issue.rule,
        "message": issue.message,
    }


@app.command()
def validate(
    file: FileArg,
    kind: KindOpt = None,
    metadata: MetadataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print issues as JSON.")] = False,
    warnings: Annotated[
        bool, typer.Option("--warnings/--no-warnings", help="Also list warnings.")
    ] = True,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict/--lenient",
            help="Strict: consistency warnings count as errors. Lenient (default): they are "
            "listed as warnings.",
        ),
    ] = False,
    wide: WideOption = False,
) -> None:
    """Check FILE; list every violation with line, column and constraint. Exit 1 if invalid."""
    from pfof.cli.arg_checks import input_file
    from pfof.formats.sec605 import validate_605

    if metadata is not None:
        input_file(metadata, "--metadata")
    verdict = validate_605(file, strict=strict, kind=kind, metadata=metadata)  # type: ignore[arg-type]
    shown = verdict.issues if warnings else verdict.errors
    if as_json:
        record = {
            "file": verdict.file,
            "kind": verdict.kind,
            "valid": verdict.valid,
            "records": verdict.records,
            "errors": len(verdict.errors),
            "warnings": len(verdict.warnings),
            "issues": [_issue_json(i) for i in shown],
        }
        print(json.dumps(record, indent=2))
    else:
        console = Console()
        if shown:
            _print_issues(console, shown, f"{verdict.file} ({verdict.kind})", wide)
        state = "[green]valid[/green]" if verdict.valid else "[red]invalid[/red]"
        console.print(
            f"{markup(verdict.file)}: {verdict.kind} report, {verdict.records} records, "
            f"{len(verdict.errors)} errors, {len(verdict.warnings)} warnings: {state}",
            soft_wrap=True,
        )
    if not verdict.valid:
        raise typer.Exit(1)


#: Issues ``validate`` prints; ``--json`` lists every one.
SHOWN_ISSUES = 50


def _print_issues(console: Console, found: list[Issue], title: str, wide: bool) -> None:
    """A table of the first :data:`SHOWN_ISSUES` issues, or one line per issue when the table
    does not fit, then how many more there are."""
    issues = found[:SHOWN_ISSUES]
    _issue_lines(console, issues, title, wide)
    if len(found) > len(issues):
        console.print(f"  ... and {len(found) - len(issues):,} more issues (--json lists all)")


def _issue_lines(console: Console, issues: list[Issue], title: str, wide: bool) -> None:
    table = Table(title=markup(title))
    for column in ("line", "column", "constraint", "severity", "message"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        style = "red" if issue.severity == "error" else "yellow"
        table.add_row(
            str(issue.line),
            markup(issue.column),
            markup(issue.rule),
            f"[{style}]{issue.severity.value}[/{style}]",
            markup(issue.message),
        )
    if wide or fits(console, table):
        console.print(table)
        return
    console.print(markup(title), soft_wrap=True)
    for issue in issues:
        style = "red" if issue.severity == "error" else "yellow"
        where = markup(str(replace(issue, file="")))  # the title names the file
        console.print(f"  [{style}]{issue.severity.value}[/{style}] {where}", soft_wrap=True)


@app.command()
def show(
    file: FileArg, kind: KindOpt = None, metadata: MetadataOpt = None, wide: WideOption = False
) -> None:
    """Summarise FILE in a table (legacy/detailed: totals by order type; summary: its rows).

    The file is read as a stream: a detailed report of any length is summed row by row."""
    from pfof.cli.arg_checks import input_file
    from pfof.engine.stats605 import order_type_name
    from pfof.formats.sec605 import scan_605, validate_605
    from pfof.model.records605 import SummaryRecord

    if metadata is not None:
        input_file(metadata, "--metadata")

    summaries: list[SummaryRecord] = []
    totals = _Totals(order_type_name)

    def take(record: LegacyRecord | DetailedRecord | SummaryRecord) -> None:
        if isinstance(record, SummaryRecord):
            summaries.append(record)  # a summary has a few dozen rows
        else:
            totals.add(record)

    # lenient: show what could be read; validate lists the errors
    parsed = scan_605(file, kind=kind, on_record=take)  # type: ignore[arg-type]
    errors, warnings = len(parsed.errors), len(parsed.warnings)
    if metadata is not None:  # the counts under the SEC's rules, not pfof's built-in ones
        verdict = validate_605(file, kind=parsed.kind, metadata=metadata)  # type: ignore[arg-type]
        errors, warnings = len(verdict.errors), len(verdict.warnings)
    console = Console()
    if not parsed.records:
        console.print(
            f"{markup(parsed.file)}: no readable records ({errors} errors)", soft_wrap=True
        )
        raise typer.Exit(1 if errors else 0)
    if parsed.kind == "summary":
        headers, rows, keys = _summary_rows(summaries)
    else:
        headers, rows, keys = totals.rows()
    title = f"{parsed.file} ({parsed.kind}, {parsed.records} records)"
    parts = column_parts(
        console, title, headers, rows, keys=keys, wide=wide, left={"order type", "size $"}
    )
    print_parts(console, title, parts)
    if errors or warnings:
        console.print(
            f"{errors} errors, {warnings} warnings: run `pfof rule605 validate` for details"
        )


#: Summary columns shown by ``show``: (label, attribute, decimals shown).
_SHOWN: tuple[tuple[str, str, int], ...] = (
    ("S&P", "sp500", 0),
    ("size $", "order_size", 0),
    ("order type", "order_type", 0),
    ("avg sh", "avg_order_qty", 1),
    ("avg $", "avg_order_notional", 0),
    ("mid $", "avg_midpoint", 2),
    ("at/better", "pct_at_quote_or_better", 4),
    ("PI", "pct_price_improved", 4),
    ("PI %", "avg_pct_price_improvement", 5),
    ("eff %", "avg_effective_spread_pct", 5),
    ("quoted %", "avg_quoted_spread_pct", 5),
    ("E/Q", "avg_eq_ratio", 3),
    ("RS 15s %", "realized_spread_pct_15s", 5),
    ("RS 1m %", "realized_spread_pct_1m", 5),
    ("ms", "avg_execution_time_ms", 1),
)


def _summary_rows(records: list[SummaryRecord]) -> tuple[list[str], list[list[str]], int]:
    """The summary rows, rounded for reading (fractions, not x100; times in ms); a row is
    identified by its first three columns (S&P 500 flag, size, order type)."""
    from pfof.engine.stats605 import order_type_name, size_label
    from pfof.formats.sec605_numbers import format_trimmed

    rows = []
    for r in records:
        cells = []
        for _, attr, places in _SHOWN:
            value = getattr(r, attr)
            if attr == "order_type":
                cells.append(markup(order_type_name("summary", value)))
            elif attr == "order_size":
                cells.append(markup(size_label("summary", value)))
            elif isinstance(value, bool):
                cells.append("Y" if value else "N")
            elif isinstance(value, (str, int)):
                cells.append(markup(value))
            else:
                cells.append(format_trimmed(value, places))
        rows.append(cells)
    return [label for label, _, _ in _SHOWN], rows, 3


class _Totals:
    """Orders, shares, executed shares and share-weighted effective spread by order type
    (named by ``name(format, code)``), summed one legacy or detailed record at a time."""

    def __init__(self, name: Callable[[str, int | str], str]) -> None:
        self.name = name
        self.sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 5)
        self.symbols: dict[str, set[str]] = defaultdict(set)
        self.order: dict[str, tuple[int, str]] = {}

    def add(self, r: LegacyRecord | DetailedRecord) -> None:
        from pfof.model.records605 import LegacyRecord

        orders: int | None
        shares: int | Decimal | None
        executed: int | Decimal
        if isinstance(r, LegacyRecord):
            code: int | str = r.order_type
            orders, shares = r.covered_orders, r.covered_shares
            executed = (r.exec_shares_mc or 0) + (r.exec_shares_away or 0)
        else:
            code, orders, shares = r.order_type, r.covered_orders, r.covered_qty
            executed = (r.executed_qty or 0) + (r.executed_away_qty or 0)
        key = self.name("legacy" if isinstance(r, LegacyRecord) else "detailed", code)
        self.order.setdefault(key, (0, str(code)) if isinstance(code, int) else (1, code))
        spread = r.avg_effective_spread
        t = self.sums[key]
        t[0] += orders or 0
        t[1] += shares or 0
        t[2] += executed
        if spread is not None:
            t[3] += spread * executed
            t[4] += executed
        self.symbols[key].add(r.symbol)

    def rows(self) -> tuple[list[str], list[list[str]], int]:
        """(headers, rows, key columns) for the table, one row per order type."""
        from pfof.formats.sec605_numbers import format_trimmed

        headers = ["order type", "symbols", "orders", "shares", "executed", "avg eff. spread $"]
        rows = []
        for key in sorted(self.sums, key=lambda k: self.order[k]):
            order_sum, share_sum, executed_sum, spread_sum, weight = self.sums[key]
            rows.append(
                [
                    markup(key),
                    f"{len(self.symbols[key]):,}",
                    f"{order_sum:,}",
                    f"{share_sum:,}",
                    f"{executed_sum:,}",
                    format_trimmed(spread_sum / weight, 4) if weight else "",
                ]
            )
        return headers, rows, 1


#: Statistics columns of the ``summary`` and ``market-centers`` tables: (key, header, style);
#: style ``n`` = a count with separators, ``pct`` = a fraction shown in percent, else places.
_STAT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("orders", "orders", "n"),
    ("executed_shares", "executed", "n"),
    ("net_price_improvement_cents_per_share", "net PI ¢/sh", "4"),
    ("eq_ratio", "E/Q", "3"),
    ("pct_improved", "improved", "pct"),
    ("pct_at_quote", "at quote", "pct"),
    ("pct_outside", "outside", "pct"),
    ("avg_effective_spread", "eff. $", "4"),
    ("avg_realized_spread", "real. $", "4"),
)
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON array (numbers as exact decimal strings).")
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV (numbers exact).")]


def _cell(value: Any, style: str) -> str:
    """A statistic for the table (the JSON and CSV keep every digit)."""
    if value is None:
        return ""
    number = Decimal(value)
    if style == "n":
        return f"{number:,}"
    if style == "pct":
        number, places, unit = number * 100, 1, "%"
    else:
        places, unit = int(style), ""
    text = f"{number:.{places}f}"
    return (text[1:] if text.startswith("-") and Decimal(text) == 0 else text) + unit


def _print_json_or_csv(rows: list[dict[str, Any]], keys: tuple[str, ...], as_csv: bool) -> None:
    if not as_csv:
        print(json.dumps(rows, indent=2))
        return
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow(
            [
                ""
                if row[k] is None
                else str(row[k]).lower()
                if isinstance(row[k], bool)
                else row[k]
                for k in keys
            ]
        )


@app.command()
def summary(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Rule 605 files."),
    ],
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    wide: WideOption = False,
) -> None:
    """Execution-quality statistics of each FILE by market center, month, order type and
    size (S&P 500 flag in summary reports), over all symbols: net price improvement (cents
    per share), E/Q, shares improved / at / outside the quote, effective and realized spread.

    Legacy files follow Barron's convention; docs/rule605.md gives every formula. Rows with
    errors are left out (``pfof rule605 validate`` lists them)."""
    from pfof.app.quality605 import file_quality
    from pfof.engine.stats605 import STAT_KEYS
    from pfof.errors import ParameterError

    if as_json and as_csv:
        raise ParameterError("--json and --csv exclude each other")
    results = [file_quality(f) for f in files]
    stderr = Console(stderr=True)
    for result in results:
        errors = len({i.line for i in result.issues if i.severity.value == "error"})
        if errors:
            stderr.print(
                f"{markup(result.file)}: {errors} line{'s' if errors > 1 else ''} with errors "
                "left out "
                "(run `pfof rule605 validate`)",
                soft_wrap=True,
            )
    rows = [row for result in results for row in result.rows]
    if as_json or as_csv:
        _print_json_or_csv(rows, STAT_KEYS, as_csv)
        return
    console = Console()
    for result in results:
        if not result.rows:
            console.print(f"{markup(result.file)}: no readable records", soft_wrap=True)
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in result.rows:
            groups[(row["market_center"], row["month"])].append(row)
        for (center, month), members in groups.items():
            title = f"{result.file}: {center} {month} ({result.kind})"
            has_flag = result.kind == "summary"
            headers = ["order type", "size", *(["S&P"] if has_flag else [])]
            headers += [h for _, h, _ in _STAT_COLUMNS]
            table = []
            for row in members:
                cells = [markup(row["order_type"]), markup(row["size"])]
                if has_flag:
                    cells.append("Y" if row["sp500"] else "N")
                cells += [_cell(row[k], style) for k, _, style in _STAT_COLUMNS]
                table.append(cells)
            keys = 3 if has_flag else 2
            parts = column_parts(
                console, title, headers, table, keys=keys, wide=wide, left={"order type", "size"}
            )
            print_parts(console, title, parts)


def market_centers(
    db: Annotated[
        Path, typer.Option("--db", help="DuckDB file of the store (created by `pfof ingest`).")
    ] = Path("pfof.duckdb"),
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    wide: WideOption = False,
) -> None:
    """Execution quality of each market center and month in the store, from its Rule 605
    reports: market and marketable limit orders over all symbols and sizes (the statistics
    of `pfof rule605 summary`)."""
    from pfof.app.quality605 import market_center_quality
    from pfof.engine.stats605 import MARKET_CENTER_KEYS
    from pfof.errors import InputError, ParameterError

    if as_json and as_csv:
        raise ParameterError("--json and --csv exclude each other")
    if not db.exists():
        raise InputError(f"{db}: no such store; run `pfof ingest PATH... --db {db}`")
    rows = market_center_quality(db)
    if as_json or as_csv:
        _print_json_or_csv(rows, MARKET_CENTER_KEYS, as_csv)
        return
    console = Console()
    if not rows:
        console.print(f"{markup(str(db))}: no Rule 605 reports stored", soft_wrap=True)
        return
    headers = ["market center", "month", *(h for _, h, _ in _STAT_COLUMNS)]
    table = [
        [markup(row["market_center"]), markup(row["month"])]
        + [_cell(row[k], style) for k, _, style in _STAT_COLUMNS]
        for row in rows
    ]
    title = "Execution quality of market and marketable limit orders (Rule 605)"
    parts = column_parts(
        console, title, headers, table, keys=2, wide=wide, left={"market center", "month"}
    )
    print_parts(console, title, parts)


def register(root: typer.Typer) -> None:
    """Add ``pfof rule605`` and ``pfof market-centers`` to the root app."""
    root.add_typer(app, name="rule605")
    root.command("market-centers")(market_centers)
