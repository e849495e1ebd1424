"""Ingest Rule 605 files (legacy, amended detailed, amended summary) into the DuckDB store.

``pfof.ingest`` sends here every candidate that is no XML (``store.ingest`` sniffs the first
bytes): ``.txt``, ``.dat`` and ``.csv`` files, loose, in folders or in the monthly zips market
centers publish. The rules are those of the Rule 606 ingest:

* **identity**: a file is known by the SHA-256 of its bytes; a file already in ``sources_605``
  is skipped, whatever its path.
* **one transaction per file**: the file's rows are bulk-inserted from Arrow batches as
  :func:`pfof.formats.sec605_arrow.scan_605_batches` reads them (about 64k rows at a time, so
  a 400,000-row exchange file streams in with bounded memory), then its provenance row; a
  file with errors, one that cannot be read, or an interruption rolls back that file only.
* **fast path** (legacy and detailed files; a zip member is copied to a temporary file by
  the pass that hashes it): DuckDB's parallel CSV reader inserts the rows straight from the
  file (``INSERT ... SELECT ... FROM read_csv(...)``, every cell checked in SQL), then the
  rows are read back in file order for the exact reader's vectorised consistency checks and
  deviations. It keeps only results the exact reader would give (compared in
  ``tests/store/test_ingest605_fast_path.py``): the pass that hashes the file rules out
  every byte pattern DuckDB's parsing reads differently (:func:`_hash_and_scan`); a refused
  cell, a consistency warning (worded per row by the exact reader), more than one kind of
  deviation, a detailed header that is not the rule's or a row count that differs from the
  file's lines rolls the attempt back, and the exact reader takes the file. Summary files
  (10,000 lines at most) always take the exact reader.
* **lenient reading**: consistency problems and real-world deviations (E/Q in percent
  points, placeholder averages, routed-away shares in the quote split, negative effective
  spreads, ``.dat`` names) are warnings, stored as JSON in ``sources_605.warnings``; a file
  with any error (an unreadable line) is rejected, as :func:`pfof.formats.sec605.read_605`
  rejects it.

Tables (``store.schema``): ``sources_605`` (sha256, path, format, market_center and month of
the first row, every market center and month of the file, ingested_at, strict_valid,
warnings, n_rows) and ``rows_605_legacy`` / ``rows_605_detailed`` / ``rows_605_summary``:
``sha256`` and the record attributes of ``model.records605``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.errors import Issue, Severity, ValidationError
from pfof.formats import sec605_detailed
from pfof.formats.archives import Candidate
from pfof.formats.sec605 import UnknownFormatError
from pfof.formats.sec605_arrow import (
    IssueRecorder,
    Kind,
    arrow_schema,
    detailed_checks,
    detect_kind,
    deviation_issues,
    legacy_checks,
    scan_605_batches,
    suffix_issue,
)
from pfof.formats.sec605_detailed import NON_NEGATIVE
from pfof.formats.sec605_detailed import REQUIRED_FIELDS as _DETAILED_REQUIRED
from pfof.formats.sec605_legacy import REQUIRED_TEXT as _LEGACY_REQUIRED
from pfof.formats.sec605_numbers import MAX_LINE_BYTES
from pfof.model.records605 import DETAILED_FIELDS, DETAILED_TIME_BUCKETS, LEGACY_FIELDS
from pfof.store.ingest import FileOutcome, rollback
from pfof.store.schema import RULE605_ROW_TABLES

#: Row table of each format, and its columns after ``sha256``.
ROW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    table.removeprefix("rows_605_"): (table, tuple(name for name, _ in columns))
    for table, columns in RULE605_ROW_TABLES
}
_CHUNK = 1 << 20
#: (market center column, month column) of each format's records.
_KEYS: dict[str, tuple[str, str]] = {
    "legacy": ("market_center", "yyyymm"),
    "detailed": ("entity", "rpt_date"),
    "summary": ("entity", "rpt_date"),
}


@dataclass(slots=True)
class _Seen:
    """Market centers and months of a file's rows, the first row's first."""

    first: tuple[str, str] | None = None
    centers: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)

    def add(self, kind: Kind, batch: pa.RecordBatch) -> None:
        center_col, month_col = _KEYS[kind]
        centers = batch.column(center_col)
        months = batch.column(month_col)
        if self.first is None:
            self.first = (centers[0].as_py(), _month(months[0].as_py()))
        self.centers.update(pc.unique(centers).to_pylist())
        self.months.update(_month(m) for m in pc.unique(months).to_pylist())


def _month(yyyymm: int) -> str:
    return f"{yyyymm // 100:04d}-{yyyymm % 100:02d}"


def _sha256(entry: Candidate) -> str:
    digest = hashlib.sha256()
    with entry.open() as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_605(con: duckdb.DuckDBPyConnection, entry: Candidate) -> FileOutcome:
    """Ingest one Rule 605 candidate (a file or zip member, read as a stream) in one
    transaction; a file that is no 605 format is skipped, a bad one rejected. Never raises
    but for an interruption (``KeyboardInterrupt``), after rolling the file back."""
    with _extracted(entry) as copy:
        return _ingest_605(con, entry, copy)


def _ingest_605(
    con: duckdb.DuckDBPyConnection, entry: Candidate, copy: IO[bytes] | None
) -> FileOutcome:
    path = entry.path
    local = _local_file(entry) if FAST_PATH else None
    if copy is not None:
        local = copy.name
    scan: _Scan | None = None
    try:
        if local is None:
            sha = _sha256(entry)
        else:
            with entry.open() as stream:
                sha, scan = _hash_and_scan(stream, copy)
            if copy is not None:
                copy.flush()
    except Exception as exc:  # OSError, or a damaged zip member (BadZipFile, zlib.error)
        return FileOutcome(path, "rejected", f"cannot read file: {exc}")
    stored = con.execute("SELECT path FROM sources_605 WHERE sha256 = ?", [sha]).fetchall()
    if stored:
        return FileOutcome(path, "skipped", f"already ingested (as {stored[0][0]})", sha256=sha)
    con.execute("BEGIN TRANSACTION")
    try:
        outcome = None
        if local is not None and scan is not None and scan.fast:
            outcome = _try_fast(con, entry, sha, local, scan)
        if outcome is None:
            outcome = _store(con, entry, sha)
    except BaseException as exc:
        rollback(con)
        if not isinstance(exc, Exception):
            raise
        if isinstance(exc, UnknownFormatError):
            return FileOutcome(path, "skipped", f"not a Rule 605 or 606 report: {exc}", sha256=sha)
        return FileOutcome(path, "rejected", str(exc) or type(exc).__name__, sha256=sha)
    if outcome.status != "ingested":
        rollback(con)
        return outcome
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:
        rollback(con)
        return FileOutcome(path, "rejected", f"cannot store: {exc}", sha256=sha)
    return outcome


def _store(con: duckdb.DuckDBPyConnection, entry: Candidate, sha: str) -> FileOutcome:
    """Insert the file's rows and provenance within the caller's transaction; the outcome
    says ``rejected`` (the caller rolls back) when the file has errors."""
    path = entry.path
    issues: list[Issue] = []
    seen = _Seen()
    with entry.open() as stream:
        batches = scan_605_batches(stream, name=path, issues=issues, batch_rows=INSERT_ROWS)
        kind, first = next(batches)  # the format (or UnknownFormatError) before any insert
        rows = _insert(con, kind, sha, itertools.chain([first], (b for _, b in batches)), seen)
    errors = [i for i in issues if i.severity is Severity.ERROR]
    if errors:
        error = ValidationError(path, errors, f"{kind} Rule 605 file")
        lines = [str(error), *(str(i) for i in errors[1:4])]
        if len(errors) > 4:
            lines.append(f"  ... and {len(errors) - 4} more (`pfof rule605 validate` lists all)")
        return FileOutcome(path, "rejected", "\n".join(lines), sha256=sha, format=kind)
    return _record_source(con, path, sha, kind, issues, seen, rows)


def _record_source(
    con: duckdb.DuckDBPyConnection,
    path: str,
    sha: str,
    kind: Kind,
    issues: list[Issue],
    seen: _Seen,
    rows: int,
) -> FileOutcome:
    """Insert the file's provenance row (its rows are in); the ``ingested`` outcome."""
    center, month = seen.first or (None, None)
    con.execute(
        "INSERT INTO sources_605 (sha256, path, format, market_center, month, market_centers, "
        "months, ingested_at, strict_valid, warnings, n_rows) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sha,
            path,
            kind,
            center,
            month,
            sorted(seen.centers),
            sorted(seen.months),
            datetime.now(UTC),
            not issues,
            json.dumps([i.as_dict() for i in issues]),
            rows,
        ],
    )
    spread = []
    if len(seen.centers) > 1:
        spread.append(f"{len(seen.centers)} market centers")
    if len(seen.months) > 1:
        spread.append(f"{len(seen.months)} months")
    return FileOutcome(
        path,
        "ingested",
        f"the file holds {' and '.join(spread)}" if spread else "",
        sha256=sha,
        rows=rows,
        warnings=len(issues),
        format=kind,
        market_center=center,
        month=month,
    )


