"""``pfof ingest``, ``pfof brokers`` and ``pfof venues`` through the Typer app."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from pfof.cli import app
from pfof.engine.broker_comparison import BROKER_QUARTER_COLUMNS

runner = CliRunner()


def test_ingest_then_brokers_give_the_schwab_2020_total_as_json_csv_and_table(
    shared_606: Path, tmp_path: Path
) -> None:
    db = tmp_path / "cli.duckdb"
    result = runner.invoke(
        app, ["ingest", str(shared_606 / "schwab"), str(shared_606 / "firstrade"), "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert "24 ingested" in result.output and "0 rejected" in result.output

    again = runner.invoke(app, ["ingest", str(shared_606 / "schwab"), "--db", str(db)])
    assert again.exit_code == 0 and "0 ingested (0 rows), 12 skipped" in again.output

    out = runner.invoke(app, ["brokers", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    records = json.loads(out.stdout)
    assert len(records) == 24
    schwab_2020 = [r for r in records if r["broker"] == "Charles Schwab" and r["year"] == 2020]
    assert sum(Decimal(r["total_usd"]) for r in schwab_2020) == Decimal("245463984.21")
    # quarter-over-quarter change agrees with the totals it is computed from
    by_quarter = {r["quarter"]: Decimal(r["total_usd"]) for r in schwab_2020}
    q2 = next(r for r in schwab_2020 if r["quarter"] == 2)
    assert Decimal(q2["qoq_change_usd"]) == by_quarter[2] - by_quarter[1]
    # Firstrade's two spellings of its own name are one broker with 12 quarters
    assert len({r["broker"] for r in records}) == 2
    assert any("Apex Clearing" in w for r in records for w in r["warnings"])

    out = runner.invoke(app, ["brokers", "--db", str(db), "--csv", "--year", "2020"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert tuple(rows[0]) == BROKER_QUARTER_COLUMNS and len(rows) == 8
    csv_total = sum(Decimal(r["total_usd"]) for r in rows if r["broker"] == "Charles Schwab")
    assert csv_total == Decimal("245463984.21")

    out = runner.invoke(app, ["brokers", "--db", str(db)], env={"COLUMNS": "250"})
    assert out.exit_code == 0 and "Charles Schwab" in out.stdout and "2020 Q1" in out.stdout

    out = runner.invoke(app, ["venues", "--db", str(db), "--json"])
    mapping = json.loads(out.stdout)
    apex = {m["name"] for m in mapping if m["key"] == "name:apex clearing"}
    assert apex == {"Apex Clearing", "Apex Clearing Corporation"}


def test_ingest_reports_rejections_and_exits_1(shared_606: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    bad = shared_606 / "broken" / "281065_606_NMS_2024_Q2.xml"
    good = shared_606 / "schwab" / "606-CHAS-2022Q4.xml"
    result = runner.invoke(app, ["ingest", str(bad), str(good), "--db", str(db)])
    assert result.exit_code == 1
    assert "1 ingested" in result.output and "1 rejected" in result.output
    assert "rMonthly[mon=4]/rOptions/rVenues/rVenue[1]/name" in result.output


def test_brokers_without_a_store_exits_2_saying_no_such_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["brokers", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no such store" in result.output


def test_brokers_prints_a_store_holding_amounts_older_pfof_let_in(
    schwab: Path, tmp_path: Path
) -> None:
    """Every later `pfof brokers` raised decimal.InvalidOperation on such a store."""
    from store.test_queries import oversized_store

    db = oversized_store(schwab, tmp_path)
    for extra in ([], ["--json"], ["--csv"]):
        out = runner.invoke(app, ["brokers", "--db", str(db), *extra], env={"COLUMNS": "200"})
        assert out.exit_code == 0, out.output
        assert "30000000000000000000053173743" in out.stdout.replace(",", "")  # net PFOF
