"""Rule 605's covered orders and amended order types (engine.covered605 via aggregate605).

E2: orders received outside regular trading hours and orders with special handling
(opening/closing, not held, all or none, other instructions) are not covered orders.
E4: only the amended rule's ten order-type codes are written; non-marketable limit and stop
orders count once executable; the simulator's stop orders (606 "other") reach the report.
Every expectation is worked out by hand in the comments beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.aggregate605 import detailed_rows, summary_rows
from pfof.engine.covered605 import AMENDED_ORDER_TYPES, regular_sessions
from pfof.engine.quality import order_quality
from pfof.model.records605 import DetailedRecord
from pfof.model.tables import CANCELS, NBBO, ORDERS
from support.tables605 import T0, ms, orders_table, quality_row, quality_table

MONTH = 202608
NY = dt.timezone(dt.timedelta(hours=-4))  # New York in August (EDT)


def _detailed(rows: list[dict[str, Any]], **kw: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Covered orders per order-type code, and the exclusions by reason."""
    month = kw.pop("month", MONTH)
    result = detailed_rows(quality_table(rows), participant="T", entity="X", month=month, **kw)
    codes: dict[str, int] = {}
    for r in result.rows:
        assert isinstance(r, DetailedRecord)
        codes[r.order_type] = codes.get(r.order_type, 0) + r.covered_orders
    return codes, dict(result.excluded)


def _at(hour: int, minute: int, second: float = 0, day: int = 3) -> dt.datetime:
    """A New York time on a day of August 2026 (3 August is a Monday)."""
    whole = int(second)
    micro = round((second - whole) * 1e6)
    return dt.datetime(2026, 8, day, hour, minute, whole, micro, tzinfo=NY)


# ---------------------------------------------------------------- E2: covered orders


def test_orders_received_outside_regular_trading_hours_are_left_out() -> None:
    def order(order_id: str, received: dt.datetime) -> dict[str, Any]:
        fill = received + ms(5)
        return quality_row(
            order_id=order_id, received_ts=received, first_fill_ts=fill, last_fill_ts=fill
        )

    rows = [
        order("open", _at(9, 30)),  # the opening instant is inside the session
        order("last", _at(15, 59, 59.999)),
        order("pre", _at(9, 29, 59.999)),  # before the open
        order("close", _at(16, 0)),  # the close itself is outside [9:30, 16:00)
        order("saturday", _at(11, 0, day=8)),
    ]
    codes, excluded = _detailed(rows)
    assert codes == {"MXXNN": 2}
    assert excluded == {"outside_regular_hours": 3}


def test_early_close_and_holiday_follow_the_nyse_calendar() -> None:
    et = dt.timezone(dt.timedelta(hours=-5))  # New York in November (EST)
    rows = [
        # Friday 27 November 2026 closes at 13:00; Thanksgiving (26th) has no session
        quality_row(order_id="before", received_ts=dt.datetime(2026, 11, 27, 12, 59, tzinfo=et)),
        quality_row(order_id="after", received_ts=dt.datetime(2026, 11, 27, 13, 0, tzinfo=et)),
        quality_row(order_id="holiday", received_ts=dt.datetime(2026, 11, 26, 10, 0, tzinfo=et)),
    ]
    codes, excluded = _detailed(rows, month=202611)
    assert codes == {"MXXNN": 1}
    assert excluded == {"outside_regular_hours": 2}
    # the calendar itself: one session on those two days, 9:30 to 13:00 EST
    (session,) = regular_sessions(dt.date(2026, 11, 26), dt.date(2026, 11, 27)).rows()
    open_utc = dt.datetime(2026, 11, 27, 14, 30, tzinfo=dt.UTC)
    close_utc = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
    assert session == (
        dt.date(2026, 11, 27),
        int(open_utc.timestamp()) * 10**9,
        int(close_utc.timestamp()) * 10**9,
    )


