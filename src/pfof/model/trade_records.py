"""Vocabulary of a trade audit: an investor's trades as read, and what the audit says of each.

``INVESTOR_TRADES`` is the table :func:`pfof.formats.trades.read_trades` produces from the
trades template (docs/audit.md) and :mod:`pfof.engine.trade_audit` reads: one row per
execution the investor (or a broker's desk) reports, prices and quantities as exact decimals,
times as UTC nanoseconds. :class:`TradePosition` and :class:`AuditFlag` are the words the
audit's output uses.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

from pfof.model.tables import TS

__all__ = [
    "INVESTOR_TRADES",
    "TRADE_DECIMAL",
    "AuditFlag",
    "TradeOrderType",
    "TradePosition",
]

#: Exact prices and quantities: 26 integer digits and 12 decimals.
TRADE_DECIMAL = pa.decimal128(38, 12)

INVESTOR_TRADES = pa.schema(
    [
        ("trade_id", pa.string()),
        ("symbol", pa.string()),  # upper case; options in compact OCC form
        ("side", pa.string()),  # buy / sell
        ("quantity", TRADE_DECIMAL),  # shares, or contracts for options
        ("price", TRADE_DECIMAL),  # $ per share (per share of the premium for options)
        ("order_ts", TS),  # when the broker received the order; null if unknown
        ("execution_ts", TS),  # when it executed; null if unknown
        ("order_type", pa.string()),  # TradeOrderType; null if not given
        ("limit_price", TRADE_DECIMAL),
        ("broker", pa.string()),
        ("venue", pa.string()),  # execution venue: MIC, MPID or name
        ("line", pa.int64()),  # line (CSV) or row (Parquet) of the source, 1-based
    ]
)


class TradeOrderType(StrEnum):
    """Order types a trades file may state; ``limit`` is classified marketable or not by the
    audit against the NBBO at order time."""

    MARKET = "market"
    LIMIT = "limit"
    MARKETABLE_LIMIT = "marketable_limit"
    NON_MARKETABLE_LIMIT = "non_marketable_limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    OTHER = "other"


class TradePosition(StrEnum):
    """Where a fill stands against the NBBO in force when the order arrived."""

    INSIDE = "inside"  # better than the far side (price improvement)
    AT = "at"  # at the far side
    OUTSIDE = "outside"  # worse than the far side
    NO_QUOTE = "no_quote"  # no usable quote: symbol or time outside the data, one-sided, ...


class AuditFlag(StrEnum):
    """Caveats attached to one audited trade (docs/audit.md, "Flags")."""

    #: the row has no order time: the NBBO is the one at execution, not at receipt
    EXECUTION_TIME = "execution_time"
    #: the quote data has no quote for the symbol at all
    SYMBOL_NOT_IN_QUOTES = "symbol_not_in_quotes"
    #: the trade precedes the symbol's first quote in the data
    BEFORE_QUOTES = "before_quotes"
    #: the trade is later than the last record of the quote sources holding its symbol
    AFTER_QUOTES = "after_quotes"
    #: the latest quote is from an earlier New York trading date
    EARLIER_DAY_QUOTE = "earlier_day_quote"
    #: the trade is at or after 09:30 New York and the latest quote, of its date, is stamped
    #: before the 09:30 open
    PRE_OPEN_QUOTE = "pre_open_quote"
    #: the latest quote is older than the maximum age asked for
    STALE_QUOTE = "stale_quote"
    #: the NBBO in force has neither a bid nor an offer
    EMPTY_QUOTE = "empty_quote"
    #: the NBBO in force has one side only: no midpoint, so no effective spread or E/Q, and
    #: no comparison at all when the missing side is the one the trade is measured against
    ONE_SIDED_QUOTE = "one_sided_quote"
    #: bid equals ask: the quoted spread is 0, so E/Q is undefined
    LOCKED_QUOTE = "locked_quote"
    #: bid above ask: measured against the far side and the midpoint, but no quoted spread
    #: or E/Q (a negative spread would flip E/Q's sign)
    CROSSED_QUOTE = "crossed_quote"
    #: the trade's time is outside the NYSE regular session of its New York date (pre-market,
    #: post-close, a weekend or holiday): measured against that day's extended-hours NBBO,
    #: which is thin; Rule 605 covers regular-hours orders only
    EXTENDED_HOURS = "extended_hours"
    #: a limit order that was not marketable when it arrived: it rested, and the figures
    #: compare its fill with a quote it was not meant to take
    NON_MARKETABLE_LIMIT = "non_marketable_limit"
    #: no S&P 500 list was given: a stock is counted in 606's "other stocks" section
    SECTION_ASSUMED = "section_assumed"
    #: the row states no order type: counted as a market order for the payment estimate
    ORDER_TYPE_ASSUMED = "order_type_assumed"
    #: a limit order without a limit price or a quote: its 606 order type is unknown
    ORDER_TYPE_UNKNOWN = "order_type_unknown"
    #: the row names no broker: no payment estimate
    NO_BROKER = "no_broker"
    #: the store holds no 606(a)(1) report of the broker for the trade's quarter
    NO_606 = "no_606"
    #: the broker's report has no cell for the trade's section and order type
    NOT_IN_606 = "not_in_606"
    #: the trade's venue is not among the venues of the broker's report
    VENUE_NOT_IN_606 = "venue_not_in_606"
    #: an option trade whose underlying has no usable two-sided quote at the trade's time in
    #: the quote data: no cost in volatility points
    NO_UNDERLYING_QUOTE = "no_underlying_quote"
    #: an option trade whose fill or NBBO midpoint has no implied volatility (a price outside
    #: the no-arbitrage bounds, or at or after expiry): no cost in volatility points
    VOL_NOT_IMPLIED = "vol_not_implied"
