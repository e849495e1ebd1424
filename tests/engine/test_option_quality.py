"""engine.option_quality against the pure-Python reference, and its documented edge cases."""

from __future__ import annotations

import math
import random
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from pfof.engine.option_quality import OPTION_QUALITY, option_quality, options_outcome, parse_osi
from pfof.engine.quality import order_quality
from pfof.model.tables import FILLS, HORIZONS_NS, NBBO, ORDERS
from support.reference_option_quality import ref_baw, ref_option_quality
from support.reference_quality import ref_order_quality

MS = 1_000_000
T0 = 1_767_364_200_000_000_000  # 2026-01-02 14:30 UTC
RATE = 0.045
DIVIDENDS = {"ABC": 0.02}
UNDERLYING = {"ABC": 50.0, "XYZ": 120.0}


def _osi(root: str, expiry: date, right: str, strike: float) -> str:
    return f"{root:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"


def _market(seed: int) -> dict[str, Any]:
    """A few underlyings and option series, quotes around BAW values, a handful of orders."""
    rnd = random.Random(seed)
    nbbo: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    series = []
    for root, spot in UNDERLYING.items():
        for _ in range(3):
            ts = T0 + rnd.randint(0, 200) * 50 * MS
            mid = round(spot * (1 + rnd.uniform(-0.02, 0.02)), 2)
            nbbo.append(
                {"symbol": root, "ts": ts, "bid": mid - 0.01, "bid_size": 3, "ask": mid + 0.01}
            )
        for _ in range(3):
            right = rnd.choice("CP")
            expiry = rnd.choice([date(2026, 1, 16), date(2026, 2, 20), date(2026, 6, 18)])
            strike = round(spot * rnd.choice([0.8, 0.95, 1.0, 1.05, 1.2]))
            series.append((root, _osi(root, expiry, right, strike), right, strike, expiry, spot))
    for root, sym, right, strike, expiry, spot in series:
        years = (expiry - date(2026, 1, 2)).days / 365
        fair = ref_baw(right == "C", spot, strike, years, RATE, DIVIDENDS.get(root, 0.0), 0.35)
        for _ in range(2):
            half = rnd.choice([0.05, 0.10, 0.25])
            bid = max(round(fair - half, 2), 0.0)
            # Now and then a one-sided quote (no bid), whose midpoint has no volatility.
            nbbo.append(
                {
                    "symbol": sym,
                    "ts": T0 + rnd.randint(0, 200) * 50 * MS,
                    "bid": None if rnd.random() < 0.1 else bid,
                    "bid_size": 5,
                    "ask": round(fair + half, 2),
                }
            )
    for row in nbbo:
        row["ask_size"] = 4
    for i in range(12):
        root, sym, right, strike, expiry, spot = rnd.choice(series)
        received = T0 + rnd.randint(0, 300) * 50 * MS
        orders.append(
            {
                "order_id": f"o{i}",
                "broker": "BRKR",
                "customer_id": "c",
                "received_ts": received,
                "symbol": rnd.choice([sym, sym, sym, root, "NOTANOPTION"]),
                "section": "options",
                "side": rnd.choice(["buy", "sell"]),
                "quantity": float(rnd.randint(1, 20)),
                "order_type": "market",
                "limit_price": None,
                "stop_price": None,
                "time_in_force": "DAY",
                "directed": False,
                "held": True,
            }
        )
        quotes = [r for r in nbbo if r["symbol"] == sym and r["ts"] <= received]
        if quotes and rnd.random() < 0.9:
            q = quotes[-1]
            bid = q["bid"] if q["bid"] is not None else q["ask"] - 0.5
            # Fills inside, at or outside the quote, sometimes below intrinsic value.
            price = round(rnd.uniform(bid - 0.05, q["ask"] + 0.05), 2)
            if rnd.random() < 0.1:
                price = 0.01
            fills.append(
                {
                    "order_id": f"o{i}",
                    "seq": 0,
                    "venue": "SIMG",
                    "exec_ts": received + rnd.randint(0, 20) * 50 * MS,
                    "quantity": orders[-1]["quantity"],
                    "price": max(price, 0.01),
                }
            )
    orders.append({**orders[0], "order_id": "stock", "symbol": "ABC", "section": "sp500"})
    return {"nbbo": nbbo, "orders": orders, "fills": fills}


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    arrays = [
        pa.array(cols[f.name], pa.int64()).cast(f.type)
        if f.name.endswith("ts")
        else pa.array(cols[f.name], f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _close(actual: Any, expected: Any, tol: float) -> bool:
    if expected is None or actual is None:
        return actual is expected
    if isinstance(expected, float):
        return math.isclose(actual, expected, rel_tol=tol, abs_tol=tol)
    return bool(actual == expected)


@pytest.mark.parametrize("seed", range(12))
def test_option_quality_matches_the_reference_on_random_small_markets(seed: int) -> None:
    m = _market(seed)
    quality = order_quality(
        _table(m["orders"], ORDERS), _table(m["fills"], FILLS), _table(m["nbbo"], NBBO)
    )
    got = option_quality(quality, _table(m["nbbo"], NBBO), rate=RATE, dividend_yields=DIVIDENDS)
    assert got.schema.equals(OPTION_QUALITY)
    ref_quality = ref_order_quality(
        m["orders"], m["fills"], m["nbbo"], stale_after=None, horizons=HORIZONS_NS
    )
    for row in ref_quality:
        row["received_ts"] = next(
            o["received_ts"] for o in m["orders"] if o["order_id"] == row["order_id"]
        )
    want = ref_option_quality(ref_quality, m["nbbo"], RATE, DIVIDENDS)
    rows = got.to_pylist()
    assert [r["order_id"] for r in rows] == [w["order_id"] for w in want]
    for g, w in zip(rows, want, strict=True):
        for key, expected in w.items():
            # Volatilities: the solver stops within 1e-10 x strike in price; the bisection
            # reference goes to 1e-13 in volatility. Both agree far inside a vol point.
            tol = 1e-6 if key in ("iv_fill", "iv_mid", "vol_points") else 1e-9
            assert _close(g[key], expected, tol), (key, g[key], expected, w["order_id"])


def test_a_buy_above_the_midpoint_costs_volatility_and_per_contract_is_100_shares() -> None:
    sym = _osi("XYZ", date(2026, 2, 20), "C", 120)
    nbbo = [
        {"symbol": "XYZ", "ts": T0, "bid": 119.99, "bid_size": 1, "ask": 120.01, "ask_size": 1},
        {"symbol": sym, "ts": T0, "bid": 4.90, "bid_size": 1, "ask": 5.10, "ask_size": 1},
    ]
    orders = [
        {
            "order_id": "b",
            "broker": "B",
            "customer_id": "c",
            "received_ts": T0 + MS,
            "symbol": sym,
            "section": "options",
            "side": "buy",
            "quantity": 3.0,
            "order_type": "market",
            "time_in_force": "DAY",
            "directed": False,
            "held": True,
        }
    ]
    fills = [
        {
            "order_id": "b",
            "seq": 0,
            "venue": "V",
            "exec_ts": T0 + MS,
            "quantity": 3.0,
            "price": 5.05,
        }
    ]
    quality = order_quality(_table(orders, ORDERS), _table(fills, FILLS), _table(nbbo, NBBO))
    row = option_quality(quality, _table(nbbo, NBBO)).to_pylist()[0]
    assert row["price_improvement_per_contract"] == pytest.approx(5.0)  # 0.05 x 100
    assert row["price_improvement_usd"] == pytest.approx(15.0)
    assert row["effective_spread"] == pytest.approx(0.10)
    assert row["underlying_mid"] == pytest.approx(120.0)
    assert row["iv_fill_status"] == row["iv_mid_status"] == "OK"
    assert row["vol_points"] > 0
    assert row["vol_points"] == pytest.approx((row["iv_fill"] - row["iv_mid"]) * 100)


def test_osi_symbols_parse_and_anything_else_is_null() -> None:
    table = parse_osi(["ABC   260116P00045500", "ABC", "ABC   261399C00045500", None])
    assert table.to_pylist()[0] == {
        "underlying": "ABC",
        "right": "put",
        "strike": 45.5,
        "expiry": date(2026, 1, 16),
    }
    assert table.column("underlying").null_count == 3


def test_options_outcome_divides_payments_and_improvement_by_executed_contracts() -> None:
    rows = [
        # order_type, executed contracts, PI usd, vol points
        ("market", 2.0, 10.0, 0.5),
        ("marketable_limit", 3.0, 5.0, 1.0),
        ("non_marketable_limit", 5.0, 100.0, -2.0),  # not marketable: PI and points left out
        ("market", 0.0, None, None),  # unfilled
    ]
    quality = pa.Table.from_pylist(
        [
            {
                "order_type": t,
                "executed_contracts": n,
                "price_improvement_usd": pi,
                "vol_points": vp,
            }
            for t, n, pi, vp in rows
        ]
    )
    payments = pa.Table.from_pylist(
        [
            {"section": "options", "amount": Decimal("6.50")},
            {"section": "sp500", "amount": Decimal("99")},
        ]
    )
    got = options_outcome("x", quality, payments)
    assert got.orders == 2 and got.contracts == 5.0
    assert got.pfof_usd == Decimal("6.50") and got.pfof_per_contract == pytest.approx(0.65)
    assert got.pi_per_contract == pytest.approx(3.0)
    assert got.vol_points == pytest.approx((0.5 * 2 + 1.0 * 3) / 5)


def test_each_realized_spread_carries_its_contracts_and_old_tables_are_accepted() -> None:
    sym = _osi("XYZ", date(2026, 2, 20), "C", 120)
    quote = {"symbol": sym, "bid_size": 1, "ask_size": 1}
    nbbo = [
        {"symbol": "XYZ", "ts": T0, "bid": 119.99, "bid_size": 1, "ask": 120.01, "ask_size": 1},
        {**quote, "ts": T0, "bid": 4.90, "ask": 5.10},
        {**quote, "ts": T0 + 10_000 * MS, "bid": 5.20, "ask": 5.00},  # crossed from 10 s on
    ]
    order = {
        "order_id": "b",
        "broker": "B",
        "customer_id": "c",
        "received_ts": T0 + MS,
        "symbol": sym,
        "section": "options",
        "side": "buy",
        "quantity": 3.0,
        "order_type": "market",
        "time_in_force": "DAY",
        "directed": False,
        "held": True,
    }
    fills = [  # 1 contract whose horizons up to 1 s fall before the crossing, 2 whose do not
        {"order_id": "b", "seq": 0, "venue": "V", "exec_ts": T0 + MS, "quantity": 1.0,
         "price": 5.05},
        {"order_id": "b", "seq": 1, "venue": "V", "exec_ts": T0 + 9_960 * MS, "quantity": 2.0,
         "price": 5.06},
    ]  # fmt: skip
    quality = order_quality(_table([order], ORDERS), _table(fills, FILLS), _table(nbbo, NBBO))
    new = option_quality(quality, _table(nbbo, NBBO)).to_pylist()[0]
    assert new["executed_contracts"] == 3.0
    assert new["realized_qty_50ms"] == new["realized_qty_1s"] == 1.0
    assert new["realized_qty_15s"] == new["realized_qty_5m"] == 0.0
    assert new["realized_spread_50ms"] == pytest.approx(2 * (5.05 - 5.00))
    assert new["realized_spread_15s"] is None
    # a table written before realized_qty_* existed: accepted, weighed as it was then
    old_quality = quality.drop_columns([f"realized_qty_{h}" for h in HORIZONS_NS])
    old = option_quality(old_quality, _table(nbbo, NBBO)).to_pylist()[0]
    assert old["realized_qty_50ms"] == old["realized_qty_1s"] == 3.0  # all executed contracts
    assert old["realized_qty_15s"] == old["realized_qty_5m"] == 0.0  # no realized spread
    weights = {f"realized_qty_{h}" for h in HORIZONS_NS}
    assert {k: v for k, v in old.items() if k not in weights} == {
        k: v for k, v in new.items() if k not in weights
    }
