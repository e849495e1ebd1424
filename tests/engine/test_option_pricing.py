"""The BAW American pricer against QuantLib, and implied volatility's roots and refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import QuantLib as ql

import pfof
from pfof.engine.option_pricing import (
    IVStatus,
    american_option_price,
    european_option_price,
    implied_vol_points,
    implied_volatility,
    is_call_array,
)

TODAY = ql.Date(5, 1, 2026)
DC = ql.Actual365Fixed()


class _QuantLib:
    """QuantLib's BAW engine over flat curves whose quotes are reset per option."""

    def __init__(self) -> None:
        ql.Settings.instance().evaluationDate = TODAY
        self.spot, self.rate, self.div, self.vol = (ql.SimpleQuote(v) for v in (100, 0, 0, 0.2))
        curve = ql.YieldTermStructureHandle
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(self.spot),
            curve(ql.FlatForward(TODAY, ql.QuoteHandle(self.div), DC, ql.Continuous)),
            curve(ql.FlatForward(TODAY, ql.QuoteHandle(self.rate), DC, ql.Continuous)),
            ql.BlackVolTermStructureHandle(
                ql.BlackConstantVol(TODAY, ql.NullCalendar(), ql.QuoteHandle(self.vol), DC)
            ),
        )
        self.engine = ql.BaroneAdesiWhaleyApproximationEngine(process)

    def option(self, call: bool, strike: float, days: int) -> ql.VanillaOption:
        kind = ql.Option.Call if call else ql.Option.Put
        opt = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, strike), ql.AmericanExercise(TODAY, TODAY + days)
        )
        opt.setPricingEngine(self.engine)
        return opt

    def price(
        self, call: bool, s: float, k: float, days: int, r: float, q: float, v: float
    ) -> float:
        for quote, value in ((self.spot, s), (self.rate, r), (self.div, q), (self.vol, v)):
            quote.setValue(value)
        return float(self.option(call, k, days).NPV())


@pytest.fixture(scope="module")
def quantlib() -> _QuantLib:
    return _QuantLib()


GRID = list(
    itertools.product(
        [True, False],  # call, put
        [70.0, 95.0, 100.0, 104.0, 140.0],  # spot
        [90.0, 100.0, 115.0],  # strike
        [1, 9, 45, 182, 730],  # days to expiry
        [0.0, 0.01, 0.05, 0.12],  # rate
        [0.0, 0.015, 0.07],  # dividend yield
        [0.03, 0.2, 0.6, 1.5],  # volatility
    )
)


def test_baw_prices_match_quantlib_to_1e6_on_a_grid(quantlib: _QuantLib) -> None:
    expected, refused = [], []
    for row in GRID:
        try:
            expected.append(quantlib.price(*row))
        except RuntimeError:  # QuantLib's critical-price iteration breaks down
            expected.append(np.nan)
            refused.append(row)
    want = np.array(expected)
    call, s, k, days, r, q, v = (np.array(c) for c in zip(*GRID, strict=True))
    got = american_option_price(call, s, k, days / 365.0, r, q, v)
    assert len(GRID) == 7200
    checked = np.isfinite(want)
    gap = np.abs(got - want)
    worst = int(np.nanargmax(gap))
    assert gap[checked].max() <= 1e-6, (GRID[worst], got[worst], want[worst])
    # The grid exercises early exercise: puts worth more than their European value ...
    european = european_option_price(call, s, k, days / 365.0, r, q, v)
    assert (got > european + 1e-3)[~call & checked].sum() > 500
    assert (got > european + 1e-3)[call & checked].sum() > 200
    # ... and where QuantLib gives up (1% volatility-free corners) pfof stays no-arbitrage.
    assert len(refused) < 20
    intrinsic = np.where(call, s - k, k - s)
    assert (got[~checked] >= np.maximum(intrinsic[~checked], european[~checked]) - 1e-12).all()


