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
            "ts": st.integers(0, 20).map(lambda k: DAY + k * MINUTE),
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
            "order_ts": st.integers(-2, 25).map(lambda k: DAY + k * MINUTE + 7),
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
        if want["why"] is not None:
            assert want["why"] in got.flags
        assert got.quote_ts == want["quote_ts"]
        assert got.nbbo_bid == want["bid"] and got.nbbo_ask == want["ask"]
        assert got.price_improvement_per_share == want["pi_per_share"]
        assert got.price_improvement_usd == want["pi_usd"]
        assert got.effective_spread == want["effective_spread"]
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
    assert summary.positions == {"inside": 1, "at": 0, "outside": 1, "crossed": 0, "no_quote": 1}
    assert summary.flags == {"symbol_not_in_quotes": 1}
