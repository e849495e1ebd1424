"""Rule 605 files of any of the three formats: read or validate one, whatever its format.

The format (legacy, amended detailed, amended summary) is told from the first non-empty line
unless ``kind`` names it. Lines or cells that cannot be read are errors. Consistency checks
(time buckets that do not add up to the executed shares, an average order outside its size
bucket, ...) are warnings when reading leniently, the default; ``strict=True`` counts them as
errors too, as Rule 606's strict mode counts the tolerated deviations.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from pfof.formats.sec605_numbers import read_lines
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


def _parse(
    source: Source605,
    kind: Kind | None,
    metadata: str | Path | TableSchema | None,
    strict: bool,
) -> Rule605File:
    if kind is not None and kind not in KINDS:
        raise ParameterError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    lines, name = read_lines(source)
    kind = kind or _detect(lines, name)
    parsed: sec605_legacy.LegacyParse | sec605_detailed.DetailedParse | sec605_summary.SummaryParse
    if kind == "legacy":
        parsed = sec605_legacy.parse_legacy(lines, file=name)
    elif kind == "detailed":
        parsed = sec605_detailed.parse_detailed(lines, file=name)
    else:
        schema = load_metadata(metadata) if isinstance(metadata, (str, Path)) else metadata
        parsed = sec605_summary.parse_summary(lines, file=name, schema=schema)
    records: Records605 = tuple(parsed.records)  # type: ignore[assignment]
    return Rule605File(name, kind, records, _graded(parsed.issues, strict))


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
    result = _parse(source, kind, None, strict)
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
    other formats ignore it. Raises only when the file cannot be read as a 605 file at all
    (:class:`UnknownFormatError`, :class:`~pfof.errors.InputError`).

    >>> from pfof.formats.sec605 import validate_605
    >>> header = "DsgntParticipant,RprtEntityCd,RptDate,Sp500,OrderSize,OrderType"
    >>> verdict = validate_605([header, "S,X,202413,Y,0,M"])
    >>> verdict.kind, verdict.valid, verdict.errors[0].rule
    ('summary', False, 'columns')
    """
    result = _parse(source, kind, metadata, strict)
    return Validation(
        file=result.file,
        format="605",
        kind=result.kind,
        strict=strict,
        issues=list(result.issues),
        records=len(result.records),
    )
