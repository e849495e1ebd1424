"""engine.quality against the pure-Python reference, plus each documented edge case."""

from __future__ import annotations

import math
import random
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfof.engine.asof import NbboIndex
from pfof.engine.quality import order_quality, stream_order_quality
from pfof.model.tables import FILLS, HORIZONS_NS, NBBO, ORDER_QUALITY, ORDERS
from support.reference_quality import ref_order_quality

MS = 1_000_000
#: 2026-01-02 15:00 UTC, 10:00 New York: half an hour into the session, so that the quotes
#: a test places shortly before an order are the session's (a pre-open quote is unusable).
T0 = 1_767_366_000_000_000_000
#: Shifts that move a quote back before the open (31 min) or to the day before.
EARLIER = st.sampled_from([0, 0, 0, 0, 31 * 60 * 1000 * 1_000_000, 86_400 * 10**9])
#: Time steps of 50 ms, with jumps landing exactly on the 15 s / 1 min / 5 min horizons.
STEPS = st.one_of(st.integers(0, 25), st.sampled_from([300, 301, 1200, 1201, 6000, 6001, 6020]))
PRICES = [9.97, 9.98, 9.99, 10.0, 10.01, 10.02, 10.03]


@st.composite
def market(draw: st.DrawFn) -> dict[str, Any]:
    nbbo = [
        {
            "symbol": draw(st.sampled_from("ABC")),
            "ts": T0 + draw(STEPS) * 50 * MS - draw(EARLIER),
            "bid": draw(st.sampled_from([None, 0.0, *PRICES[:5], *PRICES[:5]])),
            "bid_size": draw(st.one_of(st.none(), st.integers(0, 3))),
            "ask": draw(st.sampled_from([None, *PRICES[2:]])),
            "ask_size": draw(st.one_of(st.none(), st.integers(1, 3))),
        }
        for _ in range(draw(st.integers(0, 20)))
    ]
    if draw(st.booleans()):
        nbbo.sort(key=lambda r: (r["symbol"], r["ts"]))
    orders, fills = [], []
    for i in range(draw(st.integers(0, 8))):
        received = T0 + draw(STEPS) * 50 * MS
        orders.append(
            {
                "order_id": f"o{i}",
                "broker": "BRKR",
                "customer_id": f"c{i % 3}",
                "received_ts": received,
                "symbol": draw(st.sampled_from("ABCD")),
                "section": draw(st.sampled_from(["sp500", "other_stocks", "options", None])),
                "side": draw(st.sampled_from(["buy", "sell", "sell_short"])),
                "quantity": draw(st.sampled_from([1.0, 2.0, 100.0, 0.5, 0.3])),
                "order_type": "market",
                "limit_price": None,
                "stop_price": None,
                "time_in_force": "DAY",
                "directed": False,
                "held": True,
            }
        )
        for j in range(draw(st.integers(0, 3))):
            fills.append(
                {
                    "order_id": f"o{i}",
                    "seq": j,
                    "venue": "WHLS",
                    "exec_ts": received + draw(STEPS) * 50 * MS,
                    "quantity": draw(st.sampled_from([0.1, 0.2, 1.0, 50.0, 100.0])),
                    "price": draw(st.sampled_from(PRICES)),
                }
            )
    draw(st.randoms()).shuffle(fills)
    stale = draw(st.sampled_from([None, None, 0, 50 * MS, 1000 * MS, 300_000 * MS]))
    return {"nbbo": nbbo, "orders": orders, "fills": fills, "stale": stale}


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                k: (pa.scalar(v, pa.int64()).cast(schema.field(k).type) if k.endswith("ts") else v)
                for k, v in r.items()
            }
            for r in rows
        ],
        schema=schema,
    )


def _as_ns(v: Any) -> Any:
    return v.value if hasattr(v, "value") else v


def _assert_rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for key, expected in w.items():
            actual = g[key]
            if key.endswith("_ts") and actual is not None:
                actual = pa.scalar(actual, ORDER_QUALITY.field(key).type).cast(pa.int64()).as_py()
            if isinstance(expected, float) and actual is not None:
                assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), (key, g, w)
            else:
                assert actual == expected, (key, actual, expected, w["order_id"])


def _run(m: dict[str, Any], **kwargs: Any) -> pa.Table:
    return order_quality(
        _table(m["orders"], ORDERS),
        _table(m["fills"], FILLS),
        _table(m["nbbo"], NBBO),
        stale_after_ns=m["stale"],
        **kwargs,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market())
def test_order_quality_matches_reference(m: dict[str, Any]) -> None:
    got = _run(m)
    assert got.schema.equals(ORDER_QUALITY)
    want = ref_order_quality(
        m["orders"], m["fills"], m["nbbo"], stale_after=m["stale"], horizons=HORIZONS_NS
    )
    _assert_rows_equal(got.to_pylist(), want)


