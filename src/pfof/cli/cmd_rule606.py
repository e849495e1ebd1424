"""``pfof rule606``: validate and summarise SEC Rule 606 XML reports.

The commands parse arguments, call :mod:`pfof.formats.sec606` (imported when a command runs)
and print. Tables read at 80 columns: the summary shows one block per report when the wide
table does not fit the terminal; ``--wide`` forces the one-row-per-report table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pfof.cli.fit_width import column_parts, fits, print_parts
from pfof.cli.safe_text import markup

if TYPE_CHECKING:
    from decimal import Decimal

    from pfof.errors import Issue, Validation

rule606 = typer.Typer(
    help="Read, validate and summarise SEC Rule 606 reports (606(a)(1), (b)(1), (b)(3) XML).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``rule606`` command group to the root app."""
    app.add_typer(rule606, name="rule606")


Files = Annotated[list[Path], typer.Argument(help="606 XML files or folders of them.")]
WideOption = Annotated[
    bool,
    typer.Option("--wide", help="One table with every column, whatever the terminal width."),
]


def _expand(paths: list[Path]) -> list[Path]:
    """The files to read: each path, or a folder's ``*.xml`` files. A FIFO, device or socket
    is skipped with a line on stderr (reading one would block or never end)."""
    out: list[Path] = []
    for path in paths:
        found = (
            sorted(p for p in path.rglob("*.xml") if not p.is_dir()) if path.is_dir() else [path]
        )
        for file in found:
            if file.exists() and not file.is_file():
                Console(stderr=True).print(
                    f"[yellow]skipped[/] {markup(file)}: not a regular file "
                    "(a FIFO, device or socket)",
                    soft_wrap=True,
                )
            else:
                out.append(file)
    return out


