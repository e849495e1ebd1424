"""Ingest Rule 606 reports (files, folders, nested zips) into DuckDB, idempotently.

Each candidate file is identified by the SHA-256 of its bytes: a file already in ``sources`` is
skipped, whatever its path. Each file is read (leniently, recording deviations as warnings),
then written in its own transaction (provenance row + report rows, bulk-inserted from Arrow);
any error rolls the whole file back and is reported while the other files go on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa

from pfof.errors import Issue, StoreError
from pfof.formats.archives import ArchiveLimits, Candidate, walk
from pfof.model.enums import ReportKind
from pfof.model.market_time import year_quarter
from pfof.model.reports606 import (
    B3_VENUE_FIELDS,
    A1Cell,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    a1_cells,
)
from pfof.store.schema import connect, ensure_schema

Status = Literal["ingested", "skipped", "rejected"]
#: ``reader(stream) -> ReadResult``-like object with kind, report, warnings, strict_valid.
Reader = Callable[[io.BytesIO], Any]

_NUM = pa.decimal128(38, 10)
_NUM_B3 = pa.decimal128(38, 18)


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file (or archive member, or path that could not be read)."""

    path: str
    status: Status
    reason: str = ""
    sha256: str | None = None
    kind: str | None = None
    broker: str | None = None
    year: int | None = None
    quarter: int | None = None
    rows: int = 0
    warnings: int = 0


@dataclass(slots=True)
class IngestSummary:
    """Every file's :class:`FileOutcome` of one :func:`ingest` call, in the order met."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    def _with(self, status: Status) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ingested(self) -> list[FileOutcome]:
        return self._with("ingested")

    @property
    def skipped(self) -> list[FileOutcome]:
        return self._with("skipped")

    @property
    def rejected(self) -> list[FileOutcome]:
        return self._with("rejected")

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.outcomes)


def default_reader(stream: io.BytesIO) -> Any:
    """The lenient Rule 606 reader of :mod:`pfof.formats.sec606`."""
    from pfof.formats.sec606 import read_606

    return read_606(stream)


def ingest(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    db: str | os.PathLike[str] | duckdb.DuckDBPyConnection,
    *,
    progress: Callable[[FileOutcome], None] | None = None,
    reader: Reader = default_reader,
    limits: ArchiveLimits | None = None,
) -> IngestSummary:
    """Ingest every 606 report under ``paths`` (files, folders, zips) into the store ``db``.

    ``db`` is a DuckDB file (created if needed, closed afterwards) or an open connection (left
    open). A bad file never raises: it is recorded as rejected and the others go on.
    ``progress`` is called once per file (or skipped archive member) after its outcome is
    known. Raises :class:`~pfof.errors.StoreError` when the store cannot be opened.

    >>> import pfof
    >>> summary = pfof.ingest(["reports/", "finra-2024Q2.zip"], "pfof.duckdb")  # doctest: +SKIP
    >>> len(summary.ingested), len(summary.skipped), len(summary.rejected)  # doctest: +SKIP
    (48, 0, 1)
    """
    if isinstance(paths, duckdb.DuckDBPyConnection):
        raise TypeError("ingest(paths, db): the paths come first, then the store")
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not isinstance(db, duckdb.DuckDBPyConnection):
        con = connect(db)
        try:
            return ingest(paths, con, progress=progress, reader=reader, limits=limits)
        finally:
            con.close()
    try:
        ensure_schema(db)
    except duckdb.Error as exc:
        raise StoreError(f"cannot write the store's schema: {exc}") from exc
    summary = IngestSummary()
    for outcome in _outcomes(db, paths, reader, limits):
        summary.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return summary


def _outcomes(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | os.PathLike[str]],
    reader: Reader,
    limits: ArchiveLimits | None,
) -> Iterator[FileOutcome]:
    for entry in walk(paths, limits):
        if isinstance(entry, Candidate):
            yield ingest_one(con, entry.path, _read(entry), reader=reader)
        else:
            yield FileOutcome(entry.path, "rejected" if entry.error else "skipped", entry.reason)


def _read(entry: Candidate) -> bytes | OSError:
    try:
        return entry.read_bytes()
    except OSError as exc:
        return exc


def ingest_one(
    con: duckdb.DuckDBPyConnection,
    path: str,
    data: bytes | OSError,
    *,
    reader: Reader = default_reader,
) -> FileOutcome:
    """Ingest one file's bytes under the display name ``path`` (one transaction)."""
    if isinstance(data, OSError):
        return FileOutcome(path, "rejected", f"cannot read file: {data}")
    sha = hashlib.sha256(data).hexdigest()
    # fetchall, not fetchone: DuckDB refuses the next statement while a result is unfinished
    rows = con.execute("SELECT path FROM sources WHERE sha256 = ?", [sha]).fetchall()
    known = rows[0] if rows else None
    if known is not None:
        return FileOutcome(path, "skipped", f"already ingested (as {known[0]})", sha256=sha)
    stream = io.BytesIO(data)
    stream.name = path  # readers name the file in their messages
    try:
        result = reader(stream)
    except Exception as exc:  # any reader failure rejects this file only
        return FileOutcome(path, "rejected", str(exc) or type(exc).__name__, sha256=sha)
    kind, broker, year, quarter = _identity(result.report)
    warnings = [_issue_json(w) for w in result.warnings]
    try:
        table_name, table = report_table(sha, result.report)
    except Exception as exc:
        return FileOutcome(path, "rejected", str(exc), sha256=sha)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                sha,
                path,
                kind.value,
                broker,
                year,
                quarter,
                datetime.now(UTC),
                bool(result.strict_valid),
                json.dumps(warnings),
                table.num_rows,
            ],
        )
        _insert_rows(con, table_name, table)
        con.execute("COMMIT")
    except BaseException as exc:
        con.execute("ROLLBACK")
        if not isinstance(exc, Exception):
            raise
        return FileOutcome(path, "rejected", f"cannot store: {exc}", sha256=sha)
    return FileOutcome(
        path,
        "ingested",
        sha256=sha,
        kind=kind.value,
        broker=broker,
        year=year,
        quarter=quarter,
        rows=table.num_rows,
        warnings=len(warnings),
    )


