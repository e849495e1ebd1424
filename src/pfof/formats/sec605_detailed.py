"""Amended Rule 605 detailed monthly report: 55 pipe-delimited fields with a header row.

The field list is reconstructed from filers' published files (SEC Release 34-99679 gives
the content, not the layout); ``model.rule605.DETAILED_FIELDS`` records it and
docs/rule605.md marks what is unconfirmed. Numbers are written with at most 6 decimals,
rounded half-up, trailing zeros dropped (the convention of the SEC's summary spec).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple
from decimal import Decimal
from pathlib import Path
from typing import IO

from pfof.formats.sec605_numbers import format_trimmed, parse_decimal, parse_int, read_lines
from pfof.model.records605 import (
    DETAILED_FIELDS,
    DETAILED_TIME_BUCKETS,
    DetailedRecord,
    Issue,
    ParsedFile,
    Rule605FormatError,
    Severity,
)

DELIMITER = "|"
HEADER: tuple[str, ...] = tuple(h for h, _, _ in DETAILED_FIELDS)
N_FIELDS = len(HEADER)
_REQUIRED = {"participant", "entity", "symbol", "lot_size", "order_type"}


#: What reading one file gives: records, their file lines and the issues found.
DetailedParse = ParsedFile[DetailedRecord]


def looks_like_detailed(first_line: str) -> bool:
    """True for a pipe-delimited header line starting like the detailed report's."""
    parts = [p.strip() for p in first_line.lstrip("\ufeff").split(DELIMITER)]
    return len(parts) > 2 and parts[:3] == list(HEADER[:3])


def read_detailed(
    source: str | Path | IO[str] | Iterable[str], *, strict: bool = False, check: bool = True
) -> DetailedParse:
    """Read a detailed report; with ``strict`` the first error raises ``Rule605FormatError``."""
    lines, name = read_lines(source)
    return parse_detailed(lines, file=name, strict=strict, check=check)


def parse_detailed(
    lines: Sequence[str], *, file: str = "", strict: bool = False, check: bool = True
) -> DetailedParse:
    result = DetailedParse()

    def add(issue: Issue) -> None:
        if strict and issue.severity is Severity.ERROR:
            raise Rule605FormatError(issue)
        result.issues.append(issue)

    if not lines:
        add(Issue(Severity.ERROR, 0, "", "header", "empty file: a header row is required", file))
        return result
    header = [h.strip() for h in lines[0].lstrip("\ufeff").split(DELIMITER)]
    if len(header) != N_FIELDS:
        add(
            Issue(
                Severity.ERROR,
                1,
                "",
                "header",
                f"header has {len(header)} fields, {N_FIELDS} expected",
                file,
            )
        )
    for position, (found, expected) in enumerate(zip(header, HEADER, strict=False), 1):
        if found != expected:
            add(
                Issue(
                    Severity.ERROR,
                    1,
                    expected,
                    "header",
                    f"field {position} is titled {found!r}, expected {expected!r}",
                    file,
                )
            )
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(DELIMITER)
        if len(parts) != N_FIELDS:
            add(
                Issue(
                    Severity.ERROR,
                    number,
                    "",
                    "field-count",
                    f"expected {N_FIELDS} '|'-separated fields, found {len(parts)}",
                    file,
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
            except ValueError as exc:
                bad = True
                add(
                    Issue(
                        Severity.ERROR, number, header_name, kind, f"field {position}: {exc}", file
                    )
                )
        if bad:
            continue
        record = DetailedRecord(*values)  # type: ignore[arg-type]
        if check:
            for issue in check_detailed(record, line=number, file=file):
                add(issue)
        result.records.append(record)
        result.lines.append(number)
    return result


def _parse_value(attr: str, kind: str, text: str) -> object:
    if kind == "str":
        if not text and attr in _REQUIRED:
            raise ValueError("must not be empty")
        return text
    if kind == "yyyymm":
        if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
            raise ValueError(f"expected a month as YYYYMM, got {text!r}")
        return int(text)
    if not text:
        if attr == "order_size":
            raise ValueError("must not be empty")
        return None
    if kind == "int":
        return parse_int(text)
    return parse_decimal(text)


def check_detailed(record: DetailedRecord, *, line: int = 0, file: str = "") -> list[Issue]:
    """Consistency warnings for one detailed record (never raises)."""
    out: list[Issue] = []
    zero = Decimal(0)
    executed = (record.executed_qty or zero) + (record.executed_away_qty or zero)
    if record.covered_qty is not None:
        accounted = executed + (record.cancelled_qty or zero)
        if accounted > record.covered_qty:
            out.append(
                Issue(
                    Severity.WARNING,
                    line,
                    "CvrdOrderQty",
                    "shares-accounted",
                    f"executed ({executed}) + cancelled ({record.cancelled_qty or 0}) "
                    f"exceed the {record.covered_qty} covered shares",
                    file,
                )
            )
    buckets = [getattr(record, name) for name, _ in DETAILED_TIME_BUCKETS]
    if any(b is not None for b in buckets):
        total = sum((b or zero for b in buckets), zero)
        if total != executed:
            out.append(
                Issue(
                    Severity.WARNING,
                    line,
                    "CvrdOrderQtyto100microsec",
                    "time-buckets",
                    f"time-bucket shares add up to {total}, executed shares are {executed}",
                    file,
                )
            )
    return out


def format_detailed_line(record: DetailedRecord) -> str:
    out: list[str] = []
    for (header, _attr, kind), value in zip(DETAILED_FIELDS, astuple(record), strict=True):
        if kind == "str":
            if DELIMITER in value or "\n" in value or "\r" in value:
                raise ValueError(f"{header} {value!r} contains a delimiter or line break")
            out.append(value)
        else:
            out.append(format_trimmed(value))
    return DELIMITER.join(out)


def write_detailed(
    records: Iterable[DetailedRecord], dest: str | Path | IO[str] | None = None
) -> str:
    """Detailed report text: header row, one line per record, LF line ends."""
    text = DELIMITER.join(HEADER) + "\n"
    text += "".join(format_detailed_line(r) + "\n" for r in records)
    if isinstance(dest, (str, Path)):
        Path(dest).write_text(text, encoding="ascii")
    elif dest is not None:
        dest.write(text)
    return text
