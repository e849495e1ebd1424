"""The compiled implied-volatility kernel: its per-option BAW price is the vectorised
pricer's to the last bits, and its volatilities reprice with the vectorised pricer."""

from __future__ import annotations

import math

import numpy as np

from pfof.engine.option_kernels import _baw, implied_volatility_kernel
from pfof.engine.option_pricing import PRICE_TOLERANCE, IVStatus, american_option_price


def _grid(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    spot = rng.uniform(5.0, 500.0, n)
    return {
        "call": rng.random(n) < 0.5,
        "spot": spot,
        "strike": np.round(spot * np.exp(rng.normal(0.0, 0.2, n)), 1),
        "t": rng.uniform(1.0, 400.0, n) / 365.0,
        "r": rng.choice(np.array([0.0, 0.01, 0.045, 0.08]), n),
        "q": rng.choice(np.array([0.0, 0.005, 0.03]), n),
        "vol": rng.uniform(0.03, 1.5, n),
    }


def test_the_kernels_baw_price_is_the_vectorised_pricers() -> None:
    g = _grid(2_000, 1)
    expected = american_option_price(
        g["call"], g["spot"], g["strike"], g["t"], g["r"], g["q"], g["vol"]
    )
    for i in range(expected.size):
        s, k, t, r, q = (float(g[key][i]) for key in ("spot", "strike", "t", "r", "q"))
        rd, qd = math.exp(-r * t), math.exp(-q * t)
        fw = s * qd / rd
        logs = (math.log(fw / k), math.log(qd / rd), math.log(rd))
        phi = 1.0 if g["call"][i] else -1.0
        got = _baw(phi, s, k, t, rd, qd, fw, *logs, float(g["vol"][i]))
        assert abs(got - expected[i]) <= 1e-12 * max(1.0, expected[i]), i


def test_kernel_volatilities_reprice_and_out_of_bound_prices_get_their_status() -> None:
    g = _grid(5_000, 2)
    price = american_option_price(
        g["call"], g["spot"], g["strike"], g["t"], g["r"], g["q"], g["vol"]
    )
    price[:3] = [-1.0, np.nan, 1e9]  # below the bounds, invalid, above the bounds
    floats = [np.ascontiguousarray(price)] + [g[k] for k in ("spot", "strike", "t", "r", "q")]
    vol, status = implied_volatility_kernel(g["call"], *floats)
    assert list(status[:3]) == [IVStatus.BELOW_BOUND, IVStatus.INVALID_INPUT, IVStatus.ABOVE_BOUND]
    ok = status == IVStatus.OK
    assert ok.sum() > 4_500 and np.isnan(vol[~ok]).all()
    repriced = american_option_price(
        g["call"][ok], g["spot"][ok], g["strike"][ok], g["t"][ok], g["r"][ok], g["q"][ok], vol[ok]
    )
    tolerance = 1000 * PRICE_TOLERANCE * np.maximum(1.0, g["strike"][ok])  # secant acceptance
    assert (np.abs(repriced - price[ok]) <= tolerance).all()
