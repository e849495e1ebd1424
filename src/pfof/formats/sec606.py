"""SEC Rule 606 XML reports: read (:func:`read_606`), validate (:func:`validate_606`),
stream (:func:`iter_a1_cells`) and write (:func:`write_606`).

Three layers of rules, each reported as an :class:`~pfof.errors.Issue` with the element path
and the rule's name:

* **schema** rules (``sec606_validator``): exactly what the SEC's ``oh-20191231.xsd`` accepts;
  ``strict_valid`` is true when none is broken.
* **report** rules: what makes a schema-valid file unusable as a disclosure (not a 606 root,
  months outside the stated quarter, placeholder venue names such as ``nan``, order-type
  percentages far from 100, figures too large to store and sum exactly). They reject a file
  whatever the strictness; a few only warn (venue percentages whose concentration index
  exceeds 10,000).
* **lenient** tolerances: deviations real brokers publish (Cph with two decimals, empty or
  non-ISO ``mic``, blank values, missing ``xsi`` attributes, percentages summing to
  99.9–100.1). Lenient reading (the default) keeps the data and lists each one as a warning;
  ``strict=True`` rejects a file that breaks any schema rule.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from lxml import etree

from pfof.errors import InputError, Issue, ParameterError, Severity, Validation, ValidationError
from pfof.formats import xmlsafe
from pfof.formats.sec606_declarations import ORDER_TYPES_XML, REPORT_ROOTS
from pfof.formats.sec606_types import XSI
from pfof.formats.sec606_validator import MAX_PER_RULE, Frame, Violation, Walker
from pfof.formats.sec606_xsd import fast_check
from pfof.formats.xmlsafe import Source, UnsafeXMLError, source_name
from pfof.model.enums import OrderType, ReportKind, Section
from pfof.model.market_time import quarter_months
from pfof.model.mics import is_iso_mic
from pfof.model.reports606 import (
    A1_PLACES,
    B3_PLACES,
    B3_VENUE_FIELDS,
    B3_VENUE_FIGURES,
    FIGURE_INTEGER_DIGITS,
    HHI_MAX,
    A1Cell,
    A1Month,
    A1Section,
    A1Venue,
    B1Order,
    B1Route,
    B1Transaction,
    B3IoiVenue,
    B3Month,
    B3Venue,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    Report606,
)

_SECTION_XML: dict[str, Section] = {
    "rSP500": Section.SP500,
    "rOtherStocks": Section.OTHER_STOCKS,
    "rOptions": Section.OPTIONS,
}
_ORDER_TYPE_XML: dict[OrderType, str] = dict(zip(OrderType, ORDER_TYPES_XML, strict=True))
_PCT_XML = {
    OrderType.MARKET: "marketPct",
    OrderType.MARKETABLE_LIMIT: "marketableLimitPct",
    OrderType.NON_MARKETABLE_LIMIT: "nonMarketableLimitPct",
    OrderType.OTHER: "otherPct",
}
_NDO_XML = ("ndoMarketPct", "ndoMarketableLimitPct", "ndoNonmarketableLimitPct", "ndoOtherPct")
_PLACEHOLDER_NAMES = frozenset({"nan", "none", "null", "undefined", "#n/a"})
_PCT_TOLERANCE = Decimal("0.1")
#: The 606(a)(1) figures of an ``rVenue`` and of a section (``ndo...``).
_A1_VENUE_FIGURES = (
    "orderPct",
    *_PCT_XML.values(),
    *(f"netPmtPaidRecv{ot}Orders{unit}" for ot in ORDER_TYPES_XML for unit in ("Usd", "Cph")),
)
_A1_SECTION_FIGURES = ("ndoPct", *_NDO_XML)
_B3_MONTH_FIGURES = ("sentShr", "executedAsPrincipalShr", "ioiExposedOrd")

_T = TypeVar("_T")


def figure_problem(value: Decimal, places: int) -> str | None:
    """Why a figure is out of the range pfof reads, stores and sums exactly, or ``None``.

    At most :data:`~pfof.model.reports606.FIGURE_INTEGER_DIGITS` digits before the decimal
    point and ``places`` significant digits after it (trailing zeros do not count).
    """
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # the schema's decimal syntax has no NaN or infinity
    whole = len(digits) + exponent
    if exponent >= -places and whole <= FIGURE_INTEGER_DIGITS:
        return None  # the common case, decided without looking at the digits
    if whole > FIGURE_INTEGER_DIGITS and not value.is_zero():
        return (
            f"{_shown(value)} has {whole} digits before the decimal point; a Rule 606 figure "
            f"may have at most {FIGURE_INTEGER_DIGITS} (below 10^{FIGURE_INTEGER_DIGITS}), "
            "the most pfof stores and sums exactly"
        )
    kept = len(digits)
    while kept > 1 and digits[kept - 1] == 0:  # trailing zeros: 1.50 has one place that counts
        kept -= 1
    fraction = max(0, -(exponent + len(digits) - kept))
    if fraction > places:
        return (
            f"{_shown(value)} has {fraction} decimal places; pfof stores this report's "
            f"figures exactly to at most {places}"
        )
    return None


def _shown(value: Decimal) -> str:
    text = format(value, "f")
    return f"'{text}'" if len(text) <= 40 else f"'{text[:20]}...{text[-12:]}' ({len(text)} chars)"


class Rule606Error(ValidationError):
    """A report pfof refuses to read at the strictness asked for; ``issues`` lists every rule
    it breaks and where (element path, line)."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        super().__init__(source, issues, "Rule 606 report")


