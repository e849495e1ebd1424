"""Out-of-core quality: pfof's batched pass over a day too big for memory, against DuckDB's
out-of-core ``ASOF JOIN`` of the receipt time alone, on the same Parquet files.

The day is generated on disk in streaming chunks (numpy, never whole in memory): at
``--scale 1`` 600 M NBBO rows over 5,000 symbols, sorted by (symbol, ts) as pfof writes an
NBBO (``ROOT/nbbo/date=.../part-0.parquet``, 1 Mi-row row groups, pyarrow's default), and
20 M orders in time order with about 1.1 fills each. That is about 8 GB of Parquet (24 GB as
raw columns); check ``df -h`` first. ``--scale`` shrinks the rows (not the symbols) and the
row groups alike: 0.05 is 30 M NBBO rows in 52 Ki-row groups, 1 M orders, about 0.4 GB.

pfof runs ``measure_quality(..., out=...)`` (the whole per-order table: receipt NBBO, the five
horizon joins for every fill, every metric, written as Parquet) in symbol batches; by default
75 batches at every scale, as many as the automatic sizing picks at full scale, so a
reduced-scale run has the full run's shape with each batch ``scale`` times as big. DuckDB
joins each order to the NBBO in force at receipt (``ASOF LEFT JOIN`` on symbol and time) and
writes order id, bid, ask to Parquet, with ``memory_limit`` at 6 GB x scale (so it spills,
as it would at full scale under the same 6 GB budget) and a temp folder beside the data.
Each runs in a fresh process; peak RSS is polled with psutil over the process and its
children. The generated folder is deleted afterwards unless ``--keep``.
The last line is ``pfof_ooc_vs_duckdb_asof=<pfof time / DuckDB time>``.

    python benchmarks/asof_ooc.py --scale 0.05      # about 2 minutes on 2 cores
    python benchmarks/asof_ooc.py                   # full scale: 600 M NBBO rows
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pfof.model.tables import FILLS, NBBO, ORDERS
from pfof.store import layout

NS = 1_000_000_000
DAY = "2026-01-05"
T_OPEN = 1_767_623_400 * NS  # 2026-01-05 09:30 New York (14:30 UTC)
SESSION_NS = int(6.5 * 3600 * NS)
FULL_NBBO = 600_000_000
FULL_ORDERS = 20_000_000
SYMBOLS = 5_000
FULL_BATCHES = 75


def _strings(values: list[str], codes: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(values)).cast(
        pa.string()
    )


def generate(root: Path, n_nbbo: int, n_orders: int, group_rows: int, seed: int = 11) -> None:
    """Write one day (nbbo, orders, fills) under ``root``, a chunk at a time; the NBBO in
    row groups of ``group_rows``."""
    rng = np.random.default_rng(seed)
    names = [f"S{i:04d}" for i in range(SYMBOLS)]
    weights = rng.pareto(1.5, SYMBOLS) + 1  # uneven activity across symbols
    counts = rng.multinomial(n_nbbo, weights / weights.sum())
    base = rng.integers(500, 50_000, SYMBOLS)  # cents
    target = layout.day_part(root, "nbbo", DAY)
    target.parent.mkdir(parents=True)
    with pq.ParquetWriter(target, NBBO) as writer:
        step = 50
        for lo in range(0, SYMBOLS, step):
            c = counts[lo : lo + step]
            n = int(c.sum())
            code = np.repeat(np.arange(lo, lo + len(c)), c)
            rel = rng.integers(0, SESSION_NS, n)
            rel = rel[np.argsort(code.astype(np.int64) * SESSION_NS + rel, kind="stable")]
            starts = np.concatenate([[0], np.cumsum(c)])
            walk = np.cumsum(rng.choice(np.array([-1, 0, 0, 1], np.int64), n))
            walk -= np.repeat(walk[starts[:-1]], c)
            centre = np.repeat(base[lo : lo + len(c)], c) + walk
            bid = (centre - rng.integers(0, 3, n)) / 100.0
            ask = (centre + rng.integers(1, 3, n)) / 100.0
            table = pa.Table.from_arrays(
                [
                    _strings(names, code),
                    pa.array(T_OPEN + rel, NBBO.field("ts").type),
                    pa.array(bid),
                    pa.array(rng.integers(1, 50, n) * 100),
                    pa.array(ask),
                    pa.array(rng.integers(1, 50, n) * 100),
                ],
                schema=NBBO,
            )
            writer.write_table(table, row_group_size=group_rows)
            del table, code, rel, walk, centre, bid, ask
    o_target = layout.day_part(root, "orders", DAY)
    f_target = layout.day_part(root, "fills", DAY)
    o_target.parent.mkdir(parents=True)
    f_target.parent.mkdir(parents=True)
    chunks = max(1, n_orders // 1_000_000)
    p = weights / weights.sum()
    with (
        pq.ParquetWriter(o_target, ORDERS) as ow,
        pq.ParquetWriter(f_target, FILLS) as fw,
    ):
        done = 0
        for k in range(chunks):
            n = n_orders // chunks + (1 if k < n_orders % chunks else 0)
            code = rng.choice(SYMBOLS, n, p=p)
            span = (SESSION_NS - 60 * NS) // chunks
            recv = T_OPEN + k * span + np.sort(rng.integers(0, span, n))
            buy = rng.random(n) < 0.5
            qty = rng.choice(np.array([1.0, 10.0, 50.0, 100.0, 200.0, 500.0, 0.5]), n)
            ids = pc.binary_join_element_wise(
                "O", pc.cast(pa.array(np.arange(done, done + n)), pa.string()), ""
            )
            ow.write_table(
                pa.Table.from_arrays(
                    [
                        ids,
                        _strings(["BRKA", "BRKB"], rng.integers(0, 2, n)),
                        pc.cast(pa.array(rng.integers(0, 100_000, n)), pa.string()),
                        pa.array(recv, ORDERS.field("received_ts").type),
                        _strings(names, code),
                        _strings(["sp500", "other_stocks"], (code % 5 == 0).astype(np.int64)),
                        _strings(["sell", "buy"], buy.astype(np.int64)),
                        pa.array(qty),
                        _strings(["market", "marketable_limit"], rng.integers(0, 2, n)),
                        pa.nulls(n, pa.float64()),
                        pa.nulls(n, pa.float64()),
                        _strings(["DAY"], np.zeros(n, np.int64)),
                        pa.array(np.zeros(n, bool)),
                        pa.array(np.ones(n, bool)),
                        *([pa.nulls(n, ORDERS.field(name).type) for name in ORDERS.names[14:]]),
                    ],
                    schema=ORDERS,
                )
            )
            n_fills = rng.choice(np.array([0, 1, 1, 1, 1, 1, 1, 1, 2, 3]), n)
            fo = np.repeat(np.arange(n), n_fills)
            seq = np.arange(len(fo)) - np.repeat(np.cumsum(n_fills) - n_fills, n_fills)
            improvement = rng.choice(np.array([0.0, 0.0, 0.001, 0.005, -0.01]), len(fo))
            price = np.round(base[code[fo]] / 100.0 - np.where(buy[fo], 1, -1) * improvement, 4)
            fw.write_table(
                pa.Table.from_arrays(
                    [
                        pc.take(ids, pa.array(fo)),
                        pa.array(seq.astype(np.int32)),
                        _strings(["WHLA", "WHLB"], rng.integers(0, 2, len(fo))),
                        pa.array(
                            recv[fo] + rng.exponential(5e6, len(fo)).astype(np.int64),
                            FILLS.field("exec_ts").type,
                        ),
                        pa.array(np.maximum(np.round(qty[fo] / n_fills[fo], 2), 0.01)),
                        pa.array(price),
                    ],
                    schema=FILLS,
                )
            )
            done += n


PFOF = """
import json, sys, time
from pfof.app.measure import measure_quality
root, out, per_batch, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
run = measure_quality(root, out=out, batch_symbols=per_batch, workers=workers)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": run.summary.orders}))
"""

DUCKDB = """
import json, sys, time
import duckdb
root, out, memory, tmp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
con = duckdb.connect()
con.execute(f"SET memory_limit = '{memory}'")
con.execute(f"SET temp_directory = '{tmp}'")
con.execute("SET threads = 2")
con.execute("SET preserve_insertion_order = false")
t = time.perf_counter()
con.execute(f'''
COPY (
    SELECT o.order_id, n.bid, n.ask
    FROM read_parquet('{root}/orders/*/*.parquet') o
    ASOF LEFT JOIN read_parquet('{root}/nbbo/*/*.parquet') n
    ON o.symbol = n.symbol AND o.received_ts >= n.ts
) TO '{out}' (FORMAT parquet)''')
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows}))
"""


def measured(args: list[str]) -> tuple[dict[str, float], float]:
    """Run a child Python; (its JSON line, peak RSS in GB over it and its children)."""
    proc = psutil.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), peak / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full rows")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the working folder")
    parser.add_argument("--batches", type=int, default=FULL_BATCHES, help="symbol batches")
    parser.add_argument(
        "--workers", type=int, default=2, help="batches measured at once (DuckDB: 2 threads)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    a = parser.parse_args()
    n_nbbo, n_orders = int(FULL_NBBO * a.scale), int(FULL_ORDERS * a.scale)
    work = Path(tempfile.mkdtemp(prefix="pfof-asof-ooc-", dir=a.dir))
    root = work / "data"
    free = shutil.disk_usage(work).free / 1e9
    print(f"{n_nbbo:,} NBBO rows, {n_orders:,} orders, {SYMBOLS:,} symbols in {work}")
    print(f"free disk {free:.0f} GB; about {8 * a.scale:.1f} GB of Parquet and as much again")
    try:
        t = time.perf_counter()
        generate(root, n_nbbo, n_orders, max(1 << 14, int((1 << 20) * a.scale)))
        size = sum(f.stat().st_size for f in root.rglob("*.parquet")) / 1e9
        print(f"generated in {time.perf_counter() - t:.0f} s: {size:.2f} GB of Parquet")
        per_batch = max(1, -(-SYMBOLS // a.batches))
        memory = f"{max(0.5, 6 * a.scale):.2f}GB"
        pfof, pfof_rss = measured(
            [PFOF, str(root), str(work / "oq"), str(per_batch), str(a.workers)]
        )
        duck, duck_rss = measured(
            [DUCKDB, str(root), str(work / "asof.parquet"), memory, str(work / "spill")]
        )
        assert pfof["rows"] == duck["rows"] == n_orders, (pfof, duck)
        for name, res, rss, what in (
            ("pfof batched quality pass", pfof, pfof_rss, f"{a.batches} batches"),
            ("DuckDB ASOF JOIN (receipt)", duck, duck_rss, f"memory_limit {memory}"),
        ):
            s = res["seconds"]
            print(
                f"{name:28s} {s:8.1f} s  {n_orders / s / 1e6:6.2f} M orders/s  "
                f"{n_nbbo / s / 1e6:6.1f} M NBBO rows/s  peak RSS {rss:5.2f} GB  ({what})"
            )
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"pfof_ooc_vs_duckdb_asof={pfof['seconds'] / duck['seconds']:.3f}")


if __name__ == "__main__":
    main()
