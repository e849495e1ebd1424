"""Per-venue top of book and the consolidated NBBO, generated per day without Python loops
over quotes.

Model (docs/simulator.md): each symbol has quote *events* whose times follow a U-shaped
intraday intensity. A reference mid follows a geometric random walk sampled at the events;
the reference bid/ask are the mid minus/plus a half spread (basis points of price, wider at
the open, with persistent widening episodes) rounded outward to the tick grid. Each quoting
venue sits a persistent number of ticks behind the reference on each side (at least one
venue at the reference, so the NBBO equals it), and at every event one venue refreshes its
depth and sizes. A venue quote row is written whenever that venue's quote changes. Rare
events inject a locked or crossed quote that the next event (milliseconds later) resolves,
and one-sided episodes empty one side of every venue for a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pfof.sim.calendar import Session
from pfof.sim.prices import EMPTY, UNITS, ceil_tick, floor_tick, tick
from pfof.sim.universe import SESSION_SECONDS, Universe

#: Multiplier for symbol ids in (symbol, time) sort keys; times are ns since UTC midnight.
KEY = 1 << 47
_BIG = np.iinfo(np.int64).max // 4
_BIG32 = 2**30  # above any price in units held as int32 (prices stay below $100,000)
_CHUNK_CELLS = 6_000_000
#: Calibrated on default universes so that venue rows land within a few % of the target.
MOVE_COEF = 0.75


def key(sym: np.ndarray, ts: np.ndarray, session: Session) -> np.ndarray:
    """Sort key of (symbol, timestamp) pairs within one day."""
    return sym.astype(np.int64) * KEY + (ts - session.midnight_ns)


def u_shape_inverse(
    u: np.ndarray, open_w: float = 2.5, close_w: float = 1.5, width: float = 0.06
) -> np.ndarray:
    """Map uniforms to session fractions with density 1 + open_w e^(-x/w) + close_w e^((x-1)/w)."""
    grid = np.linspace(0.0, 1.0, 2049)
    dens = 1 + open_w * np.exp(-grid / width) + close_w * np.exp((grid - 1) / width)
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2)])
    cdf /= cdf[-1]
    return np.interp(u, cdf, grid)


@dataclass
class DayQuotes:
    """One day's quotes (venue rows) and NBBO rows as int64 arrays (prices in units)."""

    q_sym: np.ndarray
    q_ts: np.ndarray
    q_venue: np.ndarray  # index into Universe.venues
    q_bid: np.ndarray
    q_bid_size: np.ndarray
    q_ask: np.ndarray
    q_ask_size: np.ndarray
    n_sym: np.ndarray
    n_ts: np.ndarray
    n_bid: np.ndarray
    n_bid_size: np.ndarray
    n_ask: np.ndarray
    n_ask_size: np.ndarray
    n_best_bid_venue: np.ndarray  # cheapest-to-access venue at the best bid
    n_best_ask_venue: np.ndarray
    n_key: np.ndarray  # key(n_sym, n_ts): sorted, for as-of lookups
    seg_end: np.ndarray  # per symbol: one past its last NBBO row
    seg_start: np.ndarray


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ends = np.cumsum(counts)
    return ends - counts, ends


def _events_per_symbol(
    u: Universe, session: Session, day: int, target: np.ndarray, nv: np.ndarray
) -> np.ndarray:
    """Events per symbol such that the expected number of venue rows meets ``target``.

    A venue row is written when the refreshing venue changes and, on every event that moves
    the reference quote, for every quoting venue; the chance of a move depends on how far
    the mid travels between events relative to the tick.
    """
    secs = (session.close_ns - session.open_ns) / 1e9
    m = u.open_units[day].astype(float)
    sig = m * u.vol / np.sqrt(252 * SESSION_SECONDS)
    t = tick(u.open_units[day], u.option).astype(float)
    e = np.maximum(target / nv, 10.0)
    for _ in range(12):
        p_move = 1.0 - np.exp(-MOVE_COEF * sig * np.sqrt(secs / e) / t) + 0.03
        rows = 1.0 + p_move * (nv - 1)
        e = np.maximum(target / rows, 10.0)
    return np.maximum(np.rint(e).astype(np.int64), 10)


