"""``pfof rule606``: validate and summarise SEC Rule 606 XML reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pfof.engine.disclosures import SummaryInput, summarize_files
from pfof.formats.sec606 import Rule606Error, check, read_report, validate_with_xsd

rule606 = typer.Typer(
    help="Read, validate and summarise SEC Rule 606 reports (606(a)(1), (b)(1), (b)(3) XML).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``rule606`` command group to the root app."""
    app.add_typer(rule606, name="rule606")


Files = Annotated[list[Path], typer.Argument(help="606 XML files or folders of them.")]


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() == ".xml"))
        else:
            out.append(path)
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
    console = Console()
    failed = 0
    records: list[dict[str, Any]] = []
    for path in _expand(files):
        result = check(path)
        level = "strict" if strict else "lenient"
        errors = result.rejecting(level)
        result.warnings = result.warnings_for(level)
        official = validate_with_xsd(path, xsd) if xsd is not None and result.kind else None
        ok = not errors and (official is None or not official)
        failed += not ok
        records.append(
            {
                "file": str(path),
                "report": result.kind.value if result.kind else None,
                "valid": ok,
                "strict_valid": result.strict_valid,
                "errors": [str(i) for i in errors],
                "warnings": [str(i) for i in result.warnings],
                **({"xsd_errors": official} if official is not None else {}),
            }
        )
        if as_json:
            continue
        verdict = "[green]valid[/]" if ok else "[red]INVALID[/]"
        console.print(
            f"{verdict} ({level}) {escape(str(path))}: {result.kind or 'unknown'} "
            f"report, schema-valid: {'yes' if result.strict_valid else 'no'}, "
            f"{len(errors)} error(s), {len(result.warnings)} warning(s)",
            soft_wrap=True,
        )
        for issue in errors[:20]:
            console.print(f"  [red]error[/] {escape(str(issue))}", soft_wrap=True)
        if len(errors) > 20:
            console.print(f"  ... {len(errors) - 20} more errors (use --json for all)")
        for issue in result.warnings[:show]:
            console.print(f"  [yellow]warning[/] {escape(str(issue))}", soft_wrap=True)
        if len(result.warnings) > show:
            console.print(f"  ... {len(result.warnings) - show} more warnings (--show N, --json)")
        if official is not None:
            state = "valid" if not official else f"{len(official)} error(s)"
            console.print(f"  official schema {escape(str(xsd))}: {state}")
            for message in official[:10]:
                console.print(f"    {escape(message)}", soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(records, indent=2))
    if failed:
        raise typer.Exit(1)


