"""Rule 605 files read as a stream of Arrow record batches: fast, bounded memory, exact.

:func:`scan_605_batches` reads a legacy (26 fields), amended detailed (55 fields, header row) or
amended summary (CSV) file with ``pyarrow.csv``'s streaming reader and yields
``(kind, RecordBatch)`` pairs of about :data:`BATCH_ROWS` rows. Column names are exactly the
attribute names of :class:`~pfof.model.records605.LegacyRecord`,
:class:`~pfof.model.records605.DetailedRecord` and
:class:`~pfof.model.records605.SummaryRecord`, in declaration order, and nothing else.

Types (:func:`arrow_schema` gives each format's schema):

* text fields (participant, market center / entity, symbol, lot size, amended order type):
  ``string``;
* whole numbers (legacy share counts and codes, ``yyyymm`` / ``rpt_date``, order-size codes,
  order counts): ``int64``;
* every other number (dollars, seconds, milliseconds, ratios, amended share quantities):
  ``decimal128(38, 12)`` (:data:`DECIMAL_TYPE`), exact. The readers accept at most 15 digits
  before the point and 12 after (``formats.sec605_numbers``), so every accepted figure fits
  without rounding (a summary figure written with an exponent and more than 12 decimals is
  rounded half-up to 12);
* the summary's ``sp500`` flag: ``bool``.

Verdicts match the row readers of :mod:`pfof.formats.sec605`: the same lines are errors (and
left out of the batches) with the same rule names, and the same consistency warnings are
raised, each an :class:`~pfof.errors.Issue` with file and line. On top, real-world deviations
that the row readers do not look for are listed as warnings (:data:`DEVIATION_RULES`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePosixPath
from typing import IO, Any, Literal, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from pfof.errors import InputError, Issue, ParameterError, Severity
from pfof.formats import sec605_detailed, sec605_legacy, sec605_summary
from pfof.formats.archives import MEMBER_SEP, open_regular
from pfof.formats.sec605_numbers import MAX_LINE_BYTES, decoded_lines, read_chunks
from pfof.model.records605 import (
    DETAILED_FIELDS,
    DETAILED_TIME_BUCKETS,
    LEGACY_FIELDS,
    LEGACY_MARKETABLE_ONLY,
    LEGACY_ORDER_SIZES,
    LEGACY_TIME_BUCKETS,
    SUMMARY_FIELDS,
    DetailedRecord,
    LegacyRecord,
    SummaryRecord,
)

Kind = Literal["legacy", "detailed", "summary"]
#: A path, the file's bytes, or a binary stream positioned at its start.
ArrowSource = str | os.PathLike[str] | bytes | IO[bytes]

#: Rows per yielded batch, at most: a batch is one parsed block of about this many rows
#: (fewer when the rows are long: blocks stay within :data:`BLOCK_BYTES`).
BATCH_ROWS = 65_536
#: Decimal places of every non-integer figure: the readers accept at most 12.
DECIMAL_SCALE = 12
DECIMAL_TYPE = pa.decimal128(38, DECIMAL_SCALE)
#: Per-row issues listed per file; past it, each rule's further rows are counted in one issue
#: (a 400,000-row file that breaks a rule on every row must not fill memory with issues).
MAX_LISTED_ISSUES = 10_000
#: Bytes pyarrow parses at a time, at most: memory stays a small multiple of it.
BLOCK_BYTES = 8 << 20

#: Real-world deviations listed as warnings (one per rule and file, naming the first line and
#: counting the rows), beyond the row readers' consistency checks:
#:
#: * ``eq-percent-points``: ``AvgEFQPct`` about 100x the effective/quoted spread ratio (some
#:   exchanges write percent points; the SEC's sample writes the ratio);
#: * ``size-sentinel``: an average notional order size in the $200,000+ bucket that looks like
#:   a placeholder (all nines, or $1 billion or more);
#: * ``file-suffix``: a file (or zip member) not named ``.txt`` / ``.csv`` (``.dat`` in older
#:   months' zips), read by its content;
#: * ``away-in-quote-split``: improved + at + outside the quote shares exceed the shares
#:   executed at the market center (routed-away shares counted in the split);
#: * ``negative-effective-spread``: an average effective spread (or its percentage) below 0.
DEVIATION_RULES: tuple[str, ...] = (
    "eq-percent-points",
    "size-sentinel",
    "file-suffix",
    "away-in-quote-split",
    "negative-effective-spread",
)

_SENTINEL_LIMIT = 1_000_000_000  # dollars of average notional no order reaches
_FIGURE_LIMIT = 10**15  # see sec605_numbers.MAX_INTEGER_DIGITS


def _arrow_type(kind: str) -> pa.DataType:
    """Arrow type of a field kind of ``model.records605`` (legacy or detailed)."""
    if kind == "str":
        return pa.string()
    if kind in ("usd", "sec", "dec"):
        return DECIMAL_TYPE
    return pa.int64()  # yyyymm, code, int


def arrow_schema(kind: Kind) -> pa.Schema:
    """The Arrow schema of a format's batches: the record attributes in declaration order.

    >>> arrow_schema("legacy").field("avg_effective_spread").type
    Decimal128Type(decimal128(38, 12))
    """
    if kind == "legacy":
        return pa.schema([(name, _arrow_type(k)) for name, k in LEGACY_FIELDS])
    if kind == "detailed":
        return pa.schema([(attr, _arrow_type(k)) for _, attr, k in DETAILED_FIELDS])
    if kind == "summary":
        text = {"participant", "entity", "order_type"}
        return pa.schema(
            [
                (
                    attr,
                    pa.string()
                    if attr in text
                    else pa.bool_()
                    if attr == "sp500"
                    else pa.int64()
                    if attr in ("rpt_date", "order_size")
                    else DECIMAL_TYPE,
                )
                for _, attr in SUMMARY_FIELDS
            ]
        )
    raise ParameterError(f"kind must be legacy, detailed or summary, not {kind!r}")


def detect_kind(first_line: str) -> Kind | None:
    """The Rule 605 format whose first line this is, or ``None`` (the rules of
    :func:`pfof.formats.sec605.read_605`).

    >>> detect_kind("DsgntParticipant|RprtEntityCd|RptDate|Symbol")
    'detailed'
    >>> detect_kind("<?xml version='1.0'?>") is None
    True
    """
    if sec605_summary.looks_like_summary(first_line):
        return "summary"
    if sec605_detailed.looks_like_detailed(first_line):
        return "detailed"
    if sec605_legacy.looks_like_legacy(first_line):
        return "legacy"
    return None


# ---------------------------------------------------------------- issues of one file


class IssueRecorder:
    """A file's issues: per-row issues listed up to :data:`MAX_LISTED_ISSUES`, then counted per
    rule; deviations counted per rule and listed once, at the first line, when the file ends."""

    def __init__(self, out: list[Issue], file: str) -> None:
        self.out = out
        self.file = file
        self.listed = 0
        self.more: dict[tuple[str, Severity, str], list[int]] = {}
        self.deviations: dict[str, tuple[int, int, str, str]] = {}

    def add(self, issue: Issue) -> None:
        if self.listed < MAX_LISTED_ISSUES:
            self.listed += 1
            self.out.append(issue)
            return
        self.count(issue.rule, issue.severity, issue.column or "", np.array([issue.line or 0]))

    def count(self, rule: str, severity: Severity, column: str, lines: np.ndarray) -> None:
        """Rows past the listing limit that break ``rule``, at these file lines."""
        seen = self.more.setdefault((rule, severity, column), [0, int(lines[0])])
        seen[0] += len(lines)

    def deviation(self, rule: str, column: str, lines: np.ndarray, what: str) -> None:
        """``lines``: the file lines of the rows showing deviation ``rule`` in one batch."""
        if not len(lines):
            return
        count, first, _, _ = self.deviations.get(rule, (0, int(lines[0]), column, what))
        self.deviations[rule] = (count + len(lines), min(first, int(lines.min())), column, what)

    def finish(self) -> None:
        for (rule, severity, column), (count, first) in self.more.items():
            self.out.append(
                Issue(
                    rule=rule,
                    message=f"{count:,} more rows break this rule (not listed; the first at line "
                    f"{first}): only {MAX_LISTED_ISSUES:,} issues are listed per file",
                    severity=severity,
                    line=first,
                    column=column,
                    file=self.file,
                )
            )
        for rule, (count, first, column, what) in self.deviations.items():
            rows = "1 row" if count == 1 else f"{count:,} rows (the first here)"
            self.out.append(
                Issue(
                    rule=rule,
                    message=f"{rows}: {what}",
                    severity=Severity.WARNING,
                    line=first,
                    column=column,
                    file=self.file,
                )
            )


# ---------------------------------------------------------------- input and line numbers


class _Lines(io.RawIOBase):
    """The file's bytes (an already read ``prefix``, then ``rest``) for pyarrow, noting the
    number of every empty line on the way: pyarrow skips those without counting them."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self.prefix = prefix
        self.rest = rest
        self.empty: list[int] = []
        self.tail = b"\n"  # a virtual line break before the file: an empty first line counts
        self.virtual = 1  # whether tail[0] is that virtual break
        self.seen = 0  # real line breaks read so far
        self.prescan = False  # look for numbers typed parsing would read but the readers refuse
        self.suspicious = False
        self.scan_tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = b""
        if self.prefix:
            data, self.prefix = self.prefix[: len(view)], self.prefix[len(view) :]
        if len(data) < len(view):  # a whole block: pyarrow parses what one read gives
            data += self.rest.read(len(view) - len(data))
        if data:
            self._note(data)
            if self.prescan and not self.suspicious:
                self.suspicious = _odd_numbers(self.scan_tail + data[:16]) or _odd_numbers(data)
                self.scan_tail = data[-16:]
            view[: len(data)] = data
        return len(data)

    def _note(self, chunk: bytes) -> None:
        """Note the empty lines that end in ``chunk`` (a line break, then an empty line)."""
        # an empty line whose first line break is in the tail: look at the seam only
        seam = self.tail + chunk[:2]
        hits = [
            (position, pattern)
            for pattern in (b"\n\n", b"\n\r\n")
            for position in _found(seam, pattern)
            if position < len(self.tail) < position + len(pattern)
        ]
        before = self.seen - (self.tail.count(b"\n") - self.virtual)  # breaks before seam
        for position, _ in sorted(hits):
            self.empty.append(before + seam.count(b"\n", 0, position + 1) - self.virtual + 1)
        found = sorted(p for pattern in (b"\n\n", b"\n\r\n") for p in _found(chunk, pattern))
        start, counted = 0, self.seen
        for position in found:
            counted += chunk.count(b"\n", start, position + 1)
            start = position + 1
            self.empty.append(counted + 1)
        self.seen += chunk.count(b"\n")
        tail = self.tail + chunk[-2:] if len(chunk) < 2 else chunk[-2:]
        self.virtual = 1 if self.virtual and len(self.tail) + len(chunk) <= 2 else 0
        self.tail = tail[-2:]


