"""Which stored report is which: report identity, content digests and the current edition.

A file is known by its bytes (SHA-256), but one report reaches a user in many byte forms (CRLF
line endings, re-indented, re-published with a new ``<timestamp>``) and is restated under the
same name. So that one report counts once:

* **identity**: report type, broker (its normalised name, so that the spellings a broker uses
  across filings agree), year and quarter (:func:`report_key`), and for a FINRA bulk file the
  filer's CRD from the file name. Reports of one key filed under two CRDs are two filers'
  reports; a file without a CRD (a broker's own download) is the same report as the bulk
  files of its key when they all carry one CRD. A (b)(1)/(b)(3) report is also keyed by its
  customer and period: two customers' reports are never restatements of each other.
* **content** (:func:`content_digest`): a digest of every figure and name of the parsed report,
  leaving out only its ``<timestamp>`` and schema ``<version>``. Two files with the same digest
  are the same report: the second is a duplicate and is not stored again.
* **routing** (:func:`routing_digest`): the content digest leaving out the broker's name too.
  Two current reports with one routing digest are one report filed twice (affiliated
  broker-dealers filing the same figures under their own CRDs and names): both are shown,
  one is counted (``store.queries``).
* **current edition** (:func:`current_editions`): of the stored reports with one identity, the
  latest counts: the highest bulk-file version ``V<k>``, then the latest ``<timestamp>`` (a
  duplicate re-published later lends its stored twin its timestamp), then the latest ingested.
  The others are kept, as superseded.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import MAX_PREC, Context, Decimal
from typing import Any

from pfof.formats.finra_bulk import parse_bulk_name
from pfof.formats.sec606_types import collapse
from pfof.model.market_time import year_quarter
from pfof.model.names import broker_key
from pfof.model.reports606 import CustomerRoutingReport, HeldOrderRoutingReport

__all__ = [
    "Edition",
    "ReportIdentity",
    "affiliated_duplicate",
    "content_digest",
    "current_editions",
    "legacy_report_key",
    "report_digests",
    "report_identity",
    "report_key",
    "routing_digest",
]

#: Fields of a report model that are not its content: publishing another edition changes them.
_NOT_CONTENT = frozenset({"timestamp", "version"})
#: ... and the filer's name: what two affiliated filers' identical reports share.
_NOT_ROUTING = _NOT_CONTENT | {"bd"}
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_EXACT = Context(prec=MAX_PREC)  # normalize() without rounding


@dataclass(frozen=True, slots=True)
class ReportIdentity:
    """What a report is (``key``) and what orders its editions (``bulk_version``,
    ``timestamp``), as :func:`report_identity` finds them in a file and its name."""

    kind: str  # a1 | b1 | b3
    broker: str  # <bd> as reported
    year: int
    quarter: int
    key: str
    crd: str | None
    bulk_version: int | None
    timestamp: datetime | None
    customer: str | None


def report_key(
    kind: str,
    broker: str | None,
    year: int | None,
    quarter: int | None,
    customer: str | None = None,
    period: tuple[date, date] | None = None,
) -> str:
    """What a report is about as a JSON text (stable, comparable in SQL): with the filer's
    CRD (:func:`current_editions`), a report's identity."""
    parts: list[Any] = [kind, broker_key(broker or "")]
    if kind == "a1":
        parts += [year, quarter]
    else:
        start, end = period if period is not None else (None, None)
        parts += [
            collapse(customer or ""),
            start.isoformat() if start else None,
            end.isoformat() if end else None,
        ]
    return json.dumps(parts, ensure_ascii=False)


def legacy_report_key(
    sha256: str, kind: str, broker: str | None, year: int | None, quarter: int | None
) -> str:
    """The identity of a report stored by a pfof that recorded none: a 606(a)(1) report's from
    its stored broker and quarter; a (b)(1)/(b)(3) report, whose customer and period were not
    recorded, is its own identity (never taken for another customer's report)."""
    if kind == "a1":
        return report_key(kind, broker, year, quarter)
    return json.dumps([kind, "sha256", sha256])


def report_identity(report: Any, path: str) -> ReportIdentity:
    """The identity of a parsed 606 report read from ``path`` (a file or ``zip!member``)."""
    bulk = parse_bulk_name(path)
    crd = bulk.crd if bulk is not None else None
    version = bulk.version if bulk is not None else None
    if isinstance(report, HeldOrderRoutingReport):
        key = report_key("a1", report.bd, report.year, report.qtr)
        return ReportIdentity(
            "a1", report.bd, report.year, report.qtr, key, crd, version, report.timestamp, None
        )
    kind = "b1" if isinstance(report, CustomerRoutingReport) else "b3"
    year, quarter = year_quarter(report.start_date)
    period = (report.start_date, report.end_date)
    key = report_key(kind, report.bd, year, quarter, report.customer, period)
    return ReportIdentity(
        kind, report.bd, year, quarter, key, crd, version, report.timestamp, report.customer
    )


