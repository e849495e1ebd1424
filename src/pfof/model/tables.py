"""Arrow schemas of the canonical tables (see DESIGN.md).

Every producer (the simulator, a firm's own logs, real market data) writes these tables and
every engine kernel reads them. Times are UTC nanoseconds. Prices are float64 dollars in
the engine; money that is reported (payments) is held as exact decimals.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ns", tz="UTC")
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
        ("held", pa.bool_()),
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

CANONICAL: dict[str, pa.Schema] = {
    "quotes": QUOTES,
    "nbbo": NBBO,
    "orders": ORDERS,
    "routes": ROUTES,
    "fills": FILLS,
    "cancels": CANCELS,
    "arrangements": ARRANGEMENTS,
    "payments": PAYMENTS,
}