@settings(max_examples=60, deadline=None)
@given(market())
def test_segment_search_gives_the_same_table(m: dict[str, Any]) -> None:
    """The per-symbol search (used when keys would overflow) agrees with the packed keys."""
    nbbo = _table(m["nbbo"], NBBO)
    index = NbboIndex.build(nbbo)
    packed = _run(m, index=index)
    segmented = _run(
        m,
        index=NbboIndex(
            index.symbols, index.starts, index.ts, index.perm, index.base, index.span, None
        ),
    )
    assert packed.schema.equals(segmented.schema)
    for name in packed.column_names:  # sums may be taken in another order: ulps apart
        for x, y in zip(
            packed.column(name).to_pylist(), segmented.column(name).to_pylist(), strict=True
        ):
            assert x == y or math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12), (name, x, y)


def _order(**kw: Any) -> dict[str, Any]:
    base = {
        "order_id": "o1",
        "broker": "B",
        "customer_id": "c",
        "received_ts": T0,
        "symbol": "A",
        "section": "sp500",
        "side": "buy",
        "quantity": 100.0,
        "order_type": "market",
        "limit_price": None,
        "stop_price": None,
        "time_in_force": "DAY",
        "directed": False,
        "held": True,
    }
    return base | kw


def _fill(**kw: Any) -> dict[str, Any]:
    return {
        "order_id": "o1",
        "seq": 0,
        "venue": "V",
        "exec_ts": T0 + MS,
        "quantity": 100.0,
        "price": 10.0,
    } | kw


def _quote(ts: int, bid: float | None, ask: float | None, symbol: str = "A") -> dict[str, Any]:
    return {
        "symbol": symbol,
        "ts": ts,
        "bid": bid,
        "bid_size": 1 if bid else None,
        "ask": ask,
        "ask_size": 1 if ask else None,
    }


def _one(orders: list, fills: list, nbbo: list, **kw: Any) -> dict[str, Any]:
    return order_quality(
        _table(orders, ORDERS), _table(fills, FILLS), _table(nbbo, NBBO), **kw
    ).to_pylist()[0]


@pytest.mark.parametrize(
    ("bid", "ask", "state"),
    [
        (9.99, 10.01, "normal"),
        (10.0, 10.0, "locked"),
        (10.02, 9.98, "crossed"),
        (9.99, None, "one_sided"),
        (None, 10.01, "one_sided"),
        (None, None, "empty"),
    ],
)
def test_each_quote_state_keeps_only_the_metrics_it_defines(
    bid: float | None, ask: float | None, state: str
) -> None:
    row = _one([_order()], [_fill(price=10.0)], [_quote(T0 - MS, bid, ask)])
    assert row["nbbo_state"] == state
    # a crossed quote still has a midpoint and a far side (docs/rule605.md, E5)
    spreads_defined = state in ("normal", "locked", "crossed")
    assert (row["effective_spread"] is not None) == spreads_defined
    assert (row["price_improvement_per_share"] is not None) == spreads_defined
    assert (row["quote_position"] is not None) == spreads_defined
    assert (row["quoted_spread"] is not None) == (state in ("normal", "locked"))
    assert (row["eq_ratio"] is not None) == (state == "normal")  # locked: quoted spread is 0
    if state == "locked":
        assert row["quoted_spread"] == 0 and row["quote_position"] == "at"
    if state == "crossed":  # buy at 10.00, midpoint 10.00, offer 9.98: 2 cents outside
        assert row["effective_spread"] == 0.0
        assert row["price_improvement_per_share"] == pytest.approx(-0.02)
        assert row["quote_position"] == "outside"
    assert row["executed_qty"] == 100.0 and row["avg_price"] == 10.0


def test_later_quote_is_not_in_force_and_an_old_one_is_stale_past_the_limit() -> None:
    nbbo = [_quote(T0 + 5 * MS, 9.99, 10.01)]  # after receipt: not in force
    assert _one([_order()], [], nbbo)["nbbo_state"] == "empty"
    old = [_quote(T0 - 2_000 * MS, 9.99, 10.01)]
    row = _one([_order()], [_fill()], old, stale_after_ns=1_000 * MS)
    assert row["nbbo_state"] == "stale" and row["effective_spread"] is None
    assert row["nbbo_bid"] == 9.99  # the stale quote is still shown
    assert _one([_order()], [_fill()], old, stale_after_ns=2_000 * MS)["nbbo_state"] == "normal"
    assert _one([_order()], [_fill()], old, stale_after_ns=None)["nbbo_state"] == "normal"


def test_quote_at_receipt_time_is_in_force() -> None:
    nbbo = [_quote(T0 - MS, 9.0, 11.0), _quote(T0, 9.99, 10.01), _quote(T0 + 1, 5.0, 15.0)]
    row = _one([_order()], [], nbbo)
    assert (row["nbbo_bid"], row["nbbo_ask"]) == (9.99, 10.01)