def affiliated_duplicate(path: str, twin_crd: str | None) -> bool:
    """Whether the duplicate file ``path`` was filed under another CRD than its stored twin's
    ``twin_crd`` (an affiliated filer's copy, not a re-publication by the same filer)."""
    bulk = parse_bulk_name(path)
    return bulk is not None and twin_crd is not None and bulk.crd != twin_crd


def content_digest(report: Any) -> str:
    """SHA-256 (hex) of a parsed report's content: every figure, name and date in a canonical
    form (decimals without trailing zeros, text with white space collapsed), leaving out the
    ``<timestamp>`` and ``<version>`` that a re-published copy changes."""
    buf = bytearray()
    _feed(buf.extend, report, skip=_NOT_CONTENT)
    return hashlib.sha256(buf).hexdigest()


def routing_digest(report: Any) -> str:
    """SHA-256 (hex) of a parsed report's content without its broker's name (``<bd>``), its
    ``<timestamp>`` and ``<version>``: equal for the identical reports of affiliated filers."""
    return report_digests(report)[1]


def report_digests(report: Any) -> tuple[str, str]:
    """(:func:`content_digest`, :func:`routing_digest`) of a parsed report, in one walk."""
    head = b"C" + type(report).__name__.encode() + b"{"
    content, routing = bytearray(head), bytearray(head)
    for f in dataclasses.fields(report):
        if f.name in _NOT_CONTENT:
            continue
        part = bytearray()
        _feed(part.extend, getattr(report, f.name))
        content += part
        if f.name not in _NOT_ROUTING:
            routing += part
    content += b"}"
    routing += b"}"
    return hashlib.sha256(content).hexdigest(), hashlib.sha256(routing).hexdigest()


def _feed(update: Any, value: Any, *, skip: frozenset[str] = frozenset()) -> None:
    """Feed ``value``'s canonical bytes to ``update``; ``skip``: fields of this (top-level)
    value left out."""
    if isinstance(value, Decimal):
        update(b"D" + _decimal_token(value) + b";")
    elif value is None:
        update(b"N;")
    elif isinstance(value, enum.Enum):
        _feed(update, value.value)
    elif isinstance(value, str):
        text = collapse(value).encode()
        update(b"S%d:" % len(text) + text)
    elif isinstance(value, bool):
        update(b"B1;" if value else b"B0;")
    elif isinstance(value, int):
        update(b"I%d;" % value)
    elif isinstance(value, datetime | date | time):
        update(b"T" + value.isoformat().encode() + b";")
    elif isinstance(value, tuple | list):
        update(b"L%d[" % len(value))
        for item in value:
            _feed(update, item)
        update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        update(b"C" + type(value).__name__.encode() + b"{")
        for f in dataclasses.fields(value):
            if f.name not in skip:
                _feed(update, getattr(value, f.name))
        update(b"}")
    else:
        raise TypeError(f"cannot digest a {type(value).__name__} in a report")


def _decimal_token(value: Decimal) -> bytes:
    """``1.50`` and ``1.5`` alike: the value with trailing zeros dropped (exactly, at any size)."""
    if value.is_zero():
        return b"0"
    return str(value.normalize(_EXACT)).encode()


@dataclass(frozen=True, slots=True)
class Edition:
    """One stored report as the choice of the current edition sees it."""

    sha256: str
    key: str
    crd: str | None
    bulk_version: int | None
    timestamp: datetime | None
    ingested_at: datetime


def current_editions(
    editions: Iterable[Edition], republished: Iterable[Edition] = ()
) -> dict[str, str]:
    """sha256 of each stored report in ``editions`` -> sha256 of the current edition of its
    identity (itself when it is current).

    An identity is a report key and a filer's CRD; editions without a CRD share the identity
    of their key's editions when those carry exactly one CRD. Of one identity's editions the
    current is the one with the highest bulk version, then the latest timestamp, then the
    latest ingested. ``republished`` are duplicates (``sha256`` is the stored report they
    repeat): a duplicate with a later version or timestamp lends it to its stored twin, so
    that a report re-published after a restatement is current again.
    """
    stored = list(editions)
    rank = {e.sha256: _rank(e) for e in stored}
    for d in republished:
        if d.sha256 in rank:
            rank[d.sha256] = max(rank[d.sha256], _rank(d))
    crds: dict[str, set[str]] = {}
    for e in stored:
        if e.crd is not None:
            crds.setdefault(e.key, set()).add(e.crd)

    def identity(e: Edition) -> tuple[str, str | None]:
        filers = crds.get(e.key, set())
        return e.key, e.crd if e.crd is not None or len(filers) != 1 else next(iter(filers))

    best: dict[tuple[str, str | None], tuple[tuple[int, datetime], datetime, str]] = {}
    for e in stored:
        candidate = (rank[e.sha256], _utc(e.ingested_at), e.sha256)
        ident = identity(e)
        if ident not in best or candidate > best[ident]:
            best[ident] = candidate
    return {e.sha256: best[identity(e)][2] for e in stored}


def _rank(e: Edition) -> tuple[int, datetime]:
    version = -1 if e.bulk_version is None else e.bulk_version
    return version, _EARLIEST if e.timestamp is None else _utc(e.timestamp)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
