"""Compiled (numba) kernels of the NBBO consolidation in ``engine.nbbo``.

:func:`consolidate` reads the venue quotes once, in their order, keeping per symbol each
venue's latest quote in small per-venue arrays and the best bid and offer with their summed
sizes, updated as each quote replaces its venue's previous one (the venues are rescanned only
when the last venue at the best price leaves it). When a symbol's next quote has a later
timestamp (or the input ends) the state after its last quote of the timestamp is written, if
it differs from the previous one, into that symbol's slot of the output, so the output comes
out sorted by symbol and time without sorting the input. That needs each symbol's quotes in
time order (:func:`times_ascend_per_symbol`), as a feed delivers them; otherwise
:func:`symbol_time_order` (a counting sort by symbol, then a stable merge sort of the
symbols out of time order) gives the order to read them in.

Each symbol's book starts fresh on each New York date: a quote whose ``day`` differs from the
symbol's previous quote's clears the symbol's venue quotes, best prices and last written state
before it is applied, so the day is consolidated as if its quotes were the whole input (no row
is written for the reset itself; see ``engine.nbbo.consolidate_nbbo``).

Sizes are integers, so a sum updated by adding and removing equals the sum recomputed over the
venues, and prices are only compared, never computed: the output equals the whole-array NumPy
formulation this replaced (run per New York date) bit for
bit. Compiled code is cached on disk (``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["consolidate", "symbol_time_order", "times_ascend_per_symbol"]

_jit = njit(cache=True, nogil=True)


@_jit
def symbol_time_order(srank: np.ndarray, ts: np.ndarray, n_symbols: int) -> np.ndarray:
    """Indices sorting rows by (``srank``, ``ts``), rows of equal keys in input order."""
    n = len(srank)
    starts = np.zeros(n_symbols + 1, dtype=np.int64)
    for i in range(n):
        starts[srank[i] + 1] += 1
    for s in range(n_symbols):
        starts[s + 1] += starts[s]
    fill = starts[:-1].copy()
    perm = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = srank[i]
        perm[fill[s]] = i
        fill[s] += 1
    for s in range(n_symbols):
        a, b = starts[s], starts[s + 1]
        for k in range(a + 1, b):
            if ts[perm[k]] < ts[perm[k - 1]]:
                segment = perm[a:b].copy()
                order = np.argsort(ts[segment], kind="mergesort")  # stable
                perm[a:b] = segment[order]
                break
    return perm


@_jit
def times_ascend_per_symbol(srank: np.ndarray, ts: np.ndarray, n_symbols: int) -> bool:
    """Whether each symbol's rows are in time order (ties allowed)."""
    last = np.full(n_symbols, np.iinfo(np.int64).min, dtype=np.int64)
    for i in range(len(srank)):
        s = srank[i]
        if ts[i] < last[s]:
            return False
        last[s] = ts[i]
    return True


