"""Arrow array builders from numpy without per-row Python work (strings via dictionaries,
exact decimals straight from scaled integers)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pfof.sim.prices import EMPTY, to_float


def strings(
    codes: np.ndarray,
    labels: np.ndarray | list[str] | tuple[str, ...],
    null: np.ndarray | None = None,
) -> pa.Array:
    """String array from integer codes into ``labels`` (``null`` marks missing values)."""
    dictionary = pa.array(list(labels), pa.string())
    idx = pa.array(np.asarray(codes, dtype=np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(idx, dictionary).cast(pa.string())


def prices(units: np.ndarray) -> pa.Array:
    """Float64 dollar prices from units; ``EMPTY`` becomes null."""
    units = np.asarray(units, dtype=np.int64)
    return pa.array(to_float(units), pa.float64(), mask=units == EMPTY)


def decimals(
    scaled: np.ndarray, typ: pa.Decimal128Type, null: np.ndarray | None = None
) -> pa.Array:
    """Exact decimal array from int64 values already scaled by 10**typ.scale."""
    v = np.ascontiguousarray(scaled, dtype=np.int64)
    buf = np.empty((len(v), 2), np.int64)
    buf[:, 0] = v
    buf[:, 1] = v >> 63  # sign extension into the high 64 bits (little endian)
    validity = None
    if null is not None and null.any():
        validity = pa.array(~np.asarray(null, bool)).buffers()[1]
    return pa.Array.from_buffers(typ, len(v), [validity, pa.py_buffer(buf.tobytes())])


def timestamps(ns: np.ndarray, typ: pa.DataType) -> pa.Array:
    return pa.array(np.asarray(ns, dtype=np.int64), typ)
