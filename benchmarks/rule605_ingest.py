"""Rule 605 files at full size: ingest and execution-quality statistics vs. pandas.

Generates (numpy, seeded) a legacy report of 170,000 rows (a wholesaler's month) and an
amended detailed report of 400,000 rows (an exchange's month), then times in the same run:

* ``pfof``: ``pfof.ingest`` of both files into a temporary store (streamed, exact decimals,
  validated) and the statistics of ``pfof rule605 summary`` from the store
  (``engine.stats605.store_file_statistics``);
* ``pfof files``: the same statistics straight from the files (``pfof.rule605_summary``);
* ``pandas``: ``read_csv`` of both files and a float ``groupby`` of the same statistics (no
  validation, floats: the floor).

``pfof ingest`` takes the store's fast path for both files (``store.ingest605``: one pass
hashing and screening the bytes, DuckDB's ``read_csv`` inserting into the row tables, the
rows read back for the consistency checks). Printed besides, not in the ratio: one more,
instrumented, run showing where its time goes; the same ingest with the fast path off (the
exact Arrow reader); and the floor of any store ingest, DuckDB's ``read_csv`` of both files
into ``DECIMAL(38, 12)`` tables with no hashing, checks or provenance, the same with
``DOUBLE`` figures, and with neither file order nor compression kept (the least any DuckDB
table costs; their ratios to pandas are printed too), and pyarrow's reader writing the rows
to uncompressed Parquet files instead (the other storage). Each is timed as the
best of three runs, every library loaded beforehand. Prints seconds, checks that both give
the same figures (to float precision) and ends with
``pfof_605_vs_pandas=<pfof ingest + statistics / pandas>`` (target at most 1.5). When the
store cannot ingest 605 files yet, the ratio is that of ``pfof files``, and the output says so.

Usage: ``python benchmarks/rule605_ingest.py [LEGACY_ROWS] [DETAILED_ROWS]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

import pfof
import pfof.app.quality605
import pfof.formats.sec605_arrow
import pfof.store.ingest605  # loaded before timing, as pandas is
from pfof.engine.stats605 import store_file_statistics
from pfof.model.records605 import DETAILED_FIELDS, LEGACY_FIELDS

RNG = np.random.default_rng(605)


def _fixed(values: np.ndarray, places: int) -> pa.Array:
    return pa.array(np.char.mod(f"%.{places}f", values))


def _write(path: Path, columns: dict[str, Any], header: bool) -> None:
    table = pa.table(
        {k: (v if isinstance(v, pa.Array) else pa.array(v)) for k, v in columns.items()}
    )
    table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    options = pacsv.WriteOptions(include_header=False, delimiter="|", quoting_style="none")
    with path.open("wb") as out:
        if header:  # pyarrow would quote the names
            out.write(("|".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, out, write_options=options)


def legacy_file(path: Path, rows: int) -> None:
    """A legacy report: symbols x order types 11-15 x sizes 21-24, consistent counts."""
    n = rows
    symbols = np.array([f"S{i:05d}" for i in range(-(-n // 20))])
    symbol = np.repeat(symbols, 20)[:n]
    order_type = np.tile(np.repeat(np.arange(11, 16), 4), len(symbols))[:n]
    order_size = np.tile(np.arange(21, 25), 5 * len(symbols))[:n]
    low = np.array([100, 500, 2000, 5000])[order_size - 21]
    orders = RNG.integers(1, 400, n)
    shares = orders * (low + RNG.integers(0, low, n) // 2)
    cancelled = (shares * RNG.random(n) * 0.2).astype(np.int64)
    away = (shares - cancelled) // 50
    mc = shares - cancelled - away
    executed = mc + away
    b1 = (executed * 0.9).astype(np.int64)
    marketable = order_type <= 12
    pi = np.where(marketable, (executed * RNG.random(n) * 0.4).astype(np.int64), 0)
    otq = np.where(marketable, (executed * RNG.random(n) * 0.05).astype(np.int64), 0)
    atq = executed - pi - otq
    columns: dict[str, Any] = {
        "participant": np.full(n, "T"),
        "market_center": np.full(n, "TSIMA"),
        "yyyymm": np.full(n, "202512"),
        "symbol": symbol,
        "order_type": order_type.astype(str),
        "order_size": order_size.astype(str),
        "covered_orders": orders.astype(str),
        "covered_shares": shares.astype(str),
        "cancelled_shares": cancelled.astype(str),
        "exec_shares_mc": mc.astype(str),
        "exec_shares_away": away.astype(str),
        "exec_0_9s": b1.astype(str),
        "exec_10_29s": (executed - b1).astype(str),
        "exec_30_59s": np.full(n, "0"),
        "exec_60_299s": np.full(n, "0"),
        "exec_5_30m": np.full(n, "0"),
        "avg_realized_spread": _fixed(RNG.normal(0.005, 0.02, n), 4),
    }
    priced = {
        "avg_effective_spread": _fixed(RNG.uniform(0.001, 0.08, n), 4),
        "pi_shares": pi.astype(str),
        "pi_avg_amount": _fixed(RNG.uniform(0, 0.02, n), 4),
        "pi_avg_time": _fixed(RNG.uniform(0, 2, n), 1),
        "atq_shares": atq.astype(str),
        "atq_avg_time": _fixed(RNG.uniform(0, 2, n), 1),
        "otq_shares": otq.astype(str),
        "otq_avg_amount": _fixed(RNG.uniform(0, 0.01, n), 4),
        "otq_avg_time": _fixed(RNG.uniform(0, 2, n), 1),
    }
    for name, values in priced.items():  # fields 18-26: market and marketable limit only
        columns[name] = np.where(marketable, np.asarray(values, dtype=object), "")
    assert list(columns) == [name for name, _ in LEGACY_FIELDS]
    _write(path, columns, header=False)


DETAILED_TYPES = np.array(
    ["MXXNN", "LYNNN", "LYNYN", "LNYNN", "LNYYN", "LNNNN", "LNNYN", "MXXNY", "LYNNY", "LNNNY"]
)
DETAILED_SIZES = np.array([0, 250, 1000, 5000, 10000])


def detailed_file(path: Path, rows: int) -> None:
    """An amended detailed report: symbols x 10 order types x 5 notional sizes."""
    n = rows
    per_symbol = len(DETAILED_TYPES) * len(DETAILED_SIZES)
    symbols = np.array([f"S{i:05d}" for i in range(-(-n // per_symbol))])
    symbol = np.repeat(symbols, per_symbol)[:n]
    order_type = np.tile(np.repeat(DETAILED_TYPES, len(DETAILED_SIZES)), len(symbols))[:n]
    order_size = np.tile(DETAILED_SIZES, len(DETAILED_TYPES) * len(symbols))[:n]
    orders = RNG.integers(1, 2000, n)
    qty = np.round(orders * RNG.uniform(5, 300, n), 2)
    cancelled = np.round(qty * RNG.uniform(0, 0.3, n), 2)
    away = np.round(qty * 0.01, 2)
    executed = np.round(qty - cancelled - away, 2)
    mid = RNG.uniform(5, 400, n)
    pi = np.round(executed * RNG.uniform(0, 0.5, n), 2)
    out = np.round(executed * RNG.uniform(0, 0.05, n), 2)
    at = np.round(executed - pi - out, 2)
    quoted = RNG.uniform(0.01, 0.1, n)
    effective = quoted * RNG.uniform(0.5, 1.1, n)
    six = lambda v: _fixed(v, 6)  # noqa: E731
    values: dict[str, Any] = {
        "participant": np.full(n, "Z"),
        "entity": np.full(n, "SIMEX"),
        "rpt_date": np.full(n, "202608"),
        "symbol": symbol,
        "lot_size": np.full(n, "ROUND"),
        "order_size": order_size.astype(str),
        "order_type": order_type,
        "covered_orders": orders.astype(str),
        "covered_notional": _fixed(qty * mid, 2),
        "covered_qty": _fixed(qty, 2),
        "cancelled_qty": _fixed(cancelled, 2),
        "executed_qty": _fixed(executed, 2),
        "executed_away_qty": _fixed(away, 2),
    }
    buckets = [name for _, name, _ in DETAILED_FIELDS[13:21]]
    for name in buckets:
        values[name] = np.full(n, "0")
    values[buckets[2]] = _fixed(executed + away, 2)
    for _, name, _ in DETAILED_FIELDS[21:31]:  # realized spreads ($, %)
        values[name] = six(RNG.normal(0.005, 0.02, n) * (1 if "pct" not in name else 0.001))
    values |= {
        "avg_midpoint": six(mid),
        "avg_quoted_spread": six(quoted),
        "avg_effective_spread": six(effective),
        "avg_effective_spread_pct": six(effective / mid),
        "avg_eq_ratio": six(effective / quoted),
        "pi_qty": _fixed(pi, 2),
        "pi_avg_amount": six(RNG.uniform(0, 0.02, n)),
        "pi_avg_time_ms": six(RNG.uniform(0, 50, n)),
        "at_quote_qty": _fixed(at, 2),
        "at_quote_avg_time_ms": six(RNG.uniform(0, 50, n)),
        "outside_quote_qty": _fixed(out, 2),
        "outside_quote_avg_amount": six(RNG.uniform(0, 0.01, n)),
        "outside_quote_avg_time_ms": six(RNG.uniform(0, 50, n)),
    }
    for _, name, _ in DETAILED_FIELDS[44:]:
        values[name] = np.full(n, "")
    values["filled_orders"] = (orders // 2).astype(str)
    columns = {name: values[name] for _, name, _ in DETAILED_FIELDS}
    _write(path, {header: columns[name] for header, name, _ in DETAILED_FIELDS}, header=True)


# ---------------------------------------------------------------- the pandas baseline


def pandas_statistics(legacy: Path, detailed: Path) -> pd.DataFrame:
    """The statistics of both files with pandas: read_csv + a float groupby (the floor)."""
    names = [name for name, _ in LEGACY_FIELDS]
    a = pd.read_csv(legacy, sep="|", header=None, names=names, dtype={"symbol": str})
    a = a.rename(columns={"market_center": "center", "yyyymm": "month"})
    a["x"] = a["exec_shares_mc"].fillna(0) + a["exec_shares_away"].fillna(0)
    a["has_pi"] = a["pi_shares"].notna()
    a["num"] = a["pi_shares"].fillna(0) * a["pi_avg_amount"].fillna(0) - a["otq_shares"].fillna(
        0
    ) * a["otq_avg_amount"].fillna(0)
    a["xq"] = a["x"] * a["avg_effective_spread"] + 2 * a["num"]
    a = a.rename(
        columns={
            "covered_orders": "orders",
            "covered_shares": "shares",
            "pi_shares": "pi",
            "atq_shares": "atq",
            "otq_shares": "otq",
            "avg_effective_spread": "eff",
            "avg_realized_spread": "rs",
        }
    )
    header = {h: name for h, name, _ in DETAILED_FIELDS}
    b = pd.read_csv(detailed, sep="|", dtype={"Symbol": str}).rename(columns=header)
    b = b.rename(columns={"entity": "center", "rpt_date": "month"})
    b["x"] = b["executed_qty"].fillna(0) + b["executed_away_qty"].fillna(0)
    b["has_pi"] = b["pi_qty"].notna()
    b["num"] = b["pi_qty"].fillna(0) * b["pi_avg_amount"].fillna(0) - b["outside_quote_qty"].fillna(
        0
    ) * b["outside_quote_avg_amount"].fillna(0)
    b["xq"] = b["x"] * b["avg_quoted_spread"]
    b = b.rename(
        columns={
            "covered_orders": "orders",
            "covered_qty": "shares",
            "pi_qty": "pi",
            "at_quote_qty": "atq",
            "outside_quote_qty": "otq",
            "avg_effective_spread": "eff",
            "realized_spread_1m": "rs",
        }
    )
    out = []
    for fmt, frame in (("legacy", a), ("detailed", b)):
        f = frame
        f["order_type"] = f["order_type"].astype(str)
        f["pi_x"] = f["x"].where(f["has_pi"], 0)
        f["eff_x"] = f["x"].where(f["eff"].notna(), 0)
        f["eff_sum"] = (f["x"] * f["eff"]).fillna(0)
        ok = (f["x"] != 0) & (f["xq"] != 0) & f["xq"].notna()
        f["eq_eff"] = f["eff_sum"].where(ok, 0)
        f["eq_q"] = f["xq"].where(ok, 0)
        f["rs_x"] = f["x"].where(f["rs"].notna(), 0)
        f["rs_sum"] = (f["x"] * f["rs"]).fillna(0)
        keys = ["center", "month", "order_type", "order_size"]
        columns = ["orders", "shares", "x", "pi_x", "pi", "atq", "otq", "num", "eff_x"]
        columns += ["eff_sum", "eq_eff", "eq_q", "rs_x", "rs_sum"]
        g = f.groupby(keys)[columns].sum().reset_index()
        g["format"] = fmt
        g["net_pi"] = 100 * g["num"] / g["pi_x"]
        g["eq_ratio"] = g["eq_eff"] / g["eq_q"]
        g["pct_improved"] = g["pi"] / g["pi_x"]
        g["pct_at_quote"] = g["atq"] / g["pi_x"]
        g["pct_outside"] = g["otq"] / g["pi_x"]
        g["avg_effective_spread"] = g["eff_sum"] / g["eff_x"]
        g["avg_realized_spread"] = g["rs_sum"] / g["rs_x"]
        out.append(g)
    return pd.concat(out)


# ---------------------------------------------------------------- timing


#: Runs of each measurement; the best counts (the machine may be shared).
REPEAT = 3


def timed(label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The best of :data:`REPEAT` runs of ``fn`` and its (last) result."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<44} {best:7.2f} s")
    return best, result


def pfof_ingest(legacy: Path, detailed: Path, db: Path) -> bool:
    """Ingest both files into a new store; False when the store does not take Rule 605
    files (yet)."""
    db.unlink(missing_ok=True)
    con = pfof.connect(db)
    try:
        pfof.ingest([legacy, detailed], con)
        stored = con.execute("SELECT count(*) FROM sources_605").fetchone()
        return bool(stored and stored[0] == 2)
    except Exception as exc:  # an older store: no sources_605
        print(f"ingest failed: {exc}")
        return False
    finally:
        con.close()


def breakdown(legacy: Path, detailed: Path, db: Path) -> None:
    """One more ingest with the phases of ``store.ingest605`` timed (printed, not in the
    ratio): hashing and byte screen, DuckDB's insert, the read-back checks, the exact reader
    (files the fast path gave way on)."""
    module = pfof.store.ingest605
    spent: dict[str, float] = {}

    def wrap(name: str, label: str) -> Callable[[], None]:
        real = getattr(module, name)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

        setattr(module, name, timed_call)
        return lambda: setattr(module, name, real)

    restore = [
        wrap("_hash_and_scan", "hash + byte screen (one pass, Python)"),
        wrap("_store_fast", "fast path"),
        wrap("_fast_verify", "read back + consistency checks + deviations"),
        wrap("_store", "exact reader (files the fast path gave way on)"),
    ]
    start = time.perf_counter()
    try:
        pfof_ingest(legacy, detailed, db)
    finally:
        for undo in restore:
            undo()
    total = time.perf_counter() - start
    fast = spent.pop("fast path", 0.0)
    checks = spent.get("read back + consistency checks + deviations", 0.0)
    spent["DuckDB read_csv + checked INSERT (2 files)"] = fast - checks
    print(f"  breakdown of one pfof ingest ({total:.2f} s):")
    for label, seconds in spent.items():
        print(f"    {label:<52} {seconds:5.2f} s")


def duckdb_floor(
    legacy: Path, detailed: Path, db: Path, *, decimal_as: str | None = None, bare: bool = False
) -> None:
    """The floor of any ingest into the store's row tables: DuckDB's ``read_csv`` of both
    files straight into ``DECIMAL(38, 12)`` / ``BIGINT`` / ``VARCHAR`` columns of a new
    database file, without hashing, checks or provenance (printed, not in the ratio).
    ``decimal_as="DOUBLE"`` stores the figures as floats instead: what a DuckDB store costs
    even without exact decimals. ``bare`` also gives up the rows' file order
    (``preserve_insertion_order``, which the store needs to word warnings by line) and
    DuckDB's compression: the least any DuckDB table costs."""
    from pfof.store.schema import _SQL_605, RULE605_ROW_TABLES

    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    if bare:
        con.execute("SET preserve_insertion_order = false")
        con.execute("PRAGMA force_compression = 'uncompressed'")
    try:
        for (table, columns), path, header in (
            (RULE605_ROW_TABLES[0], legacy, "false"),
            (RULE605_ROW_TABLES[1], detailed, "true"),
        ):
            sql_types = {kind: _SQL_605[kind] for _, kind in columns}
            if decimal_as is not None:
                sql_types = {
                    k: decimal_as if v.startswith("DECIMAL") else v for k, v in sql_types.items()
                }
            types = ", ".join(f"'{name}': '{sql_types[kind]}'" for name, kind in columns)
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', delim='|', "
                f"quote='', escape='', header={header}, columns={{{types}}}, auto_detect=false)"
            )
    finally:
        con.close()


