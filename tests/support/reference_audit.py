"""A slow, obviously correct reference for the trade audit, independent of pfof's code.

It reads the real market-data samples itself (pyarrow for TAQ's Parquet, ``json`` for the
Polygon pages, ``databento_dbn`` records for DBN), builds the NBBO by the issue's rule with
plain loops, and restates docs/audit.md with ``Fraction`` arithmetic:

* NBBO from venue quotes: each venue's latest quote stands until the venue quotes again or
  the New York date changes (each symbol's book starts empty on each date); the
  best bid is the highest bid, the best offer the lowest ask, over sides with a positive price
  and size; quotes sharing a time stamp are applied together; the NBBO's time is the last time
  it changed (price or size), a date's first non-empty state counting as a change.
* Consolidated records (Polygon, Databento EQUS): each record is the NBBO from its time on; a
  side with a missing or non-positive price, or a stated size that is not positive, is absent.
* The NBBO in force at ``t`` is the latest stamped at or before ``t``; it is used only when
  stamped on ``t``'s New York date and, if ``t`` is at or after 09:30 New York time, at or
  after 09:30 (docs/audit.md: a pre-market trade takes that morning's pre-market quote).
* A trade is ``extended_hours`` outside 09:30-16:00 New York on a weekday, with the holidays
  and early closes of :data:`HOLIDAYS` and :data:`EARLY_CLOSES` (the dates the tests use).
* A crossed NBBO (bid > ask) is measured against its far side and midpoint; it has no quoted
  spread and no E/Q (E5).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

NS = 1_000_000_000
NY = ZoneInfo("America/New_York")
UNDEF_PRICE = 2**63 - 1
#: NYSE holidays and early closes (13:00) of the dates the tests use, from nyse.com's calendar.
HOLIDAYS = {date(2026, 11, 26)}  # Thanksgiving
EARLY_CLOSES = {date(2026, 11, 27)}  # the day after Thanksgiving


@dataclass(frozen=True)
class Quote:
    ts: int
    bid: Fraction | None
    ask: Fraction | None


@dataclass
class Book:
    """Every NBBO state of one source per symbol, time-ordered, and the data's last time."""

    states: dict[str, list[Quote]]
    end: int

    def at(self, symbol: str, t: int) -> Quote | None:
        rows = self.states.get(symbol, [])
        i = bisect_right([q.ts for q in rows], t)
        return rows[i - 1] if i else None


def _side(price: Any, size: Any, *, size_needed: bool = True) -> Fraction | None:
    """A side's price, or None when absent: no positive price, or a size that is not
    positive (a venue quote must state its size; a consolidated record may leave it out)."""
    if price is None or price <= 0:
        return None
    if size is None:
        return None if size_needed else Fraction(str(price))
    return Fraction(str(price)) if size > 0 else None