@dataclass
class ReadResult:
    """A report read from one source, with every tolerated deviation."""

    source: str
    kind: ReportKind
    report: Report606
    warnings: list[Issue]
    strict_valid: bool


@dataclass
class _Verdict:
    """Everything pfof finds in one file without keeping its data."""

    source: str
    kind: ReportKind | None
    strict_valid: bool
    errors: list[Issue]  # reject the file when lenient (and when strict)
    warnings: list[Issue]  # lenient deviations; each is an error when strict
    schema: list[Issue]  # the schema rules broken (strict verdict)

    def rejecting(self, strict: bool) -> list[Issue]:
        """The issues that reject the file (strict: every schema rule too)."""
        return _dedupe(self.schema + self.errors) if strict else self.errors

    def warnings_for(self, strict: bool) -> list[Issue]:
        """The tolerated deviations: when strict, a schema deviation is an error and is not
        listed again as a warning."""
        if not strict:
            return self.warnings
        schema = {(i.path, i.message) for i in self.schema}
        return [w for w in self.warnings if (w.path, w.message) not in schema]


def _issue(v: Violation, severity: Severity) -> Issue:
    return Issue(
        rule=v.tolerable or v.rule if severity is Severity.WARNING else v.rule,
        message=v.message,
        severity=severity,
        path=v.path,
        line=v.line,
    )


def _fatal(source: Source, exc: Exception) -> Issue:
    """The issue a document that cannot be parsed gives; a file that cannot be read at all
    raises :class:`~pfof.errors.InputError` instead."""
    if isinstance(exc, UnsafeXMLError):
        return Issue(rule=exc.rule, message=str(exc))
    if isinstance(exc, etree.XMLSyntaxError):
        line = exc.lineno if exc.lineno else None
        return Issue(rule="xml-syntax", message=f"not well-formed XML: {exc.msg}", line=line)
    if isinstance(exc, OSError):
        name = source_name(source)
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    raise exc


# ------------------------------------------------------------------ building


def _required(values: dict[str, Any], name: str, kind: type[_T]) -> _T:
    """The parsed value of the required child element ``name``: a ``kind`` in any document
    pfof accepts.

    It is absent only when the child is missing or invalid, a schema error that rejects the
    document at any strictness. The builder still finishes such a document, so that every
    issue in it is listed, and :func:`read_606` then discards its models; the absent value is
    therefore passed on as it is (``None``) rather than stopping the pass.
    """
    return cast(_T, values.get(name))


class _Header(NamedTuple):
    """The header shared by the (b)(1) and (b)(3) customer reports, in model field order."""

    version: str
    customer: str
    bd: str
    timestamp: datetime | None
    start_date: date
    end_date: date