def parquet_floor(legacy: Path, detailed: Path, folder: Path) -> None:
    """The floor of the other storage the issue names, Parquet files a store would read
    with DuckDB: pyarrow's multi-threaded CSV reader parsing both files into the row
    schema of ``formats.sec605_arrow`` (``decimal128(38, 12)`` figures) and writing them
    uncompressed, with no hashing, checks or provenance (printed, not in the ratio)."""
    import pyarrow.parquet as pq

    for path, kind, skip in ((legacy, "legacy", 0), (detailed, "detailed", 1)):
        schema = pfof.formats.sec605_arrow.arrow_schema(kind)
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=schema.names, skip_rows=skip),
            parse_options=pacsv.ParseOptions(delimiter="|", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=schema),
        )
        pq.write_table(table, folder / f"{path.stem}.parquet", compression="none")


def exact_ingest(legacy: Path, detailed: Path, db: Path) -> bool:
    """:func:`pfof_ingest` with the fast path off: the exact Arrow reader for both files."""
    module = pfof.store.ingest605
    module.FAST_PATH = False
    try:
        return pfof_ingest(legacy, detailed, db)
    finally:
        module.FAST_PATH = True


def store_statistics(db: Path) -> list[dict[str, Any]]:
    con = pfof.connect(db, read_only=True)
    try:
        return store_file_statistics(con)
    finally:
        con.close()


