"""Benchmark ``pfof ingest`` on a quarter's FINRA bulk zip of 3,000 reports: files per second.

Builds one quarter's bulk zip as FINRA serves it (members named
``<CRD>_606_NMS_2024_Q2_<MPID>_V<k>_<date>.xml``) from the real and SEC sample 606(a)(1)
reports in ../shared, never copying them into the repository: each filer is another broker
(its own ``<bd>``, CRD and MPID) with its own figures (a dollar figure shifted by the filer's
number in cents), every report moved to 2024 Q2. One filer in 12 restates (a ``V2`` with
another figure changed) and one in 50 has an affiliate filing its latest figures under its
own CRD and name. Then, into a fresh DuckDB file:

* counts the zip's entries (:func:`pfof.store.ingest.entry_count`, the progress bar's total);
* ingests it (:func:`pfof.store.ingest.ingest`: one transaction per file, Arrow bulk insert)
  and checks the outcome against the build: every file stored, one current report per filer,
  the ``V1`` of each restated filer superseded, each affiliate's report ``affiliated``;
* ingests it again (every file skipped: idempotent);
* with ``--baseline``, the same walk, reader and transactions inserting cells row by row
  (``executemany``), for the speed-up of the bulk insert.

Last line: ``pfof_ingest_files_per_s=<files per second of the first ingest>``.

    .venv/bin/python benchmarks/bench_ingest_606.py [--reports 3000] [--baseline]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import sys
import tempfile
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pfof.formats.archives import Candidate, walk
from pfof.formats.sec606 import read_606
from pfof.model.reports606 import a1_cells
from pfof.store.ingest import entry_count, ingest
from pfof.store.queries import stored_reports
from pfof.store.schema import connect

SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[2] / "shared"))
_USD = re.compile(rb"(<netPmtPaidRecv\w+Usd>)(-?[0-9]+(?:\.[0-9]+)?)(</)")


def sources() -> list[bytes]:
    """The 606(a)(1) reports with dollar figures: Schwab, Firstrade, Goldman (read leniently),
    the SEC's sample."""
    paths = [
        *sorted((SHARED / "real-606" / "schwab").glob("*.xml")),
        *sorted((SHARED / "real-606" / "firstrade").glob("*.xml")),
        *sorted((SHARED / "real-606" / "goldman-invalid").glob("*.xml")),
        SHARED / "sec-606" / "606a1_held_order_public_report.xml",
    ]
    return [p.read_bytes() for p in paths]


def _shift(data: bytes, nth: int, cents: int) -> bytes:
    """``data`` with its ``nth`` net payment dollar figure raised by ``cents``."""
    found = list(_USD.finditer(data))
    m = found[nth % len(found)]
    value = Decimal(m.group(2).decode()) + Decimal(cents) / 100
    return data[: m.start(2)] + str(value).encode() + data[m.end(2) :]


def filing(data: bytes, broker: str, cents: int, published: str) -> bytes:
    """A source report as ``broker``'s 2024 Q2 report with its own figures."""
    data = re.sub(rb"<bd>[^<]*</bd>", f"<bd>{broker}</bd>".encode(), data, count=1)
    data = re.sub(rb"<year>[0-9]{4}</year>", b"<year>2024</year>", data)
    data = re.sub(rb"<qtr>[1-4]</qtr>", b"<qtr>2</qtr>", data)
    data = re.sub(
        rb"<mon>([0-9]{1,2})</mon>",
        lambda m: b"<mon>%d</mon>" % ((int(m.group(1)) - 1) % 3 + 4),
        data,
    )
    data = re.sub(
        rb"<timestamp>[^<]*</timestamp>", f"<timestamp>{published}</timestamp>".encode(), data
    )
    return _shift(data, 0, cents)


