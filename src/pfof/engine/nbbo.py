"""Consolidate per-venue top-of-book quotes into the NBBO, or check a ready NBBO table.

Each venue's latest quote per symbol stands until that venue quotes again (a new quote
replaces the whole previous one, both sides) or the New York date changes (each symbol's
book starts empty on each date: a quote from another session is unusable, Rule 605 as
amended). The national best bid is the highest bid over venues, the best offer the lowest
ask; each size is the sum of the sizes of the venues quoting that best price. A side is
present only when its price is positive and its size is positive (feeds send price 0 / size
0 for "no interest"); a side no venue quotes is null. Quotes sharing a timestamp are applied
in input order and produce one NBBO row (the state after all of them); a row is written only
when the NBBO changes, counting from an empty book at each date's start. Output is sorted by
(symbol, ts), the order ``engine.asof`` reads without re-sorting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.asof import timestamps_ns
from pfof.model.quote_states import NbboState
from pfof.model.tables import NBBO, QUOTES, with_optional_columns

#: Rows consolidated per kernel pass (whole symbols), bounding its output arrays.
CHUNK_ROWS = 2_000_000
_DAY_NS = 86_400 * 1_000_000_000


def conform(table: pa.Table | Any, schema: pa.Schema, name: str) -> pa.Table:
    """Select and cast ``table``'s columns to ``schema``; raise naming the missing column.

    ``table`` is an Arrow table or anything with ``to_arrow()`` (a Polars DataFrame).
    """
    if not isinstance(table, pa.Table):
        table = table.to_arrow()
    table = with_optional_columns(table, schema)  # columns older tables predate
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
    (:func:`consolidate_nbbo`: highest bid and lowest ask over each venue's latest quote of
    the New York date).
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
    """The NBBO (canonical ``NBBO`` schema, sorted by symbol and ts) from venue quotes.

    Runs in the compiled kernels of ``engine.nbbo_kernels``: one pass over the quotes in their
    order, keeping each venue's latest quote per symbol (quotes whose symbols are out of time
    order are first put in order by a stable sort). ``chunk_rows`` bounds the rows (whole
    symbols) of one pass, and so the kernel's output and per-venue arrays.

    Each symbol's venue book starts empty on each New York calendar date: a quote whose New
    York date differs from the symbol's previous quote's clears every venue's quote of the
    symbol before it is applied, so yesterday's quotes never reach today's NBBO. Each date is
    consolidated as if its quotes were the whole input and the dates' rows are concatenated:
    no row is written for the reset itself (it happens at no quote's time), a date's first
    row is at its first timestamp, written even when it equals the previous date's last row
    (so a lookup in today's session finds today's timestamp), and not written when the book
    is empty after it (as at a symbol's first quote); until then a lookup finds the previous
    date's last row, which ``engine.quality`` judges unusable (another session).
    """
    from pfof.engine.nbbo_kernels import consolidate, symbol_time_order, times_ascend_per_symbol
    from pfof.engine.quality import local_ns  # imports this module: not at the top

    q = conform(quotes, QUOTES, "quotes")
    _require_non_null(q, "quotes", ("symbol", "ts", "venue"))
    if q.num_rows == 0:
        return NBBO.empty_table()
    symbols, scode = _codes(q.column("symbol"))
    sort_symbols = pc.array_sort_indices(symbols)
    rank = np.empty(len(symbols), dtype=np.int64)
    rank[sort_symbols.to_numpy()] = np.arange(len(symbols))
    srank = rank[scode]
    del scode
    ts = timestamps_ns(q.column("ts"), "quotes column ts")
    day = local_ns(ts) // _DAY_NS  # the New York date, as days since 1970-01-01
    venues, vcode = _codes(q.column("venue"))
    bid, ask = _floats(q.column("bid")), _floats(q.column("ask"))
    bsz, asz = _ints(q.column("bid_size")), _ints(q.column("ask_size"))
    n_symbols, n_venues = len(symbols), len(venues)
    if not times_ascend_per_symbol(srank, ts, n_symbols):
        perm = symbol_time_order(srank, ts, n_symbols)
        srank, ts, day, vcode, bid, bsz, ask, asz = (
            np.take(x, perm) for x in (srank, ts, day, vcode, bid, bsz, ask, asz)
        )
        del perm
    sym_starts = np.zeros(n_symbols + 1, dtype=np.int64)
    np.cumsum(np.bincount(srank, minlength=n_symbols), out=sym_starts[1:])
    per_pass = max(1, chunk_rows // max(n_venues, 1))  # symbols: bounds the per-venue state
    parts = []
    lo = 0
    while lo < n_symbols:  # whole symbols, at least one per pass
        hi = int(np.searchsorted(sym_starts, sym_starts[lo] + chunk_rows, side="right")) - 1
        hi = min(max(hi, lo + 1), lo + per_pass, n_symbols)
        parts.append(
            consolidate(srank, ts, day, vcode, n_venues, bid, bsz, ask, asz, sym_starts, lo, hi)
        )
        lo = hi
    out_sym, out_ts, out_bid, out_bsz, out_ask, out_asz = (
        np.concatenate([part[k] for part in parts]) if len(parts) > 1 else parts[0][k]
        for k in range(6)
    )
    no_bid = out_bid == -np.inf
    no_ask = out_ask == np.inf
    sorted_symbols = pc.take(symbols, sort_symbols)
    return pa.Table.from_arrays(
        [
            pc.take(sorted_symbols, pa.array(out_sym)),
            pa.array(out_ts, type=NBBO.field("ts").type),
            pa.array(out_bid, mask=no_bid),
            pa.array(out_bsz, mask=no_bid),
            pa.array(out_ask, mask=no_ask),
            pa.array(out_asz, mask=no_ask),
        ],
        schema=NBBO,
    )