@rule606.command("validate")
def validate_command(
    files: Files,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict/--lenient",
            help="Strict: exactly the SEC schema's rules. "
            "Lenient (default): tolerate what real brokers publish, as warnings.",
        ),
    ] = False,
    xsd: Annotated[
        Path | None,
        typer.Option(
            "--xsd",
            help="Also validate against this official schema file "
            "(e.g. the SEC's oh-20191231.xsd).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    show: Annotated[int, typer.Option(help="Warnings to show per file (all with --json).")] = 5,
) -> None:
    """Check reports against the SEC schema, pfof's report rules and lenient tolerances.

    Exits 1 when any file fails at the chosen level. Every message names the element path
    (e.g. rMonthly[mon=2]/rOptions/rVenues/rVenue[3]/netPmtPaidRecvOtherOrdersCph) and the rule.
    """
    from pfof.cli.arg_checks import input_file
    from pfof.errors import InputError
    from pfof.formats.sec606 import validate_606

    if xsd is not None:
        input_file(xsd, "--xsd")
    console = Console()
    level = "strict" if strict else "lenient"
    records: list[dict[str, Any]] = []
    for path in _expand(files):
        try:
            verdict = validate_606(path, strict=strict, xsd=xsd)
        except InputError as exc:
            if xsd is not None and str(exc).startswith(f"{xsd}:"):
                raise  # the schema file itself is unusable: one error for the whole run
            records.append(_unreadable(path, exc))
        else:
            records.append(_validation_json(verdict, xsd is not None))
        if not as_json:
            _print_validation(console, records[-1], level, xsd, show)
    if as_json:
        typer.echo(json.dumps(records, indent=2))
    if not all(record["valid"] for record in records):
        raise typer.Exit(1)


def _validation_json(verdict: Validation, xsd: bool) -> dict[str, Any]:
    """The JSON record of one file (keys as ever: file, report, valid, strict_valid, errors,
    warnings and, when an official schema ran, xsd_errors)."""
    errors = [i for i in verdict.errors if i.rule != "xsd"]
    official = [f"line {i.line}: {i.message}" for i in verdict.errors if i.rule == "xsd"]
    return {
        "file": verdict.file,
        "report": verdict.kind,
        "valid": verdict.valid,
        "strict_valid": bool(verdict.schema_valid),
        "errors": [str(i) for i in errors],
        "warnings": [str(i) for i in verdict.warnings],
        **({"xsd_errors": official} if xsd and verdict.kind is not None else {}),
    }


def _unreadable(path: Path, exc: Exception) -> dict[str, Any]:
    return {
        "file": str(path),
        "report": None,
        "valid": False,
        "strict_valid": False,
        "errors": [str(exc)],
        "warnings": [],
    }


def _print_validation(
    console: Console, record: dict[str, Any], level: str, xsd: Path | None, show: int
) -> None:
    """One file's verdict, then one line per error (20 at most) and warning (``show``)."""
    errors, warnings = record["errors"], record["warnings"]
    verdict = "[green]valid[/]" if record["valid"] else "[red]INVALID[/]"
    console.print(
        f"{verdict} ({level}) {markup(record['file'])}: {record['report'] or 'unknown'} "
        f"report, schema-valid: {'yes' if record['strict_valid'] else 'no'}, "
        f"{len(errors)} error(s), {len(warnings)} warning(s)",
        soft_wrap=True,
    )
    for message in errors[:20]:
        console.print(f"  [red]error[/] {markup(message)}", soft_wrap=True)
    if len(errors) > 20:
        console.print(f"  ... {len(errors) - 20} more errors (use --json for all)")
    for message in warnings[:show]:
        console.print(f"  [yellow]warning[/] {markup(message)}", soft_wrap=True)
    if len(warnings) > show:
        console.print(f"  ... {len(warnings) - show} more warnings (--show N, --json)")
    official = record.get("xsd_errors")
    if official is not None:
        state = "valid" if not official else f"{len(official)} error(s)"
        console.print(f"  official schema {markup(str(xsd))}: {state}", soft_wrap=True)
        for message in official[:10]:
            console.print(f"    {markup(message)}", soft_wrap=True)


@rule606.command("summary")
def summary_command(
    files: Files,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    wide: WideOption = False,
) -> None:
    """Net payment for order flow of each report: total, by section (with payment-weighted
    rate) and by order type, plus every deviation and cross-quarter sanity warning.

    Money and rates are exact decimal strings in JSON. Rates are cents per 100 shares for
    stocks and cents per contract for options. Exits 1 when a file is rejected.
    """
    from pfof.engine.report_summary import SummaryInput, summarize_files
    from pfof.errors import InputError, ValidationError
    from pfof.formats.sec606 import read_606

    items: list[SummaryInput] = []
    rejected: list[dict[str, Any]] = []
    paths = _expand(files)
    for path in paths:
        try:
            result = read_606(path)
        except (ValidationError, InputError) as exc:
            issues: list[Issue] = getattr(exc, "issues", [])
            rejected.append(
                {
                    "file": str(path),
                    "report": None,
                    "strict_valid": False,
                    "rejected": True,
                    "errors": [str(i) for i in issues] or [str(exc)],
                }
            )
            continue
        items.append(
            SummaryInput(
                str(path), result.report, result.strict_valid, [str(w) for w in result.warnings]
            )
        )
    summaries = summarize_files(items) + rejected
    order = {str(p): i for i, p in enumerate(paths)}
    summaries.sort(key=lambda s: order.get(s["file"], 0))
    if as_json:
        typer.echo(json.dumps(summaries, indent=2))
    else:
        _print_summaries(summaries, wide)
    if rejected:
        raise typer.Exit(1)


_TITLE = (
    "Net payment for order flow per report (USD; rate in ¢ per 100 shares, per contract for "
    "options)"
)
_SECTIONS = (("sp500", "S&P 500"), ("other_stocks", "Other stocks"), ("options", "Options"))


def _usd(value: Any) -> str:
    from decimal import Decimal

    from pfof.model.money import format_amount

    return "–" if value is None else format_amount(Decimal(value))


def _section(summary: dict[str, Any], name: str) -> tuple[str, str]:
    """(USD, rate) of one section of a summary, "–" where absent."""
    block = (summary.get("sections") or {}).get(name) or {}
    rate = block.get("rate")
    return _usd(block.get("usd")), "–" if rate is None else str(rate)


def _row(summary: dict[str, Any]) -> dict[str, str]:
    """One report's figures as printed, by column header."""
    if summary.get("rejected"):
        return {
            "Broker": "[red]rejected[/]",
            "Strict": "no",
            "Errors": str(len(summary["errors"])),
        }
    row = {
        "Broker": markup(summary["broker"]),
        "Quarter": f"{summary['year']} Q{summary['quarter']}",
        "Total": _usd(summary.get("total_usd") or None),
    }
    for name, label in _SECTIONS:
        row[label], row[f"{label} rate"] = _section(summary, name)
    row["Strict"] = "yes" if summary["strict_valid"] else "no"
    row["Warnings"] = str(len(summary["warnings"]))
    return row


def _wide_table(summaries: list[dict[str, Any]]) -> Table:
    """One row per report, every figure in its own column."""
    table = Table(title=_TITLE)
    headers = ["File", "Broker", "Quarter", "Total"]
    for _, label in _SECTIONS:
        headers += [label, f"{label} rate"]
    headers += ["Strict", "Warnings"]
    for header in headers:
        shown = "rate" if header.endswith(" rate") else header
        table.add_column(shown, justify="left" if header in ("File", "Broker") else "right")
    for s in summaries:
        row = _row(s)
        if s.get("rejected"):
            row["Warnings"] = row.pop("Errors")
        table.add_row(markup(Path(s["file"]).name), *(row.get(h, "") for h in headers[1:]))
    return table


def _narrow_table(summaries: list[dict[str, Any]]) -> Table:
    """One block of key/value rows per report (a section's USD and rate on one row)."""
    table = Table(show_header=False)
    table.add_column("Key", style="bold", no_wrap=True)
    table.add_column("Value", overflow="fold")
    for s in summaries:
        row = _row(s)
        block = [("File", markup(Path(s["file"]).name))]
        block += [(key, row[key]) for key in ("Broker", "Quarter", "Total") if key in row]
        for _, label in _SECTIONS:
            if label in row:
                rate = row[f"{label} rate"]
                block.append((label, row[label] + ("" if rate == "–" else f"  rate {rate}")))
        block += [(key, row[key]) for key in ("Strict", "Warnings", "Errors") if key in row]
        for i, (key, value) in enumerate(block, start=1):
            table.add_row(key, value, end_section=i == len(block))
    return table


def _print_summaries(summaries: list[dict[str, Any]], wide: bool) -> None:
    console = Console()
    table = _wide_table(summaries)
    if wide or fits(console, table):
        console.print(table)
    else:
        console.print(_TITLE)
        console.print(_narrow_table(summaries))
    for s in summaries:
        errors = s.get("errors", [])
        for message in errors[:5]:
            console.print(
                f"[red]error[/] {markup(Path(s['file']).name)}: {markup(message)}", soft_wrap=True
            )
        if len(errors) > 5:
            console.print(f"  ... {len(errors) - 5:,} more errors (rule606 validate lists all)")
        flagged = [w for w in s.get("warnings", []) if "100x" in w or "spelling" in w.lower()]
        for message in flagged:
            console.print(
                f"[yellow]warning[/] {markup(Path(s['file']).name)}: {markup(message)}",
                soft_wrap=True,
            )


# ------------------------------------------------------------------ reports from order logs

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Simulator-style Parquet directory (pfof simulate --out).",
        exists=True,
        file_okay=False,
    ),
]
DbFile = Annotated[
    Path | None,
    typer.Option(
        "--db", help="DuckDB file with the canonical tables.", exists=True, dir_okay=False
    ),
]
Broker = Annotated[str, typer.Option("--broker", help="Broker name as in orders.broker.")]
RoutesOpt = Annotated[
    str,
    typer.Option(
        "--routes",
        help="Routes that are the broker's: 'first' (an order's first "
        "route; later ones are the venue routing it on) or 'all'.",
    ),
]


