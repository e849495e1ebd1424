"""``pfof reports``: the reports in the store and which of them count.

Every total pfof prints comes from current reports only: one edition per report (report type,
broker, quarter, and for FINRA bulk files the filer's CRD). ``--history`` also lists the
editions a restatement superseded and the duplicate files that were recorded but not stored
again (the same report with other line endings, indentation or ``<timestamp>``). Identical
reports of affiliated filers (the same figures under two CRDs or broker names) are always
listed, as ``affiliated``: one of them counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pfof.cli.cmd_disclosures import DEFAULT_DB, DbOption

if TYPE_CHECKING:
    from rich.console import Console

    from pfof.store.queries import StoredReport


def register(app: typer.Typer) -> None:
    """Add ``reports`` to the root app."""
    app.command("reports")(reports_command)


def reports_command(
    db: DbOption = DEFAULT_DB,
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Also list superseded editions and duplicates, not only current."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The reports in the store, one current edition each (the one every total uses).

    A report is its type, broker, year and quarter (and for a FINRA bulk file the filer's CRD
    from the file name). A file with the same content as a stored one is a duplicate and is
    stored once; a different file for the same report is a restatement: the latest, by bulk
    version V<k> then <timestamp>, is current and the others are kept as superseded. Another
    filer's report identical to a stored one (affiliated broker-dealers, other CRD or name) is
    listed as affiliated and counted once.
    """
    import json

    from pfof.app.analysis import stored_reports
    from pfof.errors import InputError

    if not db.exists():
        raise InputError(f"{db}: no such store; run `pfof ingest PATH... --db {db}`")
    reports = stored_reports(db, history=True)
    shown = reports if history else [r for r in reports if r.status in ("current", "affiliated")]
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in shown], indent=2))
        return
    print_reports(shown, reports, history=history)


def print_reports(
    shown: list[StoredReport],
    every: list[StoredReport],
    *,
    history: bool,
    console: Console | None = None,
) -> None:
    """The ``shown`` reports, one table per broker (titled with its name as reported), then
    the counts over ``every`` report and, with ``history``, which file counts for each other."""
    from rich.console import Console
    from rich.table import Table

    from pfof.cli.safe_text import cell, markup

    console = console or Console()
    if not shown:
        console.print("no reports in the store")
        return
    kinds = len({r.kind for r in shown}) > 1
    statuses = history or any(r.status != "current" for r in shown)
    for broker in dict.fromkeys(r.broker or "" for r in shown):
        table = Table(title=cell(broker or "(no broker)", "bold"))
        table.add_column("Period", min_width=7)
        if kinds:
            table.add_column("Kind")
        if statuses:
            table.add_column("Status")
        table.add_column("Published")
        table.add_column("Rows", justify="right")
        table.add_column("File", overflow="fold")
        for r in shown:
            if (r.broker or "") != broker:
                continue
            table.add_row(
                f"{r.year} Q{r.quarter}",
                *([r.kind] if kinds else []),
                *([cell(r.status, _STYLE[r.status])] if statuses else []),
                _published(r),
                "–" if r.duplicate_of is not None else f"{r.rows:,}",  # not stored
                cell(_file(r.path)),
            )
        console.print(table)
    counts = {s: sum(r.status == s for r in every) for s in _STYLE}
    tail = (
        " (--history lists them)"
        if not history and (counts["superseded"] or counts["duplicate"])
        else ""
    )
    affiliated = f", {counts['affiliated']} affiliated" if counts["affiliated"] else ""
    console.print(
        f"{counts['current']} current{affiliated}, {counts['superseded']} superseded, "
        f"{counts['duplicate']} duplicate(s){tail}",
        soft_wrap=True,
    )
    for r in every:
        if r.status == "affiliated" and r.current_path is not None:
            console.print(
                f"[cyan]affiliated[/] {markup(r.path)}: identical to {markup(r.current_path)} "
                "(another filer's identical report), counted once as it",
                soft_wrap=True,
            )
    if history:
        for r in every:
            if r.status in ("superseded", "duplicate") and r.current_path is not None:
                console.print(
                    f"[yellow]{r.status}[/] {markup(r.path)}: counts as {markup(r.current_path)}",
                    soft_wrap=True,
                )


_STYLE = {"current": "green", "superseded": "yellow", "duplicate": "yellow", "affiliated": "cyan"}


def _published(r: StoredReport) -> str:
    when = r.report_timestamp.date().isoformat() if r.report_timestamp is not None else "–"
    return f"V{r.bulk_version} {when}" if r.bulk_version is not None else when


def _file(path: str) -> str:
    """The last component of a path or ``zip!member`` (the full path is in ``--json``)."""
    return path.replace("\\", "/").rsplit("!", 1)[-1].rsplit("/", 1)[-1]
