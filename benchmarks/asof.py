"""pfof's full per-order quality pass against one receipt-time as-of join in pandas, Polars, DuckDB.

All run on the same generated data (``--days`` trading days of NBBO updates, orders and
fills over ``--symbols`` symbols). Each baseline does only the receipt join (each order to
the NBBO in force at its receipt, per symbol) over all days at once; pfof does the whole
quality pass - receipt join, the five amended Rule 605 horizon joins for every fill and
every metric, Arrow tables in, ``ORDER_QUALITY`` table out - streaming one day at a time,
with one worker and with two (two days in flight on threads); the faster one is compared.
Inputs are prepared before timing in each engine's preferred form: the NBBO sorted by
(symbol, ts) for pfof, Polars and DuckDB (the order the simulator writes), and by
ts for pandas (``merge_asof`` requires it); orders sorted by receipt time for pandas/Polars.

The data is generated once and written as uncompressed Arrow IPC files; each method runs in
a fresh process that reads them into memory and prepares its input untimed. Peak RSS is that
process's high-water mark (reset just before the run, Linux) and "extra" is that peak minus
the resident size just before the run, i.e. the method's own working memory.
The last line is ``pfof_full_pass_vs_fastest_single_join=<ratio>``.

    python benchmarks/asof.py                # 1 M orders x 20 M NBBO updates, 1,000 symbols
    python benchmarks/asof.py --small        # quick check
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.quality import stream_order_quality
from pfof.model.tables import FILLS, NBBO, ORDER_QUALITY, ORDERS

NS = 1_000_000_000
SESSION_OPEN = (14 * 3600 + 30 * 60) * NS  # 09:30 New York in winter, as UTC time of day
SESSION_NS = int(6.5 * 3600 * NS)
FIRST_DAY = 1_767_571_200 * NS  # 2026-01-05 00:00 UTC


def _strings(values: list[str], codes: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(values)).cast(
        pa.string()
    )


def generate_day(
    rng: np.random.Generator,
    day: int,
    n_quotes: int,
    n_orders: int,
    n_symbols: int,
    base_price: np.ndarray,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(orders, fills, nbbo) of one trading day; NBBO sorted by (symbol, ts)."""
    names = [f"S{i:04d}" for i in range(n_symbols)]
    t_open = FIRST_DAY + day * 86_400 * NS + SESSION_OPEN
    weights = rng.pareto(1.5, n_symbols) + 1  # uneven activity across symbols
    counts = rng.multinomial(n_quotes, weights / weights.sum())
    code = np.repeat(np.arange(n_symbols), counts)
    rel = rng.integers(0, SESSION_NS, n_quotes)
    order = np.argsort(code.astype(np.int64) * SESSION_NS + rel, kind="stable")
    ts = t_open + rel[order]
    starts = np.concatenate([[0], np.cumsum(counts)])
    # midpoint path in cents: a +-1 cent walk per symbol starting at its base price
    steps = rng.choice(np.array([-1, 0, 0, 1]), n_quotes)
    walk = np.cumsum(steps)
    walk -= np.repeat(walk[starts[:-1]], counts)
    centre = np.repeat(base_price, counts) + walk
    below = rng.choice(np.array([0, 1, 1, 1, 2]), n_quotes)
    above = rng.choice(np.array([0, 1, 1, 1, 2]), n_quotes)
    bid_c = centre - below
    ask_c = centre + above
    crossed = rng.random(n_quotes) < 0.001
    ask_c = np.where(crossed, bid_c - 1, ask_c)
    no_ask = rng.random(n_quotes) < 0.001
    bid, ask = bid_c / 100.0, ask_c / 100.0
    nbbo = pa.Table.from_arrays(
        [
            _strings(names, code),
            pa.array(ts, NBBO.field("ts").type),
            pa.array(bid),
            pa.array(rng.integers(1, 50, n_quotes) * 100),
            pa.array(ask, mask=no_ask),
            pa.array(rng.integers(1, 50, n_quotes) * 100, mask=no_ask),
        ],
        schema=NBBO,
    )

    ocode = rng.integers(0, n_symbols, n_orders)
    orel = rng.integers(0, SESSION_NS - 60 * NS, n_orders)
    received = t_open + orel
    key = code.astype(np.int64) * SESSION_NS + (ts - t_open)
    pos = np.searchsorted(key, ocode * SESSION_NS + orel, side="right") - 1
    pos = np.where(pos >= starts[ocode], pos, starts[ocode])  # rough price for generation
    side_buy = rng.random(n_orders) < 0.5
    qty = rng.choice(np.array([1.0, 10.0, 50.0, 100.0, 200.0, 500.0, 0.5]), n_orders)
    ids = pc.binary_join_element_wise(
        f"D{day}-", pc.cast(pa.array(np.arange(n_orders)), pa.string()), ""
    )
    orders = pa.Table.from_arrays(
        [
            ids,
            _strings(["BRKA", "BRKB"], rng.integers(0, 2, n_orders)),
            pc.cast(pa.array(rng.integers(0, 100_000, n_orders)), pa.string()),
            pa.array(received, ORDERS.field("received_ts").type),
            _strings(names, ocode),
            _strings(["sp500", "other_stocks"], (ocode % 5 == 0).astype(np.int64)),
            _strings(["sell", "buy"], side_buy.astype(np.int64)),
            pa.array(qty),
            _strings(["market", "marketable_limit"], rng.integers(0, 2, n_orders)),
            pa.nulls(n_orders, pa.float64()),
            pa.nulls(n_orders, pa.float64()),
            _strings(["DAY"], np.zeros(n_orders, np.int64)),
            pa.array(np.zeros(n_orders, bool)),
            pa.array(np.ones(n_orders, bool)),
        ],
        schema=ORDERS,
    )

    n_fills = rng.choice(np.array([0, 1, 1, 1, 1, 1, 1, 1, 2, 3]), n_orders)
    fo = np.repeat(np.arange(n_orders), n_fills)
    exec_ts = received[fo] + rng.exponential(5e6, len(fo)).astype(np.int64)
    far = np.where(side_buy[fo], ask[pos[fo]], bid[pos[fo]])
    far = np.where(np.isnan(far), bid[pos[fo]], far)
    improvement = rng.choice(np.array([0.0, 0.0001, 0.001, 0.005, -0.01]), len(fo))
    price = np.round(far - np.where(side_buy[fo], 1, -1) * improvement, 4)
    seq = np.arange(len(fo)) - np.repeat(np.cumsum(n_fills) - n_fills, n_fills)
    fills = pa.Table.from_arrays(
        [
            pc.take(ids, pa.array(fo)),
            pa.array(seq.astype(np.int32)),
            _strings(["WHLA", "WHLB"], rng.integers(0, 2, len(fo))),
            pa.array(exec_ts, FILLS.field("exec_ts").type),
            pa.array(np.maximum(np.round(qty[fo] / n_fills[fo], 2), 0.01)),
            pa.array(price),
        ],
        schema=FILLS,
    )
    return orders, fills, nbbo


