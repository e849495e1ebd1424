"""Rule 606 from order logs on the demo month: the 606(b)(1) customer query and the quarterly
606(a)(1) report, timed against a baseline measured in the same run.

The baseline is reading every order, route and fill of the dataset into memory (pyarrow, all
columns, no filtering). The customer query filters in DuckDB by broker, customer and date
partition, joins the customer's routes and fills and builds the XML; the quarterly report
reads everything, prices every fill and validates its own XML. The target is "seconds" for
the customer query (brokers take weeks); the ratios show how far each is from a bare read.
Each measurement is the best of ``--repeat`` runs.

    python benchmarks/rule606_from_logs.py              # simulates the demo month first (~10 s)
    python benchmarks/rule606_from_logs.py --data DIR   # an existing simulator output
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.dataset as ds

from pfof.engine.generate606 import customer_routing_report, held_order_routing_report
from pfof.formats.sec606 import read_606, write_606
from pfof.model.market_time import quarter_bounds, year_quarter
from pfof.sim import SimConfig, simulate
from pfof.store.order_logs import load_order_logs


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, help="simulator output (default: simulate the demo)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "demo"
            t0 = time.perf_counter()
            simulate(SimConfig.demo(), data)
            print(f"simulated the demo month in {time.perf_counter() - t0:.1f} s")
        con = duckdb.connect()
        glob = str(data / "orders" / "**" / "*.parquet")
        broker, customer, first_day, n_orders = con.sql(
            f"SELECT broker, customer_id, min(date), count(*) FROM read_parquet('{glob}', "
            "hive_partitioning = true) GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
        ).fetchall()[0]
        year, quarter = year_quarter(first_day)
        start, end = quarter_bounds(year, quarter)

        def baseline() -> None:
            for name in ("orders", "routes", "fills"):
                ds.dataset(data / name, format="parquet", partitioning="hive").to_table()

        def customer_query() -> None:
            tables = load_order_logs(data, broker=broker, customer=customer, start=start, end=end)
            report = customer_routing_report(tables, broker, customer, start, end)
            write_606(report)

        def quarterly() -> None:
            tables = load_order_logs(data, broker=broker, start=start, end=end)
            report = held_order_routing_report(tables, broker, year, quarter)
            read_606(write_606(report), strict=True)

        base = best(baseline, args.repeat)
        cust = best(customer_query, args.repeat)
        a1 = best(quarterly, args.repeat)
        print(
            f"data: {data} ({broker}, {year} Q{quarter}); busiest customer {customer}: "
            f"{n_orders:,} orders"
        )
        print(f"baseline (read all orders, routes, fills): {base:.3f} s")
        print(f"606(b)(1) customer report {start}..{end}:  {cust:.3f} s")
        print(f"606(a)(1) quarterly report + strict check: {a1:.3f} s")
        print(f"customer_vs_baseline={cust / base:.2f}")
        print(f"quarterly_vs_baseline={a1 / base:.2f}")


if __name__ == "__main__":
    main()