def _source(data: Path | None, db: Path | None) -> Path:
    if (data is None) == (db is None):
        raise typer.BadParameter("give exactly one of --data DIR or --db FILE")
    return data if data is not None else db  # type: ignore[return-value]


def _scope(value: str) -> Any:
    if value not in ("first", "all"):
        raise typer.BadParameter(f"--routes must be 'first' or 'all', got {value!r}")
    return value


def _strict_issues(xml: bytes) -> list[str]:
    """What rejects a generated report under the SEC schema and pfof's report rules."""
    from pfof.formats.sec606 import validate_606

    return [str(i) for i in validate_606(xml, strict=True).errors]


@rule606.command("customer")
def customer_command(
    broker: Broker,
    customer: Annotated[str, typer.Option("--customer", help="Customer id (orders.customer_id).")],
    start: Annotated[str, typer.Option("--from", help="First UTC date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last UTC date (inclusive), YYYY-MM-DD.")],
    data: DataDir = None,
    db: DbFile = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the XML here (default: standard output).")
    ] = None,
    routes: RoutesOpt = "all",
) -> None:
    """The 606(b)(1) report of one customer: each order in the window, the venues it was
    routed to and the UTC time of each execution, as SEC-schema XML, with a summary.

    Without --out the XML goes to standard output and the summary to standard error.
    """
    import time as _time

    from pfof.app.analysis import customer_report
    from pfof.cli.arg_checks import date_option, output_file
    from pfof.formats.sec606 import write_606

    source = _source(data, db)
    first, last = date_option(start, "--from"), date_option(end, "--to")
    if out is not None:
        output_file(out)
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}")
    console = Console(stderr=out is None)
    t0 = _time.perf_counter()
    scope = _scope(routes)
    with console.status(f"Reading orders of {markup(customer)} ..."):
        report = customer_report(source, broker, customer, first, last, routes=scope)
        xml = write_606(report)
    seconds = _time.perf_counter() - t0
    if out is not None:
        out.write_bytes(xml)
    else:
        typer.echo(xml.decode("utf-8"), nl=False)
    lists = {
        "held": report.held or (),
        "not held (exempt)": report.not_held_exempt or (),
        "options": report.options or (),
    }
    venues: dict[str, list[int]] = {}
    for orders in lists.values():
        for order in orders:
            for route in order.routes:
                name = route.venue_name or route.mic or "?"
                row = venues.setdefault(name, [0, 0])
                row[0] += 1
                row[1] += len(route.transactions)
    table = Table(title=f"606(b)(1) {markup(customer)} at {markup(broker)}, {first} to {last}")
    table.add_column("Venue", overflow="fold")
    table.add_column("Orders routed", justify="right")
    table.add_column("Executions", justify="right")
    for name, (n, fills) in sorted(venues.items(), key=lambda kv: -kv[1][0]):
        table.add_row(markup(name), f"{n:,}", f"{fills:,}")
    console.print(table)
    counts = ", ".join(f"{len(v):,} {k}" for k, v in lists.items())
    directed = sum(o.directed for v in lists.values() for o in v)
    if not any(lists.values()):
        console.print(
            f"[yellow]No orders of customer {markup(customer)} at {markup(broker)} "
            f"received from {first} to {last} (UTC dates).[/]"
        )
    console.print(f"Orders: {counts} ({directed:,} directed). Built in {seconds:.2f} s.")
    issues = _strict_issues(xml)
    console.print(
        "[green]strict-valid[/] against the SEC schema rules"
        if not issues
        else f"[red]{len(issues)} schema issue(s)[/]: {markup(issues[0])}"
    )
    if out is not None:
        console.print(f"Wrote {markup(str(out))}")
    if issues:
        raise typer.Exit(1)