def _insert(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    sha: str,
    batches: Iterator[pa.RecordBatch],
    seen: _Seen,
) -> int:
    """Insert every batch with one ``INSERT ... SELECT`` over an Arrow stream, so that DuckDB
    writes full row groups to the store file as they come rather than holding the file's
    rows in memory until the commit; the rows inserted."""
    table, columns = ROW_TABLES[kind]
    failure: list[BaseException] = []
    count = [0]

    def stream() -> Iterator[pa.RecordBatch]:
        try:
            for batch in batches:
                if batch.num_rows:
                    seen.add(kind, batch)
                    count[0] += batch.num_rows
                    yield batch
        except BaseException as exc:  # raised again below, with its own type and message
            failure.append(exc)

    reader = pa.RecordBatchReader.from_batches(arrow_schema(kind), stream())
    names = ", ".join(columns)
    con.register("_pfof_605_rows", reader)
    try:
        with _memory_capped(con):
            con.execute(
                f"INSERT INTO {table} (sha256, {names}) SELECT ?, {names} FROM _pfof_605_rows",
                [sha],
            )
    finally:
        con.unregister("_pfof_605_rows")
    if failure:
        raise failure[0]
    return count[0]


#: DuckDB memory limit while a file streams in (restored afterwards): past it, DuckDB writes
#: to the store file instead of keeping pages cached.
INSERT_MEMORY = "512MB"
#: DuckDB memory limit during the fast path's insert. DuckDB's order-preserving parallel
#: insert builds row groups of 122,880 rows, ~90 MB each with 45 DECIMAL(38, 12) columns, on
#: every thread and keeps finished ones until their turn; within 512 MB (or 768 MB) it
#: throttles to about one thread, and a 400,000-row detailed file takes twice as long.
#: Measured peak RSS growth at 1 GB: ~500 MiB for 400,000 rows, ~560 MiB for 800,000.
FAST_INSERT_MEMORY = "1GB"
#: Rows per Arrow batch handed to DuckDB.
INSERT_ROWS = 32_768


