"""``pfof rule605 validate`` / ``show`` on the SEC samples and real legacy excerpts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import shared_path
from formats.test_sec605_summary import NG_VIOLATIONS, PK
from pfof.cli import app

runner = CliRunner()
NARROW = {"COLUMNS": "80"}


def oes(*parts: str) -> Path:
    return shared_path("sec-605", "oes", *parts)


def test_validate_json_passes_the_sample_and_counts_every_ng_violation() -> None:
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
    rows = [
        [cell.strip() for cell in line.split("│")[1:4]]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]  # each issue's table row: line, column, constraint
    assert ["6", "AvgPctQuotSprd", "minimum"] in rows
    assert ["32", PK, "primaryKey"] in rows


def test_legacy_files_are_detected_bad_lines_reported_and_unknown_formats_exit_2(
    tmp_path: Path,
) -> None:
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


def test_show_summary_prints_the_sample_values_and_record_count() -> None:
    result = runner.invoke(
        app, ["rule605", "show", str(oes("data", "sample.csv"))], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    assert "10360.6" in result.output and "35 records" in result.output


def _reads_at_80(output: str) -> None:
    """No cell cut to ``0.98…`` and no line of a table wider than the terminal."""
    assert "…" not in output
    table_lines = [line for line in output.splitlines() if line[:1] in "┏┃│├└┡┗"]
    assert all(len(line) <= 80 for line in table_lines)


def test_show_summary_at_80_columns_splits_the_columns_into_parts() -> None:
    result = runner.invoke(app, ["rule605", "show", str(oes("data", "sample.csv"))], env=NARROW)
    assert result.exit_code == 0, result.output
    _reads_at_80(result.output)
    assert "part 1 of" in result.output and "10360.6" in result.output
    for label in ("at/better", "quoted %", "RS 1m %", "ms"):
        assert label in result.output, label


def test_show_summary_wide_prints_one_table() -> None:
    path = str(oes("data", "sample.csv"))
    result = runner.invoke(app, ["rule605", "show", "--wide", path], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "part 1" not in result.output
    assert any("10360.6" in line and "at/better" not in line for line in result.output.splitlines())


def test_validate_at_80_columns_prints_one_line_per_issue() -> None:
    path = str(oes("data", "ng.csv"))
    result = runner.invoke(app, ["rule605", "validate", "--no-warnings", path], env=NARROW)
    assert result.exit_code == 1
    assert "…" not in result.output
    issues = [line for line in result.output.splitlines() if line.startswith("  error ")]
    assert len(issues) == len(NG_VIOLATIONS)
    assert any("line 32, " in line and "[primaryKey]" in line for line in issues)


def test_validate_strict_fails_a_file_with_warnings_only(tmp_path: Path) -> None:
    lines = oes("data", "sample.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[7] = "9999"  # average notional outside its size bucket: a warning
    lines[1] = ",".join(cells)
    path = tmp_path / "bucket.csv"
    path.write_text("\n".join(lines) + "\n")
    lenient = runner.invoke(app, ["rule605", "validate", "--json", str(path)])
    assert lenient.exit_code == 0 and json.loads(lenient.output)["warnings"] == 1
    strict = runner.invoke(app, ["rule605", "validate", "--strict", "--json", str(path)])
    assert strict.exit_code == 1
    report = json.loads(strict.output)
    assert (report["errors"], report["warnings"]) == (1, 0)
    assert report["issues"][0]["constraint"] == "order-size-bucket"
