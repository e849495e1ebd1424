"""A broker's order logs for one report window, read from a Parquet dataset or a DuckDB store.

The Rule 606 builders (:mod:`pfof.engine.generate606`) compute from tables in memory; this
module reads those tables, with the filters pushed into DuckDB so that only the broker's (and
customer's) rows of the window are ever loaded. A source is a dataset folder in pfof's layout
(:mod:`pfof.store.layout`: ``ROOT/<table>/date=YYYY-MM-DD/part-0.parquet`` and
``ROOT/arrangements.parquet``, as ``pfof simulate`` writes) or a DuckDB file or connection
holding the canonical tables (``pfof simulate --db``).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pfof.errors import InputError, StoreError
from pfof.model.enums import PaymentBasis
from pfof.model.market_time import as_date
from pfof.model.tables import CANONICAL
from pfof.store import layout
from pfof.store.schema import connect

__all__ = ["REQUIRED_TABLES", "load_order_logs"]

#: Tables every report needs; ``nbbo`` is needed too when an arrangement pays a spread fraction.
REQUIRED_TABLES = ("orders", "routes", "fills", "arrangements")
#: Day-partitioned tables and the timestamp that dates their rows.
_DAY_COLUMN = {"orders": "received_ts", "routes": "routed_ts", "fills": "exec_ts", "nbbo": "ts"}

Source = str | Path | duckdb.DuckDBPyConnection


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def load_order_logs(
    source: Source,
    *,
    broker: str,
    start: date | str,
    end: date | str,
    customer: str | None = None,
    with_nbbo: bool | None = None,
) -> dict[str, pa.Table]:
    """The canonical tables one report needs (``orders``, ``routes``, ``fills``,
    ``arrangements``, maybe ``nbbo``), cast to their canonical schemas.

    ``source`` is a dataset folder or a DuckDB file or open connection (left open). Orders of
    ``broker`` (and ``customer``) received from the day before ``start`` to the day after
    ``end`` (a superset of both the New York and the UTC dates of the window) are loaded, with
    their routes and fills; the report builders apply the exact window. ``with_nbbo`` (default:
    when an arrangement of the broker pays a spread fraction) also loads the NBBO of the
    orders' symbols on those days.

    Raises :class:`~pfof.errors.InputError` naming the path and what was expected when the
    source or one of its tables is missing or unreadable, and :class:`~pfof.errors.StoreError`
    when a DuckDB file cannot be opened.
    """
    lo, hi = as_date(start, "start") - timedelta(days=1), as_date(end, "end") + timedelta(days=1)
    if isinstance(source, duckdb.DuckDBPyConnection):
        return _from_store(source, "the DuckDB connection", broker, customer, lo, hi, with_nbbo)
    path = Path(source)
    if path.is_dir():
        return _from_dataset(path, broker, customer, lo, hi, with_nbbo)
    if not path.exists():
        raise InputError(
            f"{path}: no such folder or file: expected a dataset folder "
            "(ROOT/<table>/date=YYYY-MM-DD/) or a DuckDB file with the canonical tables"
        )
    con = connect(str(path), read_only=True)
    try:
        return _from_store(con, str(path), broker, customer, lo, hi, with_nbbo)
    finally:
        con.close()


def _from_dataset(
    root: Path, broker: str, customer: str | None, lo: date, hi: date, with_nbbo: bool | None
) -> dict[str, pa.Table]:
    scan: dict[str, str] = {}
    for name in _DAY_COLUMN:
        if not (root / name).is_dir():
            if name == "nbbo":
                continue
            raise InputError(
                f"{root / name}: missing: expected the {name} table as "
                f"{root}/{name}/date=YYYY-MM-DD/*.parquet"
            )
        glob = _literal(layout.parquet_glob(root, name))
        # by name: days written before an optional column existed lack it
        scan[name] = f"read_parquet({glob}, hive_partitioning = true, union_by_name = true)"
    arrangements = layout.table_file(root, "arrangements")
    if not arrangements.is_file():
        raise InputError(f"{arrangements}: missing: expected the broker arrangements table")
    scan["arrangements"] = f"read_parquet({_literal(str(arrangements))})"
    day = dict.fromkeys(_DAY_COLUMN, "date")  # the partition column: pruned before any read
    con = duckdb.connect()
    try:
        return _read(con, str(root), scan, day, broker, customer, lo, hi, with_nbbo)
    except duckdb.Error as exc:
        raise InputError(f"{root}: cannot read the dataset's Parquet files: {exc}") from exc
    finally:
        con.close()


def _from_store(
    con: duckdb.DuckDBPyConnection,
    where: str,
    broker: str,
    customer: str | None,
    lo: date,
    hi: date,
    with_nbbo: bool | None,
) -> dict[str, pa.Table]:
    try:
        rows = con.sql("SELECT table_name FROM duckdb_tables()").fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"{where}: cannot list the tables: {exc}") from exc
    tables = {r[0] for r in rows}
    missing = [n for n in REQUIRED_TABLES if n not in tables]
    if missing:
        raise InputError(
            f"{where}: no {', '.join(missing)} table(s) "
            "(load the canonical tables first, e.g. pfof simulate --db)"
        )
    scan = {n: n for n in (*_DAY_COLUMN, "arrangements") if n in tables}
    day = {n: f"CAST({c} AS DATE)" for n, c in _DAY_COLUMN.items()}
    try:
        return _read(con, where, scan, day, broker, customer, lo, hi, with_nbbo)
    except duckdb.Error as exc:
        raise StoreError(f"{where}: cannot read the order logs: {exc}") from exc


def _orders_columns(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """The select list of the ``orders`` columns: an optional column (``special_handling``)
    that a log written before it lacks is read as NULL."""
    present = set(con.sql(f"SELECT * FROM {relation} LIMIT 0").columns)
    cols = []
    for f in CANONICAL["orders"]:
        optional = (f.metadata or {}).get(b"pfof.optional")
        cols.append(f.name if f.name in present or not optional else f"NULL AS {f.name}")
    return ", ".join(cols)


def _read(
    con: duckdb.DuckDBPyConnection,
    where_from: str,
    scan: dict[str, str],
    day: dict[str, str],
    broker: str,
    customer: str | None,
    lo: date,
    hi: date,
    with_nbbo: bool | None,
) -> dict[str, pa.Table]:
    """The tables of one window, from the relations ``scan`` names (dated by ``day``);
    ``where_from`` names the source in messages."""
    where = f"broker = $broker AND {day['orders']} BETWEEN $lo AND $hi"
    params: dict[str, Any] = {"broker": broker, "lo": lo, "hi": hi}
    if customer is not None:
        where += " AND customer_id = $customer"
        params["customer"] = customer
    cols = _orders_columns(con, scan["orders"])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _r606_orders AS SELECT {cols} FROM {scan['orders']} "
        f"WHERE {where}",
        params,
    )
    try:
        out = {"orders": con.sql("SELECT * FROM _r606_orders").to_arrow_table()}
        for name in ("routes", "fills"):
            cols = ", ".join(f"t.{c}" for c in CANONICAL[name].names)
            out[name] = con.sql(
                f"SELECT {cols} FROM {scan[name]} t SEMI JOIN _r606_orders o "
                f"ON t.order_id = o.order_id WHERE {day[name]} BETWEEN $lo AND $hi "
                "ORDER BY t.order_id, t.seq",
                params={"lo": lo, "hi": hi},
            ).to_arrow_table()
        out["arrangements"] = con.sql(
            f"SELECT {', '.join(CANONICAL['arrangements'].names)} FROM {scan['arrangements']} "
            "WHERE broker = $broker",
            params={"broker": broker},
        ).to_arrow_table()
        if with_nbbo is None:
            with_nbbo = str(PaymentBasis.SPREAD_FRACTION) in set(
                out["arrangements"].column("basis").to_pylist()
            )
        if with_nbbo:
            if "nbbo" not in scan:
                raise InputError(
                    f"{where_from}: no nbbo table: the broker's arrangements pay a fraction "
                    "of the quoted spread, which needs the NBBO"
                )
            cols = ", ".join(f"n.{c}" for c in CANONICAL["nbbo"].names)
            out["nbbo"] = con.sql(
                f"SELECT {cols} FROM {scan['nbbo']} n WHERE {day['nbbo']} BETWEEN $lo AND $hi "
                "AND n.symbol IN (SELECT DISTINCT symbol FROM _r606_orders) "
                "ORDER BY n.symbol, n.ts",
                params={"lo": lo, "hi": hi},
            ).to_arrow_table()
    finally:
        con.execute("DROP TABLE IF EXISTS _r606_orders")
    return {k: v.cast(CANONICAL[k]) for k, v in out.items()}
