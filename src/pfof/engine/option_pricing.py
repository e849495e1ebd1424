"""American option prices by Barone-Adesi-Whaley and implied volatility, over NumPy arrays.

The Barone-Adesi & Whaley (1987) quadratic approximation prices an American option as the
European (Black-Scholes-Merton) value plus an early-exercise premium ``A (S/S*)^q``, where
the critical price ``S*`` solves a one-dimensional equation by Newton iteration. This module
follows the formulation of QuantLib's ``BaroneAdesiWhaleyApproximationEngine`` step by step
(same seed for ``S*``, same update, same stopping rule ``|LHS - RHS| / K <= 1e-6``) so the
two agree to float precision; every step runs on whole arrays, with converged elements
masked out. Formulas and sources: docs/options.md.

Implied volatility inverts the price in volatility option by option, in compiled code
(numba, :mod:`pfof.engine.option_kernels`) over all cores: from the European implied
volatility, Newton-secant steps inside a shrinking bracket, then a bracketed Illinois regula
falsi for what is left; each BAW price there repeats this module's steps for one option.
Prices the model cannot produce are reported by status, never forced to a number: below the
no-arbitrage lower bound (the exercise value, or the discounted forward payoff), above the
upper bound (spot for a call, strike for a put), or so close to the price at the lowest
volatility that no volatility is determined.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

#: NumPy arrays of any dtype (float64 prices, bool rights, int8 statuses, intp indices).
Arr = NDArray[Any]

#: Stopping rule of the critical-price iteration, relative to the strike (QuantLib's value).
CRITICAL_PRICE_TOLERANCE = 1e-6
#: Variances below this are treated as zero: the option is worth its deterministic payoff.
_MIN_VARIANCE = 1e-14
_MAX_CRITICAL_ITERATIONS = 100
#: Volatility search interval of the implied-volatility solver (annualised, as fractions).
VOL_LOWER = 1e-4
VOL_UPPER = 10.0
#: The solver stops when the price error is below this (dollars per share) ...
PRICE_TOLERANCE = 1e-10
#: ... or the volatility bracket is narrower than this.
VOL_TOLERANCE = 1e-10
#: A secant step at most this long is taken as the answer: secant convergence is
#: superlinear, so the step's own error is orders of magnitude below it.
SECANT_ACCEPT = 1e-7
_INV_SQRT_2PI = 0.3989422804014327


class IVStatus(IntEnum):
    """Why an implied volatility is or is not a number (one code per option)."""

    OK = 0
    #: Price below the no-arbitrage lower bound: no volatility produces it.
    BELOW_BOUND = 1
    #: Price above the upper bound (spot for a call, strike for a put).
    ABOVE_BOUND = 2
    #: Price at the lower bound within tolerance (e.g. deep in the money): any low
    #: volatility fits, so none is reported.
    UNDETERMINED = 3
    #: Price above the model price at the highest volatility searched.
    ABOVE_SEARCH = 4
    #: Non-finite or non-positive spot, strike or expiry, or a non-finite price.
    INVALID_INPUT = 5
    #: The search closed on a jump of the model price (see docs/options.md).
    NOT_CONVERGED = 6


@dataclass(frozen=True, slots=True)
class ImpliedVolatility:
    """Implied volatilities (NaN unless ``status == IVStatus.OK``) and a status per option."""

    volatility: Arr
    status: Arr

    def counts(self) -> dict[str, int]:
        """How many options ended in each status, by status name (zeros omitted)."""
        codes, n = np.unique(self.status, return_counts=True)
        return {IVStatus(int(c)).name: int(k) for c, k in zip(codes, n, strict=True)}


def is_call_array(right: ArrayLike) -> Arr:
    """Booleans (True = call) from booleans or strings such as ``"call"``, ``"P"``, ``"C"``."""
    arr = np.asarray(right)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind in "UO":
        first = np.char.lower(np.char.strip(arr.astype(str)))
        calls = np.char.startswith(first, "c")
        puts = np.char.startswith(first, "p")
        if not bool(np.all(calls | puts)):
            raise ValueError("option right: expected 'call'/'C' or 'put'/'P'")
        return calls
    raise ValueError(f"option right: expected booleans or strings, got dtype {arr.dtype}")


def _norm_pdf(x: Arr) -> Arr:
    return _INV_SQRT_2PI * np.exp(-0.5 * x * x)


def _black(phi: Arr, strike: Arr, forward: Arr, std: Arr) -> Arr:
    """Undiscounted Black value ``phi (F N(phi d1) - K N(phi d2))`` (phi = +1 call, -1 put)."""
    d1 = np.log(forward / strike) / std + 0.5 * std
    value = phi * (forward * ndtr(phi * d1) - strike * ndtr(phi * (d1 - std)))
    return np.maximum(value, 0.0)


def _critical_price(
    phi: Arr,
    strike: Arr,
    rdisc: Arr,
    qdisc: Arr,
    variance: Arr,
) -> tuple[Arr, Arr]:
    """The critical price ``S*`` and exponent ``Q`` (QuantLib's ``criticalPrice``): Newton
    iteration from BAW's seed value until ``|LHS - RHS| / K <= CRITICAL_PRICE_TOLERANCE``."""
    std = np.sqrt(variance)
    n = 2.0 * np.log(qdisc / rdisc) / variance
    n1 = n - 1.0
    m = -2.0 * np.log(rdisc) / variance
    bt = np.log(qdisc / rdisc)
    qu = (-n1 + phi * np.sqrt(n1 * n1 + 4.0 * m)) / 2.0
    su = strike / (1.0 - 1.0 / qu)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # call: K + (Su - K)(1 - e^h), h = -(bT + 2 sd) K / (Su - K);
        # put:  Su + (K - Su) e^h,     h = (bT - 2 sd) K / (K - Su)
        h = (bt + phi * 2.0 * std) * strike / (strike - su)
        eh = np.exp(h)
        si = np.where(phi > 0, strike + (su - strike) * (1.0 - eh), su + (strike - su) * eh)
    # QuantLib's close(rdisc, 1.0, 1000): within 1000 ulps of one means no discounting.
    near_one = np.abs(rdisc - 1.0) <= 1000 * np.finfo(np.float64).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        big_k = np.where(
            near_one, 2.0 / variance, -2.0 * np.log(rdisc) / (variance * (1.0 - rdisc))
        )
    q = (-n1 + phi * np.sqrt(n1 * n1 + 4.0 * big_k)) / 2.0
    active = np.arange(strike.size)
    ph, k, rd, qd, v, sd, qq = phi, strike, rdisc, qdisc, variance, std, q
    s = si
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(_MAX_CRITICAL_ITERATIONS):
            fwd = s * qd / rd
            d1 = (np.log(fwd / k) + 0.5 * v) / sd
            n_d1 = ndtr(ph * d1)  # N(d1) for calls, N(-d1) for puts
            black = np.maximum(ph * (fwd * n_d1 - k * ndtr(ph * (d1 - sd))), 0.0)
            rhs = black * rd + ph * (1.0 - qd * n_d1) * s / qq
            todo = np.abs(ph * (s - k) - rhs) / k > CRITICAL_PRICE_TOLERANCE
            if not bool(todo.any()):
                break
            if not bool(todo.all()):
                active = active[todo]
                ph, k, rd, qd, v, sd, qq = (a[todo] for a in (ph, k, rd, qd, v, sd, qq))
                s, d1, n_d1, rhs = s[todo], d1[todo], n_d1[todo], rhs[todo]
            bi = ph * qd * n_d1 * (1.0 - 1.0 / qq) + (ph - qd * _norm_pdf(d1) / sd) / qq
            s = (ph * k + rhs - bi * s) / (ph - bi)
            si[active] = s
    return si, q


def _as_float(x: ArrayLike) -> Arr:
    return np.asarray(x, dtype=np.float64)


def american_option_price(
    right: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
    volatility: ArrayLike,
) -> Arr:
    """American option prices (per share) by Barone-Adesi-Whaley; arguments broadcast.

    ``right`` is True/"call"/"C" for calls, False/"put"/"P" for puts; ``rate`` and
    ``dividend_yield`` are continuously compounded annual rates; ``volatility`` is annual
    (0.25 = 25%). A call on a stock without dividend yield is never exercised early and gets
    the European value, as in QuantLib. A zero variance gives the deterministic value.

    >>> import pfof
    >>> round(float(pfof.american_option_price("put", 100.0, 100.0, 0.5, 0.05, 0.0, 0.2)), 4)
    4.6502
    """
    call_b, s, k, t, r, q, vol = np.broadcast_arrays(
        is_call_array(right),
        _as_float(spot),
        _as_float(strike),
        _as_float(expiry_years),
        _as_float(rate),
        _as_float(dividend_yield),
        _as_float(volatility),
    )
    shape = s.shape
    flat = [np.ravel(a) for a in (call_b, s, k, t, r, q, vol)]
    out = _baw_flat(*flat)
    return out.reshape(shape)


def european_option_price(
    right: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
    volatility: ArrayLike,
) -> Arr:
    """Black-Scholes-Merton prices of European options; arguments as ``american_option_price``."""
    call_b, s, k, t, r, q, vol = np.broadcast_arrays(
        is_call_array(right),
        *(_as_float(a) for a in (spot, strike, expiry_years, rate, dividend_yield, volatility)),
    )
    t = np.maximum(t, 0.0)
    rdisc, qdisc = np.exp(-r * t), np.exp(-q * t)
    phi = np.where(call_b, 1.0, -1.0)
    forward = s * qdisc / rdisc
    std = vol * np.sqrt(t)
    deterministic = np.maximum(phi * (forward - k), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        black = _black(phi, k, forward, np.where(std > 0, std, 1.0))
    return rdisc * np.where(std * std >= _MIN_VARIANCE, black, deterministic)


def _baw_flat(
    call: Arr,
    spot: Arr,
    strike: Arr,
    t: Arr,
    r: Arr,
    q: Arr,
    vol: Arr,
) -> Arr:
    """BAW prices of 1-D arrays of equal length."""
    t = np.maximum(t, 0.0)
    rdisc = np.exp(-r * t)
    qdisc = np.exp(-q * t)
    variance = vol * vol * t
    forward = spot * qdisc / rdisc
    phi = np.where(call, 1.0, -1.0)
    exercise_now = phi * (spot - strike)
    out = np.maximum(np.maximum(exercise_now, rdisc * phi * (forward - strike)), 0.0)
    live = variance >= _MIN_VARIANCE
    if not bool(live.any()):
        return out
    all_live = bool(live.all())
    idx = np.arange(spot.size) if all_live else np.flatnonzero(live)

    def pick(a: np.ndarray) -> np.ndarray:
        return a if all_live else a[idx]

    ph, s, k, rd, qd, v, fw, now = (
        pick(a) for a in (phi, spot, strike, rdisc, qdisc, variance, forward, exercise_now)
    )
    std = np.sqrt(v)
    value = _black(ph, k, fw, std) * rd
    # Early exercise can pay for calls only with a dividend yield, for puts only with a
    # positive rate; elsewhere the European value is the American value.
    early = np.where(ph > 0, qd < 1.0, rd < 1.0)
    if bool(early.any()):
        e = np.flatnonzero(early)
        pe, se, ke, rde, qde, ve, sde = (a[e] for a in (ph, s, k, rd, qd, v, std))
        sk, qq = _critical_price(pe, ke, rde, qde, ve)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            d1 = (np.log(sk * qde / (rde * ke)) + 0.5 * ve) / sde
            a = pe * (sk / qq) * (1.0 - qde * ndtr(pe * d1))
            premium = a * np.power(se / sk, qq)
        exercised = pe * (se - sk) >= 0
        early_value = np.where(exercised, pe * (se - ke), value[e] + premium)
        # At tiny variances the critical-price iteration can break down (a vanishing
        # denominator, or a "critical price" on the wrong side of the strike, where QuantLib
        # raises); the option is then valued at the larger of its European and exercise value.
        sane = np.isfinite(early_value) & (pe * (sk - ke) > 0) & (sk > 0)
        value[e] = np.where(sane, early_value, np.maximum(value[e], now[e]))
    if all_live:
        return value
    out[idx] = value
    return out


def _lower_bound(
    call: Arr,
    spot: Arr,
    strike: Arr,
    rdisc: Arr,
    qdisc: Arr,
) -> Arr:
    """No-arbitrage lower bound of an American price: intrinsic, and the European bound."""
    intrinsic = np.where(call, spot - strike, strike - spot)
    european = np.where(call, spot * qdisc - strike * rdisc, strike * rdisc - spot * qdisc)
    return np.maximum(np.maximum(intrinsic, european), 0.0)


def implied_volatility(
    right: ArrayLike,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
) -> ImpliedVolatility:
    """The volatility at which the BAW American price equals ``price``, per option.

    Arguments broadcast like ``american_option_price``'s. Returns volatilities (NaN where
    no volatility fits) and an ``IVStatus`` code per option saying why: prices outside
    the no-arbitrage bounds are reported, not clipped.

    >>> import pfof
    >>> prices, strikes = [4.6502, 0.5], [100.0, 110.0]
    >>> iv = pfof.implied_volatility("put", prices, 100.0, strikes, 0.5, 0.05, 0.0)
    >>> [round(float(v), 4) for v in iv.volatility], [pfof.IVStatus(c).name for c in iv.status]
    ([0.2, nan], ['OK', 'BELOW_BOUND'])
    """
    call_b, p, s, k, t, r, q = np.broadcast_arrays(
        is_call_array(right),
        _as_float(price),
        _as_float(spot),
        _as_float(strike),
        _as_float(expiry_years),
        _as_float(rate),
        _as_float(dividend_yield),
    )
    shape = p.shape
    flat = [np.ravel(a) for a in (call_b, p, s, k, t, r, q)]
    vol, status = _iv_flat(*flat)
    return ImpliedVolatility(vol.reshape(shape), status.reshape(shape))


def _iv_flat(
    call: Arr,
    price: Arr,
    spot: Arr,
    strike: Arr,
    t: Arr,
    r: Arr,
    q: Arr,
) -> tuple[Arr, Arr]:
    """Implied volatilities and statuses of 1-D arrays of one length, by the compiled
    per-option solver of :mod:`pfof.engine.option_kernels` on all cores."""
    from pfof.engine.option_kernels import implied_volatility_kernel

    floats = (np.ascontiguousarray(a, dtype=np.float64) for a in (price, spot, strike, t, r, q))
    return implied_volatility_kernel(np.ascontiguousarray(call, dtype=np.bool_), *floats)


@dataclass(frozen=True, slots=True)
class VolPointCost:
    """Execution cost in volatility points, with both volatilities and why any is missing."""

    points: Arr  # side (iv_fill - iv_mid) x 100; NaN unless both volatilities are numbers
    iv_fill: Arr  # NaN unless fill_status == IVStatus.OK
    iv_mid: Arr
    fill_status: Arr  # int8 IVStatus codes
    mid_status: Arr


def implied_vol_points(
    right: ArrayLike,
    side_sign: ArrayLike,
    fill_price: ArrayLike,
    bid: ArrayLike,
    ask: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    rate: ArrayLike,
    dividend_yield: ArrayLike,
) -> VolPointCost:
    """Execution cost in volatility points: ``side (IV(fill) - IV(midpoint)) * 100``.

    ``side_sign`` is +1 for a buy, -1 for a sell, so a positive number is a cost to the
    customer (a buyer paying more volatility than the midpoint's) and a negative one an
    improvement. Arguments broadcast; prices are per share, ``expiry_years`` ACT/365, rates
    continuous. Volatilities come from ``implied_volatility`` (BAW American prices), in one
    solve for fills and midpoints; a NaN bid or ask gives a NaN midpoint (INVALID_INPUT).
    """
    arrays = np.broadcast_arrays(
        is_call_array(right),
        _as_float(side_sign),
        _as_float(fill_price),
        0.5 * (_as_float(bid) + _as_float(ask)),
        _as_float(spot),
        _as_float(strike),
        _as_float(expiry_years),
        _as_float(rate),
        _as_float(dividend_yield),
    )
    shape = arrays[0].shape
    call, sign, fill, mid, s, k, t, r, q = (np.ravel(a) for a in arrays)
    n = fill.size

    def twice(a: Arr) -> Arr:
        return np.concatenate([a, a])

    vol, status = _iv_flat(
        twice(call), np.concatenate([fill, mid]), twice(s), twice(k), twice(t), twice(r), twice(q)
    )
    points = sign * (vol[:n] - vol[n:]) * 100.0
    return VolPointCost(
        points=points.reshape(shape),
        iv_fill=vol[:n].reshape(shape),
        iv_mid=vol[n:].reshape(shape),
        fill_status=status[:n].reshape(shape),
        mid_status=status[n:].reshape(shape),
    )