def test_baw_price_is_never_below_intrinsic_and_calls_without_dividends_are_european() -> None:
    rng = np.random.default_rng(7)
    n = 5_000
    call = rng.random(n) < 0.5
    s, k = rng.uniform(10, 300, n), rng.uniform(10, 300, n)
    t, r, q, v = (
        rng.uniform(0.001, 2, n),
        rng.uniform(0, 0.1, n),
        rng.uniform(0, 0.05, n),
        rng.uniform(0.05, 2, n),
    )
    price = american_option_price(call, s, k, t, r, q, v)
    intrinsic = np.where(call, np.maximum(s - k, 0), np.maximum(k - s, 0))
    assert (price >= intrinsic - 1e-12).all()
    no_div = american_option_price(True, s, k, t, r, 0.0, v)
    assert np.allclose(no_div, european_option_price(True, s, k, t, r, 0.0, v), atol=1e-12)


def test_prices_broadcast_and_zero_variance_gives_the_deterministic_value() -> None:
    grid = american_option_price(
        "P", 100.0, np.array([[90.0], [110.0]]), [0.1, 0.5], 0.05, 0.0, 0.3
    )
    assert grid.shape == (2, 2)
    assert american_option_price("put", 100.0, 110.0, 0.0, 0.05, 0.0, 0.3) == pytest.approx(10.0)
    assert american_option_price("call", 100.0, 90.0, 0.5, 0.0, 0.0, 0.0) == pytest.approx(10.0)


def test_option_rights_accept_booleans_and_words_and_refuse_anything_else() -> None:
    assert is_call_array(["call", "Put", "C", "p"]).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="option right"):
        is_call_array(["straddle"])


def test_implied_volatility_recovers_the_volatility_that_priced_the_option() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    call = rng.random(n) < 0.5
    s = rng.uniform(20, 500, n)
    k = s * np.exp(rng.normal(0, 0.08, n))
    t = rng.integers(2, 120, n) / 365
    q = rng.choice([0.0, 0.01, 0.03], n)
    v = rng.uniform(0.1, 1.2, n)
    price = american_option_price(call, s, k, t, 0.045, q, v)
    iv = implied_volatility(call, price, s, k, t, 0.045, q)
    ok = iv.status == IVStatus.OK
    assert ok.mean() > 0.97
    # Every volatility returned reprices the option within the solver's tolerance ...
    repriced = american_option_price(call, s, k, t, 0.045, q, np.where(ok, iv.volatility, 0.2))
    assert np.abs(repriced - price)[ok].max() <= 1e-10 * k.max()
    # ... and where the price moves with volatility it is the volatility used.
    vega = (american_option_price(call, s, k, t, 0.045, q, v + 1e-4) - price) / 1e-4
    sensitive = ok & (vega > 0.01 * s * np.sqrt(t))
    assert sensitive.mean() > 0.9
    assert np.abs(iv.volatility - v)[sensitive].max() < 1e-6
    # The rest are deep in the money at a price equal to the exercise value: reported.
    assert set(np.unique(iv.status[~ok]).tolist()) <= {IVStatus.UNDETERMINED}


def test_implied_volatility_reports_prices_outside_the_no_arbitrage_bounds() -> None:
    iv = implied_volatility(
        ["put", "call", "call", "put", "call", "call"],
        [9.0, 101.0, 5.0, 11.0 + 1e-13, np.nan, 3.0],
        100.0,
        [110.0, 100.0, 100.0, 111.0, 100.0, 100.0],
        [0.25, 0.25, 0.25, 0.25, 0.25, 0.0],
        0.04,
        0.0,
    )
    assert [IVStatus(c) for c in iv.status] == [
        IVStatus.BELOW_BOUND,  # a put below its exercise value 10
        IVStatus.ABOVE_BOUND,  # a call above the spot
        IVStatus.OK,
        IVStatus.UNDETERMINED,  # at the exercise value: any low volatility fits
        IVStatus.INVALID_INPUT,  # no price
        IVStatus.INVALID_INPUT,  # expired
    ]
    assert np.isnan(iv.volatility[[0, 1, 3, 4, 5]]).all()
    assert 0.0 < iv.volatility[2] < 1.0
    assert iv.counts() == {
        "OK": 1,
        "BELOW_BOUND": 1,
        "ABOVE_BOUND": 1,
        "UNDETERMINED": 1,
        "INVALID_INPUT": 2,
    }


