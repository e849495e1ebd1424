"""Ingest Rule 606 reports (files, folders, nested zips) into DuckDB, idempotently.

Each candidate file is identified by the SHA-256 of its bytes: a file already stored (or already
seen as a duplicate) is skipped, whatever its path. Each new file is read (leniently, recording
deviations as warnings); a report whose content (:func:`~pfof.store.identity.content_digest`) is
already stored is a **duplicate**: recorded in ``duplicates`` and not stored again. Otherwise it
is written in its own transaction (provenance and identity row + report rows, bulk-inserted from
Arrow); when a report of the same identity is stored, the outcome says which edition is now
current (:mod:`pfof.store.identity`). Any error rolls the whole file back and is reported while
the other files go on.

A FINRA bulk file names its filer's CRD. The same report filed by another CRD (an affiliated
broker-dealer filing identical figures, under its own name or the same one) is never merged
silently: a copy with the same content is recorded in ``duplicates`` and a copy under another
``<bd>`` is stored; either outcome names the stored report it is ``identical_to``, and
:func:`pfof.store.queries.stored_reports` shows the pair while totals count the report once.
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
from pfof.formats.archives import STREAMED_SUFFIXES, ArchiveLimits, Candidate, walk
from pfof.formats.finra_bulk import parse_bulk_name
from pfof.model.reports606 import (
    A1_PLACES,
    B3_PLACES,
    B3_VENUE_FIELDS,
    A1Cell,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    a1_cells,
)
from pfof.store.identity import (
    Edition,
    ReportIdentity,
    affiliated_duplicate,
    current_editions,
    report_digests,
    report_identity,
)
from pfof.store.schema import connect, ensure_schema

Status = Literal["ingested", "skipped", "rejected"]
#: ``reader(stream) -> ReadResult``-like object with kind, report, warnings, strict_valid.
Reader = Callable[[io.BytesIO], Any]

_NUM = pa.decimal128(38, A1_PLACES)
_NUM_B3 = pa.decimal128(38, B3_PLACES)


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file (or archive member, or path that could not be read).

    ``duplicate_of``: a skipped file holding the same report as this stored one (another byte
    form, or re-published with a new timestamp). ``supersedes`` / ``superseded_by``: an
    ingested restatement and the stored edition of the same report it replaces / that stays
    current because it is later. ``identical_to``: a stored report of another filer (another
    CRD or broker) with the same figures, an affiliated filing shown but counted once.
    ``reason`` says the same in words.
    """

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
    duplicate_of: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    identical_to: str | None = None
    #: Rule 605 files: legacy | detailed | summary, and the first row's market center and
    #: month (YYYY-MM); ``None`` for Rule 606 reports.
    format: str | None = None
    market_center: str | None = None
    month: str | None = None


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
    def duplicates(self) -> list[FileOutcome]:
        """Skipped files that repeat a stored report's content."""
        return [o for o in self.outcomes if o.duplicate_of is not None]

    @property
    def affiliated(self) -> list[FileOutcome]:
        """Files identical to another filer's stored report (shown, counted once)."""
        return [o for o in self.outcomes if o.identical_to is not None]

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
    """Ingest every 606 report and 605 file under ``paths`` (files, folders, zips) into the
    store ``db`` (605 files: :mod:`pfof.store.ingest605`).

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


def entry_count(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    limits: ArchiveLimits | None = None,
) -> int:
    """How many outcomes :func:`ingest` of ``paths`` reports (one ``progress`` call each),
    counted without reading any report: folder and zip listings only (a nested zip is
    decompressed to list its members, its reports are not read)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return sum(1 for _ in walk(paths, limits, suffixes=INGEST_SUFFIXES))


def _outcomes(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | os.PathLike[str]],
    reader: Reader,
    limits: ArchiveLimits | None,
) -> Iterator[FileOutcome]:
    for entry in walk(paths, limits, suffixes=INGEST_SUFFIXES):
        if isinstance(entry, Candidate):
            if _is_606(entry):
                yield ingest_one(con, entry.path, _read(entry), reader=reader)
            else:  # a Rule 605 file, read as a stream (store.ingest605)
                from pfof.store.ingest605 import ingest_605

                yield ingest_605(con, entry)
        else:
            yield FileOutcome(entry.path, "rejected" if entry.error else "skipped", entry.reason)


#: Files ``ingest`` reads: Rule 606 XML, and Rule 605 files (``.dat`` in older months' zips).
INGEST_SUFFIXES: tuple[str, ...] = (".xml", *STREAMED_SUFFIXES)


