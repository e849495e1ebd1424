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
from pfof.engine.broker_quality import QUALITY_COLUMNS

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


def _quality_store(tmp_path: Path) -> Path:
    """A broker routing S&P 500 market orders 75 % to Alpha (MPID ALFA, a legacy 605 report
    of July 2026) and 25 % to Gamma (no 605 report), ingested by `pfof ingest`."""
    from pfof.formats.sec605_legacy import write_legacy
    from pfof.formats.sec606 import write_606
    from pfof.model.records605 import LegacyRecord
    from support.a1_reports import report, section, venue

    alpha = venue(
        "Alpha Securities LLC", "75.00", mpid="ALFA",
        market_pct="75.00", market_usd="30.00", market_cph="15.0000",
    )  # fmt: skip
    gamma = venue(
        "Gamma Markets", "25.00", mpid="GAMA",
        market_pct="25.00", market_usd="5.00", market_cph="20.0000",
    )  # fmt: skip
    xml = write_606(report("Broker Q", 2026, 3, [{"sp500": section(alpha, gamma)}]))
    (tmp_path / "broker-q-2026Q3.xml").write_bytes(xml)
    counts = dict.fromkeys(
        ["exec_0_9s", "exec_10_29s", "exec_30_59s", "exec_60_299s", "exec_5_30m"], 0
    )
    record = LegacyRecord(
        participant="T", market_center="ALFA", yyyymm=202607, symbol="AAPL", order_type=11,
        order_size=21, covered_orders=10, covered_shares=1000, cancelled_shares=0,
        exec_shares_mc=1000, exec_shares_away=0, **{**counts, "exec_0_9s": 1000},
        avg_realized_spread=D("0.0100"), avg_effective_spread=D("0.0200"),
        pi_shares=600, pi_avg_amount=D("0.0200"), pi_avg_time=D("0.0"),
        atq_shares=300, atq_avg_time=D("0.0"),
        otq_shares=100, otq_avg_amount=D("0.0100"), otq_avg_time=D("0.0"),
    )  # fmt: skip
    write_legacy([record], tmp_path / "ALFA_202607.txt")
    db = tmp_path / "quality.duckdb"
    result = runner.invoke(app, ["ingest", str(tmp_path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


D = Decimal


def test_brokers_quality_weights_605_improvement_by_606_routing(tmp_path: Path) -> None:
    db = _quality_store(tmp_path)
    out = runner.invoke(app, ["brokers", "--quality", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [(r["section"], r["order_type"]) for r in rows] == [
        ("sp500", "market"),
        ("all", "all"),
    ]
    sp = rows[0]
    # Alpha's net improvement: 100 x (600 x $0.02 - 100 x $0.01) / 1,000 shares = 1.1 c/share,
    # the only covered venue: 110 c per 100 shares; 75 of the 100 % routed are covered
    assert D(sp["pi_cents_per_100_shares"]) == D(110)
    assert D(sp["coverage_pct"]) == D(75)
    # PFOF: $35 over 30/15 + 5/20 = 2.25 (x 10,000 shares) -> 15.5556 c per 100 shares
    assert sp["pfof_cents_per_100_shares"] == "15.5556"
    assert D(sp["pi_per_pfof_dollar"]) == (D(110) / (D(35) / D("2.25"))).quantize(D("0.0001"))
    assert sp["unmatched_venues"] == [
        {"venue": "Gamma Markets", "key": "mpid:GAMA", "routed_pct": "25.00"}
    ]
    assert sp["months_605"] == ["2026-07"] and sp["all_stock_venues"] == ["Alpha Securities LLC"]
    # the library gives the same records from the store's path
    import pfof

    assert [q.to_json() for q in pfof.broker_quality(db)] == rows
    assert pfof.broker_quality(db, broker="Someone Else") == []

    out = runner.invoke(app, ["brokers", "--quality", "--db", str(db), "--csv"])
    assert out.exit_code == 0, out.output
    table = list(csv.DictReader(io.StringIO(out.stdout)))
    assert tuple(table[0]) == QUALITY_COLUMNS
    assert table[0]["unmatched_venues"] == "Gamma Markets (mpid:GAMA) 25.00%"

    out = runner.invoke(app, ["brokers", "--quality", "--db", str(db)], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    assert max(len(line) for line in out.stdout.splitlines() if "│" in line) <= 80
    assert "…" not in out.stdout
    flat = " ".join(out.stdout.split())
    for text in ("Broker Q", "2026 Q3", "S&P 500", "110.00", "15.56", "7.07", "75.00"):
        assert text in flat, text
    assert "no 605 data Broker Q 2026 Q3: Gamma Markets" in flat
    assert "no S&P 500 flag in the 605 reports of Alpha Securities LLC" in flat


def test_brokers_quality_without_605_data_says_so(shared_606: Path, tmp_path: Path) -> None:
    db = tmp_path / "only606.duckdb"
    runner.invoke(app, ["ingest", str(shared_606 / "firstrade"), "--db", str(db)])
    out = runner.invoke(app, ["brokers", "--quality", "--db", str(db)])
    assert out.exit_code == 0 and "no broker-quarter whose venues have Rule 605 data" in out.stdout
    out = runner.invoke(app, ["brokers", "--quality", "--db", str(db), "--json"])
    assert json.loads(out.stdout) == []
