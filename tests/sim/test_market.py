"""Quotes and NBBO: the NBBO is the best of the venue quotes, with locked, crossed and
one-sided moments; intensity is U-shaped; orders have the required variety."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.sim.calendar import trading_sessions
from pfof.sim.market_centers import EQUITY_EXCHANGES


def _replay_nbbo(quotes: list[dict]) -> dict[tuple[str, int], tuple]:
    """NBBO after each (symbol, ts) group of venue quotes, recomputed naively."""
    book: dict[str, dict[str, dict]] = defaultdict(dict)
    out: dict[tuple[str, int], tuple] = {}
    for q in quotes:  # rows are grouped by symbol, in time order
        book[q["symbol"]][q["venue"]] = q
        venues = book[q["symbol"]].values()
        bids = [v["bid"] for v in venues if v["bid"] is not None]
        asks = [v["ask"] for v in venues if v["ask"] is not None]
        bid = max(bids) if bids else None
        ask = min(asks) if asks else None
        bsz = sum(v["bid_size"] for v in venues if v["bid"] is not None and v["bid"] == bid)
        asz = sum(v["ask_size"] for v in venues if v["ask"] is not None and v["ask"] == ask)
        out[(q["symbol"], q["ts"])] = (
            bid,
            bsz if bid is not None else 0,
            ask,
            asz if ask is not None else 0,
        )
    return out


def test_nbbo_is_best_of_venue_quotes(sim_market) -> None:
    day = sim_market.days()[1]
    quotes = sim_market.read_day("quotes", day)
    nbbo = sim_market.read_day("nbbo", day)
    rows = quotes.cast(quotes.schema.set(1, quotes.schema.field("ts").with_type(pa.int64())))
    expected = _replay_nbbo(rows.to_pylist())
    got = {
        (r["symbol"], r["ts"]): (r["bid"], r["bid_size"], r["ask"], r["ask_size"])
        for r in nbbo.cast(
            nbbo.schema.set(1, nbbo.schema.field("ts").with_type(pa.int64()))
        ).to_pylist()
    }
    # Every NBBO row equals the recomputation at its time ...
    for k, v in got.items():
        assert expected[k] == v, k
    # ... and the NBBO only gets a row when it changes.
    last: dict[str, tuple] = {}
    for (sym, ts), v in sorted(expected.items()):
        if last.get(sym) != v:
            assert (sym, ts) in got, (sym, ts)
        last[sym] = v


def test_venues_and_sizes(sim_market) -> None:
    q = sim_market.read_all("quotes")
    venues = set(q.column("venue").unique().to_pylist())
    equity = {e.mic for e in EQUITY_EXCHANGES}
    assert len(venues & equity) >= 12
    bid_ok = pc.is_valid(q.column("bid"))
    assert pc.all(pc.greater(pc.filter(q.column("bid_size"), bid_ok), 0)).as_py()
    assert pc.all(pc.equal(pc.filter(q.column("bid_size"), pc.invert(bid_ok)), 0)).as_py()


def test_locked_crossed_and_one_sided_moments(sim_market) -> None:
    n = sim_market.read_all("nbbo")
    bid = np.array(n.column("bid").to_pylist(), dtype=float)
    ask = np.array(n.column("ask").to_pylist(), dtype=float)
    two = ~np.isnan(bid) & ~np.isnan(ask)
    locked = two & (bid == ask)
    crossed = two & (bid > ask)
    one_sided = np.isnan(bid) ^ np.isnan(ask)
    assert locked.sum() > 0 and crossed.sum() > 0 and one_sided.sum() > 0
    # Occasional: a small share of NBBO updates.
    assert (locked | crossed | one_sided).mean() < 0.05
    # Momentary: a lock or cross is resolved by the next update within a second.
    ts = n.column("ts").cast("int64").to_numpy()
    sym = np.array(n.column("symbol").to_pylist())
    lc = np.flatnonzero(locked | crossed)
    lc = lc[lc + 1 < len(ts)]
    same = sym[lc + 1] == sym[lc]
    assert (ts[lc + 1][same] - ts[lc][same] < 1e9).mean() > 0.9


def test_quote_intensity_is_u_shaped(sim_market) -> None:
    session = trading_sessions(date(2026, 11, 30), 1)[0]  # a full day
    q = sim_market.read_day("quotes", session.day)
    frac = (q.column("ts").cast("int64").to_numpy() - session.open_ns) / (
        session.close_ns - session.open_ns
    )
    counts = np.histogram(frac, bins=13, range=(0, 1))[0]
    assert counts[0] > 1.5 * np.median(counts) and counts[-1] > 1.2 * np.median(counts)
    # Liquid symbols quote more than illiquid ones.
    per_symbol = q.group_by("symbol").aggregate([("ts", "count")]).column("ts_count")
    assert pc.max(per_symbol).as_py() > 5 * pc.min(per_symbol).as_py()


def test_orders_have_the_required_variety(sim_market) -> None:
    o = sim_market.read_all("orders")
    assert set(o.column("order_type").unique().to_pylist()) == {
        "market",
        "marketable_limit",
        "non_marketable_limit",
        "other",
    }
    assert set(o.column("section").unique().to_pylist()) == {"sp500", "other_stocks", "options"}
    assert {"OPG", "CLS", "DAY", "IOC", "GTC"} <= set(o.column("time_in_force").to_pylist())
    assert pc.all(pc.is_valid(o.column("customer_id"))).as_py()
    assert len(set(o.column("order_id").to_pylist())) == o.num_rows
    qty = [Decimal(repr(x)) for x in o.column("quantity").to_pylist()]
    assert any(x != x.to_integral_value() for x in qty)  # fractional shares
    assert any(x < 100 and x == x.to_integral_value() for x in qty)  # odd lots
    assert max(qty) >= 20 * sorted(qty)[len(qty) // 2]  # heavy tail
    directed = o.column("directed").to_pylist()
    assert 0 < sum(directed) < 0.1 * len(directed)
    sides = o.column("side").to_pylist()
    assert {"buy", "sell", "sell_short"} <= set(sides)
    stops = o.filter(pc.is_valid(o.column("stop_price")))
    assert stops.num_rows > 0 and set(stops.column("order_type").to_pylist()) == {"other"}
    assert sim_market.read_all("cancels").num_rows > 0
