"""Reading a broker's order logs from a dataset folder or a DuckDB store (store.order_logs).

The report built from what is read is checked in tests/engine/test_generate606.py against a
simulated run; here: the shapes, the filters and every error naming its path.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pfof.errors import InputError, ParameterError, StoreError
from pfof.model.tables import ARRANGEMENTS, CANONICAL
from pfof.store import layout
from pfof.store.canonical import create_table_sql, load_parquet_dir
from pfof.store.order_logs import load_order_logs

DAY = date(2026, 10, 1)
WINDOW = {"broker": "B", "start": "2026-10-01", "end": "2026-10-31"}


def arrangement(broker: str, basis: str) -> pa.Table:
    row = {
        "broker": broker,
        "venue": "CDRG",
        "section": "sp500",
        "order_type": "market",
        "basis": basis,
        "rate": Decimal("0.002"),
        "valid_from": DAY,
        "valid_to": None,
    }
    return pa.Table.from_pylist([row], schema=ARRANGEMENTS)


def dataset(root: Path, basis: str = "per_share", tables=("orders", "routes", "fills")) -> Path:
    """A dataset folder of empty day partitions and one arrangement of broker B."""
    for name in tables:
        target = layout.day_part(root, name, DAY)
        target.parent.mkdir(parents=True)
        pq.write_table(CANONICAL[name].empty_table(), target)
    pq.write_table(arrangement("B", basis), layout.table_file(root, "arrangements"))
    return root


def test_dataset_folder_and_duckdb_file_give_the_same_canonical_tables(tmp_path: Path) -> None:
    root = dataset(tmp_path / "data")
    got = load_order_logs(root, **WINDOW)
    assert set(got) == {"orders", "routes", "fills", "arrangements"}
    assert all(got[name].schema == CANONICAL[name] for name in got)
    assert got["arrangements"].num_rows == 1 and got["orders"].num_rows == 0
    db = tmp_path / "store.duckdb"
    load_parquet_dir(root, db)
    stored = load_order_logs(db, **WINDOW)
    assert all(stored[name].equals(got[name]) for name in got)


def test_other_brokers_arrangements_are_left_out(tmp_path: Path) -> None:
    root = dataset(tmp_path)
    assert load_order_logs(root, **{**WINDOW, "broker": "Other"})["arrangements"].num_rows == 0


def test_spread_fraction_arrangement_loads_the_nbbo(tmp_path: Path) -> None:
    root = dataset(tmp_path, "spread_fraction", ("orders", "routes", "fills", "nbbo"))
    got = load_order_logs(root, **WINDOW)
    assert got["nbbo"].schema == CANONICAL["nbbo"]


def test_spread_fraction_arrangement_without_nbbo_names_the_source(tmp_path: Path) -> None:
    root = dataset(tmp_path, "spread_fraction")
    with pytest.raises(InputError, match=re.escape(f"{tmp_path}: no nbbo table")):
        load_order_logs(root, **WINDOW)


def test_missing_source_names_the_path_and_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope: no such folder or file: expected a dataset"):
        load_order_logs(tmp_path / "nope", **WINDOW)


def test_missing_table_folder_names_the_folder(tmp_path: Path) -> None:
    dataset(tmp_path, tables=("orders",))
    with pytest.raises(InputError, match=r"routes: missing: expected the routes table"):
        load_order_logs(tmp_path, **WINDOW)


def test_missing_arrangements_file_names_the_file(tmp_path: Path) -> None:
    dataset(tmp_path)
    layout.table_file(tmp_path, "arrangements").unlink()
    with pytest.raises(InputError, match=r"arrangements\.parquet: missing"):
        load_order_logs(tmp_path, **WINDOW)


def test_unreadable_parquet_names_the_dataset(tmp_path: Path) -> None:
    dataset(tmp_path)
    layout.day_part(tmp_path, "orders", DAY).write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read the dataset's Parquet files"):
        load_order_logs(tmp_path, **WINDOW)


def test_corrupt_duckdb_file_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.duckdb"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"bad\.duckdb"):
        load_order_logs(path, **WINDOW)


def test_store_without_canonical_tables_names_what_is_missing() -> None:
    with pytest.raises(InputError, match="no orders, routes, fills, arrangements table"):
        load_order_logs(duckdb.connect(), **WINDOW)


def test_malformed_date_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="start must be a date"):
        load_order_logs(duckdb.connect(), broker="B", start="October", end="2026-10-31")


def test_logs_written_before_the_special_handling_column_still_load(tmp_path: Path) -> None:
    """``orders.special_handling`` is optional: an older dataset (one day without the
    column, one with it) and an older DuckDB store read it as null."""
    root = dataset(tmp_path / "data")
    old = CANONICAL["orders"].remove(CANONICAL["orders"].get_field_index("special_handling"))
    row = {f.name: None for f in old}
    row.update(order_id="old", broker="B", received_ts=datetime(2026, 10, 1, 14, tzinfo=UTC))
    pq.write_table(pa.Table.from_pylist([row], old), layout.day_part(root, "orders", DAY))
    later = date(2026, 10, 2)
    new = dict(row, order_id="new", received_ts=datetime(2026, 10, 2, 14, tzinfo=UTC))
    target = layout.day_part(root, "orders", later)
    target.parent.mkdir(parents=True)
    new["special_handling"] = "AON"
    pq.write_table(pa.Table.from_pylist([new], CANONICAL["orders"]), target)
    got = load_order_logs(root, **WINDOW)["orders"]
    assert got.schema == CANONICAL["orders"]
    ids, codes = got.column("order_id").to_pylist(), got.column("special_handling").to_pylist()
    assert dict(zip(ids, codes, strict=True)) == {"old": None, "new": "AON"}
    # a store whose orders table predates the column: reading fills nulls, loading adds it
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(create_table_sql("orders", old))
    con.register("t", pa.Table.from_pylist([row], old))
    con.execute("INSERT INTO orders SELECT * FROM t")
    con.unregister("t")
    for name in ("routes", "fills"):
        con.execute(create_table_sql(name, CANONICAL[name]))
    con.execute(create_table_sql("arrangements", ARRANGEMENTS))
    con.close()
    got = load_order_logs(db, **WINDOW)["orders"]
    assert got.column("special_handling").to_pylist() == [None]
    load_parquet_dir(root, db)  # adds the column to the old table, then loads both days
    got = load_order_logs(db, **WINDOW)["orders"]
    pairs = zip(
        got.column("order_id").to_pylist(), got.column("special_handling").to_pylist(), strict=True
    )
    assert sorted(pairs, key=str) == sorted([("old", None), ("old", None), ("new", "AON")], key=str)
