"""The SEC Rule 606 XML schema (oh-20191231.xsd), re-expressed as pfof's own rules.

pfof does not ship the SEC's schema file. This module states the same rules as data —
simple types with their facets, element declarations, content models and identity
constraints — and checks documents against them in one streaming pass, so a report of any
size is validated in bounded memory. The test suite proves the verdicts equal lxml's
validation against the official XSD on every shared file and on thousands of mutations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

XSI = "http://www.w3.org/2001/XMLSchema-instance"
_WS = " \t\n\r"


_WS_RUN = re.compile(r"[ \t\n\r]+")


def collapse(text: str) -> str:
    """XSD ``whiteSpace=collapse``: runs of XML white space become one space, ends trimmed."""
    if not text:
        return ""
    if (
        "  " not in text
        and "\t" not in text
        and "\n" not in text
        and "\r" not in text
        and text[0] != " "
        and text[-1] != " "
    ):
        return text
    return _WS_RUN.sub(" ", text).strip(" ")


# ------------------------------------------------------------------ simple types

_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")


class Invalid(Exception):
    """A value that does not satisfy a simple type; ``fallback`` is what lenient reading keeps."""

    def __init__(self, message: str, *, tolerable: str | None = None, fallback: Any = None):
        super().__init__(message)
        self.message = message
        self.tolerable = tolerable  # lenient rule name when the deviation is tolerated
        self.fallback = fallback


@dataclass(frozen=True)
class SimpleType:
    """A named XSD simple type: ``parse`` returns the typed value or raises :class:`Invalid`."""

    name: str
    doc: str
    parse: Callable[[str], Any]

    def __call__(self, raw: str) -> Any:
        return self.parse(raw)


def _decimal(raw: str) -> Decimal:
    value = collapse(raw)
    if not _DECIMAL.fullmatch(value):
        raise Invalid(f"'{raw}' is not a decimal number")
    return Decimal(value)


def _blank(raw: str) -> bool:
    return collapse(raw) == ""


def _decimal_restricted(
    pattern: str | None, minimum: Decimal | None, maximum: Decimal | None, what: str, lenient: str
) -> Callable[[str], Decimal]:
    compiled = re.compile(pattern) if pattern else None

    def parse(raw: str) -> Decimal:
        value = _decimal(raw)
        lexical = collapse(raw)
        if compiled is not None and not compiled.fullmatch(lexical):
            in_range = (minimum is None or value >= minimum) and (
                maximum is None or value <= maximum
            )
            raise Invalid(
                f"'{raw}' is not {what}",
                tolerable=lenient if in_range else None,
                fallback=value,
            )
        if minimum is not None and value < minimum:
            raise Invalid(f"'{raw}' is below the minimum {minimum} for {what}")
        if maximum is not None and value > maximum:
            raise Invalid(f"'{raw}' is above the maximum {maximum} for {what}")
        return value

    return parse


def _or_blank(inner: Callable[[str], Any]) -> Callable[[str], Any]:
    """Union with NmType (the blank "not meaningful" value): blank parses to ``None``."""

    def parse(raw: str) -> Any:
        if _blank(raw):
            return None
        return inner(raw)

    return parse


def _integer(minimum: int, maximum: int, what: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = collapse(raw)
        if not _INTEGER.fullmatch(value):
            raise Invalid(f"'{raw}' is not a whole number ({what})")
        number = int(value)
        if not minimum <= number <= maximum:
            raise Invalid(f"'{raw}' is outside {minimum}..{maximum} ({what})")
        return number

    return parse


def _string(
    min_len: int, max_len: int | None, collapse_ws: bool, what: str
) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = collapse(raw) if collapse_ws else raw
        if len(value) < min_len:
            raise Invalid(f"{what} must have at least {min_len} character(s), got '{raw}'")
        if max_len is not None and len(value) > max_len:
            raise Invalid(
                f"{what} must have at most {max_len} characters, got {len(value)}",
                tolerable="name-length",
                fallback=value,
            )
        return value

    return parse


def _enum(values: tuple[str, ...], what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in values:
            raise Invalid(f"'{raw}' is not one of {', '.join(values)} ({what})")
        return raw

    return parse


def _code(pattern: str, what: str, lenient: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def parse(raw: str) -> str:
        if compiled.fullmatch(raw):
            return raw
        if _blank(raw):
            return ""
        raise Invalid(
            f"'{raw}' is not {what}", tolerable=lenient, fallback=collapse(raw).upper() or None
        )

    return parse


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(y: int, m: int, d: int) -> bool:
    if y == 0 or not 1 <= m <= 12 or d < 1:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return d <= (29 if m == 2 and leap else 28 if m == 2 else _DAYS[m - 1])


def _valid_time(h: int, mi: int, s: int) -> bool:
    return (h < 24 and mi < 60 and s < 60) or (h == 24 and mi == 0 and s == 0)


_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})")
_DATETIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def _parse_date(raw: str) -> date:
    m = _DATE_RE.fullmatch(collapse(raw))
    if not m or not _valid_date(*map(int, m.groups())):
        raise Invalid(f"'{raw}' is not a date of the form YYYY-MM-DD")
    return date(*map(int, m.groups()))


def _parse_time(raw: str) -> time:
    m = _TIME_RE.fullmatch(collapse(raw))
    if not m or not _valid_time(*map(int, m.groups())):
        raise Invalid(f"'{raw}' is not a time of the form hh:mm:ss")
    h, mi, s = map(int, m.groups())
    return time(0, 0, 0) if h == 24 else time(h, mi, s)


def _parse_datetime(raw: str) -> datetime:
    m = _DATETIME_RE.fullmatch(collapse(raw))
    if not m:
        raise Invalid(f"'{raw}' is not a UTC timestamp of the form YYYY-MM-DDThh:mm:ssZ")
    y, mo, d, h, mi, s = map(int, m.groups())
    if not (_valid_date(y, mo, d) and _valid_time(h, mi, s)):
        raise Invalid(f"'{raw}' is not a valid date and time")
    if h == 24:
        from datetime import timedelta

        return datetime(y, mo, d, tzinfo=UTC) + timedelta(days=1)
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def _any_string(raw: str) -> str:
    return raw


XSD_NS = "http://www.w3.org/2001/XMLSchema"


def _blank_only(raw: str) -> None:
    if not _blank(raw):
        raise Invalid(f"'{raw}' is not blank (NmType)")


def _strict_code(pattern: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def parse(raw: str) -> str:
        if not compiled.fullmatch(raw):
            raise Invalid(f"'{raw}' is not {what}")
        return raw

    return parse


_PCT = "a percentage between 0.00 and 100.00 with at least two decimals (PctType)"
_CPH = "a number with at least four decimals (Decimal4Type, cents per hundred shares)"

T = {
    t.name: t
    for t in (
        SimpleType(
            "PctOrNmType",
            _PCT + ", or blank",
            _or_blank(
                _decimal_restricted(
                    r"[0-9]*\.[0-9]{2,}", Decimal(0), Decimal(100), _PCT, "pct-decimals"
                )
            ),
        ),
        SimpleType(
            "CphType",
            _CPH + ", or blank",
            _or_blank(
                _decimal_restricted(r"-?[0-9]*\.[0-9]{4}[0-9]*", None, None, _CPH, "cph-decimals")
            ),
        ),
        SimpleType("UsdType", "an amount in US dollars, or blank", _or_blank(_decimal)),
        SimpleType(
            "ShrType",
            "a non-negative number of shares, or blank",
            _or_blank(_decimal_restricted(None, Decimal(0), None, "a non-negative number", "")),
        ),
        SimpleType(
            "OrdType",
            "a non-negative whole number, or blank",
            _or_blank(
                _decimal_restricted(r"[0-9]+", None, None, "a non-negative whole number", "")
            ),
        ),
        SimpleType(
            "MsecType",
            "a non-negative whole number of milliseconds, or blank",
            _or_blank(
                _decimal_restricted(r"[0-9]+", None, None, "a non-negative whole number", "")
            ),
        ),
        SimpleType("version", "1.2 or 1.3", _enum(("1.2", "1.3"), "schema version")),
        SimpleType("BrokerDealerNameType", "1-80 characters", _string(1, 80, True, "bd")),
        SimpleType("CustomerNameType", "0-80 characters", _string(0, 80, True, "customer")),
        SimpleType("VenueNameType", "1-80 characters", _string(1, 80, True, "a venue name")),
        SimpleType("YearType", "a year 2000-2099", _integer(2000, 2099, "year")),
        SimpleType("QuarterType", "a quarter 1-4", _integer(1, 4, "quarter")),
        SimpleType("MonthType", "a month 1-12", _integer(1, 12, "month")),
        SimpleType("timestamp", "YYYY-MM-DDThh:mm:ssZ", _parse_datetime),
        SimpleType("date", "YYYY-MM-DD", _parse_date),
        SimpleType("time", "hh:mm:ss", _parse_time),
        SimpleType(
            "mic",
            "an ISO 10383 MIC of 4 uppercase letters or digits, or blank",
            _code(r"[A-Z0-9]{4}", "a MIC (exactly four uppercase letters or digits)", "mic-format"),
        ),
        SimpleType(
            "mpid",
            "an MPID of 4-5 uppercase letters or digits, or blank",
            _code(
                r"[A-Z0-9]{4,5}",
                "an MPID (four or five uppercase letters or digits)",
                "mpid-format",
            ),
        ),
        SimpleType("directed", "Y or N", _enum(("N", "Y"), "directed flag")),
        SimpleType("ServicesType", "PRV or EV/SRV", _enum(("PRV", "EV/SRV"), "services")),
        SimpleType("orderId", "a non-empty identifier", _string(1, None, False, "orderId")),
        SimpleType("string", "any text", _any_string),
    )
}

#: Schema types with a name (``xsi:type`` may name them); the others are anonymous.
NAMED = frozenset(
    {
        "PctOrNmType",
        "CphType",
        "UsdType",
        "ShrType",
        "OrdType",
        "MsecType",
        "BrokerDealerNameType",
        "CustomerNameType",
        "VenueNameType",
        "YearType",
        "QuarterType",
        "MonthType",
        "ServicesType",
    }
)
_NM = SimpleType("NmType", "blank", _blank_only)
#: Member types of the unions elements are directly declared with.
UNION_MEMBERS: dict[str, tuple[SimpleType, ...]] = {
    "PctOrNmType": (
        SimpleType(
            "PctType",
            _PCT,
            _decimal_restricted(r"[0-9]*\.[0-9]{2,}", Decimal(0), Decimal(100), _PCT, ""),
        ),
        _NM,
    ),
    "mic": (SimpleType("MicType", "a MIC", _strict_code(r"[A-Z0-9]{4}", "a MIC (MicType)")), _NM),
    "mpid": (
        SimpleType("MpidType", "an MPID", _strict_code(r"[A-Z0-9]{4,5}", "an MPID (MpidType)")),
        _NM,
    ),
}

# ------------------------------------------------------------------ declarations


@dataclass(eq=False)
class Element:
    """An element declaration: a simple type, or a complex type's content model."""

    name: str
    simple: SimpleType | None = None
    content: Particle | None = None
    uniques: tuple[Unique, ...] = ()
    nfa: Nfa | None = None
    type_name: str | None = None  # the schema's name of the element's type, when it has one

    def __post_init__(self) -> None:
        if self.type_name is None and self.simple is not None and self.simple.name in NAMED:
            self.type_name = self.simple.name

    def substitute(self, qname: str, nsmap: dict[str | None, str]) -> Element | None:
        """The declaration an ``xsi:type`` of ``qname`` validates with, or None if not allowed.

        As libxml2 does: the element's own named type, or a member type of a union the
        element's type is directly built from (``PctOrNmType``, the ``mic``/``mpid`` unions).
        """
        prefix, _, local = qname.rpartition(":")
        if prefix:
            if nsmap.get(prefix) == XSD_NS and local == "string" and self.simple is T["string"]:
                return self
            return None
        if nsmap.get(None):
            return None  # an unprefixed QName in a default namespace names no schema type
        if local == self.type_name:
            return self
        simple_key = self.simple.name if self.simple is not None else None
        for member in UNION_MEMBERS.get(simple_key or "", ()):
            if member.name == local:
                return Element(self.name, simple=member, type_name=local)
        return None


