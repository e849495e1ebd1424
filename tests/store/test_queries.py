"""Read-side queries (store.queries): only current reports count, the listing of every stored
edition, and stored values that no query can trip over."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

import pfof
from pfof.store import queries
from pfof.store.ingest import ingest
from pfof.store.schema import connect

HUGE = "9" * 28 + ".99"  # what an older pfof let in: DECIMAL(38, 10)'s largest


def oversized_store(schwab: Path, tmp_path: Path) -> Path:
    """Schwab's 2020 Q1 stored, then three of its amounts set to 28-digit values, as a store
    written before pfof refused them may hold (their SQL sum overflows DECIMAL(38, 10))."""
    db = tmp_path / "big.duckdb"
    ingest(schwab / "606-CHAS-2020Q1.xml", db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE disclosures_606 SET net_payment_usd = ? WHERE venue_index = 1 AND month = 1 "
        "AND section = 'sp500' AND order_type <> 'other'",
        [HUGE],
    )
    con.close()
    return db


def test_oversized_stored_amounts_break_no_query(schwab: Path, tmp_path: Path) -> None:
    db = oversized_store(schwab, tmp_path)
    con = connect(db, read_only=True)
    try:
        total = queries.total_net_payment(con)
    finally:
        con.close()
    assert total > 3 * Decimal(HUGE)
    (quarter,) = pfof.broker_quarters(db)
    assert Decimal(quarter.to_json()["total_usd"]) == total


def test_stored_reports_lists_each_report_with_its_identity(schwab: Path, tmp_path: Path) -> None:
    db = tmp_path / "l.duckdb"
    ingest(sorted(schwab.glob("*2020Q*.xml")), db)
    listed = pfof.stored_reports(db)
    assert [(r.year, r.quarter, r.status) for r in listed] == [
        (2020, q, "current") for q in (1, 2, 3, 4)
    ]
    record = listed[0].to_json()
    assert record["report_timestamp"] == "2020-12-04T19:19:28Z" and record["rows"] == 240
    assert record["path"] == str(schwab / "606-CHAS-2020Q1.xml") and record["crd"] is None
    con = connect(db, read_only=True)
    try:
        assert queries.current_sha256s(con) == sorted(r.sha256 for r in listed)
    finally:
        con.close()