class _Builder:
    """Builds models (or streams cells) from validated elements and applies report rules."""

    def __init__(self, keep: bool, emit_cells: bool) -> None:
        self.keep = keep
        self.emit_cells = emit_cells
        self.cells: list[A1Cell] = []
        self.issues: list[Issue] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.report: Report606 | None = None
        self.root_attrib: dict[str, str] = {}
        self.venue_pct_squares = Decimal(0)  # of the section being read: sum of orderPct^2

    def add(self, rule: str, path: str, message: str, line: int | None, severity: Severity) -> None:
        key = (rule, severity)
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        if count <= MAX_PER_RULE:  # bounded memory on files with a deviation everywhere
            self.issues.append(
                Issue(rule=rule, message=message, severity=severity, path=path, line=line)
            )

    @staticmethod
    def _path(stack: list[Frame]) -> str:
        return "/".join(f.segment for f in stack[1:])

    def _check_figures(self, f: Frame, path: str, names: Iterable[str], places: int) -> None:
        """An error (rule ``figure-range``) for each figure of ``f`` pfof cannot hold exactly."""
        for name in names:
            value = f.values.get(name)
            if isinstance(value, Decimal):
                problem = figure_problem(value, places)
                if problem is not None:
                    self.add(
                        "figure-range",
                        f"{path}/{name}",
                        f"{name}: {problem}",
                        f.line,
                        Severity.ERROR,
                    )

    def handlers(self) -> dict[str, Callable[[Frame, list[Frame]], Any]]:
        """Element name -> the method building its value (the ``_end_<name>`` methods)."""
        return {name[5:]: getattr(self, name) for name in dir(self) if name.startswith("_end_")}

    def _check_mic(self, f: Frame, path: str) -> None:
        """Warn about an empty ``mic`` or one that is not an ISO MIC pfof knows."""
        if "mic" not in f.values:
            return
        mic = f.values["mic"]
        if not mic:
            self.add("mic-empty", f"{path}/mic", "mic is empty", f.line, Severity.WARNING)
        elif not is_iso_mic(mic):
            self.add(
                "mic-not-iso",
                f"{path}/mic",
                f"mic '{mic}' is not an ISO 10383 MIC pfof knows (perhaps an MPID or an "
                "exchange's short name)",
                f.line,
                Severity.WARNING,
            )

    # -- 606(a)(1)
    def _end_rVenue(self, f: Frame, stack: list[Frame]) -> Any:
        v = f.values
        mic = v.get("mic")
        path = self._path(stack)
        name = v.get("name")
        if name is not None and name.strip().casefold() in _PLACEHOLDER_NAMES:
            self.add(
                "placeholder-venue-name",
                f"{path}/name",
                f"venue name '{name}' is a placeholder, not a venue (a converter wrote a "
                "missing value)",
                f.line,
                Severity.ERROR,
            )
        self._check_mic(f, path)
        self._check_figures(f, path, _A1_VENUE_FIGURES, A1_PLACES)
        order_pct = v.get("orderPct")
        if isinstance(order_pct, Decimal):
            self.venue_pct_squares += order_pct * order_pct
        for ot in ORDER_TYPES_XML:
            for unit in ("Usd", "Cph"):
                tag = f"netPmtPaidRecv{ot}Orders{unit}"
                if tag in v and v[tag] is None:
                    self.add(
                        "blank-value", f"{path}/{tag}", f"{tag} is blank", f.line, Severity.WARNING
                    )
        venue = A1Venue(
            name=name,
            mic=mic or None,
            mpid=v.get("mpid") or None,
            order_pct=v.get("orderPct"),
            market_pct=v.get("marketPct"),
            marketable_limit_pct=v.get("marketableLimitPct"),
            non_marketable_limit_pct=v.get("nonMarketableLimitPct"),
            other_pct=v.get("otherPct"),
            market_usd=v.get("netPmtPaidRecvMarketOrdersUsd"),
            market_cph=v.get("netPmtPaidRecvMarketOrdersCph"),
            marketable_limit_usd=v.get("netPmtPaidRecvMarketableLimitOrdersUsd"),
            marketable_limit_cph=v.get("netPmtPaidRecvMarketableLimitOrdersCph"),
            non_marketable_limit_usd=v.get("netPmtPaidRecvNonMarketableLimitOrdersUsd"),
            non_marketable_limit_cph=v.get("netPmtPaidRecvNonMarketableLimitOrdersCph"),
            other_usd=v.get("netPmtPaidRecvOtherOrdersUsd"),
            other_cph=v.get("netPmtPaidRecvOtherOrdersCph"),
            material_aspects=v.get("materialAspects") or "",
        )
        if self.emit_cells and len(stack) == 5:
            root, mon = stack[0].values, stack[1].values.get("mon", 0)
            broker, year, qtr = root.get("bd", ""), root.get("year", 0), root.get("qtr", 0)
            section = _SECTION_XML[stack[2].name]
            index = stack[3].counts.get("rVenue", 1)
            for ot in OrderType:
                self.cells.append(
                    A1Cell(
                        broker,
                        year,
                        qtr,
                        mon,
                        section,
                        venue.name,
                        venue.mic,
                        venue.mpid,
                        ot,
                        venue.order_pct,
                        venue.pct(ot),
                        venue.usd(ot),
                        venue.cph(ot),
                        index,
                    )
                )
        return venue if self.keep else None

    def _items(self, f: Frame, stack: list[Frame]) -> Any:
        """A list element's value: the built values of its children, in order."""
        return tuple(item for _, item in f.items)

    _end_rVenues = _items

    def _section(self, f: Frame, stack: list[Frame]) -> Any:
        v = f.values
        parts: list[Decimal | None] = [v.get(n) for n in _NDO_XML]
        present = [p for p in parts if p is not None]
        path = self._path(stack)
        self._check_figures(f, path, _A1_SECTION_FIGURES, A1_PLACES)
        squares, self.venue_pct_squares = self.venue_pct_squares, Decimal(0)
        if squares > HHI_MAX:
            self.add(
                "venue-hhi",
                f"{path}/rVenues",
                f"the venues' orderPct values give a concentration index (HHI, the sum of "
                f"their squares) of {squares}, above the {HHI_MAX} of one venue receiving "
                "every order: orders routed to several venues are counted once for each, and "
                "pfof leaves this section's concentration out",
                f.line,
                Severity.WARNING,
            )
        if len(present) == len(parts):
            total = sum(present, Decimal(0))
            if total != 0 and total != 100:
                if abs(total - 100) <= _PCT_TOLERANCE:
                    self.add(
                        "pct-sum",
                        path,
                        f"order-type percentages of non-directed orders sum "
                        f"to {total}, not 100 (rounding)",
                        f.line,
                        Severity.WARNING,
                    )
                else:
                    self.add(
                        "pct-sum",
                        path,
                        f"order-type percentages of non-directed orders "
                        f"(ndoMarketPct + ndoMarketableLimitPct + ndoNonmarketableLimitPct + "
                        f"ndoOtherPct) sum to {total}; they must sum to 100",
                        f.line,
                        Severity.ERROR,
                    )
        venues = next((item for name, item in f.items if name == "rVenues"), ())
        return A1Section(
            v.get("ndoPct"),
            v.get("ndoMarketPct"),
            v.get("ndoMarketableLimitPct"),
            v.get("ndoNonmarketableLimitPct"),
            v.get("ndoOtherPct"),
            venues,
        )

    _end_rSP500 = _end_rOtherStocks = _end_rOptions = _section

    def _end_rMonthly(self, f: Frame, stack: list[Frame]) -> Any:
        self.venue_pct_squares = Decimal(0)  # venues outside a section (a schema error)
        v, root = f.values, stack[0].values
        qtr, year = root.get("qtr"), root.get("year")
        mon = v.get("mon")
        # a qtr outside 1-4 already breaks the schema's QuarterType in both modes
        months = quarter_months(qtr) if qtr in (1, 2, 3, 4) else None
        if months is not None and mon is not None and mon not in months:
            self.add(
                "month-outside-quarter",
                self._path(stack),
                f"month {mon} is not in quarter {qtr} (months {months[0]}-{months[-1]})",
                f.line,
                Severity.ERROR,
            )
        if year is not None and v.get("year") is not None and v["year"] != year:
            self.add(
                "month-outside-quarter",
                self._path(stack),
                f"rMonthly year {v['year']} differs from the report year {year}",
                f.line,
                Severity.ERROR,
            )
        sections = {name: item for name, item in f.items}
        return A1Month(
            _required(v, "year", int),
            _required(v, "mon", int),
            sections.get("rSP500"),
            sections.get("rOtherStocks"),
            sections.get("rOptions"),
        )

    @staticmethod
    def _customer_header(f: Frame) -> _Header:
        """version, customer, bd, timestamp, startDate, endDate of a (b)(1)/(b)(3) report."""
        v = f.values
        return _Header(
            _required(v, "version", str),
            _required(v, "customer", str),
            _required(v, "bd", str),
            v.get("timestamp"),
            _required(v, "startDate", date),
            _required(v, "endDate", date),
        )

    def _root_checks(self, f: Frame) -> None:
        if f"{{{XSI}}}noNamespaceSchemaLocation" not in self.root_attrib:
            self.add(
                "xsi-missing",
                f.name,
                "the root element has no xsi:noNamespaceSchemaLocation "
                "attribute naming the SEC schema",
                f.line,
                Severity.WARNING,
            )

    def _end_heldOrderRoutingPublicReport(self, f: Frame, stack: list[Frame]) -> Any:
        self._root_checks(f)
        v = f.values
        months = tuple(item for _, item in f.items)
        if len(months) < 3:
            self.add(
                "missing-months",
                f.name,
                f"the quarterly report has {len(months)} month(s) of data, not 3",
                f.line,
                Severity.WARNING,
            )
        self.report = HeldOrderRoutingReport(
            _required(v, "version", str),
            _required(v, "bd", str),
            _required(v, "year", int),
            _required(v, "qtr", int),
            v.get("timestamp"),
            months,
        )
        return None

    # -- 606(b)(1)
    def _end_transaction(self, f: Frame, stack: list[Frame]) -> Any:
        if not self.keep:
            return None  # a check alone builds no models
        return B1Transaction(_required(f.values, "date", date), _required(f.values, "time", time))

    def _end_route(self, f: Frame, stack: list[Frame]) -> Any:
        v = f.values
        self._check_mic(f, self._path(stack))
        if not self.keep:
            return None
        return B1Route(
            v.get("venueName"),
            v.get("mic") or None,
            v.get("mpid") or None,
            tuple(item for _, item in f.items),
        )

    def _end_order(self, f: Frame, stack: list[Frame]) -> Any:
        if not self.keep:
            return None
        v = f.values
        return B1Order(
            _required(v, "orderId", str),
            v.get("directed") == "Y",
            tuple(item for _, item in f.items),
        )

    _end_held = _end_notHeldExempt = _end_options = _items

    def _end_heldExemptNotHeldOrderRoutingCustomerReport(self, f: Frame, stack: list[Frame]) -> Any:
        self._root_checks(f)
        lists = dict(f.items)
        self.report = CustomerRoutingReport(
            *self._customer_header(f),
            lists.get("held"),
            lists.get("notHeldExempt"),
            lists.get("options"),
        )
        return None

    # -- 606(b)(3)
    def _end_ioiExposedVenue(self, f: Frame, stack: list[Frame]) -> Any:
        v = f.values
        self._check_mic(f, self._path(stack))
        return B3IoiVenue(
            _required(v, "venueName", str), v.get("mic") or None, v.get("mpid") or None
        )

    def _end_iVenue(self, f: Frame, stack: list[Frame]) -> Any:
        v = f.values
        path = self._path(stack)
        self._check_mic(f, path)
        self._check_figures(f, path, (xml for xml, _ in B3_VENUE_FIELDS), B3_PLACES)
        numbers = {attr: v.get(xml) for xml, attr in B3_VENUE_FIELDS}
        return B3Venue(
            venue_name=_required(v, "venueName", str),
            services=v.get("services"),
            mic=v.get("mic") or None,
            mpid=v.get("mpid") or None,
            **numbers,
        )

    _end_ioiExposedVenueList = _end_routingVenueList = _items

    def _end_hMonthly(self, f: Frame, stack: list[Frame]) -> Any:
        v, lists = f.values, dict(f.items)
        self._check_figures(f, self._path(stack), _B3_MONTH_FIGURES, B3_PLACES)
        return B3Month(
            _required(v, "year", int),
            _required(v, "mon", int),
            v.get("sentShr"),
            v.get("executedAsPrincipalShr"),
            v.get("ioiExposedOrd"),
            lists.get("ioiExposedVenueList", ()),
            lists.get("routingVenueList", ()),
        )

    _end_hDirected = _end_hNondirected = _items

    def _end_notHeldOrderHandlingCustomerReport(self, f: Frame, stack: list[Frame]) -> Any:
        self._root_checks(f)
        lists = dict(f.items)
        self.report = NotHeldHandlingReport(
            *self._customer_header(f),
            lists.get("hDirected"),
            lists.get("hNondirected"),
        )
        return None