def _identity(report: Any) -> tuple[ReportKind, str, int, int | None]:
    if isinstance(report, HeldOrderRoutingReport):
        return ReportKind.A1, report.bd, report.year, report.qtr
    kind = ReportKind.B1 if isinstance(report, CustomerRoutingReport) else ReportKind.B3
    return kind, report.bd, *year_quarter(report.start_date)


def _issue_json(issue: Any) -> Any:
    """An :class:`~pfof.errors.Issue` as its JSON fields; another reader's warning as text."""
    return issue.as_dict() if isinstance(issue, Issue) else str(issue)


def report_table(sha: str, report: Any) -> tuple[str, pa.Table]:
    """The store table a report's rows go to, and those rows as Arrow."""
    if isinstance(report, HeldOrderRoutingReport):
        return "disclosures_606", cells_table(sha, a1_cells(report))
    if isinstance(report, CustomerRoutingReport):
        return "routes_606b1", _b1_table(sha, report)
    if isinstance(report, NotHeldHandlingReport):
        return "venues_606b3", _b3_table(sha, report)
    raise TypeError(f"not a Rule 606 report: {type(report).__name__}")


def _insert_rows(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    if table.num_rows:
        con.register("_pfof_rows", table)
        try:
            columns = ", ".join(table.column_names)
            con.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM _pfof_rows")
        finally:
            con.unregister("_pfof_rows")


def cells_table(sha: str, cells: Iterable[A1Cell]) -> pa.Table:
    """``disclosures_606`` rows of one file as an Arrow table (exact decimals)."""
    cols: dict[str, list[Any]] = {
        name: []
        for name in (
            "broker year quarter month section venue_index venue_name mic mpid order_type "
            "venue_pct routed_pct net_payment_usd rate"
        ).split()
    }
    for cell in cells:
        for name, values in cols.items():
            values.append(getattr(cell, name))
    n = len(cols["broker"])
    return pa.table(
        {
            "sha256": pa.array([sha] * n, pa.string()),
            "broker": pa.array(cols["broker"], pa.string()),
            "year": pa.array(cols["year"], pa.int32()),
            "quarter": pa.array(cols["quarter"], pa.int32()),
            "month": pa.array(cols["month"], pa.int32()),
            "section": pa.array([s.value for s in cols["section"]], pa.string()),
            "venue_index": pa.array(cols["venue_index"], pa.int32()),
            "venue_name": pa.array(cols["venue_name"], pa.string()),
            "mic": pa.array(cols["mic"], pa.string()),
            "mpid": pa.array(cols["mpid"], pa.string()),
            "order_type": pa.array([o.value for o in cols["order_type"]], pa.string()),
            **{
                name: _decimals(cols[name], name)
                for name in ("venue_pct", "routed_pct", "net_payment_usd", "rate")
            },
        }
    )


def _decimals(values: list[Any], column: str) -> pa.Array:
    try:
        return pa.array(values, _NUM)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValueError(f"{column}: value not representable as DECIMAL(38, 10): {exc}") from exc


def _b1_table(sha: str, report: CustomerRoutingReport) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for category, orders in (
        ("held", report.held),
        ("not_held_exempt", report.not_held_exempt),
        ("options", report.options),
    ):
        for order in orders or ():
            for index, route in enumerate(order.routes, start=1):
                base = {
                    "sha256": sha,
                    "broker": report.bd,
                    "customer": report.customer,
                    "category": category,
                    "order_id": order.order_id,
                    "directed": order.directed,
                    "route_index": index,
                    "venue_name": route.venue_name,
                    "mic": route.mic,
                    "mpid": route.mpid,
                }
                for tx in route.transactions or (None,):
                    rows.append(
                        {
                            **base,
                            "tx_date": tx.date if tx else None,
                            "tx_time": tx.time if tx else None,
                        }
                    )
    schema = pa.schema(
        [
            ("sha256", pa.string()),
            ("broker", pa.string()),
            ("customer", pa.string()),
            ("category", pa.string()),
            ("order_id", pa.string()),
            ("directed", pa.bool_()),
            ("route_index", pa.int32()),
            ("venue_name", pa.string()),
            ("mic", pa.string()),
            ("mpid", pa.string()),
            ("tx_date", pa.date32()),
            ("tx_time", pa.time64("us")),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _b3_table(sha: str, report: NotHeldHandlingReport) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for directed, months in ((True, report.directed), (False, report.non_directed)):
        for month in months or ():
            for index, venue in enumerate(month.routing_venues, start=1):
                row = {
                    "sha256": sha,
                    "broker": report.bd,
                    "customer": report.customer,
                    "directed": directed,
                    "year": month.year,
                    "month": month.mon,
                    "venue_index": index,
                    "venue_name": venue.venue_name,
                    "services": venue.services,
                    "mic": venue.mic,
                    "mpid": venue.mpid,
                }
                row.update({attr: getattr(venue, attr) for _, attr in B3_VENUE_FIELDS})
                rows.append(row)
    schema = pa.schema(
        [
            ("sha256", pa.string()),
            ("broker", pa.string()),
            ("customer", pa.string()),
            ("directed", pa.bool_()),
            ("year", pa.int32()),
            ("month", pa.int32()),
            ("venue_index", pa.int32()),
            ("venue_name", pa.string()),
            ("services", pa.string()),
            ("mic", pa.string()),
            ("mpid", pa.string()),
            *[(attr, _NUM_B3) for _, attr in B3_VENUE_FIELDS],
        ]
    )
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValueError(f"606(b)(3) value not representable as DECIMAL(38, 18): {exc}") from exc
