"""Read-side queries over the store, returning Arrow tables (``polars.from_arrow`` for Polars).

Figures come from **current** reports only: of the stored editions of one report (its
restatements, :mod:`pfof.store.identity`), the latest counts and the others are kept as
superseded; :func:`stored_reports` lists them all. Of identical reports filed by affiliated
broker-dealers (the same figures under two CRDs or names, ``store.identity.routing_digest``)
one counts and the others are listed as ``affiliated``, so totals across brokers count the
report once. Every query works on a store written by an older pfof, opened read-only as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any, Literal

import duckdb
import pyarrow as pa

from pfof.formats.finra_bulk import parse_bulk_name
from pfof.model.names import broker_key
from pfof.store.identity import (
    Edition,
    affiliated_duplicate,
    current_editions,
    legacy_report_key,
)

__all__ = [
    "CELL_COLUMNS",
    "ReportStatus",
    "StoredReport",
    "current_sha256s",
    "disclosure_cells",
    "sources",
    "stored_reports",
    "table_counts",
    "total_net_payment",
]

ReportStatus = Literal["current", "superseded", "duplicate", "affiliated"]

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
    history: bool = False,
) -> pa.Table:
    """Reported 606(a)(1) cells of the current reports (optionally for one broker/year/quarter),
    in report order; ``history`` adds the cells of superseded editions."""
    where, params = _where({"broker": broker, "year": year, "quarter": quarter}, "d.")
    if not history:
        where, params = _current_only(con, where, params, "d.")
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
    """Exact sum of reported net payments (USD) over the matching cells of current reports.

    Summed in Python at 60 digits, not in SQL: a store written before pfof refused oversized
    amounts may hold some whose sum overflows DuckDB's DECIMAL(38, 10).
    """
    where, params = _where({"broker": broker, "year": year, "quarter": quarter})
    where, params = _current_only(con, where, params, "")
    column = con.execute(
        f"SELECT net_payment_usd FROM disclosures_606{where} AND net_payment_usd IS NOT NULL",
        params,
    ).fetchall()
    with localcontext(prec=60):
        return sum((Decimal(v) for (v,) in column), Decimal(0))


def _current_only(
    con: duckdb.DuckDBPyConnection, where: str, params: list[Any], alias: str
) -> tuple[str, list[Any]]:
    """``where`` narrowed to the rows of current reports."""
    clause = f"{alias}sha256 IN (SELECT unnest(?::VARCHAR[]))"
    where = f"{where} AND {clause}" if where else f" WHERE {clause}"
    return where, [*params, current_sha256s(con)]


def current_sha256s(con: duckdb.DuckDBPyConnection) -> list[str]:
    """SHA-256 of every stored report that is the current edition of its identity."""
    return sorted(r.sha256 for r in stored_reports(con) if r.status == "current")


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One stored report file (or a duplicate file not stored again) and whether it counts.

    ``status``: ``current`` (its figures count), ``superseded`` (a later edition of the same
    report counts instead: ``current_path``) or ``duplicate`` (a file holding the same report
    as the stored ``duplicate_of`` in another byte form; it was not stored again) or
    ``affiliated`` (another filer's report identical to ``current_path``, which counts instead:
    stored when only the broker's name differs, else recorded like a duplicate).
    """

    path: str
    sha256: str
    status: ReportStatus
    kind: str
    broker: str | None
    year: int | None
    quarter: int | None
    report_timestamp: datetime | None
    crd: str | None
    bulk_version: int | None
    customer: str | None
    ingested_at: datetime
    rows: int
    warnings: int
    strict_valid: bool | None
    current_path: str | None  # the report that counts instead (not current)
    duplicate_of: str | None  # the stored file a duplicate repeats
    report_key: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (times as ISO 8601 UTC)."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "kind": self.kind,
            "broker": self.broker,
            "year": self.year,
            "quarter": self.quarter,
            "report_timestamp": _iso(self.report_timestamp),
            "crd": self.crd,
            "bulk_version": self.bulk_version,
            "customer": self.customer,
            "ingested_at": _iso(self.ingested_at),
            "rows": self.rows,
            "warnings": self.warnings,
            "strict_valid": self.strict_valid,
            "current_path": self.current_path,
            "duplicate_of": self.duplicate_of,
        }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def stored_reports(con: duckdb.DuckDBPyConnection, *, history: bool = False) -> list[StoredReport]:
    """Every stored report with its status, current first by kind, broker and period, and the
    affiliated filers' identical reports; ``history`` adds superseded editions and
    duplicates."""
    sources_rows = _rows(con, "SELECT * FROM sources")
    duplicate_rows = _rows(con, "SELECT * FROM duplicates") if _has_table(con, "duplicates") else []
    keys = {
        r["sha256"]: r.get("report_key")
        or legacy_report_key(r["sha256"], r["kind"], r["broker"], r["year"], r["quarter"])
        for r in sources_rows
    }
    editions = [
        Edition(
            r["sha256"],
            keys[r["sha256"]],
            r.get("crd"),
            r.get("bulk_version"),
            r.get("report_timestamp"),
            r["ingested_at"],
        )
        for r in sources_rows
    ]
    by_sha = {r["sha256"]: r for r in sources_rows}
    twin_crd = {
        d["sha256"]: by_sha[d["of_sha256"]].get("crd") if d["of_sha256"] in by_sha else None
        for d in duplicate_rows
    }
    affiliated = {
        d["sha256"]
        for d in duplicate_rows
        if affiliated_duplicate(d["path"], twin_crd[d["sha256"]])
    }
    republished = [
        Edition(
            d["of_sha256"],
            keys.get(d["of_sha256"], ""),
            twin_crd[d["sha256"]],
            d["bulk_version"],
            d["report_timestamp"],
            d["ingested_at"],
        )
        for d in duplicate_rows
        if d["sha256"] not in affiliated  # another filer's copy is no re-publication
    ]
    current = current_editions(editions, republished)
    counted = _counted_filings([r for r in sources_rows if current[r["sha256"]] == r["sha256"]])
    out: list[StoredReport] = []
    for r in sources_rows:
        winner = current[r["sha256"]]
        status: ReportStatus = "current" if winner == r["sha256"] else "superseded"
        if status == "current" and counted.get(r["sha256"], winner) != winner:
            status, winner = "affiliated", counted[r["sha256"]]
        if history or status != "superseded":
            out.append(_stored(r, status, keys[r["sha256"]], by_sha[winner]["path"], None))
    for d in duplicate_rows:
        if history or d["sha256"] in affiliated:
            twin = by_sha.get(d["of_sha256"])
            if twin is None:
                continue
            record = {
                **twin,
                "sha256": d["sha256"],
                "path": d["path"],
                "report_timestamp": d["report_timestamp"],
                "bulk_version": d["bulk_version"],
                "ingested_at": d["ingested_at"],
                "n_rows": 0,
            }
            bulk = parse_bulk_name(d["path"])
            if bulk is not None:  # the copy's own filer
                record["crd"] = bulk.crd
            winner = current[twin["sha256"]]
            winner = counted.get(winner, winner)
            kind: ReportStatus = "affiliated" if d["sha256"] in affiliated else "duplicate"
            out.append(
                _stored(record, kind, keys[twin["sha256"]], by_sha[winner]["path"], twin["path"])
            )
    order = {"current": 0, "affiliated": 1, "superseded": 2, "duplicate": 3}
    out.sort(
        key=lambda s: (
            s.kind,
            s.broker or "",
            s.year or 0,
            s.quarter or 0,
            s.customer or "",
            order[s.status],
            s.path,
        )
    )
    return out


