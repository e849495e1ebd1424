"""Compiled (numba) kernels of the implied-volatility solver, one option at a time.

``engine.option_pricing.implied_volatility`` runs here: each option is solved by the steps
that module's docstring describes (bounds check, the European implied volatility from
Corrado-Miller's guess, Newton-secant steps in a shrinking bracket, then Illinois regula
falsi), and each BAW price inside follows ``option_pricing._baw_flat`` and
``_critical_price`` operation for operation, so the vectorised pricer and this solver agree
to the last bits. Compiled per option, the solver skips what NumPy's whole-array steps
cannot: the masking and copying of converged options, and work on temporary arrays; the
loop over options runs on all cores. Compiled code is cached on disk (``cache=True``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from pfof.engine.option_pricing import _MIN_VARIANCE as MIN_VARIANCE
from pfof.engine.option_pricing import (
    CRITICAL_PRICE_TOLERANCE,
    PRICE_TOLERANCE,
    SECANT_ACCEPT,
    VOL_LOWER,
    VOL_TOLERANCE,
    VOL_UPPER,
    IVStatus,
)

__all__ = ["implied_volatility_kernel"]

_MAX_CRITICAL_ITERATIONS = 100
_MAX_SOLVER_ITERATIONS = 100
_NEWTON_STEPS = 8
_EUROPEAN_STEPS = 4
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_HALF = 0.7071067811865476
_EPS = 2.220446049250313e-16
_OK = int(IVStatus.OK)
_BELOW_BOUND = int(IVStatus.BELOW_BOUND)
_ABOVE_BOUND = int(IVStatus.ABOVE_BOUND)
_UNDETERMINED = int(IVStatus.UNDETERMINED)
_ABOVE_SEARCH = int(IVStatus.ABOVE_SEARCH)
_INVALID_INPUT = int(IVStatus.INVALID_INPUT)
_NOT_CONVERGED = int(IVStatus.NOT_CONVERGED)

_jit = njit(cache=True, error_model="numpy", nogil=True)


@_jit
def _ndtr(a: float) -> float:
    """The standard normal CDF as SciPy's ``ndtr`` computes it (erf near 0, else erfc)."""
    x = a * _SQRT_HALF
    z = abs(x)
    if z < _SQRT_HALF:
        return 0.5 + 0.5 * math.erf(x)
    y = 0.5 * math.erfc(z)
    return 1.0 - y if x > 0 else y


@_jit
def _pdf(x: float) -> float:
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


@_jit
def _maximum(a: float, b: float) -> float:
    """``np.maximum``: NaN if either is NaN."""
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


@_jit
def _baw(
    phi: float,
    spot: float,
    strike: float,
    t: float,
    rd: float,
    qd: float,
    fw: float,
    log_fk: float,
    log_qr: float,
    log_rd: float,
    vol: float,
) -> float:
    """One BAW price, as ``option_pricing._baw_flat`` (``t > 0``); what does not depend on
    the volatility comes precomputed: ``rd = e^(-rt)``, ``qd = e^(-qt)``, ``fw = S qd / rd``,
    ``log_fk = ln(fw / K)``, ``log_qr = ln(qd / rd)``, ``log_rd = ln(rd)``."""
    v = vol * vol * t
    now = phi * (spot - strike)
    if not (v >= MIN_VARIANCE):
        return _maximum(_maximum(now, rd * phi * (fw - strike)), 0.0)
    sd = math.sqrt(v)
    d1 = log_fk / sd + 0.5 * sd
    black = phi * (fw * _ndtr(phi * d1) - strike * _ndtr(phi * (d1 - sd)))
    value = _maximum(black, 0.0) * rd
    early = qd < 1.0 if phi > 0 else rd < 1.0
    if not early:
        return value
    # the critical price, as option_pricing._critical_price
    n = 2.0 * log_qr / v
    n1 = n - 1.0
    m = -2.0 * log_rd / v
    bt = log_qr
    qu = (-n1 + phi * math.sqrt(n1 * n1 + 4.0 * m)) / 2.0
    su = strike / (1.0 - 1.0 / qu)
    h = (bt + phi * 2.0 * sd) * strike / (strike - su)
    eh = math.exp(h)
    if phi > 0:
        sk = strike + (su - strike) * (1.0 - eh)
    else:
        sk = su + (strike - su) * eh
    if abs(rd - 1.0) <= 1000 * _EPS:
        big_k = 2.0 / v
    else:
        big_k = -2.0 * log_rd / (v * (1.0 - rd))
    qq = (-n1 + phi * math.sqrt(n1 * n1 + 4.0 * big_k)) / 2.0
    for _ in range(_MAX_CRITICAL_ITERATIONS):
        fwd = sk * qd / rd
        e1 = (math.log(fwd / strike) + 0.5 * v) / sd
        n_d1 = _ndtr(phi * e1)
        bl = _maximum(phi * (fwd * n_d1 - strike * _ndtr(phi * (e1 - sd))), 0.0)
        rhs = bl * rd + phi * (1.0 - qd * n_d1) * sk / qq
        if not (abs(phi * (sk - strike) - rhs) / strike > CRITICAL_PRICE_TOLERANCE):
            break
        bi = phi * qd * n_d1 * (1.0 - 1.0 / qq) + (phi - qd * _pdf(e1) / sd) / qq
        sk = (phi * strike + rhs - bi * sk) / (phi - bi)
    d1 = (math.log(sk * qd / (rd * strike)) + 0.5 * v) / sd
    a = phi * (sk / qq) * (1.0 - qd * _ndtr(phi * d1))
    premium = a * math.pow(spot / sk, qq)
    if phi * (spot - sk) >= 0:
        early_value = phi * (spot - strike)
    else:
        early_value = value + premium
    if math.isfinite(early_value) and phi * (sk - strike) > 0 and sk > 0:
        return early_value
    return _maximum(value, now)


