"""Read-side queries over the store, returning Arrow tables (``polars.from_arrow`` for Polars)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

#: ``disclosures_606`` columns in :class:`~pfof.model.reports606.A1Cell` order (+ provenance).
CELL_COLUMNS = (
    "broker, year, quarter, month, section, venue_name, mic, mpid, order_type, venue_pct, "
    "routed_pct, net_payment_usd, rate, venue_index"
)


def _where(filters: dict[str, Any], alias: str = "") -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, value in filters.items():
        if value is not None:
            clauses.append(f"{alias}{column} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def disclosure_cells(
    con: duckdb.DuckDBPyConnection,
    *,
    broker: str | None = None,
    year: int | None = None,
    quarter: int | None = None,
) -> pa.Table:
    """Reported 606(a)(1) cells (optionally for one broker/year/quarter), in report order."""
    where, params = _where({"broker": broker, "year": year, "quarter": quarter}, "d.")
    sql = (
        f"SELECT {', '.join('d.' + c.strip() for c in CELL_COLUMNS.split(','))}, d.sha256 "
        f"FROM disclosures_606 d{where} "
        "ORDER BY d.year, d.quarter, d.month, d.broker, d.section, d.venue_index, d.order_type"
    )
    return con.sql(sql, params=params).to_arrow_table()


def sources(con: duckdb.DuckDBPyConnection, *, kind: str | None = None) -> pa.Table:
    """Provenance of every ingested file (``sources``), oldest first."""
    where, params = _where({"kind": kind})
    sql = f"SELECT * FROM sources{where} ORDER BY ingested_at, path"
    return con.sql(sql, params=params).to_arrow_table()


def total_net_payment(
    con: duckdb.DuckDBPyConnection,
    *,
    broker: str | None = None,
    year: int | None = None,
    quarter: int | None = None,
) -> Decimal:
    """Exact sum of reported net payments (USD) over the matching cells."""
    where, params = _where({"broker": broker, "year": year, "quarter": quarter})
    # fetchall: DuckDB may refuse later statements while a fetchone() result is unfinished
    rows = con.execute(
        f"SELECT coalesce(sum(net_payment_usd), 0) FROM disclosures_606{where}", params
    ).fetchall()
    return Decimal(rows[0][0]) if rows else Decimal(0)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of the provenance and report tables."""
    out = {}
    for table in ("sources", "disclosures_606", "routes_606b1", "venues_606b3"):
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()
        out[table] = int(rows[0][0]) if rows else 0
    return out
