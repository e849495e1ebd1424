"""``pfof simulate``: a small market written as Parquet and loaded into DuckDB; bad input
refused with the expected format named."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from pfof.cli import app


def test_simulate_writes_the_days_and_loads_every_order_into_duckdb(tmp_path: Path) -> None:
    out = tmp_path / "out"
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--days",
            "2",
            "--symbols",
            "5",
            "--orders-per-day",
            "300",
            "--quotes-per-day",
            "3000",
            "--seed",
            "3",
            "--start",
            "2026-11-27",
            "--db",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "payments" in result.output and "2026-11-27" in result.output
    assert (out / "payments.parquet").exists()
    assert sorted(p.name for p in (out / "orders").iterdir()) == [
        "date=2026-11-27",
        "date=2026-11-30",
    ]
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == 600
    con.close()


def test_simulate_refuses_a_start_date_that_is_not_iso(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--start", "27/11"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