def test_buy_and_sell_metrics_have_the_hand_worked_values_and_signs() -> None:
    """Hand-worked: NBBO 9.98 x 10.02 (mid 10.00), fills at 10.01 (buy) and 9.99 (sell)."""
    nbbo = [_quote(T0 - MS, 9.98, 10.02), _quote(T0 + 2 * MS, 10.00, 10.04)]  # mid 10.02 later
    buy = _one([_order()], [_fill(price=10.01)], nbbo)
    assert buy["quoted_spread"] == pytest.approx(0.04)
    assert buy["effective_spread"] == pytest.approx(0.02)  # paid 1 cent over the mid, x2
    assert buy["eq_ratio"] == pytest.approx(0.5)
    assert buy["price_improvement_per_share"] == pytest.approx(0.01)  # 10.02 - 10.01
    assert buy["price_improvement_usd"] == pytest.approx(1.0)
    assert buy["quote_position"] == "inside"
    assert buy["realized_spread_50ms"] == pytest.approx(-0.02)  # 2 x (10.01 - 10.02)
    assert buy["price_impact_50ms"] == pytest.approx(0.04)  # 2 x (10.02 - 10.00)
    sell = _one([_order(side="sell")], [_fill(price=9.97)], nbbo)
    assert sell["effective_spread"] == pytest.approx(0.06)  # 2 x (10.00 - 9.97)
    assert sell["price_improvement_per_share"] == pytest.approx(-0.01)
    assert sell["quote_position"] == "outside"
    assert sell["price_impact_50ms"] == pytest.approx(-0.04)


def test_multi_fill_order_averages_price_and_times_first_fill_and_completion() -> None:
    nbbo = [_quote(T0 - MS, 9.98, 10.02)]
    fills = [
        _fill(seq=0, exec_ts=T0 + 3 * MS, quantity=30.0, price=10.0),
        _fill(seq=1, exec_ts=T0 + 1 * MS, quantity=10.0, price=10.02),
    ]
    row = _one([_order()], fills, nbbo)
    assert row["executed_qty"] == 40.0 and row["fill_rate"] == pytest.approx(0.4)
    assert row["avg_price"] == pytest.approx((30 * 10.0 + 10 * 10.02) / 40)
    assert row["time_to_first_fill_ms"] == pytest.approx(1.0)
    assert row["time_to_completion_ms"] is None  # not complete
    done = _one([_order(quantity=40.0)], fills, nbbo)
    assert done["time_to_completion_ms"] == pytest.approx(3.0) and done["fill_rate"] == 1.0


def test_unfilled_order_has_zero_fill_rate_and_no_execution_metrics() -> None:
    row = _one([_order()], [], [_quote(T0 - MS, 9.98, 10.02)])
    assert row["executed_qty"] == 0.0 and row["fill_rate"] == 0.0
    assert row["avg_price"] is None and row["effective_spread"] is None
    assert row["realized_spread_5m"] is None and row["quoted_spread"] == pytest.approx(0.04)


@pytest.mark.parametrize(
    ("orders", "fills", "message"),
    [
        ([_order(), _order()], [], "row 1 repeats order_id 'o1'"),
        ([_order(side="short")], [], "row 0 has side 'short'"),
        ([_order()], [_fill(order_id="zz")], "fills: row 0 has order_id 'zz'"),
        ([_order()], [_fill(exec_ts=T0 - 1)], "fills: row 0 executes before"),
        ([_order()], [_fill(quantity=0.0)], "fills: row 0 has quantity 0.0"),
    ],
)
def test_bad_input_names_the_row(orders: list, fills: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _one(orders, fills, [_quote(T0 - MS, 9.98, 10.02)])


def test_missing_column_is_named() -> None:
    orders = _table([_order()], ORDERS).drop_columns(["side"])
    with pytest.raises(ValueError, match=r"orders: missing column\(s\) side"):
        order_quality(orders, _table([], FILLS), _table([], NBBO))


def test_stream_by_day_equals_one_call_per_day() -> None:
    rng = random.Random(7)
    days = []
    for d in range(3):
        t = T0 + d * 86_400_000_000_000
        nbbo = [_quote(t + k * MS, 10.0 - rng.choice([0.01, 0.02]), 10.03) for k in range(5)]
        orders = [_order(order_id=f"d{d}o{i}", received_ts=t + i * MS) for i in range(4)]
        fills = [_fill(order_id=f"d{d}o{i}", exec_ts=t + (i + 1) * MS) for i in range(4)]
        days.append((_table(orders, ORDERS), _table(fills, FILLS), _table(nbbo, NBBO)))
    one = [order_quality(*day) for day in days]
    for workers in (1, 2):
        streamed = list(stream_order_quality(iter(days), workers=workers))
        assert all(a.equals(b) for a, b in zip(streamed, one, strict=True))


def test_polars_frames_give_the_same_table() -> None:
    import polars as pl

    nbbo = [_quote(T0 - MS, 9.98, 10.02), _quote(T0 + 2 * MS, 10.0, 10.04)]
    orders, fills = [_order()], [_fill(price=10.01)]
    arrow = [_table(orders, ORDERS), _table(fills, FILLS), _table(nbbo, NBBO)]
    frames = [pl.from_arrow(t) for t in arrow]  # Polars strings come back as large/views
    assert order_quality(*frames).equals(order_quality(*arrow))
