"""Arrow schemas of the canonical tables (see DESIGN.md).

Every producer (the simulator, a firm's own logs, real market data) writes these tables and
every engine kernel reads them. Times are UTC nanoseconds. Prices are float64 dollars in
the engine; money that is reported (payments) is held as exact decimals.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ns", tz="UTC")
#: Field metadata of a column producers may leave out (added later); readers fill it with nulls.
OPTIONAL = {b"pfof.optional": b"true"}
PRICE = pa.float64()
#: Exact money: up to 10^20 dollars with 6 decimals (micro-dollars).
MONEY = pa.decimal128(26, 6)

QUOTES = pa.schema(
    [
        ("symbol", pa.string()),
        ("ts", TS),
        ("venue", pa.string()),  # ISO 10383 MIC
        ("bid", PRICE),
        ("bid_size", pa.int64()),
        ("ask", PRICE),
        ("ask_size", pa.int64()),
    ]
)

NBBO = pa.schema(
    [
        ("symbol", pa.string()),
        ("ts", TS),
        ("bid", PRICE),  # null when the bid side is empty (one-sided quote)
        ("bid_size", pa.int64()),
        ("ask", PRICE),  # null when the ask side is empty
        ("ask_size", pa.int64()),
    ]
)

#: What a consolidated source (an SIP NBBO feed, a vendor's consolidated BBO) gives: the
#: ``NBBO`` columns plus the MIC of the venue at the best bid and at the best ask, null when
#: the source does not say (``formats.market_data.read_quotes``).
NBBO_VENUES = pa.schema(
    [
        *NBBO,
        ("bid_venue", pa.string()),
        ("ask_venue", pa.string()),
    ]
)

#: Trades printed on the tape (market data, every participant's prints), not an investor's own
#: executions. ``size`` is float64 because some feeds report fractional shares.
TRADES = pa.schema(
    [
        ("symbol", pa.string()),
        ("ts", TS),
        ("venue", pa.string()),  # ISO 10383 MIC of the reporting venue; null when unknown
        ("price", PRICE),
        ("size", pa.float64()),  # shares (or option contracts)
        ("conditions", pa.string()),  # the source's sale-condition codes, space-separated
        ("correction", pa.int32()),  # the source's correction code (0 = regular); null if none
    ]
)

ORDERS = pa.schema(
    [
        ("order_id", pa.string()),
        ("broker", pa.string()),
        ("customer_id", pa.string()),
        ("received_ts", TS),
        ("symbol", pa.string()),
        ("section", pa.string()),  # model.enums.Section
        ("side", pa.string()),  # model.enums.Side
        ("quantity", pa.float64()),  # shares (fractional allowed) or option contracts
        ("order_type", pa.string()),  # model.enums.OrderType
        ("limit_price", PRICE),
        ("stop_price", PRICE),
        ("time_in_force", pa.string()),  # DAY, IOC, GTC, OPG, CLS
        ("directed", pa.bool_()),
        ("held", pa.bool_()),  # false = not held
        # customer special-handling codes, space-separated (model.enums.SpecialHandling:
        # AON, NH, OPG, CLS, ...); null = none. Optional: logs written before it read as null.
        pa.field("special_handling", pa.string(), metadata=OPTIONAL),
    ]
)

ROUTES = pa.schema(
    [
        ("order_id", pa.string()),
        ("seq", pa.int32()),
        ("venue", pa.string()),
        ("routed_ts", TS),
        ("quantity", pa.float64()),
    ]
)

FILLS = pa.schema(
    [
        ("order_id", pa.string()),
        ("seq", pa.int32()),
        ("venue", pa.string()),
        ("exec_ts", TS),
        ("quantity", pa.float64()),
        ("price", PRICE),
    ]
)

CANCELS = pa.schema(
    [
        ("order_id", pa.string()),
        ("ts", TS),
        ("quantity", pa.float64()),
    ]
)

ARRANGEMENTS = pa.schema(
    [
        ("broker", pa.string()),
        ("venue", pa.string()),
        ("section", pa.string()),
        ("order_type", pa.string()),
        ("basis", pa.string()),  # model.enums.PaymentBasis
        ("rate", pa.decimal128(18, 8)),  # $/share, $/contract, or a fraction of the spread
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),  # inclusive; null = open-ended
    ]
)

PAYMENTS = pa.schema(
    [
        ("broker", pa.string()),
        ("venue", pa.string()),
        ("month", pa.date32()),  # first day of the month
        ("section", pa.string()),
        ("order_type", pa.string()),
        ("amount", MONEY),  # USD, positive = paid by the venue to the broker
    ]
)


def with_optional_columns(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with each optional column of ``schema`` (field metadata :data:`OPTIONAL`)
    that it lacks appended as nulls, so tables written before the column existed still read.

    >>> old = pa.table({"order_id": ["o1"]})
    >>> with_optional_columns(old, ORDERS).column("special_handling").to_pylist()
    [None]
    """
    for f in schema:
        if f.name not in table.column_names and (f.metadata or {}).get(b"pfof.optional"):
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    return table


