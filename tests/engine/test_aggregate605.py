"""Amended Rule 605 aggregation (engine.aggregate605): hand-checked tables and a property test
against the plain-Python reference in ``support/reference605.py``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pfof.engine.aggregate605 import detailed_rows, summary_rows
from pfof.formats.sec605_summary import parse_summary, write_summary
from pfof.model.money import round_half_up
from pfof.model.records605 import DetailedRecord, SummaryRecord
from support import reference605 as reference
from support.tables605 import T0, fills_table, ms, orders_table, quality_row, quality_table

MONTH = 202608


def hand_table() -> list[dict[str, Any]]:
    """Six orders whose report figures are worked out by hand in the tests below."""
    return [
        # A: market buy 100 @10.01 vs 10.00 x 10.02: improved by 0.01, 5 ms, notional $1,001
        quality_row(order_id="A"),
        # B: market buy 300 @10.02: at the quote, effective spread 0.02, 20 ms, $3,003
        quality_row(
            order_id="B",
            quantity=300.0,
            executed_qty=300.0,
            avg_price=10.02,
            effective_spread=0.02,
            price_improvement_per_share=0.0,
            quote_position="at",
            last_fill_ts=T0 + ms(20),
            first_fill_ts=T0 + ms(20),
        ),
        # C: marketable limit sell 50 @19.99 vs 20.00 x 20.04: 0.01 outside, 2 s, $1,001
        quality_row(
            order_id="C",
            symbol="MSFT",
            side="sell",
            order_type="marketable_limit",
            quantity=50.0,
            executed_qty=50.0,
            limit_price=20.0,
            nbbo_bid=20.0,
            nbbo_ask=20.04,
            quoted_spread=0.04,
            avg_price=19.99,
            effective_spread=0.06,
            price_improvement_per_share=-0.01,
            quote_position="outside",
            realized_spread_15s=0.02,
            realized_spread_1m=0.03,
            last_fill_ts=T0 + ms(2000),
            first_fill_ts=T0 + ms(2000),
        ),
        # D: market buy 20 of an other NMS stock at 5.00 x 5.02, never executed: $100.20
        quality_row(
            order_id="D",
            symbol="XYZ",
            section="other_stocks",
            nbbo_bid=5.0,
            nbbo_ask=5.02,
            quantity=20.0,
            executed_qty=0.0,
            avg_price=None,
            effective_spread=None,
            price_improvement_per_share=None,
            quote_position=None,
            first_fill_ts=None,
            last_fill_ts=None,
            realized_spread_15s=None,
            realized_spread_1m=None,
        ),
        # E: an options order and F: an order of July (both left out)
        quality_row(order_id="E", section="options"),
        quality_row(
            order_id="F",
            received_ts=T0 - dt.timedelta(days=10),
            first_fill_ts=None,
            last_fill_ts=None,
        ),
    ]


SUMMARY_HEADER = (
    "DsgntParticipant,RprtEntityCd,RptDate,Sp500,OrderSize,OrderType,AvgOrderQty,AvgOrderSize,"
    "ExctdOrderMidPtAvg,PctExctdAtQuotOrBetter,PctExctdPI,WghtdAvgPctPI,AvgEffctvSprdPct,"
    "AvgPctQuotSprd,AvgEFQPct,AvgRealSprdPct15sec,AvgRealSprdPct1min,WghtdAvgExctnTime"
)
# A+B: qty (100+300)/2; notional (1001+3003)/2; mid 10.01; PI 100/400; PI% 1/4004;
# eff% 6/4004; quoted% 8/4004; E/Q 6/8; RS15 1.6/4004; RS1m 2.4/4004; time 6500/400 ms.
AB = "200,2002,10.01,1,0.25,0.00025,0.001499,0.001998,0.75,0.0004,0.000599,16.25"
# C: mid 20.02; PI% -0.01/20.02 = -0.00049950 (half-up: -0.0005); eff% 0.06/20.02;
# quoted% 0.04/20.02; E/Q 1.5; RS15 0.02/20.02; RS1m 0.03/20.02; 2000 ms.
C = "50,1001,20.02,0,0,-0.0005,0.002997,0.001998,1.5,0.000999,0.001499,2000"


def test_hand_worked_orders_give_the_expected_summary_file_and_exclusions() -> None:
    result = summary_rows(quality_table(hand_table()), participant="T", entity="PFOF", month=MONTH)
    assert result.excluded == {"other_month": 1, "not_nms_stock": 1}
    assert write_summary(result.rows).split("\r\n") == [
        SUMMARY_HEADER,
        f"T,PFOF,202608,Y,1000,M,{AB}",
        f"T,PFOF,202608,Y,199999,M,{AB}",
        f"T,PFOF,202608,Y,1000,ML,{C}",
        f"T,PFOF,202608,Y,199999,ML,{C}",
        "",
    ]
    assert parse_summary(write_summary(result.rows).splitlines()).issues == []


def test_unexecuted_bucket_only_on_request() -> None:
    default = summary_rows(quality_table(hand_table()), participant="T", entity="PFOF", month=MONTH)
    assert [r for r in default.rows if not r.sp500] == []  # not requested: no such rows
    result = summary_rows(
        quality_table(hand_table()),
        participant="T",
        entity="PFOF",
        month=MONTH,
        include_unexecuted=True,
    )
    unexecuted = [r for r in result.rows if not r.sp500]
    assert [(r.order_size, r.order_type) for r in unexecuted] == [(0, "M"), (199999, "M")]
    row = unexecuted[0]
    assert (row.avg_order_qty, row.avg_order_notional) == (Decimal(20), Decimal("100.2"))
    assert row.avg_midpoint is None and row.avg_execution_time_ms is None


def _by_key(rows: tuple[DetailedRecord, ...]) -> dict[tuple[str, str, int, str], DetailedRecord]:
    return {(r.symbol, r.lot_size, r.order_size, r.order_type): r for r in rows}


def test_hand_worked_orders_give_the_expected_detailed_rows() -> None:
    rows = _by_key(
        detailed_rows(quality_table(hand_table()), participant="T", entity="PFOF", month=MONTH).rows
    )  # type: ignore[arg-type]
    assert set(rows) == {
        ("AAPL", "ROUND", 1000, "MXXNN"),
        ("MSFT", "ODD", 1000, "LYNNN"),
        ("XYZ", "ODD", 0, "MXXNN"),
    }
    ab = rows[("AAPL", "ROUND", 1000, "MXXNN")]
    assert (ab.covered_orders, ab.covered_notional, ab.covered_qty) == (2, 4004, 400)
    assert (ab.executed_qty, ab.cancelled_qty, ab.executed_away_qty) == (400, 0, 0)
    assert (ab.qty_to_10ms, ab.qty_to_1s, ab.qty_to_1ms) == (100, 300, 0)  # 5 ms, 20 ms
    assert (ab.avg_quoted_spread, ab.avg_effective_spread) == (Decimal("0.02"), Decimal("0.015"))
    assert (ab.pi_qty, ab.pi_avg_amount, ab.pi_avg_time_ms) == (100, Decimal("0.01"), 5)
    assert (ab.at_quote_qty, ab.at_quote_avg_time_ms, ab.outside_quote_qty) == (300, 20, 0)
    assert ab.outside_quote_avg_amount is None
    assert ab.realized_spread_15s == Decimal("0.004") and ab.realized_spread_5m is None
    assert (ab.filled_orders, ab.filled_avg_time_ms) == (2, Decimal("16.25"))
    c = rows[("MSFT", "ODD", 1000, "LYNNN")]  # 50 shares of a $20 stock: below a 100 lot
    assert (c.outside_quote_qty, c.outside_quote_avg_amount) == (50, Decimal("0.01"))
    assert (c.qty_to_10s, c.avg_eq_ratio) == (50, Decimal("1.5"))
    d = rows[("XYZ", "ODD", 0, "MXXNN")]
    assert (d.covered_qty, d.cancelled_qty, d.executed_qty) == (20, 20, 0)
    assert d.avg_midpoint is None and d.filled_orders == 0


def test_orders_get_the_expected_size_bucket_lot_and_order_type_code() -> None:
    rows = [
        quality_row(order_id="s250", quantity=25.0, executed_qty=25.0),  # 25 x 10.01 = 250.25
        # (25 and 24.97 shares of a $10 stock are odd lots)
        quality_row(order_id="s0", quantity=24.97, executed_qty=24.97),  # 249.95
        quality_row(
            order_id="big", quantity=19980.0, executed_qty=19980.0, nbbo_bid=10.0, nbbo_ask=10.02
        ),  # 199,999.80: still below $200,000
        quality_row(
            order_id="huge", quantity=20000.0, executed_qty=20000.0, nbbo_bid=9.99, nbbo_ask=10.01
        ),  # exactly $200,000
        quality_row(order_id="frac", quantity=0.5, executed_qty=0.5),
        quality_row(
            order_id="lot40",
            quantity=40.0,
            executed_qty=40.0,
            nbbo_bid=299.99,
            nbbo_ask=300.01,
            quoted_spread=0.02,
        ),  # 40 shares are a round lot >$250
        quality_row(order_id="ioc", order_type="marketable_limit", limit_price=10.05),
        quality_row(order_id="stop", quantity=200.0, executed_qty=200.0),
        quality_row(
            order_id="mob",
            order_type="non_marketable_limit",
            limit_price=10.01,
            executed_qty=0.0,
            quote_position=None,
        ),
        quality_row(
            order_id="nm",
            order_type="non_marketable_limit",
            limit_price=9.99,
            executed_qty=0.0,
            quote_position=None,
        ),
        quality_row(
            order_id="noquote", nbbo_bid=None, nbbo_ask=None, limit_price=None, quote_position=None
        ),
    ]
    orders = orders_table(
        [
            {"order_id": "ioc", "time_in_force": "IOC"},
            {"order_id": "stop", "stop_price": 10.5, "time_in_force": "DAY"},
        ]
    )
    table = quality_table(rows)
    detail = detailed_rows(table, participant="T", entity="X", month=MONTH, orders=orders)
    assert detail.excluded == {"no_price_for_notional": 1}
    keys = {
        r.order_type: (r.lot_size, r.order_size)
        for r in detail.rows  # type: ignore[union-attr]
        if r.covered_orders == 1
    }
    assert keys["LYNYN"] == ("ROUND", 1000)  # the IOC order
    assert keys["MXXNY"] == ("ROUND", 1000)  # the stop order: 200 x 10.01
    assert keys["LNYNN"] == ("ROUND", 1000)  # buy limit 10.01 >= midpoint 10.01
    assert keys["LNNNN"] == ("ROUND", 1000)
    market = {
        (r.lot_size, r.order_size): r.covered_orders for r in detail.rows if r.order_type == "MXXNN"
    }  # type: ignore[union-attr]
    assert market == {
        ("ODD", 250): 1,
        ("ODD", 0): 1,
        ("ROUND", 50000): 1,
        ("ROUND", 200000): 1,
        ("FRACTIONAL", 0): 1,
        ("ROUND", 10000): 1,
    }
    summary = summary_rows(table, participant="T", entity="X", month=MONTH, orders=orders)
    assert summary.excluded["not_summary_order_type"] == 4  # IOC, stop, two non-marketable
    counts = {(r.order_type, r.order_size): r.avg_order_qty for r in summary.rows}  # type: ignore[union-attr]
    assert set(counts) == {
        ("M", 0),
        ("M", 250),
        ("M", 10000),
        ("M", 50000),
        ("M", 200000),
        ("M", 199999),
    }
    # below $200k: 25 + 24.97 + 19980 + 0.5 + 40 shares over five orders
    assert counts[("M", 199999)] == Decimal("20070.47") / 5


def test_fills_give_time_buckets_and_away_shares() -> None:
    row = quality_row(order_id="f", quantity=100.0, executed_qty=100.0, last_fill_ts=T0 + ms(2000))
    fills = fills_table(
        [
            {
                "order_id": "f",
                "seq": 1,
                "venue": "SELF",
                "exec_ts": T0 + ms(0.05),
                "quantity": 60.0,
                "price": 10.01,
            },
            {
                "order_id": "f",
                "seq": 2,
                "venue": "XNYS",
                "exec_ts": T0 + ms(2000),
                "quantity": 40.0,
                "price": 10.01,
            },
        ]
    )
    (record,) = detailed_rows(
        quality_table([row]),
        participant="T",
        entity="X",
        month=MONTH,
        fills=fills,
        market_center_venues={"SELF"},
    ).rows
    assert isinstance(record, DetailedRecord)
    assert (record.qty_to_100us, record.qty_to_10s, record.qty_to_1s) == (60, 40, 0)
    assert (record.executed_qty, record.executed_away_qty) == (60, 40)
    # (60 x 0.05 ms + 40 x 2000 ms) / 100
    assert record.pi_avg_time_ms == Decimal("800.03")
    (summary,) = [
        r
        for r in summary_rows(
            quality_table([row]), participant="T", entity="X", month=MONTH, fills=fills
        ).rows
        if r.order_size == 1000
    ]
    assert isinstance(summary, SummaryRecord)
    assert summary.avg_execution_time_ms == Decimal("800.03")


# ---------------------------------------------------------------- against the reference


@st.composite
def quality_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for i in range(draw(st.integers(1, 25))):
        kind = draw(
            st.sampled_from(["market", "marketable_limit", "non_marketable_limit", "other"])
        )
        quoted = draw(st.booleans() | st.just(True))
        bid_cents = draw(st.integers(100, 200_000))
        spread_cents = draw(st.integers(-5, 20))  # below 0: a crossed quote
        bid, ask = bid_cents / 100, (bid_cents + spread_cents) / 100
        qty = draw(
            st.integers(1, 30_000).map(float) | st.integers(1, 5_000).map(lambda k: k / 1000)
        )
        fraction = draw(st.sampled_from([0, 1, 1, 1, 0.5]))
        executed = round(qty * fraction, 3)
        measured = quoted and executed > 0
        ticks = st.integers(-50, 50).map(lambda k: k / 10_000)
        # realized spreads exist for any execution with a horizon quote, measured or not,
        # weighted by the shares that had one (all, some, or not given: all)
        realized = {
            f"realized_spread_{h}": draw(st.none() | ticks) if executed else None
            for h in ("50ms", "15s", "5m")
        }
        realized["realized_spread_1m"] = draw(ticks) if executed else None
        weights = (
            st.none() | st.just(executed) | st.integers(0, 4).map(lambda k, e=executed: e * k / 4)
        )
        realized |= {f"realized_qty_{h}": draw(weights) for h in ("50ms", "1s", "15s", "5m")}
        # every measured execution keeps a 1-minute quote: the summary requires that field
        realized["realized_qty_1m"] = draw(st.none() | st.just(executed))
        delay = draw(st.integers(0, 400_000))
        received = T0 + dt.timedelta(seconds=draw(st.integers(-86_400 * 5, 86_400 * 20)))
        rows.append(
            quality_row(
                order_id=f"o{i}",
                symbol=draw(st.sampled_from(["AAA", "BBB"])),
                section=draw(st.sampled_from(["sp500", "other_stocks", "other_stocks", "options"])),
                side=draw(st.sampled_from(["buy", "sell"])),
                order_type=kind,
                quantity=qty,
                limit_price=None if kind == "market" else bid,
                received_ts=received,
                nbbo_bid=bid if quoted else None,
                nbbo_ask=ask if quoted else None,
                quoted_spread=spread_cents / 100 if quoted and spread_cents >= 0 else None,
                executed_qty=executed,
                first_fill_ts=received + ms(delay) if executed else None,
                last_fill_ts=received + ms(delay) if executed else None,
                effective_spread=abs(draw(ticks)) if measured else None,
                price_improvement_per_share=draw(ticks) if measured else None,
                quote_position=draw(st.sampled_from(["inside", "at", "outside"]))
                if measured
                else None,
                **realized,
            )
        )
    return rows


def _same(engine: Decimal | int | None, ref: Decimal | int | None) -> bool:
    if engine is None or ref is None:
        return engine is None and ref is None
    return round_half_up(Decimal(engine), 12) == round_half_up(Decimal(ref), 12)


@settings(max_examples=50, deadline=None)
@given(quality_rows())
def test_summary_matches_reference(rows: list[dict[str, Any]]) -> None:
    result = summary_rows(quality_table(rows), participant="T", entity="PFOF", month=MONTH)
    expected = reference.summary(rows, MONTH)
    got = {(r.sp500, r.order_type, r.order_size): r for r in result.rows}
    assert set(got) == set(expected)
    for key, figures in expected.items():
        for name, value in figures.items():
            assert _same(getattr(got[key], name), value), (key, name)
    written = parse_summary(write_summary(result.rows).splitlines(), spec_checks=False)
    # a bucket whose executions were all received in a crossed market has no quoted spread:
    # the cell stays empty, which the metadata rejects (docs/rule605.md)
    all_crossed = {i + 2 for i, r in enumerate(result.rows) if r.avg_quoted_spread_pct is None}  # type: ignore[union-attr]
    assert [
        i for i in written.issues if not (i.line in all_crossed and i.column == "AvgPctQuotSprd")
    ] == []


@settings(max_examples=50, deadline=None)
@given(quality_rows())
def test_detailed_matches_reference(rows: list[dict[str, Any]]) -> None:
    result = detailed_rows(quality_table(rows), participant="T", entity="PFOF", month=MONTH)
    got = {
        (r.symbol, r.lot_size, r.order_size): r
        for r in result.rows  # type: ignore[union-attr]
        if r.order_type == "MXXNN"
    }
    expected = reference.detailed(rows, MONTH)
    assert set(got) == set(expected)
    for key, figures in expected.items():
        for name, value in figures.items():
            assert _same(getattr(got[key], name), value), (key, name)


def test_empty_input_gives_no_rows_and_a_missing_horizon_column_gives_none() -> None:
    empty = quality_table([])
    assert summary_rows(empty, participant="T", entity="X", month=MONTH).rows == ()
    assert (
        detailed_rows(empty, participant="T", entity="X", month=MONTH, fills=fills_table([])).rows
        == ()
    )
    table = quality_table([quality_row()]).drop_columns(["realized_spread_50ms"])
    (row,) = detailed_rows(table, participant="T", entity="X", month=MONTH).rows
    assert isinstance(row, DetailedRecord)
    assert row.realized_spread_50ms is None and row.realized_spread_15s == Decimal("0.004")
