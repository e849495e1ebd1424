"""Large, internally consistent Rule 605 files (legacy and amended detailed), written fast.

Rows are drawn with numpy and written by ``pyarrow.csv`` (no per-row Python), so that a
400,000-row detailed file takes a second or two. Every row passes the row readers'
consistency checks (shares accounted for, time buckets adding up, averages inside their size
code, fields 18-26 only for order types 11 and 12) unless a test mutates it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from pfof.formats.sec605_detailed import HEADER
from pfof.model.records605 import LEGACY_FIELDS

_DETAILED_TYPES = ("MXXNN", "LYNNN", "LYNYN", "LNYNN", "LNNNN", "MXXNY", "LYNNY")
_NOTIONAL = (0, 250, 1000, 5000, 10000, 20000, 50000, 200000)


def _decimals(units: np.ndarray, places: int) -> pa.Array:
    """Exact decimal strings of integers scaled by 10**-places ("-1.2300" style)."""
    sign = np.where(units < 0, "-", "")
    magnitude = np.abs(units)
    whole = pc.cast(pa.array(magnitude // 10**places), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % 10**places), pa.string()), places, "0")
    return pc.binary_join_element_wise(pa.array(sign), whole, ".", fraction, "")


def _eq_ratio(effective: np.ndarray, quoted: np.ndarray) -> pa.Array:
    """E/Q as a ratio with 6 decimals, empty where the quoted spread is 0."""
    ratio = _decimals(effective * 1_000_000 // np.maximum(quoted, 1), 6)
    return pc.if_else(pa.array(quoted > 0), ratio, pa.nulls(len(quoted), pa.string()))


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values.astype(np.int64)), pa.string())


def _split(total: np.ndarray, parts: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``parts`` non-negative integer arrays adding up to ``total`` row by row."""
    weights = rng.random((len(total), parts))
    weights /= weights.sum(axis=1, keepdims=True)
    shares = np.floor(weights * total[:, None]).astype(np.int64)
    shares[:, 0] += total - shares.sum(axis=1)
    return [shares[:, i] for i in range(parts)]


