"""An independent, obviously correct NBBO: replay venue quotes in time order and look at the
book at chosen times (loops and dicts, no numpy, no pfof code).

The rules (docs/market-data.md, "The NBBO"): each venue's latest quote stands until that venue
quotes again (its new quote replaces both sides); a side counts only when its price and size
are positive; the best bid is the highest bid over venues and the best offer the lowest ask,
each with the summed size of the venues at that price; a look at time t sees every quote
stamped at or before t, all the rows of one timestamp included. Each New York date's book
starts empty: callers pass one date's quotes (tests/formats/test_quotes_taq.py).
"""

from __future__ import annotations

from typing import Any

Side = tuple[float, int] | None


def _best(book: dict[str, dict[str, Any]], side: str) -> Side:
    best: float | None = None
    size = 0
    for quote in book.values():
        price, qty = quote[side], quote[f"{side}_size"]
        if price is None or qty is None or price <= 0 or qty <= 0:
            continue
        better = best is None or (price > best if side == "bid" else price < best)
        if better:
            best, size = price, qty
        elif price == best:
            size += qty
    return None if best is None else (best, size)


def ref_nbbo_at(
    quotes: list[dict[str, Any]], symbol: str, times: list[int]
) -> dict[int, tuple[Side, Side] | None]:
    """(bid, ask) of ``symbol`` at each of ``times`` (``None`` before its first quote).

    ``quotes`` are dicts with ``symbol, ts, venue, bid, bid_size, ask, ask_size`` in file
    order; rows sharing a timestamp apply in file order.
    """
    rows = sorted(
        (q for q in quotes if q["symbol"] == symbol), key=lambda q: q["ts"]
    )  # a stable sort keeps file order within a timestamp
    out: dict[int, tuple[Side, Side] | None] = {}
    book: dict[str, dict[str, Any]] = {}
    k = 0
    for t in sorted(set(times)):
        while k < len(rows) and rows[k]["ts"] <= t:
            book[rows[k]["venue"]] = rows[k]
            k += 1
        out[t] = (_best(book, "bid"), _best(book, "ask")) if book else None
    return out


def ref_state(bid: Side, ask: Side) -> str:
    """normal, locked, crossed, one_sided or empty, from the two sides."""
    if bid is None and ask is None:
        return "empty"
    if bid is None or ask is None:
        return "one_sided"
    if bid[0] < ask[0]:
        return "normal"
    return "locked" if bid[0] == ask[0] else "crossed"
