"""Enumerations shared by every layer (sections, order types, sides, report kinds)."""

from __future__ import annotations

from enum import StrEnum


class Section(StrEnum):
    """Rule 606(a)(1) report sections."""

    SP500 = "sp500"
    OTHER_STOCKS = "other_stocks"
    OPTIONS = "options"


class OrderType(StrEnum):
    """Rule 606(a)(1) order-type buckets."""

    MARKET = "market"
    MARKETABLE_LIMIT = "marketable_limit"
    NON_MARKETABLE_LIMIT = "non_marketable_limit"
    OTHER = "other"


class SpecialHandling(StrEnum):
    """Customer special-handling instructions an order log lists in ``orders.special_handling``
    (space-separated). Any instruction, these or another code (e.g. for non-regular
    settlement), takes the order out of Rule 605's covered orders (Staff Legal Bulletin 13)."""

    ALL_OR_NONE = "AON"
    NOT_HELD = "NH"
    AT_THE_OPEN = "OPG"  # also MOO / LOO
    AT_THE_CLOSE = "CLS"  # also MOC / LOC


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"


class PaymentBasis(StrEnum):
    """How a PFOF arrangement is priced."""

    PER_SHARE = "per_share"
    PER_CONTRACT = "per_contract"
    SPREAD_FRACTION = "spread_fraction"


class ReportKind(StrEnum):
    """The three SEC Rule 606 XML report types."""

    A1 = "a1"
    B1 = "b1"
    B3 = "b3"
