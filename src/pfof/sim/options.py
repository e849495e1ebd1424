"""Listed equity options of the simulated market: series, fair values, spreads, improvement.

Series are American calls and puts on the most active stocks above $5, at a few monthly-style
expiries (Fridays after the simulated period) and strikes around the money on the listed
strike interval. Each day's opening reference price is the Barone-Adesi-Whaley value
(``engine.option_pricing``) at the underlying's open, with the underlying's volatility,
the rate ``RATE`` and the underlying's dividend yield: the ground truth an implied volatility
should recover. Intraday the option's mid follows the quote generator's random walk with the
option's elasticity times the underlying's volatility. The quoted half spread, in dollars,
widens with the option's price and with time to expiry (docs/options.md).

Wholesalers and options market makers improve option orders by a fraction of the half
spread that falls as the payment per contract rises, as for stocks, rounded down to the
options tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from pfof.engine.option_pricing import american_option_price

#: Continuously compounded risk-free rate of the simulated market (annual).
RATE = 0.045
#: Expiries: the first Friday at least this many calendar days after the first simulated
#: day (not the last: a day's market must not depend on how many days follow it). Runs
#: longer than about five weeks trade the first expiry's series past it (docs/options.md).
EXPIRY_OFFSETS_DAYS = (35, 63, 126)
#: Strike interval by underlying price (upper price bound, interval in dollars).
STRIKE_INTERVALS = ((25.0, 1.0), (200.0, 5.0), (float("inf"), 10.0))
#: Half spread in dollars: ``HALF_SPREAD_MIN + HALF_SPREAD_SLOPE * price * (1 + sqrt(T))``.
HALF_SPREAD_MIN = 0.01
HALF_SPREAD_SLOPE = 0.012
#: Options improvement per market maker: the fraction of the half spread returned when it
#: pays nothing (wholesalers not listed return none).
OPTION_PI_BASE = {"SIMA": 0.30, "SIMG": 0.22, "SIMH": 0.34}
#: Improvement lost per dollar of payment per share, relative to the half spread.
OPTION_PI_SLOPE = 2.0
#: Chance that an option order fills at the quote with no improvement.
OPTION_P_AT_QUOTE = 0.35
#: Dividend yields drawn per underlying.
DIVIDEND_YIELDS = (0.0, 0.0, 0.005, 0.015, 0.03)


@dataclass(frozen=True)
class OptionSeries:
    """The option series of a universe (arrays of equal length, one per series)."""

    symbols: list[str]  # OCC/OSI symbols
    underlying: np.ndarray  # int: stock index
    call: np.ndarray  # bool
    strike: np.ndarray  # float dollars
    expiry: list[date]
    dividend_yield: np.ndarray  # of the underlying, continuous
    volatility: np.ndarray  # the underlying's annual volatility (the pricing volatility)


def _interval(price: float) -> float:
    return next(step for bound, step in STRIKE_INTERVALS if price < bound)


def _friday_on_or_after(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def build_series(
    rng: np.random.Generator,
    n_series: int,
    tickers: list[str],
    price: np.ndarray,
    vol: np.ndarray,
    first_day: date,
) -> OptionSeries:
    """``n_series`` series on the first stocks (most active) priced at least $5.

    Series cycle over underlyings first, then call/put, expiry and strikes outward from the
    money, so a small count still covers calls, puts and several expiries.
    """
    eligible = np.flatnonzero(price >= 5.0)
    if len(eligible) == 0:
        eligible = np.array([int(np.argmax(price))])
    n_under = max(1, min(len(eligible), 6, -(-n_series // 6)))
    unders = eligible[:n_under]
    q_by_under = rng.choice(np.array(DIVIDEND_YIELDS), n_under)
    expiries = [_friday_on_or_after(first_day + timedelta(days=d)) for d in EXPIRY_OFFSETS_DAYS]
    symbols: list[str] = []
    under_idx, calls, strikes, exp_list, divs = [], [], [], [], []
    seen: set[str] = set()
    per_ring = 2 * len(expiries)
    j = 0
    # Candidates walk outward from the money (0, +1, -1, +2, -2 ... strike intervals); one
    # whose strike would fall below one interval repeats another and is skipped.
    while len(symbols) < n_series:
        u = j % n_under
        m = j // n_under
        j += 1
        call = m % 2 == 0
        expiry = expiries[(m // 2) % len(expiries)]
        ring = m // per_ring
        k_step = (ring + 1) // 2 * (1 if ring % 2 else -1)
        s = float(price[unders[u]])
        step = _interval(s)
        strike = round(s / step) * step + k_step * step
        root = tickers[unders[u]]
        symbol = f"{root:<6}{expiry:%y%m%d}{'C' if call else 'P'}{round(strike * 1000):08d}"
        if strike < step or symbol in seen:
            continue
        seen.add(symbol)
        symbols.append(symbol)
        under_idx.append(int(unders[u]))
        calls.append(call)
        strikes.append(strike)
        exp_list.append(expiry)
        divs.append(float(q_by_under[u]))
    under_arr = np.array(under_idx, dtype=np.int64)
    return OptionSeries(
        symbols=symbols,
        underlying=under_arr,
        call=np.array(calls, dtype=bool),
        strike=np.array(strikes, dtype=float),
        expiry=exp_list,
        dividend_yield=np.array(divs, dtype=float),
        volatility=vol[under_arr] if len(under_arr) else np.zeros(0),
    )


def years_to_expiry(series: OptionSeries, first_day: date, days: int) -> np.ndarray:
    """(days, series) years from each trading day's open to 16:00 on the expiry (ACT/365).

    Trading day ``d`` is placed ``d * 7 / 5`` calendar days after the first (weekends), the
    same approximation for every series, so fair values decay smoothly day to day.
    """
    day_offsets = np.arange(days) * 7.0 / 5.0
    to_expiry = np.array([(e - first_day).days for e in series.expiry], dtype=float)
    # From 09:30 to 16:00 is 6.5 hours of the expiry day.
    return np.maximum(to_expiry[None, :] - day_offsets[:, None] + 6.5 / 24, 0.5 / 24) / 365.0


def fair_values(series: OptionSeries, underlying_open: np.ndarray, years: np.ndarray) -> np.ndarray:
    """(days, series) BAW values at each day's underlying open."""
    return american_option_price(
        series.call[None, :],
        underlying_open[:, series.underlying],
        series.strike[None, :],
        years,
        RATE,
        series.dividend_yield[None, :],
        series.volatility[None, :],
    )