@dataclass(frozen=True)
class Unique:
    """An ``xs:unique`` constraint: ``selector`` is a child path from the scope element."""

    name: str
    selector: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass
class Occ:
    element: Element
    min: int = 1
    max: int | None = 1  # None = unbounded


@dataclass
class Seq:
    items: list[Particle]


@dataclass
class Choice:
    items: list[Particle]


Particle = Occ | Seq | Choice

_globals: dict[str, Element] = {}


def g(name: str, simple: str | None = None) -> Element:
    """A global element declaration (created once, shared by reference)."""
    if name not in _globals:
        _globals[name] = Element(name, T[simple] if simple else None)
    return _globals[name]


def local(name: str, simple: str) -> Element:
    return Element(name, T[simple])


def opt(element: Element, max_: int | None = 1) -> Occ:
    return Occ(element, 0, max_)


def one(element: Element) -> Occ:
    return Occ(element)


for _n, _t in {
    "version": "version",
    "bd": "BrokerDealerNameType",
    "customer": "CustomerNameType",
    "year": "YearType",
    "qtr": "QuarterType",
    "mon": "MonthType",
    "timestamp": "timestamp",
    "sentShr": "ShrType",
    "executedAsPrincipalShr": "ShrType",
    "ioiExposedOrd": "OrdType",
    "services": "ServicesType",
    "mpid": "mpid",
    "startDate": "date",
    "endDate": "date",
    "venueName": "VenueNameType",
    "mic": "mic",
    "name": "VenueNameType",
    "orderPct": "PctOrNmType",
    "materialAspects": "string",
    "date": "date",
    "time": "time",
    "orderId": "orderId",
    "directed": "directed",
    "ndoPct": "PctOrNmType",
    "ndoMarketPct": "PctOrNmType",
    "ndoMarketableLimitPct": "PctOrNmType",
    "ndoNonmarketableLimitPct": "PctOrNmType",
    "ndoOtherPct": "PctOrNmType",
}.items():
    g(_n, _t)

