"""The SEC Rule 606 schema's simple types: lexical parsing and facet checks, one per type.

Each :class:`SimpleType` turns an element's text into its typed value or raises
:class:`Invalid`, restating the patterns, ranges, lengths and enumerations of
``oh-20191231.xsd``. An :class:`Invalid` also says whether lenient reading tolerates the
deviation and what value it keeps, so one parse serves both strict and lenient reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

#: The XML Schema namespace (``xs:string`` and the other built-in types).
XSD_NS = "http://www.w3.org/2001/XMLSchema"
#: The XML Schema instance namespace (``xsi:type``, ``xsi:noNamespaceSchemaLocation``).
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: The characters XML counts as white space.
WHITESPACE = " \t\n\r"


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
class Facets:
    """A simple type's rules restated as XSD facets, from which ``sec606_xsd`` derives a schema.

    ``base`` is the built-in XSD type restricted (``decimal``, ``integer``, ``string``,
    ``date``, ``time``, ``dateTime``); ``or_blank`` adds the blank "not meaningful" member
    (a union with a collapsed empty string).
    """

    base: str
    pattern: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    collapse: bool = False
    enumeration: tuple[str, ...] = ()
    or_blank: bool = False


@dataclass(frozen=True)
class SimpleType:
    """A named XSD simple type: ``parse`` returns the typed value or raises :class:`Invalid`;
    ``facets`` states the same rules as XSD facets."""

    name: str
    doc: str
    parse: Callable[[str], Any]
    facets: Facets | None = None

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
        return datetime(y, mo, d, tzinfo=UTC) + timedelta(days=1)
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def _any_string(raw: str) -> str:
    return raw


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


def _decimal_type(
    name: str,
    doc: str,
    pattern: str | None,
    minimum: Decimal | None,
    maximum: Decimal | None,
    what: str,
    lenient: str,
) -> SimpleType:
    """A decimal restricted by a pattern and a range, or blank: its parser and its facets."""
    return SimpleType(
        name,
        doc,
        _or_blank(_decimal_restricted(pattern, minimum, maximum, what, lenient)),
        Facets("decimal", pattern, minimum, maximum, or_blank=True),
    )


def _integer_type(name: str, doc: str, minimum: int, maximum: int, what: str) -> SimpleType:
    return SimpleType(
        name,
        doc,
        _integer(minimum, maximum, what),
        Facets("integer", minimum=Decimal(minimum), maximum=Decimal(maximum)),
    )


def _string_type(
    name: str, doc: str, min_len: int, max_len: int | None, collapse_ws: bool, what: str
) -> SimpleType:
    return SimpleType(
        name,
        doc,
        _string(min_len, max_len, collapse_ws, what),
        Facets("string", min_length=min_len, max_length=max_len, collapse=collapse_ws),
    )


def _enum_type(name: str, doc: str, values: tuple[str, ...], what: str) -> SimpleType:
    return SimpleType(name, doc, _enum(values, what), Facets("string", enumeration=values))


def _code_type(name: str, doc: str, pattern: str, what: str, lenient: str) -> SimpleType:
    return SimpleType(
        name, doc, _code(pattern, what, lenient), Facets("string", pattern, or_blank=True)
    )


_PCT = "a percentage between 0.00 and 100.00 with at least two decimals (PctType)"
_CPH = "a number with at least four decimals (Decimal4Type, cents per hundred shares)"

#: The schema's simple types by name (anonymous ones named after their element).
SIMPLE_TYPES: dict[str, SimpleType] = {
    t.name: t
    for t in (
        _decimal_type(
            "PctOrNmType",
            _PCT + ", or blank",
            r"[0-9]*\.[0-9]{2,}",
            Decimal(0),
            Decimal(100),
            _PCT,
            "pct-decimals",
        ),
        _decimal_type(
            "CphType",
            _CPH + ", or blank",
            r"-?[0-9]*\.[0-9]{4}[0-9]*",
            None,
            None,
            _CPH,
            "cph-decimals",
        ),
        SimpleType(
            "UsdType",
            "an amount in US dollars, or blank",
            _or_blank(_decimal),
            Facets("decimal", or_blank=True),
        ),
        _decimal_type(
            "ShrType",
            "a non-negative number of shares, or blank",
            None,
            Decimal(0),
            None,
            "a non-negative number",
            "",
        ),
        _decimal_type(
            "OrdType",
            "a non-negative whole number, or blank",
            r"[0-9]+",
            None,
            None,
            "a non-negative whole number",
            "",
        ),
        _decimal_type(
            "MsecType",
            "a non-negative whole number of milliseconds, or blank",
            r"[0-9]+",
            None,
            None,
            "a non-negative whole number",
            "",
        ),
        _enum_type("version", "1.2 or 1.3", ("1.2", "1.3"), "schema version"),
        _string_type("BrokerDealerNameType", "1-80 characters", 1, 80, True, "bd"),
        _string_type("CustomerNameType", "0-80 characters", 0, 80, True, "customer"),
        _string_type("VenueNameType", "1-80 characters", 1, 80, True, "a venue name"),
        _integer_type("YearType", "a year 2000-2099", 2000, 2099, "year"),
        _integer_type("QuarterType", "a quarter 1-4", 1, 4, "quarter"),
        _integer_type("MonthType", "a month 1-12", 1, 12, "month"),
        SimpleType(
            "timestamp",
            "YYYY-MM-DDThh:mm:ssZ",
            _parse_datetime,
            Facets("dateTime", _DATETIME_RE.pattern),
        ),
        SimpleType("date", "YYYY-MM-DD", _parse_date, Facets("date", _DATE_RE.pattern)),
        SimpleType("time", "hh:mm:ss", _parse_time, Facets("time", _TIME_RE.pattern)),
        _code_type(
            "mic",
            "an ISO 10383 MIC of 4 uppercase letters or digits, or blank",
            r"[A-Z0-9]{4}",
            "a MIC (exactly four uppercase letters or digits)",
            "mic-format",
        ),
        _code_type(
            "mpid",
            "an MPID of 4-5 uppercase letters or digits, or blank",
            r"[A-Z0-9]{4,5}",
            "an MPID (four or five uppercase letters or digits)",
            "mpid-format",
        ),
        _enum_type("directed", "Y or N", ("N", "Y"), "directed flag"),
        _enum_type("ServicesType", "PRV or EV/SRV", ("PRV", "EV/SRV"), "services"),
        _string_type("orderId", "a non-empty identifier", 1, None, False, "orderId"),
        SimpleType("string", "any text", _any_string, Facets("string")),
    )
}

#: Schema types with a name (``xsi:type`` may name them); the others are anonymous.
NAMED_TYPES = frozenset(
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