@_jit
def _european_guess(
    call: bool, p: float, s: float, k: float, t: float, rd: float, qd: float
) -> float:
    """Corrado-Miller's guess, then Newton steps on the Black price (as option_pricing)."""
    sdisc = s * qd
    kdisc = k * rd
    cp = p if call else p + sdisc - kdisc
    half = 0.5 * (sdisc - kdisc)
    inner = (cp - half) * (cp - half) - (sdisc - kdisc) * (sdisc - kdisc) / np.pi
    guess = (
        math.sqrt(2.0 * np.pi / t) / (sdisc + kdisc) * (cp - half + math.sqrt(_maximum(inner, 0.0)))
    )
    sigma = min(max(guess, 0.01), 3.0) if math.isfinite(guess) else 0.3
    phi = 1.0 if call else -1.0
    forward = s * qd / rd
    sqrt_t = math.sqrt(t)
    log_fk = math.log(forward / k)
    for _ in range(_EUROPEAN_STEPS):
        std = sigma * sqrt_t
        d1 = log_fk / std + 0.5 * std
        black = phi * (forward * _ndtr(phi * d1) - k * _ndtr(phi * (d1 - std)))
        vega = rd * forward * _pdf(d1) * sqrt_t
        nxt = sigma - (rd * black - p) / vega
        if math.isfinite(nxt) and nxt > VOL_LOWER and nxt < 3.0:
            sigma = nxt
    return sigma