ORDER_TYPES_XML = ("Market", "MarketableLimit", "NonMarketableLimit", "Other")
for _ot in ORDER_TYPES_XML:
    g(f"netPmtPaidRecv{_ot}OrdersUsd", "UsdType")
    g(f"netPmtPaidRecv{_ot}OrdersCph", "CphType")

# 606(a)(1)
g("rVenue").content = Seq(
    [
        Choice([Seq([one(g("name")), opt(g("mic"))]), one(g("mic"))]),
        opt(g("mpid")),
        one(g("orderPct")),
        one(local("marketPct", "PctOrNmType")),
        one(local("marketableLimitPct", "PctOrNmType")),
        one(local("nonMarketableLimitPct", "PctOrNmType")),
        one(local("otherPct", "PctOrNmType")),
        *[one(g(f"netPmtPaidRecv{ot}Orders{u}")) for ot in ORDER_TYPES_XML for u in ("Usd", "Cph")],
        one(g("materialAspects")),
    ]
)
g("rVenues").content = Seq([opt(g("rVenue"), None)])
g("rVenues").uniques = (
    Unique("uniqueVenues", ("rVenue",), ("name", "mic")),
    Unique("uniqueMics", ("rVenue",), ("mic",)),
)
_ORDER_ROUTING = Seq(
    [
        one(g("ndoPct")),
        one(g("ndoMarketPct")),
        one(g("ndoMarketableLimitPct")),
        one(g("ndoNonmarketableLimitPct")),
        one(g("ndoOtherPct")),
        one(g("rVenues")),
    ]
)
for _s in ("rSP500", "rOtherStocks", "rOptions"):
    g(_s).content = _ORDER_ROUTING
    g(_s).type_name = "OrderRoutingType"
