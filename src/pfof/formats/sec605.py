"""Rule 605 files of any of the three formats: read or validate one, whatever its format.

The format (legacy, amended detailed, amended summary) is told from the first non-empty line
unless ``kind`` names it. Lines or cells that cannot be read are errors. Consistency checks
(time buckets that do not add up to the executed shares, an average order outside its size
bucket, ...) are warnings when reading leniently, the default; ``strict=True`` counts them as
errors too, as Rule 606's strict mode counts the tolerated deviations.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

from pfof.errors import (
    InputError,
    Issue,
    IssueVerdict,
    ParameterError,
    Severity,
    Validation,
    ValidationError,
)
from pfof.formats import sec605_detailed, sec605_legacy, sec605_summary
from pfof.formats.csvw import TableSchema, load_metadata
from pfof.formats.sec605_numbers import open_lines
from pfof.model.records605 import DetailedRecord, LegacyRecord, SummaryRecord

Kind = Literal["legacy", "detailed", "summary"]
KINDS: tuple[Kind, ...] = ("legacy", "detailed", "summary")
#: A path, an open text file, or the file's lines.
Source605 = str | Path | IO[str] | Iterable[str]
Records605 = tuple[LegacyRecord, ...] | tuple[DetailedRecord, ...] | tuple[SummaryRecord, ...]


class UnknownFormatError(InputError):
    """A file that is none of the three Rule 605 formats."""


@dataclass(frozen=True, slots=True)
class Rule605File(IssueVerdict):
    """The records read from one Rule 605 file and the issues found, at one strictness."""

    file: str
    kind: Kind
    records: Records605
    issues: tuple[Issue, ...]


class Rule605FormatError(ValidationError):
    """A Rule 605 file with errors at the strictness asked for.

    ``issues`` lists the errors; ``result`` keeps the records that could be read anyway and
    every issue, for callers that show a broken file's readable part.
    """

    def __init__(self, result: Rule605File) -> None:
        super().__init__(result.file, result.errors, f"{result.kind} Rule 605 file")
        self.result = result


def _detect(lines: list[str], name: str) -> Kind:
    """Which Rule 605 format the lines are, judged by the first non-empty line."""
    first = next((line for line in lines if line.strip()), "")
    if sec605_summary.looks_like_summary(first):
        return "summary"
    if sec605_detailed.looks_like_detailed(first):
        return "detailed"
    if sec605_legacy.looks_like_legacy(first):
        return "legacy"
    raise UnknownFormatError(
        f"{name or 'input'}: line 1 is neither a legacy 605 record (26 '|' fields), a detailed "
        "605 header (DsgntParticipant|RprtEntityCd|RptDate|...) nor a summary 605 header "
        "(DsgntParticipant,RprtEntityCd,...)"
    )


def _graded(issues: list[Issue], strict: bool) -> tuple[Issue, ...]:
    """The issues at a strictness: strict turns every warning into an error."""
    if not strict:
        return tuple(issues)
    return tuple(
        replace(i, severity=Severity.ERROR) if i.severity is Severity.WARNING else i for i in issues
    )


#: Lines a summary report may have: it holds one row per S&P 500 flag, order size and order
#: type (a few dozen); many more means a file that is not one, read whole otherwise.
MAX_SUMMARY_LINES = 10_000
#: ``on_record(record)``: called with each record as it is read.
OnRecord = Callable[[LegacyRecord | DetailedRecord | SummaryRecord], None]


def _scan(
    source: Source605,
    kind: Kind | None,
    metadata: str | Path | TableSchema | None,
    strict: bool,
    on_record: OnRecord | None,
) -> tuple[str, Kind, int, tuple[Issue, ...]]:
    """Read ``source`` as a stream: (file name, kind, records read, graded issues), each
    record handed to ``on_record`` as it is read and then dropped."""
    if kind is not None and kind not in KINDS:
        raise ParameterError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    issues: list[Issue] = []
    count = 0
    with open_lines(source) as (lines, name):
        head: list[str] = []
        for line in lines:
            head.append(line)
            if line.strip():
                break
        kind = kind or _detect(head, name)
        rows = itertools.chain(head, lines)
        records: Iterable[tuple[int, LegacyRecord | DetailedRecord | SummaryRecord]]
        if kind == "legacy":
            records = sec605_legacy.scan_legacy(rows, file=name, issues=issues)
        elif kind == "detailed":
            records = sec605_detailed.scan_detailed(rows, file=name, issues=issues)
        else:
            whole = list(itertools.islice(rows, MAX_SUMMARY_LINES + 1))
            if len(whole) > MAX_SUMMARY_LINES:
                raise InputError(
                    f"{name}: more than {MAX_SUMMARY_LINES:,} lines; a Rule 605 summary report "
                    "has one row per S&P 500 flag, order size and order type"
                )
            schema = load_metadata(metadata) if isinstance(metadata, (str, Path)) else metadata
            parsed = sec605_summary.parse_summary(whole, file=name, schema=schema)
            issues = parsed.issues
            records = zip(parsed.lines, parsed.records, strict=True)
        for _, record in records:
            count += 1
            if on_record is not None:
                on_record(record)
    return name, kind, count, _graded(issues, strict)


def read_605(source: Source605, *, strict: bool = False, kind: Kind | None = None) -> Rule605File:
    """Read a Rule 605 file (a path, an open text file or its lines) into typed records.

    Raises :class:`Rule605FormatError` (a :class:`~pfof.errors.ValidationError`) when the file
    has errors at this strictness, :class:`UnknownFormatError` when it is no 605 format and
    :class:`~pfof.errors.InputError` when it cannot be read. The result's ``issues`` are the
    tolerated warnings.

    >>> from pfof.formats.sec605 import read_605
    >>> line = "T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||"
    >>> parsed = read_605([line])
    >>> parsed.kind, parsed.records[0].symbol, parsed.records[0].covered_shares, parsed.issues
    ('legacy', 'AAPL', 300, ())
    """
    records: list[LegacyRecord | DetailedRecord | SummaryRecord] = []
    name, found, _, issues = _scan(source, kind, None, strict, records.append)
    result = Rule605File(name, found, tuple(records), issues)  # type: ignore[arg-type]
    if result.errors:
        raise Rule605FormatError(result)
    return result


def validate_605(
    source: Source605,
    *,
    strict: bool = False,
    kind: Kind | None = None,
    metadata: str | Path | TableSchema | None = None,
) -> Validation:
    """Check a Rule 605 file: every error and warning, with file line, column and rule.

    ``metadata`` (a CSVW metadata JSON path, e.g. the SEC's ``oes-metadata.json``, or a
    :class:`~pfof.formats.csvw.TableSchema`) replaces pfof's built-in rules for a summary file;
    other formats ignore it. The file is read as a stream, whatever its size. Raises only when
    the file cannot be read as a 605 file at all (:class:`UnknownFormatError`,
    :class:`~pfof.errors.InputError`).

    >>> from pfof.formats.sec605 import validate_605
    >>> header = "DsgntParticipant,RprtEntityCd,RptDate,Sp500,OrderSize,OrderType"
    >>> verdict = validate_605([header, "S,X,202413,Y,0,M"])
    >>> verdict.kind, verdict.valid, verdict.errors[0].rule
    ('summary', False, 'columns')
    """
    return scan_605(source, strict=strict, kind=kind, metadata=metadata)


def scan_605(
    source: Source605,
    *,
    strict: bool = False,
    kind: Kind | None = None,
    metadata: str | Path | TableSchema | None = None,
    on_record: OnRecord | None = None,
) -> Validation:
    """:func:`validate_605` that also hands each record to ``on_record`` as it is read.

    Memory stays flat however many rows a legacy or detailed file has (records are not
    kept; only the issues are), so totals over a million-row file are a callback away.

    >>> from pfof.formats.sec605 import scan_605
    >>> shares = []
    >>> line = "T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||"
    >>> scan_605([line, line], on_record=lambda r: shares.append(r.covered_shares)).records
    2
    >>> sum(shares)
    600
    """
    name, found, count, issues = _scan(source, kind, metadata, strict, on_record)
    return Validation(
        file=name, format="605", kind=found, strict=strict, issues=list(issues), records=count
    )
