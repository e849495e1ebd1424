"""Rule 605 files of any of the three formats: detect which one a file is and check it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pfof.formats import sec605_detailed, sec605_legacy, sec605_summary
from pfof.formats.csvw import TableSchema, load_metadata
from pfof.formats.sec605_numbers import read_lines
from pfof.model.records605 import (
    DetailedRecord,
    Issue,
    LegacyRecord,
    Severity,
    SummaryRecord,
)

Kind = Literal["legacy", "detailed", "summary"]
KINDS: tuple[Kind, ...] = ("legacy", "detailed", "summary")


class UnknownFormatError(ValueError):
    """A file that is none of the three Rule 605 formats."""


def detect(lines: list[str], name: str = "") -> Kind:
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


@dataclass(frozen=True, slots=True)
class Checked:
    kind: Kind
    file: str
    records: tuple[LegacyRecord, ...] | tuple[DetailedRecord, ...] | tuple[SummaryRecord, ...]
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def valid(self) -> bool:
        return not self.errors


def check_file(
    path: str | Path, *, kind: Kind | None = None, metadata: str | Path | TableSchema | None = None
) -> Checked:
    """Read and check a Rule 605 file; ``metadata`` (a CSVW JSON path or schema) replaces
    pfof's built-in summary rules."""
    lines, name = read_lines(path)
    kind = kind or detect(lines, name)
    if kind == "legacy":
        parsed = sec605_legacy.parse_legacy(lines, file=name)
        return Checked(kind, name, tuple(parsed.records), tuple(parsed.issues))
    if kind == "detailed":
        parsed_d = sec605_detailed.parse_detailed(lines, file=name)
        return Checked(kind, name, tuple(parsed_d.records), tuple(parsed_d.issues))
    schema = load_metadata(metadata) if isinstance(metadata, (str, Path)) else metadata
    parsed_s = sec605_summary.parse_summary(lines, file=name, schema=schema)
    return Checked(kind, name, tuple(parsed_s.records), tuple(parsed_s.issues))
