"""Ground-truth money of every fill: PFOF under the arrangements, price improvement,
fees, and each wholesaler's P&L marked to the NBBO mid at execution.

All amounts are exact integers: prices in units of $0.0001, quantities in micro-shares
(micro-contracts), per-fill money in pico-dollars ($1e-12), payments in micro-dollars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pfof.sim.execution import MAKE, PRINCIPAL, REASONS, Context, nbbo_state
from pfof.sim.prices import EMPTY

PICO_PER_UNIT_MICRO = 100  # units (1e-4) x micro-shares (1e-6) = 1e-10 $ = 100 pico


def round_half_away(x: np.ndarray, divisor: int) -> np.ndarray:
    """Exact integer division rounding half away from zero (object or int arrays)."""
    mag = (abs(x) + divisor // 2) // divisor
    return np.where(x < 0, -mag, mag)


@dataclass
class FillMoney:
    """Per-fill ground truth (aligned with the sorted fills)."""

    bid_x: np.ndarray
    ask_x: np.ndarray
    state: np.ndarray
    position: np.ndarray  # object: at/inside/outside/None
    reason: np.ndarray  # object
    basis: np.ndarray  # int, -1 none
    rate_e8: np.ndarray
    pfof_micro: np.ndarray  # int64
    pi_pico: np.ndarray
    pi_null: np.ndarray
    pi_r_pico: np.ndarray
    pi_r_null: np.ndarray
    wholesaler: np.ndarray  # venue index or -1
    sc_pico: np.ndarray
    fee_pico: np.ndarray
    pnl_pico: np.ndarray


def fill_money(c: Context, f: dict[str, np.ndarray]) -> FillMoney:
    """Compute the ground truth for fills ``f`` (arrays from execution, sorted)."""
    o, q, v, t = c.o, c.q, c.v, c.t
    oi = f["order"]
    sym = o.sym[oi]
    qty = f["qty"].astype(np.int64)
    price = f["price"].astype(np.int64)
    buy = o.buy[oi]
    sign = np.where(buy, 1, -1)
    mult = c.mult[sym]
    je = c.row(sym, f["ts"])
    jj = np.maximum(je, 0)
    bid_x = np.where(je >= 0, q.n_bid[jj], EMPTY)
    ask_x = np.where(je >= 0, q.n_ask[jj], EMPTY)
    state = nbbo_state(bid_x, ask_x)
    usable = (state == "normal") | (state == "locked")
    far = np.where(buy, ask_x, bid_x)
    better = np.where(buy, price < far, price > far)
    within = (price >= bid_x) & (price <= ask_x)
    position = np.where(
        ~usable,
        np.array(None, dtype=object),  # None as an array: numpy's stubs accept no bare None
        np.where(price == far, "at", np.where(better & within, "inside", "outside")),
    ).astype(object)
    reason = REASONS[f["reason"]].copy()
    fallback = np.select(
        [state == "crossed", state == "one_sided", state == "empty"],
        ["crossed_quote", "one_sided_quote", "no_quote"],
        "",
    ).astype(object)
    reason = np.where((reason == None) & (fallback != ""), fallback, reason)  # noqa: E711
    # Price improvement against the far side at execution and at receipt.
    far_ok = far != EMPTY
    pi = np.where(far_ok, sign * (far - price) * qty * PICO_PER_UNIT_MICRO * mult, 0)
    far_r = np.where(buy, o.ask[oi], o.bid[oi])
    far_r_ok = far_r != EMPTY
    pi_r = np.where(far_r_ok, sign * (far_r - price) * qty * PICO_PER_UNIT_MICRO * mult, 0)
    # PFOF: the arrangement between the broker and the venue it routed to.
    paid = f["by"] < 0
    b = o.broker[oi]
    sec = c.sec[sym]
    ot = c.otype[oi]
    basis = np.where(paid, t.basis[b, f["venue"], sec, ot], -1).astype(np.int64)
    rate = np.where(basis >= 0, t.rate_e8[b, f["venue"], sec, ot], 0)
    spread_r = np.where((o.bid[oi] != EMPTY) & (o.ask[oi] != EMPTY), o.ask[oi] - o.bid[oi], 0)
    spread_r = np.maximum(spread_r, 0)
    r_obj = rate.astype(object)
    q_obj = qty.astype(object)
    per_unit = round_half_away(r_obj * q_obj, 10**8)  # (1e-8 $) x (1e-6) -> micro-dollars
    frac = round_half_away(
        r_obj * spread_r.astype(object) * q_obj * mult.astype(object), 10**12
    )  # (1e-8) x (1e-4 $) x (1e-6) -> micro-dollars
    pfof = np.where(basis == 2, frac, np.where(basis >= 0, per_unit, 0)).astype(np.int64)
    # Wholesalers: principal fills earn the spread; routing on costs the access fee.
    principal = (f["liq"] == PRINCIPAL) & (f["venue"] >= v.wholesaler0)
    routed_on = f["by"] >= 0
    wholesaler = np.where(principal, f["venue"], np.where(routed_on, f["by"], -1))
    clearing = v.clearing_e8[np.maximum(wholesaler, 0)] * qty // 100
    access = (
        np.where(f["liq"] == MAKE, -v.make_rebate_e8[f["venue"]], v.take_fee_e8[f["venue"]])
        * qty
        // 100
    )
    fee = np.where(principal, clearing, np.where(routed_on, access, 0))
    sc = np.where(principal, (ask_x - bid_x) * qty * 50 * mult, 0)
    gain = np.where(principal, sign * (2 * price - bid_x - ask_x) * qty * 50 * mult, 0)
    pnl = np.where(wholesaler >= 0, gain - pfof * 10**6 * principal - fee, 0)
    return FillMoney(
        bid_x,
        ask_x,
        state,
        position,
        reason,
        basis,
        rate,
        pfof,
        pi,
        ~far_ok,
        pi_r,
        ~far_r_ok,
        wholesaler,
        sc,
        fee,
        pnl,
    )
