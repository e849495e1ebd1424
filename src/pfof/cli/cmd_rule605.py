"""``pfof rule605``: check and summarise SEC Rule 605 files (legacy, amended detailed, summary)."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pfof.formats.csvw import MetadataError
from pfof.formats.sec605 import KINDS, Checked, UnknownFormatError, check_file
from pfof.formats.sec605_numbers import format_trimmed
from pfof.model.records605 import (
    DetailedRecord,
    LegacyRecord,
    Severity,
    SummaryRecord,
)

app = typer.Typer(
    name="rule605",
    help="SEC Rule 605 execution-quality files: validate and summarise legacy (26-field), "
    "amended detailed (55-field) and amended summary (CSV) reports.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Rule 605 file.")
]
KindOpt = Annotated[
    str | None,
    typer.Option("--kind", help=f"Format ({', '.join(KINDS)}); detected from line 1 if omitted."),
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


def _check(path: Path, kind: str | None, metadata: Path | None) -> Checked:
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(KINDS)}")
    try:
        return check_file(path, kind=kind, metadata=metadata)  # type: ignore[arg-type]
    except (UnknownFormatError, MetadataError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def validate(
    file: FileArg,
    kind: KindOpt = None,
    metadata: MetadataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print issues as JSON.")] = False,
    warnings: Annotated[
        bool, typer.Option("--warnings/--no-warnings", help="Also list warnings.")
    ] = True,
) -> None:
    """Check FILE; list every violation with line, column and constraint. Exit 1 if invalid."""
    checked = _check(file, kind, metadata)
    issues = [i for i in checked.issues if warnings or i.severity is Severity.ERROR]
    if as_json:
        print(
            json.dumps(
                {
                    "file": checked.file,
                    "kind": checked.kind,
                    "valid": checked.valid,
                    "records": len(checked.records),
                    "errors": len(checked.errors),
                    "warnings": len(checked.issues) - len(checked.errors),
                    "issues": [i.as_dict() for i in issues],
                },
                indent=2,
            )
        )
    else:
        if issues:
            table = Table(title=f"{checked.file} ({checked.kind})")
            for column in ("line", "column", "constraint", "severity", "message"):
                table.add_column(column, overflow="fold")
            for issue in issues:
                style = "red" if issue.severity is Severity.ERROR else "yellow"
                table.add_row(
                    str(issue.line),
                    issue.column,
                    issue.constraint,
                    f"[{style}]{issue.severity.value}[/{style}]",
                    issue.message,
                )
            console.print(table)
        verdict = "[green]valid[/green]" if checked.valid else "[red]invalid[/red]"
        console.print(
            f"{checked.file}: {checked.kind} report, {len(checked.records)} records, "
            f"{len(checked.errors)} errors, {len(checked.issues) - len(checked.errors)} "
            f"warnings: {verdict}"
        )
    if not checked.valid:
        raise typer.Exit(1)


@app.command()
def show(file: FileArg, kind: KindOpt = None, metadata: MetadataOpt = None) -> None:
    """Summarise FILE in a table (legacy/detailed: totals by order type; summary: its rows)."""
    checked = _check(file, kind, metadata)
    records = checked.records
    if not records:
        console.print(f"{checked.file}: no readable records ({len(checked.errors)} errors)")
        raise typer.Exit(1 if checked.errors else 0)
    if checked.kind == "summary":
        table = _summary_table(records)  # type: ignore[arg-type]
    else:
        table = _totals_table(records)  # type: ignore[arg-type]
    table.title = f"{checked.file} ({checked.kind}, {len(records)} records)"
    console.print(table)
    if checked.issues:
        console.print(
            f"{len(checked.errors)} errors, {len(checked.issues) - len(checked.errors)} "
            "warnings: run `pfof rule605 validate` for details"
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


def _summary_table(records: tuple[SummaryRecord, ...]) -> Table:
    """The summary rows, rounded for reading (fractions, not x100; times in ms)."""
    table = Table()
    for label, _, _ in _SHOWN:
        table.add_column(label, justify="right", no_wrap=True)
    for r in records:
        cells = []
        for _, attr, places in _SHOWN:
            value = getattr(r, attr)
            if isinstance(value, bool):
                cells.append("Y" if value else "N")
            elif isinstance(value, (str, int)):
                cells.append(str(value))
            else:
                cells.append(format_trimmed(value, places))
        table.add_row(*cells)
    return table


def _totals_table(records: tuple[LegacyRecord, ...] | tuple[DetailedRecord, ...]) -> Table:
    """Orders, shares, executed shares and share-weighted effective spread by order type."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 5)
    symbols: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if isinstance(r, LegacyRecord):
            key, orders, shares = str(r.order_type), r.covered_orders, r.covered_shares
            executed = (r.exec_shares_mc or 0) + (r.exec_shares_away or 0)
            spread = r.avg_effective_spread
        else:
            key, orders, shares = r.order_type, r.covered_orders, r.covered_qty
            executed = (r.executed_qty or 0) + (r.executed_away_qty or 0)
            spread = r.avg_effective_spread
        t = totals[key]
        t[0] += orders or 0
        t[1] += shares or 0
        t[2] += executed
        if spread is not None:
            t[3] += spread * executed
            t[4] += executed
        symbols[key].add(r.symbol)
    table = Table()
    for column in ("order type", "symbols", "orders", "shares", "executed", "avg eff. spread $"):
        table.add_column(column, justify="right")
    for key in sorted(totals):
        orders, shares, executed, spread_sum, weight = totals[key]
        table.add_row(
            key,
            str(len(symbols[key])),
            f"{orders:,}",
            f"{shares:,}",
            f"{executed:,}",
            format_trimmed(spread_sum / weight, 4) if weight else "",
        )
    return table


def register(root: typer.Typer) -> None:
    """Add ``pfof rule605`` to the root app."""
    root.add_typer(app, name="rule605")
