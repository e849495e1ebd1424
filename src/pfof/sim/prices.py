"""Fixed-point prices: integer units of $0.0001, with the tick grid of stocks and options.

Stocks quote in $0.01 at or above $1 and in $0.0001 below (Reg NMS Rule 612); options quote
in $0.01 below $3 and $0.05 at or above (penny interval program). Executions may be sub-penny.
Integers keep every comparison and every payment exact; ``to_float`` is exact to the decimal
because IEEE division is correctly rounded.
"""

from __future__ import annotations

import numpy as np

#: Price units per dollar.
UNITS = 10_000
#: Marker for an empty side of a quote.
EMPTY = -1


def tick(units: np.ndarray, option: np.ndarray | bool) -> np.ndarray:
    """Tick size (in units) that applies at each price level."""
    units = np.asarray(units)
    stock = np.where(units >= UNITS, 100, 1)
    opt = np.where(units >= 3 * UNITS, 500, 100)
    return np.where(option, opt, stock).astype(np.int64)


def floor_tick(units: np.ndarray, option: np.ndarray | bool) -> np.ndarray:
    """Largest price on the tick grid at or below ``units`` (at least one tick)."""
    units = np.asarray(units, dtype=np.int64)
    t = tick(units, option)
    out = (units // t) * t
    # A price just under $1 (or $3 for options) may floor onto the coarser grid's neighbour.
    return np.maximum(out, tick(np.ones_like(units), option))


def ceil_tick(units: np.ndarray, option: np.ndarray | bool) -> np.ndarray:
    """Smallest price on the tick grid at or above ``units``."""
    units = np.asarray(units, dtype=np.int64)
    t = tick(units, option)
    out = -((-units) // t) * t
    # Ceiling at the fine grid can land on a coarse-grid level that is not on its grid.
    t2 = tick(out, option)
    return -((-out) // t2) * t2


def on_grid(units: np.ndarray, option: np.ndarray | bool) -> np.ndarray:
    """True where a quote price lies on its tick grid."""
    units = np.asarray(units, dtype=np.int64)
    return units % tick(units, option) == 0


def to_float(units: np.ndarray) -> np.ndarray:
    """Dollar float64 prices; empty sides become NaN."""
    units = np.asarray(units, dtype=np.int64)
    out = units / UNITS
    return np.where(units == EMPTY, np.nan, out)


def from_float(prices: np.ndarray) -> np.ndarray:
    """Units from dollar floats (NaN becomes ``EMPTY``)."""
    prices = np.asarray(prices, dtype=np.float64)
    out = np.rint(np.nan_to_num(prices, nan=-1.0) * UNITS).astype(np.int64)
    return np.where(np.isnan(prices), EMPTY, out)
