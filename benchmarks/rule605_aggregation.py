"""Rule 605 aggregation speed: exact engine vs. a float baseline and the Python reference.

Builds a synthetic ORDER_QUALITY month (numpy, seeded), then times in the same run:

* ``float``: a plain Polars float64 group-by of the same sums (the inexact way; the floor);
* ``engine``: ``summary_rows`` + ``detailed_rows`` (integer-grid exact sums);
* ``reference``: the plain-Python Decimal reference of the tests, on a slice of the orders.

Prints seconds and ratios. Usage: ``python benchmarks/rule605_aggregation.py [N] [N_REF]``
(defaults 500000 and 20000).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from pfof.engine.aggregate605 import detailed_rows, summary_rows
from pfof.model.tables import ORDER_QUALITY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import reference605 as reference


def synthetic(n: int, seed: int = 605) -> pa.Table:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2026-08-03T14:00:00", "ns").astype(np.int64)
    recv = t0 + rng.integers(0, 20 * 86_400 * 10**9, n)
    bid = rng.integers(100, 50_000, n) / 100
    spread = rng.integers(1, 10, n) / 100
    qty = rng.integers(1, 3_000, n).astype(float)
    executed = np.where(rng.random(n) < 0.9, qty, 0.0)
    filled = executed > 0
    delay = rng.integers(0, 2_000_000_000, n)
    ticks = rng.integers(-50, 50, (7, n)) / 10_000
    position = rng.choice(np.array(["inside", "at", "outside"]), n)
    ts = pa.timestamp("ns", tz="UTC")

    def masked(values: np.ndarray, mask: np.ndarray, typ: pa.DataType | None = None) -> pa.Array:
        return pa.array(values, type=typ or pa.float64(), mask=~mask)

    columns = {
        "order_id": pa.array(np.arange(n).astype(str)),
        "broker": pa.array(np.full(n, "B")),
        "customer_id": pa.array(np.full(n, "c")),
        "symbol": pa.array(rng.choice(np.array([f"S{i:03d}" for i in range(300)]), n)),
        "section": pa.array(rng.choice(np.array(["sp500", "other_stocks"]), n)),
        "side": pa.array(rng.choice(np.array(["buy", "sell"]), n)),
        "order_type": pa.array(rng.choice(np.array(["market", "marketable_limit"]), n)),
        "quantity": pa.array(qty),
        "received_ts": pa.array(recv, type=pa.int64()).cast(ts),
        "nbbo_bid": pa.array(bid),
        "nbbo_ask": pa.array(bid + spread),
        "quoted_spread": pa.array(spread),
        "executed_qty": pa.array(executed),
        "last_fill_ts": masked(recv + delay, filled, pa.int64()).cast(ts),
        "effective_spread": masked(np.abs(ticks[0]), filled),
        "price_improvement_per_share": masked(ticks[1], filled),
        "quote_position": masked(position, filled, pa.string()),
        **{
            f"realized_spread_{h}": masked(ticks[2 + i], filled)
            for i, h in enumerate(("50ms", "1s", "15s", "1m", "5m"))
        },
    }
    arrays = [columns.get(f.name, pa.nulls(n, f.type)) for f in ORDER_QUALITY]
    return pa.Table.from_arrays(arrays, schema=ORDER_QUALITY)


def float_baseline(table: pa.Table) -> pl.DataFrame:
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    mid = (pl.col("nbbo_bid") + pl.col("nbbo_ask")) / 2
    x = pl.col("executed_qty")
    return df.group_by("section", "order_type", "symbol").agg(
        pl.len(),
        pl.col("quantity").sum(),
        (pl.col("quantity") * mid).sum().alias("notional"),
        x.sum().alias("x"),
        (x * mid).sum().alias("mx"),
        (x * pl.col("effective_spread")).sum().alias("eff"),
        (x * pl.col("quoted_spread")).sum().alias("qs"),
        (x * pl.col("price_improvement_per_share")).sum().alias("pi"),
        *[(x * pl.col(f"realized_spread_{h}")).sum().alias(h) for h in ("15s", "1m", "5m")],
    )


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    n_ref = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    table = synthetic(n)
    kw = {"participant": "T", "entity": "BENCH", "month": 202608}
    t_float = timed(float_baseline, table)
    t_engine = timed(lambda: (summary_rows(table, **kw), detailed_rows(table, **kw)))
    small = table.slice(0, n_ref)
    rows = small.to_pylist()
    t_engine_small = timed(lambda: (summary_rows(small, **kw), detailed_rows(small, **kw)))
    t_ref = timed(lambda: (reference.summary(rows, 202608), reference.detailed(rows, 202608)))
    print(
        f"orders: {n:,}; float baseline {t_float:.2f} s; exact engine {t_engine:.2f} s "
        f"({t_engine / t_float:.1f}x the float baseline; {n / t_engine:,.0f} orders/s)"
    )
    print(
        f"orders: {n_ref:,}; exact engine {t_engine_small:.3f} s; Python reference "
        f"{t_ref:.2f} s (engine {t_ref / t_engine_small:.0f}x faster)"
    )


if __name__ == "__main__":
    main()
