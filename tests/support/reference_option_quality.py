"""Slow, obviously correct pure-Python references for the options engine (loops, ``math``).

The BAW price restates Barone-Adesi & Whaley (1987) as QuantLib's engine computes it, one
option at a time; implied volatility is plain bisection on it; option quality restates
docs/options.md on top of the stock reference's ``ORDER_QUALITY`` rows.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from support.reference_quality import ref_asof

YEAR_NS = 365.0 * 86_400 * 1e9


def exp(x: float) -> float:
    """``math.exp`` that overflows to infinity, as floating point does in NumPy."""
    return math.exp(x) if x < 709.0 else math.inf


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black(call: bool, strike: float, forward: float, std: float) -> float:
    d1 = math.log(forward / strike) / std + 0.5 * std
    d2 = d1 - std
    if call:
        return max(forward * norm_cdf(d1) - strike * norm_cdf(d2), 0.0)
    return max(strike * norm_cdf(-d2) - forward * norm_cdf(-d1), 0.0)


def ref_baw(call: bool, s: float, k: float, t: float, r: float, q: float, vol: float) -> float:
    """One American price by Barone-Adesi-Whaley, as QuantLib's engine computes it."""
    rd, qd = math.exp(-r * t), math.exp(-q * t)
    var = vol * vol * t
    fwd = s * qd / rd
    intrinsic = max(s - k, 0.0) if call else max(k - s, 0.0)
    if var < 1e-14:
        return max(intrinsic, rd * max(fwd - k if call else k - fwd, 0.0))
    sd = math.sqrt(var)
    european = black(call, k, fwd, sd) * rd
    if (call and qd >= 1.0) or (not call and rd >= 1.0):
        return european
    n = 2.0 * math.log(qd / rd) / var
    m = -2.0 * math.log(rd) / var
    bt = math.log(qd / rd)
    big_k = 2.0 / var if abs(rd - 1.0) <= 1000 * 2.220446049250313e-16 else m / (1.0 - rd)
    sign = 1.0 if call else -1.0
    qu = (-(n - 1.0) + sign * math.sqrt((n - 1.0) ** 2 + 4.0 * m)) / 2.0
    su = k / (1.0 - 1.0 / qu)
    if call:
        h = -(bt + 2.0 * sd) * k / (su - k)
        si = k + (su - k) * (1.0 - exp(h))
    else:
        h = (bt - 2.0 * sd) * k / (k - su)
        si = su + (k - su) * exp(h)
    qq = (-(n - 1.0) + sign * math.sqrt((n - 1.0) ** 2 + 4.0 * big_k)) / 2.0
    for _ in range(100):
        if not math.isfinite(si) or si <= 0:
            break
        f = si * qd / rd
        d1 = (math.log(f / k) + 0.5 * var) / sd
        nd = norm_cdf(sign * d1)
        rhs = black(call, k, f, sd) * rd + sign * (1.0 - qd * nd) * si / qq
        lhs = sign * (si - k)
        if abs(lhs - rhs) / k <= 1e-6:
            break
        bi = sign * qd * nd * (1.0 - 1.0 / qq) + (sign - qd * norm_pdf(d1) / sd) / qq
        si = (sign * k + rhs - bi * si) / (sign - bi)
    # A critical price on the wrong side of the strike (the iteration broke down): the
    # larger of the European and the exercise value.
    fallback = max(european, sign * (s - k))
    if not math.isfinite(si) or si <= 0 or sign * (si - k) <= 0:
        return fallback
    if sign * (s - si) >= 0:
        return sign * (s - k)
    d1 = (math.log(si * qd / (rd * k)) + 0.5 * var) / sd
    a = sign * (si / qq) * (1.0 - qd * norm_cdf(sign * d1))
    try:
        value = european + a * (s / si) ** qq
    except OverflowError:
        return fallback
    return value if math.isfinite(value) else fallback


