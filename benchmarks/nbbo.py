"""Benchmark NBBO consolidation: pfof against DuckDB and Polars formulations of the same NBBO.

Generates venue quotes with NumPy (seeded; default 20 M quotes over 16 venues and 1,000
symbols, in time order as a feed delivers them, with bursts of quotes sharing a microsecond,
one-sided and empty quotes, and venues locking and crossing each other), then times:

* ``pfof``: :func:`pfof.engine.nbbo.consolidate_nbbo` on the whole table;
* ``duckdb``: SQL over the same table: per venue, that venue's latest quote carried forward
  (``last_value(... IGNORE NULLS)`` over a window by symbol ordered by time and input order),
  the best bid ``greatest`` and best ask ``least`` over the venues with their summed sizes, the
  last row of each timestamp, rows whose state changed;
* ``polars``: the same steps as expressions (``forward_fill().over("symbol")`` per venue,
  ``max_horizontal`` / ``min_horizontal``, ``sum_horizontal``, shifts).

The library formulations run per batch of whole symbols (``--batch-rows`` quotes at most), the
batches cut outside the timed region, so that their 4 x 16 per-venue columns fit in memory;
pfof takes the whole table. All three outputs must be equal (checked on the whole output after
timing). Prints each time, then ``pfof_nbbo_vs_fastest_library=<pfof time / fastest library
time>``.

    .venv/bin/python benchmarks/nbbo.py [--rows 20000000] [--symbols 1000] [--venues 16]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.nbbo import consolidate_nbbo
from pfof.model.tables import NBBO, QUOTES

OPEN_NS = 1_764_253_800_000_000_000  # 2025-11-27 14:30 UTC (09:30 New York)
DAY_NS = 6 * 3_600_000_000_000 + 1_800_000_000_000  # 6.5 hours


def generate(rows: int, symbols: int, venues: int, seed: int) -> pa.Table:
    """``rows`` venue quotes (``QUOTES`` schema) in time order."""
    rng = np.random.default_rng(seed)
    weight = 1.0 / np.arange(1, symbols + 1)  # a few symbols quote far more than most
    sym = rng.choice(symbols, size=rows, p=weight / weight.sum())
    ts = np.sort(rng.integers(0, DAY_NS // 1_000, rows)) * 1_000 + OPEN_NS  # µs: bursts
    ven = rng.integers(0, venues, rows)
    base = rng.integers(500, 50_000, symbols)  # cents
    mid = base[sym] + rng.integers(-4, 5, rows)
    bid_c = mid - rng.integers(1, 4, rows)
    ask_c = mid + rng.integers(1, 4, rows)
    bid_size = rng.integers(1, 11, rows) * 100
    ask_size = rng.integers(1, 11, rows) * 100
    no_bid = rng.random(rows) < 0.02
    no_ask = rng.random(rows) < 0.02
    bid_c[no_bid], bid_size[no_bid] = 0, 0
    ask_c[no_ask], ask_size[no_ask] = 0, 0
    names = pa.array([f"S{i:04d}" for i in range(symbols)])
    venue_names = pa.array([f"V{i:02d}" for i in range(venues)])
    return pa.Table.from_arrays(
        [
            pa.DictionaryArray.from_arrays(pa.array(sym, pa.int32()), names).cast(pa.string()),
            pa.array(ts, pa.timestamp("ns", tz="UTC")),
            pa.DictionaryArray.from_arrays(pa.array(ven, pa.int32()), venue_names).cast(
                pa.string()
            ),
            pa.array(bid_c / 100.0),
            pa.array(bid_size),
            pa.array(ask_c / 100.0),
            pa.array(ask_size),
        ],
        schema=QUOTES,
    )


def batches(quotes: pa.Table, max_rows: int) -> list[pa.Table]:
    """``quotes`` cut into tables of whole symbols (in symbol order) of at most ``max_rows``
    rows (or one symbol), each with its rows' input order as ``rn``."""
    quotes = quotes.append_column("rn", pa.array(np.arange(quotes.num_rows)))
    counts = pc.value_counts(quotes.column("symbol"))
    order = pc.sort_indices(counts.field("values"))
    names = counts.field("values").take(order).to_pylist()
    sizes = counts.field("counts").take(order).to_pylist()
    groups: list[list[str]] = [[]]
    rows = 0
    for name, size in zip(names, sizes, strict=True):
        if groups[-1] and rows + size > max_rows:
            groups.append([])
            rows = 0
        groups[-1].append(name)
        rows += size
    return [quotes.filter(pc.is_in(quotes.column("symbol"), pa.array(g))) for g in groups]