def _is_606(entry: Candidate) -> bool:
    """An ``.xml`` file, or one whose first bytes are XML, goes to the Rule 606 reader."""
    if entry.path.lower().endswith(".xml"):
        return True
    from pfof.store.ingest605 import stream_is_xml

    try:
        with entry.open() as stream:
            return stream_is_xml(stream)
    except Exception:  # unreadable: the 605 path reports it
        return False


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
    rows = con.execute(
        "SELECT path, NULL, crd, report_timestamp FROM sources WHERE sha256 = $sha UNION ALL "
        "SELECT s.path, d.path, s.crd, NULL FROM duplicates d "
        "JOIN sources s ON s.sha256 = d.of_sha256 WHERE d.sha256 = $sha",
        {"sha": sha},
    ).fetchall()
    rows.sort(key=lambda r: r[1] is not None)  # the stored file first
    if rows and rows[0][1] is None:
        crd = _crd(path)
        if len(rows) == 1 and crd is not None and rows[0][2] not in (None, crd):
            return _affiliated_copy(con, path, sha, rows[0])
        return FileOutcome(path, "skipped", f"already ingested (as {rows[0][0]})", sha256=sha)
    if rows:
        return FileOutcome(
            path,
            "skipped",
            f"already ingested as a duplicate of {rows[0][0]}",
            sha256=sha,
            duplicate_of=rows[0][0],
        )
    stream = io.BytesIO(data)
    stream.name = path  # readers name the file in their messages
    try:
        result = reader(stream)
        identity = report_identity(result.report, path)
        digest, routing_of = report_digests(result.report)
    except Exception as exc:  # any reader failure rejects this file only
        return FileOutcome(path, "rejected", str(exc) or type(exc).__name__, sha256=sha)
    # affiliated filers are told apart for 606(a)(1) reports only
    routing = routing_of if identity.kind == "a1" else None
    found = con.execute(
        "SELECT sha256, path, crd, bulk_version, report_timestamp, ingested_at, content_sha256, "
        "report_key, routing_sha256, broker, n_rows FROM sources "
        "WHERE report_key = ? OR content_sha256 = ? OR routing_sha256 = ? "
        "ORDER BY ingested_at, path",
        [identity.key, digest, routing],
    ).fetchall()
    stored = [r for r in found if r[7] == identity.key or r[6] == digest]
    twin = next((r for r in stored if r[6] == digest), None)
    if twin is not None:
        affiliated = None not in (identity.crd, twin[2]) and identity.crd != twin[2]
        return _duplicate(con, path, sha, identity, (twin[0], twin[1], twin[2]), affiliated)
    identical = _identical_filing(identity, routing, found) if routing else None
    warnings = [_issue_json(w) for w in result.warnings]
    try:
        table_name, table = report_table(sha, result.report)
    except Exception as exc:
        return FileOutcome(path, "rejected", str(exc), sha256=sha)
    now = datetime.now(UTC)
    new = Edition(sha, identity.key, identity.crd, identity.bulk_version, identity.timestamp, now)
    edition = _edition_note(con, new, stored)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"INSERT INTO sources ({_SOURCE_COLUMNS}) VALUES ({', '.join('?' * 17)})",
            [
                sha,
                path,
                identity.kind,
                identity.broker,
                identity.year,
                identity.quarter,
                now,
                bool(result.strict_valid),
                json.dumps(warnings),
                table.num_rows,
                identity.key,
                digest,
                identity.timestamp,
                identity.crd,
                identity.bulk_version,
                identity.customer,
                routing,
            ],
        )
        _insert_rows(con, table_name, table)
        con.execute("COMMIT")
    except BaseException as exc:
        rollback(con)
        if not isinstance(exc, Exception):
            raise
        return FileOutcome(path, "rejected", f"cannot store: {exc}", sha256=sha)
    supersedes, superseded_by = edition
    reason = (
        f"restates {supersedes}"
        if supersedes
        else f"superseded by {superseded_by} (a later edition of the same report)"
        if superseded_by
        else ""
    )
    if identical is not None and table.num_rows:
        note = _affiliated_note(identical[0], identical[1], identical[2])
        reason = f"{reason}; {note}" if reason else note
    return FileOutcome(
        path,
        "ingested",
        reason,
        sha256=sha,
        kind=identity.kind,
        broker=identity.broker,
        year=identity.year,
        quarter=identity.quarter,
        rows=table.num_rows,
        warnings=len(warnings),
        supersedes=supersedes,
        superseded_by=superseded_by,
        identical_to=identical[0] if identical is not None and table.num_rows else None,
    )


def _crd(path: str) -> str | None:
    bulk = parse_bulk_name(path)
    return bulk.crd if bulk is not None else None


def _affiliated_note(path: str, crd: str | None, broker: str | None) -> str:
    who = f"CRD {crd}" if crd is not None else "another filer"
    name = f", {broker}" if broker else ""
    return (
        f"identical to {path} ({who}{name}): an affiliated filer's identical report, "
        "listed by `pfof reports` and counted once"
    )


def _identical_filing(
    identity: ReportIdentity, routing: str, found: list[tuple[Any, ...]]
) -> tuple[str, str | None, str | None] | None:
    """(path, crd, broker) of the first ingested of the ``found`` stored reports (rows of
    ``ingest_one``'s lookup) that has rows and the figures ``routing`` (``routing_sha256``)
    but is another filer's or another report; ``None`` when there is none."""
    for r in found:
        path, crd, key, theirs, broker, n_rows = r[1], r[2], r[7], r[8], r[9], r[10]
        if theirs != routing or not n_rows:
            continue
        if key != identity.key or (None not in (crd, identity.crd) and crd != identity.crd):
            return path, crd, broker  # not an edition of the same report: another filing
    return None