def ref_iv(
    call: bool, price: float, s: float, k: float, t: float, r: float, q: float
) -> tuple[float | None, str]:
    """Implied volatility by bisection on [1e-4, 10], and the status name."""
    if not all(math.isfinite(x) for x in (price, s, k, t, r, q)) or min(s, k, t) <= 0:
        return None, "INVALID_INPUT"
    rd, qd = math.exp(-r * t), math.exp(-q * t)
    intrinsic = s - k if call else k - s
    european = s * qd - k * rd if call else k * rd - s * qd
    lower = max(intrinsic, european, 0.0)
    tol = 1e-10 * max(1.0, k)
    if price < lower - tol:
        return None, "BELOW_BOUND"
    if price > (s if call else k) + tol:
        return None, "ABOVE_BOUND"
    lo, hi = 1e-4, 10.0
    if ref_baw(call, s, k, t, r, q, lo) - price >= -tol:
        return None, "UNDETERMINED"
    if ref_baw(call, s, k, t, r, q, hi) - price < -tol:
        return None, "ABOVE_SEARCH"
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if ref_baw(call, s, k, t, r, q, mid) < price:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return 0.5 * (lo + hi), "OK"


def ref_parse_osi(symbol: str) -> tuple[str, str, float, date] | None:
    """(root, right, strike, expiry) of a 21-character OSI symbol, else None."""
    if len(symbol) != 21 or symbol[12] not in "CP":
        return None
    digits = symbol[6:12] + symbol[13:]
    if not digits.isdigit():
        return None
    expiry = date(2000 + int(symbol[6:8]), int(symbol[8:10]), int(symbol[10:12]))
    right = "call" if symbol[12] == "C" else "put"
    return symbol[:6].strip(), right, int(symbol[13:]) / 1000.0, expiry


def ref_option_quality(
    quality_rows: list[dict[str, Any]],
    nbbo: list[dict[str, Any]],
    rate: float,
    dividend_yields: dict[str, float],
) -> list[dict[str, Any]]:
    """OPTION_QUALITY rows (the option-specific columns) from ORDER_QUALITY rows."""
    out = []
    tz = ZoneInfo("America/New_York")
    for row in quality_rows:
        if row["section"] != "options":
            continue
        terms = ref_parse_osi(row["symbol"])
        if terms is None:
            continue
        root, right, strike, expiry = terms
        received = row["received_ts"]
        i = ref_asof(nbbo, root, received)
        spot = math.nan
        if i >= 0:
            b, a = nbbo[i]["bid"], nbbo[i]["ask"]
            if b is not None and a is not None and b > 0 and a >= b:
                spot = 0.5 * (b + a)
        close = datetime.combine(expiry, time(16, 0), tzinfo=tz)
        years = (int(close.timestamp()) * 1_000_000_000 - received) / YEAR_NS
        q = dividend_yields.get(root, 0.0)
        call = right == "call"
        fill = row["avg_price"] if row["avg_price"] is not None else math.nan
        bid, ask = row["nbbo_bid"], row["nbbo_ask"]
        quoted = bid is not None and ask is not None and bid > 0 and ask >= bid
        mid = 0.5 * (bid + ask) if quoted else math.nan
        iv_fill, fill_status = ref_iv(call, fill, spot, strike, years, rate, q)
        iv_mid, mid_status = ref_iv(call, mid, spot, strike, years, rate, q)
        side = 1.0 if row["side"] == "buy" else -1.0
        points = (
            side * (iv_fill - iv_mid) * 100.0
            if iv_fill is not None and iv_mid is not None
            else None
        )
        pi = row["price_improvement_per_share"]
        out.append(
            {
                "order_id": row["order_id"],
                "underlying": root,
                "right": right,
                "strike": strike,
                "expiry": expiry,
                "price_improvement_per_contract": None if pi is None else pi * 100.0,
                "underlying_mid": None if math.isnan(spot) else spot,
                "years_to_expiry": years,
                "iv_fill": iv_fill,
                "iv_mid": iv_mid,
                "vol_points": points,
                "iv_fill_status": fill_status,
                "iv_mid_status": mid_status,
            }
        )
    return out