# ------------------------------------------------------------------ running


@dataclass
class _Run:
    source: str
    kind: ReportKind | None = None
    violations: list[Violation] = field(default_factory=list)
    fatal: list[Issue] = field(default_factory=list)
    builder: _Builder | None = None
    counts: dict[str, int] = field(default_factory=dict)  # the walker's per-rule counts

    def _unlisted(self) -> tuple[list[Issue], list[Issue]]:
        """One issue per rule saying how many more were found than are listed."""
        errors: list[Issue] = []
        warnings: list[Issue] = []
        counted = [(k.lstrip("!"), n, k.startswith("!")) for k, n in self.counts.items()]
        if self.builder is not None:
            counted += [
                (r, n, sev is Severity.ERROR) for (r, sev), n in self.builder.counts.items()
            ]
        for rule, n, is_error in counted:
            if n > MAX_PER_RULE:
                note = Issue(
                    rule=rule,
                    message=f"{n - MAX_PER_RULE} more not listed ({n} in all)",
                    severity=Severity.ERROR if is_error else Severity.WARNING,
                )
                (errors if is_error else warnings).append(note)
        return errors, warnings

    def result(self) -> _Verdict:
        schema = self.fatal + [_issue(v, Severity.ERROR) for v in self.violations]
        errors = list(self.fatal)
        warnings: list[Issue] = []
        for v in self.violations:
            if v.tolerable:
                warnings.append(_issue(v, Severity.WARNING))
            else:
                errors.append(_issue(v, Severity.ERROR))
        if self.builder is not None:
            for issue in self.builder.issues:
                (errors if issue.severity is Severity.ERROR else warnings).append(issue)
        if (
            self.kind is None
            and not self.fatal
            and not any(v.rule == "root" for v in self.violations)
        ):
            errors.append(
                Issue(
                    rule="not-a-606-report",
                    message="the root element is not a Rule 606 "
                    f"report (expected one of {', '.join(REPORT_ROOTS)})",
                )
            )
        more_errors, more_warnings = self._unlisted()
        errors += more_errors
        warnings += more_warnings
        return _Verdict(self.source, self.kind, not schema, errors, warnings, schema)


