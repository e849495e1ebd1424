"""pfof's one error vocabulary: the exception tree and the :class:`Issue` every check reports.

::

    PfofError                 anything pfof refuses, with a message naming the input
    ├── InputError            a file that cannot be read as what it was meant to be
    ├── ValidationError       a file read, then rejected by its format's rules (``.issues``)
    ├── StoreError            the DuckDB store cannot be opened, read or written
    └── ParameterError        an argument out of range or inconsistent with another

``InputError``, ``ValidationError`` and ``ParameterError`` are also ``ValueError``s, so code
written against plain Python conventions keeps working. The CLI prints any ``PfofError`` as one
line and exits with its :attr:`PfofError.exit_code`: 2 for bad input or arguments, 1 otherwise.
A traceback reaches the user only for a bug.

An :class:`Issue` is one broken rule at one place in one file, for Rule 605 and Rule 606
alike: the place is an XML element path (606) or a line and column (605 and other delimited
files), the rule a short id such as ``pct-sum`` or ``format``. A :class:`Validation` is the
verdict on one file: its issues split into errors and warnings, at the strictness asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "InputError",
    "Issue",
    "IssueVerdict",
    "ParameterError",
    "PfofError",
    "Severity",
    "StoreError",
    "Validation",
    "ValidationError",
]


class PfofError(Exception):
    """Root of every error pfof raises on purpose; ``str(error)`` is one actionable line.

    >>> import pfof
    >>> try:
    ...     pfof.read_606(b"<notAReport/>")
    ... except pfof.PfofError as exc:
    ...     print(isinstance(exc, pfof.ValidationError), exc.exit_code, exc.issues[0].rule)
    True 2 root
    """

    #: Exit status of the CLI when this error ends a command.
    exit_code: int = 1


class InputError(PfofError, ValueError):
    """A file (or bytes) pfof cannot read as the format it was given as: missing, unreadable,
    undecodable, or not that format at all."""

    exit_code = 2


class ValidationError(PfofError, ValueError):
    """A file that was read but breaks its format's rules at the strictness asked for.

    ``source`` names the file and ``issues`` lists every rule broken and where.
    """

    exit_code = 2

    def __init__(self, source: str, issues: Sequence[Issue], what: str = "file") -> None:
        self.source = source
        self.issues = list(issues)
        first = f": {self.issues[0]}" if self.issues else ""
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(f"{source}: not a valid {what}{first}{more}")


class StoreError(PfofError):
    """The DuckDB store cannot be opened, read or written (locked, read-only, corrupt)."""

    exit_code = 1


class ParameterError(PfofError, ValueError):
    """An argument out of range, malformed, or inconsistent with another argument."""

    exit_code = 2


class Severity(StrEnum):
    """How much an issue matters: an ``error`` rejects the file, a ``warning`` is tolerated."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One broken rule at one place in one file.

    ``path`` locates it in an XML document (``rMonthly[mon=2]/rOptions/rVenues/rVenue[3]/...``),
    ``line`` (1-based; 0 or ``None`` for the file as a whole) and ``column`` (a field name) in a
    delimited file. ``rule`` is a short stable id (``pct-sum``, ``CphType``, ``format``).
    """

    rule: str
    message: str
    severity: Severity = Severity.ERROR
    path: str = ""
    line: int | None = None
    column: str = ""
    file: str = ""

    @property
    def location(self) -> str:
        """Where, as people read it: ``file:12, column`` or ``line 12, path``."""
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        elif self.line:
            parts.append(f"line {self.line}")
        if self.path or self.column:
            parts.append(self.path or self.column)
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location
        return f"{where + ': ' if where else ''}{self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (severity as its string)."""
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "file": self.file,
        }


class IssueVerdict:
    """Mixin for a result holding ``issues``: splits them into errors and warnings and tells
    whether any error rejects the input (shared by every check's result type)."""

    __slots__ = ()
    issues: Sequence[Issue]

    @property
    def errors(self) -> list[Issue]:
        """Issues that reject the input at the strictness asked for."""
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        """Deviations tolerated at that strictness."""
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def valid(self) -> bool:
        """True when no issue rejects the input."""
        return not self.errors


@dataclass(slots=True)
class Validation(IssueVerdict):
    """The verdict on one file at one strictness: its issues split into errors and warnings.

    ``format`` is ``"606"`` or ``"605"``; ``kind`` the report within it (``a1``, ``b1``, ``b3``;
    ``legacy``, ``detailed``, ``summary``), ``None`` when not even that could be told.
    ``schema_valid`` is a 606 file's verdict under exactly the SEC schema, whatever ``strict``;
    ``records`` how many records a 605 file yielded (``None`` where the format has none).
    """

    file: str
    format: str
    kind: str | None
    strict: bool
    issues: list[Issue] = field(default_factory=list)
    schema_valid: bool | None = None
    records: int | None = None

    def raise_for_errors(self, what: str = "file") -> None:
        """Raise :class:`ValidationError` listing the errors, if any."""
        if not self.valid:
            raise ValidationError(self.file, self.errors, what)