def build_bulk(reports: int, out: Path) -> Counter[str]:
    """Write the bulk zip of ``reports`` files; returns what was built (filers, v2, affiliates)."""
    pool = sources()
    built: Counter[str] = Counter()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bulk:

        def add(crd: int, mpid: str, version: int, data: bytes, what: str) -> None:
            if built["files"] < reports:
                name = f"{crd}_606_NMS_2024_Q2_{mpid}_V{version}_2024071{version}.xml"
                bulk.writestr(f"2024Q2/{name}", data)
                built["files"] += 1
                built[what] += 1

        i = 0
        while built["files"] < reports:
            crd, mpid = 100_000 + i, f"B{i:04d}"
            latest = filing(
                pool[i % len(pool)], f"Broker {i} Securities LLC", i + 1, "2024-07-15T12:00:00Z"
            )
            add(crd, mpid, 1, latest, "filers")
            if i % 12 == 5 and built["files"] < reports:
                latest = _shift(re.sub(rb"2024-07-15T12", b"2024-08-01T12", latest), 1, 100)
                add(crd, mpid, 2, latest, "restated")
            if i % 50 == 7 and built["files"] < reports:
                twin = re.sub(
                    rb"<bd>[^<]*</bd>",
                    f"<bd>Broker {i} Clearing Corp</bd>".encode(),
                    latest,
                    count=1,
                )
                add(900_000 + i, f"C{i:04d}", 1, twin, "affiliates")
            i += 1
    return built


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
    parser.add_argument("--reports", type=int, default=3_000, help="files in the bulk zip")
    parser.add_argument(
        "--baseline", action="store_true", help="also time a row-by-row executemany ingest"
    )
    args = parser.parse_args()
    if not (SHARED / "real-606" / "schwab").exists():
        sys.exit(f"{SHARED / 'real-606'} is missing (set PFOF_SHARED)")
    with tempfile.TemporaryDirectory() as tmp:
        bulk = Path(tmp) / "2024Q2.zip"
        built = build_bulk(args.reports, bulk)
        n_files = built["files"]
        print(
            f"{n_files:,} reports in one quarter's bulk zip ({bulk.stat().st_size / 1e6:.0f} MB): "
            f"{built['filers']:,} filers, {built['restated']} restated (V2), "
            f"{built['affiliates']} affiliated copies"
        )

        start = time.perf_counter()
        total = entry_count(bulk)
        count_s = time.perf_counter() - start
        assert total == n_files, (total, n_files)
        print(f"count (progress total)   {count_s:7.2f} s")

        start = time.perf_counter()
        con = connect(str(Path(tmp) / "pfof.duckdb"))
        summary = ingest([bulk], con)
        fast = time.perf_counter() - start
        assert len(summary.ingested) == n_files, summary.rejected[:1]
        status = Counter(r.status for r in stored_reports(con, history=True))
        assert status == Counter(
            current=built["filers"], superseded=built["restated"], affiliated=built["affiliates"]
        ), status
        print(
            f"pfof ingest (Arrow bulk) {fast:7.2f} s  {n_files / fast:7.1f} files/s, "
            f"{summary.rows:,} cells"
        )
        print(
            f"  {status['current']:,} current, {status['superseded']} superseded, "
            f"{status['affiliated']} affiliated (counted once)"
        )

        start = time.perf_counter()
        again = ingest([bulk], con)
        repeat = time.perf_counter() - start
        con.close()
        assert len(again.skipped) == n_files and not again.ingested
        print(f"ingest again (all skip)  {repeat:7.2f} s  {n_files / repeat:7.1f} files/s")

        if args.baseline:
            start = time.perf_counter()
            rows = baseline(str(Path(tmp) / "baseline.duckdb"), bulk)
            slow = time.perf_counter() - start
            assert rows == summary.rows
            print(f"baseline (executemany)   {slow:7.2f} s  {n_files / slow:7.1f} files/s")
            print(f"speed-up vs baseline     {slow / fast:7.2f}x")
    print(f"pfof_ingest_files_per_s={n_files / fast:.1f}")


if __name__ == "__main__":
    main()
