"""As-of joins: for each event, the NBBO row in force (latest at or before a time, per symbol).

The NBBO is grouped by symbol and sorted by time once (``NbboIndex.build``; already grouped
and sorted input, as the simulator writes it, is detected and not re-sorted), then every
lookup is a binary search. When the time span fits, symbol and time are packed into one
int64 key (``code * span + ts - base``) so a whole batch of events is one
``numpy.searchsorted`` over sorted queries; otherwise each symbol's slice is searched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Method = Literal["auto", "composite", "segments"]
_INT64_LIMIT = 2**62


def timestamps_ns(values: pa.Array | pa.ChunkedArray | np.ndarray, what: str) -> np.ndarray:
    """Nanoseconds since the epoch as int64 numpy; raises naming ``what`` on nulls."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "M":
            return values.astype("datetime64[ns]").astype(np.int64)
        return values.astype(np.int64, copy=False)
    if values.null_count:
        row = _first_null(values)
        raise ValueError(f"{what}: row {row} is null, expected a timestamp")
    arr = values
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp("ns", tz=arr.type.tz))
    arr = arr.cast(pa.int64())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.to_numpy(zero_copy_only=False)


def _first_null(values: pa.Array | pa.ChunkedArray) -> int:
    return int(np.flatnonzero(pc.is_null(values).to_numpy(zero_copy_only=False))[0])


