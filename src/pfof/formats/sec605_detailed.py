"""Amended Rule 605 detailed monthly report: 55 pipe-delimited fields with a header row.

The field list is reconstructed from filers' published files (SEC Release 34-99679 gives
the content, not the layout); ``model.records605.DETAILED_FIELDS`` records it and
docs/rule605.md marks what is unconfirmed. Numbers are written with at most 6 decimals,
rounded half-up, trailing zeros dropped (the convention of the SEC's summary spec).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import astuple
from decimal import Decimal
from pathlib import Path
from typing import IO

from pfof.errors import Issue, ParameterError, Severity
from pfof.formats.sec605_numbers import format_trimmed, non_negative, parse_decimal, parse_int
from pfof.model.records605 import (
    DETAILED_FIELDS,
    DETAILED_TIME_BUCKETS,
    DetailedRecord,
    ParsedFile,
)

DELIMITER = "|"
HEADER: tuple[str, ...] = tuple(h for h, _, _ in DETAILED_FIELDS)
N_FIELDS = len(HEADER)
REQUIRED_FIELDS = {"participant", "entity", "symbol", "lot_size", "order_type"}
#: Counts, share quantities and the covered notional: never below zero (spreads, amounts and
#: averages may be).
NON_NEGATIVE = frozenset(
    attr
    for _, attr, kind in DETAILED_FIELDS
    if kind == "int" or "qty" in attr.split("_") or attr == "covered_notional"
)


#: What reading one file gives: records, their file lines and the issues found.
DetailedParse = ParsedFile[DetailedRecord]


def looks_like_detailed(first_line: str) -> bool:
    """True for a pipe-delimited header line starting like the detailed report's."""
    parts = [p.strip() for p in first_line.lstrip("\ufeff").split(DELIMITER)]
    return len(parts) > 2 and parts[:3] == list(HEADER[:3])


def parse_detailed(lines: Iterable[str], *, file: str = "", check: bool = True) -> DetailedParse:
    """Parse the lines of a detailed report (header row first): unreadable lines become errors
    and are skipped, ``check`` adds each record's consistency warnings. Never raises."""
    result = DetailedParse()
    for number, record in scan_detailed(lines, file=file, check=check, issues=result.issues):
        result.records.append(record)
        result.lines.append(number)
    return result


def scan_detailed(
    lines: Iterable[str], *, file: str = "", check: bool = True, issues: list[Issue]
) -> Iterator[tuple[int, DetailedRecord]]:
    """(file line, record) of each readable row, one at a time; every issue found (the
    header's first) is appended to ``issues`` as the lines go by."""
    add = issues.append
    rows = iter(lines)
    first = next(rows, None)
    if first is None:
        add(
            Issue(
                rule="header",
                message="empty file: a header row is required",
                line=0,
                file=file,
            )
        )
        return
    header = [h.strip() for h in first.lstrip("\ufeff").split(DELIMITER)]
    if len(header) != N_FIELDS:
        add(
            Issue(
                rule="header",
                message=f"header has {len(header)} fields, {N_FIELDS} expected",
                line=1,
                file=file,
            )
        )
    for position, (found, expected) in enumerate(zip(header, HEADER, strict=False), 1):
        if found != expected:
            add(
                Issue(
                    rule="header",
                    message=f"field {position} is titled {found[:40]!r}, expected {expected!r}",
                    line=1,
                    column=expected,
                    file=file,
                )
            )
    for number, line in enumerate(rows, start=2):
        if not line.strip():
            continue
        parts = line.split(DELIMITER)
        if len(parts) != N_FIELDS:
            add(
                Issue(
                    rule="field-count",
                    message=f"expected {N_FIELDS} '|'-separated fields, found {len(parts)}",
                    line=number,
                    file=file,
                )
            )
            continue
        values: list[object] = []
        bad = False
        for position, ((header_name, attr, kind), raw) in enumerate(
            zip(DETAILED_FIELDS, parts, strict=True), 1
        ):
            text = raw.strip()
            try:
                values.append(_parse_value(attr, kind, text))
            except ParameterError as exc:
                bad = True
                add(
                    Issue(
                        rule=getattr(exc, "rule", kind),
                        message=f"field {position}: {exc}",
                        line=number,
                        column=header_name,
                        file=file,
                    )
                )
        if bad:
            continue
        record = DetailedRecord(*values)  # type: ignore[arg-type]
        if check:
            issues.extend(_check_detailed(record, line=number, file=file))
        yield number, record


def _parse_value(attr: str, kind: str, text: str) -> object:
    if kind == "str":
        if not text and attr in REQUIRED_FIELDS:
            raise ParameterError("must not be empty")
        return text
    if kind == "yyyymm":
        if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
            raise ParameterError(f"expected a month as YYYYMM, got {text[:12]!r}")
        return int(text)
    if not text:
        if attr == "order_size":
            raise ParameterError("must not be empty")
        return None
    value = parse_int(text) if kind == "int" else parse_decimal(text)
    return non_negative(value) if attr in NON_NEGATIVE else value


def _check_detailed(record: DetailedRecord, *, line: int = 0, file: str = "") -> list[Issue]:
    """Consistency warnings for one detailed record (never raises)."""
    out: list[Issue] = []
    zero = Decimal(0)
    executed = (record.executed_qty or zero) + (record.executed_away_qty or zero)
    if record.covered_qty is not None:
        accounted = executed + (record.cancelled_qty or zero)
        if accounted > record.covered_qty:
            out.append(
                Issue(
                    rule="shares-accounted",
                    message=f"executed ({executed}) + cancelled ({record.cancelled_qty or 0}) "
                    f"exceed the {record.covered_qty} covered shares",
                    severity=Severity.WARNING,
                    line=line,
                    column="CvrdOrderQty",
                    file=file,
                )
            )
    buckets = [getattr(record, name) for name, _ in DETAILED_TIME_BUCKETS]
    if any(b is not None for b in buckets):
        total = sum((b or zero for b in buckets), zero)
        if total != executed:
            out.append(
                Issue(
                    rule="time-buckets",
                    message=f"time-bucket shares add up to {total}, executed shares are {executed}",
                    severity=Severity.WARNING,
                    line=line,
                    column="CvrdOrderQtyto100microsec",
                    file=file,
                )
            )
    return out


def _format_detailed_line(record: DetailedRecord) -> str:
    out: list[str] = []
    for (header, _attr, kind), value in zip(DETAILED_FIELDS, astuple(record), strict=True):
        if kind == "str":
            if DELIMITER in value or "\n" in value or "\r" in value:
                raise ParameterError(f"{header} {value!r} contains a delimiter or line break")
            out.append(value)
        else:
            out.append(format_trimmed(value))
    return DELIMITER.join(out)


def write_detailed(
    records: Iterable[DetailedRecord], dest: str | Path | IO[str] | None = None
) -> str:
    """Detailed report text: header row, one line per record, LF line ends."""
    text = DELIMITER.join(HEADER) + "\n"
    text += "".join(_format_detailed_line(r) + "\n" for r in records)
    if isinstance(dest, (str, Path)):
        Path(dest).write_text(text, encoding="ascii")
    elif dest is not None:
        dest.write(text)
    return text