def _counted_filings(current: list[dict[str, Any]]) -> dict[str, str]:
    """sha256 of each current 606(a)(1) report -> sha256 of the one report of its identical
    filings that counts: of current reports with rows and one ``routing_sha256`` (the same
    figures filed under other CRDs or broker names), the lowest CRD, then broker, then path."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in current:
        routing = r.get("routing_sha256")
        if r["kind"] == "a1" and routing is not None and r["n_rows"]:
            groups.setdefault(routing, []).append(r)
    out: dict[str, str] = {}
    for group in groups.values():
        first = min(group, key=_filing_order)
        for r in group:
            out[r["sha256"]] = first["sha256"]
    return out


def _filing_order(r: dict[str, Any]) -> tuple[int, str, str]:
    crd = r.get("crd")
    number = int(crd) if crd is not None and crd.isdigit() else 10**12
    return number, broker_key(r["broker"] or ""), r["path"]


def _stored(
    r: dict[str, Any], status: ReportStatus, key: str, current_path: str, duplicate_of: str | None
) -> StoredReport:
    warnings = r.get("warnings")
    return StoredReport(
        path=r["path"],
        sha256=r["sha256"],
        status=status,
        kind=r["kind"],
        broker=r["broker"],
        year=r["year"],
        quarter=r["quarter"],
        report_timestamp=r.get("report_timestamp"),
        crd=r.get("crd"),
        bulk_version=r.get("bulk_version"),
        customer=r.get("customer"),
        ingested_at=r["ingested_at"],
        rows=int(r["n_rows"]),
        warnings=len(json.loads(warnings)) if isinstance(warnings, str) else 0,
        strict_valid=r.get("strict_valid"),
        current_path=None if status == "current" else current_path,
        duplicate_of=duplicate_of,
        report_key=key,
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
        "AND schema_name = current_schema()",
        [name],
    ).fetchall()
    return bool(rows and rows[0][0])


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of the provenance and report tables."""
    out = {}
    for table in ("sources", "disclosures_606", "routes_606b1", "venues_606b3"):
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()
        out[table] = int(rows[0][0]) if rows else 0
    return out
