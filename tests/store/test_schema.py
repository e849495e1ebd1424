"""Opening the DuckDB store (store.schema.connect) and its errors."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pfof.errors import StoreError
from pfof.formats.sec606 import read_606
from pfof.model.reports606 import a1_cells
from pfof.store.ingest import cells_table
from pfof.store.schema import NUM, REPORT_TABLES, connect
from support.report_copies import SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED, retimestamp


def test_connect_creates_the_schema_in_a_new_file(tmp_path: Path) -> None:
    con = connect(tmp_path / "new.duckdb")
    try:
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert {"pfof_meta", "sources", *REPORT_TABLES} <= tables


def test_connect_names_a_file_that_is_not_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"corrupt\.duckdb: cannot open as a DuckDB store"):
        connect(path)


def test_connect_read_only_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"missing\.duckdb: no such DuckDB file"):
        connect(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_connect_names_a_file_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('open', flush=True);"
            " sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=r"locked\.duckdb: cannot open .*lock"):
            connect(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


#: The store as pfof wrote it before reports had an identity (schema version 1).
V1_DDL = (
    "CREATE TABLE pfof_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE sources (
        sha256 VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        broker VARCHAR, year INTEGER, quarter INTEGER, ingested_at TIMESTAMPTZ NOT NULL,
        strict_valid BOOLEAN NOT NULL, warnings JSON NOT NULL, n_rows BIGINT NOT NULL)""",
    f"""CREATE TABLE disclosures_606 (
        sha256 VARCHAR NOT NULL REFERENCES sources (sha256), broker VARCHAR NOT NULL,
        year INTEGER NOT NULL, quarter INTEGER NOT NULL, month INTEGER NOT NULL,
        section VARCHAR NOT NULL, venue_index INTEGER NOT NULL, venue_name VARCHAR, mic VARCHAR,
        mpid VARCHAR, order_type VARCHAR NOT NULL, venue_pct {NUM}, routed_pct {NUM},
        net_payment_usd {NUM}, rate {NUM})""",
    "INSERT INTO pfof_meta VALUES ('schema_version', '1')",
)


def v1_store(path: Path, files: dict[str, bytes]) -> None:
    """A schema-version-1 store holding ``files`` (display path -> bytes) as pfof 0.1 stored
    them: by their bytes only, so a CRLF copy of a report was stored a second time."""
    import duckdb

    con = duckdb.connect(str(path))
    for statement in V1_DDL:
        con.execute(statement)
    for i, (name, data) in enumerate(files.items()):
        report = read_606(io.BytesIO(data)).report
        sha = hashlib.sha256(data).hexdigest()
        con.execute(
            "INSERT INTO sources VALUES (?, ?, 'a1', ?, ?, ?, ?, true, '[]', 240)",
            [sha, name, report.bd, report.year, report.qtr, datetime(2024, 1, 1, 0, i, tzinfo=UTC)],
        )
        con.register("rows", cells_table(sha, a1_cells(report)))
        con.execute("INSERT INTO disclosures_606 SELECT * FROM rows")
        con.unregister("rows")
    con.close()


def test_a_store_from_an_older_pfof_counts_each_report_once_read_only_and_after_upgrade(
    schwab: Path, tmp_path: Path
) -> None:
    import pfof
    from pfof.store.queries import stored_reports

    files = {str(p): p.read_bytes() for p in sorted(schwab.glob("*2020Q*.xml"))}
    q1 = str(schwab / "606-CHAS-2020Q1.xml")
    files["q1-crlf.xml"] = files[q1].replace(b"\n", b"\r\n")
    db = tmp_path / "v1.duckdb"
    v1_store(db, files)

    def total() -> Decimal:
        return sum((q.total_usd for q in pfof.broker_quarters(db)), Decimal(0))

    assert total() == Decimal("245463984.21")  # read-only, as it is: no upgrade needed
    con = connect(db, read_only=True)
    reports = stored_reports(con, history=True)
    con.close()
    assert sorted(r.status for r in reports) == ["current"] * 4 + ["superseded"]

    for _ in range(2):  # opened for writing: upgraded, once
        con = connect(db)
        version = con.execute("SELECT value FROM pfof_meta").fetchall()
        keys = con.execute("SELECT count(DISTINCT report_key) FROM sources").fetchall()
        con.close()
        assert version == [("2",)] and keys == [(4,)]
    assert total() == Decimal("245463984.21")
    restated = retimestamp(
        files[q1].replace(SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED), "2030-01-01T00:00:00Z"
    )
    path = tmp_path / "restated.xml"
    path.write_bytes(restated)
    summary = pfof.ingest(path, db)
    assert summary.outcomes[0].status == "ingested" and summary.outcomes[0].supersedes
    assert total() == Decimal("245463985.21")