METHODS = {
    "pandas": "pandas merge_asof (receipt join only)",
    "polars": "polars join_asof (receipt join only)",
    "duckdb": "duckdb ASOF JOIN (receipt join only)",
    "pfof1": "pfof full pass, 1 worker (receipt + 5 horizons + metrics)",
    "pfof2": "pfof full pass, 2 workers (receipt + 5 horizons + metrics)",
}
TABLES = ("orders", "fills", "nbbo")


def write_data(args: argparse.Namespace, root: Path) -> None:
    """Generate the days and write them as uncompressed Arrow IPC files (read by each child)."""
    rng = np.random.default_rng(args.seed)
    base_price = rng.integers(500, 50_000, args.symbols)
    t = time.perf_counter()
    counts = dict.fromkeys(TABLES, 0)
    for d in range(args.days):
        day = generate_day(
            rng, d, args.quotes // args.days, args.orders // args.days, args.symbols, base_price
        )
        for name, table in zip(TABLES, day, strict=True):
            counts[name] += table.num_rows
            path = root / f"day{d}" / f"{name}.arrow"
            path.parent.mkdir(parents=True, exist_ok=True)
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
    print(
        f"data: {counts['orders']:,} orders, {counts['fills']:,} fills, "
        f"{counts['nbbo']:,} NBBO updates, {args.symbols:,} symbols, {args.days} days "
        f"(generated in {time.perf_counter() - t:.1f} s)",
        flush=True,
    )