g("rMonthly").content = Seq(
    [
        one(g("year")),
        one(g("mon")),
        opt(g("rSP500")),
        opt(g("rOtherStocks")),
        opt(g("rOptions")),
    ]
)
A1_ROOT = g("heldOrderRoutingPublicReport")
A1_ROOT.content = Seq(
    [
        one(g("version")),
        one(g("bd")),
        one(g("year")),
        one(g("qtr")),
        opt(g("timestamp")),
        Occ(g("rMonthly"), 1, 3),
    ]
)
A1_ROOT.uniques = (Unique("orderRoutingReport_month", ("rMonthly",), ("mon",)),)

# 606(b)(1)
g("transaction").content = Seq([one(g("date")), one(g("time"))])
g("route").content = Seq(
    [
        Choice([Seq([one(g("venueName")), opt(g("mic"))]), one(g("mic"))]),
        opt(g("mpid")),
        opt(g("transaction"), None),
    ]
)
g("order").content = Seq([one(g("orderId")), one(g("directed")), opt(g("route"), None)])
_ORDER_LIST = Seq([opt(g("order"), None)])
B1_ROOT = g("heldExemptNotHeldOrderRoutingCustomerReport")
B1_ROOT.content = Seq(
    [
        one(g("version")),
        one(g("customer")),
        one(g("bd")),
        opt(g("timestamp")),
        one(g("startDate")),
        one(g("endDate")),
        opt(Element("held", content=_ORDER_LIST, type_name="ORDER_LIST")),
        opt(Element("notHeldExempt", content=_ORDER_LIST, type_name="ORDER_LIST")),
        opt(Element("options", content=_ORDER_LIST, type_name="ORDER_LIST")),
    ]
)
B1_ROOT.uniques = (
    Unique("uniqueHeldOrderId", ("held", "order"), ("orderId",)),
    Unique("uniqueNotHeldExemptOrderId", ("notHeldExempt", "order"), ("orderId",)),
    Unique("uniqueOptionsOrderId", ("options", "order"), ("orderId",)),
)

