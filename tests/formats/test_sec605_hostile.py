"""Hostile and careless Rule 605 files: negative counts, absurd magnitudes, undecodable bytes,
pipes and devices, endless lines, and files far larger than memory should hold."""

from __future__ import annotations

import os
import threading
import tracemalloc
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import shared_path
from pfof.errors import InputError
from pfof.formats.sec605 import read_605, validate_605
from pfof.formats.sec605_detailed import HEADER as DETAILED_HEADER
from pfof.formats.sec605_detailed import write_detailed
from pfof.model.records605 import DETAILED_FIELDS, DetailedRecord
from support.hostile_inputs import fifo, zero_symlink

LEGACY = "T|TVIRT|201612|AAPL|12|21|2|300|0|300|0|300|0|0|0|0|0.01|0.01|300|0.01|0.0|0|0.0|0|0|0.0"


def _legacy(**fields: str) -> str:
    """:data:`LEGACY` with fields (1-based positions, ``f7="-3"``) replaced."""
    cells = LEGACY.split("|")
    for key, value in fields.items():
        cells[int(key[1:]) - 1] = value
    return "|".join(cells)


def _detailed_record() -> DetailedRecord:
    defaults = {"str": "X", "yyyymm": 202608, "int": 1}
    record = DetailedRecord(*[defaults.get(kind) for _, _, kind in DETAILED_FIELDS])  # type: ignore[arg-type]
    return replace(record, covered_qty=Decimal(100), executed_qty=Decimal(100))


def _detailed_lines(**cells: str) -> list[str]:
    lines = write_detailed([_detailed_record()]).splitlines()
    row = lines[1].split("|")
    for header, value in cells.items():
        row[DETAILED_HEADER.index(header)] = value
    return [lines[0], "|".join(row)]


@pytest.mark.parametrize(
    ("line", "column"),
    [
        (_legacy(f7="-3"), "covered_orders"),
        (_legacy(f8="-300"), "covered_shares"),
        (_legacy(f19="-1"), "pi_shares"),
    ],
)
def test_a_negative_legacy_count_or_share_is_an_error_naming_the_rule(
    line: str, column: str
) -> None:
    verdict = validate_605([line])
    assert not verdict.valid
    (error,) = verdict.errors
    assert (error.rule, error.column, error.line) == ("non-negative", column, 1)
    assert "negative" in error.message


@pytest.mark.parametrize("header", ["CvrdOrderCnt", "CvrdOrderQty", "CvrdOrderExctdQty"])
def test_a_negative_detailed_count_or_share_is_an_error_naming_the_rule(header: str) -> None:
    verdict = validate_605(_detailed_lines(**{header: "-5"}))
    assert [(e.rule, e.column) for e in verdict.errors] == [("non-negative", header)]


def test_negative_spreads_stay_valid_figures() -> None:
    assert validate_605([_legacy(f17="-0.0233", f18="-0.01")]).valid
    assert validate_605(_detailed_lines(AvgEffctvSprd="-0.01", AvgRealSprd1sec="-0.2")).valid


@pytest.mark.parametrize("value", ["9" * 40, "9" * 5000, "1" + "0" * 18, "0." + "0" * 100 + "1"])
def test_a_number_beyond_what_a_605_figure_can_be_is_a_range_error(value: str) -> None:
    for lines, column in (
        ([_legacy(f8=value if "." not in value else "1", f17=value)], "avg_realized_spread"),
        (_detailed_lines(AvgEffctvSprd=value), "AvgEffctvSprd"),
    ):
        verdict = validate_605(lines)
        assert column in {e.column for e in verdict.errors if e.rule == "range"}, value


def test_a_summary_figure_with_a_huge_exponent_is_refused_and_show_never_crashes(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from pfof.cli import app

    lines = shared_path("sec-605", "oes", "data", "sample.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[8] = "1e999999999"  # ExctdOrderMidPtAvg: a valid float lexically, absurd as a price
    path = tmp_path / "s.csv"
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n")
    verdict = validate_605(path)
    assert [(e.rule, e.column) for e in verdict.errors] == [("range", "ExctdOrderMidPtAvg")]
    for command in ("validate", "show"):
        result = CliRunner().invoke(app, ["rule605", command, "--wide", str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), command
        assert result.exit_code in (0, 1) and len(result.output) < 10_000, command


def test_undecodable_bytes_name_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(f"{LEGACY}\n{LEGACY}\n".encode() + "T|TVIRT|201612|É|".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.txt: line 3: not UTF-8 text"):
        read_605(path)


def _refused_quickly(path: Path) -> InputError:
    """read_605(path) raises InputError within 5 s (a hang would block the test run, so a
    writer is attached to unblock a FIFO if it came to that)."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            read_605(path)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive() and path.is_fifo():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # release the blocked reader
        worker.join(5)
    assert outcome and isinstance(outcome[0], InputError), outcome
    return outcome[0]


def test_a_fifo_is_refused_as_not_a_regular_file(tmp_path: Path) -> None:
    error = _refused_quickly(fifo(tmp_path, "pipe.txt"))
    assert "not a regular file" in str(error)


def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    error = _refused_quickly(zero_symlink(tmp_path, "zero.txt"))
    assert "not a regular file" in str(error)


def test_an_endless_line_is_refused_naming_its_number(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(LEGACY + "\n" + "9" * 2_000_000)
    with pytest.raises(InputError, match=r"long\.txt: line 2 is longer than"):
        validate_605(path)


def _peak_kib(call: object) -> int:
    tracemalloc.start()
    try:
        call()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1] // 1024
    finally:
        tracemalloc.stop()


def test_validating_a_detailed_file_streams_its_rows(tmp_path: Path) -> None:
    """Memory does not grow with the rows: 20,000 rows (about 100 MB as records) validate
    within a few MB, as a scan does."""
    path = tmp_path / "big.txt"
    text = write_detailed([_detailed_record()]).splitlines()
    with path.open("w") as out:
        out.write(text[0] + "\n")
        for i in range(20_000):
            out.write(text[1].replace("|X|X|", f"|X|S{i}|", 1) + "\n")
    peak = _peak_kib(lambda: validate_605(path, kind="detailed"))
    assert peak < 8 * 1024, f"{peak} KiB"
    totals: list[int] = []
    from pfof.formats.sec605 import scan_605

    scan = scan_605(path, on_record=lambda record: totals.append(record.covered_orders or 0))
    assert (scan.records, sum(totals), scan.valid) == (20_000, 20_000, True)


def test_a_summary_file_far_longer_than_any_report_is_refused(tmp_path: Path) -> None:
    header = shared_path("sec-605", "oes", "data", "sample.csv").read_text().splitlines()[0]
    path = tmp_path / "long.csv"
    path.write_text(header + "\n" + "S,X,202501,Y,0,M\n" * 200_000)
    with pytest.raises(InputError, match=r"long\.csv: more than [\d,]+ lines"):
        validate_605(path)
