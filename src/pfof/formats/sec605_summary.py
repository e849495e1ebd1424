"""Amended Rule 605(a)(2) summary report: a comma-separated file with a header row.

pfof carries its own rule table for the file (``BUILTIN_SCHEMA``), written from the SEC's
technical specification and CSVW metadata, so validation works offline; ``--metadata PATH``
validates against the SEC's CSVW metadata file instead, read at run time. Both run through
``formats.csvw``. On top of the CSVW constraints, pfof adds specification checks reported as
warnings (a lenient reading tolerates them, ``strict=True`` counts them as errors): the average
notional order size must lie inside the row's size bucket, and one file holds one reporter's
month.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO

from pfof.errors import Issue, ParameterError, Severity
from pfof.formats.csvw import Bound, Column, CsvwResult, Dialect, TableSchema, validate_csv
from pfof.formats.sec605_numbers import FIGURE_LIMIT, format_trimmed, in_range
from pfof.model.records605 import (
    ALL_BELOW_200K,
    NOTIONAL_BUCKETS,
    SUMMARY_FIELDS,
    ParsedFile,
    SummaryRecord,
)

HEADER: tuple[str, ...] = tuple(h for h, _ in SUMMARY_FIELDS)
PLACES = 6
LINE_END = "\r\n"  # the specification ends every record with CR LF

# ---------------------------------------------------------------- pfof's own rule table

#: Up to 6 decimals, optional sign and exponent; the empty string also matches (an empty
#: cell is null and handled by ``required``).
_UP_TO_6DP = r"[+-]?(?:\d+(?:\.\d{0,6})?(?:[eE][+-]?\d+)?)?"
#: Tokens a column may use for "not meaningful" (e.g. a ratio over a zero quoted spread).
_NOT_MEANINGFUL = ("", "nan", "NaN", "inf", "+inf", "-inf")


def _num(
    name: str,
    title: str,
    *,
    low: str | None = None,
    high: str | None = None,
    nullable: bool = False,
) -> Column:
    bounds = []
    if low is not None:
        bounds.append(Bound("minimum", "min", Decimal(low)))
    if high is not None:
        bounds.append(Bound("maximum", "max", Decimal(high)))
    return Column(
        name=name,
        titles=(title,),
        base="float",
        format=_UP_TO_6DP,
        bounds=tuple(bounds),
        required=True,
        null=_NOT_MEANINGFUL if nullable else ("",),
        null_declared=nullable,
    )


def _code(name: str, title: str, pattern: str) -> Column:
    return Column(name=name, titles=(title,), base="token", format=pattern, required=True)


BUILTIN_SCHEMA = TableSchema(
    columns=(
        _code("DsgntParticipant", "Designated Participant", r"[A-Z]+"),
        _code("RprtEntityCd", "Market Center, Broker, or Dealer Code", r"[A-Z]+"),
        Column(
            name="RptDate",
            titles=("Report Date",),
            base="int",
            # YYYYMM from 2020 to 2099 with a month 01-12, and no earlier than January 2025
            format=r"20[2-9][0-9](?:0[1-9]|1[0-2])",
            bounds=(
                Bound("minimum", "min", Decimal(202501)),
                Bound("exclusiveMaximum", "xmax", Decimal(209913)),
            ),
            required=True,
        ),
        _code("Sp500", "S&P 500 Flag", r"[YN]"),
        _code(
            "OrderSize",
            "Order Size (USD)",
            "(?:" + "|".join(str(code) for code in (*NOTIONAL_BUCKETS, ALL_BELOW_200K)) + ")",
        ),
        _code("OrderType", "Order Type", r"ML?"),
        _num("AvgOrderQty", "Average Order Size (Shares)", low="0"),
        _num("AvgOrderSize", "Average Notional Order Size (USD)", low="0"),
        _num("ExctdOrderMidPtAvg", "Share-weighted Average Midpoint (USD)"),
        _num("PctExctdAtQuotOrBetter", "% Shares Executed at Quote or Better", low="0", high="1"),
        _num("PctExctdPI", "% Shares Executed with Price Improvement", low="0", high="1"),
        _num("WghtdAvgPctPI", "Share-weighted Average % Price Improvement", high="2"),
        _num("AvgEffctvSprdPct", "Average % Effective Spread", low="-2"),
        _num("AvgPctQuotSprd", "Average % Quoted Spread", low="0"),
        _num("AvgEFQPct", "Average Effective / Average Quoted Spread %", nullable=True),
        _num("AvgRealSprdPct15sec", "Average % Realized Spread after 15 Seconds", nullable=True),
        _num("AvgRealSprdPct1min", "Average % Realized Spread after 1 Minute"),
        _num("WghtdAvgExctnTime", "Share-weighted Average Execution Speed (msec)", low="0"),
    ),
    primary_key=("DsgntParticipant", "RprtEntityCd", "RptDate", "Sp500", "OrderSize", "OrderType"),
    dialect=Dialect(header=True, header_row_count=1, delimiter=","),
)

# ---------------------------------------------------------------- validation


#: What reading one file gives: records, their file lines and the issues found.
SummaryParse = ParsedFile[SummaryRecord]


def looks_like_summary(first_line: str) -> bool:
    parts = [p.strip() for p in first_line.lstrip("\ufeff").split(",")]
    return len(parts) > 2 and parts[0] in ("DsgntParticipant", "Designated Participant")


def parse_summary(
    lines: Sequence[str],
    *,
    file: str = "",
    schema: TableSchema | None = None,
    spec_checks: bool = True,
) -> SummaryParse:
    """Validate a summary file's lines against ``schema`` (default: pfof's built-in rule
    table) and convert its rows; rows of an invalid file are converted where their cells
    allow. ``spec_checks`` adds the specification's warnings. Never raises."""
    checked: CsvwResult = validate_csv(lines, schema or BUILTIN_SCHEMA, file=file)
    result = SummaryParse(issues=list(checked.issues))
    reports: list[tuple[object, ...]] = []
    for line, values in checked.rows:
        result.issues.extend(_range_check(values, line, file))
        record = _record(values)
        if spec_checks:
            report = (
                values.get("DsgntParticipant"),
                values.get("RprtEntityCd"),
                values.get("RptDate"),
            )
            if reports and report not in reports:
                result.issues.append(
                    Issue(
                        rule="one-report-per-file",
                        message=f"rows of {'/'.join(map(str, report))} start here; the file "
                        f"started with {'/'.join(map(str, reports[0]))}",
                        severity=Severity.WARNING,
                        line=line,
                        column="RprtEntityCd",
                        file=file,
                    )
                )
            if report not in reports:
                reports.append(report)
            result.issues.extend(_bucket_check(values, line, file))
        if record is not None:
            result.records.append(record)
            result.lines.append(line)
    return result