def elasticity_volatility(
    series: OptionSeries, spot: np.ndarray, value: np.ndarray, years: np.ndarray
) -> np.ndarray:
    """The option's own volatility: |dV/dS| S / V times the underlying's, clipped to 0.3-4."""
    bump = 0.01 * spot
    up = american_option_price(
        series.call,
        spot + bump,
        series.strike,
        years,
        RATE,
        series.dividend_yield,
        series.volatility,
    )
    down = american_option_price(
        series.call,
        spot - bump,
        series.strike,
        years,
        RATE,
        series.dividend_yield,
        series.volatility,
    )
    delta = np.abs(up - down) / (2 * bump)
    elasticity = delta * spot / np.maximum(value, 0.05)
    return np.clip(elasticity * series.volatility, 0.3, 4.0)


def half_spread_bps(value: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Typical NBBO half spread in basis points of the option's price."""
    price = np.maximum(value, 0.05)
    half = HALF_SPREAD_MIN + HALF_SPREAD_SLOPE * price * (1.0 + np.sqrt(years))
    return half / price * 1e4


def improvement_fraction(
    maker: np.ndarray,
    pay_per_share: np.ndarray,
    half_spread: np.ndarray,
    noise: np.ndarray,
    at_quote_draw: np.ndarray,
) -> np.ndarray:
    """Fraction of the half spread an option order is improved by (0 at the quote).

    ``maker`` holds market-maker ids, payments and half spreads share a unit; ``noise`` and
    ``at_quote_draw`` are the draws the equity model uses for the same orders.
    """
    base = np.array([OPTION_PI_BASE.get(str(m), 0.0) for m in maker], dtype=float)
    frac = base - OPTION_PI_SLOPE * pay_per_share / np.maximum(half_spread, 1e-9) + noise
    frac = np.clip(frac, 0.0, 0.9)
    return np.where(at_quote_draw < OPTION_P_AT_QUOTE, 0.0, frac)


#: The option series' terms and pricing inputs: the answer key for implied volatilities.
OPTION_SERIES = pa.schema(
    [
        ("symbol", pa.string()),
        ("underlying", pa.string()),
        ("right", pa.string()),  # call / put
        ("strike", pa.float64()),
        ("expiry", pa.date32()),
        ("exercise", pa.string()),  # american
        ("volatility", pa.float64()),  # the underlying's annual volatility used for pricing
        ("dividend_yield", pa.float64()),  # continuous
        ("rate", pa.float64()),  # continuous risk-free rate
    ]
)


def option_series_table(series: OptionSeries, tickers: list[str] | np.ndarray) -> pa.Table:
    """The ``OPTION_SERIES`` table of a universe's series (``tickers``: stock symbols)."""
    return pa.table(
        {
            "symbol": pa.array(series.symbols, pa.string()),
            "underlying": pa.array([str(tickers[i]) for i in series.underlying], pa.string()),
            "right": pa.array(["call" if c else "put" for c in series.call], pa.string()),
            "strike": pa.array(series.strike, pa.float64()),
            "expiry": pa.array(series.expiry, pa.date32()),
            "exercise": pa.array(["american"] * len(series.symbols), pa.string()),
            "volatility": pa.array(series.volatility, pa.float64()),
            "dividend_yield": pa.array(series.dividend_yield, pa.float64()),
            "rate": pa.array(np.full(len(series.symbols), RATE), pa.float64()),
        },
        schema=OPTION_SERIES,
    )
