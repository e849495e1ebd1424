"""Consolidate per-venue top-of-book quotes into the NBBO, or check a ready NBBO table.

Each venue's latest quote per symbol stands until that venue quotes again (a new quote
replaces the whole previous one, both sides). The national best bid is the highest bid
over venues, the best offer the lowest ask; each size is the sum of the sizes of the
venues quoting that best price. A side is present only when its price is positive and its
size is positive (feeds send price 0 / size 0 for "no interest"); a side no venue quotes is
null. Quotes sharing a timestamp are applied in input order and produce one NBBO row (the
state after all of them); a row is written only when the NBBO changes. Output is sorted by
(symbol, ts), the order ``engine.asof`` reads without re-sorting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.asof import timestamps_ns
from pfof.model.quote_states import NbboState
from pfof.model.tables import NBBO, QUOTES

#: Rows consolidated per batch (whole symbols), bounding the temporary arrays.
CHUNK_ROWS = 2_000_000


def conform(table: pa.Table | Any, schema: pa.Schema, name: str) -> pa.Table:
    """Select and cast ``table``'s columns to ``schema``; raise naming the missing column.

    ``table`` is an Arrow table or anything with ``to_arrow()`` (a Polars DataFrame).
    """
    if not isinstance(table, pa.Table):
        table = table.to_arrow()
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}; expected {schema.names}")
    cols = []
    for field in schema:
        col = table.column(field.name)
        if col.type != field.type:
            try:
                col = col.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(
                    f"{name}: column {field.name} has type {col.type}, expected {field.type}: {exc}"
                ) from exc
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)


def _require_non_null(table: pa.Table, name: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        col = table.column(column)
        if col.null_count:
            mask = pc.is_null(col).to_numpy(zero_copy_only=False)
            raise ValueError(f"{name}: row {int(np.flatnonzero(mask)[0])} has a null {column}")


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return col.to_numpy().astype(np.float64, copy=False)


def _ints(col: pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(col, 0).to_numpy().astype(np.int64, copy=False)


def _codes(col: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    enc = pc.dictionary_encode(col.combine_chunks())
    return enc.dictionary, enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def nbbo_table(nbbo: pa.Table) -> pa.Table:
    """A ready NBBO table checked and cast to the canonical ``NBBO`` schema."""
    table = conform(nbbo, NBBO, "nbbo")
    _require_non_null(table, "nbbo", ("symbol", "ts"))
    return table


def quotes_to_nbbo(quotes: pa.Table, *, chunk_rows: int = CHUNK_ROWS) -> pa.Table:
    """The NBBO (canonical ``NBBO`` schema, sorted by symbol and ts) of a quotes table.

    A table with a ``venue`` column holds per-venue quotes and is consolidated
    (:func:`consolidate_nbbo`: highest bid and lowest ask over each venue's latest quote).
    A table without one is already consolidated (an SIP NBBO feed, a vendor's BBO, what
    ``pfof.read_quotes`` returns for such sources): its extra columns are dropped, a side whose
    price is missing, zero or negative, or whose size is zero or negative, becomes null, and
    rows are sorted by (symbol, ts), keeping the source's order within a timestamp (so the
    last row of a timestamp is the state after it). Locked and crossed rows are kept;
    :func:`nbbo_states` labels them.

    >>> import pyarrow as pa
    >>> import pfof
    >>> quotes = pa.table({
    ...     "symbol": ["XYZ", "XYZ", "XYZ"],
    ...     "ts": pa.array([1, 2, 2], pa.timestamp("ns", tz="UTC")),
    ...     "venue": ["XNYS", "ARCX", "XNYS"],
    ...     "bid": [10.00, 10.01, 10.02], "bid_size": [100, 200, 300],
    ...     "ask": [10.05, 10.03, 0.0], "ask_size": [100, 300, 0],
    ... })
    >>> nbbo = pfof.quotes_to_nbbo(quotes)
    >>> nbbo.select(["bid", "bid_size", "ask", "ask_size"]).to_pylist()[-1]
    {'bid': 10.02, 'bid_size': 300, 'ask': 10.03, 'ask_size': 300}
    """
    if not isinstance(quotes, pa.Table):
        quotes = quotes.to_arrow()
    if "venue" in quotes.column_names:
        return consolidate_nbbo(quotes, chunk_rows=chunk_rows)
    table = nbbo_table(quotes)
    bid, ask = _floats(table.column("bid")), _floats(table.column("ask"))
    bsz, asz = table.column("bid_size"), table.column("ask_size")
    no_bid = ~(bid > 0) | (bid == np.inf) | _nonpositive(bsz)
    no_ask = ~(ask > 0) | (ask == np.inf) | _nonpositive(asz)
    table = table.set_column(2, "bid", pa.array(bid, mask=no_bid))
    table = table.set_column(3, "bid_size", _masked_sizes(bsz, no_bid))
    table = table.set_column(4, "ask", pa.array(ask, mask=no_ask))
    table = table.set_column(5, "ask_size", _masked_sizes(asz, no_ask))
    order = pc.sort_indices(
        pa.table({"s": table.column("symbol"), "t": table.column("ts")}),
        sort_keys=[("s", "ascending"), ("t", "ascending")],
    )  # Arrow's sort is stable
    return table.take(order)


def _nonpositive(sizes: pa.ChunkedArray) -> np.ndarray:
    """True where a size is given and not positive (a missing size leaves the side alone)."""
    values = pc.fill_null(sizes, 1).to_numpy()
    return np.asarray(values <= 0)


def _masked_sizes(sizes: pa.ChunkedArray, missing: np.ndarray) -> pa.Array:
    values = pc.fill_null(sizes, 0).to_numpy().astype(np.int64, copy=False)
    return pa.array(values, type=pa.int64(), mask=missing | pc.is_null(sizes).to_numpy())


def nbbo_states(nbbo: pa.Table) -> pa.Array:
    """Each NBBO row's state (``model.quote_states.NbboState`` values) as a string array.

    ``normal`` (bid < ask), ``locked`` (bid == ask), ``crossed`` (bid > ask), ``one_sided``
    (one side present) or ``empty`` (neither side). Locked and crossed markets happen in real
    data (venues quote through each other for a moment); they are kept, and labelled here.
    """
    if not isinstance(nbbo, pa.Table):
        nbbo = nbbo.to_arrow()
    bid, ask = _floats(nbbo.column("bid")), _floats(nbbo.column("ask"))
    has_bid, has_ask = bid > 0, ask > 0  # NaN (null) compares False
    both = has_bid & has_ask
    state = np.select(
        [both & (bid < ask), both & (bid == ask), both & (bid > ask), has_bid | has_ask],
        [NbboState.NORMAL, NbboState.LOCKED, NbboState.CROSSED, NbboState.ONE_SIDED],
        default=NbboState.EMPTY,
    )
    return pa.array(state.astype(str), pa.string())


def consolidate_nbbo(quotes: pa.Table, *, chunk_rows: int = CHUNK_ROWS) -> pa.Table:
    """The NBBO (canonical ``NBBO`` schema, sorted by symbol and ts) from venue quotes."""
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
