"""``pfof demo``: the main job on the embedded default data, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pfof.cli.disclosures import _print_brokers
from pfof.engine.disclosures import broker_quarters, venue_mapping
from pfof.formats.sec606 import write_report
from pfof.sim.disclosures import BROKERS, quarter_report
from pfof.store import queries
from pfof.store.ingest import ingest
from pfof.store.schema import connect


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root app."""
    app.command("demo")(demo_command)


def _quarters(end_year: int, end_quarter: int, count: int) -> list[tuple[int, int]]:
    out = []
    year, quarter = end_year, end_quarter
    for _ in range(count):
        out.append((year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return out[::-1]


def demo_command(
    out: Annotated[Path, typer.Option(help="Folder for the demo's files.")] = Path("pfof-demo"),
    quarters: Annotated[int, typer.Option(min=1, max=12, help="Quarters per broker.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the simulated disclosures.")] = 0,
) -> None:
    """Simulate brokers' Rule 606(a)(1) reports, store them in DuckDB and compare brokers.

    Runs offline on data pfof makes itself: four brokers' quarterly 606 XML reports (written
    with pfof's SEC-schema-valid writer) are ingested into OUT/pfof.duckdb exactly as real
    reports would be, then the broker comparison of `pfof brokers` is printed.
    """
    console = Console()
    xml_dir = out / "606"
    xml_dir.mkdir(parents=True, exist_ok=True)
    periods = _quarters(2026, 3, quarters)
    with console.status("simulating 606(a)(1) reports"):
        for broker in BROKERS:
            for year, quarter in periods:
                report = quarter_report(broker, year, quarter, seed)
                name = broker.name.replace(" ", "_")
                (xml_dir / f"{name}_{year}Q{quarter}.xml").write_bytes(write_report(report))
    db = out / "pfof.duckdb"
    con = connect(str(db))
    try:
        summary = ingest(con, [xml_dir])
        cells = queries.disclosure_cells(con)
    finally:
        con.close()
    console.print(
        f"[bold]{len(BROKERS)} brokers x {len(periods)} quarters[/]: "
        f"{len(summary.ingested)} reports ingested, {len(summary.skipped)} already stored, "
        f"{len(summary.rejected)} rejected -> {db}"
    )
    _print_brokers(broker_quarters(cells), venue_mapping(cells, only_merged=True))
    console.print(
        f"\nReports: {xml_dir}/  Store: {db}\nNext: `pfof brokers --db {db} --json`, "
        f"`pfof rule606 summary {xml_dir}`, `pfof rule606 validate --strict {xml_dir}`"
    )