_SHORT = {"sp500": "S&P 500", "other_stocks": "Other", "options": "Options"}


@rule606.command("generate")
def generate_command(
    broker: Broker,
    year: Annotated[int, typer.Option("--year", help="Calendar year.", min=1900, max=2199)],
    quarter: Annotated[int, typer.Option("--quarter", min=1, max=4, help="Quarter 1-4.")],
    out: Annotated[Path, typer.Option("--out", help="Output XML file.")],
    data: DataDir = None,
    db: DbFile = None,
    routes: RoutesOpt = "first",
    all_venues: Annotated[
        bool,
        typer.Option(
            "--all-venues",
            help="List every venue, not only the top ten "
            "plus those with 5 % or more of the orders.",
        ),
    ] = False,
    wide: WideOption = False,
) -> None:
    """The quarterly 606(a)(1) report of a broker from its order logs (orders, routes,
    fills, arrangements): routing shares and net payments per venue, order type, section
    and month, written as SEC-schema XML; prints its totals."""
    from pfof.app.analysis import generate_606
    from pfof.cli.arg_checks import output_file
    from pfof.formats.sec606 import write_606
    from pfof.model.enums import OrderType, Section
    from pfof.model.money import format_amount, format_usd

    source = _source(data, db)
    output_file(out)
    console = Console()
    scope = _scope(routes)
    with console.status(f"Building the {year} Q{quarter} report of {markup(broker)} ..."):
        report = generate_606(source, broker, year, quarter, routes=scope, all_venues=all_venues)
        blocks = [month.section(section) for month in report.months for section in Section]
        if not any(block.venues for block in blocks if block is not None):
            console.print(
                f"[red]No orders of broker {markup(broker)} routed in {year} Q{quarter} "
                f"in {markup(str(source))}[/]"
            )
            raise typer.Exit(1)
        xml = write_606(report)
    out.write_bytes(xml)
    title = f"606(a)(1) {broker} {year} Q{quarter}: net payment (USD) by order type"
    headers = ["Mon", "Section", "Venues", "Market", "Mkt lim", "Non-mkt", "Other", "Total"]
    rows: list[list[str]] = []
    grand: Decimal | int = 0
    for month in report.months:
        for section in Section:
            block = month.section(section)
            if block is None:
                continue
            by_type = [sum((v.usd(t) or 0 for v in block.venues), 0) for t in OrderType]
            total = sum(by_type, 0)
            grand += total
            rows.append(
                [
                    f"{month.mon:02d}",
                    _SHORT[section],
                    str(len(block.venues)),
                    *[format_amount(x) for x in by_type],
                    format_amount(total),
                ]
            )
    parts = column_parts(console, title, headers, rows, keys=2, wide=wide, left={"Section"})
    print_parts(console, title, parts)
    console.print(
        f"Net payment for order flow in the quarter (listed venues): [bold]{format_usd(grand)}[/]"
    )
    issues = _strict_issues(xml)
    console.print(
        "[green]strict-valid[/] against the SEC schema rules"
        if not issues
        else f"[red]{len(issues)} schema issue(s)[/]: {markup(issues[0])}"
    )
    console.print(f"Wrote {markup(str(out))}")
    if issues:
        raise typer.Exit(1)