def _affiliated_copy(
    con: duckdb.DuckDBPyConnection, path: str, sha: str, stored: tuple[Any, ...]
) -> FileOutcome:
    """Record the byte-identical copy ``path`` of the stored file ``stored`` (path, _, crd,
    report_timestamp) filed under another CRD, as an affiliated duplicate."""
    bulk = parse_bulk_name(path)
    version = bulk.version if bulk is not None else None
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO duplicates VALUES (?, ?, ?, ?, ?, ?)",
            [sha, sha, path, stored[3], version, datetime.now(UTC)],
        )
        con.execute("COMMIT")
    except BaseException as exc:
        rollback(con)
        if not isinstance(exc, Exception):
            raise
        return FileOutcome(path, "rejected", f"cannot store: {exc}", sha256=sha)
    return FileOutcome(
        path,
        "skipped",
        f"the same file as {stored[0]}; {_affiliated_note(stored[0], stored[2], None)}",
        sha256=sha,
        duplicate_of=stored[0],
        identical_to=stored[0],
    )


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the file's transaction. A failed COMMIT (a read-only or full disk) has already
    ended it, and DuckDB then refuses ROLLBACK: the file is rejected either way."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


_SOURCE_COLUMNS = (
    "sha256, path, kind, broker, year, quarter, ingested_at, strict_valid, warnings, n_rows, "
    "report_key, content_sha256, report_timestamp, crd, bulk_version, customer, routing_sha256"
)


def _duplicate(
    con: duckdb.DuckDBPyConnection,
    path: str,
    sha: str,
    identity: ReportIdentity,
    twin: tuple[str, str, str | None],
    affiliated: bool = False,
) -> FileOutcome:
    """Record ``path`` as a duplicate of the stored report ``twin`` (sha256, path, crd);
    ``affiliated``: filed under another CRD than ``twin``."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO duplicates VALUES (?, ?, ?, ?, ?, ?)",
            [sha, twin[0], path, identity.timestamp, identity.bulk_version, datetime.now(UTC)],
        )
        con.execute("COMMIT")
    except BaseException as exc:
        rollback(con)
        if not isinstance(exc, Exception):
            raise
        return FileOutcome(path, "rejected", f"cannot store: {exc}", sha256=sha)
    if affiliated:
        reason = f"the same report as {twin[1]}; {_affiliated_note(twin[1], twin[2], None)}"
    else:
        reason = (
            f"duplicate of {twin[1]}: the same report, only its bytes or timestamp differ; "
            "not stored again"
        )
    return FileOutcome(
        path,
        "skipped",
        reason,
        sha256=sha,
        kind=identity.kind,
        broker=identity.broker,
        year=identity.year,
        quarter=identity.quarter,
        duplicate_of=twin[1],
        identical_to=twin[1] if affiliated else None,
    )


def _edition_note(
    con: duckdb.DuckDBPyConnection, new: Edition, stored: list[tuple[Any, ...]]
) -> tuple[str | None, str | None]:
    """(path of the current edition ``new`` replaces, path of the stored edition that stays
    current instead of ``new``); both ``None`` when no edition of its report is stored.
    ``stored``: the rows (sha256, path, crd, bulk_version, report_timestamp, ingested_at, ...)
    of ``sources`` with ``new``'s report key."""
    rows = stored
    if not rows:
        return None, None
    paths = {r[0]: r[1] for r in rows}
    editions = [Edition(r[0], new.key, r[2], r[3], r[4], r[5]) for r in rows]
    dups = con.execute(
        "SELECT d.of_sha256, s.crd, d.bulk_version, d.report_timestamp, d.ingested_at, d.path "
        "FROM duplicates d JOIN sources s ON s.sha256 = d.of_sha256 WHERE s.report_key = ?",
        [new.key],
    ).fetchall()
    republished = [
        Edition(r[0], new.key, r[1], r[2], r[3], r[4])
        for r in dups
        if not affiliated_duplicate(r[5], r[1])
    ]
    before = current_editions(editions, republished)
    after = current_editions([*editions, new], republished)
    winner = after[new.sha256]
    if winner != new.sha256:
        return None, paths[winner]
    replaced = {before[e.sha256] for e in editions if after[e.sha256] == new.sha256}
    return (paths[min(replaced)] if replaced else None), None


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
        raise ValueError(
            f"{column}: a value does not fit the store's DECIMAL(38, {A1_PLACES}) exactly "
            f"(at most {38 - A1_PLACES} digits before the point and {A1_PLACES} after)"
        ) from exc


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
        raise ValueError(
            f"606(b)(3): a value does not fit the store's DECIMAL(38, {B3_PLACES}) exactly "
            f"(at most {38 - B3_PLACES} digits before the point and {B3_PLACES} after)"
        ) from exc
