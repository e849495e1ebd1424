"""``pfof rule605``: check and summarise SEC Rule 605 files (legacy, amended detailed, summary).

The commands parse arguments, call :mod:`pfof.formats.sec605` (imported when a command runs)
and print. Tables read at 80 columns: when one does not fit the terminal, ``validate`` lists one
line per issue and ``show`` splits its columns over several tables; ``--wide`` forces the one
wide table.
"""

from __future__ import annotations

import json
from collections import defaultdict
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
    from pfof.formats.sec605 import scan_605, validate_605
    from pfof.model.records605 import SummaryRecord

    if metadata is not None:
        input_file(metadata, "--metadata")

    summaries: list[SummaryRecord] = []
    totals = _Totals()

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
    print_parts(console, title, column_parts(console, title, headers, rows, keys=keys, wide=wide))
    if errors or warnings:
        console.print(
            f"{errors} errors, {warnings} warnings: run `pfof rule605 validate` for details"
        )


#: Summary columns shown by ``show``: (label, attribute, decimals shown).
_SHOWN: tuple[tuple[str, str, int], ...] = (
    ("S&P", "sp500", 0),
    ("size $", "order_size", 0),
    ("type", "order_type", 0),
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
    from pfof.formats.sec605_numbers import format_trimmed

    rows = []
    for r in records:
        cells = []
        for _, attr, places in _SHOWN:
            value = getattr(r, attr)
            if isinstance(value, bool):
                cells.append("Y" if value else "N")
            elif isinstance(value, (str, int)):
                cells.append(markup(value))
            else:
                cells.append(format_trimmed(value, places))
        rows.append(cells)
    return [label for label, _, _ in _SHOWN], rows, 3


class _Totals:
    """Orders, shares, executed shares and share-weighted effective spread by order type,
    summed one legacy or detailed record at a time."""

    def __init__(self) -> None:
        self.sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 5)
        self.symbols: dict[str, set[str]] = defaultdict(set)

    def add(self, r: LegacyRecord | DetailedRecord) -> None:
        from pfof.model.records605 import LegacyRecord

        orders: int | None
        shares: int | Decimal | None
        executed: int | Decimal
        if isinstance(r, LegacyRecord):
            key, orders, shares = str(r.order_type), r.covered_orders, r.covered_shares
            executed = (r.exec_shares_mc or 0) + (r.exec_shares_away or 0)
        else:
            key, orders, shares = r.order_type, r.covered_orders, r.covered_qty
            executed = (r.executed_qty or 0) + (r.executed_away_qty or 0)
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
        for key in sorted(self.sums):
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


def register(root: typer.Typer) -> None:
    """Add ``pfof rule605`` to the root app."""
    root.add_typer(app, name="rule605")
