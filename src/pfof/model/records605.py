"""Typed records of the three SEC Rule 605 report formats, holding exact ``Decimal`` values.

* legacy monthly report (2001 - July 2026): 26 pipe-delimited fields, no header;
* amended detailed monthly report (605(a)(1), from the August 2026 report on): 55
  pipe-delimited fields with a header row;
* amended summary report (605(a)(2)): 18 comma-separated fields with a header row.

``None`` stands for an empty field. Share counts of the legacy report are integers; the
amended reports allow fractional shares, so their quantities are ``Decimal``. A
``ParsedFile`` holds the records read from one file with every :class:`pfof.errors.Issue`
found (file line, column name, rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Generic, Literal, TypeVar

from pfof.errors import Issue, IssueVerdict

Num = Decimal | None
R = TypeVar("R")

# ---------------------------------------------------------------- parsed files


@dataclass(slots=True)
class ParsedFile(IssueVerdict, Generic[R]):
    """Records read from one Rule 605 file, the file line of each, and every issue found."""

    records: list[R] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


# ---------------------------------------------------------------- legacy (26 fields)


class LegacyOrderType(IntEnum):
    """Legacy order-type codes (field 5)."""

    MARKET = 11
    MARKETABLE_LIMIT = 12
    INSIDE_QUOTE_LIMIT = 13
    AT_QUOTE_LIMIT = 14
    NEAR_QUOTE_LIMIT = 15


#: Legacy order-size codes (field 6) -> share range [low, high) (high None = open).
LEGACY_ORDER_SIZES: dict[int, tuple[int, int | None]] = {
    21: (100, 500),
    22: (500, 2000),
    23: (2000, 5000),
    24: (5000, None),
}


@dataclass(frozen=True, slots=True)
class LegacyRecord:
    """One line of a legacy Rule 605 report (one symbol x order type x order size).

    Field order is the file's order. Dollar figures have 4 decimals in real files, times
    (seconds) 1 decimal; fields 18-26 apply to order types 11 and 12 only.
    """

    participant: str
    market_center: str
    yyyymm: int
    symbol: str
    order_type: int
    order_size: int
    covered_orders: int | None
    covered_shares: int | None
    cancelled_shares: int | None
    exec_shares_mc: int | None
    exec_shares_away: int | None
    exec_0_9s: int | None
    exec_10_29s: int | None
    exec_30_59s: int | None
    exec_60_299s: int | None
    exec_5_30m: int | None
    avg_realized_spread: Num
    avg_effective_spread: Num
    pi_shares: int | None
    pi_avg_amount: Num
    pi_avg_time: Num
    atq_shares: int | None
    atq_avg_time: Num
    otq_shares: int | None
    otq_avg_amount: Num
    otq_avg_time: Num


LegacyKind = Literal["str", "yyyymm", "code", "int", "usd", "sec"]

#: (attribute, kind) in file order; "usd" = dollars (4 dp), "sec" = seconds (1 dp).
LEGACY_FIELDS: tuple[tuple[str, LegacyKind], ...] = (
    ("participant", "str"),
    ("market_center", "str"),
    ("yyyymm", "yyyymm"),
    ("symbol", "str"),
    ("order_type", "code"),
    ("order_size", "code"),
    ("covered_orders", "int"),
    ("covered_shares", "int"),
    ("cancelled_shares", "int"),
    ("exec_shares_mc", "int"),
    ("exec_shares_away", "int"),
    ("exec_0_9s", "int"),
    ("exec_10_29s", "int"),
    ("exec_30_59s", "int"),
    ("exec_60_299s", "int"),
    ("exec_5_30m", "int"),
    ("avg_realized_spread", "usd"),
    ("avg_effective_spread", "usd"),
    ("pi_shares", "int"),
    ("pi_avg_amount", "usd"),
    ("pi_avg_time", "sec"),
    ("atq_shares", "int"),
    ("atq_avg_time", "sec"),
    ("otq_shares", "int"),
    ("otq_avg_amount", "usd"),
    ("otq_avg_time", "sec"),
)

#: Time-to-execution buckets of the legacy report (fields 12-16).
LEGACY_TIME_BUCKETS: tuple[str, ...] = (
    "exec_0_9s",
    "exec_10_29s",
    "exec_30_59s",
    "exec_60_299s",
    "exec_5_30m",
)

#: Fields 18-26: reported for market and marketable limit orders only.
LEGACY_MARKETABLE_ONLY: tuple[str, ...] = tuple(name for name, _ in LEGACY_FIELDS[17:])

# ---------------------------------------------------------------- amended detailed (55 fields)

DetailedKind = Literal["str", "yyyymm", "int", "dec"]

#: (header, attribute, kind) in file order. Meanings after field 44 and the time-bucket
#: bounds are reconstructed from filers' files and not yet confirmed (see docs/rule605.md).
DETAILED_FIELDS: tuple[tuple[str, str, DetailedKind], ...] = (
    ("DsgntParticipant", "participant", "str"),
    ("RprtEntityCd", "entity", "str"),
    ("RptDate", "rpt_date", "yyyymm"),
    ("Symbol", "symbol", "str"),
    ("LotSizeFlag", "lot_size", "str"),
    ("OrderSize", "order_size", "int"),
    ("OrderType", "order_type", "str"),
    ("CvrdOrderCnt", "covered_orders", "int"),
    ("CvrdOrderSize", "covered_notional", "dec"),
    ("CvrdOrderQty", "covered_qty", "dec"),
    ("CvrdOrderCnclQty", "cancelled_qty", "dec"),
    ("CvrdOrderExctdQty", "executed_qty", "dec"),
    ("CvrdOrderExctdAwayQty", "executed_away_qty", "dec"),
    ("CvrdOrderQtyto100microsec", "qty_to_100us", "dec"),
    ("CvrdOrderQtyto1millisec", "qty_to_1ms", "dec"),
    ("CvrdOrderQtyto10millisec", "qty_to_10ms", "dec"),
    ("CvrdOrderQtyto1sec", "qty_to_1s", "dec"),
    ("CvrdOrderQtyto10sec", "qty_to_10s", "dec"),
    ("CvrdOrderQtyto30sec", "qty_to_30s", "dec"),
    ("CvrdOrderQtyto5min", "qty_to_5m", "dec"),
    ("CvrdOrderQtyOthr", "qty_after_5m", "dec"),
    ("AvgRealSprd50millisec", "realized_spread_50ms", "dec"),
    ("AvgRealSprdPct50millisec", "realized_spread_pct_50ms", "dec"),
    ("AvgRealSprd1sec", "realized_spread_1s", "dec"),
    ("AvgRealSprdPct1sec", "realized_spread_pct_1s", "dec"),
    ("AvgRealSprd15sec", "realized_spread_15s", "dec"),
    ("AvgRealSprdPct15sec", "realized_spread_pct_15s", "dec"),
    ("AvgRealSprd1min", "realized_spread_1m", "dec"),
    ("AvgRealSprdPct1min", "realized_spread_pct_1m", "dec"),
    ("AvgRealSprd5min", "realized_spread_5m", "dec"),
    ("AvgRealSprdPct5min", "realized_spread_pct_5m", "dec"),
    ("ExctdOrderMidPtAvg", "avg_midpoint", "dec"),
    ("ExctdOrderAvgQuotSprd", "avg_quoted_spread", "dec"),
    ("AvgEffctvSprd", "avg_effective_spread", "dec"),
    ("AvgEffctvSprdPct", "avg_effective_spread_pct", "dec"),
    ("AvgEFQPct", "avg_eq_ratio", "dec"),
    ("ExctdPIOrdersQty", "pi_qty", "dec"),
    ("ExctdPIOrdWghtdAvgAmtPerShare", "pi_avg_amount", "dec"),
    ("ExctdPIOrdWghtdAvgTime", "pi_avg_time_ms", "dec"),
    ("ExctdOrderAtQuotQty", "at_quote_qty", "dec"),
    ("ExctdAtQuotOrdWghtdAvgTime", "at_quote_avg_time_ms", "dec"),
    ("ExctdOrderOutQuotQty", "outside_quote_qty", "dec"),
    ("ExctdOutQuotOrdWghtdAvgAmt", "outside_quote_avg_amount", "dec"),
    ("ExctdOutQuotOrdWghtdAvgTime", "outside_quote_avg_time_ms", "dec"),
    ("ExctdPIOrderRltvBestPrQty", "pi_vs_best_qty", "dec"),
    ("ExctdPIOrderRltvBestPrWghtdAvg", "pi_vs_best_avg_amount", "dec"),
    ("ExctdOrderAtBestPrQty", "at_best_qty", "dec"),
    ("ExctdOrderOutBestPrQty", "outside_best_qty", "dec"),
    ("ExctdOrderOutBestPrWghtdAvgAmt", "outside_best_avg_amount", "dec"),
    ("ExctdOrderSizeBnchmrkQty", "size_benchmark_qty", "dec"),
    ("ExctdSIOutsizedQty", "size_improved_qty", "dec"),
    ("FilledOrderCnt", "filled_orders", "int"),
    ("RegExctdOrderQty", "reg_executed_qty", "dec"),
    ("RegExctdOrderOnXchngQty", "reg_executed_on_exchange_qty", "dec"),
    ("FilledOrderWghtdAvgTime", "filled_avg_time_ms", "dec"),
)

#: Time-to-execution buckets of the detailed report (fields 14-21), upper bounds in ns
#: (None = open). Bounds follow the header names and are unconfirmed.
DETAILED_TIME_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("qty_to_100us", 100_000),
    ("qty_to_1ms", 1_000_000),
    ("qty_to_10ms", 10_000_000),
    ("qty_to_1s", 1_000_000_000),
    ("qty_to_10s", 10_000_000_000),
    ("qty_to_30s", 30_000_000_000),
    ("qty_to_5m", 300_000_000_000),
    ("qty_after_5m", None),
)


class LotSize(StrEnum):
    """Detailed-report lot-size category (field 5). Only ``ROUND`` is seen in filers' files."""

    FRACTIONAL = "FRACTIONAL"  # less than one share
    ODD = "ODD"  # at least one share, below one round lot
    ROUND = "ROUND"


