"""pfof's NBBO consolidation as it was before the compiled kernel (whole-array NumPy, one
pass per venue over each batch of symbols), kept verbatim as the reference the kernel in
``pfof.engine.nbbo`` must reproduce exactly: same rows, same values, same order.

The only addition is the per-day reset, formulated independently of the kernel's: the quotes
are split by New York date (Arrow's time-zone conversion, not ``engine.quality.local_ns``),
each date consolidated on its own by the verbatim code, and the dates' rows concatenated and
stably sorted by symbol.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.asof import timestamps_ns
from pfof.engine.nbbo import _require_non_null, conform
from pfof.model.tables import NBBO, QUOTES

CHUNK_ROWS = 2_000_000


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return col.to_numpy().astype(np.float64, copy=False)


def _ints(col: pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(col, 0).to_numpy().astype(np.int64, copy=False)


def _codes(col: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    enc = pc.dictionary_encode(col.combine_chunks())
    return enc.dictionary, enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def reference_consolidate_nbbo(quotes: pa.Table, *, chunk_rows: int = CHUNK_ROWS) -> pa.Table:
    """The NBBO (canonical ``NBBO`` schema, sorted by symbol and ts) from venue quotes, each
    New York date consolidated on its own (the book starts empty on each date)."""
    q = conform(quotes, QUOTES, "quotes")
    _require_non_null(q, "quotes", ("symbol", "ts", "venue"))
    local = pc.local_timestamp(q.column("ts").cast(pa.timestamp("ns", "America/New_York")))
    day = np.floor_divide(local.cast(pa.int64()).to_numpy(), 86_400 * 10**9)
    parts = [
        _consolidate_one_day(q.filter(pa.array(day == d)), chunk_rows=chunk_rows)
        for d in np.unique(day)
    ]
    if len(parts) <= 1:
        return parts[0] if parts else NBBO.empty_table()
    out = pa.concat_tables(parts)
    order = pc.sort_indices(out, sort_keys=[("symbol", "ascending")])  # stable: dates stay
    return out.take(order)


def _consolidate_one_day(quotes: pa.Table, *, chunk_rows: int = CHUNK_ROWS) -> pa.Table:
    """The verbatim whole-array consolidation (of one New York date's quotes)."""
    q = conform(quotes, QUOTES, "quotes")
    _require_non_null(q, "quotes", ("symbol", "ts", "venue"))
    if q.num_rows == 0:
        return NBBO.empty_table()
    symbols, scode = _codes(q.column("symbol"))
    rank = np.empty(len(symbols), dtype=np.int64)
    rank[pc.array_sort_indices(symbols).to_numpy()] = np.arange(len(symbols))
    srank = rank[scode]
    ts = timestamps_ns(q.column("ts"), "quotes column ts")
    span = int(ts.max()) - int(ts.min()) + 1
    if (len(symbols) + 1) * span < 2**62:
        perm = np.argsort(srank * span + (ts - ts.min()), kind="stable")
    else:
        perm = np.lexsort((ts, srank))
    srank, ts = srank[perm], ts[perm]
    _, vcode = _codes(q.column("venue"))
    vcode = vcode[perm]
    bid, ask = _floats(q.column("bid"))[perm], _floats(q.column("ask"))[perm]
    bsz, asz = _ints(q.column("bid_size"))[perm], _ints(q.column("ask_size"))[perm]
    bid = np.where((bid > 0) & (bid < np.inf) & (bsz > 0), bid, -np.inf)
    ask = np.where((ask > 0) & (ask < np.inf) & (asz > 0), ask, np.inf)
    bsz = np.where(bid > -np.inf, bsz, 0)
    asz = np.where(ask < np.inf, asz, 0)

    n = len(ts)
    sym_starts = np.concatenate([[0], np.flatnonzero(np.diff(srank)) + 1, [n]])
    out_bid = np.empty(n)
    out_ask = np.empty(n)
    out_bsz = np.empty(n, dtype=np.int64)
    out_asz = np.empty(n, dtype=np.int64)
    row_start = np.repeat(sym_starts[:-1], np.diff(sym_starts))
    a = 0
    while a < n:
        # extend to whole symbols, at least one symbol per batch
        b = (
            int(sym_starts[np.searchsorted(sym_starts, a + chunk_rows, side="left")])
            if a + chunk_rows < n
            else n
        )
        _consolidate_batch(
            a, b, row_start, vcode, bid, bsz, ask, asz, out_bid, out_bsz, out_ask, out_asz
        )
        a = b

    last_of_ts = np.ones(n, dtype=bool)
    last_of_ts[:-1] = (srank[1:] != srank[:-1]) | (ts[1:] != ts[:-1])
    keep = np.flatnonzero(last_of_ts)
    k_sym, k_bid, k_ask = srank[keep], out_bid[keep], out_ask[keep]
    k_bsz, k_asz = out_bsz[keep], out_asz[keep]
    changed = np.ones(len(keep), dtype=bool)
    changed[1:] = (
        (k_sym[1:] != k_sym[:-1])
        | (k_bid[1:] != k_bid[:-1])
        | (k_ask[1:] != k_ask[:-1])
        | (k_bsz[1:] != k_bsz[:-1])
        | (k_asz[1:] != k_asz[:-1])
    )
    first_of_sym = np.ones(len(keep), dtype=bool)
    first_of_sym[1:] = k_sym[1:] != k_sym[:-1]
    empty = (k_bid == -np.inf) & (k_ask == np.inf)
    # the state before a symbol's first quote is empty: an empty first row is no change
    changed &= ~(first_of_sym & empty)
    rows = keep[changed]
    no_bid = out_bid[rows] == -np.inf
    no_ask = out_ask[rows] == np.inf
    sorted_symbols = pc.take(symbols, pc.array_sort_indices(symbols))
    return pa.Table.from_arrays(
        [
            pc.take(sorted_symbols, pa.array(srank[rows])),
            pa.array(ts[rows], type=NBBO.field("ts").type),
            pa.array(out_bid[rows], mask=no_bid),
            pa.array(out_bsz[rows], mask=no_bid),
            pa.array(out_ask[rows], mask=no_ask),
            pa.array(out_asz[rows], mask=no_ask),
        ],
        schema=NBBO,
    )


def _consolidate_batch(
    a: int,
    b: int,
    row_start: np.ndarray,
    vcode: np.ndarray,
    bid: np.ndarray,
    bsz: np.ndarray,
    ask: np.ndarray,
    asz: np.ndarray,
    out_bid: np.ndarray,
    out_bsz: np.ndarray,
    out_ask: np.ndarray,
    out_asz: np.ndarray,
) -> None:
    """Best bid/ask and sizes after each row of rows [a, b) (whole symbols, sorted)."""
    idx = np.arange(a, b)
    starts = row_start[a:b]
    vc = vcode[a:b]
    best_bid = np.full(b - a, -np.inf)
    best_ask = np.full(b - a, np.inf)
    bid_size = np.zeros(b - a, dtype=np.int64)
    ask_size = np.zeros(b - a, dtype=np.int64)
    for v in np.unique(vc):
        last = np.where(vc == v, idx, -1)
        np.maximum.accumulate(last, out=last)
        live = last >= starts  # this venue has quoted this symbol already
        src = np.maximum(last, 0)
        vb = np.where(live, bid[src], -np.inf)
        va = np.where(live, ask[src], np.inf)
        vbs = np.where(live, bsz[src], 0)
        vas = np.where(live, asz[src], 0)
        bid_size = np.where(
            vb > best_bid,
            vbs,
            np.where((vb == best_bid) & (vb > -np.inf), bid_size + vbs, bid_size),
        )
        ask_size = np.where(
            va < best_ask, vas, np.where((va == best_ask) & (va < np.inf), ask_size + vas, ask_size)
        )
        np.maximum(best_bid, vb, out=best_bid)
        np.minimum(best_ask, va, out=best_ask)
    out_bid[a:b], out_ask[a:b] = best_bid, best_ask
    out_bsz[a:b], out_asz[a:b] = bid_size, ask_size
