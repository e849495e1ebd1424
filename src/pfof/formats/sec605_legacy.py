"""Legacy Rule 605 monthly report: 26 pipe-delimited fields per line, no header.

Reading never stops at a suspicious figure: consistency problems (time buckets that do not
add up to the executed shares, fields 18-26 filled for limit-order types, ...) become
warnings naming file, line and field. Lines that cannot be read (wrong field count, a
non-number where a number belongs) are errors and are skipped. ``pfof.formats.sec605.read_605``
reads a file; this module parses its lines and writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import astuple
from decimal import Decimal
from pathlib import Path
from typing import IO

from pfof.errors import Issue, ParameterError, Severity
from pfof.formats.sec605_numbers import format_fixed, non_negative, parse_decimal, parse_int
from pfof.model.records605 import (
    LEGACY_FIELDS,
    LEGACY_MARKETABLE_ONLY,
    LEGACY_ORDER_SIZES,
    LEGACY_TIME_BUCKETS,
    LegacyOrderType,
    LegacyRecord,
    ParsedFile,
)

DELIMITER = "|"
N_FIELDS = len(LEGACY_FIELDS)
_PLACES = {"usd": 4, "sec": 1}
REQUIRED_TEXT = {"participant", "market_center", "symbol"}


#: What reading one file gives: records, their file lines and the issues found.
LegacyParse = ParsedFile[LegacyRecord]


def looks_like_legacy(first_line: str) -> bool:
    """True for a pipe-delimited line that is no header: a (possibly malformed) record."""
    parts = first_line.split(DELIMITER)
    return len(parts) > 3 and parts[2].strip().isdigit()


def parse_legacy(lines: Iterable[str], *, file: str = "", check: bool = True) -> LegacyParse:
    """Parse the lines of a legacy report: unreadable lines become errors and are skipped,
    ``check`` adds each record's consistency warnings. Never raises."""
    result = LegacyParse()
    for number, record in scan_legacy(lines, file=file, check=check, issues=result.issues):
        result.records.append(record)
        result.lines.append(number)
    return result