def book_from_venue_quotes(rows: list[dict[str, Any]]) -> Book:
    """Rows ``symbol, ts, venue, bid, bid_size, ask, ask_size`` in file order."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["symbol"], rows[i]["ts"], i))
    states: dict[str, list[Quote]] = {}
    last: dict[str, tuple[Any, ...]] = {}
    venues: dict[str, dict[str, dict[str, Any]]] = {}
    for k, i in enumerate(order):
        row = rows[i]
        symbol, day = row["symbol"], ny_date(row["ts"])
        venues.setdefault((symbol, day), {})[row["venue"]] = row
        after = rows[order[k + 1]] if k + 1 < len(order) else None
        if after is not None and (after["symbol"], after["ts"]) == (symbol, row["ts"]):
            continue  # the state is seen after the last quote of a time stamp
        book = venues[symbol, day].values()
        bids = [(_side(q["bid"], q["bid_size"]), q["bid_size"]) for q in book]
        asks = [(_side(q["ask"], q["ask_size"]), q["ask_size"]) for q in book]
        bid = max((p for p, _ in bids if p is not None), default=None)
        ask = min((p for p, _ in asks if p is not None), default=None)
        state = (
            bid,
            ask,
            sum(size for p, size in bids if p is not None and p == bid),
            sum(size for p, size in asks if p is not None and p == ask),
        )
        if state != last.get((symbol, day), (None, None, 0, 0)):
            states.setdefault(symbol, []).append(Quote(row["ts"], bid, ask))
            last[symbol, day] = state
    return Book(states, max(r["ts"] for r in rows))


def book_from_consolidated(rows: list[dict[str, Any]]) -> Book:
    """Rows ``symbol, ts, bid, bid_size, ask, ask_size``, one NBBO each."""
    states: dict[str, list[Quote]] = {}
    for row in sorted(rows, key=lambda r: r["ts"]):
        states.setdefault(row["symbol"], []).append(
            Quote(
                row["ts"],
                _side(row["bid"], row["bid_size"], size_needed=False),
                _side(row["ask"], row["ask_size"], size_needed=False),
            )
        )
    return Book(states, max(r["ts"] for r in rows))


# ---------------------------------------------------------------- the samples, read directly


def taq_book(path: Path) -> Book:
    """TAQ per-exchange quotes (``DT`` naive UTC nanoseconds, ``EX`` the venue)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    dt = table.column("DT").cast("int64").to_pylist()
    rows = [
        {
            "symbol": sym,
            "ts": ts,
            "venue": ex,
            "bid": bid,
            "bid_size": bsz,
            "ask": ofr,
            "ask_size": osz,
        }
        for sym, ts, ex, bid, bsz, ofr, osz in zip(
            table.column("SYMBOL").to_pylist(),
            dt,
            table.column("EX").to_pylist(),
            table.column("BID").to_pylist(),
            table.column("BIDSIZ").to_pylist(),
            table.column("OFR").to_pylist(),
            table.column("OFRSIZ").to_pylist(),
            strict=True,
        )
    ]
    return book_from_venue_quotes(rows)


def polygon_book(paths: list[Path], symbol: str) -> Book:
    """Polygon/Massive v3 quote pages: each result is an SIP NBBO at ``sip_timestamp``."""
    rows = []
    for path in paths:
        for r in json.loads(path.read_text(encoding="utf-8"))["results"]:
            rows.append(
                {
                    "symbol": symbol,
                    "ts": r["sip_timestamp"],
                    "bid": r.get("bid_price"),
                    "bid_size": r.get("bid_size"),
                    "ask": r.get("ask_price"),
                    "ask_size": r.get("ask_size"),
                }
            )
    return book_from_consolidated(rows)


def databento_book(path: Path) -> Book:
    """A DBN file's top of book, per venue (one exchange) or consolidated (EQUS)."""
    import databento_dbn as dbn

    decoder = dbn.DBNDecoder(compression=dbn.Compression.from_str("zstd"))
    records = decoder.write_and_decode(path.read_bytes())
    meta = records[0]
    (symbol,) = meta.symbols
    rows = []
    for r in records[1:]:
        level = r.levels[0]
        rows.append(
            {
                "symbol": symbol,
                "ts": r.ts_recv,
                "venue": "one",
                "bid": None if level.bid_px == UNDEF_PRICE else Fraction(level.bid_px, NS),
                "bid_size": level.bid_sz,
                "ask": None if level.ask_px == UNDEF_PRICE else Fraction(level.ask_px, NS),
                "ask_size": level.ask_sz,
            }
        )
    if meta.dataset.startswith("EQUS"):
        return book_from_consolidated(rows)
    return book_from_venue_quotes(rows)


# ---------------------------------------------------------------- one trade


