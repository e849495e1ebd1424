"""Output contract: canonical schemas, byte-identical files for a seed, day independence,
the DuckDB loader and the ``pfof simulate`` command."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pfof.cli import app
from pfof.model.ground_truth import GROUND_TRUTH
from pfof.model.tables import CANONICAL
from pfof.sim.calendar import trading_sessions
from pfof.sim.config import SimConfig
from pfof.sim.day import DAY_TABLES, simulate_day
from pfof.sim.run import simulate
from pfof.sim.universe import build_universe

SMALL = SimConfig(
    days=2,
    start=date(2026, 11, 27),
    symbols=6,
    orders_per_day=800,
    quotes_per_day=6_000,
    option_series=2,
    seed=11,
)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_schemas_are_canonical(tiny_out: Path) -> None:
    schemas = {**CANONICAL, **GROUND_TRUTH}
    for name in DAY_TABLES:
        parts = sorted((tiny_out / name).glob("date=*/part-0.parquet"))
        assert len(parts) == 3, name
        for p in parts:
            assert pq.read_schema(p).equals(schemas[name]), p
    for name in ("arrangements", "payments"):
        assert pq.read_schema(tiny_out / f"{name}.parquet").equals(CANONICAL[name])


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    simulate(SMALL, tmp_path / "a")
    simulate(SMALL, tmp_path / "b")
    simulate(replace(SMALL, seed=12), tmp_path / "c")
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b and len(a) == len(DAY_TABLES) * 2 + 2
    assert a["quotes/date=2026-11-27/part-0.parquet"] != c["quotes/date=2026-11-27/part-0.parquet"]


def test_days_are_independent_of_the_run_length() -> None:
    """Day k of a run does not depend on how many days follow it (streaming by day)."""
    short, long = replace(SMALL, days=1), replace(SMALL, days=3)
    s = trading_sessions(SMALL.start, 1)[0]
    one = simulate_day(short, build_universe(short, s.day), s).tables
    three = simulate_day(long, build_universe(long, s.day), s).tables
    for name in DAY_TABLES:
        assert one[name].equals(three[name]), name


def test_load_into_duckdb_is_idempotent(tiny_out: Path, tmp_path: Path) -> None:
    from pfof.store.canonical import load_parquet_dir

    db = tmp_path / "sim.duckdb"
    counts = load_parquet_dir(tiny_out, db)
    again = load_parquet_dir(tiny_out, db)
    assert "quotes" not in again  # days already loaded are skipped
    con = duckdb.connect(str(db))
    for name, n in counts.items():
        assert con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] == n, name
    paid = con.execute("SELECT sum(amount) FROM payments").fetchall()[0][0]
    per_fill = con.execute("SELECT sum(pfof_usd) FROM fill_economics").fetchall()[0][0]
    assert paid == per_fill and paid != 0
    ns = con.execute("SELECT count(*) FROM quotes WHERE epoch_ns(ts) % 1000 <> 0").fetchall()
    assert ns[0][0] > 0  # nanoseconds survive
    con.close()


def test_cli_simulate_smoke(tmp_path: Path) -> None:
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


def test_cli_rejects_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--start", "27/11"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_demo_preset_is_one_broker_four_wholesalers() -> None:
    cfg = SimConfig.demo()
    cfg.validate()
    assert len(cfg.brokers) == 1 and len(cfg.brokers[0].wholesalers) == 4
    assert cfg.days >= 20


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown exchange MIC"):
        replace(SMALL, exchanges=("XNYS", "NOPE")).validate()


def test_in_memory_day_equals_written_day(tiny_out: Path, tiny_config: SimConfig) -> None:
    from pfof.sim import day_tables

    tables = day_tables(tiny_config, 1)
    for name in DAY_TABLES:
        written = pq.read_table(tiny_out / name / "date=2026-11-27" / "part-0.parquet")
        assert written.equals(tables[name]), name
