"""A slow, plain-Python reference for the Rule 605 aggregation (engine.aggregate605).

It reads ORDER_QUALITY rows one by one, turns each float into an exact Decimal on the
engine's grids (1e-9 dollars, 1e-6 shares, nanoseconds) and accumulates Decimal sums per
report cell, following docs/rule605.md. It is written separately from the engine: no
Polars, no integer scaling, no shared helpers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

NANO, MICRO = Decimal("1e-9"), Decimal("1e-6")
SIZES = [
    (250, 0),
    (1000, 250),
    (5000, 1000),
    (10000, 5000),
    (20000, 10000),
    (50000, 20000),
    (200000, 50000),
]
HORIZONS = ("50ms", "1s", "15s", "1m", "5m")
BUCKETS_NS = [
    100_000,
    1_000_000,
    10_000_000,
    1_000_000_000,
    10_000_000_000,
    30_000_000_000,
    300_000_000_000,
]


def exact(value: float | None, grid: Decimal) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(value)).quantize(grid, rounding=ROUND_HALF_EVEN)


def size_code(notional: Decimal) -> int:
    for high, code in SIZES:
        if notional < high:
            return code
    return 200000


def lot_flag(qty: Decimal, price: Decimal) -> str:
    lot = 100 if price <= 250 else 40 if price <= 1000 else 10 if price <= 10000 else 1
    return "FRACTIONAL" if qty < 1 else "ODD" if qty < lot else "ROUND"


def ns_between(a: dt.datetime, b: dt.datetime) -> int:
    delta = b - a
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


class Cell:
    """Running sums for one report cell."""

    def __init__(self) -> None:
        self.s: dict[str, Decimal] = defaultdict(Decimal)

    def add(self, name: str, value: Decimal | int) -> None:
        self.s[name] += Decimal(value)


#: NYSE 2026 (the tests' year): full holidays and early (13:00) closes, from NYSE's calendar.
HOLIDAYS_2026 = {
    dt.date(2026, 1, 1),
    dt.date(2026, 1, 19),
    dt.date(2026, 2, 16),
    dt.date(2026, 4, 3),
    dt.date(2026, 5, 25),
    dt.date(2026, 6, 19),
    dt.date(2026, 7, 3),
    dt.date(2026, 9, 7),
    dt.date(2026, 11, 26),
    dt.date(2026, 12, 25),
}
EARLY_CLOSES_2026 = {dt.date(2026, 11, 27), dt.date(2026, 12, 24)}


def session_close(local: dt.datetime) -> dt.datetime | None:
    """The regular session's close on ``local``'s (New York) date; None without a session."""
    day = local.date()
    assert day.year == 2026, "the reference knows the 2026 NYSE calendar only"
    if day.weekday() >= 5 or day in HOLIDAYS_2026:
        return None
    return local.replace(
        hour=13 if day in EARLY_CLOSES_2026 else 16, minute=0, second=0, microsecond=0
    )


def in_regular_hours(local: dt.datetime) -> bool:
    close = session_close(local)
    return (
        close is not None
        and local.replace(hour=9, minute=30, second=0, microsecond=0) <= local < close
    )


def prepare(rows: list[dict[str, Any]], month: int) -> list[dict[str, Any]]:
    out = []
    ny = ZoneInfo("America/New_York")
    for r in rows:
        local = r["received_ts"].astimezone(ny)
        if local.year * 100 + local.month != month:
            continue
        if r["section"] not in ("sp500", "other_stocks") or r["order_type"] == "other":
            continue
        if not in_regular_hours(local):  # covered orders are received in regular hours
            continue
        q = exact(r["quantity"], MICRO)
        if q is None or q <= 0:
            continue
        bid, ask = exact(r["nbbo_bid"], NANO), exact(r["nbbo_ask"], NANO)
        # a crossed quote (bid > ask) has a midpoint too
        mid = (bid + ask) / 2 if bid is not None and ask is not None and bid > 0 < ask else None
        limit = exact(r["limit_price"], NANO)
        basis = next((p for p in (mid, limit, bid, ask) if p is not None), None)
        if basis is None or basis <= 0:
            continue
        x = exact(r["executed_qty"], MICRO) or Decimal(0)
        if r["order_type"] == "non_marketable_limit":
            # counted once executable: without quotes after receipt, from a fill before the close
            first = r["first_fill_ts"]
            if first is None or first.astimezone(ny) >= session_close(local):
                continue
        t_ns = ns_between(r["received_ts"], r["last_fill_ts"]) if r["last_fill_ts"] else None
        out.append(
            {
                "row": r,
                "q": q,
                "x": x,
                "mid": mid,
                "notional": q * basis,
                "size": size_code(q * basis),
                "lot": lot_flag(q, basis),
                "t_ns": t_ns,
                "measured": r["quote_position"] is not None and mid is not None and x > 0,
                "qs": exact(r["quoted_spread"], NANO),
                "eff": exact(r["effective_spread"], NANO),
                "pi": exact(r["price_improvement_per_share"], NANO),
                **{f"rs_{h}": exact(r[f"realized_spread_{h}"], NANO) for h in HORIZONS},
                # the shares with a horizon quote; executed shares when not given
                **{f"rq_{h}": exact(r.get(f"realized_qty_{h}"), MICRO) for h in HORIZONS},
            }
        )
    return out


def accumulate(o: dict[str, Any], cell: Cell) -> None:
    q, x = o["q"], o["x"]
    cell.add("n", 1)
    cell.add("q", q)
    cell.add("notional", o["notional"])
    cell.add("x", x)
    cell.add("cancel", max(q - x, Decimal(0)))
    if x > 0 and o["t_ns"] is not None:
        cell.add("xt", x * o["t_ns"])
        cell.add("xt_w", x)
        bucket = next((i for i, b in enumerate(BUCKETS_NS) if o["t_ns"] < b), len(BUCKETS_NS))
        cell.add(f"b{bucket}", x)
    if x >= q:
        cell.add("filled", 1)
        if o["t_ns"] is not None:
            cell.add("filled_xt", x * o["t_ns"])
            cell.add("filled_x", x)
    for h in HORIZONS:  # every execution with a horizon quote, measured at receipt or not
        rq = x if o[f"rq_{h}"] is None else o[f"rq_{h}"]
        if x > 0 and o[f"rs_{h}"] is not None and rq > 0:
            cell.add(f"rs_{h}", rq * o[f"rs_{h}"])
            cell.add(f"rs_{h}_w", rq)
            if o["measured"]:
                cell.add(f"rs_{h}_pn", rq * o[f"rs_{h}"])
                cell.add(f"rs_{h}_mx", rq * o["mid"])
    if not o["measured"]:
        return
    pos = o["row"]["quote_position"]
    cell.add("wx", x)
    cell.add("mx", x * o["mid"])
    cell.add("eff", x * o["eff"])
    if o["qs"] is not None:  # not crossed
        cell.add("qs", x * o["qs"])
        cell.add("qs_w", x)
        cell.add("qs_mx", x * o["mid"])
        cell.add("eff_q", x * o["eff"])
    cell.add("pi", x * o["pi"])
    cell.add(f"x_{pos}", x)
    cell.add(f"pi_{pos}", x * o["pi"])
    if o["t_ns"] is not None:
        cell.add(f"xt_{pos}", x * o["t_ns"])


def div(a: Decimal, b: Decimal) -> Decimal | None:
    with localcontext() as ctx:
        ctx.prec = 60
        return None if b == 0 else a / b


def summary(rows: list[dict[str, Any]], month: int) -> dict[tuple[bool, str, int], dict]:
    cells: dict[tuple[bool, str, int], Cell] = defaultdict(Cell)
    for o in prepare(rows, month):
        kind = {"market": "M", "marketable_limit": "ML"}.get(o["row"]["order_type"])
        if kind is None:
            continue
        sp500 = o["row"]["section"] == "sp500"
        accumulate(o, cells[(sp500, kind, o["size"])])
        if o["size"] != 200000:
            accumulate(o, cells[(sp500, kind, 199999)])
    out = {}
    for key, cell in cells.items():
        s = cell.s
        if s["wx"] == 0:
            continue
        out[key] = {
            "avg_order_qty": div(s["q"], s["n"]),
            "avg_order_notional": div(s["notional"], s["n"]),
            "avg_midpoint": div(s["mx"], s["wx"]),
            "pct_at_quote_or_better": div(s["x_at"] + s["x_inside"], s["wx"]),
            "pct_price_improved": div(s["x_inside"], s["wx"]),
            "avg_pct_price_improvement": div(s["pi"], s["mx"]),
            "avg_effective_spread_pct": div(s["eff"], s["mx"]),
            "avg_quoted_spread_pct": div(s["qs"], s["qs_mx"]),
            "avg_eq_ratio": div(s["eff_q"], s["qs"]),
            "realized_spread_pct_15s": div(s["rs_15s_pn"], s["rs_15s_mx"]),
            "realized_spread_pct_1m": div(s["rs_1m_pn"], s["rs_1m_mx"]),
            "avg_execution_time_ms": div(s["xt"] / 10**6, s["xt_w"]),
        }
    return out


def detailed(rows: list[dict[str, Any]], month: int) -> dict[tuple[str, str, int], dict]:
    """Detailed-report figures per (symbol, lot, size) for plain market orders."""
    cells: dict[tuple[str, str, int], Cell] = defaultdict(Cell)
    for o in prepare(rows, month):
        if o["row"]["order_type"] != "market":
            continue
        accumulate(o, cells[(o["row"]["symbol"], o["lot"], o["size"])])
    out = {}
    for key, cell in cells.items():
        s = cell.s
        out[key] = {
            "covered_orders": int(s["n"]),
            "covered_notional": s["notional"],
            "covered_qty": s["q"],
            "cancelled_qty": s["cancel"],
            "executed_qty": s["x"],
            "qty_to_10ms": s["b2"],
            "qty_after_5m": s["b7"],
            "avg_quoted_spread": div(s["qs"], s["qs_w"]),
            "avg_effective_spread": div(s["eff"], s["wx"]),
            "pi_qty": s["x_inside"],
            "pi_avg_amount": div(s["pi_inside"], s["x_inside"]),
            "outside_quote_avg_amount": div(-s["pi_outside"], s["x_outside"]),
            "at_quote_avg_time_ms": div(s["xt_at"] / 10**6, s["x_at"]),
            "realized_spread_5m": div(s["rs_5m"], s["rs_5m_w"]),
            "realized_spread_pct_50ms": div(s["rs_50ms_pn"], s["rs_50ms_mx"]),
            "realized_spread_15s": div(s["rs_15s"], s["rs_15s_w"]),
            "filled_orders": int(s["filled"]),
            "filled_avg_time_ms": div(s["filled_xt"] / 10**6, s["filled_x"]),
        }
    return out