def generate_quotes(
    u: Universe,
    session: Session,
    rng: np.random.Generator,
    quotes_per_day: int,
    p_lock_cross: float,
    one_sided_per_day: float,
    fee_rank: np.ndarray,
) -> DayQuotes:
    """All venue quotes and NBBO rows of one day, grouped by symbol in time order.

    ``fee_rank`` orders venues by taker cost (lower is cheaper) to name the venue a router
    would hit at the best price.
    """
    day = session.index
    if u.open_units[day].max() * 4 >= _BIG32:
        raise ValueError("prices above $25,000 are not supported by the quote generator")
    nv_all = u.venue_mask.sum(axis=1)
    w = u.liquidity / u.liquidity.sum()
    target = np.maximum(quotes_per_day * w, 20 * nv_all)
    n_ev = _events_per_symbol(u, session, day, target, nv_all)
    parts: list[dict[str, np.ndarray]] = []
    for option in (False, True):
        syms = np.flatnonzero(u.option == option)
        if len(syms) == 0:
            continue
        vcols = np.flatnonzero(u.venue_mask[syms].any(axis=0))
        cells = n_ev[syms] * len(vcols)
        start = 0
        while start < len(syms):
            stop, acc = start + 1, int(cells[start])
            while stop < len(syms) and acc + cells[stop] <= _CHUNK_CELLS:
                acc += int(cells[stop])
                stop += 1
            parts.append(
                _chunk(
                    u,
                    session,
                    rng,
                    syms[start:stop],
                    vcols,
                    n_ev,
                    p_lock_cross,
                    one_sided_per_day,
                    fee_rank,
                )
            )
            start = stop
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    counts = np.bincount(cat["n_sym"], minlength=u.n)
    seg_start, seg_end = _segments(counts)
    return DayQuotes(
        **cat, n_key=key(cat["n_sym"], cat["n_ts"], session), seg_start=seg_start, seg_end=seg_end
    )


