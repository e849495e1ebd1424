"""`pfof rule606 validate` and `pfof rule606 summary` on the shared SEC and real reports."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from conftest import shared_path
from pfof.cli import app

runner = CliRunner()


def test_summary_json_schwab_2020_total_is_exact():
    folder = shared_path("real-606", "schwab")
    files = [str(folder / f"606-CHAS-2020Q{q}.xml") for q in (1, 2, 3, 4)]
    result = runner.invoke(app, ["rule606", "summary", "--json", *files])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["quarter"] for r in rows] == [1, 2, 3, 4]
    assert sum(Decimal(r["total_usd"]) for r in rows) == Decimal("245463984.21")
    for row in rows:
        assert row["report"] == "a1" and row["broker"] == "Charles Schwab"
        assert row["strict_valid"] is True
        assert set(row["sections"]) == {"sp500", "other_stocks", "options"}
        assert set(row["order_types"]) == {
            "market",
            "marketable_limit",
            "non_marketable_limit",
            "other",
        }
        by_section = sum(Decimal(s["usd"]) for s in row["sections"].values())
        by_type = sum(Decimal(v) for v in row["order_types"].values())
        assert by_section == by_type == Decimal(row["total_usd"])
        for section in row["sections"].values():
            assert section["rate"] is None or Decimal(section["rate"]) > 0


def test_validate_goldman_fails_strict_passes_lenient():
    path = str(next(shared_path("real-606", "goldman-invalid").glob("*.xml")))
    strict = runner.invoke(app, ["rule606", "validate", "--strict", "--json", path])
    assert strict.exit_code == 1
    record = json.loads(strict.output)[0]
    assert not record["valid"] and not record["strict_valid"]
    assert any("[CphType]" in e for e in record["errors"])
    lenient = runner.invoke(app, ["rule606", "validate", "--json", path])
    assert lenient.exit_code == 0, lenient.output
    record = json.loads(lenient.output)[0]
    assert record["valid"] and any("[cph-decimals]" in w for w in record["warnings"])


def test_validate_with_official_xsd_agrees(tmp_path):
    xsd = shared_path("sec-606", "oh-20191231.xsd")
    good = shared_path("sec-606", "606a1_held_order_public_report.xml")
    ok = runner.invoke(app, ["rule606", "validate", "--strict", "--xsd", str(xsd), str(good)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.xml"
    bad.write_text(good.read_text().replace("<qtr>1</qtr>", "<qtr>5</qtr>", 1))
    failed = runner.invoke(app, ["rule606", "validate", "--json", "--xsd", str(xsd), str(bad)])
    assert failed.exit_code == 1
    record = json.loads(failed.output)[0]
    assert record["xsd_errors"] and any("[QuarterType]" in e for e in record["errors"])


def test_summary_rejects_broken_files_with_rule():
    folder = shared_path("real-606", "broken")
    result = runner.invoke(app, ["rule606", "summary", "--json", str(folder)])
    assert result.exit_code == 1
    rows = json.loads(result.output)
    assert len(rows) == len(list(folder.glob("*.xml")))
    for row in rows:
        assert row.get("rejected") is True
        assert all(e.endswith("]") for e in row["errors"])
