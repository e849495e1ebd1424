"""The symbol universe: stocks with S&P 500 flags and regimes, plus option series on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from pfof.model.enums import Section
from pfof.sim.config import SimConfig
from pfof.sim.market_centers import EXCHANGE_BY_MIC, OPTIONS_EXCHANGES
from pfof.sim.options import (
    OptionSeries,
    build_series,
    elasticity_volatility,
    fair_values,
    years_to_expiry,
)
from pfof.sim.options import half_spread_bps as option_half_spread_bps
from pfof.sim.prices import UNITS, floor_tick

#: Seconds in a regular session, for converting annual volatility to per-second.
SESSION_SECONDS = 23_400
SPREAD_REGIMES = ("tight", "normal", "wide")


@dataclass(frozen=True)
class Universe:
    """Per-symbol arrays (index = symbol id); stocks first, then option series."""

    symbols: np.ndarray  # str
    section: np.ndarray  # str, model.enums.Section
    option: np.ndarray  # bool
    underlying: np.ndarray  # int, index of the underlying stock (self for stocks)
    open_units: np.ndarray  # int64 (n_days, n_symbols): opening reference price per day
    vol: np.ndarray  # annualised volatility
    liquidity: np.ndarray  # relative activity weight (sums to 1 over stocks)
    half_spread_bps: np.ndarray  # typical NBBO half spread in basis points of price
    regime: np.ndarray  # str, SPREAD_REGIMES
    venues: tuple[str, ...]  # every quoting venue (equity exchanges, then options exchanges)
    venue_mask: np.ndarray  # bool (n_symbols, n_venues): venues quoting the symbol
    venue_weight: np.ndarray  # float (n_venues,): relative quote update share
    listing: np.ndarray  # str: primary listing exchange (auctions)
    round_lot: np.ndarray  # int: quote size unit in shares (contracts for options)
    options: OptionSeries | None = None  # the option series' terms (symbols n_stocks..n-1)

    @property
    def n(self) -> int:
        return len(self.symbols)

    @property
    def n_stocks(self) -> int:
        return int((~self.option).sum())


def _tickers(rng: np.random.Generator, n: int) -> list[str]:
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        k = int(rng.integers(2, 5))
        t = "".join(rng.choice(letters, k))
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _round_lot(price_units: np.ndarray) -> np.ndarray:
    """Round-lot size by price tier (the 2025 amendments to the round-lot definition)."""
    p = price_units / UNITS
    return np.select([p <= 250, p <= 1000, p <= 10000], [100, 40, 10], 1).astype(np.int64)


def build_universe(config: SimConfig, first_day: date) -> Universe:
    """Draw the universe from the config's seed (independent of the day generators)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    n = config.symbols
    rank = np.arange(n)
    liquidity = 1.0 / (rank + 1.0) ** 0.9
    liquidity /= liquidity.sum()
    price = np.exp(rng.uniform(np.log(3.0), np.log(600.0), n))
    # Pin the extremes the issue asks for: one name above $1,000, a few sub-dollar names.
    price[1 % n] = rng.uniform(1050, 1600)
    n_penny = max(1, n // 15)
    price[n - n_penny :] = rng.uniform(0.08, 0.85, n_penny)
    sp500 = (rank < max(1, int(n * 0.45))) & (price >= 5)
    vol = np.where(sp500, rng.uniform(0.15, 0.35, n), rng.uniform(0.35, 0.9, n))
    vol = np.where(price < 1, rng.uniform(0.9, 1.6, n), vol)
    regime = np.where(
        sp500,
        np.where(rng.random(n) < 0.7, "tight", "normal"),
        np.where(rng.random(n) < 0.5, "normal", "wide"),
    )
    base_bps = np.select([regime == "tight", regime == "normal"], [0.5, 2.5], 10.0)
    half_spread_bps = base_bps * rng.uniform(0.7, 1.4, n)
    eq_venues = [m for m in config.exchanges]
    n_eq = len(eq_venues)
    eq_weight = np.array([EXCHANGE_BY_MIC[m].share for m in eq_venues])
    # Illiquid names are quoted on fewer venues; the largest-share venues always quote.
    n_quoting = np.clip(np.round(n_eq * (0.5 + 0.5 * liquidity / liquidity[0] ** 0.3)), 3, n_eq)
    n_quoting = np.where(sp500, n_eq, n_quoting).astype(int)
    order = np.argsort(-eq_weight, kind="stable")
    eq_mask = np.zeros((n, n_eq), dtype=bool)
    for i in range(n):
        eq_mask[i, order[: n_quoting[i]]] = True
    listing = np.where(rng.random(n) < 0.45, "XNYS", np.where(rng.random(n) < 0.9, "XNAS", "ARCX"))
    listing = np.array([m if m in eq_venues else eq_venues[0] for m in listing])

    n_opt = config.option_series if config.option_order_share > 0 else 0
    tickers = _tickers(rng, n)
    # Daily opening prices: a random walk over days (overnight and intraday moves combined),
    # drawn here so that each day can be generated on its own.
    rets = rng.normal(0.0, vol / np.sqrt(252), (config.days, n))
    rets[0] = 0.0
    stock_open = price[None, :] * np.exp(np.cumsum(rets, axis=0))
    # Sub-dollar stocks stay sub-dollar.
    stock_open = np.where(
        price[None, :] < 1, np.clip(stock_open, 0.02, 0.95), np.maximum(stock_open, 1.0)
    )
    # Options draw from their own stream: the stock market is the same with or without them.
    series = build_series(
        np.random.default_rng(np.random.SeedSequence([config.seed, 12])),
        n_opt,
        tickers,
        price,
        vol,
        first_day,
    )
    stock_units = floor_tick(np.rint(stock_open * UNITS).astype(np.int64), False)
    # Option fair values at the stocks' opening quotes (the prices the quote generator uses).
    years = years_to_expiry(series, first_day, config.days)
    fair = fair_values(series, stock_units / UNITS, years)
    opt_vol = elasticity_volatility(
        series, stock_units[0, series.underlying] / UNITS, fair[0], years[0]
    )
    n_all = n + n_opt
    op_venues = [e.mic for e in OPTIONS_EXCHANGES]
    venues = tuple(eq_venues + op_venues)
    mask = np.zeros((n_all, len(venues)), dtype=bool)
    mask[:n, :n_eq] = eq_mask
    mask[n:, n_eq:] = True
    weight = np.concatenate([eq_weight, [e.share for e in OPTIONS_EXCHANGES]])

    option = np.r_[np.zeros(n, bool), np.ones(n_opt, bool)]
    vol_all = np.r_[vol, opt_vol]
    hs_all = np.r_[half_spread_bps, option_half_spread_bps(fair[0], years[0])]
    # The smallest option quote is one nickel: deep out-of-the-money values are lifted to it.
    opt_units = floor_tick(np.rint(np.clip(fair, 0.05, None) * UNITS).astype(np.int64), True)
    open_units = np.concatenate([stock_units, opt_units], axis=1)
    return Universe(
        symbols=np.array(tickers + series.symbols, dtype=object),
        section=np.array(
            [str(Section.SP500) if s else str(Section.OTHER_STOCKS) for s in sp500]
            + [str(Section.OPTIONS)] * n_opt,
            dtype=object,
        ),
        option=option,
        underlying=np.r_[np.arange(n), series.underlying].astype(np.int64),
        open_units=open_units,
        vol=vol_all,
        liquidity=np.r_[liquidity, np.full(n_opt, liquidity.mean())],
        half_spread_bps=hs_all,
        regime=np.r_[regime, np.full(n_opt, "wide")],
        venues=venues,
        venue_mask=mask,
        venue_weight=weight / weight.sum(),
        listing=np.r_[listing, np.full(n_opt, "XCBO")],
        round_lot=np.r_[_round_lot(np.rint(price * UNITS)), np.ones(n_opt, np.int64)],
        options=series,
    )