def scan_legacy(
    lines: Iterable[str], *, file: str = "", check: bool = True, issues: list[Issue]
) -> Iterator[tuple[int, LegacyRecord]]:
    """(file line, record) of each readable line, one at a time; every issue found is
    appended to ``issues`` as the lines go by."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record, found = parse_legacy_line(line, number, file)
        issues.extend(found)
        if record is None:
            continue
        if check:
            issues.extend(check_legacy(record, line=number, file=file))
        yield number, record


def parse_legacy_line(line: str, number: int, file: str) -> tuple[LegacyRecord | None, list[Issue]]:
    parts = line.split(DELIMITER)
    if len(parts) != N_FIELDS:
        return None, [
            Issue(
                rule="field-count",
                message=f"expected {N_FIELDS} '|'-separated fields, found {len(parts)}",
                line=number,
                file=file,
            )
        ]
    values: list[object] = []
    issues: list[Issue] = []
    for position, ((name, kind), raw) in enumerate(zip(LEGACY_FIELDS, parts, strict=True), 1):
        text = raw.strip()
        try:
            values.append(_parse_value(name, kind, text))
        except ParameterError as exc:
            issues.append(
                Issue(
                    rule=getattr(exc, "rule", kind),
                    message=f"field {position}: {exc}",
                    line=number,
                    column=name,
                    file=file,
                )
            )
    if issues:
        return None, issues
    return LegacyRecord(*values), []  # type: ignore[arg-type]


def _parse_value(name: str, kind: str, text: str) -> object:
    if kind == "str":
        if not text and name in REQUIRED_TEXT:
            raise ParameterError("must not be empty")
        return text
    if kind == "yyyymm":
        if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
            raise ParameterError(f"expected a month as YYYYMM, got {text[:12]!r}")
        return int(text)
    if kind == "code":
        if not text.isdigit() or len(text) != 2:
            raise ParameterError(f"expected a 2-digit code, got {text[:12]!r}")
        return int(text)
    if not text:
        return None
    if kind == "int":  # every integer field is a count of orders or shares
        return non_negative(parse_int(text))
    return parse_decimal(text)


def check_legacy(record: LegacyRecord, *, line: int = 0, file: str = "") -> list[Issue]:
    """Consistency warnings for one record (never raises)."""
    out: list[Issue] = []

    def warn(column: str, rule: str, message: str) -> None:
        out.append(
            Issue(
                rule=rule,
                message=message,
                severity=Severity.WARNING,
                line=line,
                column=column,
                file=file,
            )
        )

    if record.order_type not in {t.value for t in LegacyOrderType}:
        warn("order_type", "code", f"unknown order type {record.order_type} (11-15 expected)")
    size_range = LEGACY_ORDER_SIZES.get(record.order_size)
    if size_range is None:
        warn("order_size", "code", f"unknown order size {record.order_size} (21-24 expected)")
    executed = (record.exec_shares_mc or 0) + (record.exec_shares_away or 0)
    if record.covered_shares is not None:
        accounted = executed + (record.cancelled_shares or 0)
        if accounted != record.covered_shares:
            verb = "exceed" if accounted > record.covered_shares else "fall short of"
            warn(
                "covered_shares",
                "shares-accounted",
                f"executed ({executed}) + cancelled ({record.cancelled_shares or 0}) shares "
                f"{verb} the {record.covered_shares} covered shares",
            )
        if record.covered_orders and size_range is not None:
            low, high = size_range
            average = Decimal(record.covered_shares) / record.covered_orders
            if average < low or (high is not None and average >= high):
                warn(
                    "covered_shares",
                    "order-size",
                    f"average order of {average:.1f} shares is outside size code "
                    f"{record.order_size} ({low}-{high or ''} shares)",
                )
    bucketed = sum(getattr(record, name) or 0 for name in LEGACY_TIME_BUCKETS)
    if bucketed != executed:
        warn(
            "exec_0_9s",
            "time-buckets",
            f"time-bucket shares add up to {bucketed}, executed shares "
            f"(fields 10 + 11) are {executed}",
        )
    filled = [name for name in LEGACY_MARKETABLE_ONLY if getattr(record, name) is not None]
    if record.order_type in (13, 14, 15) and filled:
        warn(
            filled[0],
            "marketable-only",
            f"fields 18-26 apply to order types 11 and 12 only; {len(filled)} filled for "
            f"type {record.order_type}",
        )
    elif record.order_type in (11, 12):
        if len(filled) < len(LEGACY_MARKETABLE_ONLY):
            missing = [n for n in LEGACY_MARKETABLE_ONLY if n not in filled]
            warn(
                missing[0],
                "required",
                f"{len(missing)} of fields 18-26 empty for type {record.order_type}",
            )
        else:
            priced = (record.pi_shares or 0) + (record.atq_shares or 0) + (record.otq_shares or 0)
            if priced != executed:
                warn(
                    "pi_shares",
                    "quote-buckets",
                    f"improved + at + outside the quote shares add up to {priced}, executed "
                    f"shares are {executed}",
                )
    return out


def _format_legacy_line(record: LegacyRecord) -> str:
    """One record as a legacy line (no line terminator)."""
    out: list[str] = []
    for (_name, kind), value in zip(LEGACY_FIELDS, astuple(record), strict=True):
        if value is None:
            out.append("")
        elif kind in _PLACES:
            out.append(format_fixed(value, _PLACES[kind]))
        elif kind == "str":
            if DELIMITER in value or "\n" in value:
                raise ParameterError(f"{_name} {value!r} contains a delimiter or line break")
            out.append(value)
        else:
            out.append(str(value))
    return DELIMITER.join(out)


def write_legacy(records: Iterable[LegacyRecord], dest: str | Path | IO[str] | None = None) -> str:
    """Legacy report text (LF line ends, as real files); also written to ``dest`` if given."""
    text = "".join(_format_legacy_line(r) + "\n" for r in records)
    if isinstance(dest, (str, Path)):
        Path(dest).write_text(text, encoding="ascii")
    elif dest is not None:
        dest.write(text)
    return text
