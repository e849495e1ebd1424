"""Benchmark ``pfof ingest``: Arrow bulk insert vs a row-by-row ``executemany`` baseline.

Builds a FINRA-style nested zip (bulk.zip -> one zip per quarter -> XML reports) from the real
Schwab reports in ../shared, each copy made another broker's report (``<bd>`` numbered) so that
none is skipped as a duplicate, then ingests it twice into fresh DuckDB files:

* ``pfof``: :func:`pfof.store.ingest.ingest` (one transaction per file, Arrow bulk insert);
* ``baseline``: the same reader and transactions, cells inserted with ``executemany``.

Prints both timings and their ratio, measured in the same run.

    .venv/bin/python benchmarks/bench_ingest_606.py [--copies 4]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from pfof.formats.archives import Candidate, walk
from pfof.formats.sec606 import read_606
from pfof.model.reports606 import a1_cells
from pfof.store.ingest import ingest
from pfof.store.schema import connect

SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def build_bulk(folder: Path, copies: int, out: Path) -> int:
    reports = sorted(folder.glob("*.xml"))
    per_quarter: dict[str, list[tuple[str, bytes]]] = {}
    for copy in range(copies):
        for path in reports:
            data = path.read_bytes().replace(
                b"<bd>Charles Schwab</bd>", f"<bd>Charles Schwab copy {copy}</bd>".encode()
            )
            quarter = path.stem[-6:]
            per_quarter.setdefault(quarter, []).append((f"{copy:03}-{path.name}", data))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bulk:
        for quarter, members in sorted(per_quarter.items()):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as inner:
                for name, data in members:
                    inner.writestr(name, data)
            bulk.writestr(f"{quarter}/broker.zip", buf.getvalue())
    return len(reports) * copies


def baseline(db: str, bulk: Path) -> int:
    """Same walk, reader and per-file transactions; rows inserted one by one."""
    con = connect(db)
    rows = 0
    for entry in walk([bulk]):
        if not isinstance(entry, Candidate):
            continue
        data = entry.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        result = read_606(io.BytesIO(data))
        cells = [
            (
                sha,
                c.broker,
                c.year,
                c.quarter,
                c.month,
                c.section.value,
                c.venue_index,
                c.venue_name,
                c.mic,
                c.mpid,
                c.order_type.value,
                c.venue_pct,
                c.routed_pct,
                c.net_payment_usd,
                c.rate,
            )
            for c in a1_cells(result.report)
        ]
        con.execute("BEGIN")
        con.execute(
            "INSERT INTO sources (sha256, path, kind, broker, year, quarter, ingested_at, "
            "strict_valid, warnings, n_rows) VALUES (?, ?, 'a1', ?, ?, ?, ?, true, '[]', ?)",
            [
                sha,
                entry.path,
                result.report.bd,
                result.report.year,
                result.report.qtr,
                datetime.now(UTC),
                len(cells),
            ],
        )
        con.executemany(
            "INSERT INTO disclosures_606 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            cells,
        )
        con.execute("COMMIT")
        rows += len(cells)
    con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="copies of the 12 Schwab reports")
    args = parser.parse_args()
    folder = SHARED / "real-606" / "schwab"
    if not folder.exists():
        sys.exit(f"{folder} is missing (set PFOF_SHARED)")
    with tempfile.TemporaryDirectory() as tmp:
        bulk = Path(tmp) / "bulk.zip"
        n_files = build_bulk(folder, args.copies, bulk)

        start = time.perf_counter()
        for entry in walk([bulk]):
            if isinstance(entry, Candidate):
                read_606(io.BytesIO(entry.read_bytes()))
        parse = time.perf_counter() - start

        start = time.perf_counter()
        con = connect(str(Path(tmp) / "pfof.duckdb"))
        summary = ingest([bulk], con)
        con.close()
        fast = time.perf_counter() - start
        assert len(summary.ingested) == n_files, summary.rejected[:1]

        start = time.perf_counter()
        rows = baseline(str(Path(tmp) / "baseline.duckdb"), bulk)
        slow = time.perf_counter() - start
        assert rows == summary.rows

    print(f"{n_files} reports, {rows} cells, nested zip")
    print(f"walk + parse only        {parse:7.2f} s")
    print(f"pfof ingest (Arrow bulk) {fast:7.2f} s  {n_files / fast:7.1f} files/s")
    print(f"baseline (executemany)   {slow:7.2f} s  {n_files / slow:7.1f} files/s")
    print(f"speed-up vs baseline     {slow / fast:7.2f}x")


if __name__ == "__main__":
    main()