@contextmanager
def _memory_capped(con: duckdb.DuckDBPyConnection, limit: str | None = None) -> Iterator[None]:
    before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{limit or INSERT_MEMORY}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")


# ---------------------------------------------------------------- the fast path: DuckDB's reader


#: Bytes a file may hold for the fast path: printable ASCII and line feeds. Anything else
#: (white space a reader would strip, ``\r``, control bytes, UTF-8 beyond ASCII, a BOM) goes
#: the exact way.
_FAST_BYTES = bytes(range(0x21, 0x7F)) + b"\n"
#: Raw bytes mapped for the fast path's screen: digits to ``0``, the point to ``p``, the
#: characters DuckDB's decimal parsing reads within a number (``e``, ``E``: an exponent;
#: ``_``: a digit separator) to ``e``, bytes outside :data:`_FAST_BYTES` to ``x``, anything
#: else to ``|``.
_FAST_CLASSES = bytes(
    ord("0") if 0x30 <= c <= 0x39
    else ord("p") if c == ord(".")
    else ord("e") if c in b"eE_"
    else ord("x") if c not in _FAST_BYTES
    else ord("|")
    for c in range(256)
)  # fmt: skip
#: Longest cell of the fast path: a longer one might make a line longer than the row readers'
#: :data:`~pfof.formats.sec605_numbers.MAX_LINE_BYTES` (55 cells stay well within it).
_FAST_MAX_CELL = 1000
#: Longest line DuckDB reads on the fast path (real lines have a few hundred bytes; the row
#: readers stop at :data:`~pfof.formats.sec605_numbers.MAX_LINE_BYTES`).
_FAST_MAX_LINE = 1 << 16
#: Magnitude the row readers refuse (:data:`~pfof.formats.sec605_numbers.FIGURE_LIMIT`).
_FAST_LIMIT = 10**15