def _range_check(values: dict[str, object], line: int, file: str) -> list[Issue]:
    """A figure no report could hold (``1e999999999`` is a valid float lexically) is an
    error whatever the schema, so that nothing downstream meets it."""
    return [
        Issue(
            rule="range",
            message=f"{value:.3e} is beyond what a Rule 605 figure can be "
            f"(magnitude below {FIGURE_LIMIT:.0e})",
            line=line,
            column=name,
            file=file,
        )
        for name, value in values.items()
        if isinstance(value, Decimal) and value.is_finite() and not in_range(value)
    ]


def _bucket_check(values: dict[str, object], line: int, file: str) -> list[Issue]:
    size, average = values.get("OrderSize"), values.get("AvgOrderSize")
    if not isinstance(average, Decimal) or not average.is_finite():
        return []
    try:
        code = int(str(size))
    except ValueError:
        return []
    if code == ALL_BELOW_200K:
        low, high = 0, 200_000
    elif code in NOTIONAL_BUCKETS:
        low, high = NOTIONAL_BUCKETS[code]  # type: ignore[assignment]
    else:
        return []
    if average < low or (high is not None and average >= high):
        return [
            Issue(
                rule="order-size-bucket",
                message=f"average notional {average} is outside OrderSize {code} "
                f"(${low:,} to below ${high:,})"
                if high
                else f"average notional {average} is below OrderSize {code} (${low:,} or more)",
                severity=Severity.WARNING,
                line=line,
                column="AvgOrderSize",
                file=file,
            )
        ]
    return []


def _record(values: dict[str, object]) -> SummaryRecord | None:
    """A record from validated values; ``None`` when a key cell is unusable."""
    kwargs: dict[str, object] = {}
    for header, attr in SUMMARY_FIELDS:
        value = values.get(header)
        if header in ("DsgntParticipant", "RprtEntityCd", "OrderType"):
            if not isinstance(value, str) or not value:
                return None
            kwargs[attr] = value
        elif header == "Sp500":
            if value not in ("Y", "N"):
                return None
            kwargs[attr] = value == "Y"
        elif header in ("RptDate", "OrderSize"):
            try:
                kwargs[attr] = int(str(value))
            except ValueError:
                return None
        elif isinstance(value, Decimal) and in_range(value):
            kwargs[attr] = value
        elif value is None or isinstance(value, Decimal):  # not meaningful, or out of range
            kwargs[attr] = None
        else:
            return None  # an unreadable number
    return SummaryRecord(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- writing


def _format_summary_line(record: SummaryRecord) -> str:
    cells: list[str] = []
    for header, attr in SUMMARY_FIELDS:
        value = getattr(record, attr)
        if header == "Sp500":
            cells.append("Y" if value else "N")
        elif isinstance(value, str):
            if any(ch in value for ch in ',"\r\n'):
                raise ParameterError(
                    f"{header} {value!r} contains a delimiter, quote or line break"
                )
            cells.append(value)
        else:
            cells.append(format_trimmed(value, PLACES))
    return ",".join(cells)


def write_summary(
    records: Iterable[SummaryRecord], dest: str | Path | IO[str] | None = None
) -> str:
    """Summary report text: header row and one CR LF-terminated record per row; numbers
    with at most 6 decimals, rounded half-up, trailing zeros dropped."""
    text = ",".join(HEADER) + LINE_END
    text += "".join(_format_summary_line(r) + LINE_END for r in records)
    if isinstance(dest, (str, Path)):
        Path(dest).write_bytes(text.encode("ascii"))
    elif dest is not None:
        dest.write(text)
    return text


def file_name(record: SummaryRecord) -> str:
    """The specification's file name: reporter code and YYYYMM, ``.csv``."""
    return f"{record.entity}{record.rpt_date}.csv"