def compare(rows: list[dict[str, Any]], frame: pd.DataFrame) -> float:
    """Largest difference between pfof's net improvement and E/Q (6 decimals) and pandas'."""
    theirs = {
        (r.format, str(r.order_type), int(r.order_size)): (r.net_pi, r.eq_ratio)
        for r in frame.itertuples()
    }
    legacy_types = {"market": 11, "marketable_limit": 12}
    worst = 0.0
    for row in rows:
        if row["net_price_improvement_cents_per_share"] is None:
            continue
        from pfof.engine.stats605 import (
            AMENDED_ORDER_TYPE_NAMES,
            LEGACY_SIZE_LABELS,
            NOTIONAL_SIZE_LABELS,
        )

        fmt = row["format"]
        if fmt == "legacy":
            code = str(legacy_types[row["order_type"]])
            size = {v: k for k, v in LEGACY_SIZE_LABELS.items()}[row["size"]]
        else:
            code = {v: k for k, v in AMENDED_ORDER_TYPE_NAMES.items() if len(k) == 5}[
                row["order_type"]
            ]
            size = {v: k for k, v in NOTIONAL_SIZE_LABELS.items()}[row["size"]]
        net, eq = theirs[(fmt, code, size)]
        for mine, other in (
            (row["net_price_improvement_cents_per_share"], net),
            (row["eq_ratio"], eq),
        ):
            if mine is not None:
                worst = max(worst, abs(float(mine) - other))
    return worst