@dataclass(frozen=True, slots=True)
class DetailedRecord:
    """One line of an amended detailed Rule 605 report (symbol x lot size x size x type)."""

    participant: str
    entity: str
    rpt_date: int
    symbol: str
    lot_size: str
    order_size: int
    order_type: str
    covered_orders: int | None
    covered_notional: Num
    covered_qty: Num
    cancelled_qty: Num
    executed_qty: Num
    executed_away_qty: Num
    qty_to_100us: Num
    qty_to_1ms: Num
    qty_to_10ms: Num
    qty_to_1s: Num
    qty_to_10s: Num
    qty_to_30s: Num
    qty_to_5m: Num
    qty_after_5m: Num
    realized_spread_50ms: Num
    realized_spread_pct_50ms: Num
    realized_spread_1s: Num
    realized_spread_pct_1s: Num
    realized_spread_15s: Num
    realized_spread_pct_15s: Num
    realized_spread_1m: Num
    realized_spread_pct_1m: Num
    realized_spread_5m: Num
    realized_spread_pct_5m: Num
    avg_midpoint: Num
    avg_quoted_spread: Num
    avg_effective_spread: Num
    avg_effective_spread_pct: Num
    avg_eq_ratio: Num
    pi_qty: Num
    pi_avg_amount: Num
    pi_avg_time_ms: Num
    at_quote_qty: Num
    at_quote_avg_time_ms: Num
    outside_quote_qty: Num
    outside_quote_avg_amount: Num
    outside_quote_avg_time_ms: Num
    pi_vs_best_qty: Num
    pi_vs_best_avg_amount: Num
    at_best_qty: Num
    outside_best_qty: Num
    outside_best_avg_amount: Num
    size_benchmark_qty: Num
    size_improved_qty: Num
    filled_orders: int | None
    reg_executed_qty: Num
    reg_executed_on_exchange_qty: Num
    filled_avg_time_ms: Num


