"""``pfof rule605 validate`` / ``show`` on the SEC samples and real legacy excerpts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import shared_path
from formats.test_sec605_summary import NG_VIOLATIONS
from pfof.cli import app

runner = CliRunner()


def oes(*parts: str) -> Path:
    return shared_path("sec-605", "oes", *parts)


def test_validate_sample_and_ng_json() -> None:
    ok = runner.invoke(app, ["rule605", "validate", "--json", str(oes("data", "sample.csv"))])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert (report["kind"], report["valid"], report["records"]) == ("summary", True, 35)
    bad = runner.invoke(
        app,
        [
            "rule605",
            "validate",
            "--json",
            "--metadata",
            str(oes("src", "oes-metadata.json")),
            str(oes("data", "ng.csv")),
        ],
    )
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert report["valid"] is False and report["errors"] == len(NG_VIOLATIONS)
    first = report["issues"][0]
    assert (first["line"], first["column"], first["constraint"]) == (2, "RptDate", "format")


def test_validate_text_output_names_row_column_constraint() -> None:
    result = runner.invoke(
        app,
        ["rule605", "validate", "--no-warnings", str(oes("data", "ng.csv"))],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1
    assert "AvgPctQuotSprd" in result.output and "primaryKey" in result.output
    assert "invalid" in result.output


def test_legacy_and_detailed_detection(tmp_path: Path) -> None:
    legacy = shared_path("sec-605", "legacy-real", "TVIRT_201612_selected_symbols.txt")
    result = runner.invoke(app, ["rule605", "validate", "--json", str(legacy)])
    assert result.exit_code == 0
    assert json.loads(result.output)["kind"] == "legacy"
    shown = runner.invoke(app, ["rule605", "show", str(legacy)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "AAPL" not in shown.output and "12" in shown.output
    broken = tmp_path / "broken.txt"
    broken.write_text(legacy.read_text().splitlines()[0] + "\n" + "T|TVIRT|201612|X|12\n")
    result = runner.invoke(app, ["rule605", "validate", "--json", str(broken)])
    assert result.exit_code == 1
    issue = json.loads(result.output)["issues"][0]
    assert (issue["line"], issue["constraint"]) == (2, "field-count")
    unknown = tmp_path / "x.csv"
    unknown.write_text("a,b,c\n1,2,3\n")
    result = runner.invoke(app, ["rule605", "validate", str(unknown)])
    assert result.exit_code == 2


def test_show_summary() -> None:
    result = runner.invoke(
        app, ["rule605", "show", str(oes("data", "sample.csv"))], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    assert "10360.6" in result.output and "35 records" in result.output
