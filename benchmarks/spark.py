"""pfof's Spark engine against a Spark-native as-of join, in the same Spark session.

One day is generated on disk as in benchmarks/asof_ooc.py (NBBO sorted by (symbol, ts),
orders in time order, fills; ``--scale`` of 600 M NBBO rows and 20 M orders over 5,000
symbols, default 0.01: 6 M NBBO rows, 200 k orders). Both run on the same ``local[2]`` session
(``--master`` to change), after a warm-up job:

* pfof: ``spark_quality`` - the driver splits orders and fills into ``--batches`` symbol
  batches, then one ``mapInArrow`` task per batch reads its NBBO row groups and computes the
  whole per-order table (receipt NBBO, five horizon joins per fill, every metric), written
  as Parquet.
* Spark-native: the receipt NBBO alone - the union of quotes and orders, then
  ``last(bid/ask, ignorenulls)`` over a window partitioned by symbol and ordered by
  (time, quotes before orders), the orders' rows kept and written as Parquet. (Nanosecond
  timestamps are read as longs, ``spark.sql.legacy.parquet.nanosAsLong``.)

The last line is ``pfof_spark_vs_spark_native=<pfof time / Spark-native time>``.

    python benchmarks/spark.py                  # 6 M NBBO rows, 200 k orders
    python benchmarks/spark.py --scale 0.05     # 30 M NBBO rows, 1 M orders
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from asof_ooc import FULL_NBBO, FULL_ORDERS, SYMBOLS, generate

warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.01, help="fraction of the full day")
    parser.add_argument("--batches", type=int, default=8, help="symbol batches (pfof tasks)")
    parser.add_argument("--master", default="local[2]", help="Spark master URL")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the working folder")
    a = parser.parse_args()
    n_nbbo, n_orders = int(FULL_NBBO * a.scale), int(FULL_ORDERS * a.scale)
    work = Path(tempfile.mkdtemp(prefix="pfof-spark-bench-", dir=a.dir))
    root = work / "data"
    try:
        generate(root, n_nbbo, n_orders, max(1 << 14, int((1 << 20) * a.scale)))
        print(f"{n_nbbo:,} NBBO rows, {n_orders:,} orders, {SYMBOLS:,} symbols, {a.master}")
        sys.stdout.flush()
        pfof_s, native_s = run(root, work, a.master, max(1, -(-SYMBOLS // a.batches)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, s in (
        (f"pfof spark engine (full quality, {a.batches} batches)", pfof_s),
        ("Spark-native window (receipt NBBO)", native_s),
    ):
        print(f"{name:48s} {s:7.1f} s  {n_orders / s / 1e3:8.1f} k orders/s")
    print(f"pfof_spark_vs_spark_native={pfof_s / native_s:.3f}")


def run(root: Path, work: Path, master: str, per_batch: int) -> tuple[float, float]:
    """(pfof seconds, Spark-native seconds) on one session."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from pfof.app.spark_quality import spark_quality, spark_session

    spark = spark_session(master)
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    try:
        spark.range(1000).selectExpr("sum(id)").collect()  # warm-up
        t = time.perf_counter()
        run = spark_quality(root, out=work / "oq", spark=spark, batch_symbols=per_batch)
        pfof_s = time.perf_counter() - t
        assert run.summary.orders > 0

        t = time.perf_counter()
        quotes = spark.read.parquet(str(root / "nbbo")).select(
            "symbol",
            F.col("ts").alias("t"),
            F.lit(0).alias("kind"),
            "bid",
            "ask",
            F.lit(None).cast("string").alias("order_id"),
        )
        orders = spark.read.parquet(str(root / "orders")).select(
            "symbol",
            F.col("received_ts").alias("t"),
            F.lit(1).alias("kind"),
            F.lit(None).cast("double").alias("bid"),
            F.lit(None).cast("double").alias("ask"),
            "order_id",
        )
        window = (
            Window.partitionBy("symbol")
            .orderBy("t", "kind")
            .rowsBetween(Window.unboundedPreceding, Window.currentRow)
        )
        joined = (
            quotes.unionByName(orders)
            .select(
                "order_id",
                "kind",
                F.last("bid", ignorenulls=True).over(window).alias("bid"),
                F.last("ask", ignorenulls=True).over(window).alias("ask"),
            )
            .where("kind = 1")
            .drop("kind")
        )
        joined.write.parquet(str(work / "native"))
        native_s = time.perf_counter() - t
        rows = spark.read.parquet(str(work / "native")).count()
        assert rows == run.summary.orders, (rows, run.summary.orders)
    finally:
        spark.stop()
    return pfof_s, native_s


if __name__ == "__main__":
    main()