def _handling_orders() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    names = ["nh", "nh_code", "aon", "opg", "cls", "moc", "cash", "plain", "unstated", "stop_nh"]
    rows = [quality_row(order_id=n) for n in names]
    orders = [
        {"order_id": "nh", "held": False},  # not held
        {"order_id": "nh_code", "held": True, "special_handling": "NH"},
        {"order_id": "aon", "held": True, "special_handling": "AON"},
        {"order_id": "opg", "held": True, "time_in_force": "OPG"},  # market-on-open style
        {"order_id": "cls", "held": True, "time_in_force": "cls"},  # case does not matter
        {"order_id": "moc", "held": True, "special_handling": "moc"},
        {"order_id": "cash", "held": True, "special_handling": "CASH"},  # cash settlement
        {"order_id": "plain", "held": True, "time_in_force": "DAY"},
        {"order_id": "unstated"},  # held not stated: a held order
        # the first reason listed wins: not held before the stop
        {"order_id": "stop_nh", "held": False, "stop_price": 10.5},
    ]
    return rows, orders


def test_special_handling_orders_are_left_out_each_with_its_reason() -> None:
    rows, orders = _handling_orders()
    codes, excluded = _detailed(rows, orders=orders_table(orders))
    assert codes == {"MXXNN": 2}  # plain and unstated
    assert excluded == {
        "not_held": 3,  # nh, nh_code, stop_nh
        "all_or_none": 1,
        "opening_closing": 3,  # opg, cls, moc
        "special_handling": 1,  # cash
    }
    summary = summary_rows(
        quality_table(rows), participant="T", entity="X", month=MONTH, orders=orders_table(orders)
    )
    assert [(r.order_type, r.order_size) for r in summary.rows] == [("M", 1000), ("M", 199999)]
    assert summary.rows[0].avg_order_qty == 100  # type: ignore[union-attr]
    assert summary.excluded == excluded


def test_an_order_log_without_the_special_handling_column_still_reads() -> None:
    rows, orders = _handling_orders()
    old_log = orders_table(orders).drop_columns(["special_handling"])
    assert "special_handling" not in old_log.column_names
    codes, excluded = _detailed(rows, orders=old_log)
    # without the column: nh_code, aon, moc and cash are ordinary held orders
    assert codes == {"MXXNN": 6}
    assert excluded == {"not_held": 2, "opening_closing": 2}


# ---------------------------------------------------------------- E4: order types


def test_only_the_amended_rule_order_type_codes_are_written() -> None:
    rows = [
        quality_row(order_id="mkt_ioc"),
        quality_row(order_id="ml_ioc", order_type="marketable_limit", limit_price=10.05),
        quality_row(
            order_id="stop_limit_ioc", order_type="marketable_limit", limit_price=10.05
        ),  # a marketable stop limit IOC: LYNYY before
        quality_row(
            order_id="nm_stop_mob", order_type="non_marketable_limit", limit_price=10.01
        ),  # buy limit 10.01 = midpoint, with a stop: LNYNY before
        quality_row(
            order_id="nm_ioc_mob",
            order_type="non_marketable_limit",
            limit_price=10.01,
            executed_qty=0.0,
            first_fill_ts=None,
            last_fill_ts=None,
            quote_position=None,
        ),
    ]
    orders = orders_table(
        [
            {"order_id": "mkt_ioc", "time_in_force": "IOC"},
            {"order_id": "ml_ioc", "time_in_force": "FOK"},
            {"order_id": "stop_limit_ioc", "time_in_force": "IOC", "stop_price": 10.04},
            {"order_id": "nm_stop_mob", "time_in_force": "DAY", "stop_price": 10.5},
            {"order_id": "nm_ioc_mob", "time_in_force": "IOC"},
        ]
    )
    codes, excluded = _detailed(rows, orders=orders)
    assert excluded == {}
    assert codes == {
        "MXXNN": 1,  # a market order whatever its time in force (no MXXYN)
        "LYNYN": 1,  # marketable IOC (FOK too)
        "LYNNY": 1,  # stop limit, marketable: no IOC letter for stop orders
        "LNNNY": 1,  # stop limit, not marketable: no midpoint-or-better letter either
        "LNYYN": 1,  # an IOC limit order counts at receipt, executed or not
    }
    assert set(codes) <= set(AMENDED_ORDER_TYPES)
    summary = summary_rows(
        quality_table(rows), participant="T", entity="X", month=MONTH, orders=orders
    )
    # the summary's M and ML are the detailed MXXNN and LYNNN orders: the market IOC order
    assert [r.order_type for r in summary.rows] == ["M", "M"]
    assert summary.excluded == {"not_summary_order_type": 4}