@_jit
def _solve(
    call: bool, p: float, s: float, k: float, t: float, r: float, q: float
) -> tuple[float, int]:
    """(volatility, status) of one option."""
    if not (
        math.isfinite(p)
        and math.isfinite(s)
        and math.isfinite(k)
        and math.isfinite(t)
        and math.isfinite(r)
        and math.isfinite(q)
        and s > 0
        and k > 0
        and t > 0
    ):
        return math.nan, _INVALID_INPUT
    rd = math.exp(-r * t)
    qd = math.exp(-q * t)
    if call:
        intrinsic, european, upper = s - k, s * qd - k * rd, s
    else:
        intrinsic, european, upper = k - s, k * rd - s * qd, k
    lower = _maximum(_maximum(intrinsic, european), 0.0)
    ptol = PRICE_TOLERANCE * max(1.0, k)
    if p > upper + ptol:
        return math.nan, _ABOVE_BOUND
    if p < lower - ptol:
        return math.nan, _BELOW_BOUND
    sigma = _european_guess(call, p, s, k, t, rd, qd)
    phi = 1.0 if call else -1.0
    fw = s * qd / rd
    log_fk, log_qr, log_rd = math.log(fw / k), math.log(qd / rd), math.log(rd)
    sqrt_t, log_sk, drift = math.sqrt(t), math.log(s / k), r - q
    lo, hi = VOL_LOWER, VOL_UPPER
    prev_sigma = prev_f = f_lo = f_hi = math.nan
    for _ in range(_NEWTON_STEPS):
        f = _baw(phi, s, k, t, rd, qd, fw, log_fk, log_qr, log_rd, sigma) - p
        if abs(f) <= ptol:
            return sigma, _OK
        if f < 0:
            lo, f_lo = sigma, f
        if f > 0:
            hi, f_hi = sigma, f
        slope = (f - prev_f) / (sigma - prev_sigma)
        secant_ok = math.isfinite(slope) and slope > 0
        if not secant_ok:  # the European vega
            x = (log_sk + (drift + 0.5 * sigma * sigma) * t) / (sigma * sqrt_t)
            slope = s * math.exp(-q * t) * sqrt_t * _pdf(x)
        step = sigma - f / slope
        inside = math.isfinite(step) and step > lo and step < hi
        if inside and secant_ok and abs(step - sigma) <= SECANT_ACCEPT and abs(f) <= 1000 * ptol:
            return step, _OK
        prev_sigma, prev_f = sigma, f
        sigma = step if inside else 0.5 * (lo + hi)
    # Illinois regula falsi in the bracket left (option_pricing._bracketed)
    if not math.isfinite(f_lo):
        f_lo = _baw(phi, s, k, t, rd, qd, fw, log_fk, log_qr, log_rd, lo) - p
    if not math.isfinite(f_hi):
        f_hi = _baw(phi, s, k, t, rd, qd, fw, log_fk, log_qr, log_rd, hi) - p
    if lo == VOL_LOWER and f_lo >= -ptol:
        return math.nan, _UNDETERMINED
    if hi == VOL_UPPER and f_hi < -ptol:
        return math.nan, _ABOVE_SEARCH
    if abs(f_hi) <= ptol:
        return hi, _OK
    side = 0
    for it in range(_MAX_SOLVER_ITERATIONS):
        width = hi - lo
        secant = lo - f_lo * width / (f_hi - f_lo)
        if it % 4 == 3 or not math.isfinite(secant) or secant <= lo or secant >= hi:
            mid = 0.5 * (lo + hi)
        else:
            mid = secant
        f_mid = _baw(phi, s, k, t, rd, qd, fw, log_fk, log_qr, log_rd, mid) - p
        if abs(f_mid) <= ptol:
            return mid, _OK
        if width <= VOL_TOLERANCE:
            break
        if not (f_mid >= 0):  # root above mid (a NaN price counts as too low)
            lo, f_lo = mid, f_mid
            if side == 1:
                f_hi = 0.5 * f_hi
            side = 1
        else:
            hi, f_hi = mid, f_mid
            if side == -1:
                f_lo = 0.5 * f_lo
            side = -1
    return math.nan, _NOT_CONVERGED


def _fill(
    call: np.ndarray,
    price: np.ndarray,
    spot: np.ndarray,
    strike: np.ndarray,
    t: np.ndarray,
    r: np.ndarray,
    q: np.ndarray,
    vol: np.ndarray,
    status: np.ndarray,
) -> None:
    """Fill ``vol`` and ``status`` (int8 ``IVStatus`` codes) for 1-D arrays of one length."""
    for i in prange(price.size):
        v, code = _solve(call[i], price[i], spot[i], strike[i], t[i], r[i], q[i])
        vol[i] = v
        status[i] = code


_fill_compiled: Any = njit(cache=True, error_model="numpy", parallel=True)(_fill)


def implied_volatility_kernel(
    call: np.ndarray,
    price: np.ndarray,
    spot: np.ndarray,
    strike: np.ndarray,
    t: np.ndarray,
    r: np.ndarray,
    q: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(volatilities, int8 ``IVStatus`` codes) of contiguous 1-D arrays of one length
    (``call`` bool, the rest float64), solved in parallel over the options."""
    vol = np.empty(price.size)
    status = np.empty(price.size, dtype=np.int8)
    _fill_compiled(call, price, spot, strike, t, r, q, vol, status)
    return vol, status