def main() -> None:
    legacy_rows = int(sys.argv[1]) if len(sys.argv) > 1 else 170_000
    detailed_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 400_000
    with tempfile.TemporaryDirectory() as tmp:
        legacy = Path(tmp) / "TSIMA202512.txt"
        detailed = Path(tmp) / "SIMEX202608.txt"
        t0 = time.perf_counter()
        legacy_file(legacy, legacy_rows)
        detailed_file(detailed, detailed_rows)
        size = (legacy.stat().st_size + detailed.stat().st_size) / 1e6
        print(
            f"generated {legacy_rows:,} legacy + {detailed_rows:,} detailed rows "
            f"({size:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )
        t_pandas, frame = timed(
            "pandas read_csv + groupby (float)", lambda: pandas_statistics(legacy, detailed)
        )
        t_files, file_rows = timed(
            "pfof rule605_summary (files, exact)", lambda: pfof.rule605_summary([legacy, detailed])
        )
        db = Path(tmp) / "s.duckdb"
        t_ingest, ingested = timed(
            "pfof ingest (store, exact, fast path)", lambda: pfof_ingest(legacy, detailed, db)
        )
        if ingested:
            breakdown(legacy, detailed, db)
            timed("pfof ingest, fast path off", lambda: exact_ingest(legacy, detailed, db))
            floor = Path(tmp) / "floor.duckdb"
            t_exact_floor, _ = timed(
                "floor: DuckDB read_csv into the tables only",
                lambda: duckdb_floor(legacy, detailed, floor),
            )
            t_floor, _ = timed(
                "floor with DOUBLE figures (inexact)",
                lambda: duckdb_floor(legacy, detailed, floor, decimal_as="DOUBLE"),
            )
            t_bare, _ = timed(
                "  ... unordered, uncompressed (least of all)",
                lambda: duckdb_floor(legacy, detailed, floor, decimal_as="DOUBLE", bare=True),
            )
            t_parquet, _ = timed(
                "floor of Parquet files (pyarrow, DECIMAL)",
                lambda: parquet_floor(legacy, detailed, Path(tmp)),
            )
            floors = (t_exact_floor, t_floor, t_bare, t_parquet)
            pfof_ingest(legacy, detailed, db)  # the store the statistics read
        store_rows: list[dict[str, Any]] | None = None
        t_store = t_ingest
        if ingested:
            t_stats, store_rows = timed(
                "pfof statistics from the store", lambda: store_statistics(db)
            )
            t_store += t_stats
            print(f"{'pfof ingest + statistics':<44} {t_store:7.2f} s")
        print(f"groups: pfof {len(file_rows)}, pandas {len(frame)}")
        print(
            f"largest difference to pandas (pfof rounds to 1e-6): {compare(file_rows, frame):.1e}"
        )
        if store_rows is None:
            print("the store does not ingest Rule 605 files yet: the ratio is of the files path")
            ratio = t_files / t_pandas
        else:

            def figures(rows: list[dict[str, Any]]) -> list[str]:
                return sorted(str({k: v for k, v in r.items() if k != "file"}) for r in rows)

            same = figures(store_rows) == figures(file_rows)
            print(f"store statistics equal the files' statistics: {same}")
            exact, double, bare, parquet = (f / t_pandas for f in floors)
            print(
                f"floors / pandas: DECIMAL {exact:.2f}, DOUBLE {double:.2f}, "
                f"DOUBLE unordered uncompressed {bare:.2f} (the target leaves "
                f"{1.5 - bare:+.2f} x pandas for hashing, checks and statistics), "
                f"Parquet {parquet:.2f}"
            )
            ratio = t_store / t_pandas
    print(f"pfof_605_vs_pandas={ratio:.2f}")


if __name__ == "__main__":
    main()
