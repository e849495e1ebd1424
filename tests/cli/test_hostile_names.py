"""Names from files are data: Rich markup in them is printed, never parsed; control characters
are shown as visible escapes; CSV cells never start a formula; JSON keeps the exact values."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pfof.cli import app, print_error
from pfof.cli.safe_text import csv_cell, markup, visible
from pfof.errors import InputError
from support.hostile_inputs import (
    ESCAPE_FILE_NAME,
    FORMULA_NAME,
    MARKUP_NAME,
    no_raw_controls,
    with_names,
    zip_of,
)

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def hostile_store(schwab: Path, tmp_path: Path) -> Path:
    """A store holding Schwab's 2022 Q4 report with its top venue renamed to
    :data:`MARKUP_NAME` and its broker to :data:`FORMULA_NAME`."""
    xml = with_names(
        (schwab / "606-CHAS-2022Q4.xml").read_bytes(), venue=MARKUP_NAME, broker=FORMULA_NAME
    )
    report = tmp_path / "hostile.xml"
    report.write_bytes(xml)
    db = tmp_path / "hostile.duckdb"
    result = runner.invoke(app, ["ingest", str(report), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize(
    "args",
    [
        ["brokers"],
        ["brokers", "--wide"],
        ["venues", "--all"],
        ["venues", "--all", "--wide"],
    ],
    ids=" ".join,
)
def test_a_venue_named_with_markup_and_controls_prints_as_text(
    hostile_store: Path, args: list[str]
) -> None:
    result = runner.invoke(app, [*args, "--db", str(hostile_store)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "[link=https://evil.example]Citadel[/link]" in result.stdout
    assert "\\u202eabc" in result.stdout and "\\x9b31m" in result.stdout
    assert no_raw_controls(result.stdout)


def test_brokers_csv_neutralises_formulas_and_keeps_numbers(hostile_store: Path) -> None:
    as_csv = runner.invoke(app, ["brokers", "--csv", "--db", str(hostile_store)])
    as_json = runner.invoke(app, ["brokers", "--json", "--db", str(hostile_store)])
    assert as_csv.exit_code == 0 and as_json.exit_code == 0, as_csv.output
    (row,) = csv.DictReader(io.StringIO(as_csv.stdout))
    (record,) = json.loads(as_json.stdout)
    assert row["broker"] == "'" + FORMULA_NAME
    assert record["broker"] == FORMULA_NAME  # JSON keeps the exact value
    assert record["top_venue"] == MARKUP_NAME
    assert no_raw_controls(as_csv.stdout)
    for key, value in record.items():  # every figure is the same number in both
        if isinstance(value, str) and key not in ("broker", "top_venue"):
            assert row[key] == value, key


def test_csv_cells_starting_a_formula_get_a_quote_and_numbers_stay_numbers() -> None:
    for text in ("=1+1", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-x"):
        assert csv_cell(text) == "'" + visible(text)
    for number in ("-6.46", "-0.0233", "12", "0.5"):
        assert csv_cell(number) == number
    assert csv_cell("Charles Schwab") == "Charles Schwab"
    assert csv_cell(None) is None and csv_cell(3) == 3


def test_visible_spells_every_control_and_markup_escapes_tags() -> None:
    assert visible("a\x1b[31mb\x07\x9b\u202e\u2066\n") == "a\\x1b[31mb\\x07\\x9b\\u202e\\u2066\\n"
    assert visible("Café – 株式会社") == "Café – 株式会社"
    assert markup("[/]") == "\\[/]"


def test_ingest_prints_file_and_member_names_escaped(tmp_path: Path, schwab: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    report = (schwab / "606-CHAS-2022Q4.xml").read_bytes()
    (folder / f"{ESCAPE_FILE_NAME}.xml").write_bytes(report)
    (folder / "a.zip").write_bytes(
        zip_of({f"{ESCAPE_FILE_NAME}.txt": b"x", f"{ESCAPE_FILE_NAME}[1].xml": b"<x/>"})
    )
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1, result.output  # the member <x/> is rejected
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert no_raw_controls(result.output)
    assert "\\x1b]8;;evil.example\\x07x" in result.output
    assert "1 ingested" in result.output and "1 skipped" in result.output


def test_validators_print_file_names_escaped(tmp_path: Path, schwab: Path) -> None:
    xml = tmp_path / f"{ESCAPE_FILE_NAME}.xml"
    xml.write_bytes((schwab / "606-CHAS-2022Q4.xml").read_bytes())
    legacy = tmp_path / f"{ESCAPE_FILE_NAME}.txt"
    legacy.write_text("T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||\n")
    for args in (
        ["rule606", "validate", str(xml)],
        ["rule606", "summary", str(xml)],
        ["rule605", "validate", str(legacy)],
        ["rule605", "show", str(legacy)],
    ):
        result = runner.invoke(app, args, env=WIDE)
        assert result.exit_code == 0, (args, result.output)
        assert no_raw_controls(result.output), args
        assert "\\x1b[31m[link=evil.example]red" in result.output, args


def test_an_error_line_shows_controls_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    print_error(InputError(f"{ESCAPE_FILE_NAME}: cannot read"))
    err = capsys.readouterr().err
    assert no_raw_controls(err) and err.startswith("error: \\x1b]8;;")