@_jit
def consolidate(
    srank: np.ndarray,
    ts: np.ndarray,
    day: np.ndarray,
    vcode: np.ndarray,
    n_venues: int,
    bid: np.ndarray,
    bsz: np.ndarray,
    ask: np.ndarray,
    asz: np.ndarray,
    sym_starts: np.ndarray,
    lo: int,
    hi: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The NBBO rows of the symbols ranked ``[lo, hi)``, sorted by symbol rank and time.

    Rows are read in input order (each symbol's in time order); ``sym_starts[s]`` is the
    number of rows of the symbols ranked below ``s``. ``day`` is each row's New York date (any
    integer label constant over a date): a row of a new day for its symbol first empties the
    symbol's book and its last written state, as at the symbol's first quote. Returns each
    NBBO row's symbol rank, timestamp, best bid, its size, best ask, its size (-inf / inf and 0
    for an empty side). A side counts only when its price is positive and finite and its size
    positive.
    """
    k = hi - lo
    base = sym_starts[lo]
    m = sym_starts[hi] - base
    # one row of six 8-byte fields per NBBO row (prices stored by bits): writing to a symbol's
    # slot touches one stream of memory, not six
    out = np.empty((m, 6), dtype=np.int64)
    out_f = out.view(np.float64)
    fill = sym_starts[lo:hi] - base
    v_bid = np.full(k * n_venues, -math.inf)
    v_ask = np.full(k * n_venues, math.inf)
    v_bsz = np.zeros(k * n_venues, dtype=np.int64)
    v_asz = np.zeros(k * n_venues, dtype=np.int64)
    best_bid = np.full(k, -math.inf)
    best_ask = np.full(k, math.inf)
    bid_total = np.zeros(k, dtype=np.int64)
    ask_total = np.zeros(k, dtype=np.int64)
    prev_bid = np.full(k, -math.inf)  # the state last written (empty before any quote)
    prev_ask = np.full(k, math.inf)
    prev_bsz = np.zeros(k, dtype=np.int64)
    prev_asz = np.zeros(k, dtype=np.int64)
    last_ts = np.zeros(k, dtype=np.int64)
    last_day = np.zeros(k, dtype=day.dtype)
    pending = np.zeros(k, dtype=np.bool_)
    n = len(srank)
    for i in range(n + k):  # the rows, then one step per symbol writing its last state
        if i < n:
            j = srank[i] - lo
            if j < 0 or j >= k:
                continue
            t = ts[i]
            flush = pending[j] and t != last_ts[j]
        else:
            j = i - n
            flush = pending[j]
        if flush and (
            best_bid[j] != prev_bid[j]
            or bid_total[j] != prev_bsz[j]
            or best_ask[j] != prev_ask[j]
            or ask_total[j] != prev_asz[j]
        ):  # the state after the symbol's last quote of last_ts[j] changed: write it
            r = fill[j]
            out[r, 0] = lo + j
            out[r, 1] = last_ts[j]
            out_f[r, 2] = best_bid[j]
            out[r, 3] = bid_total[j]
            out_f[r, 4] = best_ask[j]
            out[r, 5] = ask_total[j]
            fill[j] = r + 1
            prev_bid[j], prev_bsz[j] = best_bid[j], bid_total[j]
            prev_ask[j], prev_asz[j] = best_ask[j], ask_total[j]
        if i >= n:
            continue
        if pending[j] and day[i] != last_day[j]:  # another date: the book starts fresh
            for w in range(j * n_venues, (j + 1) * n_venues):
                v_bid[w], v_bsz[w] = -math.inf, 0
                v_ask[w], v_asz[w] = math.inf, 0
            best_bid[j], bid_total[j] = -math.inf, 0
            best_ask[j], ask_total[j] = math.inf, 0
            prev_bid[j], prev_bsz[j] = -math.inf, 0
            prev_ask[j], prev_asz[j] = math.inf, 0
        pending[j] = True
        last_ts[j] = t
        last_day[j] = day[i]
        v = j * n_venues + vcode[i]
        b, bs = bid[i], bsz[i]
        if not (b > 0 and b < math.inf and bs > 0):
            b, bs = -math.inf, 0
        a, as_ = ask[i], asz[i]
        if not (a > 0 and a < math.inf and as_ > 0):
            a, as_ = math.inf, 0
        old_b, old_bs = v_bid[v], v_bsz[v]
        v_bid[v], v_bsz[v] = b, bs
        if old_bs > 0 and old_b == best_bid[j]:
            bid_total[j] -= old_bs
            if bid_total[j] == 0:  # no venue left at the best bid: rescan the venues
                best, total = -math.inf, 0
                for w in range(j * n_venues, (j + 1) * n_venues):
                    if v_bid[w] > best:
                        best, total = v_bid[w], v_bsz[w]
                    elif v_bsz[w] > 0 and v_bid[w] == best:
                        total += v_bsz[w]
                best_bid[j], bid_total[j] = best, total
            elif b > best_bid[j]:
                best_bid[j], bid_total[j] = b, bs
            elif b == best_bid[j]:
                bid_total[j] += bs
        elif b > best_bid[j]:
            best_bid[j], bid_total[j] = b, bs
        elif bs > 0 and b == best_bid[j]:
            bid_total[j] += bs
        old_a, old_as = v_ask[v], v_asz[v]
        v_ask[v], v_asz[v] = a, as_
        if old_as > 0 and old_a == best_ask[j]:
            ask_total[j] -= old_as
            if ask_total[j] == 0:  # no venue left at the best ask: rescan the venues
                best, total = math.inf, 0
                for w in range(j * n_venues, (j + 1) * n_venues):
                    if v_ask[w] < best:
                        best, total = v_ask[w], v_asz[w]
                    elif v_asz[w] > 0 and v_ask[w] == best:
                        total += v_asz[w]
                best_ask[j], ask_total[j] = best, total
            elif a < best_ask[j]:
                best_ask[j], ask_total[j] = a, as_
            elif a == best_ask[j]:
                ask_total[j] += as_
        elif a < best_ask[j]:
            best_ask[j], ask_total[j] = a, as_
        elif as_ > 0 and a == best_ask[j]:
            ask_total[j] += as_
    count = 0  # close the gaps between the symbols' slots, keeping their order
    for j in range(k):
        start = sym_starts[lo + j] - base
        for r in range(start, fill[j]):
            out[count, :] = out[r, :]
            count += 1
    return (
        out[:count, 0].copy(),
        out[:count, 1].copy(),
        out_f[:count, 2].copy(),
        out[:count, 3].copy(),
        out_f[:count, 4].copy(),
        out[:count, 5].copy(),
    )
