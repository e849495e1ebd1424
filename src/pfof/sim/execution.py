"""Routing and execution of one day's orders: brokers' policies, wholesalers, exchanges.

Everything is vectorised over orders. An order goes through stages: its broker routes it
(seq 1); a stop waits for its trigger; a marketable order is filled by a wholesaler as
principal (at or inside the NBBO, price improvement from the PI model) or taken on an
exchange at the displayed quote; parts that a wholesaler does not fill are routed on to an
exchange; non-marketable limit orders rest until the price path trades through them or
the customer cancels; everything left at the close is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pfof.sim.brokers import EXCHANGES, RoutingPolicy, all_terms
from pfof.sim.calendar import Session
from pfof.sim.config import SimConfig
from pfof.sim.market_centers import DEFAULT_OPTIONS_MAKER, EXCHANGE_BY_MIC, WHOLESALERS
from pfof.sim.options import improvement_fraction as option_improvement
from pfof.sim.orders import MARKET, MICRO, MKT_LIMIT, NM_LIMIT, ON_CLOSE, ON_OPEN, STOP, DayOrders
from pfof.sim.prices import EMPTY, floor_tick, tick
from pfof.sim.quotes import DayQuotes, asof, first_passage
from pfof.sim.universe import Universe

Arr = np.ndarray
BIG = np.iinfo(np.int64).max // 4
SECTIONS = ("sp500", "other_stocks", "options")
ORDER_TYPES = ("market", "marketable_limit", "non_marketable_limit", "other")
BASES = ("per_share", "per_contract", "spread_fraction")
KIND_TYPE = np.array([0, 1, 2, 3, 3, 3])
# Liquidity of a fill.
PRINCIPAL, TAKE, MAKE, AUCTION = range(4)
LIQUIDITY = np.array(["principal", "take", "make", "auction"], dtype=object)
# Reasons a fill is flagged (index 0 = none).
REASONS = np.array(
    [None, "walked_book", "crossed_quote", "one_sided_quote", "no_quote"], dtype=object
)
R_WALKED = 1


@dataclass
class Venues:
    """Global venue index: quoting exchanges first, then wholesalers."""

    names: tuple[str, ...]
    n_quote: int
    wholesaler0: int
    take_fee_e8: np.ndarray  # per venue, int (taker pays; 0 for wholesalers)
    make_rebate_e8: np.ndarray  # per venue, int (paid to a resting order that fills)
    clearing_e8: np.ndarray  # per venue, wholesalers' per-share costs
    pi_base: np.ndarray
    fee_rank: np.ndarray  # quoting venues by taker cost, cheaper first

    @classmethod
    def build(cls, u: Universe) -> Venues:
        names = tuple(u.venues) + tuple(w.mpid for w in WHOLESALERS)
        nq = len(u.venues)
        take = np.array(
            [int(EXCHANGE_BY_MIC[v].take_fee * 10**8) for v in u.venues] + [0] * len(WHOLESALERS),
            dtype=np.int64,
        )
        make = np.array(
            [int(EXCHANGE_BY_MIC[v].make_rebate * 10**8) for v in u.venues]
            + [0] * len(WHOLESALERS),
            dtype=np.int64,
        )
        clearing = np.array(
            [0] * nq + [int(w.clearing_fee * 10**8) for w in WHOLESALERS], dtype=np.int64
        )
        pi_base = np.array([0.0] * nq + [w.pi_base for w in WHOLESALERS])
        fee_rank = np.argsort(np.argsort(take[:nq], kind="stable"), kind="stable")
        return cls(names, nq, nq, take, make, clearing, pi_base, fee_rank)


@dataclass
class Terms:
    """Dense arrangement lookup: [broker, venue, section, order_type] -> basis, rate."""

    basis: np.ndarray  # int8, -1 = no arrangement
    rate_e8: np.ndarray  # int64, rate in 1e-8 of its unit

    @classmethod
    def build(cls, cfg: SimConfig, venues: Venues) -> Terms:
        shape = (len(cfg.brokers), len(venues.names), 3, 4)
        basis = np.full(shape, -1, np.int8)
        rate = np.zeros(shape, np.int64)
        vi = {v: i for i, v in enumerate(venues.names)}
        for b, broker in enumerate(cfg.brokers):
            for a in all_terms(broker, cfg.exchanges):
                if a.venue not in vi:
                    continue
                at = (b, vi[a.venue], SECTIONS.index(a.section), ORDER_TYPES.index(a.order_type))
                basis[at] = BASES.index(a.basis)
                rate[at] = int(a.rate * 10**8)
        return cls(basis, rate)


@dataclass
class Legs:
    """Accumulates routes, fills and cancels as parallel lists of arrays."""

    routes: dict[str, list[np.ndarray]] = field(default_factory=dict)
    fills: dict[str, list[np.ndarray]] = field(default_factory=dict)
    cancels: dict[str, list[np.ndarray]] = field(default_factory=dict)
    #: Orders that must rest: (order idx, start ts, venue, qty, routed by) arrays.
    resting: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    @staticmethod
    def _add(target: dict[str, list[np.ndarray]], **cols: np.ndarray) -> None:
        for k, v in cols.items():
            target.setdefault(k, []).append(np.asarray(v))

    def route(self, order: Arr, venue: Arr, ts: Arr, qty: Arr, stage: Arr) -> None:
        self._add(self.routes, order=order, venue=venue, ts=ts, qty=qty, stage=stage)

    def fill(
        self,
        order: Arr,
        venue: Arr,
        ts: Arr,
        qty: Arr,
        price: Arr,
        liq: Arr | int,
        by: Arr | int,
        reason: Arr | int,
        stage: int,
    ) -> None:
        n = len(order)
        self._add(
            self.fills,
            order=order,
            venue=venue,
            ts=ts,
            qty=qty,
            price=price,
            liq=np.broadcast_to(liq, n),
            by=np.broadcast_to(by, n),
            reason=np.broadcast_to(reason, n),
            stage=np.broadcast_to(stage, n),
        )

    def cancel(self, order: Arr, ts: Arr, qty: Arr) -> None:
        self._add(self.cancels, order=order, ts=ts, qty=qty)

    @staticmethod
    def cat(d: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in d.items()}


def nbbo_state(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """normal / locked / crossed / one_sided / empty for NBBO rows (units, EMPTY)."""
    hb, ha = bid != EMPTY, ask != EMPTY
    return np.select(
        [hb & ha & (ask > bid), hb & ha & (ask == bid), hb & ha, hb | ha],
        ["normal", "locked", "crossed", "one_sided"],
        "empty",
    ).astype(object)


@dataclass
class Context:
    cfg: SimConfig
    u: Universe
    s: Session
    q: DayQuotes
    o: DayOrders
    rng: np.random.Generator
    v: Venues
    t: Terms

    def __post_init__(self) -> None:
        q = self.q
        self.usable = (q.n_bid != EMPTY) & (q.n_ask != EMPTY) & (q.n_ask >= q.n_bid)
        self.sec = np.where(self.u.option, 2, np.where(self.u.section == "sp500", 0, 1))
        self.mult = np.where(self.u.option, 100, 1).astype(np.int64)
        self.otype = KIND_TYPE[self.o.kind]
        self.sign = np.where(self.o.buy, 1, -1)

    def row(self, sym: np.ndarray, ts: np.ndarray) -> np.ndarray:
        return asof(self.q, sym, ts, self.s)

    def pfof_per_share_units(self, orders: np.ndarray, venue: np.ndarray) -> np.ndarray:
        """Expected payment per share (units of $0.0001, float) for routing decisions."""
        o = self.o
        b = o.broker[orders]
        sec = self.sec[o.sym[orders]]
        ot = self.otype[orders]
        basis = self.t.basis[b, venue, sec, ot]
        rate = self.t.rate_e8[b, venue, sec, ot] / 1e8  # $/share, $/contract or fraction
        spread = np.where(
            (o.bid[orders] != EMPTY) & (o.ask[orders] != EMPTY),
            (o.ask[orders] - o.bid[orders]).astype(float),
            0.0,
        )
        return np.select(
            [basis == 0, basis == 1, basis == 2],
            [rate * 1e4, rate * 1e4 / 100, rate * np.maximum(spread, 0)],
            0.0,
        )


def _lat(rng: np.random.Generator, n: int, median_us: float) -> np.ndarray:
    return np.maximum(1000, rng.lognormal(np.log(median_us * 1000), 0.6, n)).astype(np.int64)


def choose_destination(c: Context) -> np.ndarray:
    """Seq-1 venue of every order (global venue index; -2 = "best exchange at execution")."""
    o, cfg, v, u = c.o, c.cfg, c.v, c.u
    n = o.n
    dest = np.full(n, -2, np.int64)
    wh_names = v.names[v.wholesaler0 :]
    opt = u.option[o.sym]
    for b, broker in enumerate(cfg.brokers):
        mine = np.flatnonzero(o.broker == b)
        if len(mine) == 0:
            continue
        eq_w = np.array(
            [
                v.wholesaler0 + wh_names.index(w)
                for w in broker.wholesalers
                if WHOLESALERS[wh_names.index(w)].equities
            ],
            dtype=np.int64,
        )
        op_w = np.array(
            [
                v.wholesaler0 + wh_names.index(w)
                for w in broker.wholesalers
                if WHOLESALERS[wh_names.index(w)].options
            ],
            dtype=np.int64,
        )
        if len(op_w) == 0:
            op_w = np.array([v.wholesaler0 + wh_names.index(DEFAULT_OPTIONS_MAKER)])
        # Options: the options market maker paying the most per contract, or for a best-price
        # broker the one with the best expected improvement (sim.options' model).
        om = mine[opt[mine]]
        if len(om):
            pay = np.stack([c.pfof_per_share_units(om, np.full(len(om), w)) for w in op_w], 1)
            score = pay
            if broker.policy == RoutingPolicy.BEST_PI:
                hs = np.where(
                    (o.bid[om] != EMPTY) & (o.ask[om] != EMPTY), (o.ask[om] - o.bid[om]) / 2.0, 0.0
                )
                score = np.stack(
                    [
                        hs
                        * option_improvement(
                            np.full(len(om), v.names[w]),
                            pay[:, k],
                            hs,
                            np.zeros(len(om)),
                            np.ones(len(om)),
                        )
                        for k, w in enumerate(op_w)
                    ],
                    1,
                )
            score = score + c.rng.random(pay.shape) * 1e-9
            dest[om] = op_w[score.argmax(1)]
        sm = mine[~opt[mine]]
        if len(sm) == 0:
            continue
        if broker.policy == RoutingPolicy.EXCHANGES_ONLY or len(eq_w) == 0:
            pick = np.full(len(sm), -2)
        elif broker.policy == RoutingPolicy.FIXED_SPLIT:
            names = [s for s, _ in broker.split]
            wts = np.array([w for _, w in broker.split])
            choice = c.rng.choice(len(names), len(sm), p=wts / wts.sum())
            idx = np.array(
                [-2 if s == EXCHANGES else v.wholesaler0 + wh_names.index(s) for s in names]
            )
            pick = idx[choice]
        else:
            pay = np.stack([c.pfof_per_share_units(sm, np.full(len(sm), w)) for w in eq_w], 1)
            if broker.policy == RoutingPolicy.MAX_PFOF:
                score = pay
            else:
                hs = np.where(
                    (o.bid[sm] != EMPTY) & (o.ask[sm] != EMPTY), (o.ask[sm] - o.bid[sm]) / 2.0, 0.0
                )[:, None]
                frac = v.pi_base[eq_w][None, :] - cfg.pi.slope * pay / np.maximum(hs, 1e-9)
                score = hs * np.clip(frac, 0, cfg.pi.cap)
            score = score + c.rng.random(score.shape) * 1e-9
            pick = eq_w[score.argmax(1)]
        nml = o.kind[sm] == NM_LIMIT
        if broker.nml_to == EXCHANGES:
            pick = np.where(nml, -2, pick)
        dest[sm] = pick
    auction = (o.kind == ON_OPEN) | (o.kind == ON_CLOSE)
    listing = np.array([v.names.index(m) for m in u.listing], dtype=np.int64)
    dest = np.where(auction, listing[o.sym], dest)
    dest = np.where(o.directed_to >= 0, o.directed_to, dest)
    return dest


def execute_day(
    c: Context,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Routes, fills and cancels of the day (arrays; ``stage`` orders legs within an order)."""
    o, q, s, rng, v = c.o, c.q, c.s, c.rng, c.v
    legs = Legs()
    dest = choose_destination(c)
    n = o.n
    route_ts = o.ts + _lat(rng, n, 150)
    # A nonmarketable order routed to "the exchanges" joins the venue at its side's best.
    j0 = c.row(o.sym, o.ts)
    near_venue = np.where(
        o.buy, q.n_best_bid_venue[np.maximum(j0, 0)], q.n_best_ask_venue[np.maximum(j0, 0)]
    )
    listing = np.array([v.names.index(m) for m in c.u.listing])[o.sym]
    near_venue = np.where(j0 >= 0, near_venue, listing)
    resting_exchange = (dest == -2) & (o.kind == NM_LIMIT)
    dest = np.where(resting_exchange, near_venue, dest)
    auction = (o.kind == ON_OPEN) | (o.kind == ON_CLOSE)
    route_ts = np.where(auction, np.maximum(o.ts + 1000, route_ts), route_ts)
    # Seq-1 routes; orders for "the best exchange" are routed when the router picks it.
    known = dest >= 0
    all_idx = np.arange(n)
    legs.route(
        all_idx[known], dest[known], route_ts[known], o.qty[known], np.zeros(known.sum(), np.int64)
    )

    # --- auctions: the open and the close at the listing exchange, at the NBBO mid.
    a = np.flatnonzero(auction)
    a_ts = np.where(o.kind[a] == ON_OPEN, s.open_ns, s.close_ns - 1)
    ja = c.row(o.sym[a], a_ts)
    ok = (ja >= 0) & c.usable[np.maximum(ja, 0)]
    jj = np.maximum(ja, 0)
    opt = c.u.option[o.sym[a]]
    price = floor_tick((q.n_bid[jj] + q.n_ask[jj]) // 2, opt)
    price = np.maximum(price, q.n_bid[jj])
    legs.fill(a[ok], dest[a[ok]], a_ts[ok], o.qty[a[ok]], price[ok], AUCTION, -1, 0, 1)
    legs.cancel(a[~ok], np.full((~ok).sum(), s.close_ns), o.qty[a[~ok]])

    # --- stops: wait for the trigger, then behave as market orders.
    st = np.flatnonzero(o.kind == STOP)
    jst = np.maximum(c.row(o.sym[st], o.ts[st]), q.seg_start[o.sym[st]])
    ask_v = np.where(q.n_ask == EMPTY, -BIG, q.n_ask)
    bid_v = np.where(q.n_bid == EMPTY, BIG, q.n_bid)
    buy_st = o.buy[st]
    stop_end = q.seg_end[o.sym[st]]
    trig_b = first_passage(-ask_v, jst, stop_end, -o.stop[st])
    trig_s = first_passage(bid_v, jst, stop_end, o.stop[st])
    trig = np.where(buy_st, trig_b, trig_s)
    fired = trig < stop_end
    legs.cancel(st[~fired], np.full((~fired).sum(), s.close_ns), o.qty[st[~fired]])
    st, trig = st[fired], trig[fired]

    # --- marketable orders (market, marketable limit, triggered stops).
    mk = np.flatnonzero((o.kind == MARKET) | (o.kind == MKT_LIMIT))
    m_idx = np.concatenate([mk, st])
    m_start = np.concatenate([route_ts[mk], q.n_ts[trig] + 1000])
    order = np.argsort(m_idx, kind="stable")
    m_idx, m_start = m_idx[order], m_start[order]
    m_dest = dest[m_idx]
    at_wh = m_dest >= v.wholesaler0
    _wholesale(c, legs, m_idx[at_wh], m_start[at_wh], m_dest[at_wh])
    ex = m_idx[~at_wh]
    _take(
        c,
        legs,
        ex,
        m_start[~at_wh],
        o.qty[ex],
        np.where(dest[ex] >= 0, dest[ex], -2),
        np.full(len(ex), -1),
        stage=1,
    )
    # --- resting orders: non-marketable limits, plus limits no longer marketable.
    nm = np.flatnonzero(o.kind == NM_LIMIT)
    rest = [(nm, route_ts[nm], dest[nm], o.qty[nm], np.full(len(nm), -1)), *legs.resting]
    r_idx, r_start, r_venue, r_qty, r_by = (np.concatenate([r[k] for r in rest]) for k in range(5))
    # Immediate-or-cancel limits that are no longer marketable are cancelled, not rested.
    ioc = o.tif[r_idx] == "IOC"
    legs.cancel(r_idx[ioc], r_start[ioc] + 1000, r_qty[ioc])
    keep = ~ioc
    _rest(c, legs, r_idx[keep], r_start[keep], r_venue[keep], r_qty[keep], r_by[keep], ask_v, bid_v)
    return legs.cat(legs.routes), legs.cat(legs.fills), legs.cat(legs.cancels)


def _wholesale(c: Context, legs: Legs, idx: np.ndarray, start: np.ndarray, wh: np.ndarray) -> None:
    """Principal fills at wholesalers (at or inside the NBBO, improved by the PI model)."""
    o, q, rng, cfg, v = c.o, c.q, c.rng, c.cfg, c.v
    sym = o.sym[idx]
    opt = c.u.option[sym]
    ex_ts = start + _lat(rng, len(idx), 1500)
    j = c.row(sym, ex_ts)
    j = np.maximum(j, q.seg_start[sym])
    # Options wait for a usable quote; equities are routed away when the quote is unusable.
    bad = np.where(c.usable, 0, 1)
    jo = first_passage(bad, j, q.seg_end[sym], np.zeros(len(idx), np.int64))
    waited = opt & ~c.usable[j]
    j = np.where(waited, jo, j)
    lost = j >= q.seg_end[sym]
    jj = np.minimum(j, len(q.n_ts) - 1)
    ex_ts = np.where(waited & ~lost, np.maximum(q.n_ts[jj], ex_ts), ex_ts)
    ok = c.usable[jj] & ~lost
    bid, ask = q.n_bid[jj], q.n_ask[jj]
    buy = o.buy[idx]
    lim = o.limit[idx]
    still = (lim == EMPTY) | np.where(buy, lim >= ask, lim <= bid)
    away = ok & ~opt & (rng.random(len(idx)) < cfg.pi.p_route_away)
    qty = o.qty[idx]
    whole = qty // MICRO
    part = ok & still & ~away & ~opt & (whole >= 2) & (rng.random(len(idx)) < cfg.pi.p_partial)
    p_qty = np.where(
        part, np.maximum(1, (whole * rng.uniform(0.2, 0.9, len(idx))).astype(np.int64)) * MICRO, qty
    )
    principal = ok & still & ~away
    # Price improvement: a fraction of the half spread that shrinks with the PFOF paid.
    hs = (ask - bid) / 2.0
    pay = c.pfof_per_share_units(idx, wh)
    frac_noise = rng.normal(0, cfg.pi.noise, len(idx))
    frac = v.pi_base[wh] - cfg.pi.slope * pay / np.maximum(hs, 1e-9) + frac_noise
    frac = np.clip(frac, 0.0, cfg.pi.cap)
    at_quote_draw = rng.random(len(idx))
    frac = np.where((at_quote_draw < cfg.pi.p_at_quote) | opt | (hs <= 0), 0.0, frac)
    pi = np.floor(frac * hs).astype(np.int64)
    if opt.any():
        # Options: improvement falls with the payment per contract, in whole option ticks.
        o_frac = option_improvement(
            np.array(v.names)[wh[opt]],
            pay[opt],
            hs[opt],
            frac_noise[opt],
            at_quote_draw[opt],
        )
        o_tick = tick(np.where(buy[opt], ask[opt], bid[opt]), True)
        o_pi = np.floor(o_frac * np.maximum(hs[opt], 0) / o_tick).astype(np.int64) * o_tick
        pi[opt] = np.where(hs[opt] > 0, o_pi, 0)
    price = np.where(buy, ask - pi, bid + pi)
    price = np.where(
        lim == EMPTY, price, np.where(buy, np.minimum(price, lim), np.maximum(price, lim))
    )
    f = principal
    legs.fill(idx[f], wh[f], ex_ts[f], p_qty[f], price[f], PRINCIPAL, -1, 0, 1)
    # Unusable quotes, routing away and partial remainders: on to an exchange.
    go = (~ok & ~opt & ~lost) | (ok & still & away) | (principal & part)
    g_qty = np.where(principal, qty - p_qty, qty)
    g_ts = ex_ts + _lat(c.rng, len(idx), 100)
    _take(c, legs, idx[go], g_ts[go], g_qty[go], np.full(go.sum(), -2), wh[go], stage=2, route=True)
    legs.cancel(idx[lost], np.full(lost.sum(), c.s.close_ns), qty[lost])
    # A marketable limit that the market left behind rests at the wholesaler.
    r = ok & ~still
    legs.resting.append((idx[r], ex_ts[r], wh[r], qty[r], np.full(r.sum(), -1)))


def _take(
    c: Context,
    legs: Legs,
    idx: np.ndarray,
    ts: np.ndarray,
    qty: np.ndarray,
    venue: np.ndarray,
    by: np.ndarray,
    stage: int,
    route: bool = False,
) -> None:
    """Take liquidity on an exchange at the displayed far side; ``venue`` -2 = the cheapest
    venue at the best price. Size beyond the displayed quote walks the book one tick."""
    o, q, s = c.o, c.q, c.s
    if len(idx) == 0:
        return
    sym = o.sym[idx]
    buy = o.buy[idx]
    r_ts = ts
    ts = ts + _lat(c.rng, len(idx), 300)
    j = np.maximum(c.row(sym, ts), q.seg_start[sym])
    # Wait for a far side to exist (one-sided markets).
    jb = first_passage(
        np.where(q.n_ask == EMPTY, 1, 0), j, q.seg_end[sym], np.zeros(len(idx), np.int64)
    )
    js = first_passage(
        np.where(q.n_bid == EMPTY, 1, 0), j, q.seg_end[sym], np.zeros(len(idx), np.int64)
    )
    jw = np.where(buy, jb, js)
    missing = np.where(buy, q.n_ask[j] == EMPTY, q.n_bid[j] == EMPTY)
    j = np.where(missing, jw, j)
    lost = j >= q.seg_end[sym]
    jj = np.minimum(j, len(q.n_ts) - 1)
    ts = np.where(missing & ~lost, np.maximum(ts, q.n_ts[jj]), ts)
    far = np.where(buy, q.n_ask[jj], q.n_bid[jj])
    size = np.where(buy, q.n_ask_size[jj], q.n_bid_size[jj]) * MICRO
    best = np.where(buy, q.n_best_ask_venue[jj], q.n_best_bid_venue[jj])
    ven = np.where(venue >= 0, venue, best)
    lim = o.limit[idx]
    marketable = (lim == EMPTY) | np.where(buy, lim >= far, lim <= far)
    ok = ~lost & marketable
    rt = ~lost & (np.full(len(idx), route) | (venue < 0))
    legs.route(idx[rt], ven[rt], r_ts[rt], qty[rt], np.full(rt.sum(), stage))
    first_qty = np.where(ok, np.minimum(qty, np.maximum(size, MICRO)), 0)
    legs.fill(idx[ok], ven[ok], ts[ok], first_qty[ok], far[ok], TAKE, by[ok], 0, stage)
    left = qty - first_qty
    opt = c.u.option[sym]
    walk = far + np.where(buy, 1, -1) * tick(far, opt)
    can_walk = ok & (left > 0) & ((lim == EMPTY) | np.where(buy, lim >= walk, lim <= walk))
    can_walk &= walk > 0
    legs.fill(
        idx[can_walk],
        ven[can_walk],
        ts[can_walk],
        left[can_walk],
        walk[can_walk],
        TAKE,
        by[can_walk],
        R_WALKED,
        stage,
    )
    gone = (ok & (left > 0) & ~can_walk) | lost
    left_qty = np.where(ok, left, qty)
    legs.cancel(idx[gone], np.where(lost, s.close_ns, ts + 2000)[gone], left_qty[gone])
    r = ~lost & ~marketable
    legs.resting.append((idx[r], ts[r], ven[r], qty[r], by[r]))


def _rest(
    c: Context,
    legs: Legs,
    idx: np.ndarray,
    start: np.ndarray,
    venue: np.ndarray,
    qty: np.ndarray,
    by: np.ndarray,
    ask_v: np.ndarray,
    bid_v: np.ndarray,
) -> None:
    """Resting limit orders fill when the market reaches their limit (or the customer
    cancels first; what is left at the close is cancelled)."""
    o, q, s, rng, cfg = c.o, c.q, c.s, c.rng, c.cfg
    if len(idx) == 0:
        return
    sym = o.sym[idx]
    buy = o.buy[idx]
    lim = o.limit[idx]
    j = np.maximum(c.row(sym, start), q.seg_start[sym])
    end = q.seg_end[sym]
    bid_ok = np.where(c.usable, bid_v, BIG)
    ask_ok = np.where(c.usable, ask_v, -BIG)
    # A limit inside the quote in force fills at once; otherwise the first later quote that
    # reaches it (bid at or below a resting buy, ask at or above a resting sell) fills it.
    now = np.where(buy, bid_ok[j] < lim, ask_ok[j] > lim)
    nxt = np.minimum(j + 1, end)
    hit_b = first_passage(bid_ok, nxt, end, lim)
    hit_s = first_passage(-ask_ok, nxt, end, -lim)
    hit = np.where(now, j, np.where(buy, hit_b, hit_s))
    fills = hit < end
    hj = np.minimum(hit, len(q.n_ts) - 1)
    # At the quote in force at the start the order fills at once, else when the row arrives.
    fill_ts = np.where(fills, np.where(hit == j, start, q.n_ts[hj]), s.close_ns)
    cancel_ts = start + rng.exponential(15 * 60e9, len(idx)).astype(np.int64)
    cancelled = (rng.random(len(idx)) < cfg.mix.cancel) & (
        cancel_ts < np.minimum(fill_ts, s.close_ns)
    )
    fills &= ~cancelled
    whole = qty // MICRO
    part = fills & (whole >= 2) & (rng.random(len(idx)) < 0.1)
    f_qty = np.where(part, np.maximum(1, whole // 2) * MICRO, qty)
    wh = venue >= c.v.wholesaler0
    liq = np.where(wh, PRINCIPAL, MAKE)
    # When the quote jumps through the limit, the order (not part of the simulated quotes)
    # executes at the far side of the new NBBO, the better of the two prices.
    price = np.where(buy, np.minimum(lim, q.n_ask[hj]), np.maximum(lim, q.n_bid[hj]))
    legs.fill(
        idx[fills],
        venue[fills],
        fill_ts[fills],
        f_qty[fills],
        price[fills],
        liq[fills],
        by[fills],
        0,
        3,
    )
    left = np.where(fills, qty - f_qty, qty)
    out = left > 0
    c_ts = np.where(cancelled, cancel_ts, s.close_ns)
    legs.cancel(idx[out], c_ts[out], left[out])