def _chunk(
    u: Universe,
    session: Session,
    rng: np.random.Generator,
    syms: np.ndarray,
    vcols: np.ndarray,
    n_ev: np.ndarray,
    p_lock_cross: float,
    one_sided_per_day: float,
    fee_rank: np.ndarray,
) -> dict[str, np.ndarray]:
    day = session.index
    ns = len(syms)
    nv = len(vcols)
    dur = session.close_ns - session.open_ns
    counts = n_ev[syms]
    # --- event times: U-shaped, first event at the open; lock/cross resolutions and
    # one-sided episode boundaries are extra events.
    local = np.repeat(np.arange(ns), counts)
    frac = u_shape_inverse(rng.random(len(local)))
    s0, _ = _segments(counts)
    frac[s0] = 0.0
    t = session.open_ns + (frac * (dur - 1)).astype(np.int64)
    lc = rng.random(len(local)) < p_lock_cross
    lc[s0] = False
    lc_t = t[lc] + rng.integers(1_000_000, 80_000_000, int(lc.sum()))
    rate = one_sided_per_day * np.where(u.regime[syms] == "wide", 3.0, 0.5)
    n_os = rng.poisson(rate)
    os_local = np.repeat(np.arange(ns), n_os)
    os_start = session.open_ns + (rng.random(len(os_local)) * 0.95 * dur).astype(np.int64)
    os_end = os_start + rng.integers(500_000_000, 20_000_000_000, len(os_local))
    os_side = rng.integers(0, 2, len(os_local))  # 0: bid side empty, 1: ask side empty
    ev_local = np.concatenate([local, local[lc], os_local, os_local])
    ev_t = np.concatenate([t, lc_t, os_start, os_end])
    ev_lc = np.concatenate([lc, np.zeros(len(lc_t) + 2 * len(os_local), bool)])
    ev_t = np.minimum(ev_t, session.close_ns - 1)
    k = ev_local.astype(np.int64) * KEY + (ev_t - session.midnight_ns)
    order = np.argsort(k, kind="stable")
    k, ev_local, ev_lc = k[order], ev_local[order], ev_lc[order]
    idx = np.arange(len(k), dtype=np.int64)
    k = np.maximum.accumulate(k - idx) + idx  # strictly increasing times within a symbol
    ts = k - ev_local.astype(np.int64) * KEY + session.midnight_ns
    cnt = np.bincount(ev_local, minlength=ns)
    seg_s, _seg_e = _segments(cnt)
    first = np.zeros(len(k), bool)
    first[seg_s] = True
    n = len(k)
    sym_g = syms[ev_local]
    opt = u.option[sym_g]
    # --- one-sided flags via difference arrays over event index ranges.
    os_k0 = os_local.astype(np.int64) * KEY + (os_start - session.midnight_ns)
    os_k1 = os_local.astype(np.int64) * KEY + (
        np.minimum(os_end, session.close_ns - 1) - session.midnight_ns
    )
    empty = np.zeros((2, n + 1), np.int64)
    i0 = np.searchsorted(k, os_k0, "left")
    i1 = np.searchsorted(k, os_k1, "left")
    np.add.at(empty, (os_side, i0), 1)
    np.add.at(empty, (os_side, i1), -1)
    empty_bid = np.cumsum(empty[0])[:n] > 0
    empty_ask = np.cumsum(empty[1])[:n] > 0
    # --- reference mid (geometric random walk) and spread.
    dt = np.diff(ts, prepend=ts[0]).astype(float) / 1e9
    dt[first] = 0.0
    sig = u.vol[sym_g] / np.sqrt(252 * SESSION_SECONDS)
    inc = rng.standard_normal(n) * sig * np.sqrt(dt)
    cs = np.cumsum(inc)
    cs -= np.repeat(cs[seg_s] - inc[seg_s], cnt)
    p0 = u.open_units[day][sym_g].astype(float)
    mid = p0 * np.exp(cs)
    tod = (ts - session.open_ns) / max(1, session.close_ns - session.open_ns)
    widen = rng.random(n) < 0.02
    level = np.where(widen, rng.choice([1.0, 1.5, 2.5], n, p=[0.7, 0.2, 0.1]), 0.0)
    # Persistent spread level: forward-fill the last widening draw within the symbol.
    last = np.maximum.accumulate(np.where(widen | first, idx[:n], 0))
    level = np.where(widen[last], level[last], 1.0)
    half = mid * u.half_spread_bps[sym_g] / 1e4 * (1 + 1.2 * np.exp(-tod / 0.03)) * level
    tk = tick(np.rint(mid).astype(np.int64), opt)
    half = np.maximum(half, tk / 2)
    ref_bid = floor_tick(np.floor(mid - half).astype(np.int64), opt)
    ref_ask = ceil_tick(np.ceil(mid + half).astype(np.int64), opt)
    ref_ask = np.maximum(ref_ask, ref_bid + tick(ref_bid, opt))
    # --- venue depth (ticks behind the reference) and sizes: forward-filled refreshes.
    mask = u.venue_mask[np.ix_(syms, vcols)]
    wv = u.venue_weight[vcols][None, :] * mask
    cw = np.cumsum(wv, axis=1)
    cw /= cw[:, -1:]
    r = (rng.random(n)[:, None] > cw[ev_local]).sum(axis=1)
    r = np.minimum(r, nv - 1)

    # Per refresh: bid/ask depth in ticks (0-6) and sizes in lots (1-40), packed in one int32
    # so that forward-filling the (events x venues) state is a single gather.
    def draws(shape: int | tuple[int, int]) -> np.ndarray:
        gb = np.minimum(rng.geometric(0.55, shape) - 1, 6)
        ga = np.minimum(rng.geometric(0.55, shape) - 1, 6)
        kb = np.minimum(rng.geometric(0.3, shape), 40)
        ka = np.minimum(rng.geometric(0.3, shape), 40)
        return (gb | ga << 3 | kb << 6 | ka << 12).astype(np.int32)

    code_new = draws(n)
    code0 = draws((ns, nv))
    idx32 = idx.astype(np.int32)
    last_r = np.where(r[:, None] == np.arange(nv)[None, :], idx32[:, None], np.int32(-1))
    np.maximum.accumulate(last_r, axis=0, out=last_r)
    fresh = last_r >= seg_s.astype(np.int32)[ev_local][:, None]
    code = np.where(fresh, code_new[np.maximum(last_r, 0)], code0[ev_local])
    del last_r, fresh
    vmask = mask[ev_local]
    gb, ga = code & 7, (code >> 3) & 7
    gb -= np.where(vmask, gb, 7).min(axis=1, keepdims=True)
    ga -= np.where(vmask, ga, 7).min(axis=1, keepdims=True)
    lot = u.round_lot[sym_g].astype(np.int32)[:, None]
    sb, sa = ((code >> 6) & 63) * lot, ((code >> 12) & 63) * lot
    del code
    rb32, ra32 = ref_bid.astype(np.int32), ref_ask.astype(np.int32)
    vb = rb32[:, None] - gb * tick(ref_bid, opt).astype(np.int32)[:, None]
    va = ra32[:, None] + ga * tick(ref_ask, opt).astype(np.int32)[:, None]
    del gb, ga
    if len(opt) and bool(opt.all()):
        # Option depth can cross the $3 tick boundary: keep every level on its own grid.
        va = ceil_tick(va, True).astype(np.int32)
        vb = np.where(vb > 0, floor_tick(np.maximum(vb, 1), True), vb).astype(np.int32)
    vb[vb <= 0] = EMPTY
    # --- injected lock/cross: the refreshing venue's bid reaches the reference ask.
    rows = np.flatnonzero(ev_lc & ~empty_bid & ~empty_ask)
    crossed = rng.random(len(rows)) < 0.4
    vb[rows, r[rows]] = ref_ask[rows] + np.where(crossed, tick(ref_ask[rows], opt[rows]), 0)
    vb[empty_bid] = EMPTY
    va[empty_ask] = EMPTY
    vb[~vmask] = EMPTY
    va[~vmask] = EMPTY
    sb[vb == EMPTY] = 0
    sa[va == EMPTY] = 0
    # --- venue rows: wherever a quoting venue's quote changed.
    changed = np.ones_like(vmask)
    changed[1:] = (
        (vb[1:] != vb[:-1]) | (va[1:] != va[:-1]) | (sb[1:] != sb[:-1]) | (sa[1:] != sa[:-1])
    )
    changed[first] = True
    changed &= vmask
    er, vc = np.nonzero(changed)
    del changed
    # --- NBBO at every event, then only where it changed.
    big = np.int32(_BIG32)
    nb = vb.max(axis=1)
    va_m = np.where(va == EMPTY, big, va)
    na = va_m.min(axis=1)
    at_bid = (vb == nb[:, None]) & (nb[:, None] != EMPTY)
    at_ask = (va_m == na[:, None]) & (na[:, None] != big)
    nbs = np.where(at_bid, sb, 0).sum(axis=1, dtype=np.int64)
    nas = np.where(at_ask, sa, 0).sum(axis=1, dtype=np.int64)
    nb, na = nb.astype(np.int64), np.where(na == big, EMPTY, na).astype(np.int64)
    rank = fee_rank[vcols].astype(np.int32)[None, :]
    best_ask_v = vcols[np.where(at_ask, rank, big).argmin(axis=1)]
    best_bid_v = vcols[np.where(at_bid, rank, big).argmin(axis=1)]
    keep = np.ones(n, bool)
    keep[1:] = (
        (nb[1:] != nb[:-1]) | (na[1:] != na[:-1]) | (nbs[1:] != nbs[:-1]) | (nas[1:] != nas[:-1])
    )
    keep[first] = True
    return {
        "q_sym": sym_g[er],
        "q_ts": ts[er],
        "q_venue": vcols[vc],
        "q_bid": vb[er, vc].astype(np.int64),
        "q_bid_size": sb[er, vc].astype(np.int64),
        "q_ask": va[er, vc].astype(np.int64),
        "q_ask_size": sa[er, vc].astype(np.int64),
        "n_sym": sym_g[keep],
        "n_ts": ts[keep],
        "n_bid": nb[keep],
        "n_bid_size": nbs[keep],
        "n_ask": na[keep],
        "n_ask_size": nas[keep],
        "n_best_bid_venue": best_bid_v[keep],
        "n_best_ask_venue": best_ask_v[keep],
    }