@dataclass(frozen=True, slots=True)
class NbboIndex:
    """NBBO rows grouped by symbol, time-sorted within each symbol, ready for as-of lookups.

    ``symbols[c]`` is the symbol with code ``c``; its rows occupy sorted positions
    ``starts[c]:starts[c + 1]``; ``perm`` maps a sorted position to the input row (``None``
    when the input was already grouped by symbol and sorted by time).
    """

    symbols: pa.Array
    starts: np.ndarray
    ts: np.ndarray
    perm: np.ndarray | None
    base: int
    span: int
    key: np.ndarray | None

    @classmethod
    def build(cls, nbbo: pa.Table) -> NbboIndex:
        """Index ``nbbo`` (needs ``symbol`` and ``ts`` columns); sorts only when needed."""
        if not isinstance(nbbo, pa.Table):
            nbbo = nbbo.to_arrow()  # a Polars DataFrame
        sym = nbbo.column("symbol")
        if sym.null_count:
            raise ValueError(f"nbbo: row {_first_null(sym)} has a null symbol")
        ts = timestamps_ns(nbbo.column("ts"), "nbbo column ts")
        n = len(ts)
        if n == 0:
            return cls(pa.array([], pa.string()), np.zeros(1, np.int64), ts, None, 0, 1, ts)
        base, span = int(ts.min()), int(ts.max()) - int(ts.min()) + 1
        grouped = _runs_if_grouped(sym)
        if grouped is not None:
            symbols, starts = grouped
            breaks = np.zeros(n - 1, dtype=bool)
            breaks[starts[1:-1] - 1] = True
            if bool(np.all((ts[1:] >= ts[:-1]) | breaks)):
                return cls(
                    symbols,
                    starts,
                    ts,
                    None,
                    base,
                    span,
                    _composite(symbols, starts, ts, base, span),
                )
        enc = pc.dictionary_encode(sym)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.unify_dictionaries()
            symbols = enc.chunk(0).dictionary
            codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in enc.chunks])
        else:
            symbols, codes = enc.dictionary, enc.indices.to_numpy(zero_copy_only=False)
        codes = codes.astype(np.int64)
        if len(symbols) * span < _INT64_LIMIT:
            perm = np.argsort(codes * span + (ts - base), kind="stable")
        else:
            perm = np.lexsort((ts, codes))
        counts = np.bincount(codes, minlength=len(symbols))
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        ts = ts[perm]
        key = _composite(symbols, starts, ts, base, span)
        return cls(symbols, starts, ts, perm, base, span, key)

    @property
    def num_rows(self) -> int:
        return len(self.ts)

    def encode(self, symbols: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Symbol codes of events (int64); -1 for symbols absent from the NBBO or null."""
        idx = pc.fill_null(pc.index_in(symbols, value_set=self.symbols), -1)
        if isinstance(idx, pa.ChunkedArray):
            idx = idx.combine_chunks()
        return idx.to_numpy(zero_copy_only=False).astype(np.int64)

    def lookup(
        self,
        codes: np.ndarray,
        ts_ns: np.ndarray,
        *,
        offset_ns: int = 0,
        max_age_ns: int | None = None,
        method: Method = "auto",
    ) -> np.ndarray:
        """Input-row index of the NBBO in force at ``ts_ns + offset_ns`` per event, or -1."""
        return self.lookup_many(
            codes, ts_ns, [offset_ns], max_age_ns=max_age_ns, method=method, rows=True
        )[0]

    def lookup_many(
        self,
        codes: np.ndarray,
        ts_ns: np.ndarray,
        offsets_ns: Sequence[int],
        *,
        max_age_ns: int | None = None,
        method: Method = "auto",
        rows: bool = True,
    ) -> list[np.ndarray]:
        """``lookup`` at several offsets, sorting the events once.

        Returns input-row indices (``rows=True``) or sorted positions into ``self.ts``
        (``rows=False``, map them with ``self.rows``); -1 where no row is in force, i.e. no
        quote for the symbol at or before the time, or (``max_age_ns``) the latest one is
        older than ``max_age_ns`` nanoseconds.
        """
        order, found = self.search(codes, ts_ns, offsets_ns, max_age_ns=max_age_ns, method=method)
        out = []
        for pos in found:
            res = np.empty(len(order), dtype=np.int64)
            res[order] = self.rows(pos) if rows else pos
            out.append(res)
        return out

    def search(
        self,
        codes: np.ndarray,
        ts_ns: np.ndarray,
        offsets_ns: Sequence[int],
        *,
        max_age_ns: int | None = None,
        method: Method = "auto",
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """(order, positions): events visited in ``order``; ``positions[k][i]`` is the sorted
        position (into ``self.ts``, -1 for none) in force for event ``order[i]`` at offset
        ``k``. Positions come out nearly ascending, so gathering with them is cache-friendly.
        """
        codes = np.asarray(codes, dtype=np.int64)
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        if method == "auto":
            method = "composite" if self.key is not None else "segments"
        if self.num_rows == 0:
            return np.arange(len(codes)), [np.full(len(codes), -1, np.int64) for _ in offsets_ns]
        known = codes >= 0
        out: list[np.ndarray] = []
        if method == "composite":
            key = self.key
            if key is None:
                raise ValueError("the composite method needs (symbols + 1) * time span < 2**62")
            # sorted queries make searchsorted several times faster; ties may go any order
            order = np.argsort(
                np.where(known, codes, 0) * self.span + np.clip(ts_ns - self.base, -1, self.span)
            )
            s_known = known[order]
            s_code0 = np.where(s_known, codes[order], 0)
            lo = self.starts[s_code0]
            s_ts0 = ts_ns[order]
            for off in offsets_ns:
                s_ts = s_ts0 + off
                rel = s_ts - self.base
                q = s_code0 * self.span + np.clip(rel, -1, self.span - 1)
                pos = searchsorted_right(key, q) - 1
                ok = s_known & (rel >= 0) & (pos >= lo)
                if max_age_ns is not None:
                    ok &= self.ts[np.maximum(pos, 0)] >= s_ts - max_age_ns
                out.append(np.where(ok, pos, -1))
        else:
            order = np.argsort(codes, kind="stable")
            s_codes = codes[order]
            s_ts0 = ts_ns[order]
            bounds = np.concatenate([[0], np.flatnonzero(np.diff(s_codes)) + 1, [len(codes)]])
            for off in offsets_ns:
                res = np.full(len(codes), -1, dtype=np.int64)
                for a, b in pairwise(bounds.tolist()):
                    if a == b or s_codes[a] < 0:
                        continue
                    c = s_codes[a]
                    lo, hi = self.starts[c], self.starts[c + 1]
                    t = s_ts0[a:b] + off
                    pos = lo + np.searchsorted(self.ts[lo:hi], t, side="right") - 1
                    ok = pos >= lo
                    if max_age_ns is not None:
                        ok &= self.ts[np.maximum(pos, 0)] >= t - max_age_ns
                    res[a:b] = np.where(ok, pos, -1)
                out.append(res)
        return order, out

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """Map sorted positions (-1 kept) to input-row indices."""
        if self.perm is None:
            return positions
        return np.where(positions >= 0, self.perm[np.maximum(positions, 0)], -1)


#: Keys per block in ``searchsorted_right``: a block (2 MB) stays in cache while searched.
BLOCK_KEYS = 1 << 18


def searchsorted_right(
    keys: np.ndarray, queries: np.ndarray, block: int = BLOCK_KEYS
) -> np.ndarray:
    """``np.searchsorted(keys, queries, side="right")`` for ascending ``queries``.

    The keys are cut into cache-sized blocks and each block is searched only by the queries
    that fall in it, which is faster on large key arrays than one search over all of them.
    """
    n = len(keys)
    if n <= 2 * block or len(queries) < 2:
        return np.searchsorted(keys, queries, side="right")
    bounds = np.arange(0, n, block, dtype=np.int64)
    # queries below keys[bounds[i + 1]] land in block i (or earlier)
    cuts = np.concatenate(
        [[0], np.searchsorted(queries, keys[bounds[1:]], side="left"), [len(queries)]]
    )
    out = np.empty(len(queries), dtype=np.int64)
    for i, lo in enumerate(bounds.tolist()):
        a, b = int(cuts[i]), int(cuts[i + 1])
        if a < b:
            hi = min(lo + block + 1, n)
            out[a:b] = lo + np.searchsorted(keys[lo:hi], queries[a:b], side="right")
    return out


def _composite(
    symbols: pa.Array, starts: np.ndarray, ts: np.ndarray, base: int, span: int
) -> np.ndarray | None:
    """Sorted ``code * span + ts - base`` keys, or None when they could overflow int64."""
    if (len(symbols) + 1) * span >= _INT64_LIMIT:
        return None
    key = ts - base
    for code in range(1, len(symbols)):
        key[starts[code] : starts[code + 1]] += code * span
    return key


def _runs_if_grouped(sym: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray] | None:
    """(distinct symbols, run starts) if equal symbols are contiguous, else None."""
    n = len(sym)
    if n == 1:
        return pc.unique(sym), np.array([0, 1], dtype=np.int64)
    change = pc.not_equal(sym.slice(1), sym.slice(0, n - 1))
    if isinstance(change, pa.ChunkedArray):
        change = change.combine_chunks()
    breaks = np.flatnonzero(change.to_numpy(zero_copy_only=False)) + 1
    starts = np.concatenate([[0], breaks, [n]]).astype(np.int64)
    symbols = pc.take(sym, pa.array(starts[:-1]))
    if isinstance(symbols, pa.ChunkedArray):
        symbols = symbols.combine_chunks()
    if pc.count_distinct(symbols).as_py() != len(symbols):
        return None
    return symbols, starts


def asof_nbbo(
    events_ts: pa.Array | pa.ChunkedArray | np.ndarray,
    events_symbol: pa.Array | pa.ChunkedArray,
    nbbo: pa.Table,
    *,
    offset_ns: int = 0,
    max_age_ns: int | None = None,
) -> np.ndarray:
    """Row index into ``nbbo`` of the quote in force at ``events_ts + offset_ns``, or -1.

    In force = the latest row of the same symbol whose ``ts`` is at or before the time (a
    quote stamped exactly at the time counts; among rows sharing a timestamp the last in
    sorted order wins). -1 when there is none, or when it is older than ``max_age_ns``.
    """
    index = NbboIndex.build(nbbo)
    ts = timestamps_ns(events_ts, "events_ts")
    return index.lookup(index.encode(events_symbol), ts, offset_ns=offset_ns, max_age_ns=max_age_ns)
