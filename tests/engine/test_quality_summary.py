"""Share-weighted quality summaries: averages by hand, nulls left out, days added up."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pfof.engine.quality_summary import QualityTotals, summarize_quality
from pfof.errors import InputError
from pfof.model.tables import ORDER_QUALITY


def _orders(rows: list[dict]) -> pa.Table:
    full = [{name: row.get(name) for name in ORDER_QUALITY.names} for row in rows]
    return pa.Table.from_pylist(full, schema=ORDER_QUALITY)


THREE = [
    {
        "executed_qty": 100.0,
        "quoted_spread": 0.02,
        "effective_spread": 0.01,
        "price_improvement_per_share": 0.005,
        "price_improvement_usd": 0.5,
        "realized_spread_15s": 0.004,
        "time_to_first_fill_ms": 10.0,
        "nbbo_state": "normal",
        "quote_position": "inside",
    },
    {
        "executed_qty": 300.0,
        "quoted_spread": 0.04,
        "effective_spread": 0.04,
        "price_improvement_per_share": 0.0,
        "price_improvement_usd": 0.0,
        "realized_spread_15s": None,  # left out of that average, not counted as zero
        "time_to_first_fill_ms": 30.0,
        "nbbo_state": "normal",
        "quote_position": "at",
    },
    {  # unfilled: weighs nothing in the averages, counts as an order
        "executed_qty": 0.0,
        "quoted_spread": 0.10,
        "nbbo_state": "stale",
    },
]


def test_averages_weigh_each_order_by_its_executed_shares() -> None:
    s = summarize_quality(_orders(THREE))
    assert (s.orders, s.filled, s.shares) == (3, 2, 400.0)
    assert s.quoted_spread == pytest.approx((100 * 0.02 + 300 * 0.04) / 400)
    assert s.effective_spread == pytest.approx((100 * 0.01 + 300 * 0.04) / 400)
    assert s.eq_ratio == pytest.approx(0.0325 / 0.035)
    assert s.price_improvement_per_share == pytest.approx(0.5 / 400)
    assert s.price_improvement_usd == pytest.approx(0.5)
    assert s.realized_spread_15s == pytest.approx(0.004)  # only the order that has one
    assert s.realized_spread_1m is None  # no executed share has it
    assert s.time_to_first_fill_ms == pytest.approx((100 * 10 + 300 * 30) / 400)
    assert s.nbbo_states == {"normal": 2, "stale": 1}
    assert s.quote_positions == {"inside": 1, "at": 1}


def test_days_added_one_at_a_time_equal_the_whole() -> None:
    totals = QualityTotals()
    for row in THREE:
        totals.add(_orders([row]))
    whole = summarize_quality(_orders(THREE)).as_dict()
    assert totals.summary().as_dict() == {
        k: pytest.approx(v) if isinstance(v, float) else v for k, v in whole.items()
    }


def test_no_orders_give_zero_counts_and_no_averages() -> None:
    s = summarize_quality([])
    assert (s.orders, s.filled, s.shares, s.price_improvement_usd) == (0, 0, 0.0, 0.0)
    assert s.quoted_spread is None and s.eq_ratio is None and s.nbbo_states == {}


def test_a_table_without_the_summary_columns_is_an_input_error() -> None:
    with pytest.raises(InputError, match="missing column"):
        summarize_quality(pa.table({"executed_qty": [1.0]}))


def test_each_realized_spread_horizon_weighs_the_shares_measured_at_it() -> None:
    # E3: 100 shares executed each; order a had a valid 15 s midpoint for 20 of them only
    rows = [
        {"executed_qty": 100.0, "realized_spread_15s": 0.01, "realized_qty_15s": 20.0,
         "realized_spread_1m": 0.02, "realized_qty_1m": 100.0},
        {"executed_qty": 100.0, "realized_spread_15s": 0.03, "realized_qty_15s": 100.0,
         "realized_spread_1m": 0.04, "realized_qty_1m": 50.0},
        {"executed_qty": 100.0, "realized_qty_15s": 0.0, "realized_qty_1m": 0.0},
    ]  # fmt: skip
    s = summarize_quality(_orders(rows))
    assert s.realized_spread_15s == pytest.approx((20 * 0.01 + 100 * 0.03) / 120)
    assert s.realized_spread_1m == pytest.approx((100 * 0.02 + 50 * 0.04) / 150)
    assert s.shares == 300.0  # the executed shares themselves are unchanged


def test_a_table_written_before_the_measured_shares_weighs_by_executed_shares() -> None:
    rows = [
        {"executed_qty": 100.0, "realized_spread_15s": 0.01, "realized_qty_15s": 20.0},
        {"executed_qty": 300.0, "realized_spread_15s": 0.03, "realized_qty_15s": 300.0},
    ]
    full = _orders(rows)
    old = full.drop_columns([n for n in full.column_names if n.startswith("realized_qty_")])
    assert "realized_qty_15s" not in old.column_names
    expected = (100 * 0.01 + 300 * 0.03) / 400
    assert summarize_quality(old).realized_spread_15s == pytest.approx(expected)
    # read back from a store that filled the new column with nulls: the same fallback
    nulls = _orders([{**r, "realized_qty_15s": None} for r in rows])
    assert summarize_quality(nulls).realized_spread_15s == pytest.approx(expected)
    # days of old and new tables add up, each with its own weights
    both = summarize_quality([old, full])
    assert both.realized_spread_15s == pytest.approx(
        (100 * 0.01 + 300 * 0.03 + 20 * 0.01 + 300 * 0.03) / (400 + 320)
    )


def test_eq_takes_both_spreads_over_the_same_orders_leaving_crossed_ones_out() -> None:
    # E5: a crossed receipt quote gives an effective spread but no quoted spread
    rows = [
        {"executed_qty": 100.0, "effective_spread": 0.01, "quoted_spread": 0.02,
         "nbbo_state": "normal"},
        {"executed_qty": 300.0, "effective_spread": -0.04, "quoted_spread": None,
         "nbbo_state": "crossed"},
        {"executed_qty": 200.0, "effective_spread": 0.03, "quoted_spread": 0.04,
         "nbbo_state": "normal"},
    ]  # fmt: skip
    s = summarize_quality(_orders(rows))
    assert s.effective_spread == pytest.approx((1.0 - 12.0 + 6.0) / 600)  # every order
    assert s.quoted_spread == pytest.approx((2.0 + 8.0) / 300)  # those that have one
    assert s.eq_ratio == pytest.approx((1.0 + 6.0) / (2.0 + 8.0))
    assert s.as_dict()["eq_ratio"] == s.eq_ratio
    only_crossed = summarize_quality(_orders(rows[1:2]))
    assert only_crossed.effective_spread == pytest.approx(-0.04)
    assert only_crossed.quoted_spread is None and only_crossed.eq_ratio is None