def read_days(root: Path) -> list[tuple[pa.Table, pa.Table, pa.Table]]:
    """The days' (orders, fills, nbbo), read into memory (every method starts from RAM)."""
    days = []
    for d in sorted(root.glob("day*"), key=lambda p: int(p.name[3:])):
        tables = [pa.ipc.open_file(pa.OSFile(str(d / f"{n}.arrow"))).read_all() for n in TABLES]
        days.append((tables[0], tables[1], tables[2]))
    return days


def prepare(method: str, days: list) -> Callable[[], Any]:
    """Untimed: the method's inputs in its preferred form; returns the timed call."""
    orders = pa.concat_tables([d[0] for d in days])
    nbbo = pa.concat_tables([d[2] for d in days])  # sorted by (symbol, ts) within each day
    left = orders.select(["order_id", "symbol", "received_ts"]).rename_columns(
        ["order_id", "symbol", "ts"]
    )
    if method.startswith("pfof"):
        workers = int(method[4:])
        return lambda: pa.concat_tables(stream_order_quality(iter(days), workers=workers))
    if method == "duckdb":
        con = duckdb.connect()
        con.execute(f"SET threads = {os.cpu_count() or 1}")
        con.register("orders_t", left)
        con.register("nbbo_t", nbbo)
        return lambda: con.sql(
            "SELECT o.*, n.ts AS nbbo_ts, n.bid, n.bid_size, n.ask, n.ask_size "
            "FROM orders_t o ASOF LEFT JOIN nbbo_t n ON o.symbol = n.symbol AND o.ts >= n.ts"
        ).to_arrow_table()
    left = left.take(pc.sort_indices(left, [("ts", "ascending")])).combine_chunks()
    if method == "polars":
        pl_left, pl_right = pl.from_arrow(left).rechunk(), pl.from_arrow(nbbo).rechunk()
        return lambda: pl_left.join_asof(
            pl_right, on="ts", by="symbol", strategy="backward", check_sortedness=False
        )
    pd_left = left.to_pandas()
    pd_right = nbbo.take(pc.sort_indices(nbbo, [("ts", "ascending")])).to_pandas()
    del nbbo, orders
    return lambda: pd.merge_asof(pd_left, pd_right, on="ts", by="symbol", direction="backward")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def run_child(method: str, root: Path) -> None:
    """Time one run of one method in this (fresh) process; print a JSON line."""
    fn = prepare(method, read_days(root))
    gc.collect()
    if Path("/proc/self/clear_refs").exists():
        Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
    before = _status_kb("VmRSS:")
    t = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t
    hwm = _status_kb("VmHWM:")
    del result
    print(
        json.dumps({"seconds": seconds, "peak_gb": hwm / 2**20, "extra_gb": (hwm - before) / 2**20})
    )


