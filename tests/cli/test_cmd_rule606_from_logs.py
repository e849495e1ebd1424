"""``pfof rule606 generate`` and ``pfof rule606 customer``: 606 reports from the session's
simulated order logs, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from typer.testing import CliRunner

from conftest import SIM_CONFIG, SimMarket
from pfof.cli import app
from pfof.formats.sec606 import read_606
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import HeldOrderRoutingReport
from pfof.sim.brokers import RoutingPolicy

ZEROFEE, SPLIT = (
    next(b.name for b in SIM_CONFIG.brokers if b.policy is policy)
    for policy in (RoutingPolicy.MAX_PFOF, RoutingPolicy.FIXED_SPLIT)
)


def busiest_options_customer(orders: pa.Table, broker: str) -> str:
    """The customer of ``broker`` with the most option orders."""
    mine = orders.filter(
        pc.and_(pc.equal(orders["broker"], broker), pc.equal(orders["section"], "options"))
    )
    counts = mine.group_by("customer_id").aggregate([("order_id", "count")])
    rows = sorted(counts.to_pylist(), key=lambda r: (-r["order_id_count"], r["customer_id"]))
    return str(rows[0]["customer_id"])


def test_generate_writes_a_strict_valid_report_and_prints_its_total(
    sim_market: SimMarket, tmp_path: Path
) -> None:
    out = sim_market.out
    target = tmp_path / "a1.xml"
    result = CliRunner().invoke(
        app,
        [
            "rule606",
            "generate",
            "--data",
            str(out),
            "--broker",
            SPLIT,
            "--year",
            "2026",
            "--quarter",
            "4",
            "--out",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    report = read_606(target, strict=True).report
    assert isinstance(report, HeldOrderRoutingReport) and report.bd == SPLIT
    total = sum(
        v.usd(t)
        for m in report.months
        for s in Section
        if m.section(s)
        for v in m.section(s).venues
        for t in OrderType
    )
    assert f"${total:,.2f}" in result.output
    assert "strict-valid" in result.output


def test_customer_prints_strict_valid_xml_and_its_summary(sim_market: SimMarket) -> None:
    out = sim_market.out
    customer = busiest_options_customer(sim_market.read_all("orders"), ZEROFEE)
    result = CliRunner().invoke(
        app,
        [
            "rule606",
            "customer",
            "--data",
            str(out),
            "--broker",
            ZEROFEE,
            "--customer",
            customer,
            "--from",
            "2026-11-27",
            "--to",
            "2026-12-01",
        ],
    )
    assert result.exit_code == 0, result.output
    report = read_606(result.stdout.encode(), strict=True).report
    assert report.customer == customer
    n = len(report.held) + len(report.not_held_exempt) + len(report.options)
    assert n > 0 and "strict-valid" in result.stderr


def test_customer_refuses_missing_source_backwards_dates_and_a_non_duckdb_file(
    sim_market: SimMarket, tmp_path: Path
) -> None:
    out = sim_market.out
    base = ["rule606", "customer", "--broker", ZEROFEE, "--customer", "x"]
    both = CliRunner().invoke(app, [*base, "--from", "2026-10-29", "--to", "2026-11-02"])
    assert both.exit_code != 0  # neither --data nor --db
    backwards = CliRunner().invoke(
        app, [*base, "--data", str(out), "--from", "2026-11-02", "--to", "2026-10-29"]
    )
    assert backwards.exit_code != 0 and "before" in backwards.output
    not_a_db = tmp_path / "x.duckdb"
    not_a_db.write_text("hello")
    bad = CliRunner().invoke(
        app, [*base, "--db", str(not_a_db), "--from", "2026-10-29", "--to", "2026-11-02"]
    )
    assert bad.exit_code == 1 and "x.duckdb: cannot open as a DuckDB store" in bad.output
