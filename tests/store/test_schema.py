"""Opening the DuckDB store (store.schema.connect) and its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pfof.errors import StoreError
from pfof.store.schema import REPORT_TABLES, connect


def test_connect_creates_the_schema_in_a_new_file(tmp_path: Path) -> None:
    con = connect(tmp_path / "new.duckdb")
    try:
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert {"pfof_meta", "sources", *REPORT_TABLES} <= tables


def test_connect_names_a_file_that_is_not_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"corrupt\.duckdb: cannot open as a DuckDB store"):
        connect(path)


def test_connect_read_only_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"missing\.duckdb: no such DuckDB file"):
        connect(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_connect_names_a_file_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('open', flush=True);"
            " sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=r"locked\.duckdb: cannot open .*lock"):
            connect(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