# 606(b)(3)
B3_VENUE_NUMERIC: tuple[tuple[str, str], ...] = (
    ("routedShr", "ShrType"),
    ("iocRoutedShr", "ShrType"),
    ("furtherRoutableShr", "ShrType"),
    ("orderSizeShr", "ShrType"),
    ("executedShr", "ShrType"),
    ("filledPct", "PctOrNmType"),
    ("fillSizeShr", "ShrType"),
    ("netFeeOrRebateCph", "CphType"),
    ("midpointShr", "ShrType"),
    ("midpointPct", "PctOrNmType"),
    ("nearsideShr", "ShrType"),
    ("nearsidePct", "PctOrNmType"),
    ("farsideShr", "ShrType"),
    ("farsidePct", "PctOrNmType"),
    ("providedLiqudityShr", "ShrType"),
    ("providedLiquidityPct", "PctOrNmType"),
    ("orderDurationMsec", "MsecType"),
    ("providedLiquidityNetCph", "CphType"),
    ("removedLiquidityShr", "ShrType"),
    ("removedLiquidityPct", "PctOrNmType"),
    ("removedLiquidityNetCph", "CphType"),
)
g("ioiExposedVenue").content = Seq([one(g("venueName")), opt(g("mic")), opt(g("mpid"))])
g("iVenue").content = Seq(
    [
        one(g("venueName")),
        opt(g("services")),
        opt(g("mic")),
        opt(g("mpid")),
        *[one(local(n, t)) for n, t in B3_VENUE_NUMERIC],
    ]
)
g("hMonthly").content = Seq(
    [
        one(g("year")),
        one(g("mon")),
        one(g("sentShr")),
        one(g("executedAsPrincipalShr")),
        one(g("ioiExposedOrd")),
        one(
            Element(
                "ioiExposedVenueList",
                content=Seq([opt(g("ioiExposedVenue"), None)]),
                type_name="IOI_EXPOSED_VENUE_LIST",
            )
        ),
        one(
            Element(
                "routingVenueList",
                content=Seq([opt(g("iVenue"), None)]),
                type_name="ROUTING_VENUE_LIST",
            )
        ),
    ]
)
_OH_DND = Seq([opt(g("hMonthly"), 7)])
B3_ROOT = g("notHeldOrderHandlingCustomerReport")
B3_ROOT.content = Seq(
    [
        one(g("version")),
        one(g("customer")),
        one(g("bd")),
        opt(g("timestamp")),
        one(g("startDate")),
        one(g("endDate")),
        opt(
            Element(
                "hDirected",
                content=_OH_DND,
                uniques=(Unique("hdMonthly", ("hMonthly",), ("mon",)),),
                type_name="OH_DND_DATA",
            )
        ),
        opt(
            Element(
                "hNondirected",
                content=_OH_DND,
                uniques=(Unique("hndMonthly", ("hMonthly",), ("mon",)),),
                type_name="OH_DND_DATA",
            )
        ),
    ]
)

GLOBAL_ELEMENTS: dict[str, Element] = dict(_globals)
REPORT_ROOTS = {
    "heldOrderRoutingPublicReport": "a1",
    "heldExemptNotHeldOrderRoutingCustomerReport": "b1",
    "notHeldOrderHandlingCustomerReport": "b3",
}