@dataclass(slots=True)
class _Scan:
    """What one pass over a file's bytes says about taking DuckDB's CSV reader (its SHA-256
    is computed in the same pass)."""

    first_line: bytes = b""
    lines: int = 0  # lines, the last one counted with or without a final line break
    fast: bool = True  # nothing DuckDB's typed parsing reads differently from the row readers
    wide: bool = False  # a number with more than 6 decimals: parse as DECIMAL(38, 12)


def _hash_and_scan(stream: IO[bytes], copy: IO[bytes] | None = None) -> tuple[str, _Scan]:
    """SHA-256 of the stream's bytes (written to ``copy`` too, if given), and whether
    DuckDB's typed CSV parsing reads them as the row readers do.

    DuckDB's decimal parsing is lenient where the row readers are not (it reads ``5e1``,
    ``5.e1``, ``5_1``, and rounds past the type's scale), so a file takes the fast path only
    when its bytes leave no such case: printable ASCII and ``\\n`` only (no white space a
    reader would strip, no ``\\r``, no BOM), no ``e``, ``E`` or ``_`` right after a digit or
    a point. ``wide``: a run of 7 decimals (read as ``DECIMAL(38, 12)``, not
    ``DECIMAL(18, 6)``); then a run of 13 decimals rules the fast path out. Empty lines are
    caught by the row count (DuckDB skips them), integers by the SQL of :func:`_fast_select`.
    The detailed format's header row (``...Qtyto100microsec...``) is not looked at."""
    digest = hashlib.sha256()
    scan = _Scan()
    tail = b""
    header_done = False
    bodies: tuple[bytes, ...]
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        if not scan.fast:
            continue
        if copy is not None:
            try:
                copy.write(chunk)
            except OSError:  # a full or read-only temporary directory: the exact reader
                scan.fast = False
                continue
        scan.lines += chunk.count(b"\n")
        if header_done:  # the seam with the previous chunk, then the chunk (no copy)
            bodies = (tail + chunk[:16], chunk)
        else:
            if chunk.translate(None, _FAST_BYTES):  # later chunks: class ``x``, below
                scan.fast = False
                continue
            data = tail + chunk
            end = data.find(b"\n")
            if end == -1 and len(data) <= MAX_LINE_BYTES:
                tail = data
                continue
            header_done = True
            scan.first_line = data[: end if end != -1 else len(data)]
            if end <= 0:  # an empty first line, or one too long
                scan.fast = False
                continue
            bodies = (data[end:] if scan.first_line.startswith(b"DsgntParticipant") else data,)
        for body in bodies:
            classes = body.translate(_FAST_CLASSES)
            if b"x" in classes or _letter_after_number(classes):
                scan.fast = False
            scan.wide = scan.wide or b"p0000000" in classes
            if scan.wide and b"p0000000000000" in classes:
                scan.fast = False
        tail = (tail + chunk[-16:])[-16:]
    if scan.fast and not header_done:  # one line, without a line break
        scan.first_line = tail
    if tail and not tail.endswith(b"\n"):
        scan.lines += 1
    return digest.hexdigest(), scan


def _letter_after_number(classes: bytes) -> bool:
    """Whether classified bytes (:data:`_FAST_CLASSES`) hold ``e`` right after a digit or a
    point (vectorised: the letters are many, in market center codes and symbols)."""
    codes = np.frombuffer(classes, dtype=np.uint8)
    before = np.flatnonzero(codes[1:] == ord("e"))
    if not len(before):
        return False
    previous = codes[before]
    return bool(((previous == ord("0")) | (previous == ord("p"))).any())


@contextmanager
def _extracted(entry: Candidate) -> Iterator[IO[bytes] | None]:
    """A temporary file the hashing pass copies a zip member into, so that DuckDB's reader
    can take it (removed afterwards); ``None`` for a loose file, with the fast path off, or
    when no temporary file can be made."""
    if not FAST_PATH or _local_file(entry) is not None:
        yield None
        return
    try:
        copy = tempfile.NamedTemporaryFile(prefix="pfof605-", suffix=".txt")
    except OSError:
        yield None
        return
    with copy:
        yield copy