def check_agreement(root: Path) -> None:
    """Untimed: pfof's receipt NBBO equals DuckDB's ASOF JOIN, matched by order_id.

    DuckDB joins across days; pfof streams by day, so an order received before its symbol's
    first quote of the day is "empty" in pfof and gets the previous day's last quote in
    DuckDB: those orders are counted apart.
    """
    days = read_days(root)
    quality = prepare("pfof1", days)()
    assert quality.schema.equals(ORDER_QUALITY)
    mine = quality.select(["order_id", "nbbo_bid", "nbbo_ask", "nbbo_state"]).sort_by("order_id")
    del quality
    theirs = prepare("duckdb", days)()
    theirs = theirs.select(["order_id", "bid", "ask", "ts", "nbbo_ts"]).sort_by("order_id")
    same_day = pc.not_equal(mine.column("nbbo_state"), "empty")
    agree = mine.num_rows == theirs.num_rows and all(
        pc.filter(mine.column(a), same_day).equals(pc.filter(theirs.column(b), same_day))
        for a, b in (("nbbo_bid", "bid"), ("nbbo_ask", "ask"))
    )
    gap = pc.subtract(
        pc.cast(theirs.column("ts"), pa.int64()), pc.cast(theirs.column("nbbo_ts"), pa.int64())
    )
    overnight = pc.filter(gap, pc.invert(same_day))
    prior_day = pc.all(pc.greater(overnight, 12 * 3600 * NS)).as_py() in (True, None)
    print(
        f"check: pfof receipt NBBO identical to DuckDB's: {agree} "
        f"({pc.sum(same_day).as_py():,} orders); the {len(overnight):,} orders pfof marks "
        f"empty all get a previous day's quote in DuckDB: {prior_day}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--quotes", type=int, default=20_000_000, help="NBBO updates")
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per method (round-robin, each in a fresh process), best kept",
    )
    parser.add_argument("--seed", type=int, default=20260105)
    parser.add_argument(
        "--small", action="store_true", help="50,000 orders x 1 M NBBO updates over 100 symbols"
    )
    parser.add_argument("--child", choices=[*METHODS, "check"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "check":
        check_agreement(args.data)
        return
    if args.child:
        run_child(args.child, args.data)
        return
    if args.small:
        args.orders, args.quotes, args.symbols = 50_000, 1_000_000, 100

    with tempfile.TemporaryDirectory(prefix="pfof-asof-bench-") as tmp:
        root = Path(tmp)
        write_data(args, root)
        print(
            "inputs: NBBO sorted by (symbol, ts) for pfof, Polars and DuckDB, by ts for "
            "pandas; orders by receipt time for pandas and Polars; preparation not timed; "
            "each method in a fresh process",
            flush=True,
        )
        common = ["--data", str(root)]
        # repeats go round-robin over the methods so that each sees the same machine load
        results: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for method in METHODS:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", method, *common],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                best = results.setdefault(method, r)
                best.update(
                    seconds=min(best["seconds"], r["seconds"]),
                    peak_gb=max(best["peak_gb"], r["peak_gb"]),
                    extra_gb=max(best["extra_gb"], r["extra_gb"]),
                )
        check = subprocess.run(
            [sys.executable, __file__, "--child", "check", *common],
            check=True,
            capture_output=True,
            text=True,
        )
        print(check.stdout.strip())

    fastest = min(v["seconds"] for k, v in results.items() if not k.startswith("pfof"))
    pfof = min(v["seconds"] for k, v in results.items() if k.startswith("pfof"))
    print()
    print(
        f"| {'method':<58} | {'seconds':>8} | {'peak RSS GB':>11} | {'extra GB':>8} |"
        f" {'vs fastest join':>15} |"
    )
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 13}|{'-' * 10}|{'-' * 17}|")
    for method, r in results.items():
        print(
            f"| {METHODS[method]:<58} | {r['seconds']:8.2f} | {r['peak_gb']:11.2f} |"
            f" {r['extra_gb']:8.2f} | {r['seconds'] / fastest:15.2f} |"
        )
    print(
        f"\n{os.cpu_count()} cores; pfof streams one trading day at a time (workers = days in "
        "flight, threads); peak RSS includes the input data held by each process; the ratio "
        "below takes the faster pfof row and the fastest single join"
    )
    print(f"pfof_full_pass_vs_fastest_single_join={pfof / fastest:.3f}")


if __name__ == "__main__":
    main()