def _found(data: bytes, pattern: bytes) -> Iterator[int]:
    """Positions of ``pattern`` in ``data``, overlapping ones included."""
    position = data.find(pattern)
    while position != -1:
        yield position
        position = data.find(pattern, position + 1)


#: Raw bytes mapped for :func:`_odd_numbers`: digits to ``0``, the point to ``p``, the
#: letters of an exponent or hex prefix to ``e``, anything else to ``|``.
_CLASSES = bytes(
    ord("0") if chr(c).isdigit() and c < 128
    else ord("p") if c == ord(".")
    else ord("e") if chr(c) in "eExX"
    else ord("|")
    for c in range(256)
)  # fmt: skip


def _odd_numbers(data: bytes) -> bool:
    """Whether raw bytes may hold a number Arrow's typed parsing accepts and the row readers
    refuse: an exponent or hex prefix (``e``/``x`` after a digit or point) or a run of 13 or
    more digits (more than 12 decimals). A false alarm only costs the slower string reading."""
    classes = data.translate(_CLASSES)
    if b"0000000000000" in classes:
        return True
    codes = np.frombuffer(classes, dtype=np.uint8)
    letters = np.flatnonzero(codes[1:] == ord("e"))  # positions before a letter
    return bool(len(letters)) and bool(np.isin(codes[letters], (ord("0"), ord("p"))).any())