def asof(dq: DayQuotes, sym: np.ndarray, ts: np.ndarray, session: Session) -> np.ndarray:
    """Index of the NBBO row in force at each (symbol, ts): the last row at or before ts,
    or -1 when the symbol has no NBBO yet."""
    pos = np.searchsorted(dq.n_key, key(sym, ts, session), "right") - 1
    ok = (pos >= 0) & (pos >= dq.seg_start[sym])
    return np.where(ok, pos, -1)


def first_passage(
    values: np.ndarray, start: np.ndarray, stop: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """For each query, the first index i in [start, stop) with values[i] <= threshold, or
    ``stop`` when there is none. Binary lifting over a sparse table of minima: O(n log n)
    memory once, O(log n) vectorised steps for all queries."""
    n = len(values)
    levels = [values]
    while (1 << len(levels)) <= max(n, 1):
        prev = levels[-1]
        h = 1 << (len(levels) - 1)
        nxt = prev.copy()
        nxt[: n - h] = np.minimum(prev[: n - h], prev[h:])
        levels.append(nxt)
    pos = start.astype(np.int64).copy()
    for lvl in range(len(levels) - 1, -1, -1):
        step = 1 << lvl
        can = pos + step <= stop
        safe = np.minimum(pos, n - 1)
        jump = can & (levels[lvl][safe] > threshold)
        pos = np.where(jump, pos + step, pos)
    hit = (pos < stop) & (values[np.minimum(pos, n - 1)] <= threshold)
    return np.where(hit, pos, stop)


def mid_units_x2(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Twice the midpoint in units (exact integer)."""
    return bid + ask


__all__ = ["UNITS", "DayQuotes", "asof", "first_passage", "generate_quotes", "key"]