def _symbols(n: int, rng: np.random.Generator, per_symbol: int) -> pa.Array:
    ids = np.sort(rng.integers(0, max(1, n // per_symbol), n))
    return pc.binary_join_element_wise("S", pc.cast(pa.array(ids), pa.string()), "")


def _write(columns: dict[str, pa.Array], path: Path, header: bool) -> Path:
    """The columns as ``|``-separated lines (LF ends), after a header row if ``header``."""
    options = pcsv.WriteOptions(include_header=False, delimiter="|", quoting_style="none")
    with pa.OSFile(str(path), "wb") as sink:
        if header:  # pyarrow would quote the names
            sink.write(("|".join(columns) + "\n").encode())
        pcsv.write_csv(pa.table(columns), sink, write_options=options)
    return path


def legacy_file(path: Path, rows: int, *, seed: int = 0, month: int = 201708) -> Path:
    """A legacy 26-field file of ``rows`` consistent rows (market center ``TVIRT``)."""
    rng = np.random.default_rng(seed)
    n = rows
    order_type = rng.choice([11, 12, 13, 14, 15], n, p=[0.1, 0.5, 0.15, 0.15, 0.1])
    size = rng.choice([21, 22, 23, 24], n, p=[0.7, 0.2, 0.07, 0.03])
    low = np.select([size == 21, size == 22, size == 23], [100, 500, 2000], 5000)
    high = np.select([size == 21, size == 22, size == 23], [500, 2000, 5000], 10000)
    orders = rng.integers(1, 400, n)
    covered = orders * rng.integers(low, high)
    marketable = np.isin(order_type, (11, 12))
    cancelled, mc, away = _split(covered, 3, rng)
    # market and marketable limit orders executed at the center only: the improved / at /
    # outside split then agrees with both readings (executed shares, shares at the center)
    mc = np.where(marketable, mc + away, mc)
    away = np.where(marketable, 0, away)
    executed = mc + away
    buckets = _split(executed, 5, rng)
    pi, atq, otq = _split(executed, 3, rng)

    def limited(array: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(marketable), array, pa.nulls(n, pa.string()))

    values = {
        "participant": pa.array(["T"] * n),
        "market_center": pa.array(["TVIRT"] * n),
        "yyyymm": pa.array([str(month)] * n),
        "symbol": _symbols(n, rng, 20),
        "order_type": _ints(order_type),
        "order_size": _ints(size),
        "covered_orders": _ints(orders),
        "covered_shares": _ints(covered),
        "cancelled_shares": _ints(cancelled),
        "exec_shares_mc": _ints(mc),
        "exec_shares_away": _ints(away),
        **{
            name: _ints(b)
            for name, b in zip([f for f, _ in LEGACY_FIELDS[11:16]], buckets, strict=True)
        },
        "avg_realized_spread": _decimals(rng.integers(-5000, 5000, n), 4),
        "avg_effective_spread": limited(_decimals(rng.integers(0, 3000, n), 4)),
        "pi_shares": limited(_ints(pi)),
        "pi_avg_amount": limited(_decimals(rng.integers(0, 500, n), 4)),
        "pi_avg_time": limited(_decimals(rng.integers(0, 50, n), 1)),
        "atq_shares": limited(_ints(atq)),
        "atq_avg_time": limited(_decimals(rng.integers(0, 50, n), 1)),
        "otq_shares": limited(_ints(otq)),
        "otq_avg_amount": limited(_decimals(rng.integers(0, 500, n), 4)),
        "otq_avg_time": limited(_decimals(rng.integers(0, 50, n), 1)),
    }
    assert list(values) == [name for name, _ in LEGACY_FIELDS]
    return _write(values, path, header=False)


def detailed_file(path: Path, rows: int, *, seed: int = 0, month: int = 202608) -> Path:
    """An amended detailed file (header row, 55 fields) of ``rows`` consistent rows."""
    rng = np.random.default_rng(seed)
    n = rows
    orders = rng.integers(1, 2000, n)
    covered = orders * rng.integers(1, 3000, n)
    cancelled, executed, away, _unaccounted = _split(covered, 4, rng)
    buckets = _split(executed + away, 8, rng)
    pi, at, out = _split(executed, 3, rng)
    price = rng.integers(100_000, 50_000_000, n)  # micro-dollars midpoint
    spread = rng.integers(0, 50_000, n)
    effective = rng.integers(0, 60_000, n)

    def dec(units: np.ndarray, places: int = 6) -> pa.Array:
        return _decimals(units, places)

    empty = pa.nulls(n, pa.string())
    values = [
        pa.array(["Q"] * n),
        pa.array(["NSDQ"] * n),
        pa.array([str(month)] * n),
        _symbols(n, rng, 40),
        pa.array(["ROUND"] * n),
        _ints(rng.choice(_NOTIONAL, n)),
        pa.array(rng.choice(_DETAILED_TYPES, n)),
        _ints(orders),
        dec(covered * (price // 1000), 3),
        _ints(covered),
        _ints(cancelled),
        _ints(executed),
        _ints(away),
        *[_ints(b) for b in buckets],
        *[dec(rng.integers(-40_000, 40_000, n), 6) for _ in range(10)],
        dec(price),
        dec(spread),
        dec(effective),
        dec(rng.integers(0, 5_000, n)),
        _eq_ratio(effective, spread),
        _ints(pi),
        dec(rng.integers(0, 20_000, n)),
        dec(rng.integers(0, 10_000_000, n), 3),
        _ints(at),
        dec(rng.integers(0, 10_000_000, n), 3),
        _ints(out),
        dec(rng.integers(0, 20_000, n)),
        dec(rng.integers(0, 10_000_000, n), 3),
        *[empty] * 7,
        _ints(rng.integers(0, 1 + orders)),
        empty,
        empty,
        dec(rng.integers(0, 10_000_000, n), 3),
    ]
    assert len(values) == len(HEADER)
    return _write(dict(zip(HEADER, values, strict=True)), path, header=True)
