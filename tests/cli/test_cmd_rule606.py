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


def test_validate_with_official_xsd_passes_the_sample_and_fails_a_bad_quarter(tmp_path):
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


def _reads_at_80(output: str) -> None:
    """No cell cut to ``Rob…`` and no line wider than the terminal."""
    assert "…" not in output
    assert max(len(line) for line in output.splitlines()) <= 80


def test_summary_at_80_columns_prints_a_block_per_report_with_every_figure():
    folder = shared_path("real-606", "schwab")
    files = [str(folder / f"606-CHAS-2020Q{q}.xml") for q in (1, 2)]
    result = runner.invoke(app, ["rule606", "summary", *files], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    _reads_at_80(result.output)
    for figure in (
        "606-CHAS-2020Q1.xml",
        "Charles Schwab",
        "2020 Q2",
        "53,577,202.81",  # Q1 total
        "5,963,119.10  rate 12.5639",  # Q1 S&P 500 USD and rate on one row
        "28,511,592.51  rate 35.5637",  # Q1 options
    ):
        assert figure in result.output, figure


def test_summary_wide_keeps_one_row_per_report():
    path = str(shared_path("real-606", "schwab", "606-CHAS-2020Q1.xml"))
    result = runner.invoke(app, ["rule606", "summary", "--wide", path], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "606-CHAS-2020Q1.xml" in line)
    assert "Charles Schwab" in row and "53,577,202.81" in row and "35.5637" in row


def test_summary_at_80_columns_shows_rejected_reports_and_one_line_per_error():
    folder = shared_path("real-606", "broken")
    result = runner.invoke(app, ["rule606", "summary", str(folder)], env={"COLUMNS": "80"})
    assert result.exit_code == 1
    assert "rejected" in result.output and "12345_606_NMS_2025_Q1_from_pdf.xml" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error ")]
    assert errors and all(line.rstrip().endswith("]") for line in errors)


def test_validate_unreadable_file_is_an_invalid_record_naming_it(tmp_path):
    missing = tmp_path / "absent.xml"
    result = runner.invoke(app, ["rule606", "validate", "--json", str(missing)])
    assert result.exit_code == 1
    (record,) = json.loads(result.output)
    assert (record["file"], record["report"], record["valid"]) == (str(missing), None, False)
    assert "absent.xml" in record["errors"][0]


def test_validate_with_an_unusable_xsd_exits_2_naming_it(tmp_path):
    xsd = tmp_path / "not-a-schema.xsd"
    xsd.write_text("<root/>")
    good = shared_path("sec-606", "606a1_held_order_public_report.xml")
    result = runner.invoke(app, ["rule606", "validate", "--xsd", str(xsd), str(good)])
    assert result.exit_code == 2
    assert "not-a-schema.xsd" in result.output


def test_validate_and_summary_refuse_a_30_digit_amount_by_rule_name(tmp_path):
    """`validate` called such a file valid and `summary` then crashed with InvalidOperation."""
    from support.report_copies import SCHWAB_Q1_CELL, replace_once

    data = shared_path("real-606", "schwab", "606-CHAS-2020Q1.xml").read_bytes()
    usd = b"<netPmtPaidRecvMarketOrdersUsd>%s.00</netPmtPaidRecvMarketOrdersUsd>" % (b"9" * 30)
    path = tmp_path / "huge.xml"
    path.write_bytes(replace_once(data, SCHWAB_Q1_CELL, usd))
    validate = runner.invoke(app, ["rule606", "validate", str(path)])
    assert validate.exit_code == 1 and "INVALID" in validate.output
    assert "[figure-range]" in validate.output and "30 digits" in validate.output
    summary = runner.invoke(app, ["rule606", "summary", "--json", str(path)])
    assert summary.exit_code == 1 and "figure-range" in summary.output
    assert summary.exception is None or isinstance(summary.exception, SystemExit)