def duckdb_nbbo(parts: list[pa.Table], venues: list[str]) -> pa.Table:
    """The NBBO in DuckDB SQL, one query per batch of symbols."""
    con = duckdb.connect()
    win = "OVER w"
    carried = []
    for i, v in enumerate(venues):
        for col in ("b", "bs", "a", "as_"):
            carried.append(
                f"last_value(CASE WHEN venue = '{v}' THEN {col} END IGNORE NULLS) {win} AS {col}{i}"
            )
    bids = ", ".join(f"coalesce(b{i}, '-inf'::DOUBLE)" for i in range(len(venues)))
    asks = ", ".join(f"coalesce(a{i}, 'inf'::DOUBLE)" for i in range(len(venues)))
    bid_sizes = " + ".join(
        f"CASE WHEN b{i} = best_bid THEN bs{i} ELSE 0 END" for i in range(len(venues))
    )
    ask_sizes = " + ".join(
        f"CASE WHEN a{i} = best_ask THEN as_{i} ELSE 0 END" for i in range(len(venues))
    )
    sql = f"""
    WITH clean AS (
        SELECT symbol, ts, venue, rn,
            CASE WHEN bid > 0 AND bid < 'inf'::DOUBLE AND coalesce(bid_size, 0) > 0
                 THEN bid ELSE '-inf'::DOUBLE END AS b,
            CASE WHEN bid > 0 AND bid < 'inf'::DOUBLE AND coalesce(bid_size, 0) > 0
                 THEN bid_size ELSE 0 END AS bs,
            CASE WHEN ask > 0 AND ask < 'inf'::DOUBLE AND coalesce(ask_size, 0) > 0
                 THEN ask ELSE 'inf'::DOUBLE END AS a,
            CASE WHEN ask > 0 AND ask < 'inf'::DOUBLE AND coalesce(ask_size, 0) > 0
                 THEN ask_size ELSE 0 END AS as_
        FROM part
    ), books AS (
        SELECT symbol, ts, rn,
            lead(ts) OVER (PARTITION BY symbol ORDER BY ts, rn) AS next_ts,
            {", ".join(carried)}
        FROM clean
        WINDOW w AS (PARTITION BY symbol ORDER BY ts, rn
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ), best AS (
        SELECT *, greatest({bids}) AS best_bid, least({asks}) AS best_ask
        FROM books
    ), nbbo AS (
        SELECT symbol, ts, rn, best_bid, best_ask,
            CASE WHEN best_bid > '-inf'::DOUBLE THEN {bid_sizes} ELSE 0 END AS bid_size,
            CASE WHEN best_ask < 'inf'::DOUBLE THEN {ask_sizes} ELSE 0 END AS ask_size
        FROM best
        WHERE next_ts IS NULL OR next_ts <> ts
    ), changes AS (
        SELECT *,
            lag(best_bid, 1, '-inf'::DOUBLE) OVER s AS p_bid,
            lag(bid_size, 1, 0) OVER s AS p_bsz,
            lag(best_ask, 1, 'inf'::DOUBLE) OVER s AS p_ask,
            lag(ask_size, 1, 0) OVER s AS p_asz
        FROM nbbo
        WINDOW s AS (PARTITION BY symbol ORDER BY ts, rn)
    )
    SELECT symbol, ts,
        CASE WHEN best_bid > '-inf'::DOUBLE THEN best_bid END AS bid,
        CASE WHEN best_bid > '-inf'::DOUBLE THEN bid_size END AS bid_size,
        CASE WHEN best_ask < 'inf'::DOUBLE THEN best_ask END AS ask,
        CASE WHEN best_ask < 'inf'::DOUBLE THEN ask_size END AS ask_size
    FROM changes
    WHERE best_bid <> p_bid OR bid_size <> p_bsz OR best_ask <> p_ask OR ask_size <> p_asz
    ORDER BY symbol, ts
    """
    out = []
    for part in parts:
        con.register("part", part)
        out.append(con.sql(sql).to_arrow_table())
        con.unregister("part")
    con.close()
    return pa.concat_tables([t.cast(NBBO) for t in out])