@rule606.command("summary")
def summary_command(
    files: Files,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """Net payment for order flow of each report: total, by section (with payment-weighted
    rate) and by order type, plus every deviation and cross-quarter sanity warning.

    Money and rates are exact decimal strings in JSON. Rates are cents per 100 shares for
    stocks and cents per contract for options. Exits 1 when a file is rejected.
    """
    items: list[SummaryInput] = []
    rejected: list[dict[str, Any]] = []
    for path in _expand(files):
        try:
            result = read_report(path)
        except Rule606Error as exc:
            rejected.append(
                {
                    "file": str(path),
                    "report": None,
                    "strict_valid": False,
                    "rejected": True,
                    "errors": [str(i) for i in exc.issues],
                }
            )
            continue
        items.append(
            SummaryInput(
                str(path), result.report, result.strict_valid, [str(w) for w in result.warnings]
            )
        )
    summaries = summarize_files(items) + rejected
    order = {str(p): i for i, p in enumerate(_expand(files))}
    summaries.sort(key=lambda s: order.get(s["file"], 0))
    if as_json:
        typer.echo(json.dumps(summaries, indent=2))
    else:
        _print_summaries(summaries)
    if rejected:
        raise typer.Exit(1)


def _print_summaries(summaries: list[dict[str, Any]]) -> None:
    console = Console()
    table = Table(
        title="Net payment for order flow per report (USD; rate in ¢ per 100 shares, "
        "per contract for options)"
    )
    for header in (
        "File",
        "Broker",
        "Quarter",
        "Total",
        "S&P 500",
        "rate",
        "Other stocks",
        "rate",
        "Options",
        "rate",
        "Strict",
        "Warnings",
    ):
        table.add_column(header, justify="left" if header in ("File", "Broker") else "right")
    for s in summaries:
        if s.get("rejected"):
            table.add_row(
                Path(s["file"]).name,
                "[red]rejected[/]",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "no",
                str(len(s["errors"])),
            )
            continue
        sec = s.get("sections") or {}

        def cell(name: str, key: str, sec: dict[str, Any] = sec) -> str:
            value = (sec.get(name) or {}).get(key)
            return "–" if value is None else f"{float(value):,.2f}" if key == "usd" else value

        table.add_row(
            Path(s["file"]).name,
            s["broker"],
            f"{s['year']} Q{s['quarter']}",
            f"{float(s['total_usd']):,.2f}" if s.get("total_usd") else "–",
            cell("sp500", "usd"),
            cell("sp500", "rate"),
            cell("other_stocks", "usd"),
            cell("other_stocks", "rate"),
            cell("options", "usd"),
            cell("options", "rate"),
            "yes" if s["strict_valid"] else "no",
            str(len(s["warnings"])),
        )
    console.print(table)
    for s in summaries:
        for message in s.get("errors", [])[:5]:
            console.print(
                f"[red]error[/] {escape(Path(s['file']).name)}: {escape(message)}", soft_wrap=True
            )
        flagged = [w for w in s.get("warnings", []) if "100x" in w or "spelling" in w.lower()]
        for message in flagged:
            console.print(
                f"[yellow]warning[/] {escape(Path(s['file']).name)}: {escape(message)}",
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
    try:
        read_report(xml, mode="strict")
    except Rule606Error as exc:
        return [str(i) for i in exc.issues]
    return []


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
    from datetime import date

    from pfof.engine.generate606 import customer_routing_report, load_tables, report_timestamp
    from pfof.formats.sec606 import write_report

    source = _source(data, db)
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise typer.BadParameter(f"dates must be YYYY-MM-DD: {exc}") from exc
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}")
    console = Console(stderr=out is None)
    t0 = _time.perf_counter()
    scope = _scope(routes)
    with console.status(f"Reading orders of {escape(customer)} ..."):
        try:
            tables = load_tables(source, broker=broker, start=first, end=last, customer=customer)
        except (OSError, ValueError) as exc:
            console.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from exc
        report = customer_routing_report(
            tables, broker, customer, first, last, routes_scope=scope, timestamp=report_timestamp()
        )
        xml = write_report(report)
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
    table = Table(title=f"606(b)(1) {escape(customer)} at {escape(broker)}, {first} to {last}")
    table.add_column("Venue")
    table.add_column("Orders routed", justify="right")
    table.add_column("Executions", justify="right")
    for name, (n, fills) in sorted(venues.items(), key=lambda kv: -kv[1][0]):
        table.add_row(escape(name), f"{n:,}", f"{fills:,}")
    console.print(table)
    counts = ", ".join(f"{len(v):,} {k}" for k, v in lists.items())
    directed = sum(o.directed for v in lists.values() for o in v)
    if not any(lists.values()):
        console.print(
            f"[yellow]No orders of customer {escape(customer)} at {escape(broker)} "
            f"received from {first} to {last} (UTC dates).[/]"
        )
    console.print(f"Orders: {counts} ({directed:,} directed). Built in {seconds:.2f} s.")
    issues = _strict_issues(xml)
    console.print(
        "[green]strict-valid[/] against the SEC schema rules"
        if not issues
        else f"[red]{len(issues)} schema issue(s)[/]: {escape(issues[0])}"
    )
    if out is not None:
        console.print(f"Wrote {escape(str(out))}")
    if issues:
        raise typer.Exit(1)


_SHORT = {"sp500": "S&P 500", "other_stocks": "Other", "options": "Options"}


@rule606.command("generate")
def generate_command(
    broker: Broker,
    year: Annotated[int, typer.Option("--year", help="Calendar year.")],
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
) -> None:
    """The quarterly 606(a)(1) report of a broker from its order logs (orders, routes,
    fills, arrangements): routing shares and net payments per venue, order type, section
    and month, written as SEC-schema XML; prints its totals."""
    from pfof.engine.generate606 import (
        held_order_routing_report,
        load_tables,
        quarter_bounds,
        report_timestamp,
    )
    from pfof.formats.sec606 import write_report
    from pfof.model.enums import OrderType, Section

    source = _source(data, db)
    first, last = quarter_bounds(year, quarter)
    console = Console()
    scope = _scope(routes)
    with console.status(f"Building the {year} Q{quarter} report of {escape(broker)} ..."):
        try:
            tables = load_tables(source, broker=broker, start=first, end=last)
        except (OSError, ValueError) as exc:
            console.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from exc
        if tables["orders"].num_rows == 0:
            console.print(
                f"[red]No orders of broker {escape(broker)} in {year} Q{quarter} "
                f"in {escape(str(source))}[/]"
            )
            raise typer.Exit(1)
        report = held_order_routing_report(
            tables,
            broker,
            year,
            quarter,
            routes_scope=scope,
            max_venues=None if all_venues else 10,
            timestamp=report_timestamp(),
        )
        xml = write_report(report)
    out.write_bytes(xml)
    table = Table(
        title=f"606(a)(1) {escape(broker)} {year} Q{quarter}: net payment (USD) by order type"
    )
    for header in ("Mon", "Section", "Venues", "Market", "Mkt lim", "Non-mkt", "Other", "Total"):
        table.add_column(header, justify="left" if header in ("Month", "Section") else "right")
    grand = 0
    for month in report.months:
        for section in Section:
            block = month.section(section)
            if block is None:
                continue
            by_type = [sum((v.usd(t) or 0 for v in block.venues), 0) for t in OrderType]
            total = sum(by_type, 0)
            grand += total
            table.add_row(
                f"{month.mon:02d}",
                _SHORT[section],
                str(len(block.venues)),
                *[f"{x:,.2f}" for x in by_type],
                f"{total:,.2f}",
            )
    console.print(table)
    console.print(
        f"Net payment for order flow in the quarter (listed venues): [bold]${grand:,.2f}[/]"
    )
    issues = _strict_issues(xml)
    console.print(
        "[green]strict-valid[/] against the SEC schema rules"
        if not issues
        else f"[red]{len(issues)} schema issue(s)[/]: {escape(issues[0])}"
    )
    console.print(f"Wrote {escape(str(out))}")
    if issues:
        raise typer.Exit(1)