def _nbbo(quotes: list[tuple[dt.datetime, float, float]], symbol: str = "AAPL") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"symbol": symbol, "ts": t, "bid": b, "bid_size": 100, "ask": a, "ask_size": 100}
            for t, b, a in quotes
        ],
        schema=NBBO,
    )


#: The NBBO of AAPL on 3 August 2026 around T0 (10:00 New York).
QUOTES = [
    (T0 - dt.timedelta(seconds=1), 10.00, 10.02),
    (T0 + dt.timedelta(seconds=60), 9.98, 10.00),  # the ask falls to 10.00
    (T0 + dt.timedelta(seconds=120), 10.00, 10.02),
    (T0 + dt.timedelta(seconds=180), 10.03, 10.05),  # bid up to 10.03, ask up to 10.05
    (T0 + dt.timedelta(seconds=240), 10.02, 10.04),  # ask back to 10.04
    (T0 + dt.timedelta(hours=6, seconds=1), 9.88, 9.90),  # 16:00:01, after the close
]


def _resting(order_id: str, **kw: Any) -> dict[str, Any]:
    """A buy non-marketable limit order received at T0, never executed."""
    values: dict[str, Any] = {
        "order_id": order_id,
        "order_type": "non_marketable_limit",
        "executed_qty": 0.0,
        "first_fill_ts": None,
        "last_fill_ts": None,
        "quote_position": None,
        "effective_spread": None,
        "price_improvement_per_share": None,
    }
    values.update(kw)
    return quality_row(**values)


def test_non_marketable_limit_orders_count_once_executable() -> None:
    rows = [
        _resting("reach", limit_price=10.00),  # ask 10.00 at T0+60 s: executable
        _resting("sell_reach", side="sell", limit_price=10.03),  # bid 10.03 at T0+180 s
        _resting("never", limit_price=9.95),  # the ask never falls to 9.95
        _resting("late", limit_price=9.90),  # the ask reaches 9.90 only after the close
        # never reached by the NBBO, but executed (against hidden liquidity) at T0+30 s
        _resting(
            "filled",
            limit_price=9.95,
            executed_qty=100.0,
            first_fill_ts=T0 + dt.timedelta(seconds=30),
            last_fill_ts=T0 + dt.timedelta(seconds=30),
            quote_position="inside",
            effective_spread=-0.12,
            price_improvement_per_share=0.07,
        ),
    ]
    codes, excluded = _detailed(rows, nbbo=_nbbo(QUOTES))
    # buy limits 10.00 and 9.95 are below the 10.01 midpoint, the sell limit 10.03 above it
    assert codes == {"LNNNN": 3}  # reach, sell_reach, filled
    assert excluded == {"never_executable": 2}
    # without quotes only an execution shows that an order became executable
    codes, excluded = _detailed(rows)
    assert codes == {"LNNNN": 1}
    assert excluded == {"never_executable": 4}
    # cancelled at T0+30 s, before the ask fell to its limit (T0+60 s): never executable;
    # sell_reach's cancellation at T0+200 s comes after the bid reached it (T0+180 s)
    cancels = pa.Table.from_pylist(
        [
            {"order_id": "reach", "ts": T0 + dt.timedelta(seconds=30), "quantity": 100.0},
            {"order_id": "sell_reach", "ts": T0 + dt.timedelta(seconds=200), "quantity": 100.0},
        ],
        schema=CANCELS,
    )
    codes, excluded = _detailed(rows, nbbo=_nbbo(QUOTES), cancels=cancels)
    assert codes == {"LNNNN": 2}
    assert excluded == {"never_executable": 3}


