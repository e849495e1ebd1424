"""``charts.venue_stats`` (and the dashboard's records of it) weight each figure as Rule 605
aggregates (docs/rule605.md E3, E5): realized spreads by the shares measured at their horizon,
E/Q's two halves and the quoted spread over the orders that have a quoted spread. The expected
values are worked out by hand from the rows below."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from pfof.model.tables import HORIZONS_NS
from pfof.reports.charts import venue_stats
from pfof.web.dashboard import venue_stats_records


def _order(venue: str | None, order_type: str, qty: float, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "venue": venue,
        "order_type": order_type,
        "executed_qty": qty,
        "effective_spread": None,
        "quoted_spread": None,
        "price_improvement_per_share": None,
        "price_improvement_usd": None,
        "quote_position": None,
    }
    for h in HORIZONS_NS:
        row[f"realized_spread_{h}"] = None
        row[f"realized_qty_{h}"] = 0.0
    row.update(values)
    return row


ROWS = [
    # V1: a normal quote, 100 shares; 15 s measured on all, 1 min on 40
    _order(
        "V", "market", 100.0,
        effective_spread=0.02, quoted_spread=0.04, price_improvement_per_share=0.01,
        price_improvement_usd=1.0, quote_position="inside",
        realized_spread_15s=0.01, realized_qty_15s=100.0,
        realized_spread_1m=0.02, realized_qty_1m=40.0,
    ),
    # V2: received while crossed: an effective spread but no quoted spread; no 1 min quote
    _order(
        "V", "marketable_limit", 300.0,
        effective_spread=-0.02, price_improvement_per_share=0.01, price_improvement_usd=3.0,
        quote_position="at", realized_spread_15s=0.03, realized_qty_15s=300.0,
    ),
    # V3: no usable receipt quote: no price figures, but realized spreads (E3)
    _order(
        "V", "market", 200.0,
        realized_spread_15s=0.05, realized_qty_15s=100.0,
        realized_spread_1m=0.04, realized_qty_1m=200.0,
    ),
    # not counted: a non-marketable limit order, an unfilled order, an order without a venue
    _order("V", "non_marketable_limit", 500.0, effective_spread=1.0, quoted_spread=1.0,
           realized_spread_15s=1.0, realized_qty_15s=500.0),
    _order("V", "market", 0.0, realized_spread_15s=1.0),
    _order(None, "market", 50.0, effective_spread=1.0, quoted_spread=1.0),
    # W: a locked quote (quoted spread 0): E/Q undefined, quoted spread 0
    _order(
        "W", "market", 10.0,
        effective_spread=0.0, quoted_spread=0.0, price_improvement_per_share=0.0,
        price_improvement_usd=0.0, quote_position="at",
    ),
]  # fmt: skip


def _stats(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["venue"]: r for r in venue_stats(frame).iter_rows(named=True)}


def test_each_figure_is_weighted_over_the_orders_that_define_it() -> None:
    v, w = _stats(pl.DataFrame(ROWS)).values()
    assert v["venue"] == "V" and v["orders"] == 2 and v["shares"] == 400  # V1, V2
    # effective spread over V1 and V2: (100 x 2 - 300 x 2) / 400 = -1 cent
    assert v["eff_cents"] == pytest.approx(-1.0)
    # price improvement: (100 x 1 + 300 x 1) / 400 = 1 cent; $1 + $3
    assert v["pi_cents"] == pytest.approx(1.0) and v["pi_usd"] == pytest.approx(4.0)
    # quoted spread over V1 alone, the one order with a quoted spread: 4 cents (not 4 x 100/400)
    assert v["quoted_cents"] == pytest.approx(4.0)
    # E/Q over the same order: 2 / 4 (not (2 - 6) / 4)
    assert v["eq"] == pytest.approx(0.5)
    assert v["improved"] == pytest.approx(0.5)
    # 15 s: (1 x 100 + 3 x 300 + 5 x 100) / (100 + 300 + 100) = 3 cents (V3 counts, on 100)
    assert v["rs_15s"] == pytest.approx(3.0)
    # 1 min: (2 x 40 + 4 x 200) / 240 cents
    assert v["rs_1m"] == pytest.approx(880 / 240)
    assert v["rs_5m"] is None  # no order has a 5 min quote
    assert w["orders"] == 1 and w["quoted_cents"] == 0.0 and w["eq"] is None


def test_a_table_without_measured_shares_weights_realized_spreads_by_executed_shares() -> None:
    old = pl.DataFrame(ROWS).drop([f"realized_qty_{h}" for h in HORIZONS_NS])
    v = _stats(old)["V"]
    # 15 s: (1 x 100 + 3 x 300 + 5 x 200) / 600; 1 min: (2 x 100 + 4 x 200) / 300
    assert v["rs_15s"] == pytest.approx(2000 / 600)
    assert v["rs_1m"] == pytest.approx(1000 / 300)
    # a null in the column falls back to the order's executed shares too
    nulls = pl.DataFrame(ROWS).with_columns(
        realized_qty_15s=pl.when(pl.col("venue") == "V").then(None).otherwise(0.0)
    )
    assert _stats(nulls)["V"]["rs_15s"] == pytest.approx(2000 / 600)


def test_a_venue_without_quoted_spreads_has_no_quoted_figures() -> None:
    crossed_only = pl.DataFrame([ROWS[1]])
    (v,) = _stats(crossed_only).values()
    assert v["quoted_cents"] is None and v["eq"] is None
    assert v["eff_cents"] == pytest.approx(-2.0)


def test_the_dashboard_shows_the_same_figures_rounded() -> None:
    records = {r["venue"]: r for r in venue_stats_records(pl.DataFrame(ROWS))}
    v, w = records["V"], records["W"]
    assert v["quoted_spread_cents"] == "4.0000" and v["eq_ratio"] == "0.5000"
    assert v["effective_spread_cents"] == "-1.0000"
    assert v["realized_spread_15s_cents"] == "3.0000"
    assert v["realized_spread_1m_cents"] == "3.6667"  # 880 / 240
    assert w["eq_ratio"] is None and w["quoted_spread_cents"] == "0.0000"