def _events(source: Source, run: _Run, builder: _Builder | None) -> Iterator[None]:
    """Drive one validation pass; yields whenever the builder has streamed cells waiting."""
    walker = Walker(builder.handlers() if builder is not None else None)
    run.violations = walker.violations
    run.counts = walker.counts
    try:
        for event, elem in xmlsafe.iterparse(source):
            if event == "start":
                if not walker.stack:
                    tag = elem.tag if isinstance(elem.tag, str) else ""
                    kind = REPORT_ROOTS.get(tag)
                    run.kind = ReportKind(kind) if kind else None
                    if builder is not None:
                        builder.root_attrib = dict(elem.attrib)
                walker.start(elem)
            else:
                walker.end(elem)
                if builder is not None and builder.cells:
                    yield None
    except (UnsafeXMLError, etree.XMLSyntaxError, OSError) as exc:
        run.fatal.append(_fatal(source, exc))


def _check(source: Source, name: str | None = None, *, fast: bool = True) -> _Verdict:
    """Validate without keeping data: schema verdict, report-rule errors, lenient warnings.

    A 606(b)(1) report the derived schema finds valid in C (``sec606_xsd.fast_check``) gets
    the verdict the detailed pass would give it without one; any other document gets the
    detailed pass (as does every document with ``fast=False``, which the tests compare).
    """
    run = _Run(name or source_name(source))
    builder = _Builder(keep=False, emit_cells=False)
    run.builder = builder
    root = fast_check(source) if fast else None
    if root is not None:
        run.kind = ReportKind(REPORT_ROOTS[root.name])
        builder.root_attrib = root.attrib
        builder._root_checks(Frame(root.name, None, root.line, False, 1))
        return run.result()
    for _ in _events(source, run, builder):
        pass
    return run.result()


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for i in issues:
        key = (i.rule, i.path, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def read_606(source: Source, *, strict: bool = False) -> ReadResult:
    """Read a Rule 606 report (a path, XML bytes or a binary file) into its typed model.

    Lenient (the default) reads what real brokers publish and lists each tolerated deviation
    in ``warnings``; ``strict=True`` accepts exactly what the SEC schema accepts. A rejected
    report raises :class:`Rule606Error` (a :class:`~pfof.errors.ValidationError`) listing
    every rule broken; a file that cannot be read raises :class:`~pfof.errors.InputError`.

    >>> from pfof.formats.sec606 import read_606
    >>> months = "".join(
    ...     f"<rMonthly><year>2020</year><mon>{m}</mon></rMonthly>" for m in (1, 2, 3)
    ... )
    >>> xml = (
    ...     "<heldOrderRoutingPublicReport><version>1.2</version><bd>Broker</bd>"
    ...     f"<year>2020</year><qtr>1</qtr>{months}</heldOrderRoutingPublicReport>"
    ... ).encode()
    >>> result = read_606(xml)
    >>> result.kind.value, result.report.bd, len(result.report.months), result.strict_valid
    ('a1', 'Broker', 3, True)
    >>> [w.rule for w in result.warnings]
    ['xsi-missing']
    """
    run = _Run(source_name(source))
    builder = _Builder(keep=True, emit_cells=False)
    run.builder = builder
    for _ in _events(source, run, builder):
        pass
    result = run.result()
    errors = result.rejecting(strict)
    if errors or builder.report is None or result.kind is None:
        missing = Issue(rule="not-a-606-report", message="no report")
        raise Rule606Error(run.source, errors or [missing])
    return ReadResult(
        run.source,
        result.kind,
        builder.report,
        result.warnings_for(strict),
        result.strict_valid,
    )


def validate_606(
    source: Source, *, strict: bool = False, xsd: str | os.PathLike[str] | None = None
) -> Validation:
    """Check a Rule 606 report without keeping its data (bounded memory on any size).

    ``issues`` holds the rules that reject the file at this strictness as errors and the
    tolerated deviations as warnings, each with its element path and line; ``schema_valid``
    is the verdict under exactly the SEC schema. With ``xsd`` (a path to an official schema
    file, e.g. the SEC's ``oh-20191231.xsd``) lxml validates the file too and each of its
    messages is an error with rule ``xsd``. A file or ``xsd`` that cannot be read raises
    :class:`~pfof.errors.InputError`. A valid 606(b)(1) report is checked in C, against a
    schema pfof derives from its own declarations (``sec606_xsd``); every other document gets
    the detailed pass, with the same verdicts and issues either way.

    >>> from pfof.formats.sec606 import validate_606
    >>> months = "".join(
    ...     f"<rMonthly><year>2020</year><mon>{m}</mon></rMonthly>" for m in (1, 2, 3)
    ... )
    >>> xml = (
    ...     "<heldOrderRoutingPublicReport><version>1.2</version><bd>Broker</bd>"
    ...     f"<year>2020</year><qtr>1</qtr>{months}</heldOrderRoutingPublicReport>"
    ... ).encode()
    >>> lenient = validate_606(xml)
    >>> lenient.kind, lenient.valid, lenient.schema_valid, [w.rule for w in lenient.warnings]
    ('a1', True, True, ['xsi-missing'])
    >>> broken = validate_606(xml.replace(b"<qtr>1</qtr>", b"<qtr>5</qtr>"), strict=True)
    >>> broken.valid, [(e.rule, e.path) for e in broken.errors][:1]
    (False, [('QuarterType', 'qtr')])
    """
    schema = _xsd_schema(xsd) if xsd is not None else None
    name = source_name(source)
    data: bytes | None = None
    if schema is not None:
        data = _read_all(source, name)
    verdict = _check(data if data is not None else source, name)
    issues = verdict.rejecting(strict) + verdict.warnings_for(strict)
    if schema is not None and data is not None and verdict.kind is not None:
        issues += _xsd_issues(data, schema)
    return Validation(
        file=name,
        format="606",
        kind=verdict.kind.value if verdict.kind is not None else None,
        strict=strict,
        issues=issues,
        schema_valid=verdict.strict_valid,
    )


def iter_a1_cells(
    source: Source, *, strict: bool = False, warnings: list[Issue] | None = None
) -> Iterator[A1Cell]:
    """Stream the cells of a 606(a)(1) report in bounded memory.

    Cells are yielded as their venues are read; a file that turns out to be rejected at this
    strictness raises :class:`Rule606Error` at the end, so callers that store cells must do
    so in a transaction. Tolerated deviations are appended to ``warnings`` when given.

    >>> from pfof.formats.sec606 import iter_a1_cells
    >>> for cell in iter_a1_cells("606-CHAS-2020Q1.xml"):  # doctest: +SKIP
    ...     print(cell.month, cell.venue_name, cell.order_type, cell.net_payment_usd)
    """
    run = _Run(source_name(source))
    builder = _Builder(keep=False, emit_cells=True)
    run.builder = builder
    for _ in _events(source, run, builder):
        if builder.cells:
            yield from builder.cells
            builder.cells.clear()
    result = run.result()
    errors = result.rejecting(strict)
    if result.kind is not None and result.kind != ReportKind.A1:
        kind_issue = Issue(
            rule="report-kind", message=f"a {result.kind} report has no 606(a)(1) cells"
        )
        errors = [*errors, kind_issue]
    if errors:
        raise Rule606Error(run.source, errors)
    if warnings is not None:
        warnings.extend(result.warnings_for(strict))


# ------------------------------------------------------------------ writing


def _fmt(value: Decimal | None, min_places: int = 0) -> str:
    if value is None:
        return ""
    if value == 0:
        value = abs(value)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < min_places:
        value = value.quantize(Decimal(1).scaleb(-min_places))
    return format(value, "f")


def _sub(parent: etree._Element, tag: str, text: str | None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    child.text = text
    return child


def _sub_optional(parent: etree._Element, *elements: tuple[str, str | None]) -> None:
    """Write each optional element whose value is present, in the order given."""
    for tag, value in elements:
        if value is not None:
            _sub(parent, tag, value)


def _write_venue_id(
    parent: etree._Element, name_tag: str, name: str | None, mic: str | None, mpid: str | None
) -> None:
    if name is not None:
        _sub(parent, name_tag, name)
        _sub_optional(parent, ("mic", mic))
    else:  # the schema's other choice: a mic alone (blank when unknown)
        _sub(parent, "mic", mic or "")
    _sub_optional(parent, ("mpid", mpid))


def _write_header(root: etree._Element, r: Report606) -> None:
    _sub(root, "version", r.version)
    if not isinstance(r, HeldOrderRoutingReport):
        _sub(root, "customer", r.customer)
    _sub(root, "bd", r.bd)


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_606(report: Report606, dest: str | os.PathLike[str] | None = None) -> bytes:
    """A report model as SEC-schema-valid XML (UTF-8, with an XML declaration); also written
    to the file ``dest`` when given.

    >>> from pfof.formats.sec606 import read_606, write_606
    >>> from pfof.model.reports606 import A1Month, HeldOrderRoutingReport
    >>> months = tuple(A1Month(2020, m, None, None, None) for m in (1, 2, 3))
    >>> report = HeldOrderRoutingReport("1.2", "Broker", 2020, 1, None, months)
    >>> xml = write_606(report)
    >>> xml.splitlines()[0], b"<bd>Broker</bd>" in xml
    (b"<?xml version='1.0' encoding='UTF-8'?>", True)
    >>> read_606(xml, strict=True).report == report
    True
    """
    nsmap = {"xsi": XSI}
    if isinstance(report, HeldOrderRoutingReport):
        root = etree.Element("heldOrderRoutingPublicReport", nsmap=nsmap)
        _write_header(root, report)
        _sub(root, "year", str(report.year))
        _sub(root, "qtr", str(report.qtr))
        if report.timestamp is not None:
            _sub(root, "timestamp", _ts(report.timestamp))
        for month in report.months:
            m = etree.SubElement(root, "rMonthly")
            _sub(m, "year", str(month.year))
            _sub(m, "mon", str(month.mon))
            for tag, section in _SECTION_XML.items():
                block = month.section(section)
                if block is not None:
                    _write_section(etree.SubElement(m, tag), block)
    elif isinstance(report, CustomerRoutingReport):
        root = etree.Element("heldExemptNotHeldOrderRoutingCustomerReport", nsmap=nsmap)
        _write_header(root, report)
        if report.timestamp is not None:
            _sub(root, "timestamp", _ts(report.timestamp))
        _sub(root, "startDate", report.start_date.isoformat())
        _sub(root, "endDate", report.end_date.isoformat())
        for tag, orders in (
            ("held", report.held),
            ("notHeldExempt", report.not_held_exempt),
            ("options", report.options),
        ):
            if orders is not None:
                lst = etree.SubElement(root, tag)
                for order in orders:
                    _write_order(etree.SubElement(lst, "order"), order)
    elif isinstance(report, NotHeldHandlingReport):
        root = etree.Element("notHeldOrderHandlingCustomerReport", nsmap=nsmap)
        _write_header(root, report)
        if report.timestamp is not None:
            _sub(root, "timestamp", _ts(report.timestamp))
        _sub(root, "startDate", report.start_date.isoformat())
        _sub(root, "endDate", report.end_date.isoformat())
        for tag, months in (("hDirected", report.directed), ("hNondirected", report.non_directed)):
            if months is not None:
                lst = etree.SubElement(root, tag)
                for b3_month in months:
                    _write_b3_month(etree.SubElement(lst, "hMonthly"), b3_month)
    else:
        raise ParameterError(f"not a Rule 606 report model: {type(report).__name__}")
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "oh-20191231.xsd")
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if dest is not None:
        Path(dest).write_bytes(xml)
    return xml


def _write_section(el: etree._Element, s: A1Section) -> None:
    for tag, value in zip(
        ("ndoPct", *_NDO_XML),
        (
            s.ndo_pct,
            s.ndo_market_pct,
            s.ndo_marketable_limit_pct,
            s.ndo_nonmarketable_limit_pct,
            s.ndo_other_pct,
        ),
        strict=True,
    ):
        _sub(el, tag, _fmt(value, 2))
    venues = etree.SubElement(el, "rVenues")
    for v in s.venues:
        ve = etree.SubElement(venues, "rVenue")
        _write_venue_id(ve, "name", v.name, v.mic, v.mpid)
        _sub(ve, "orderPct", _fmt(v.order_pct, 2))
        for ot in OrderType:
            _sub(ve, _PCT_XML[ot], _fmt(v.pct(ot), 2))
        for ot in OrderType:
            _sub(ve, f"netPmtPaidRecv{_ORDER_TYPE_XML[ot]}OrdersUsd", _fmt(v.usd(ot)))
            _sub(ve, f"netPmtPaidRecv{_ORDER_TYPE_XML[ot]}OrdersCph", _fmt(v.cph(ot), 4))
        _sub(ve, "materialAspects", v.material_aspects)


def _write_order(el: etree._Element, order: B1Order) -> None:
    _sub(el, "orderId", order.order_id)
    _sub(el, "directed", "Y" if order.directed else "N")
    for route in order.routes:
        re_ = etree.SubElement(el, "route")
        _write_venue_id(re_, "venueName", route.venue_name, route.mic, route.mpid)
        for t in route.transactions:
            te = etree.SubElement(re_, "transaction")
            _sub(te, "date", t.date.isoformat())
            _sub(te, "time", t.time.strftime("%H:%M:%S"))


def _write_b3_month(el: etree._Element, m: B3Month) -> None:
    _sub(el, "year", str(m.year))
    _sub(el, "mon", str(m.mon))
    _sub(el, "sentShr", _fmt(m.sent_shr))
    _sub(el, "executedAsPrincipalShr", _fmt(m.executed_as_principal_shr))
    _sub(el, "ioiExposedOrd", _fmt(m.ioi_exposed_ord))
    ioi = etree.SubElement(el, "ioiExposedVenueList")
    for ioi_venue in m.ioi_exposed_venues:
        ve = etree.SubElement(ioi, "ioiExposedVenue")
        _sub(ve, "venueName", ioi_venue.venue_name)
        _sub_optional(ve, ("mic", ioi_venue.mic), ("mpid", ioi_venue.mpid))
    routing = etree.SubElement(el, "routingVenueList")
    for v in m.routing_venues:
        ve = etree.SubElement(routing, "iVenue")
        _sub(ve, "venueName", v.venue_name)
        _sub_optional(ve, ("services", v.services), ("mic", v.mic), ("mpid", v.mpid))
        for xml, attr, kind in B3_VENUE_FIGURES:
            places = 2 if kind == "PctOrNmType" else 4 if kind == "CphType" else 0
            _sub(ve, xml, _fmt(getattr(v, attr), places))


# ------------------------------------------------------------------ official schema


def _xsd_schema(xsd: str | os.PathLike[str]) -> etree.XMLSchema:
    """An official schema file, compiled by lxml; ``InputError`` naming it when unusable."""
    try:
        return etree.XMLSchema(xmlsafe.parse_bytes(Path(xsd).read_bytes()))
    except OSError as exc:
        raise InputError(f"{xsd}: cannot read the schema: {exc.strerror or exc}") from exc
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError, UnsafeXMLError) as exc:
        raise InputError(f"{xsd}: not a usable XML schema (XSD): {exc}") from exc


def _read_all(source: Source, name: str) -> bytes:
    """The whole document (validated twice when an official schema is given)."""
    if isinstance(source, bytes):
        return source
    try:
        if isinstance(source, (str, os.PathLike)):
            return Path(source).read_bytes()
        return source.read()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc


def _xsd_issues(data: bytes, schema: etree.XMLSchema) -> list[Issue]:
    """lxml's messages on a document as errors with rule ``xsd``."""
    try:
        doc = xmlsafe.parse_bytes(data)
    except (etree.XMLSyntaxError, UnsafeXMLError):
        return []  # pfof's own check has reported it
    if schema.validate(doc):
        return []
    return [Issue(rule="xsd", message=e.message, line=e.line) for e in schema.error_log]