def _local_file(entry: Candidate) -> str | None:
    """The absolute path of a loose file candidate, for DuckDB's ``read_csv`` (``None``: a
    zip member, or a name DuckDB would read as a glob pattern or a URL)."""
    if entry.file is not None:
        path = os.path.abspath(entry.file)
        if not any(c in path for c in "*?[]{}") and "://" not in path:
            return path
    return None


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fast_select(kind: Kind, wide: bool) -> tuple[str, str]:
    """(``read_csv`` column types, the SELECT list converting them) of a legacy or detailed
    file. Every cell the row readers refuse raises (``error()``): the fast path then gives up
    and the exact reader judges the file. Integers, months and codes are read as text and
    matched against the row readers' syntax (DuckDB's own integer parsing would round
    ``5.5``); decimals are parsed by DuckDB after :func:`_hash_and_scan` ruled out every form
    it reads differently."""
    number = "DECIMAL(38, 12)" if wide else "DECIMAL(18, 6)"
    fields: list[tuple[str, str, bool, bool]]
    if kind == "legacy":
        fields = [(name, k, name in _LEGACY_REQUIRED, k == "int") for name, k in LEGACY_FIELDS]
    else:
        fields = [
            (attr, k, attr in _DETAILED_REQUIRED or attr == "order_size", attr in NON_NEGATIVE)
            for _, attr, k in DETAILED_FIELDS
        ]
    types: list[str] = []
    select: list[str] = []
    for name, k, required, non_negative in fields:
        c = f'"{name}"'
        fail = f"error('pfof-fast: {name}')"
        if k == "str":
            types.append(f"'{name}': 'VARCHAR'")
            empty = f"WHEN {c} IS NULL THEN {fail} " if required else f"WHEN {c} IS NULL THEN '' "
            select.append(
                f"CASE {empty}WHEN length({c}) > {_FAST_MAX_CELL} THEN {fail} ELSE {c} END"
            )
        elif k in ("yyyymm", "code", "int"):
            types.append(f"'{name}': 'VARCHAR'")
            pattern = {
                "yyyymm": "[0-9]{4}(0[1-9]|1[0-2])",
                "code": "[0-9]{2}",
                "int": "[+-]?[0-9]+",
            }[k]
            ok = f"length({c}) <= 15 AND regexp_full_match({c}, '{pattern}')"
            if non_negative:
                ok += f" AND CAST({c} AS BIGINT) >= 0"
            empty = f"WHEN {c} IS NULL THEN {fail if required or k != 'int' else 'NULL'} "
            select.append(f"CASE {empty}WHEN {ok} THEN CAST({c} AS BIGINT) ELSE {fail} END")
        else:
            types.append(f"'{name}': '{number}'")
            bad = [f"{c} <= -{_FAST_LIMIT}", f"{c} >= {_FAST_LIMIT}"] if wide else []
            if non_negative:
                bad.append(f"{c} < 0")
            if bad:
                select.append(f"CASE WHEN {' OR '.join(bad)} THEN {fail} ELSE {c} END")
            else:  # DECIMAL(18, 6) holds 12 digits before the point: more fail the parse
                select.append(c)
    return "{" + ", ".join(types) + "}", ", ".join(select)


#: Columns the fast path reads back (in file order) for the row readers' consistency checks,
#: the deviations and the file's market centers and months.
def _check_columns(kind: Kind) -> list[str]:
    if kind == "legacy":
        return [name for name, _ in LEGACY_FIELDS if name not in ("participant", "symbol")]
    wanted = {
        "entity", "rpt_date", "order_size", "covered_orders", "covered_notional", "covered_qty",
        "cancelled_qty", "executed_qty", "executed_away_qty", "avg_quoted_spread",
        "avg_effective_spread", "avg_effective_spread_pct", "avg_eq_ratio", "pi_qty",
        "at_quote_qty", "outside_quote_qty", *(name for name, _ in DETAILED_TIME_BUCKETS),
    }  # fmt: skip
    return [attr for _, attr, _ in DETAILED_FIELDS if attr in wanted]


class _NotFast(Exception):
    """The fast path cannot vouch for the exact path's result: the caller rolls back and
    reads the file the exact way."""