# ---------------------------------------------------------------- amended summary (18 fields)


class SummaryOrderType(StrEnum):
    MARKET = "M"
    MARKETABLE_LIMIT = "ML"


#: Notional order-size buckets of the amended rule: code -> [low, high) in dollars.
#: 199999 is the combined row of every order below $200,000.
NOTIONAL_BUCKETS: dict[int, tuple[int, int | None]] = {
    0: (0, 250),
    250: (250, 1_000),
    1000: (1_000, 5_000),
    5000: (5_000, 10_000),
    10000: (10_000, 20_000),
    20000: (20_000, 50_000),
    50000: (50_000, 200_000),
    200000: (200_000, None),
}
ALL_BELOW_200K = 199999
#: Row order of a summary report: sizes ascending with the combined row before $200k+.
SUMMARY_SIZE_ORDER: tuple[int, ...] = (0, 250, 1000, 5000, 10000, 20000, 50000, 199999, 200000)


@dataclass(frozen=True, slots=True)
class SummaryRecord:
    """One line of an amended Rule 605(a)(2) summary report.

    Percentages are fractions (0.25 = 25 %) as in the SEC's sample; times are milliseconds.
    """

    participant: str
    entity: str
    rpt_date: int
    sp500: bool
    order_size: int
    order_type: str
    avg_order_qty: Num
    avg_order_notional: Num
    avg_midpoint: Num
    pct_at_quote_or_better: Num
    pct_price_improved: Num
    avg_pct_price_improvement: Num
    avg_effective_spread_pct: Num
    avg_quoted_spread_pct: Num
    avg_eq_ratio: Num
    realized_spread_pct_15s: Num
    realized_spread_pct_1m: Num
    avg_execution_time_ms: Num


#: (header, attribute) of the summary report in file order.
SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("DsgntParticipant", "participant"),
    ("RprtEntityCd", "entity"),
    ("RptDate", "rpt_date"),
    ("Sp500", "sp500"),
    ("OrderSize", "order_size"),
    ("OrderType", "order_type"),
    ("AvgOrderQty", "avg_order_qty"),
    ("AvgOrderSize", "avg_order_notional"),
    ("ExctdOrderMidPtAvg", "avg_midpoint"),
    ("PctExctdAtQuotOrBetter", "pct_at_quote_or_better"),
    ("PctExctdPI", "pct_price_improved"),
    ("WghtdAvgPctPI", "avg_pct_price_improvement"),
    ("AvgEffctvSprdPct", "avg_effective_spread_pct"),
    ("AvgPctQuotSprd", "avg_quoted_spread_pct"),
    ("AvgEFQPct", "avg_eq_ratio"),
    ("AvgRealSprdPct15sec", "realized_spread_pct_15s"),
    ("AvgRealSprdPct1min", "realized_spread_pct_1m"),
    ("WghtdAvgExctnTime", "avg_execution_time_ms"),
)


def field_names(record_type: type) -> tuple[str, ...]:
    """Attribute names of a record dataclass, in declaration order."""
    return tuple(f.name for f in fields(record_type))