def polars_nbbo(parts: list[pa.Table], venues: list[str]) -> pa.Table:
    """The NBBO in Polars expressions, one lazy query per batch of symbols."""
    inf = float("inf")
    has_bid = (pl.col("bid") > 0) & (pl.col("bid") < inf) & (pl.col("bid_size").fill_null(0) > 0)
    has_ask = (pl.col("ask") > 0) & (pl.col("ask") < inf) & (pl.col("ask_size").fill_null(0) > 0)
    clean = [
        pl.when(has_bid).then(pl.col("bid")).otherwise(-inf).alias("b"),
        pl.when(has_bid).then(pl.col("bid_size")).otherwise(0).alias("bs"),
        pl.when(has_ask).then(pl.col("ask")).otherwise(inf).alias("a"),
        pl.when(has_ask).then(pl.col("ask_size")).otherwise(0).alias("as_"),
    ]
    carried = [
        pl.when(pl.col("venue") == v).then(pl.col(c)).forward_fill().over("symbol").alias(f"{c}{i}")
        for i, v in enumerate(venues)
        for c in ("b", "bs", "a", "as_")
    ]
    n = range(len(venues))
    best_bid = pl.max_horizontal([pl.col(f"b{i}").fill_null(-inf) for i in n]).alias("best_bid")
    best_ask = pl.min_horizontal([pl.col(f"a{i}").fill_null(inf) for i in n]).alias("best_ask")
    bid_size = pl.sum_horizontal(
        [
            pl.when(pl.col(f"b{i}") == pl.col("best_bid")).then(pl.col(f"bs{i}")).otherwise(0)
            for i in n
        ]
    )
    ask_size = pl.sum_horizontal(
        [
            pl.when(pl.col(f"a{i}") == pl.col("best_ask")).then(pl.col(f"as_{i}")).otherwise(0)
            for i in n
        ]
    )
    last_of_ts = (pl.col("symbol") != pl.col("symbol").shift(-1)) | (
        pl.col("ts") != pl.col("ts").shift(-1)
    )
    first = pl.col("symbol") != pl.col("symbol").shift(1)

    def prev(col: str, empty: float) -> pl.Expr:
        return pl.when(first.fill_null(True)).then(empty).otherwise(pl.col(col).shift(1))

    changed = (
        (pl.col("best_bid") != prev("best_bid", -inf))
        | (pl.col("bid_size") != prev("bid_size", 0))
        | (pl.col("best_ask") != prev("best_ask", inf))
        | (pl.col("ask_size") != prev("ask_size", 0))
    )
    out = []
    for part in parts:
        frame = (
            pl.from_arrow(part)
            .lazy()
            .sort(["symbol", "ts", "rn"])
            .with_columns(clean)
            .with_columns(carried)
            .with_columns(best_bid, best_ask)
            .with_columns(
                pl.when(pl.col("best_bid") > -inf).then(bid_size).otherwise(0).alias("bid_size"),
                pl.when(pl.col("best_ask") < inf).then(ask_size).otherwise(0).alias("ask_size"),
            )
            .filter(last_of_ts.fill_null(True))
            .filter(changed)
            .select(
                "symbol",
                "ts",
                pl.when(pl.col("best_bid") > -inf).then(pl.col("best_bid")).alias("bid"),
                pl.when(pl.col("best_bid") > -inf).then(pl.col("bid_size")).alias("bid_size"),
                pl.when(pl.col("best_ask") < inf).then(pl.col("best_ask")).alias("ask"),
                pl.when(pl.col("best_ask") < inf).then(pl.col("ask_size")).alias("ask_size"),
            )
            .collect()
        )
        out.append(frame.to_arrow())
    return pa.concat_tables([t.cast(NBBO) for t in out])


def timed(label: str, run: Callable[[], pa.Table]) -> tuple[float, pa.Table]:
    gc.collect()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{label:<8} {seconds:8.2f} s  {result.num_rows:>12,} NBBO rows", flush=True)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="venue quotes")
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--venues", type=int, default=16)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--batch-rows", type=int, default=1_000_000, help="quotes per DuckDB / Polars query"
    )
    args = parser.parse_args()

    quotes = generate(args.rows, args.symbols, args.venues, args.seed)
    venues = sorted(pc.unique(quotes.column("venue")).to_pylist())
    parts = batches(quotes, args.batch_rows)
    print(
        f"{quotes.num_rows:,} venue quotes, {args.symbols:,} symbols, {len(venues)} venues; "
        f"libraries in {len(parts)} batches of whole symbols, at most {args.batch_rows:,} "
        "quotes or one symbol each"
    )
    consolidate_nbbo(quotes.slice(0, 1_000))  # compile (or load) the kernels before timing

    pfof_s, mine = timed("pfof", lambda: consolidate_nbbo(quotes))
    duck_s, duck = timed("duckdb", lambda: duckdb_nbbo(parts, venues))
    assert duck.equals(mine), "DuckDB's NBBO differs from pfof's"
    del duck
    polars_s, polar = timed("polars", lambda: polars_nbbo(parts, venues))
    assert polar.equals(mine), "Polars' NBBO differs from pfof's"
    print("outputs equal: pfof == duckdb == polars (every row)")
    print(f"pfof_nbbo_vs_fastest_library={pfof_s / min(duck_s, polars_s):.3f}")


if __name__ == "__main__":
    main()
