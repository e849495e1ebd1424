"""Per-order execution quality against the NBBO (the ``ORDER_QUALITY`` table).

For each order: the NBBO in force at receipt and its state, the volume-weighted execution,
fill timing, effective spread, E/Q, price improvement, position against the quote, and the
realized spread and price impact at each amended Rule 605 horizon after execution. Formulas,
signs, units, sources and edge cases: docs/metrics.md. All joins share one ``NbboIndex``
(one sort of the NBBO at most) and each batch of lookups sorts its events once.

A quote is used only in the session it belongs to: the quote in force at a moment is unusable
(``stale``) when it was stamped before 09:30 New York time on that moment's New York date, i.e.
on an earlier trading day or before the open. Its age alone never disqualifies it (the NBBO
only gets a row when it changes, so a quiet stock's quote may stand for an hour), unless the
caller opts into an age limit with ``stale_after_ns``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.asof import NbboIndex, timestamps_ns
from pfof.engine.nbbo import _require_non_null, conform, nbbo_table
from pfof.model.market_time import MARKET_TZ
from pfof.model.quote_states import NbboState, QuotePosition
from pfof.model.tables import FILLS, HORIZONS_NS, OPTIONAL, ORDER_QUALITY, ORDERS

#: The regular session opens at 09:30 New York time: nanoseconds after local midnight.
SESSION_OPEN_NS = (9 * 3600 + 30 * 60) * 1_000_000_000
_DAY_NS = 86_400 * 1_000_000_000
_MARKET_ZONE = ZoneInfo(MARKET_TZ)
#: Price differences (dollars) at or below this are ties: "at the quote". Far below a tick.
PRICE_EPS = 1e-9
#: An order is complete when executed >= quantity * (1 - FILL_EPS) (float share sums).
FILL_EPS = 1e-9
#: Shares per contract of a standard US equity option: options quantities are contracts and
#: prices are per share, so an options order's dollar amounts are scaled by this.
OPTION_MULTIPLIER = 100.0

_STATES = [
    s.value
    for s in (
        NbboState.NORMAL,
        NbboState.LOCKED,
        NbboState.CROSSED,
        NbboState.ONE_SIDED,
        NbboState.EMPTY,
        NbboState.STALE,
    )
]
_POSITIONS = [QuotePosition.INSIDE.value, QuotePosition.AT.value, QuotePosition.OUTSIDE.value]
_PASSTHROUGH = (
    "order_id",
    "broker",
    "customer_id",
    "symbol",
    "section",
    "side",
    "order_type",
    "quantity",
    "limit_price",
    "received_ts",
)


def quality_schema(horizons: Mapping[str, int] = HORIZONS_NS) -> pa.Schema:
    """``ORDER_QUALITY`` with one realized-spread and price-impact column per horizon."""
    horizon_cols = ("realized_spread_", "price_impact_", "realized_qty_")
    base = [f for f in ORDER_QUALITY if not f.name.startswith(horizon_cols)]
    price = ORDER_QUALITY.field("effective_spread").type
    return pa.schema(
        base
        + [pa.field(f"realized_spread_{h}", price) for h in horizons]
        + [pa.field(f"price_impact_{h}", price) for h in horizons]
        + [pa.field(f"realized_qty_{h}", pa.float64(), metadata=OPTIONAL) for h in horizons]
    )


def _utc_offset_ns(ts_ns: int) -> int:
    offset = dt.datetime.fromtimestamp(ts_ns // 10**9, _MARKET_ZONE).utcoffset()
    assert offset is not None
    return (offset.days * 86_400 + offset.seconds) * 1_000_000_000


def local_ns(ts_ns: np.ndarray) -> np.ndarray:
    """New York wall-clock time of UTC nanosecond times, as nanoseconds since 1970 (local).

    Fast path: when the times span under 100 days and the offset from UTC is the same at both
    ends, no clock change lies between them (New York's changes are at least 17 weeks apart),
    so one offset serves all; otherwise Arrow converts each time.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    if len(ts) == 0:
        return ts.copy()
    lo, hi = int(ts.min()), int(ts.max())
    offset = _utc_offset_ns(lo)
    if hi - lo < 100 * _DAY_NS and _utc_offset_ns(hi) == offset:
        return ts + offset
    utc = pa.array(ts, pa.timestamp("ns", "UTC"))
    local = pc.local_timestamp(utc.cast(pa.timestamp("ns", MARKET_TZ)))
    return _np(local.cast(pa.int64()), np.int64)


def in_session(quote_ts: np.ndarray, at_ts: np.ndarray) -> np.ndarray:
    """Whether a quote stamped ``quote_ts`` belongs to the session of the moment ``at_ts``.

    True when the quote was stamped at or after 09:30 New York time on ``at_ts``'s New York
    date; a quote of an earlier day, or of the pre-open, is False. Both in UTC nanoseconds.

    >>> t = 1_767_364_200_000_000_000  # 2026-01-02 09:30 New York
    >>> in_session(np.array([t, t - 1, t - 86_400_000_000_000]), np.full(3, t + 1)).tolist()
    [True, False, False]
    """
    if len(at_ts) == 0:
        return np.zeros(0, dtype=bool)
    at_local = local_ns(at_ts)
    open_local = at_local - at_local % _DAY_NS + SESSION_OPEN_NS
    return local_ns(quote_ts) >= open_local


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _np(col: pa.ChunkedArray | pa.Array, dtype: type = np.float64) -> np.ndarray:
    """Column as numpy (no copy when possible); float nulls become NaN."""
    if isinstance(col, pa.ChunkedArray) and col.num_chunks == 1:
        col = col.chunk(0)
    values = col.to_numpy(zero_copy_only=False) if isinstance(col, pa.Array) else col.to_numpy()
    return np.asarray(values, dtype=dtype)


def _masked(values: np.ndarray, valid: np.ndarray, typ: pa.DataType) -> pa.Array:
    return pa.array(values, type=typ, mask=~valid)


def _sizes_at(sizes: pa.ChunkedArray, rows: np.ndarray, present: np.ndarray) -> pa.Array:
    """``sizes[rows]`` (nulls kept), null where the side is absent or ``rows`` is -1."""
    taken = (
        pc.take(sizes, pa.array(np.maximum(rows, 0), mask=~present))
        if len(sizes)
        else pa.nulls(len(rows), pa.int64())
    )
    if isinstance(taken, pa.ChunkedArray):
        taken = taken.combine_chunks()
    return taken


def _order_rows(order_id: pa.ChunkedArray, fill_order_id: pa.ChunkedArray) -> np.ndarray:
    """Row in ``orders`` of each fill's order; raises on repeated or unknown order ids.

    One hash pass over both columns: codes follow first appearance, so the orders' codes are
    0..n-1 exactly when their ids are distinct, and a fill's code is then its order's row.
    """
    n = len(order_id)
    both = pa.chunked_array([*order_id.chunks, *fill_order_id.chunks], type=pa.string())
    enc = pc.dictionary_encode(both)
    codes = np.concatenate(
        [np.zeros(0, np.int64)]
        + [c.indices.to_numpy(zero_copy_only=False).astype(np.int64) for c in enc.chunks]
    )
    repeated = codes[:n] != np.arange(n)
    if repeated.any():
        row = _first_row(repeated)
        raise ValueError(f"orders: row {row} repeats order_id {order_id[row].as_py()!r}")
    unknown = codes[n:] >= n
    if unknown.any():
        row = _first_row(unknown)
        raise ValueError(
            f"fills: row {row} has order_id {fill_order_id[row].as_py()!r}, which is not in orders"
        )
    return codes[n:]


def order_quality(
    orders: pa.Table,
    fills: pa.Table,
    nbbo: pa.Table,
    *,
    stale_after_ns: int | None = None,
    horizons: Mapping[str, int] = HORIZONS_NS,
    index: NbboIndex | None = None,
) -> pa.Table:
    """One ``ORDER_QUALITY`` row per order, in the order of ``orders``.

    A receipt quote is ``stale`` (unusable) when it comes from another session or from
    before the open (:func:`in_session`); ``stale_after_ns`` adds an opt-in age limit (a quote
    older than that at receipt is ``stale`` too; ``None``, the default, sets none). A horizon
    quote is used only when it belongs to the session of its horizon time. ``index`` may be
    passed when the same ``nbbo`` serves several calls. With the default horizons the
    result's schema equals ``model.tables.ORDER_QUALITY``.
    """
    o = conform(orders, ORDERS, "orders")
    _require_non_null(o, "orders", ("order_id", "received_ts", "symbol", "side", "quantity"))
    f = conform(fills, FILLS, "fills")
    _require_non_null(f, "fills", ("order_id", "exec_ts", "quantity", "price"))
    nb = nbbo_table(nbbo)
    if index is None:
        index = NbboIndex.build(nb)
    n = o.num_rows

    order_id = o.column("order_id")
    fo = _order_rows(order_id, f.column("order_id"))
    side_col = o.column("side")
    is_buy = _np(pc.equal(side_col, "buy"), bool)
    is_sell = _np(pc.is_in(side_col, pa.array(["sell", "sell_short"])), bool)
    if not np.all(is_buy | is_sell):
        row = _first_row(~(is_buy | is_sell))
        raise ValueError(
            f"orders: row {row} has side {side_col[row].as_py()!r}, "
            "expected buy, sell or sell_short"
        )
    side = np.where(is_buy, 1.0, -1.0)
    multiplier = np.where(
        _np(pc.fill_null(pc.equal(o.column("section"), "options"), False), bool),
        OPTION_MULTIPLIER,
        1.0,
    )
    qty = _np(o.column("quantity"))
    recv = timestamps_ns(o.column("received_ts"), "orders column received_ts")
    codes = index.encode(o.column("symbol"))

    # NBBO columns in the index's (symbol, ts) order: gathers run in nearly ascending order
    bid_x, ask_x = (
        v if index.perm is None else v[index.perm]
        for v in (_np(nb.column("bid")), _np(nb.column("ask")))
    )
    if index.num_rows == 0:  # every position is -1; give the gathers one NaN row to read
        bid_x = ask_x = np.full(1, np.nan)
    ts_x = index.ts if index.num_rows else np.zeros(1, np.int64)

    # --- the NBBO in force at receipt
    order_r, (pos_r,) = index.search(codes, recv, [0])
    r = np.empty(n, dtype=np.int64)
    r[order_r] = index.rows(pos_r)
    bid, ask, quote_ts = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
    found = pos_r >= 0
    bid[order_r] = np.where(found, bid_x[pos_r], np.nan)
    ask[order_r] = np.where(found, ask_x[pos_r], np.nan)
    quote_ts[order_r] = ts_x[pos_r]
    bid_ok = (bid > 0) & (bid < np.inf)
    ask_ok = (ask > 0) & (ask < np.inf)
    stale = ~in_session(quote_ts, recv)
    if stale_after_ns is not None:  # the caller's opt-in age limit
        stale |= recv - quote_ts > stale_after_ns
    state = np.select(
        [~(bid_ok | ask_ok), stale, bid_ok != ask_ok, bid > ask, bid == ask],
        [4, 5, 3, 2, 1],
        default=0,
    )
    # normal, locked or crossed: the midpoint and the far side exist (a crossed quote's
    # midpoint too, docs/rule605.md "Definitions and sources"); the quoted spread is defined
    # only when not crossed (a negative spread would flip E/Q's sign)
    usable = state <= 2
    quoted_ok = state <= 1
    quoted = np.where(quoted_ok, ask - bid, np.nan)
    mid = np.where(usable, (ask + bid) / 2, np.nan)
    far = np.where(side > 0, ask, bid)

    # --- fills, aggregated per order
    fq = _np(f.column("quantity"))
    fp = _np(f.column("price"))
    fe = timestamps_ns(f.column("exec_ts"), "fills column exec_ts")
    bad = ~((fq > 0) & (fq < np.inf))
    if bad.any():
        row = _first_row(bad)
        raise ValueError(f"fills: row {row} has quantity {fq[row]}, expected a positive number")
    bad = ~((fp > 0) & (fp < np.inf))
    if bad.any():
        row = _first_row(bad)
        raise ValueError(f"fills: row {row} has price {fp[row]}, expected a positive number")
    early = fe < recv[fo]
    if early.any():
        row = _first_row(early)
        raise ValueError(
            f"fills: row {row} executes before its order "
            f"{f.column('order_id')[row].as_py()!r} was received"
        )

    nfills = np.bincount(fo, minlength=n)
    filled = nfills > 0
    executed = np.bincount(fo, weights=fq, minlength=n)
    notional = np.bincount(fo, weights=fq * fp, minlength=n)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, fo, fe)
    np.maximum.at(last, fo, fe)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(filled, notional / np.where(filled, executed, 1), np.nan)
        fill_rate = executed / np.where(qty > 0, qty, 1)
    complete = filled & (executed >= qty * (1 - FILL_EPS))

    measured = filled & usable
    effective = 2 * side * (avg - mid)
    eq_ok = measured & quoted_ok & (quoted > 0)
    eq = np.where(eq_ok, effective / np.where(eq_ok, quoted, 1), np.nan)
    pi = side * (far - avg)
    position = np.select([pi > PRICE_EPS, pi < -PRICE_EPS], [0, 2], default=1)

    # --- horizons: the NBBO midpoint at each fill's execution time + h; fills are visited
    # in (symbol, time) order so that NBBO gathers are nearly sequential
    realized: list[tuple[np.ndarray, np.ndarray]] = []
    impact: list[tuple[np.ndarray, np.ndarray]] = []
    realized_qty: list[np.ndarray] = []
    order_f, hpos = index.search(codes[fo], fe, list(horizons.values()))
    fo_s, fq_s = fo[order_f], fq[order_f]
    fqp_s = fq_s * fp[order_f]
    fe_s = fe[order_f]
    two_side = 2 * side
    for h_ns, pos in zip(horizons.values(), hpos, strict=True):
        hb = bid_x[pos]  # position -1 (no quote in force) reads the last row: masked next
        ha = ask_x[pos]
        ok = (pos >= 0) & (hb > 0) & (ha < np.inf) & (hb <= ha)  # two-sided, not crossed
        ok &= in_session(ts_x[pos], fe_s + h_ns)  # a quote of the horizon time's session
        # per order over the fills with a valid midpoint: shares, sum q*p, sum q*mid
        weight = np.bincount(fo_s, weights=np.where(ok, fq_s, 0), minlength=n)
        qp = np.bincount(fo_s, weights=np.where(ok, fqp_s, 0), minlength=n)
        qm = np.bincount(fo_s, weights=np.where(ok, fq_s * ((hb + ha) / 2), 0), minlength=n)
        has_w = weight > 0
        w = np.where(has_w, weight, 1)
        realized.append((two_side * (qp - qm) / w, has_w))
        impact.append((two_side * (qm / w - mid), has_w & usable))
        realized_qty.append(weight)

    price = pa.float64()
    ts_type = ORDER_QUALITY.field("first_fill_ts").type
    columns: dict[str, pa.Array | pa.ChunkedArray] = {c: o.column(c) for c in _PASSTHROUGH}
    columns.update(
        nbbo_bid=_masked(bid, bid_ok, price),
        nbbo_ask=_masked(ask, ask_ok, price),
        nbbo_bid_size=_sizes_at(nb.column("bid_size"), r, bid_ok),
        nbbo_ask_size=_sizes_at(nb.column("ask_size"), r, ask_ok),
        nbbo_state=pc.take(pa.array(_STATES), pa.array(state)),
        quoted_spread=_masked(quoted, quoted_ok, price),
        executed_qty=pa.array(executed, type=pa.float64()),
        avg_price=_masked(avg, filled, price),
        first_fill_ts=_masked(first, filled, pa.int64()).cast(ts_type),
        last_fill_ts=_masked(last, filled, pa.int64()).cast(ts_type),
        time_to_first_fill_ms=_masked((first - recv) / 1e6, filled, pa.float64()),
        time_to_completion_ms=_masked((last - recv) / 1e6, complete, pa.float64()),
        fill_rate=_masked(fill_rate, qty > 0, pa.float64()),
        effective_spread=_masked(effective, measured, price),
        eq_ratio=_masked(eq, eq_ok, pa.float64()),
        price_improvement_per_share=_masked(pi, measured, price),
        price_improvement_usd=_masked(pi * executed * multiplier, measured, price),
        quote_position=pc.if_else(
            pa.array(measured),
            pc.take(pa.array(_POSITIONS), pa.array(position)),
            pa.scalar(None, pa.string()),
        ),
    )
    for h, (values, valid) in zip(horizons, realized, strict=True):
        columns[f"realized_spread_{h}"] = _masked(values, valid, price)
    for h, (values, valid) in zip(horizons, impact, strict=True):
        columns[f"price_impact_{h}"] = _masked(values, valid, price)
    for h, weight in zip(horizons, realized_qty, strict=True):
        columns[f"realized_qty_{h}"] = pa.array(weight, type=pa.float64())
    schema = quality_schema(horizons)
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def stream_order_quality(
    days: Iterable[tuple[pa.Table, pa.Table, pa.Table]],
    *,
    workers: int = 1,
    stale_after_ns: int | None = None,
    horizons: Mapping[str, int] = HORIZONS_NS,
) -> Iterator[pa.Table]:
    """``order_quality`` over (orders, fills, nbbo) of one trading day at a time, in order.

    Memory is that of ``workers`` days. numpy and Arrow release the GIL in their heavy
    steps, so a second worker (a thread) can use a second core when one is free. An order's
    fills and the quotes its horizons need must be in its day's tables.
    """

    def run(day: tuple[pa.Table, pa.Table, pa.Table]) -> pa.Table:
        return order_quality(*day, stale_after_ns=stale_after_ns, horizons=horizons)

    if workers <= 1:
        for day in days:
            yield run(day)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for day in days:
            pending.append(pool.submit(run, day))
            if len(pending) >= workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()