# ------------------------------------------------------------------ content-model automaton


class Nfa:
    """A content model compiled to an automaton over child element names (DFA-cached)."""

    def __init__(self, particle: Particle) -> None:
        self.eps: list[list[int]] = []
        self.trans: list[list[tuple[str, Occ, int]]] = []
        self.start = self._new()
        self.final = self._build(particle, self.start)
        self.initial = self._closure({self.start})
        self._cache: dict[tuple[frozenset[int], str], tuple[frozenset[int], Occ] | None] = {}

    def _new(self) -> int:
        self.eps.append([])
        self.trans.append([])
        return len(self.eps) - 1

    def _build(self, p: Particle, s: int) -> int:
        if isinstance(p, Seq):
            for item in p.items:
                s = self._build(item, s)
            return s
        if isinstance(p, Choice):
            end = self._new()
            for item in p.items:
                self.eps[self._build(item, s)].append(end)
            return end
        for _ in range(p.min):
            n = self._new()
            self.trans[s].append((p.element.name, p, n))
            s = n
        if p.max is None:
            loop = self._new()
            self.eps[s].append(loop)
            self.trans[loop].append((p.element.name, p, loop))
            return loop
        end = self._new()
        for _ in range(p.max - p.min):
            self.eps[s].append(end)
            n = self._new()
            self.trans[s].append((p.element.name, p, n))
            s = n
        self.eps[s].append(end)
        return end

    def _closure(self, states: set[int]) -> frozenset[int]:
        stack, seen = list(states), set(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    def step(self, states: frozenset[int], name: str) -> tuple[frozenset[int], Occ] | None:
        key = (states, name)
        if key not in self._cache:
            nxt: set[int] = set()
            occ: Occ | None = None
            for s in states:
                for label, o, target in self.trans[s]:
                    if label == name:
                        nxt.add(target)
                        occ = o
            self._cache[key] = (self._closure(nxt), occ) if occ is not None else None
        return self._cache[key]

    def expected(self, states: frozenset[int]) -> list[str]:
        names: list[str] = []
        for s in sorted(states):
            for label, _, _ in self.trans[s]:
                if label not in names:
                    names.append(label)
        return names

    def accepts(self, states: frozenset[int]) -> bool:
        return self.final in states


def nfa_of(element: Element) -> Nfa:
    if element.nfa is None:
        assert element.content is not None
        element.nfa = Nfa(element.content)
    return element.nfa


# ------------------------------------------------------------------ streaming validation


@dataclass(slots=True)
class Violation:
    """One schema rule broken at one element."""

    rule: str  # the schema rule or type name, e.g. "CphType", "content", "uniqueMics"
    path: str
    message: str
    line: int | None
    tolerable: str | None = None  # lenient rule name when reading may continue


class Frame:
    """Validation state of one open element (complex elements carry more state)."""

    __slots__ = (
        "broken",
        "count",
        "counts",
        "decl",
        "elem",
        "items",
        "keys",
        "label",
        "line",
        "name",
        "repeat",
        "states",
        "texted",
        "values",
    )

    def __init__(
        self, name: str, decl: Element | None, line: int | None, repeat: bool, count: int
    ) -> None:
        self.name = name
        self.decl = decl
        self.line = line
        self.repeat = repeat
        self.count = count
        self.broken = False
        self.texted = False
        self.label: str | None = None
        self.states: frozenset[int] | None = None
        self.values: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.items: list[tuple[str, Any]] = []
        self.keys: dict[str, dict[tuple[Any, ...], int | None]] | None = None

    @property
    def segment(self) -> str:
        if self.label is not None:
            return f"{self.name}[mon={self.label}]"
        return f"{self.name}[{self.count}]" if self.repeat or self.count > 1 else self.name


#: Violations (and warnings) kept per rule; the rest are only counted.
MAX_PER_RULE = 1000
#: Elements whose path segment is labelled by their ``mon`` child.
_LABELLED = {"rMonthly", "hMonthly"}
#: Names that end a unique constraint's selector (only these need key bookkeeping).
_SELECTED = {u.selector[-1] for e in GLOBAL_ELEMENTS.values() for u in e.uniques} | {"hMonthly"}
_ALLOWED_XSI = (f"{{{XSI}}}noNamespaceSchemaLocation", f"{{{XSI}}}schemaLocation")
_XSI_TYPE = f"{{{XSI}}}type"


class Walker:
    """Validate a parsed stream element by element, calling ``on_end`` to build values.

    ``on_end`` maps an element name to a function ``(frame, stack) -> value``; the value is
    stored in the parent frame's ``items``. Finished subtrees are freed as the walk goes, so
    memory does not grow with the document.
    """

    def __init__(
        self, on_end: dict[str, Callable[[Frame, list[Frame]], Any]] | None = None
    ) -> None:
        self.violations: list[Violation] = []
        self.counts: dict[str, int] = {}  # per rule ("!rule" for errors), incl. those not kept
        self.stack: list[Frame] = []
        self.on_end = on_end or {}

    def path(self, upto: int | None = None) -> str:
        frames = self.stack[1:upto]
        return "/".join(f.segment for f in frames) or (self.stack[0].name if self.stack else "")

    def add(
        self,
        rule: str,
        message: str,
        line: int | None,
        tolerable: str | None = None,
        path: str | None = None,
    ) -> None:
        key = rule if tolerable else f"!{rule}"  # errors are never crowded out by warnings
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        if count > MAX_PER_RULE:  # keep memory bounded on files with a deviation everywhere
            return
        self.violations.append(
            Violation(rule, self.path() if path is None else path, message, line, tolerable)
        )

    def start(self, elem: Any) -> None:
        name = elem.tag
        if not isinstance(name, str):
            name = str(name)
        stack = self.stack
        if not stack:
            decl = GLOBAL_ELEMENTS.get(name)
            frame = Frame(name, decl, elem.sourceline, False, 1)
            stack.append(frame)
            if decl is None:
                self.add(
                    "root",
                    f"element '{name}' is not a Rule 606 report root (expected one "
                    f"of {', '.join(REPORT_ROOTS)})",
                    frame.line,
                )
        else:
            parent = stack[-1]
            count = parent.counts.get(name, 0) + 1
            parent.counts[name] = count
            decl = None
            repeat = False
            pdecl = parent.decl
            if pdecl is None:
                pass
            elif pdecl.simple is not None:
                if not parent.broken:
                    self.add(
                        "simple-content",
                        f"element '{name}' is not allowed inside "
                        f"'{parent.name}', which holds only a value",
                        elem.sourceline,
                    )
                    parent.broken = True
            elif parent.states is not None and not parent.broken:
                assert pdecl.nfa is not None
                stepped = pdecl.nfa.step(parent.states, name)
                if stepped is None:
                    expected = pdecl.nfa.expected(parent.states)
                    hint = (
                        f"expected {' or '.join(expected)}"
                        if expected
                        else "expected no more elements"
                    )
                    self.add(
                        "content",
                        f"element '{name}' is not expected here; {hint}",
                        elem.sourceline,
                        path=self._child_path(name, count),
                    )
                    parent.broken = True
                    decl = GLOBAL_ELEMENTS.get(name)
                else:
                    parent.states, occ = stepped
                    decl = occ.element
                    repeat = occ.max is None or occ.max > 1
            else:
                decl = GLOBAL_ELEMENTS.get(name)
            frame = Frame(name, decl, elem.sourceline, repeat, count)
            stack.append(frame)
        if decl is not None and decl.content is not None:
            frame.states = nfa_of(decl).initial
            if decl.uniques:
                frame.keys = {u.name: {} for u in decl.uniques}
        if elem.keys():
            self._attributes(elem, frame)

    def _child_path(self, name: str, count: int) -> str:
        seg = f"{name}[{count}]" if count > 1 else name
        return f"{self.path()}/{seg}" if len(self.stack) > 1 else seg

    def _attributes(self, elem: Any, frame: Frame) -> None:
        for attr in elem.keys():
            if attr in _ALLOWED_XSI:
                continue
            shown = attr.replace(f"{{{XSI}}}", "xsi:")
            if attr == _XSI_TYPE and frame.decl is not None:
                qname = elem.get(attr)
                target = frame.decl.substitute(qname, elem.nsmap)
                if target is None:
                    named = frame.decl.type_name or "an anonymous type"
                    self.add(
                        "xsi:type",
                        f"xsi:type '{qname}' on '{frame.name}' is neither its "
                        f"type ({named}) nor validly derived from it",
                        frame.line,
                    )
                else:
                    frame.decl = target
            elif attr.startswith(f"{{{XSI}}}"):
                self.add(
                    "attribute",
                    f"attribute '{shown}' is not allowed on '{frame.name}' "
                    "(the schema declares no element nillable)",
                    frame.line,
                )
            else:
                self.add(
                    "attribute",
                    f"attribute '{shown}' is not allowed on '{frame.name}'",
                    frame.line,
                    tolerable="unknown-attribute",
                )

    def end(self, elem: Any) -> None:
        stack = self.stack
        frame = stack[-1]
        decl = frame.decl
        parent = stack[-2] if len(stack) > 1 else None
        if decl is not None and decl.simple is not None:
            if not frame.broken:
                try:
                    value = decl.simple.parse(elem.text or "")
                except Invalid as bad:
                    self.add(
                        decl.simple.name,
                        f"{frame.name}: {bad.message}",
                        frame.line,
                        bad.tolerable or None,
                    )
                    if bad.tolerable is None:
                        stack.pop()
                        return
                    value = bad.fallback
                if parent is not None:
                    parent.values[frame.name] = value
                    if frame.name == "mon" and value is not None and parent.name in _LABELLED:
                        parent.label = str(value)
            stack.pop()
            return
        if decl is not None and decl.content is not None:
            if not frame.texted:
                text = elem.text
                if text and text.strip(_WS):
                    self._text_error(frame, text, len(stack))
                else:
                    for child in elem:
                        tail = child.tail
                        if tail and tail.strip(_WS):
                            self._text_error(frame, tail, len(stack))
                            break
            if not frame.broken and frame.states is not None:
                nfa = decl.nfa
                assert nfa is not None
                if not nfa.accepts(frame.states):
                    missing = nfa.expected(frame.states)
                    self.add(
                        "content",
                        f"element '{frame.name}' is incomplete: expected {' or '.join(missing)}",
                        frame.line,
                    )
        if frame.name in _SELECTED:
            self._check_uniques(frame)
        handler = self.on_end.get(frame.name)
        if handler is not None and decl is not None:
            built = handler(frame, stack)
            if built is not None and parent is not None:
                parent.items.append((frame.name, built))
        stack.pop()
        # free what is done: this element's children and its finished previous siblings
        del elem[:]
        prev = elem.getprevious()
        if prev is not None:
            parent_elem = elem.getparent()
            while prev is not None:
                tail = prev.tail
                if tail and tail.strip(_WS) and parent is not None:
                    self._text_error(parent, tail, len(stack))
                parent_elem.remove(prev)
                prev = elem.getprevious()

    def _text_error(self, frame: Frame, text: str, depth: int) -> None:
        if frame.decl is None or frame.decl.content is None or frame.texted:
            return
        frame.texted = True
        snippet = text.strip(_WS)[:40]
        self.add(
            "text",
            f"text '{snippet}' is not allowed inside '{frame.name}', which holds only elements",
            frame.line,
            path=self.path(depth),
        )

    def _check_uniques(self, frame: Frame) -> None:
        depth = len(self.stack) - 1
        for scope_index in range(depth - 1, max(depth - 3, -1), -1):
            scope = self.stack[scope_index]
            if scope.keys is None or scope.decl is None:
                continue
            rel = tuple(f.name for f in self.stack[scope_index + 1 : depth + 1])
            for unique in scope.decl.uniques:
                if unique.selector != rel:
                    continue
                if any(frame.values.get(f) is None for f in unique.fields):
                    continue  # an absent field takes the element out of the constraint
                key = tuple(frame.values[f] for f in unique.fields)
                table = scope.keys[unique.name]
                if key in table:
                    shown = ", ".join(f"{f}={v!r}" for f, v in zip(unique.fields, key, strict=True))
                    tolerable = (
                        None
                        if unique.name.lower().endswith("monthly") or unique.name.endswith("_month")
                        else "duplicate-key"
                    )
                    self.add(
                        unique.name,
                        f"duplicate {shown}: already used by the element at line {table[key]} "
                        f"(unique constraint {unique.name})",
                        frame.line,
                        tolerable,
                    )
                else:
                    table[key] = frame.line  # a line, not a path: cheap for every key