def _complement(excluded: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The ``ranks``-th (0-based) positive integers that are not in sorted ``excluded``."""
    if not len(excluded):
        return ranks + 1
    shifted = excluded - np.arange(len(excluded))
    return ranks + 1 + np.searchsorted(shifted, ranks + 1, side="right")


# ---------------------------------------------------------------- cells to typed columns

_DECIMAL_SYNTAX = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
_INTEGER_SYNTAX = r"^[+-]?[0-9]+$"
_TOO_MANY_DIGITS = r"^[+-]?0*[1-9][0-9]{15}|\.[0-9]{13}"
_YYYYMM = r"^[0-9]{4}(?:0[1-9]|1[0-2])$"
_CODE = r"^[0-9]{2}$"
_CHECK_DECIMAL = pa.decimal128(30, DECIMAL_SCALE)
#: Columns are converted on a few threads (Arrow's kernels run without the GIL).
_POOL = ThreadPoolExecutor(
    max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="pfof605"
)  # sums of up to 8 figures stay within 38


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # record attribute
    kind: str  # str | yyyymm | code | int | usd | sec | dec
    required: bool  # an empty cell is an error
    non_negative: bool  # a figure below zero is an error


def _fields(kind: Kind) -> tuple[_Field, ...]:
    if kind == "legacy":
        return tuple(
            _Field(name, k, k in ("str", "yyyymm", "code"), k == "int") for name, k in LEGACY_FIELDS
        )
    return tuple(
        _Field(
            attr,
            k,
            k in ("str", "yyyymm") or attr == "order_size",
            attr in sec605_detailed.NON_NEGATIVE,
        )
        for _, attr, k in DETAILED_FIELDS
    )


def _false(n: int) -> pa.Array:
    return pa.array(np.zeros(n, dtype=bool))


def _text(column: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.fill_null(column, ""))


def _convert(column: pa.Array, field: _Field) -> tuple[pa.Array, pa.Array]:
    """(typed values, rows whose cell is unreadable) of one raw column (empty cells null).

    The flags are what the row readers refuse: those rows go through them for the message."""
    n = len(column)
    if field.kind == "str":
        text = _text(column)
        return text, pc.equal(text, "") if field.required else _false(n)
    if field.kind in ("yyyymm", "code"):
        text = _text(column)
        good = pc.match_substring_regex(text, _YYYYMM if field.kind == "yyyymm" else _CODE)
        return pc.cast(pc.if_else(good, text, None), pa.int64()), pc.invert(good)
    target = pa.int64() if field.kind == "int" else DECIMAL_TYPE
    plain, minus, point = _bytes_seen(column)
    longest = pc.max(pc.binary_length(column)).as_py() or 0
    values = None
    if plain:  # only digits, '.' and '-': Arrow's cast refuses what the row readers refuse
        try:
            if point:  # (an integer column has no point, or the cast fails)
                values = pc.cast(column, target)
            else:
                values = pc.cast(pc.cast(column, pa.int64()), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = None
    if values is None:
        values, bad = _convert_slowly(column, field, target)
        minus, longest = True, 99
    else:
        bad = _false(n)
        if field.kind != "int" and longest > 13:  # room for more than 12 decimals
            point_at = pc.find_substring(column, ".")
            decimals = pc.subtract(pc.subtract(pc.binary_length(column), point_at), 1)
            long = pc.and_(pc.greater_equal(point_at, 0), pc.greater(decimals, 12))
            bad = pc.fill_null(long, False)
    if field.required:
        bad = pc.or_(bad, pc.is_null(values))
    if field.kind == "int":
        limit, zero = pa.scalar(_FIGURE_LIMIT, pa.int64()), pa.scalar(0, pa.int64())
    else:
        limit = pa.scalar(Decimal(_FIGURE_LIMIT), DECIMAL_TYPE)
        zero = pa.scalar(Decimal(0), DECIMAL_TYPE)
    if longest > 15:  # room for 16 digits before the point
        out_of_range = pc.greater_equal(pc.abs(values), limit)
        bad = pc.or_(bad, pc.fill_null(out_of_range, False))
    if field.non_negative and minus:
        bad = pc.or_(bad, pc.fill_null(pc.less(values, zero), False))
    return values, bad


def _bytes_seen(column: pa.Array) -> tuple[bool, bool, bool]:
    """(only digits, '.' and '-' in the column's text; a '-' among them; a '.' among them),
    judged from the string data buffer at once."""
    buffers = column.buffers()
    if len(buffers) < 3 or buffers[2] is None or not len(column):
        return True, False, False
    offsets = np.frombuffer(buffers[1], dtype=np.int32)
    start, end = offsets[column.offset], offsets[column.offset + len(column)]
    data = np.frombuffer(buffers[2], dtype=np.uint8)[start:end]
    if not len(data):
        return True, False, False
    plain = bool(data.min() >= ord("-") and data.max() <= ord("9") and not (data == 47).any())
    return plain, bool((data == ord("-")).any()), bool((data == ord(".")).any())


class _Restart(Exception):
    """Typed reading met something only the string reading judges: start over with it."""


def _typed(column: pa.Array, field: _Field) -> tuple[pa.Array, bool]:
    """(values, whether the column holds a value the readers refuse) of a column pyarrow
    parsed to its type (text, ``yyyymm`` and codes as strings)."""
    if field.kind == "str":
        text = _text(column)
        return text, bool(field.required and pc.any(pc.equal(text, "")).as_py())
    if field.kind in ("yyyymm", "code"):
        text = _text(column)
        good = pc.match_substring_regex(text, _YYYYMM if field.kind == "yyyymm" else _CODE)
        if not pc.all(good).as_py():
            return text, True
        return pc.cast(text, pa.int64()), False
    if field.required and column.null_count:
        return column, True
    if column.null_count == len(column):
        return column, False
    low, high = pc.min_max(column).values()
    low, high = low.as_py(), high.as_py()
    refused = high >= _FIGURE_LIMIT or low <= -_FIGURE_LIMIT
    return column, bool(refused or (field.non_negative and low < 0))


def _plain(value: object) -> str:
    """A typed cell as the row readers read its text (numbers without trailing zeros)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return (text.rstrip("0").rstrip(".") or "0") if "." in text else text
    return str(value)


def _convert_slowly(
    column: pa.Array, field: _Field, target: pa.DataType
) -> tuple[pa.Array, pa.Array]:
    """:func:`_convert` for a column with a cell Arrow cannot cast: syntax checked by regex."""
    text = _text(column)
    empty = pc.equal(text, "")
    syntax = _INTEGER_SYNTAX if field.kind == "int" else _DECIMAL_SYNTAX
    good = pc.and_(
        pc.match_substring_regex(text, syntax),
        pc.invert(pc.match_substring_regex(text, _TOO_MANY_DIGITS)),
    )
    castable = pc.if_else(good, pc.utf8_ltrim(text, "+"), None)
    return pc.cast(castable, target), pc.and_(pc.invert(good), pc.invert(empty))


# ---------------------------------------------------------------- consistency checks, vectorised

#: rule -> the column the row readers name for it (in a count of rows past the listing limit).
_LEGACY_RULE_COLUMNS = {
    "code": "order_type",
    "shares-accounted": "covered_shares",
    "order-size": "covered_shares",
    "time-buckets": "exec_0_9s",
    "marketable-only": LEGACY_MARKETABLE_ONLY[0],
    "required": LEGACY_MARKETABLE_ONLY[0],
    "quote-buckets": "pi_shares",
}
_DETAILED_RULE_COLUMNS = {
    "shares-accounted": "CvrdOrderQty",
    "time-buckets": "CvrdOrderQtyto100microsec",
}


#: A batch or a table: the checks read columns by name either way.
Rows: TypeAlias = pa.RecordBatch | pa.Table


def _np(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _ints(batch: Rows, name: str) -> np.ndarray:
    return _np(pc.fill_null(batch.column(name), 0)).astype(np.int64)


def _present(batch: Rows, name: str) -> np.ndarray:
    return _np(pc.is_valid(batch.column(name))).astype(bool)


def _floats(batch: Rows, name: str) -> np.ndarray:
    return _np(pc.cast(batch.column(name), pa.float64())).astype(np.float64)  # null -> nan


def _total(batch: Rows, names: tuple[str, ...]) -> np.ndarray:
    out = np.zeros(batch.num_rows, dtype=np.int64)
    for name in names:
        out += _ints(batch, name)
    return out


def legacy_checks(batch: Rows) -> dict[str, np.ndarray]:
    """rule -> rows the legacy reader warns about (``sec605_legacy.check_legacy``)."""
    order_type, order_size = _ints(batch, "order_type"), _ints(batch, "order_size")
    executed = _ints(batch, "exec_shares_mc") + _ints(batch, "exec_shares_away")
    covered, has_covered = _ints(batch, "covered_shares"), _present(batch, "covered_shares")
    orders = _ints(batch, "covered_orders")
    out_of_size = np.zeros(batch.num_rows, dtype=np.bool_)
    for code, (low, high) in LEGACY_ORDER_SIZES.items():
        outside = covered < low * orders
        if high is not None:
            outside |= covered >= high * orders
        out_of_size |= (order_size == code) & (orders != 0) & has_covered & outside
    filled = np.column_stack([_present(batch, name) for name in LEGACY_MARKETABLE_ONLY])
    marketable = np.isin(order_type, (11, 12))
    priced = _ints(batch, "pi_shares") + _ints(batch, "atq_shares") + _ints(batch, "otq_shares")
    return {
        "code": ~np.isin(order_type, (11, 12, 13, 14, 15))
        | ~np.isin(order_size, tuple(LEGACY_ORDER_SIZES)),
        "shares-accounted": has_covered & (executed + _ints(batch, "cancelled_shares") != covered),
        "order-size": out_of_size,
        "time-buckets": _total(batch, LEGACY_TIME_BUCKETS) != executed,
        "marketable-only": np.isin(order_type, (13, 14, 15)) & filled.any(axis=1),
        "required": marketable & ~filled.all(axis=1),
        "quote-buckets": marketable & filled.all(axis=1) & (priced != executed),
    }


def _exact(batch: Rows, name: str) -> pa.Array:
    """A decimal column narrowed so that sums of a few stay within 38 digits; null -> 0."""
    return pc.fill_null(
        pc.cast(batch.column(name), _CHECK_DECIMAL), pa.scalar(Decimal(0), _CHECK_DECIMAL)
    )


def detailed_checks(batch: Rows) -> dict[str, np.ndarray]:
    """rule -> rows the detailed reader warns about (``sec605_detailed._check_detailed``)."""
    executed = pc.add(_exact(batch, "executed_qty"), _exact(batch, "executed_away_qty"))
    accounted = pc.add(executed, _exact(batch, "cancelled_qty"))
    over = pc.greater(accounted, _exact(batch, "covered_qty"))
    names = [name for name, _ in DETAILED_TIME_BUCKETS]
    total = _exact(batch, names[0])
    for name in names[1:]:
        total = pc.add(total, _exact(batch, name))
    bucketed = np.column_stack([_present(batch, name) for name in names]).any(axis=1)
    return {
        "shares-accounted": _present(batch, "covered_qty") & _np(over).astype(bool),
        "time-buckets": bucketed & _np(pc.not_equal(total, executed)).astype(bool),
    }


# ---------------------------------------------------------------- deviations, vectorised


def _eq_in_points(ratio: np.ndarray, effective: np.ndarray, quoted: np.ndarray) -> np.ndarray:
    """Rows whose E/Q figure is nearer 100x the effective/quoted ratio than the ratio itself
    (without both spreads: a figure above 10, which no ratio of averages plausibly reaches)."""
    with np.errstate(all="ignore"):
        implied = effective / quoted
        known = np.isfinite(implied) & (quoted > 0)
        points = np.abs(ratio - 100 * implied) < np.abs(ratio - implied)
        return ~np.isnan(ratio) & np.where(known, points, ratio > 10)


def _sentinel(average: np.ndarray) -> np.ndarray:
    """Averages that look like placeholders: $1 billion or more, or all nines (999,999...)."""
    with np.errstate(all="ignore"):
        whole = np.floor(average) + 1
        nines = (whole >= 1_000_000) & (whole == 10 ** np.round(np.log10(whole)))
        return np.isfinite(average) & ((average >= _SENTINEL_LIMIT) | nines)


def _negative(batch: Rows, *names: str) -> np.ndarray:
    out = np.zeros(batch.num_rows, dtype=np.bool_)
    for name in names:
        out |= _floats(batch, name) < 0  # nan compares False
    return out


_EQ = (
    "AvgEFQPct is about 100x the effective/quoted spread ratio: percent points (as some "
    "exchanges write it), not the ratio of the SEC's sample; divide by 100 to compare"
)
_SENTINEL = (
    "the $200,000+ bucket's average notional order size looks like a placeholder (all "
    "nines, or $1 billion or more), not an average"
)
_AWAY = (
    "improved + at + outside the quote shares exceed the shares executed at the market "
    "center: routed-away executions are counted in the split"
)
_NEGATIVE = "negative average effective spread (execution better than the midpoint on average)"


def deviation_issues(kind: Kind, batch: Rows) -> list[tuple[str, str, np.ndarray, str]]:
    """(rule, column, rows, what) of each real-world deviation of :data:`DEVIATION_RULES`."""
    if kind == "legacy":
        filled = _present(batch, "pi_shares") & _present(batch, "atq_shares")
        filled &= _present(batch, "otq_shares")
        priced = _ints(batch, "pi_shares") + _ints(batch, "atq_shares")
        priced += _ints(batch, "otq_shares")
        return [
            ("negative-effective-spread", "avg_effective_spread",
             _negative(batch, "avg_effective_spread"), _NEGATIVE),
            ("away-in-quote-split", "pi_shares",
             filled & (priced > _ints(batch, "exec_shares_mc")), _AWAY),
        ]  # fmt: skip
    if kind == "detailed":
        parts = ("pi_qty", "at_quote_qty", "outside_quote_qty")
        split = np.column_stack([_present(batch, name) for name in parts]).any(axis=1)
        priced = pc.add(pc.add(_exact(batch, parts[0]), _exact(batch, parts[1])),
                        _exact(batch, parts[2]))  # fmt: skip
        away = split & _np(pc.greater(priced, _exact(batch, "executed_qty"))).astype(bool)
        orders = _floats(batch, "covered_orders")
        notional = _floats(batch, "covered_notional")
        with np.errstate(all="ignore"):
            average = np.where(orders > 0, notional / orders, np.nan)
        big = _ints(batch, "order_size") == 200_000
        return [
            ("negative-effective-spread", "AvgEffctvSprd",
             _negative(batch, "avg_effective_spread", "avg_effective_spread_pct"), _NEGATIVE),
            ("away-in-quote-split", "ExctdPIOrdersQty", away, _AWAY),
            ("eq-percent-points", "AvgEFQPct",
             _eq_in_points(_floats(batch, "avg_eq_ratio"), _floats(batch, "avg_effective_spread"),
                           _floats(batch, "avg_quoted_spread")), _EQ),
            ("size-sentinel", "CvrdOrderSize",
             big & (_sentinel(average) | _sentinel(notional)), _SENTINEL),
        ]  # fmt: skip
    big = _ints(batch, "order_size") == 200_000
    return [
        ("negative-effective-spread", "AvgEffctvSprdPct",
         _negative(batch, "avg_effective_spread_pct"), _NEGATIVE),
        ("eq-percent-points", "AvgEFQPct",
         _eq_in_points(_floats(batch, "avg_eq_ratio"), _floats(batch, "avg_effective_spread_pct"),
                       _floats(batch, "avg_quoted_spread_pct")), _EQ),
        ("size-sentinel", "AvgOrderSize",
         big & _sentinel(_floats(batch, "avg_order_notional")), _SENTINEL),
    ]  # fmt: skip


# ---------------------------------------------------------------- rows the row readers judge

_DETAILED_HEADER = sec605_detailed.DELIMITER.join(sec605_detailed.HEADER)
Record605 = LegacyRecord | DetailedRecord | SummaryRecord


def _judge_row(
    kind: Kind, line: str, number: int, file: str
) -> tuple[Record605 | None, list[Issue]]:
    """The row reader's verdict on one line: its record (``None``: an error) and issues."""
    if kind == "legacy":
        record, issues = sec605_legacy.parse_legacy_line(line, number, file)
        if record is not None:
            issues = sec605_legacy.check_legacy(record, line=number, file=file)
        return record, issues
    found: list[Issue] = []
    rows = list(sec605_detailed.scan_detailed([_DETAILED_HEADER, line], file=file, issues=found))
    return (rows[0][1] if rows else None), [replace(i, line=number) for i in found]


_PLACES = Decimal(1).scaleb(-DECIMAL_SCALE)


def _cell(value: object) -> object:
    if isinstance(value, Decimal):
        return value.quantize(_PLACES, rounding=ROUND_HALF_UP)
    return value


def records_batch(records: Sequence[Record605], kind: Kind) -> pa.RecordBatch:
    """Records of one format as an Arrow batch of :func:`arrow_schema` (decimals rounded
    half-up to :data:`DECIMAL_SCALE` places, which only an exponent-written summary figure
    can exceed).

    >>> from pfof.formats.sec605 import read_605
    >>> parsed = read_605(["T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||"])
    >>> records_batch(list(parsed.records), "legacy").column("covered_shares").to_pylist()
    [300]
    """
    schema = arrow_schema(kind)
    columns = {f.name: [_cell(getattr(r, f.name)) for r in records] for f in schema}
    return pa.RecordBatch.from_pydict(columns, schema=schema)


# ---------------------------------------------------------------- one parsed block


@dataclass(slots=True)
class _Delimited:
    """State of reading one legacy or detailed file through pyarrow."""

    kind: Kind
    fields: tuple[_Field, ...]
    schema: pa.Schema
    recorder: IssueRecorder
    lines: _Lines
    header_rows: int
    invalid: list[int]  # 1-based indexes, among non-empty lines, of rows pyarrow refused
    invalid_issues: list[tuple[int, Issue]]
    rows_done: int = 0
    unnumbered: bool = False  # a refused row met on threads
    typed: bool = False  # pyarrow parses numbers (fast); else strings, converted here
    python_budget: int = MAX_LISTED_ISSUES  # rows still judged one by one for warnings

    def on_invalid(self, row: Any) -> str:
        """pyarrow's handler of a row with the wrong number of fields: note it, skip it
        (parsing on threads, pyarrow cannot number it: reading starts over on one thread)."""
        if row.number is None:
            self.unnumbered = True
            return "skip"
        self.invalid.append(int(row.number))
        if row.text.strip():
            issue = Issue(
                rule="field-count",
                message=f"expected {len(self.fields)} '|'-separated fields, found "
                f"{row.actual_columns}",
                line=0,
                file=self.recorder.file,
            )
            self.invalid_issues.append((int(row.number), issue))
        return "skip"

    def file_lines(self, ranks: np.ndarray) -> np.ndarray:
        """File lines of the data rows of these 0-based ranks (header and refused rows and
        empty lines excluded)."""
        excluded = np.array([*range(1, self.header_rows + 1), *self.invalid], dtype=np.int64)
        index = _complement(np.sort(excluded), ranks)  # among non-empty lines, 1-based
        return _complement(np.array(self.lines.empty, dtype=np.int64), index - 1)

    def process(self, raw: pa.RecordBatch) -> pa.Table:
        n = raw.num_rows
        bad = np.zeros(n, dtype=np.bool_)
        values: list[pa.Array] = []
        if self.typed:
            for column, refused in _POOL.map(_typed, raw.columns, self.fields):
                if refused or self.lines.suspicious:
                    raise _Restart
                values.append(column)
        else:  # pyarrow frees the GIL: columns convert on several threads
            for column, refused in _POOL.map(_convert, raw.columns, self.fields):
                values.append(column)
                bad |= _np(refused).astype(bool)
        numbers = self.file_lines(np.arange(self.rows_done, self.rows_done + n, dtype=np.int64))
        self.rows_done += n
        batch_issues: list[Issue] = []
        if self.invalid_issues:
            empty = np.array(self.lines.empty, dtype=np.int64)
            for index, issue in self.invalid_issues:
                line = int(_complement(empty, np.array([index - 1]))[0])
                batch_issues.append(replace(issue, line=line))
            self.invalid_issues.clear()
        batch = pa.RecordBatch.from_arrays(values, schema=self.schema)
        judged: list[int] = list(np.flatnonzero(bad))
        good = ~bad
        kept = batch.filter(pa.array(good)) if bad.any() else batch
        kept_lines = numbers[good]
        checks = (legacy_checks if self.kind == "legacy" else detailed_checks)(kept)
        flagged = np.zeros(kept.num_rows, dtype=bool)
        for mask in checks.values():
            flagged |= mask
        flagged_rows = np.flatnonzero(flagged)
        listed, counted = flagged_rows[: self.python_budget], flagged_rows[self.python_budget :]
        self.python_budget -= len(listed)
        kept_index = np.flatnonzero(good)
        judged += list(kept_index[listed])
        extra: list[Record605] = []
        extra_lines: list[int] = []
        for row in sorted(judged):
            cells = raw.slice(row, 1).to_pylist()[0].values()
            text = "|".join(_plain(v) for v in cells)
            record, found = _judge_row(self.kind, text, int(numbers[row]), self.recorder.file)
            batch_issues.extend(found)
            if record is not None and bad[row]:  # refused here, read by the row reader
                extra.append(record)
                extra_lines.append(int(numbers[row]))
        if len(counted):
            columns = _LEGACY_RULE_COLUMNS if self.kind == "legacy" else _DETAILED_RULE_COLUMNS
            for rule, mask in checks.items():
                lines = kept_lines[counted[mask[counted]]]
                if len(lines):
                    self.recorder.count(rule, Severity.WARNING, columns[rule], lines)
        for issue in sorted(batch_issues, key=lambda i: i.line or 0):
            self.recorder.add(issue)
        table = pa.Table.from_batches([kept], schema=self.schema)
        if extra:
            more = pa.Table.from_batches([records_batch(extra, self.kind)])
            table = pa.concat_tables([table, more])
            kept_lines = np.concatenate([kept_lines, np.array(extra_lines, dtype=np.int64)])
            order = np.argsort(kept_lines, kind="stable")
            table, kept_lines = table.take(pa.array(order)), kept_lines[order]
        for rule, column, mask, what in deviation_issues(self.kind, table):
            self.recorder.deviation(rule, column, kept_lines[mask], what)
        return table


# ---------------------------------------------------------------- reading a file


def _display(source: ArrowSource, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", ""))


def _head(stream: IO[bytes], name: str) -> tuple[str, bytes]:
    """The first non-blank line (decoded, for the format's detection) and every byte read."""
    read = bytearray()
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        read += chunk
        if not chunk:
            return "", bytes(read)
        text = next(decoded_lines([chunk if len(read) > len(chunk) else bytes(read)], name), "")
        if text.strip():
            return text, bytes(read)


def suffix_issue(name: str, kind: Kind) -> Issue | None:
    member = name.rsplit(MEMBER_SEP, 1)[-1]
    suffix = PurePosixPath(member.replace("\\", "/")).suffix.lower()
    if not member or suffix in (".txt", ".csv"):
        return None
    return Issue(
        rule="file-suffix",
        message=f"named {suffix or 'without a suffix'!r} (market centers' zips of older "
        f"months name their files .dat, later ones .txt): read as a {kind} file by its content",
        severity=Severity.WARNING,
        line=1,
        file=name,
    )


def scan_605_batches(
    source: ArrowSource,
    *,
    name: str | None = None,
    kind: Kind | None = None,
    issues: list[Issue] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[Kind, pa.RecordBatch]]:
    """``(kind, batch)`` of a Rule 605 file, read as a stream; issues appended to ``issues``.

    ``source`` is a path, the file's bytes or a binary stream; ``name`` the file name used in
    issues (default: the path or the stream's ``name``); ``kind`` forces the format (default:
    detected from the first non-blank line, as :func:`pfof.formats.sec605.read_605` does).
    Batches have :func:`arrow_schema` ``(kind)`` and at most ``batch_rows`` rows (the rows of
    a file come in file order; lines with errors are left out; a file without a readable row
    gives one empty batch, so that its kind is known). Every issue found is appended
    to ``issues`` as the batches go by; the deviation warnings (:data:`DEVIATION_RULES`) and
    the counts of rows past :data:`MAX_LISTED_ISSUES` come when the generator is exhausted.
    Memory stays within a few blocks of :data:`BLOCK_BYTES` whatever the file's size (a
    summary file, at most 10,000 lines, is read whole).

    Raises :class:`~pfof.formats.sec605.UnknownFormatError` when the file is no 605 format and
    :class:`~pfof.errors.InputError` when it cannot be read (not a regular file, not UTF-8).

    >>> issues = []
    >>> line = b"T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||\\n"
    >>> [(kind, b.num_rows) for kind, b in scan_605_batches(line * 3, issues=issues)]
    [('legacy', 3)]
    >>> issues
    []
    """
    if batch_rows < 1:
        raise ParameterError(f"batch_rows must be at least 1, not {batch_rows}")
    out = issues if issues is not None else []
    display = _display(source, name)
    stream: IO[bytes]
    if isinstance(source, (str, os.PathLike)):
        stream = open_regular(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        stream = io.BytesIO(bytes(source))
    else:
        stream = source
    try:
        start = stream.tell() if stream.seekable() else None
        first, prefix = _head(stream, display)
        found = kind or detect_kind(first)
        if found is None:
            from pfof.formats.sec605 import UnknownFormatError

            raise UnknownFormatError(
                f"{display or 'input'}: line 1 is neither a legacy 605 record (26 '|' fields), "
                "a detailed 605 header (DsgntParticipant|RprtEntityCd|RptDate|...) nor a "
                "summary 605 header (DsgntParticipant,RprtEntityCd,...)"
            )
        recorder = IssueRecorder(out, display)
        suffix = suffix_issue(display, found)
        if suffix is not None:
            out.append(suffix)
        if found == "summary":
            batches = _summary_batches(prefix, stream, display, recorder)
        else:
            batches = _delimited_batches(
                found, prefix, stream, display, recorder, start, batch_rows
            )
        empty = True
        for batch in _rebatched(batches, batch_rows):
            empty = False
            yield found, batch
        if empty:  # the kind is known even when no row could be read
            yield found, pa.RecordBatch.from_pylist([], schema=arrow_schema(found))
        recorder.finish()
    finally:
        if stream is not source:
            stream.close()


def _rebatched(tables: Iterator[pa.Table], size: int) -> Iterator[pa.RecordBatch]:
    """The tables' rows as record batches of at most ``size`` rows (zero-copy slices; a
    parsed block is read to hold about ``size`` rows, within :data:`BLOCK_BYTES`)."""
    for table in tables:
        for batch in table.to_batches(max_chunksize=size):
            if batch.num_rows:
                yield batch


def _delimited_batches(
    kind: Kind,
    prefix: bytes,
    stream: IO[bytes],
    display: str,
    recorder: IssueRecorder,
    start: int | None,
    batch_rows: int,
) -> Iterator[pa.Table]:
    """Typed tables of a legacy or detailed file. pyarrow parses blocks on several threads
    when the stream can be read again from ``start``: should a row have the wrong number of
    fields (pyarrow then cannot say its line), reading starts over on one thread, skipping the
    rows already given."""
    fields = _fields(kind)
    header_rows = 0
    sample = prefix.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    if kind == "detailed":
        header_rows = 1
        first = next(decoded_lines([prefix.split(b"\n", 1)[0] + b"\n"], display), "")
        found: list[Issue] = []
        list(sec605_detailed.scan_detailed([first], file=display, issues=found))
        for issue in found:
            recorder.add(issue)
        sample = stream.readline(MAX_LINE_BYTES + 1)
        prefix += sample
    block = min(max(len(sample) * batch_rows, 1 << 16), BLOCK_BYTES)
    state = _Delimited(kind, fields, arrow_schema(kind), recorder, _Lines(prefix, stream),
                       header_rows, [], [])  # fmt: skip
    threads = state.typed = state.lines.prescan = start is not None
    while True:
        skip = state.rows_done
        restart = False
        try:
            reader = _open_csv(state, block, threads)  # parses the first block
        except pa.ArrowInvalid as exc:
            if not state.typed:
                raise InputError(f"{display}: cannot read as a {kind} 605 file: {exc}") from exc
            reader, restart = None, True
        while reader is not None:
            try:
                raw = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                if state.typed:  # a cell typed parsing refuses: the string reading judges it
                    restart = True
                    break
                raise InputError(f"{display}: cannot read as a {kind} 605 file: {exc}") from exc
            if threads and (state.invalid or state.unnumbered):
                restart = True
                break
            if skip:
                dropped = min(skip, raw.num_rows)
                raw, skip = raw.slice(dropped), skip - dropped
                if not raw.num_rows:
                    continue
            try:
                table = state.process(raw)
            except _Restart:
                restart = True
                break
            yield table
        if not restart:
            return
        assert start is not None
        stream.seek(start)
        threads = state.typed = False
        state.lines = _Lines(b"", stream)
        state.invalid.clear()
        state.invalid_issues.clear()
        state.unnumbered = False


def _open_csv(state: _Delimited, block: int, threads: bool) -> pcsv.CSVStreamingReader:
    names = [f"f{i}" for i in range(len(state.fields))]
    return pcsv.open_csv(
        pa.PythonFile(state.lines, mode="r"),
        read_options=pcsv.ReadOptions(
            column_names=names, skip_rows=state.header_rows, block_size=block, use_threads=threads
        ),
        parse_options=pcsv.ParseOptions(
            delimiter="|",
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=True,
            invalid_row_handler=state.on_invalid,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={
                name: _arrow_type(f.kind) if state.typed and f.kind in _PARSED else pa.string()
                for name, f in zip(names, state.fields, strict=True)
            },
            strings_can_be_null=True,
            null_values=[""],
        ),
    )


#: Field kinds pyarrow parses itself when reading typed (text, months and codes are checked
#: as strings).
_PARSED = frozenset({"int", "usd", "sec", "dec"})


def _summary_batches(
    prefix: bytes, stream: IO[bytes], display: str, recorder: IssueRecorder
) -> Iterator[pa.Table]:
    from pfof.formats.sec605 import MAX_SUMMARY_LINES

    lines: list[str] = []
    for line in decoded_lines(_prefixed(prefix, stream), display):
        lines.append(line)
        if len(lines) > MAX_SUMMARY_LINES:
            raise InputError(
                f"{display}: more than {MAX_SUMMARY_LINES:,} lines; a Rule 605 summary report "
                "has one row per S&P 500 flag, order size and order type"
            )
    parsed = sec605_summary.parse_summary(lines, file=display)
    for issue in parsed.issues:
        recorder.add(issue)
    table = pa.Table.from_batches([records_batch(parsed.records, "summary")])
    numbers = np.array(parsed.lines, dtype=np.int64)
    for rule, column, mask, what in deviation_issues("summary", table):
        recorder.deviation(rule, column, numbers[mask], what)
    yield table


def _prefixed(prefix: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """``read_chunks`` of the prefix's lines, then of the stream's."""
    yield from read_chunks(io.BytesIO(prefix))
    yield from read_chunks(stream)


@dataclass(frozen=True, slots=True)
class Arrow605File:
    """A whole Rule 605 file as one Arrow table, with its issues (:func:`read_605_arrow`)."""

    file: str
    kind: Kind
    table: pa.Table
    issues: tuple[Issue, ...]


def read_605_arrow(
    source: ArrowSource, *, name: str | None = None, kind: Kind | None = None
) -> Arrow605File:
    """:func:`scan_605_batches` gathered into one table (the file's rows in memory).

    >>> parsed = read_605_arrow(b"T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||")
    >>> parsed.kind, parsed.table.num_rows, parsed.table.column("symbol").to_pylist()
    ('legacy', 1, ['AAPL'])
    """
    issues: list[Issue] = []
    pairs = list(scan_605_batches(source, name=name, kind=kind, issues=issues))
    found = pairs[0][0]  # a file without rows gives one empty batch
    table = pa.Table.from_batches([b for _, b in pairs], schema=arrow_schema(found))
    return Arrow605File(_display(source, name), found, table, tuple(issues))
