"""Load simulated (or any canonical) Arrow/Parquet tables into DuckDB's canonical tables.

Tables are created from the Arrow schemas in ``pfof.model`` (``CREATE TABLE IF NOT EXISTS``)
and each trading day is inserted in one transaction, recorded in ``canonical_loads`` so that
loading the same day again is a no-op. Timestamps keep their nanoseconds
(``TIMESTAMPTZ_NS``) and money stays exact (``DECIMAL``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from pfof.errors import InputError
from pfof.model.ground_truth import GROUND_TRUTH
from pfof.model.tables import CANONICAL, with_optional_columns
from pfof.store import layout
from pfof.store.dataset import read_part
from pfof.store.schema import connect

#: Every table this module knows how to load, canonical first.
SCHEMAS: dict[str, pa.Schema] = {**CANONICAL, **GROUND_TRUTH}


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB column type holding an Arrow type without loss."""
    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_timestamp(t):
        if t.unit != "ns":
            raise ValueError(f"only nanosecond timestamps are canonical, got {t}")
        return "TIMESTAMPTZ_NS" if t.tz else "TIMESTAMP_NS"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    simple = {
        pa.float64(): "DOUBLE",
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    if t in simple:
        return simple[t]
    raise ValueError(f"no DuckDB mapping for Arrow type {t}")


def create_table_sql(name: str, schema: pa.Schema) -> str:
    cols = ",\n    ".join(f'"{f.name}" {duckdb_type(f.type)}' for f in schema)
    return f'CREATE TABLE IF NOT EXISTS "{name}" (\n    {cols}\n)'


def ensure_tables(con: duckdb.DuckDBPyConnection, names: list[str] | None = None) -> None:
    """Create the canonical (and ground-truth) tables and the load log if missing."""
    for name in names or list(SCHEMAS):
        con.execute(create_table_sql(name, SCHEMAS[name]))
        for f in SCHEMAS[name]:  # optional columns a store made before them lacks
            if (f.metadata or {}).get(b"pfof.optional"):
                column = f'"{f.name}" {duckdb_type(f.type)}'
                con.execute(f'ALTER TABLE "{name}" ADD COLUMN IF NOT EXISTS {column}')
    con.execute(
        "CREATE TABLE IF NOT EXISTS canonical_loads (day DATE, source VARCHAR, "
        "PRIMARY KEY (day, source))"
    )


def _insert(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    schema = SCHEMAS[name]
    try:
        table = with_optional_columns(table, schema).select(schema.names).cast(schema)
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"table {name!r} does not match its canonical schema: {exc}") from exc
    con.register("_pfof_load", table)
    try:
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _pfof_load')
    finally:
        con.unregister("_pfof_load")


def load_day(
    con: duckdb.DuckDBPyConnection, day: date, tables: Mapping[str, pa.Table], source: str = "sim"
) -> bool:
    """Insert one day's tables in a single transaction; False if it was already loaded."""
    ensure_tables(con)
    con.execute("BEGIN")
    try:
        seen = con.execute(
            "SELECT count(*) FROM canonical_loads WHERE day = ? AND source = ?", [day, source]
        ).fetchall()
        if seen[0][0]:
            con.execute("ROLLBACK")
            return False
        for name, table in tables.items():
            if name in SCHEMAS:
                _insert(con, name, table)
        con.execute("INSERT INTO canonical_loads VALUES (?, ?)", [day, source])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True


def replace_broker_rows(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Replace the rows of the brokers present in ``table`` (arrangements, payments) in one
    transaction, so that reloading a simulation does not double its payments."""
    ensure_tables(con)
    brokers = sorted(set(table.column("broker").to_pylist()))
    con.execute("BEGIN")
    try:
        if brokers:
            marks = ", ".join("?" for _ in brokers)
            con.execute(f'DELETE FROM "{name}" WHERE broker IN ({marks})', brokers)
        _insert(con, name, table)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def load_parquet_dir(
    out_dir: str | Path, db: str | Path | duckdb.DuckDBPyConnection, source: str | None = None
) -> dict[str, int]:
    """Load a dataset folder (:mod:`pfof.store.layout`, as ``pfof simulate`` writes it) into
    DuckDB; returns rows inserted per table. Day partitions already loaded from the same
    source are skipped.

    Raises :class:`~pfof.errors.InputError` naming the folder or file that is missing or
    unreadable, :class:`~pfof.errors.StoreError` when the DuckDB file cannot be opened.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise InputError(f"{out}: no such folder: expected a dataset folder ROOT/<table>/date=...")
    con = db if isinstance(db, duckdb.DuckDBPyConnection) else connect(db)
    source = source or str(out.resolve())
    counts: dict[str, int] = {}
    try:
        days: dict[date, dict[str, Path]] = {}
        for name in SCHEMAS:
            for day, part in layout.day_parts(out, name).items():
                days.setdefault(day, {})[name] = part
        for day in sorted(days):
            tables = {name: read_part(p) for name, p in days[day].items()}
            if load_day(con, day, tables, source):
                for name, t in tables.items():
                    counts[name] = counts.get(name, 0) + t.num_rows
        for name in ("arrangements", "payments"):
            path = layout.table_file(out, name)
            if path.exists():
                table = read_part(path)
                replace_broker_rows(con, name, table)
                counts[name] = table.num_rows
    finally:
        if not isinstance(db, duckdb.DuckDBPyConnection):
            con.close()
    return counts