def _store_fast(
    con: duckdb.DuckDBPyConnection, entry: Candidate, sha: str, local: str, scan: _Scan
) -> FileOutcome:
    """:func:`_store` by DuckDB's parallel CSV reader, within the caller's transaction:
    ``INSERT ... SELECT`` from ``read_csv`` with every cell checked on the way, then the
    rows read back in file order for the row readers' consistency checks and the deviations
    (the functions of ``formats.sec605_arrow``, on the same exact values). Raises
    :class:`_NotFast` (or a DuckDB error) when the file needs the exact reader: any refused
    cell, any consistency warning, more than one kind of deviation (whose order in the
    warnings depends on the exact reader's blocks), a detailed header that is not the
    rule's, or a row count that does not match the file's lines."""
    path = entry.path
    first = scan.first_line.decode("ascii")
    kind = detect_kind(first)
    if kind not in ("legacy", "detailed"):
        raise _NotFast(f"format {kind}")
    header_rows = 1 if kind == "detailed" else 0
    issues: list[Issue] = []
    suffix = suffix_issue(path, kind)
    if suffix is not None:
        issues.append(suffix)
    if kind == "detailed":
        found: list[Issue] = []
        list(sec605_detailed.scan_detailed([first], file=path, issues=found))
        if found:
            raise _NotFast("header")
    table, columns = ROW_TABLES[kind]
    types, select = _fast_select(kind, scan.wide)
    names = ", ".join(columns)
    source = (
        f"read_csv({_sql_text(local)}, delim='|', quote='', escape='', "
        f"header={'true' if header_rows else 'false'}, columns={types}, auto_detect=false, "
        "strict_mode=true, null_padding=false, ignore_errors=false, nullstr='', "
        f"max_line_size={_FAST_MAX_LINE})"
    )
    with _memory_capped(con, FAST_INSERT_MEMORY):
        con.execute(
            f"INSERT INTO {table} (sha256, {names}) SELECT ?, {select} FROM {source}", [sha]
        )
    seen = _Seen()
    _fast_verify(con, kind, sha, scan.lines - header_rows, IssueRecorder(issues, path), seen)
    return _record_source(con, path, sha, kind, issues, seen, scan.lines - header_rows)


def _fast_verify(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    sha: str,
    rows: int,
    recorder: IssueRecorder,
    seen: _Seen,
) -> None:
    """Read the rows just inserted back in file order (the columns the checks need) and
    run the exact reader's vectorised consistency checks and deviations on them; the
    deviation warning goes to ``recorder``, the market centers and months to ``seen``.
    :class:`_NotFast` when the exact reader would say more than the fast path can."""
    table, _ = ROW_TABLES[kind]
    header_rows = 1 if kind == "detailed" else 0
    wanted = _check_columns(kind)
    result = con.sql(
        f"SELECT rowid AS _pfof_row, {', '.join(wanted)} FROM {table} WHERE sha256 = $1",
        params=[sha],
    )
    checks = legacy_checks if kind == "legacy" else detailed_checks
    done, previous = 0, -1
    for batch in result.to_arrow_reader(INSERT_ROWS):
        n = batch.num_rows
        if not n:
            continue
        order = batch.column(0).to_numpy()
        if order[0] <= previous or (n > 1 and bool((order[1:] <= order[:-1]).any())):
            raise _NotFast("rows not read back in file order")
        previous = int(order[-1])
        for mask in checks(batch).values():
            if mask.any():  # the exact reader words each row's warning
                raise _NotFast("a consistency warning")
        lines = np.arange(done, done + n, dtype=np.int64) + header_rows + 1
        for rule, column, mask, what in deviation_issues(kind, batch):
            recorder.deviation(rule, column, lines[mask], what)
        seen.add(kind, batch)
        done += n
    if done != rows or not rows:  # DuckDB skips empty lines: line numbers would shift
        raise _NotFast(f"{done} rows read, {rows} lines")
    if len(recorder.deviations) > 1:
        raise _NotFast("several deviations")
    recorder.finish()


def _try_fast(
    con: duckdb.DuckDBPyConnection, entry: Candidate, sha: str, local: str, scan: _Scan
) -> FileOutcome | None:
    """The fast path's outcome, or ``None`` after rolling back what it did and opening a
    new transaction (the exact reader then takes the file)."""
    try:
        return _store_fast(con, entry, sha, local, scan)
    except Exception:  # _NotFast, a DuckDB error (a cell refused): the exact reader decides
        rollback(con)
        con.execute("BEGIN TRANSACTION")
        return None


#: Whether loose files may take DuckDB's CSV reader (tests turn it off to compare).
FAST_PATH = True


def stream_is_xml(stream: IO[bytes]) -> bool:
    """Whether a file's first bytes are XML (``<`` after a BOM and white space): the Rule
    606 reader's, not a 605 file."""
    head = stream.read(4096)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
