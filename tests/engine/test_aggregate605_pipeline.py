"""From orders, fills and quotes through engine.quality to a valid Rule 605 summary file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from pfof.engine.aggregate605 import detailed_rows, summary_rows
from pfof.engine.quality import order_quality
from pfof.formats.sec605_summary import parse_summary, write_summary
from pfof.model.tables import NBBO
from support.tables605 import T0, fills_table, ms, orders_table


def test_three_orders_aggregate_to_the_expected_summary_and_detailed_rows() -> None:
    orders = orders_table(
        [
            {
                "order_id": "m",
                "broker": "B",
                "customer_id": "c",
                "received_ts": T0,
                "symbol": "A",
                "section": "sp500",
                "side": "buy",
                "quantity": 100.0,
                "order_type": "market",
                "time_in_force": "DAY",
                "directed": False,
                "held": True,
            },
            {
                "order_id": "ml",
                "broker": "B",
                "customer_id": "c",
                "received_ts": T0,
                "symbol": "A",
                "section": "sp500",
                "side": "sell",
                "quantity": 200.0,
                "order_type": "marketable_limit",
                "limit_price": 9.99,
                "time_in_force": "DAY",
                "directed": False,
                "held": True,
            },
            {
                "order_id": "ioc",
                "broker": "B",
                "customer_id": "c",
                "received_ts": T0,
                "symbol": "A",
                "section": "sp500",
                "side": "buy",
                "quantity": 100.0,
                "order_type": "marketable_limit",
                "limit_price": 10.01,
                "time_in_force": "IOC",
                "directed": False,
                "held": True,
            },
        ]
    )
    fills = fills_table(
        [
            {
                "order_id": "m",
                "seq": 0,
                "venue": "SELF",
                "exec_ts": T0 + ms(3),
                "quantity": 100.0,
                "price": 10.0,
            },
            {
                "order_id": "ml",
                "seq": 0,
                "venue": "SELF",
                "exec_ts": T0 + ms(1),
                "quantity": 100.0,
                "price": 9.99,
            },
            {
                "order_id": "ml",
                "seq": 1,
                "venue": "AWAY",
                "exec_ts": T0 + ms(2000),
                "quantity": 100.0,
                "price": 9.99,
            },
        ]
    )
    nbbo = pa.Table.from_pylist(
        [
            {
                "symbol": "A",
                "ts": T0 - dt.timedelta(milliseconds=1),
                "bid": 9.99,
                "bid_size": 5,
                "ask": 10.01,
                "ask_size": 5,
            }
        ],
        schema=NBBO,
    )
    quality = order_quality(orders, fills, nbbo)
    summary = summary_rows(
        quality, participant="T", entity="PFOF", month=202608, orders=orders, fills=fills
    )
    assert summary.excluded == {"not_summary_order_type": 1}  # the IOC order
    text = write_summary(summary.rows)
    assert parse_summary(text.splitlines()).issues == []
    lines = text.split("\r\n")
    # market buy 100 at 10.00 (mid 10.00, improved by 0.01 of 10.01): notional $1,000;
    # eff 0, quoted 0.02/10, PI 0.01/10, realized spreads 0 (the quote never moves), 3 ms
    assert lines[1] == "T,PFOF,202608,Y,1000,M,100,1000,10,1,1,0.001,0,0.002,0,0,0,3"
    # marketable sell 200 at 9.99 (at the bid): eff 0.02/10, RS 0.02/10,
    # time (100 x 1 ms + 100 x 2000 ms) / 200 = 1000.5 ms
    assert lines[3] == "T,PFOF,202608,Y,1000,ML,200,2000,10,1,0,0,0.002,0.002,1,0.002,0.002,1000.5"
    detail = detailed_rows(
        quality,
        participant="T",
        entity="PFOF",
        month=202608,
        orders=orders,
        fills=fills,
        market_center_venues={"SELF"},
    )
    by_type = {r.order_type: r for r in detail.rows}
    assert set(by_type) == {"MXXNN", "LYNNN", "LYNYN"}
    ml = by_type["LYNNN"]
    assert (ml.executed_qty, ml.executed_away_qty) == (100, 100)
    assert (ml.qty_to_1ms, ml.qty_to_10s) == (0, 100)  # 1 ms falls in [1 ms, 10 ms)
    assert ml.qty_to_10ms == 100
    assert ml.avg_effective_spread == Decimal("0.02")