def ny_date(ts: int) -> Any:
    return datetime.fromtimestamp(ts // NS, UTC).astimezone(NY).date()


def session_open(ts: int) -> int:
    """UTC nanoseconds of 09:30 New York time on the New York date of ``ts``."""
    return int(datetime.combine(ny_date(ts), time(9, 30), tzinfo=NY).timestamp()) * NS


def regular_hours(ts: int) -> bool:
    """Whether ``ts`` is in the NYSE regular session of its New York date."""
    local = datetime.fromtimestamp(ts // NS, UTC).astimezone(NY)
    day = local.date()
    if day.weekday() >= 5 or day in HOLIDAYS:
        return False
    close = time(13) if day in EARLY_CLOSES else time(16)
    start = datetime.combine(day, time(9, 30), tzinfo=NY)
    end = datetime.combine(day, close, tzinfo=NY)
    return int(start.timestamp()) * NS <= ts < int(end.timestamp()) * NS


def expected_trade(
    book: Book,
    symbol: str,
    side: str,
    quantity: Fraction,
    price: Fraction,
    t: int,
    multiplier: int = 1,
) -> dict[str, Any]:
    """What the audit must say of one trade: position, quote and exact figures (``None``
    where undefined), the reason a quote is not used (``why``) and whether the trade is
    outside regular hours (``extended_hours``)."""
    out: dict[str, Any] = dict.fromkeys(
        (
            "quote_ts",
            "bid",
            "ask",
            "pi_per_share",
            "pi_usd",
            "effective_spread",
            "quoted_spread",
            "eq_ratio",
            "why",
        )
    )
    out["position"] = "no_quote"
    out["extended_hours"] = not regular_hours(t)
    quote = book.at(symbol, t)
    if symbol not in book.states:
        out["why"] = "symbol_not_in_quotes"
    elif quote is None:
        out["why"] = "before_quotes"
    elif t > book.end:
        out["why"] = "after_quotes"
    elif ny_date(quote.ts) != ny_date(t):
        out["why"] = "earlier_day_quote"
    elif t >= session_open(t) and quote.ts < session_open(t):
        out["why"] = "pre_open_quote"
    if out["why"] is not None:
        return out
    assert quote is not None
    out.update(quote_ts=quote.ts, bid=quote.bid, ask=quote.ask)
    far = quote.ask if side == "buy" else quote.bid
    if far is None:
        out["why"] = "empty_quote" if quote.bid is None and quote.ask is None else "one_sided_quote"
        return out
    pi = far - price if side == "buy" else price - far
    out["pi_per_share"] = pi
    out["pi_usd"] = pi * quantity * multiplier
    out["position"] = "inside" if pi > 0 else "outside" if pi < 0 else "at"
    if quote.bid is not None and quote.ask is not None:
        mid = (quote.bid + quote.ask) / 2
        s = 1 if side == "buy" else -1
        out["effective_spread"] = 2 * s * (price - mid)
        quoted = quote.ask - quote.bid
        if quoted < 0:
            out["why"] = "crossed_quote"
        else:
            out["quoted_spread"] = quoted
        out["eq_ratio"] = out["effective_spread"] / quoted if quoted > 0 else None
    return out


# ---------------------------------------------------------------- 606 payment rates


def venue_rate(cells: list[Any]) -> Fraction | None:
    """sum(usd) / sum(usd / rate) over cells reporting both with a non-zero rate."""
    usd = volume = Fraction(0)
    for c in cells:
        if c.net_payment_usd is not None and c.rate:
            usd += Fraction(c.net_payment_usd)
            volume += Fraction(c.net_payment_usd) / Fraction(c.rate)
    if volume:
        return usd / volume
    if all(not c.net_payment_usd for c in cells):
        return Fraction(0)
    return None


def routing_weighted_rate(cells: list[Any]) -> Fraction | None:
    """sum(pct * rate) / sum(pct) over listed venues (no payment reported: rate 0)."""
    num = den = Fraction(0)
    for c in cells:
        if not c.routed_pct or c.routed_pct <= 0:
            continue
        if c.rate is not None:
            rate = Fraction(c.rate)
        elif not c.net_payment_usd:
            rate = Fraction(0)
        else:
            continue
        num += Fraction(c.routed_pct) * rate
        den += Fraction(c.routed_pct)
    return num / den if den else None
