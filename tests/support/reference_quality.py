"""Slow, obviously correct pure-Python references for the engine kernels (loops, no numpy).

Each function restates docs/metrics.md literally so the vectorised kernels can be checked
against it on small random inputs.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

PRICE_EPS = 1e-9
FILL_EPS = 1e-9
NEW_YORK = ZoneInfo("America/New_York")


def same_session(quote_ts: int, at_ts: int) -> bool:
    """The quote was stamped at or after 09:30 New York on ``at_ts``'s New York date."""
    at = dt.datetime.fromtimestamp(at_ts // 10**9, dt.UTC).astimezone(NEW_YORK)
    opening = dt.datetime.combine(at.date(), dt.time(9, 30), NEW_YORK)
    return quote_ts >= int(opening.timestamp()) * 10**9


def side_present(price: float | None, size: int | None = None, *, need_size: bool = False) -> bool:
    if price is None or not math.isfinite(price) or price <= 0:
        return False
    return not need_size or (size is not None and size > 0)


def ref_asof(
    nbbo: list[dict[str, Any]], symbol: str | None, t: int, max_age: int | None = None
) -> int:
    """Input row of the latest quote of ``symbol`` at or before ``t`` (ties: last row)."""
    best = -1
    for i, row in enumerate(nbbo):
        if (
            row["symbol"] == symbol
            and row["ts"] <= t
            and (best < 0 or row["ts"] >= nbbo[best]["ts"])
        ):
            best = i
    if best >= 0 and max_age is not None and nbbo[best]["ts"] < t - max_age:
        return -1
    return best


def ref_consolidate(quotes: list[dict[str, Any]]) -> list[tuple]:
    """NBBO rows (symbol, ts, bid, bid_size, ask, ask_size) from venue quotes."""
    order = sorted(range(len(quotes)), key=lambda i: (quotes[i]["symbol"], quotes[i]["ts"], i))
    out: list[tuple] = []
    books: dict[str, dict[str, dict[str, Any]]] = {}
    last_state: dict[str, tuple] = {}
    for k, i in enumerate(order):
        q = quotes[i]
        books.setdefault(q["symbol"], {})[q["venue"]] = q
        nxt = quotes[order[k + 1]] if k + 1 < len(order) else None
        if nxt is not None and nxt["symbol"] == q["symbol"] and nxt["ts"] == q["ts"]:
            continue  # state is observed after the last quote of the timestamp
        bid = ask = None
        bsz = asz = None
        for vq in books[q["symbol"]].values():
            if side_present(vq["bid"], vq["bid_size"], need_size=True):
                if bid is None or vq["bid"] > bid:
                    bid, bsz = vq["bid"], vq["bid_size"]
                elif vq["bid"] == bid:
                    bsz += vq["bid_size"]
            if side_present(vq["ask"], vq["ask_size"], need_size=True):
                if ask is None or vq["ask"] < ask:
                    ask, asz = vq["ask"], vq["ask_size"]
                elif vq["ask"] == ask:
                    asz += vq["ask_size"]
        state = (bid, bsz, ask, asz)
        if state != last_state.get(q["symbol"], (None, None, None, None)):
            out.append((q["symbol"], q["ts"], *state))
            last_state[q["symbol"]] = state
    return out


def ref_order_quality(
    orders: list[dict[str, Any]],
    fills: list[dict[str, Any]],
    nbbo: list[dict[str, Any]],
    *,
    stale_after: int | None,
    horizons: dict[str, int],
) -> list[dict[str, Any]]:
    """One dict per order with the ORDER_QUALITY columns (times as int ns)."""
    rows = []
    for o in orders:
        side = 1 if o["side"] == "buy" else -1
        t = o["received_ts"]
        r = ref_asof(nbbo, o["symbol"], t)
        q = nbbo[r] if r >= 0 else None
        bid = q["bid"] if q is not None and side_present(q["bid"]) else None
        ask = q["ask"] if q is not None and side_present(q["ask"]) else None
        if bid is None and ask is None:
            state = "empty"
        elif not same_session(q["ts"], t) or (
            stale_after is not None and t - q["ts"] > stale_after
        ):
            state = "stale"
        elif (bid is None) != (ask is None):
            state = "one_sided"
        elif bid > ask:
            state = "crossed"
        elif bid == ask:
            state = "locked"
        else:
            state = "normal"
        usable = state in ("normal", "locked", "crossed")  # a midpoint exists
        quoted = ask - bid if state in ("normal", "locked") else None
        mid = (ask + bid) / 2 if usable else None

        mine = [f for f in fills if f["order_id"] == o["order_id"]]
        executed = 0.0
        notional = 0.0
        for f in mine:
            executed += f["quantity"]
            notional += f["quantity"] * f["price"]
        avg = notional / executed if mine else None
        first = min(f["exec_ts"] for f in mine) if mine else None
        last = max(f["exec_ts"] for f in mine) if mine else None
        complete = bool(mine) and executed >= o["quantity"] * (1 - FILL_EPS)

        row: dict[str, Any] = {
            k: o[k]
            for k in (
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
        }
        row.update(
            nbbo_bid=bid,
            nbbo_ask=ask,
            nbbo_bid_size=q["bid_size"] if bid is not None else None,
            nbbo_ask_size=q["ask_size"] if ask is not None else None,
            nbbo_state=state,
            quoted_spread=quoted,
            executed_qty=executed,
            avg_price=avg,
            first_fill_ts=first,
            last_fill_ts=last,
            time_to_first_fill_ms=(first - t) / 1e6 if mine else None,
            time_to_completion_ms=(last - t) / 1e6 if complete else None,
            fill_rate=executed / o["quantity"] if o["quantity"] > 0 else None,
        )
        if mine and usable:
            far = ask if side == 1 else bid
            eff = 2 * side * (avg - mid)
            pi = side * (far - avg)
            row.update(
                effective_spread=eff,
                eq_ratio=eff / quoted if quoted is not None and quoted > 0 else None,
                price_improvement_per_share=pi,
                price_improvement_usd=pi * executed * (100 if o["section"] == "options" else 1),
                quote_position="inside"
                if pi > PRICE_EPS
                else ("outside" if pi < -PRICE_EPS else "at"),
            )
        else:
            row.update(
                effective_spread=None,
                eq_ratio=None,
                price_improvement_per_share=None,
                price_improvement_usd=None,
                quote_position=None,
            )
        for name, h in horizons.items():
            weight = rs = pim = 0.0
            for f in mine:
                hr = ref_asof(nbbo, o["symbol"], f["exec_ts"] + h)
                if hr < 0:
                    continue
                hb, ha = nbbo[hr]["bid"], nbbo[hr]["ask"]
                if not (side_present(hb) and side_present(ha)) or hb > ha:
                    continue
                if not same_session(nbbo[hr]["ts"], f["exec_ts"] + h):
                    continue
                hmid = (hb + ha) / 2
                weight += f["quantity"]
                rs += f["quantity"] * 2 * side * (f["price"] - hmid)
                if usable:
                    pim += f["quantity"] * 2 * side * (hmid - mid)
            row[f"realized_spread_{name}"] = rs / weight if weight > 0 else None
            row[f"price_impact_{name}"] = pim / weight if weight > 0 and usable else None
            row[f"realized_qty_{name}"] = weight
        rows.append(row)
    return rows