def test_implied_volatility_agrees_with_quantlibs_solver_on_its_engine(quantlib: _QuantLib) -> None:
    rng = np.random.default_rng(3)
    rows = [
        (
            bool(rng.random() < 0.5),
            float(rng.uniform(50, 150)),
            float(k),
            int(d),
            0.03,
            float(q),
            float(v),
        )
        for k, d, q, v in zip(
            rng.choice([80.0, 95.0, 100.0, 105.0, 120.0], 200),
            rng.integers(3, 400, 200),
            rng.choice([0.0, 0.02, 0.05], 200),
            rng.uniform(0.15, 0.9, 200),
            strict=True,
        )
    ]
    found = []
    for call, s, k, days, r, q, v in rows:
        price = quantlib.price(call, s, k, days, r, q, v)
        opt = quantlib.option(call, k, days)

        def error(x: float, opt: ql.VanillaOption = opt, price: float = price) -> float:
            quantlib.vol.setValue(x)
            return float(opt.NPV()) - price

        found.append((price, ql.Brent().solve(error, 1e-12, 0.3, 0.02, 5.0)))
    cols = list(zip(*rows, strict=True))
    prices = np.array([p for p, _ in found])
    iv = implied_volatility(
        np.array(cols[0]),
        prices,
        np.array(cols[1]),
        np.array(cols[2]),
        np.array(cols[3]) / 365,
        0.03,
        np.array(cols[5]),
    )
    ql_vols = np.array([v for _, v in found])
    vega = (
        american_option_price(
            np.array(cols[0]),
            np.array(cols[1]),
            np.array(cols[2]),
            np.array(cols[3]) / 365,
            0.03,
            np.array(cols[5]),
            ql_vols + 1e-4,
        )
        - prices
    ) / 1e-4
    sensitive = vega > 0.05
    assert sensitive.sum() > 150
    assert (iv.status[sensitive] == IVStatus.OK).all()
    assert np.abs(iv.volatility - ql_vols)[sensitive].max() < 1e-6


def test_implied_vol_points_are_a_cost_to_a_buyer_above_the_midpoint_and_to_a_seller_below() -> (
    None
):
    cost = implied_vol_points(
        ["call", "call", "put", "call"],
        [1, -1, 1, 1],
        [2.10, 1.90, 3.00, 2.10],
        [1.95, 1.95, 1.95, np.nan],
        2.05,
        100.0,
        [105.0, 105.0, 95.0, 105.0],
        30 / 365,
        0.045,
        0.0,
    )
    assert (cost.fill_status == IVStatus.OK).all()
    assert (cost.mid_status == [IVStatus.OK] * 3 + [IVStatus.INVALID_INPUT]).all()
    assert cost.points[0] > 0 and cost.points[1] > 0
    assert np.isnan(cost.points[3]) and np.isnan(cost.iv_mid[3])
    assert cost.points[0] == pytest.approx((cost.iv_fill[0] - cost.iv_mid[0]) * 100)
    # Selling at 1.90 below the 2.00 midpoint costs about as much volatility as buying at 2.10.
    assert cost.points[1] == pytest.approx(cost.points[0], rel=0.05)
    # A volatility point is worth about vega / 100: the points times that recover the $0.10.
    v0 = float(cost.iv_mid[0])
    vega = american_option_price("call", 100.0, 105.0, 30 / 365, 0.045, 0.0, v0 + 0.01) - 2.0
    assert cost.points[0] * float(vega) == pytest.approx(0.10, rel=0.05)


def test_the_pricer_is_reachable_from_import_pfof() -> None:
    assert pfof.american_option_price is american_option_price
    assert pfof.implied_volatility is implied_volatility
    assert pfof.IVStatus is IVStatus
