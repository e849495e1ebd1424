"""``pfof rule605 validate`` / ``show`` / ``summary`` and ``pfof market-centers`` on the SEC
samples and real legacy excerpts."""

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
    assert shown.exit_code == 0 and "AAPL" not in shown.output
    assert "marketable_limit" in shown.output and "near_quote_limit" in shown.output
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


# ---------------------------------------------------------------- summary, market-centers

LEGACY = ("sec-605", "legacy-real", "TVIRT_201612_first2000.txt")


def test_show_names_summary_order_types_and_sizes() -> None:
    path = str(oes("data", "sample.csv"))
    result = runner.invoke(app, ["rule605", "show", "--wide", path], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert any("<250" in r and "market" in r for r in rows)
    assert any("<200000" in r and "marketable_limit" in r for r in rows)
    assert not any("│ ML " in r or "│ M " in r for r in rows)


def test_summary_json_is_the_librarys_rows_with_the_issue_keys() -> None:
    import pfof

    paths = [str(shared_path(*LEGACY)), str(oes("data", "sample.csv"))]
    result = runner.invoke(app, ["rule605", "summary", "--json", *paths])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == pfof.rule605_summary(paths)
    assert list(rows[0]) == [
        "file", "format", "market_center", "month", "order_type", "size", "sp500", "orders",
        "shares", "executed_shares", "net_price_improvement_cents_per_share", "eq_ratio",
        "pct_improved", "pct_at_quote", "pct_outside", "avg_effective_spread",
        "avg_realized_spread",
    ]  # fmt: skip
    assert {r["format"] for r in rows} == {"legacy", "summary"}
    numbers = [v for r in rows for k, v in r.items() if k not in ("file", "sp500") and v]
    assert all(isinstance(v, str) for v in numbers)


def test_summary_csv_has_the_json_values(tmp_path: Path) -> None:
    import csv
    import io

    path = str(shared_path(*LEGACY))
    as_json = json.loads(runner.invoke(app, ["rule605", "summary", "--json", path]).output)
    result = runner.invoke(app, ["rule605", "summary", "--csv", path])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == len(as_json)
    for got, want in zip(rows, as_json, strict=True):
        assert got == {k: "" if v is None else v for k, v in want.items()}
    both = runner.invoke(app, ["rule605", "summary", "--csv", "--json", path])
    assert both.exit_code == 2


def test_summary_at_80_columns_reads_and_shows_the_figures() -> None:
    path = str(shared_path(*LEGACY))
    result = runner.invoke(app, ["rule605", "summary", path], env=NARROW)
    assert result.exit_code == 0, result.output
    _reads_at_80(result.output)
    [row] = [
        r
        for r in json.loads(runner.invoke(app, ["rule605", "summary", "--json", path]).output)
        if (r["order_type"], r["size"]) == ("marketable_limit", "100-499")
    ]
    shown = f"{float(row['net_price_improvement_cents_per_share']):.4f}"
    assert shown in result.output and "marketable_limit" in result.output


def test_summary_of_a_file_with_a_bad_line_reports_it_on_stderr(tmp_path: Path) -> None:
    good = shared_path(*LEGACY).read_text().splitlines()[:5]
    path = tmp_path / "TVIRT201612.txt"
    path.write_text("\n".join([*good, "T|TVIRT|201612|X|12"]) + "\n")
    result = runner.invoke(app, ["rule605", "summary", "--json", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 line with errors left out" in result.stderr
    assert sum(int(r["orders"]) for r in json.loads(result.stdout)) == sum(
        int(line.split("|")[6]) for line in good
    )


def _store(tmp_path: Path) -> Path:
    """A store that ``pfof ingest`` filled with two months of TVIRT and the SEC sample."""
    db = tmp_path / "s.duckdb"
    files = [
        shared_path("sec-605", "legacy-real", "TVIRT_201612_first2000.txt"),
        shared_path("sec-605", "legacy-real", "TVIRT_201708_first2000.txt"),
        oes("data", "sample.csv"),
    ]
    result = runner.invoke(app, ["ingest", *map(str, files), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def test_market_centers_json_csv_and_table_give_the_library_rows(tmp_path: Path) -> None:
    import pfof

    db = _store(tmp_path)
    result = runner.invoke(app, ["market-centers", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == pfof.market_center_quality(db)
    assert [(r["market_center"], r["month"]) for r in rows] == [
        ("TVIRT", "2016-12"),
        ("TVIRT", "2017-08"),
    ]
    csv_out = runner.invoke(app, ["market-centers", "--db", str(db), "--csv"]).output
    assert csv_out.splitlines()[0].startswith("market_center,month,format,orders,")
    assert rows[0]["net_price_improvement_cents_per_share"] in csv_out.splitlines()[1]
    table = runner.invoke(app, ["market-centers", "--db", str(db)], env=NARROW)
    assert table.exit_code == 0, table.output
    _reads_at_80(table.output)
    assert "2017-08" in table.output and f"{int(rows[0]['orders']):,}" in table.output
    missing = runner.invoke(app, ["market-centers", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2
