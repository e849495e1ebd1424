"""`pfof demo`: offline, on data pfof makes itself, through the real store."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
from typer.testing import CliRunner

from pfof.cli import app
from pfof.formats.sec606 import read_report
from pfof.model.rule606 import a1_cells
from pfof.sim.disclosures import BROKERS


def test_demo_stores_strict_valid_reports_and_compares_brokers(tmp_path):
    out = tmp_path / "demo"
    runner = CliRunner()
    result = runner.invoke(
        app, ["demo", "--out", str(out), "--quarters", "2"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    files = sorted((out / "606").glob("*.xml"))
    assert len(files) == 2 * len(BROKERS)
    expected: dict[str, Decimal] = {}
    for path in files:
        report = read_report(path, mode="strict")
        assert report.strict_valid
        total = sum((c.net_payment_usd or Decimal(0) for c in a1_cells(report.report)), Decimal(0))
        expected[report.report.bd] = expected.get(report.report.bd, Decimal(0)) + total
    for broker in BROKERS:
        assert broker.name in result.output

    con = duckdb.connect(str(out / "pfof.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from sources").fetchall() == [(len(files),)]
    finally:
        con.close()
    listed = runner.invoke(app, ["brokers", "--db", str(out / "pfof.duckdb"), "--json"])
    assert listed.exit_code == 0, listed.output
    totals: dict[str, Decimal] = {}
    for row in json.loads(listed.output):
        totals[row["broker"]] = totals.get(row["broker"], Decimal(0)) + Decimal(row["total_usd"])
    assert totals == expected

    again = runner.invoke(app, ["demo", "--out", str(out), "--quarters", "2"])
    assert again.exit_code == 0
    assert f"0 reports ingested, {len(files)} already stored" in again.output
