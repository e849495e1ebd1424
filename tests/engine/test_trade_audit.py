"""The per-trade audit kernel: equal to the pure-Python reference on random NBBOs and trades,
and each rule of docs/audit.md (quote usability, positions, order types, summary) on its own."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from pfof.engine.order_payment import PaymentRateBook
from pfof.engine.trade_audit import audit_trades, market_date, summarise_audit
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import A1Cell
from pfof.model.tables import NBBO
from pfof.model.trade_records import INVESTOR_TRADES, AuditFlag, TradePosition
from support.reference_audit import NS, book_from_consolidated, expected_trade

DAY = 1_652_191_200 * NS  # 2022-05-10 14:00 UTC, 10:00 in New York
MINUTE = 60 * NS
OPEN = DAY - 30 * MINUTE  # 09:30 New York
CLOSE = DAY + 6 * 60 * MINUTE  # 16:00 New York
PREMARKET = DAY - 6 * 60 * MINUTE  # 04:00 New York
PREVIOUS_DAY = DAY - 24 * 60 * MINUTE


def nbbo_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist([{**r, "ts": r["ts"]} for r in rows], schema=NBBO)


def trades_table(rows: list[dict]) -> pa.Table:
    full = []
    for i, r in enumerate(rows):
        row = dict.fromkeys(INVESTOR_TRADES.names)
        row.update(trade_id=str(i), side="buy", quantity=Decimal(100), line=i + 2)
        row.update(r)
        full.append(row)
    return pa.Table.from_pylist(full, schema=INVESTOR_TRADES)


prices = st.sampled_from([None, 0.0, 9.98, 9.99, 10.0, 10.01, 10.02, 10.025, 10.03])
quote_rows = st.lists(
    st.fixed_dictionaries(
        {
            "symbol": st.sampled_from(["A", "B"]),
            # the pre-market (04:00-04:05), the pre-open (09:00-09:29), this session, the
            # post-close (16:00-16:05), and the previous day's session and post-close
            "ts": st.one_of(
                st.integers(-60, 20).map(lambda k: DAY + k * MINUTE),
                st.integers(0, 5).map(lambda k: PREMARKET + k * MINUTE),
                st.integers(-1, 5).map(lambda k: CLOSE + k * MINUTE),
                st.integers(0, 5).map(lambda k: PREVIOUS_DAY + k * MINUTE),
                st.integers(0, 5).map(lambda k: PREVIOUS_DAY + 7 * 60 * MINUTE + k * MINUTE),
            ),
            "bid": prices,
            "bid_size": st.sampled_from([0, 100, 300]),
            "ask": prices,
            "ask_size": st.sampled_from([0, 100, 300]),
        }
    ),
    min_size=1,
    max_size=25,
)
trade_rows = st.lists(
    st.fixed_dictionaries(
        {
            "symbol": st.sampled_from(["A", "B", "C"]),
            "side": st.sampled_from(["buy", "sell"]),
            "price": st.sampled_from([Decimal("9.99"), Decimal("10.005"), Decimal("10.02")]),
            "quantity": st.sampled_from([Decimal(1), Decimal("0.5"), Decimal(250)]),
            "order_ts": st.one_of(
                st.integers(-70, 25).map(lambda k: DAY + k * MINUTE + 7),
                st.integers(-2, 8).map(lambda k: PREMARKET + k * MINUTE + 7),
                st.integers(-2, 8).map(lambda k: CLOSE + k * MINUTE + 7),
                st.sampled_from(
                    [OPEN - 1, OPEN, OPEN + 1, CLOSE - 1, CLOSE, PREVIOUS_DAY + 7 * MINUTE]
                ),
            ),
        }
    ),
    min_size=1,
    max_size=12,
)


@given(quote_rows, trade_rows)
def test_every_trade_equals_the_reference(quotes: list[dict], trades: list[dict]) -> None:
    # one row per (symbol, ts): ties are the source's business, not this property's
    unique = list({(q["symbol"], q["ts"]): q for q in quotes}.values())
    book = book_from_consolidated(unique)
    audited = audit_trades(trades_table(trades), nbbo_table(unique))
    assert len(audited) == len(trades)
    for trade, got in zip(trades, audited, strict=True):
        want = expected_trade(
            book,
            trade["symbol"],
            trade["side"],
            Fraction(trade["quantity"]),
            Fraction(trade["price"]),
            trade["order_ts"],
        )
        assert got.position.value == want["position"]
        assert (AuditFlag.EXTENDED_HOURS in got.flags) == want["extended_hours"]
        if want["why"] is not None:
            assert want["why"] in got.flags
        assert got.quote_ts == want["quote_ts"]
        assert got.nbbo_bid == want["bid"] and got.nbbo_ask == want["ask"]
        assert got.price_improvement_per_share == want["pi_per_share"]
        assert got.price_improvement_usd == want["pi_usd"]
        assert got.effective_spread == want["effective_spread"]
        assert got.quoted_spread == want["quoted_spread"]
        if want["eq_ratio"] is None:
            assert got.eq_ratio is None
        else:
            assert abs(Fraction(got.eq_ratio) - want["eq_ratio"]) < Fraction(1, 10**40)


QUOTE = {"symbol": "A", "ts": DAY, "bid": 10.0, "bid_size": 100, "ask": 10.02, "ask_size": 100}
LATER = {**QUOTE, "ts": DAY + 60 * MINUTE}


def test_quote_prices_are_the_decimals_the_source_wrote() -> None:
    got = audit_trades(
        trades_table([{"symbol": "A", "price": Decimal("10.01"), "order_ts": DAY + 1}]),
        nbbo_table([{**QUOTE, "bid": 155.87, "ask": 155.89}, LATER]),
    )[0]
    assert got.nbbo_bid == Decimal("155.87") and got.nbbo_ask == Decimal("155.89")


def test_a_quote_from_an_earlier_day_or_older_than_the_limit_is_not_used() -> None:
    next_day = DAY + 24 * 60 * MINUTE
    nbbo = nbbo_table([QUOTE, {**QUOTE, "ts": next_day + MINUTE}])
    trades = trades_table(
        [
            {"symbol": "A", "price": Decimal("10.01"), "order_ts": next_day},
            {"symbol": "A", "price": Decimal("10.01"), "order_ts": DAY + 5 * MINUTE},
        ]
    )
    overnight, old = audit_trades(trades, nbbo, max_quote_age_ns=4 * MINUTE)
    assert market_date(next_day) != market_date(DAY)
    assert overnight.position is TradePosition.NO_QUOTE
    assert overnight.flags == [AuditFlag.EARLIER_DAY_QUOTE]
    assert old.flags == [AuditFlag.STALE_QUOTE] and old.nbbo_bid is None
    fresh = audit_trades(trades, nbbo, max_quote_age_ns=5 * MINUTE)[1]
    assert fresh.position is TradePosition.INSIDE and fresh.quote_age_ns == 5 * MINUTE


def test_a_pre_open_quote_is_not_used_and_a_quiet_session_quote_is_whatever_its_age() -> None:
    # E1: a session trade takes only the session's quotes; a quote that stood still for an
    # hour is still the NBBO; a pre-market trade takes the pre-market quote, flagged
    nbbo = nbbo_table([{**QUOTE, "ts": OPEN - MINUTE}, {**QUOTE, "symbol": "B", "ts": OPEN}])
    trades = trades_table(
        [
            {"symbol": "A", "price": Decimal("10.01"), "order_ts": OPEN + MINUTE},
            {"symbol": "A", "price": Decimal("10.01"), "order_ts": OPEN - 1},  # pre-market
            {"symbol": "B", "price": Decimal("10.01"), "order_ts": OPEN + 60 * MINUTE},
            {"symbol": "B", "price": Decimal("10.01"), "order_ts": OPEN},
        ]
    )
    after_open, pre_market, quiet, at_open = audit_trades(
        trades, nbbo, data_end_ns=OPEN + 2 * 60 * MINUTE
    )
    assert after_open.position is TradePosition.NO_QUOTE
    assert after_open.flags == [AuditFlag.PRE_OPEN_QUOTE] and after_open.nbbo_bid is None
    assert after_open.price_improvement_per_share is None
    assert pre_market.position is TradePosition.INSIDE
    assert pre_market.quote_ts == OPEN - MINUTE and pre_market.nbbo_bid == Decimal("10.0")
    assert pre_market.flags == [AuditFlag.EXTENDED_HOURS]
    assert quiet.position is TradePosition.INSIDE and quiet.quote_age_ns == 60 * MINUTE
    assert quiet.price_improvement_per_share == Decimal("0.01") and quiet.flags == []
    assert at_open.position is TradePosition.INSIDE  # stamped at 09:30 itself: the session's
    # an age limit is the caller's opt-in
    assert audit_trades(trades, nbbo, data_end_ns=OPEN + 2 * 60 * MINUTE,
                        max_quote_age_ns=MINUTE)[2].flags == [AuditFlag.STALE_QUOTE]  # fmt: skip


def test_extended_hours_trades_take_their_own_days_quotes_and_are_flagged() -> None:
    # docs/audit.md: a pre-market trade takes that morning's quote, never the previous
    # evening's; a post-close trade takes the session's last quote, never a pre-open one
    evening = PREVIOUS_DAY + 7 * 60 * MINUTE  # 17:00 the day before
    nbbo = nbbo_table(
        [
            {**QUOTE, "ts": evening, "bid": 9.9, "ask": 9.95},
            {**QUOTE, "ts": PREMARKET + 10 * MINUTE, "bid": 9.98, "ask": 10.03},
            {**QUOTE, "ts": CLOSE - MINUTE, "bid": 10.0, "ask": 10.01},
            {**QUOTE, "symbol": "B", "ts": PREMARKET},  # B: no quote after the open
        ]
    )
    base = {"symbol": "A", "price": Decimal("10.02")}
    trades = trades_table(
        [
            {**base, "order_ts": PREMARKET + 5 * MINUTE},  # only the previous evening's
            {**base, "order_ts": PREMARKET + 11 * MINUTE},  # 04:11: the 04:10 quote
            {**base, "order_ts": OPEN + MINUTE},  # the session: the 04:10 quote is pre-open
            {**base, "order_ts": CLOSE - 1},  # the last nanosecond of the session
            {**base, "order_ts": CLOSE + 30 * MINUTE},  # 16:30: the 15:59 quote
            {**base, "symbol": "B", "order_ts": CLOSE + 30 * MINUTE},
        ]
    )
    early, pre_market, session, last, post_close, b_post = audit_trades(
        trades, nbbo, data_end_ns=CLOSE + 60 * MINUTE
    )
    assert early.flags == [AuditFlag.EXTENDED_HOURS, AuditFlag.EARLIER_DAY_QUOTE]
    assert early.position is TradePosition.NO_QUOTE
    assert pre_market.flags == [AuditFlag.EXTENDED_HOURS]
    assert pre_market.nbbo_ask == Decimal("10.03") and pre_market.position is TradePosition.INSIDE
    assert pre_market.quote_age_ns == MINUTE
    assert session.flags == [AuditFlag.PRE_OPEN_QUOTE] and session.nbbo_ask is None
    assert last.flags == [] and last.nbbo_ask == Decimal("10.01")
    assert post_close.flags == [AuditFlag.EXTENDED_HOURS]
    assert post_close.position is TradePosition.OUTSIDE  # 10.02 over the 10.01 offer
    assert post_close.quote_ts == CLOSE - MINUTE
    assert b_post.flags == [AuditFlag.EXTENDED_HOURS, AuditFlag.PRE_OPEN_QUOTE]


def test_the_regular_session_follows_the_exchange_calendar() -> None:
    # 2026-11-27, the day after Thanksgiving, closes at 13:00 New York (18:00 UTC); 2026-11-26
    # (Thanksgiving) and 2026-11-28 (a Saturday) have no session
    black_friday_close = 1_795_802_400 * NS
    thanksgiving_10am = 1_795_705_200 * NS
    times = [
        black_friday_close - 1,
        black_friday_close,
        thanksgiving_10am,
        thanksgiving_10am + 2 * 24 * 60 * MINUTE,
        thanksgiving_10am + 24 * 60 * MINUTE,
    ]
    nbbo = nbbo_table([{**QUOTE, "ts": t - MINUTE} for t in times])
    trades = trades_table(
        [{"symbol": "A", "price": Decimal("10.01"), "order_ts": t} for t in times]
    )
    got = audit_trades(trades, nbbo, data_end_ns=max(times))
    outside = [AuditFlag.EXTENDED_HOURS in t.flags for t in got]
    assert outside == [False, True, True, True, False]
    assert all(t.position is TradePosition.INSIDE for t in got)  # each day's own quote


def test_a_crossed_quote_is_measured_against_its_far_side_and_midpoint() -> None:
    # E5: bid 10.02 above ask 10.00, midpoint 10.01; no quoted spread, no E/Q
    crossed = {**QUOTE, "bid": 10.02, "ask": 10.0}
    base = {"symbol": "A", "order_ts": DAY + 1, "broker": "Broker X"}
    trades = trades_table(
        [
            {**base, "price": Decimal("9.99")},  # buy a cent under the offer
            {**base, "price": Decimal("10.02"), "side": "sell"},  # sell at the bid
            {
                **base,
                "price": Decimal("10.03"),
                "order_type": "limit",
                "limit_price": Decimal("10.00"),
            },
        ]
    )
    rates = PaymentRateBook(
        [_cell("Wholesaler One LLC", None, OrderType.MARKETABLE_LIMIT, rate=Decimal(20))]
    )
    buy, sell, limit = audit_trades(trades, nbbo_table([crossed, LATER]), rates=rates)
    assert buy.position is TradePosition.INSIDE
    assert buy.price_improvement_per_share == Decimal("0.01")
    assert buy.price_improvement_usd == Decimal("1.00")
    assert buy.effective_spread == Decimal("-0.04")  # 2 x (9.99 - 10.01)
    assert buy.quoted_spread is None and buy.eq_ratio is None
    assert AuditFlag.CROSSED_QUOTE in buy.flags
    assert sell.position is TradePosition.AT and sell.effective_spread == Decimal("-0.02")
    assert AuditFlag.CROSSED_QUOTE in sell.flags
    # a buy limit at the crossed offer could execute at once: a marketable limit order
    assert limit.order_type is OrderType.MARKETABLE_LIMIT
    assert limit.position is TradePosition.OUTSIDE and limit.pfof_estimate_usd is not None
    summary = summarise_audit([buy, sell, limit])
    assert summary.positions == {"inside": 1, "at": 1, "outside": 1, "no_quote": 0}
    assert summary.total_price_improvement_usd == Decimal("1.00") - Decimal("3.00")
    assert summary.flags["crossed_quote"] == 3


def test_an_option_underlying_quote_of_the_pre_open_gives_no_volatility_cost() -> None:
    symbol = "XYZ260116C00010000"
    nbbo = nbbo_table(
        [
            {**QUOTE, "symbol": symbol, "ts": OPEN + MINUTE, "bid": 0.5, "ask": 0.6},
            {**QUOTE, "symbol": "XYZ", "ts": OPEN - MINUTE},
            {**QUOTE, "symbol": "XYZ", "ts": OPEN + 3 * MINUTE},
        ]
    )
    trades = trades_table(
        [
            {
                "symbol": symbol,
                "price": Decimal("0.55"),
                "quantity": Decimal(1),
                "order_ts": OPEN + 2 * MINUTE,
            },
            {
                "symbol": symbol,
                "price": Decimal("0.55"),
                "quantity": Decimal(1),
                "order_ts": OPEN + 4 * MINUTE,
            },
        ]
    )
    pre_open, in_session = audit_trades(trades, nbbo, data_end_ns=OPEN + 60 * MINUTE)
    assert pre_open.position is TradePosition.INSIDE  # the option's own quote is usable
    assert pre_open.underlying_mid is None and pre_open.vol_points_cost is None
    assert pre_open.flags == [AuditFlag.NO_UNDERLYING_QUOTE]
    assert in_session.underlying_mid == 10.01
    assert AuditFlag.NO_UNDERLYING_QUOTE not in in_session.flags
    # a pre-market option trade takes the underlying's pre-market quote of the same morning
    pre_market = trades_table(
        [
            {
                "symbol": symbol,
                "price": Decimal("0.55"),
                "quantity": Decimal(1),
                "order_ts": OPEN - 30 * MINUTE,
            }
        ]
    )
    early = nbbo_table(
        [
            {**QUOTE, "symbol": symbol, "ts": OPEN - 40 * MINUTE, "bid": 0.5, "ask": 0.6},
            {**QUOTE, "symbol": "XYZ", "ts": PREVIOUS_DAY, "bid": 9.0, "ask": 9.02},
            {**QUOTE, "symbol": "XYZ", "ts": OPEN - 35 * MINUTE},
        ]
    )
    (got,) = audit_trades(pre_market, early, data_end_ns=OPEN)
    assert got.underlying_mid == 10.01 and got.flags[0] is AuditFlag.EXTENDED_HOURS
    assert AuditFlag.NO_UNDERLYING_QUOTE not in got.flags
    (stale,) = audit_trades(pre_market, early.slice(0, 2), data_end_ns=OPEN)
    assert stale.underlying_mid is None  # the previous day's quote is not that morning's
    assert stale.flags == [AuditFlag.EXTENDED_HOURS, AuditFlag.NO_UNDERLYING_QUOTE]


def test_the_execution_time_is_used_when_the_row_has_no_order_time_and_flagged() -> None:
    trades = trades_table(
        [{"symbol": "A", "price": Decimal("10.02"), "execution_ts": DAY + MINUTE}]
    )
    (got,) = audit_trades(trades, nbbo_table([QUOTE, LATER]))
    assert got.lookup_ts == DAY + MINUTE and got.flags == [AuditFlag.EXECUTION_TIME]
    assert got.position is TradePosition.AT


def test_an_option_trade_counts_one_hundred_shares_per_contract() -> None:
    symbol = "XYZ260116C00010000"
    nbbo = nbbo_table([{**QUOTE, "symbol": symbol}, {**LATER, "symbol": symbol}])
    trades = trades_table(
        [{"symbol": symbol, "price": Decimal("10.01"), "quantity": Decimal(3), "order_ts": DAY}]
    )
    (got,) = audit_trades(trades, nbbo)
    assert got.section is Section.OPTIONS and got.multiplier == 100
    assert got.price_improvement_usd == Decimal("0.01") * 3 * 100
    assert got.price_improvement_per_contract == Decimal("1.00")


def _cell(venue: str | None, mic: str | None, order_type: OrderType, **kw: object) -> A1Cell:
    values = {
        "broker": "Broker X, Inc.",
        "year": 2022,
        "quarter": 2,
        "month": 5,
        "section": Section.OTHER_STOCKS,
        "venue_name": venue,
        "mic": mic,
        "mpid": None,
        "order_type": order_type,
        "venue_pct": Decimal(50),
        "routed_pct": Decimal(50),
        "net_payment_usd": Decimal(100),
        "rate": Decimal(20),
        "venue_index": 1,
    }
    values.update(kw)
    return A1Cell(**values)  # type: ignore[arg-type]


def test_limit_orders_are_classified_against_the_nbbo_for_the_payment_estimate() -> None:
    cells = [
        _cell("Wholesaler One LLC", None, OrderType.MARKETABLE_LIMIT, rate=Decimal(20)),
        _cell("Wholesaler One LLC", None, OrderType.NON_MARKETABLE_LIMIT, rate=Decimal(-10)),
        _cell("Wholesaler One LLC", None, OrderType.MARKET, rate=Decimal(30)),
    ]
    rates = PaymentRateBook(cells)
    base = {"symbol": "A", "price": Decimal("10.02"), "order_ts": DAY, "broker": "Broker X"}
    trades = trades_table(
        [
            {**base, "order_type": "limit", "limit_price": Decimal("10.02")},
            {**base, "order_type": "limit", "limit_price": Decimal("10.01")},
            {**base, "order_type": "limit"},
            base,
            {**base, "broker": None},
        ]
    )
    marketable, resting, no_limit, assumed, no_broker = audit_trades(
        trades, nbbo_table([QUOTE, LATER]), rates=rates
    )
    assert marketable.order_type is OrderType.MARKETABLE_LIMIT
    assert marketable.pfof_estimate_usd == Decimal("0.20")  # 20 ¢ per 100 shares
    assert resting.order_type is OrderType.NON_MARKETABLE_LIMIT
    assert resting.pfof_estimate_usd == Decimal("-0.10")
    assert AuditFlag.NON_MARKETABLE_LIMIT in resting.flags
    assert no_limit.order_type is None and AuditFlag.ORDER_TYPE_UNKNOWN in no_limit.flags
    assert assumed.order_type is OrderType.MARKET
    assert {AuditFlag.ORDER_TYPE_ASSUMED, AuditFlag.SECTION_ASSUMED} <= set(assumed.flags)
    assert assumed.pfof_estimate_usd == Decimal("0.30")
    assert no_broker.pfof_estimate_usd is None and AuditFlag.NO_BROKER in no_broker.flags
    # a default broker fills rows without one; a quarter without a report is said to be so
    (defaulted,) = audit_trades(
        trades_table([{**base, "broker": None}]),
        nbbo_table([QUOTE, LATER]),
        rates=rates,
        broker="BROKER X INC",
    )
    assert defaulted.pfof_estimate_usd == Decimal("0.30")
    (elsewhere,) = audit_trades(
        trades_table([{**base, "broker": "Other Broker"}]), nbbo_table([QUOTE, LATER]), rates=rates
    )
    assert elsewhere.flags[-1] is AuditFlag.NO_606


def test_without_rates_no_payment_flag_is_raised() -> None:
    (got,) = audit_trades(
        trades_table([{"symbol": "A", "price": Decimal("10.02"), "order_ts": DAY}]),
        nbbo_table([QUOTE, LATER]),
    )
    assert got.flags == [] and got.pfof_estimate_usd is None


def test_the_summary_totals_are_exact_and_count_every_trade() -> None:
    trades = trades_table(
        [
            {"symbol": "A", "price": Decimal("10.01"), "order_ts": DAY},
            {"symbol": "A", "price": Decimal("10.03"), "order_ts": DAY, "quantity": Decimal(3)},
            {"symbol": "Z", "price": Decimal("10.03"), "order_ts": DAY},
        ]
    )
    audited = audit_trades(trades, nbbo_table([QUOTE, LATER]))
    summary = summarise_audit(audited)
    assert (summary.trades, summary.with_quote) == (3, 2)
    assert summary.total_price_improvement_usd == Decimal("1.00") - Decimal("0.03")
    assert summary.total_pfof_estimate_usd is None
    assert summary.price_improvement_per_pfof_dollar is None
    assert summary.positions == {"inside": 1, "at": 0, "outside": 1, "no_quote": 1}
    assert summary.flags == {"symbol_not_in_quotes": 1}
