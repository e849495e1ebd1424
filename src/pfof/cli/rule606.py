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
        errors = result.errors if not strict else _unique(result.schema + result.errors)
        if strict:  # a tolerated schema deviation is an error here, not also a warning
            schema = {(i.path, i.message) for i in result.schema}
            result.warnings = [w for w in result.warnings if (w.path, w.message) not in schema]
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
        level = "strict" if strict else "lenient"
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


def _unique(issues: list[Any]) -> list[Any]:
    seen, out = set(), []
    for issue in issues:
        if str(issue) not in seen:
            seen.add(str(issue))
            out.append(issue)
    return out


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
