"""Retail orders of one day: arrivals, types, sides, sizes, limit and stop prices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pfof.sim.calendar import Session
from pfof.sim.config import SimConfig
from pfof.sim.market_centers import EXCHANGE_BY_MIC
from pfof.sim.prices import EMPTY, ceil_tick, floor_tick, tick
from pfof.sim.quotes import DayQuotes, asof, u_shape_inverse
from pfof.sim.universe import Universe

# Internal order kinds; the Rule 606 order type follows from the kind. Stop, on-open and
# on-close orders are 606 "other" orders; what makes each what it is sits in the order's own
# columns, which Rule 605 reads: a stop order has a ``stop_price`` (605 type MXXNY once
# triggered), on-open and on-close orders have the times in force OPG and CLS (not covered).
MARKET, MKT_LIMIT, NM_LIMIT, STOP, ON_OPEN, ON_CLOSE = range(6)
KIND_TO_TYPE = np.array(
    ["market", "marketable_limit", "non_marketable_limit", "other", "other", "other"],
    dtype=object,
)
SIDES = np.array(["buy", "sell", "sell_short"], dtype=object)
MICRO = 1_000_000  # quantity units per share (or per contract)


@dataclass
class DayOrders:
    """Order arrays of one day (prices in units, quantities in micro-shares/contracts)."""

    order_id: np.ndarray  # str
    broker: np.ndarray  # int index into config.brokers
    customer: np.ndarray  # int, per-broker customer number
    ts: np.ndarray  # received, UTC ns
    sym: np.ndarray
    kind: np.ndarray
    side: np.ndarray  # 0 buy, 1 sell, 2 sell short
    qty: np.ndarray  # micro units
    limit: np.ndarray  # units, EMPTY when none
    stop: np.ndarray  # units, EMPTY when none
    tif: np.ndarray  # str
    directed_to: np.ndarray  # venue index or -1
    held: np.ndarray  # bool
    nbbo_idx: np.ndarray  # NBBO row in force at receipt, -1 if none
    bid: np.ndarray  # NBBO at receipt (units, EMPTY when absent)
    ask: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ts)

    @property
    def buy(self) -> np.ndarray:
        return self.side == 0


def _sizes(
    rng: np.random.Generator,
    cfg: SimConfig,
    u: Universe,
    sym: np.ndarray,
    kind: np.ndarray,
    ref: np.ndarray,
) -> np.ndarray:
    """Micro-share quantities: fractional dollar orders, odd lots and a Pareto tail."""
    n = len(sym)
    mix = cfg.mix
    r = rng.random(n)
    frac = (r < mix.fractional) & (kind == MARKET)
    odd = (~frac) & (r < mix.fractional + mix.odd_lot)
    lot = u.round_lot[sym]
    tail = np.minimum(np.ceil(rng.pareto(mix.tail_alpha, n) + 1e-9), mix.max_shares // 100)
    shares = np.where(odd, np.minimum(np.exp(rng.uniform(0, np.log(99.5), n)), 99), lot * tail)
    qty = np.floor(shares).astype(np.int64) * MICRO
    dollars = np.exp(rng.normal(np.log(60.0), 1.0, n))
    fq = np.rint(dollars / np.maximum(ref, 1) * 1e4 * MICRO).astype(np.int64)
    qty = np.where(frac, np.clip(fq, 1_000, mix.max_shares * MICRO), qty)
    # Retail option orders: 1-20 contracts, most of them small.
    contracts = np.minimum(rng.geometric(0.3, n), 20).astype(np.int64) * MICRO
    return np.maximum(np.where(u.option[sym], contracts, qty), 1_000)


def generate_orders(
    cfg: SimConfig, u: Universe, session: Session, dq: DayQuotes, rng: np.random.Generator
) -> DayOrders:
    """The day's retail orders, sorted by receipt time (ties by symbol)."""
    n = cfg.orders_per_day
    n_opt_sym = int(u.option.sum())
    n_opt = round(n * cfg.option_order_share) if n_opt_sym else 0
    stocks = np.flatnonzero(~u.option)
    w = u.liquidity[stocks] / u.liquidity[stocks].sum()
    sym = np.concatenate(
        [
            rng.choice(stocks, n - n_opt, p=w),
            rng.choice(np.flatnonzero(u.option), n_opt) if n_opt else np.zeros(0, np.int64),
        ]
    ).astype(np.int64)
    opt = u.option[sym]
    mix = cfg.mix
    p = np.array(
        [
            mix.market,
            mix.marketable_limit,
            mix.non_marketable_limit,
            mix.stop,
            mix.on_open,
            mix.on_close,
        ]
    )
    kind = rng.choice(6, n, p=p / p.sum())
    kind = np.where(opt & (kind >= STOP), MARKET, kind)
    dur = session.close_ns - session.open_ns
    ts = session.open_ns + (u_shape_inverse(rng.random(n), 1.5, 1.0, 0.05) * (dur - 1)).astype(
        np.int64
    )
    pre = rng.integers(60 * 10**9, 3 * 3600 * 10**9, n)
    ts = np.where(kind == ON_OPEN, session.open_ns - pre, ts)
    before_close = rng.integers(10 * 60 * 10**9, min(2 * 3600 * 10**9, dur - 10**9), n)
    ts = np.where(kind == ON_CLOSE, session.close_ns - before_close, ts)
    shares = np.array([b.share for b in cfg.brokers])
    broker = rng.choice(len(cfg.brokers), n, p=shares / shares.sum())
    customer = np.floor(cfg.customers_per_broker * rng.random(n) ** 3).astype(np.int64)
    p_buy = rng.beta(12, 11, u.n)[sym]
    side = np.where(rng.random(n) < p_buy, 0, 1)
    side = np.where((side == 1) & ~opt & (rng.random(n) < mix.sell_short), 2, side)
    order = np.lexsort((sym, ts))
    sym, kind, ts, broker, customer, side = (
        a[order] for a in (sym, kind, ts, broker, customer, side)
    )
    opt = u.option[sym]
    idx = asof(dq, sym, ts, session)
    has = idx >= 0
    bid = np.where(has, dq.n_bid[np.maximum(idx, 0)], EMPTY)
    ask = np.where(has, dq.n_ask[np.maximum(idx, 0)], EMPTY)
    open_ref = u.open_units[session.index][sym]
    ref_bid = np.where(bid != EMPTY, bid, np.where(ask != EMPTY, ask - tick(ask, opt), open_ref))
    ref_ask = np.where(ask != EMPTY, ask, ref_bid + tick(ref_bid, opt))
    ref_bid = np.minimum(ref_bid, ref_ask - tick(ref_ask, opt))
    ref_bid = np.maximum(ref_bid, 1)
    buy = side == 0
    qty = _sizes(rng, cfg, u, sym, kind, (ref_bid + ref_ask) // 2)
    k_ml = rng.geometric(0.5, n) - 1
    k_nml = (rng.geometric(0.3, n) - 1) * np.where(rng.random(n) < 0.1, 8, 1)
    k_stop = rng.geometric(0.15, n)
    t_b, t_a = tick(ref_bid, opt), tick(ref_ask, opt)
    ml = np.where(buy, ceil_tick(ref_ask + k_ml * t_a, opt), floor_tick(ref_bid - k_ml * t_b, opt))
    nml = np.where(
        buy, floor_tick(ref_bid - k_nml * t_b, opt), ceil_tick(ref_ask + k_nml * t_a, opt)
    )
    stp = np.where(
        buy, ceil_tick(ref_ask + k_stop * t_a, opt), floor_tick(ref_bid - k_stop * t_b, opt)
    )
    limit = np.select([kind == MKT_LIMIT, kind == NM_LIMIT], [ml, nml], EMPTY)
    stop = np.where(kind == STOP, stp, EMPTY)
    tif = np.select(
        [kind == MKT_LIMIT, kind == NM_LIMIT, kind == ON_OPEN, kind == ON_CLOSE],
        [
            np.where(rng.random(n) < 0.3, "IOC", "DAY"),
            np.where(rng.random(n) < 0.3, "GTC", "DAY"),
            "OPG",
            "CLS",
        ],
        "DAY",
    ).astype(object)
    eq_idx = np.flatnonzero([not EXCHANGE_BY_MIC[v].options for v in u.venues])
    vw = u.venue_weight[eq_idx] / u.venue_weight[eq_idx].sum()
    directed = (rng.random(n) < mix.directed) & ~opt & (kind <= STOP)
    directed_to = np.where(directed, rng.choice(eq_idx, n, p=vw), -1)
    held = rng.random(n) >= mix.not_held
    day = session.day.strftime("%Y%m%d")
    order_id = np.array([f"{day}-{i:07d}" for i in range(n)], dtype=object)
    return DayOrders(
        order_id,
        broker,
        customer,
        ts,
        sym,
        kind,
        side,
        qty,
        limit,
        stop,
        tif,
        directed_to,
        held,
        idx,
        bid,
        ask,
    )
