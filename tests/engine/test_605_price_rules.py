"""Issue 8, part 1: the Rule 605 price rules E1, E3, E5 and E6 (docs/rule605.md, "Definitions
and sources"), each on a small market whose expected figures are worked out by hand below.

All orders are market buys of a $10 stock received in August 2026 during regular hours, so
they are covered orders of one detailed-report cell (round lot, $1,000-$5,000 bucket, MXXNN).
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Context, Decimal
from typing import Any

import pyarrow as pa
import pytest

from pfof.app.measure import measure_quality
from pfof.engine.aggregate605 import detailed_rows, summary_rows
from pfof.engine.quality import order_quality
from pfof.model.records605 import DetailedRecord, SummaryRecord
from pfof.model.tables import FILLS, NBBO, ORDERS
from support.tables605 import quality_row, quality_table

NY = dt.timezone(dt.timedelta(hours=-4))  # New York in August (EDT)
OPEN = dt.datetime(2026, 8, 4, 9, 30, tzinfo=NY)  # Tuesday 4 August 2026, the open
T = OPEN + dt.timedelta(minutes=30)  # 10:00, when the orders arrive
MONTH = 202608
D34 = Context(prec=34)


def at(base: dt.datetime, **delta: float) -> dt.datetime:
    return base + dt.timedelta(**delta)


def quote(ts: dt.datetime, bid: float, ask: float) -> dict[str, Any]:
    return {"symbol": "XYZ", "ts": ts, "bid": bid, "bid_size": 5, "ask": ask, "ask_size": 5}


def order(order_id: str, quantity: float = 100.0, received: dt.datetime = T) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "broker": "B",
        "customer_id": "c",
        "received_ts": received,
        "symbol": "XYZ",
        "section": "sp500",
        "side": "buy",
        "quantity": quantity,
        "order_type": "market",
        "limit_price": None,
        "stop_price": None,
        "time_in_force": "DAY",
        "directed": False,
        "held": True,
        "special_handling": None,
    }


def fill(order_id: str, seq: int, ts: dt.datetime, qty: float, price: float) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "seq": seq,
        "venue": "SIMA",
        "exec_ts": ts,
        "quantity": qty,
        "price": price,
    }


def tables(
    orders: list[dict[str, Any]], fills: list[dict[str, Any]], nbbo: list[dict[str, Any]]
) -> tuple[pa.Table, pa.Table, pa.Table]:
    def table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
        return pa.Table.from_pylist(
            [{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema
        )

    return table(orders, ORDERS), table(fills, FILLS), table(nbbo, NBBO)


def quality(orders: list, fills: list, nbbo: list, **kw: Any) -> list[dict[str, Any]]:
    return order_quality(*tables(orders, fills, nbbo), **kw).to_pylist()


def one_detailed(quality_tab: pa.Table, **kw: Any) -> DetailedRecord:
    (row,) = detailed_rows(quality_tab, participant="T", entity="X", month=MONTH, **kw).rows
    assert isinstance(row, DetailedRecord)
    return row


def summary_below_200k(quality_tab: pa.Table, **kw: Any) -> SummaryRecord:
    rows = summary_rows(quality_tab, participant="T", entity="X", month=MONTH, **kw).rows
    (row,) = [r for r in rows if r.order_size == 199999]
    assert isinstance(row, SummaryRecord)
    return row


# ---------------------------------------------------------------- E1: session, not age


def test_e1_a_quote_that_stood_forty_minutes_in_the_session_is_used() -> None:
    """NBBO 9.99 x 10.01 set at 09:35 and unchanged until the 10:15 order (40 minutes):
    a quiet stock's valid quote. Buy 100 at 10.00: effective spread 2 x (10.00 - 10.00) = 0,
    improvement 10.01 - 10.00 = 0.01. The old 5-minute rule called it stale."""
    (row,) = quality(
        [order("o", received=at(T, minutes=15))],
        [fill("o", 0, at(T, minutes=15, milliseconds=5), 100.0, 10.00)],
        [quote(at(OPEN, minutes=5), 9.99, 10.01)],
    )
    assert row["nbbo_state"] == "normal"
    assert row["effective_spread"] == pytest.approx(0.0, abs=1e-12)
    assert row["price_improvement_per_share"] == pytest.approx(0.01)
    assert row["quote_position"] == "inside"


@pytest.mark.parametrize(
    "quote_ts",
    [
        dt.datetime(2026, 8, 3, 15, 59, tzinfo=NY),  # the day before, shortly before its close
        at(OPEN, seconds=-1),  # 09:29:59 the same day: the pre-open
    ],
    ids=["previous_session", "pre_open"],
)
def test_e1_a_quote_of_another_session_or_the_pre_open_is_stale(quote_ts: dt.datetime) -> None:
    (row,) = quality(
        [order("o", received=at(OPEN, seconds=5))],
        [fill("o", 0, at(OPEN, seconds=5, milliseconds=1), 100.0, 10.00)],
        [quote(quote_ts, 9.99, 10.01)],
    )
    assert row["nbbo_state"] == "stale"
    assert row["effective_spread"] is None and row["quote_position"] is None
    assert (row["nbbo_bid"], row["nbbo_ask"]) == (9.99, 10.01)  # still shown


def test_e1_the_open_follows_new_york_clock_changes() -> None:
    """Orders at 09:30:01 New York on Friday 6 March 2026 (EST, UTC-5) and Monday 9 March 2026
    (EDT, UTC-4), in one call (a span that crosses the clock change). A quote 2 s earlier is
    the pre-open's; one 1 s earlier is the session's."""
    est, edt = dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=-4))
    opens = [dt.datetime(2026, 3, 6, 9, 30, tzinfo=est), dt.datetime(2026, 3, 9, 9, 30, tzinfo=edt)]
    for lag, state in ((2, "stale"), (1, "normal")):
        nbbo = []
        for i, opening in enumerate(opens):
            q = quote(at(opening, seconds=1 - lag), 9.99, 10.01)
            nbbo.append(q | {"symbol": f"S{i}"})
        orders = [
            order(f"o{i}", received=at(opening, seconds=1)) | {"symbol": f"S{i}"}
            for i, opening in enumerate(opens)
        ]
        rows = quality(orders, [], nbbo)
        assert [r["nbbo_state"] for r in rows] == [state, state]


def test_e1_an_age_limit_is_only_an_opt_in() -> None:
    orders = [order("o", received=at(T, minutes=15))]
    fills = [fill("o", 0, at(T, minutes=15, milliseconds=5), 100.0, 10.00)]
    nbbo = [quote(at(OPEN, minutes=5), 9.99, 10.01)]  # 40 minutes old at receipt
    (row,) = quality(orders, fills, nbbo, stale_after_ns=60 * 10**9)
    assert row["nbbo_state"] == "stale"
    assert inspect.signature(order_quality).parameters["stale_after_ns"].default is None
    assert inspect.signature(measure_quality).parameters["stale_after_ms"].default == 0


def test_e1_a_horizon_quote_must_belong_to_the_horizon_times_session() -> None:
    """Received and filled at 09:29:59.990 (100 @ 10.00) with a pre-open quote 9.90 x 9.94 and
    the session's first quote 9.96 x 10.00 at 09:30:00. The 50 ms horizon (09:30:00.040)
    sees the session quote: realized 2 x (10.00 - 9.98) = 0.04 on 100 shares. A fill at
    09:29:59.900 has its 50 ms horizon (09:29:59.950) in the pre-open: no realized spread."""
    nbbo = [quote(at(OPEN, seconds=-30), 9.90, 9.94), quote(OPEN, 9.96, 10.00)]
    late, early = (
        quality(
            [order("o", received=at(OPEN, milliseconds=-ms))],
            [fill("o", 0, at(OPEN, milliseconds=-ms), 100.0, 10.00)],
            nbbo,
        )[0]
        for ms in (10, 100)
    )
    assert late["realized_spread_50ms"] == pytest.approx(0.04)
    assert late["realized_qty_50ms"] == 100.0
    assert early["realized_spread_50ms"] is None and early["realized_qty_50ms"] == 0.0
    assert early["realized_spread_1s"] == pytest.approx(0.04)  # 09:29:59.900 + 1 s: session


# ---------------------------------------------------------------- E3: realized-spread weights


def test_e3_order_quality_counts_the_shares_with_a_horizon_quote() -> None:
    """Buy 200: 100 @ 10.00 at 10:00:00.010 and 100 @ 10.02 at 10:00:00.100. NBBO 9.99 x
    10.01 from 09:40, crossed (10.05 x 10.03) from 10:00:00.050 to 10:00:00.140, then
    10.01 x 10.03. At 50 ms the first fill's horizon (.060) is crossed, the second's (.150)
    sees midpoint 10.02: realized 2 x (10.02 - 10.02) = 0 on 100 shares only."""
    nbbo = [
        quote(at(OPEN, minutes=10), 9.99, 10.01),
        quote(at(T, milliseconds=50), 10.05, 10.03),
        quote(at(T, milliseconds=140), 10.01, 10.03),
    ]
    fills = [
        fill("o", 0, at(T, milliseconds=10), 100.0, 10.00),
        fill("o", 1, at(T, milliseconds=100), 100.0, 10.02),
    ]
    (row,) = quality([order("o", 200.0)], fills, nbbo)
    assert row["realized_qty_50ms"] == 100.0
    assert row["realized_spread_50ms"] == pytest.approx(0.0, abs=1e-12)
    # at 1 s both horizons see 10.01 x 10.03: (2 x (10.00 - 10.02) + 2 x 0) / 2 = -0.02
    assert row["realized_qty_1s"] == 200.0
    assert row["realized_spread_1s"] == pytest.approx(-0.02)


def test_e3_realized_spread_keeps_unmeasured_orders_and_weighs_by_valid_shares() -> None:
    """A: 100 shares, receipt quote 10.00 x 10.02, all 100 with a 1-minute quote, realized
    0.02. B: 100 shares with a stale receipt quote (no midpoint), only 50 of its shares with
    a 1-minute quote, realized 0.04. Dollar realized spread: (100 x 0.02 + 50 x 0.04) / 150
    = 4 / 150. The percentage needs the receipt midpoint, so it is A's alone: 0.02 / 10.01.
    The old rule dropped B and weighed A by executed shares: 0.02."""
    rows = [
        quality_row(order_id="A", realized_spread_1m=0.02, realized_qty_1m=100.0),
        quality_row(
            order_id="B",
            nbbo_state="stale",
            quoted_spread=None,
            effective_spread=None,
            price_improvement_per_share=None,
            quote_position=None,
            realized_spread_15s=None,
            realized_spread_1m=0.04,
            realized_qty_1m=50.0,
        ),
    ]
    record = one_detailed(quality_table(rows))
    assert record.covered_orders == 2
    assert record.realized_spread_1m == D34.divide(Decimal(4), Decimal(150))
    assert record.realized_spread_pct_1m == D34.divide(Decimal("0.02"), Decimal("10.01"))
    summary = summary_below_200k(quality_table(rows))
    assert summary.realized_spread_pct_1m == D34.divide(Decimal("0.02"), Decimal("10.01"))


# ---------------------------------------------------------------- E5: crossed markets


def _crossed_market() -> pa.Table:
    """A: buy 100 @ 10.01 against 10.00 x 10.02. C: buy 100 @ 10.03 received while the
    market is crossed, 10.03 x 10.01 (midpoint 10.02, best offer 10.01)."""
    nbbo = [
        quote(at(T, minutes=-1), 10.00, 10.02),
        quote(at(T, seconds=1), 10.03, 10.01),
    ]
    orders = [order("A"), order("C", received=at(T, seconds=2))]
    fills = [
        fill("A", 0, at(T, milliseconds=5), 100.0, 10.01),
        fill("C", 0, at(T, seconds=2, milliseconds=5), 100.0, 10.03),
    ]
    return order_quality(*tables(orders, fills, nbbo))


def test_e5_an_order_received_in_a_crossed_market_has_its_price_figures() -> None:
    c = _crossed_market().to_pylist()[1]
    assert c["nbbo_state"] == "crossed"
    assert c["effective_spread"] == pytest.approx(0.02)  # 2 x (10.03 - 10.02)
    assert c["price_improvement_per_share"] == pytest.approx(-0.02)  # 10.01 - 10.03
    assert c["quote_position"] == "outside"
    assert c["quoted_spread"] is None and c["eq_ratio"] is None  # no negative spread


def test_e5_crossed_orders_count_in_every_price_statistic_but_the_quoted_spread() -> None:
    """Midpoint (10.01 + 10.02) / 2; effective spread (0 + 0.02) / 2 = 0.01; quoted spread
    and E/Q from A alone: 0.02 and 0 / 0.02; improved 100 by 0.01 (A), outside 100 by 0.02
    (C). Summary: effective % = (100 x 0 + 100 x 0.02) / (1001 + 1002) = 2 / 2003; quoted %
    0.02 / 10.01; improvement % (1 - 2) / 2003."""
    record = one_detailed(_crossed_market())
    assert (record.covered_orders, record.executed_qty) == (2, 200)
    assert record.avg_midpoint == Decimal("10.015")
    assert record.avg_effective_spread == Decimal("0.01")
    assert record.avg_quoted_spread == Decimal("0.02") and record.avg_eq_ratio == 0
    assert (record.pi_qty, record.pi_avg_amount) == (100, Decimal("0.01"))
    assert (record.outside_quote_qty, record.outside_quote_avg_amount) == (100, Decimal("0.02"))
    summary = summary_below_200k(_crossed_market())
    assert summary.avg_effective_spread_pct == D34.divide(Decimal(2), Decimal(2003))
    assert summary.avg_quoted_spread_pct == D34.divide(Decimal("0.02"), Decimal("10.01"))
    assert summary.avg_pct_price_improvement == D34.divide(Decimal(-1), Decimal(2003))
    assert summary.pct_price_improved == Decimal("0.5")
    assert summary.avg_eq_ratio == 0


# ---------------------------------------------------------------- E6: each fill by its price


def _two_fill_order() -> tuple[pa.Table, pa.Table]:
    """Buy 200 against 10.00 x 10.02: 100 @ 10.01 after 5 ms (improved by 0.01) and 100 @
    10.04 after 20 ms (0.02 outside). Average 10.025: 0.005 outside as a whole."""
    orders, fills, nbbo = tables(
        [order("o", 200.0)],
        [
            fill("o", 0, at(T, milliseconds=5), 100.0, 10.01),
            fill("o", 1, at(T, milliseconds=20), 100.0, 10.04),
        ],
        [quote(at(T, minutes=-1), 10.00, 10.02)],
    )
    return order_quality(orders, fills, nbbo), fills


def test_e6_each_fill_is_classified_and_averaged_by_its_own_price() -> None:
    quality_tab, fills = _two_fill_order()
    assert quality_tab.column("quote_position").to_pylist() == ["outside"]  # by the average
    record = one_detailed(quality_tab, fills=fills)
    assert (record.pi_qty, record.pi_avg_amount, record.pi_avg_time_ms) == (
        100,
        Decimal("0.01"),
        5,
    )
    assert (record.at_quote_qty, record.at_quote_avg_time_ms) == (0, None)
    assert (
        record.outside_quote_qty,
        record.outside_quote_avg_amount,
        record.outside_quote_avg_time_ms,
    ) == (100, Decimal("0.02"), 20)
    summary = summary_below_200k(quality_tab, fills=fills)
    assert summary.pct_price_improved == Decimal("0.5")
    assert summary.pct_at_quote_or_better == Decimal("0.5")
    # (100 x 0.01 - 100 x 0.02) / (200 x 10.01)
    assert summary.avg_pct_price_improvement == D34.divide(Decimal(-1), Decimal(2002))


def test_e6_without_fills_the_order_is_classified_whole_by_its_average_price() -> None:
    quality_tab, _ = _two_fill_order()
    record = one_detailed(quality_tab)
    assert (record.pi_qty, record.outside_quote_qty) == (0, 200)
    assert record.outside_quote_avg_amount == Decimal("0.005")  # 10.025 - 10.02
    assert record.outside_quote_avg_time_ms == 20  # all shares at the last fill's time