CANONICAL: dict[str, pa.Schema] = {
    "quotes": QUOTES,
    "nbbo": NBBO,
    "orders": ORDERS,
    "routes": ROUTES,
    "fills": FILLS,
    "cancels": CANCELS,
    "arrangements": ARRANGEMENTS,
    "payments": PAYMENTS,
    "trades": TRADES,
}

#: Amended Rule 605 time horizons after execution, in nanoseconds, with column suffixes.
HORIZONS_NS: dict[str, int] = {
    "50ms": 50_000_000,
    "1s": 1_000_000_000,
    "15s": 15_000_000_000,
    "1m": 60_000_000_000,
    "5m": 300_000_000_000,
}

#: Per-order execution quality (one row per order), produced by ``engine.quality``.
#: Per-share dollar amounts are signed so that positive is good for the customer where the
#: name says "improvement"; spreads are positive when the customer paid. Null where a
#: metric is undefined (no fill, no two-sided NBBO at receipt, ...). docs/metrics.md has
#: the formulas.
ORDER_QUALITY = pa.schema(
    [
        ("order_id", pa.string()),
        ("broker", pa.string()),
        ("customer_id", pa.string()),
        ("symbol", pa.string()),
        ("section", pa.string()),
        ("side", pa.string()),
        ("order_type", pa.string()),
        ("quantity", pa.float64()),
        ("limit_price", PRICE),
        ("received_ts", TS),
        ("nbbo_bid", PRICE),  # NBBO in force at receipt
        ("nbbo_ask", PRICE),
        ("nbbo_bid_size", pa.int64()),
        ("nbbo_ask_size", pa.int64()),
        ("nbbo_state", pa.string()),  # normal / locked / crossed / one_sided / empty / stale
        ("quoted_spread", PRICE),  # ask - bid at receipt, $/share
        ("executed_qty", pa.float64()),
        ("avg_price", PRICE),  # volume-weighted execution price
        ("first_fill_ts", TS),
        ("last_fill_ts", TS),
        ("time_to_first_fill_ms", pa.float64()),
        ("time_to_completion_ms", pa.float64()),
        ("fill_rate", pa.float64()),  # executed_qty / quantity
        ("effective_spread", PRICE),  # 2 * side * (avg_price - mid at receipt), $/share
        ("eq_ratio", pa.float64()),  # effective_spread / quoted_spread
        ("price_improvement_per_share", PRICE),  # side-signed vs the NBBO far side at receipt
        ("price_improvement_usd", PRICE),  # per share x executed_qty
        ("quote_position", pa.string()),  # at / inside / outside (of the NBBO at receipt)
        ("realized_spread_50ms", PRICE),  # 2 * side * (avg_price - mid at exec + h)
        ("realized_spread_1s", PRICE),
        ("realized_spread_15s", PRICE),
        ("realized_spread_1m", PRICE),
        ("realized_spread_5m", PRICE),
        ("price_impact_50ms", PRICE),  # 2 * side * (mid at exec + h - mid at receipt)
        ("price_impact_1s", PRICE),
        ("price_impact_15s", PRICE),
        ("price_impact_1m", PRICE),
        ("price_impact_5m", PRICE),
        # shares of the fills with a valid midpoint at exec + h: the realized spread's weight.
        # Optional: quality tables and stores written before them read as null.
        pa.field("realized_qty_50ms", pa.float64(), metadata=OPTIONAL),
        pa.field("realized_qty_1s", pa.float64(), metadata=OPTIONAL),
        pa.field("realized_qty_15s", pa.float64(), metadata=OPTIONAL),
        pa.field("realized_qty_1m", pa.float64(), metadata=OPTIONAL),
        pa.field("realized_qty_5m", pa.float64(), metadata=OPTIONAL),
    ]
)

CANONICAL["order_quality"] = ORDER_QUALITY
