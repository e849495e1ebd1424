"""Small ORDER_QUALITY / ORDERS / FILLS tables for the Rule 605 aggregation tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from pfof.model.tables import FILLS, ORDER_QUALITY, ORDERS

#: Monday 3 August 2026, 10:00 New York time.
T0 = dt.datetime(2026, 8, 3, 14, 0, tzinfo=dt.UTC)


def ms(value: float) -> dt.timedelta:
    return dt.timedelta(microseconds=round(value * 1000))


def quality_row(**overrides: Any) -> dict[str, Any]:
    """A filled market buy of 100 shares at 10.01 against a 10.00 x 10.02 NBBO (5 ms)."""
    row: dict[str, Any] = {f.name: None for f in ORDER_QUALITY}
    row.update(
        order_id="o1",
        broker="B",
        customer_id="c1",
        symbol="AAPL",
        section="sp500",
        side="buy",
        order_type="market",
        quantity=100.0,
        received_ts=T0,
        nbbo_bid=10.0,
        nbbo_ask=10.02,
        nbbo_state="normal",
        quoted_spread=0.02,
        executed_qty=100.0,
        avg_price=10.01,
        first_fill_ts=T0 + ms(5),
        last_fill_ts=T0 + ms(5),
        effective_spread=0.0,
        price_improvement_per_share=0.01,
        quote_position="inside",
        realized_spread_15s=0.004,
        realized_spread_1m=0.006,
    )
    row.update(overrides)
    return row


def quality_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ORDER_QUALITY)


def orders_table(rows: list[dict[str, Any]]) -> pa.Table:
    full = []
    for r in rows:
        base: dict[str, Any] = {f.name: None for f in ORDERS}
        base.update(r)
        full.append(base)
    return pa.Table.from_pylist(full, schema=ORDERS)


def fills_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=FILLS)