def test_stop_orders_count_once_triggered_whatever_their_606_bucket() -> None:
    def stop(order_id: str, **kw: Any) -> dict[str, Any]:
        return _resting(order_id, order_type="other", **kw)  # as the simulator labels them

    rows = [
        stop("hit"),  # buy stop 10.05: the ask reaches 10.05 at T0+180 s
        stop("miss", side="sell"),  # sell stop 9.50: the bid never falls that far
        stop("limit_marketable", limit_price=10.06),  # at the trigger, ask 10.05 <= 10.06
        stop("limit_later", limit_price=10.04),  # ask 10.05 > 10.04 at the trigger, 10.04 later
        stop("limit_never", limit_price=10.00),  # triggered, but the ask never returns to 10.00
    ]
    orders = orders_table(
        [
            {"order_id": "hit", "stop_price": 10.05},
            {"order_id": "miss", "stop_price": 9.50},
            {"order_id": "limit_marketable", "stop_price": 10.05},
            {"order_id": "limit_later", "stop_price": 10.05},
            {"order_id": "limit_never", "stop_price": 10.05},
        ]
    )
    codes, excluded = _detailed(rows, orders=orders, nbbo=_nbbo(QUOTES))
    assert codes == {"MXXNY": 1, "LYNNY": 1, "LNNNY": 1}
    assert excluded == {"never_executable": 2}  # miss, limit_never
    # an "other" order without a stop price (or without the orders table) is left out
    codes, excluded = _detailed(rows, nbbo=_nbbo(QUOTES))
    assert codes == {} and excluded == {"other_order_type": 5}


def test_simulated_stop_and_on_open_close_orders_reach_the_report_as_the_rule_says(
    sim_market: Any,
) -> None:
    day = sim_market.days()[0]
    t = sim_market.day_tables(day, ("orders", "fills", "nbbo", "cancels"))
    orders, fills, nbbo = t["orders"], t["fills"], t["nbbo"]
    quality = order_quality(orders, fills, nbbo)
    month = day.year * 100 + day.month
    common = {"participant": "T", "entity": "X", "month": month, "orders": orders, "fills": fills}
    result = detailed_rows(quality, nbbo=nbbo, cancels=t["cancels"], **common)
    # the simulator fills a resting order as soon as the NBBO reaches it, so the NBBO rule
    # (bounded by the customers' cancellations) and the fills agree on which orders became
    # executable; without the cancellations the NBBO would count cancelled orders too
    assert result.excluded["never_executable"] > 0
    assert detailed_rows(quality, **common).excluded == result.excluded
    no_cancels = detailed_rows(quality, nbbo=nbbo, **common).excluded
    assert no_cancels["never_executable"] < result.excluded["never_executable"]
    # what the rule leaves out, counted straight from the simulated orders
    stocks = pc.is_in(orders.column("section"), pa.array(["sp500", "other_stocks"]))
    tif = pc.utf8_upper(orders.column("time_in_force"))
    open_close = pc.and_(stocks, pc.is_in(tif, pa.array(["OPG", "CLS"])))
    not_held = pc.and_(pc.and_(stocks, pc.invert(open_close)), pc.invert(orders.column("held")))
    assert result.excluded.get("opening_closing", 0) == pc.sum(open_close).as_py() > 0
    assert result.excluded.get("not_held", 0) == pc.sum(not_held).as_py()
    # every simulated "other" order is a stop, on-open or on-close order: none is dropped
    assert "other_order_type" not in result.excluded
    stops = pc.and_(stocks, pc.is_valid(orders.column("stop_price")))
    assert pc.sum(stops).as_py() > 0
    codes = {r.order_type for r in result.rows}
    assert "MXXNY" in codes and codes <= set(AMENDED_ORDER_TYPES)
    # the simulator triggers a stop when the NBBO reaches its stop price and fills it then,
    # so the covered stop orders are the held stock stop orders with a fill
    filled = pc.is_in(orders.column("order_id"), fills.column("order_id"))
    expected = pc.sum(pc.and_(pc.and_(stops, orders.column("held")), filled)).as_py()
    stop_rows = [r for r in result.rows if r.order_type == "MXXNY"]
    assert sum(r.covered_orders for r in stop_rows) == expected > 0  # type: ignore[union-attr]


def test_orders_schema_keeps_special_handling_optional() -> None:
    field = ORDERS.field("special_handling")
    assert field.nullable and field.metadata == {b"pfof.optional": b"true"}
