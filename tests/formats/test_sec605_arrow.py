"""The Arrow reader of Rule 605 files against the row readers: same records, same verdicts.

``scan_605_batches`` must read every file ``scan_605`` reads into the same values, refuse the
same lines with the same rules and raise the same consistency warnings (file, line, column,
message), whatever the mutation; on top, it lists the real-world deviations.
"""

from __future__ import annotations

import random
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from conftest import shared_path
from pfof.errors import Issue, Severity
from pfof.formats import sec605_arrow
from pfof.formats.sec605 import UnknownFormatError, scan_605
from pfof.formats.sec605_arrow import (
    DECIMAL_TYPE,
    DEVIATION_RULES,
    arrow_schema,
    read_605_arrow,
    scan_605_batches,
)
from pfof.formats.sec605_detailed import HEADER, write_detailed
from pfof.formats.sec605_summary import write_summary
from pfof.model.records605 import DetailedRecord, LegacyRecord, SummaryRecord, field_names
from support.files605 import detailed_file, legacy_file

RECORD_TYPES = {"legacy": LegacyRecord, "detailed": DetailedRecord, "summary": SummaryRecord}


def _key(issue: Issue) -> tuple[object, ...]:
    return (issue.line, issue.rule, issue.severity.value, issue.column, issue.message, issue.file)


def assert_same_verdict(source: Path | bytes, name: str = "f.txt") -> sec605_arrow.Arrow605File:
    """Both readers agree on ``source``: records (value by value) and issues."""
    records: list[object] = []
    lines = source.read_bytes() if isinstance(source, Path) else source
    text = lines.decode("utf-8")
    stream = [line for line in text.splitlines()]
    row = scan_605(stream, on_record=records.append)
    arrow = read_605_arrow(lines, name="")
    assert arrow.kind == row.kind
    assert arrow.table.schema == arrow_schema(arrow.kind)
    expected = [{f.name: getattr(r, f.name) for f in fields(r)} for r in records]  # type: ignore[arg-type]
    assert arrow.table.to_pylist() == expected
    ours = sorted(_key(i) for i in arrow.issues if i.rule not in DEVIATION_RULES)
    assert ours == sorted(_key(i) for i in row.issues)
    return arrow


def real(name: str) -> Path:
    return shared_path("sec-605", "legacy-real", name)


@pytest.mark.parametrize(
    "name",
    [
        "TVIRT_201612_first2000.txt",
        "TVIRT_201612_selected_symbols.txt",
        "TVIRT_201708_first2000.txt",
        "TVIRT_201708_selected_symbols.txt",
    ],
)
def test_real_legacy_files_read_to_the_row_readers_records(name: str) -> None:
    parsed = assert_same_verdict(real(name))
    assert parsed.kind == "legacy" and parsed.table.num_rows in (2000, 96, 94)


@pytest.mark.parametrize("name", ["sample.csv", "ng.csv"])
def test_the_secs_summary_samples_get_the_row_readers_verdict(name: str) -> None:
    parsed = assert_same_verdict(shared_path("sec-605", "oes", "data", name))
    assert parsed.kind == "summary"
    assert any(i.severity is Severity.ERROR for i in parsed.issues) == (name == "ng.csv")


def test_generated_files_agree_and_carry_exact_decimals(tmp_path: Path) -> None:
    legacy = assert_same_verdict(legacy_file(tmp_path / "l.txt", 3000, seed=1))
    detailed = assert_same_verdict(detailed_file(tmp_path / "d.txt", 3000, seed=2))
    assert legacy.table.num_rows == 3000 and detailed.table.num_rows == 3000
    assert not legacy.issues and not detailed.issues  # consistent by construction
    assert detailed.table.schema.field("avg_midpoint").type == DECIMAL_TYPE
    # exact: the text "0.0100" is the decimal 0.01, not a float near it
    line = (
        b"T|TVIRT|201612|A|12|21|1|100|0|100|0|100|0|0|0|0|0.0100|0.0300|100|0.0001|0.1|0|0.0|0"
        b"|0.0000|0.0\n"
    )
    table = read_605_arrow(line).table
    assert table.column("avg_realized_spread")[0].as_py() == Decimal("0.01")
    assert table.column("pi_avg_amount")[0].as_py() == Decimal("0.0001")


def test_writers_output_reads_back_through_arrow(tmp_path: Path) -> None:
    base = read_605_arrow(detailed_file(tmp_path / "d.txt", 20, seed=5)).table
    records = [DetailedRecord(**row) for row in base.to_pylist()]
    text = write_detailed(records)
    assert read_605_arrow(text.encode()).table.equals(base)
    summary = read_605_arrow(shared_path("sec-605", "oes", "data", "sample.csv")).table
    again = write_summary([SummaryRecord(**row) for row in summary.to_pylist()])
    assert read_605_arrow(again.encode()).table.equals(summary)


def test_batches_have_the_record_attribute_names_and_at_most_batch_rows(tmp_path: Path) -> None:
    path = legacy_file(tmp_path / "l.txt", 1000, seed=3)
    batches = list(scan_605_batches(path, batch_rows=300))
    sizes = [b.num_rows for _, b in batches]
    assert sum(sizes) == 1000 and max(sizes) == 300 and len(sizes) >= 4
    whole = list(scan_605_batches(path))  # ~110 bytes a line: one block holds the file
    assert [b.num_rows for _, b in whole] == [1000]
    for kind, batch in batches:
        assert kind == "legacy"
        assert tuple(batch.schema.names) == field_names(LegacyRecord)
    for name, record_type in RECORD_TYPES.items():
        assert tuple(arrow_schema(name).names) == field_names(record_type)  # type: ignore[arg-type]
    schema = arrow_schema("legacy")
    assert schema.field("symbol").type == pa.string()
    assert schema.field("covered_shares").type == pa.int64()
    assert arrow_schema("summary").field("sp500").type == pa.bool_()


# ---------------------------------------------------------------- mutations

HOSTILE_CELLS = [
    "", " ", " 12 ", "+5", "-3", "-0", "1e3", "1E-2", "0x10", "1.1234567890120",
    "1.1234567890123", "12x00", "9" * 16, "0000000000000000007", "1.5", ".5", "5.", "-.5",
    "abc", "12.0", "--1", "1-2", "nan", "202613", "20161", "7", "1" * 15, "99999999999999.9",
]  # fmt: skip


def _mutate(lines: list[str], rng: random.Random, header: bool) -> list[str]:
    out = list(lines)
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(1 if header else 0, len(out))
        parts = out[index].split("|")
        action = rng.random()
        if action < 0.75:
            parts[rng.randrange(len(parts))] = rng.choice(HOSTILE_CELLS)
            out[index] = "|".join(parts)
        elif action < 0.85:
            del parts[rng.randrange(len(parts))]
            out[index] = "|".join(parts)
        elif action < 0.93:
            out.insert(index, rng.choice(["", "   ", "\t"]))
        else:
            out[index] = out[index] + "|"
    return out


@pytest.mark.parametrize("kind", ["legacy", "detailed"])
def test_mutated_files_get_the_row_readers_verdict(kind: str, tmp_path: Path) -> None:
    if kind == "legacy":
        base = real("TVIRT_201708_selected_symbols.txt").read_text().splitlines()[:40]
    else:
        base = detailed_file(tmp_path / "d.txt", 40, seed=7).read_text().splitlines()
    rng = random.Random(605)
    for trial in range(150):
        lines = _mutate(base, rng, header=kind == "detailed")
        end = "\r\n" if trial % 3 == 0 else "\n"
        data = (end.join(lines) + end).encode()
        try:
            assert_same_verdict(data)
        except AssertionError as exc:
            raise AssertionError(f"trial {trial}: {lines}") from exc


def test_line_numbers_count_blank_lines_and_refused_rows_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows far apart, blank lines and a refused row deep inside a multi-block file keep
    their file lines (pyarrow skips blank lines and cannot number rows on threads)."""
    monkeypatch.setattr(sec605_arrow, "BLOCK_BYTES", 1 << 16)
    lines = legacy_file(tmp_path / "l.txt", 5000, seed=9).read_text().splitlines()
    lines[10] = ""
    lines[2500] = lines[2500] + "|extra"
    lines[3000] = lines[3000].replace("|TVIRT|", "|TVIRT||", 1)
    lines[4000] = "  "
    parts = lines[4500].split("|")
    parts[7] = str(int(parts[7]) + 1)  # covered shares no longer accounted for
    lines[4500] = "|".join(parts)
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "m.txt"
    path.write_bytes(data)
    parsed = assert_same_verdict(data)
    lines_of = {(i.rule, i.line) for i in parsed.issues}
    assert {("field-count", 2501), ("field-count", 3001), ("shares-accounted", 4501)} <= lines_of
    # the same from a path (threads first, then the restart on one thread)
    issues: list[Issue] = []
    opened: list[bool] = []
    open_csv = sec605_arrow._open_csv

    def counted(state: Any, block: int, threads: bool) -> Any:
        opened.append(threads)
        return open_csv(state, block, threads)

    monkeypatch.setattr(sec605_arrow, "_open_csv", counted)
    rows = sum(b.num_rows for _, b in scan_605_batches(path, name="", issues=issues))
    assert opened == [True, False]  # on threads until the refused row, then on one thread
    assert rows == 4997 - 1 and sorted(map(_key, issues)) == sorted(_key(i) for i in parsed.issues)


def test_unknown_or_empty_input_is_refused_like_the_row_reader() -> None:
    with pytest.raises(UnknownFormatError):
        list(scan_605_batches(b"<?xml version='1.0'?><a/>"))
    with pytest.raises(UnknownFormatError):
        list(scan_605_batches(b""))
    header_only = ("|".join(HEADER) + "\n").encode()
    parsed = read_605_arrow(header_only)
    assert parsed.kind == "detailed" and parsed.table.num_rows == 0 and not parsed.issues


def test_issues_past_the_listing_limit_are_counted_per_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sec605_arrow, "MAX_LISTED_ISSUES", 5)
    lines = legacy_file(tmp_path / "l.txt", 200, seed=4).read_text().splitlines()
    bad = []
    for line in lines:
        parts = line.split("|")
        parts[7] = str(int(parts[7]) + 1)
        bad.append("|".join(parts))
    issues = read_605_arrow(("\n".join(bad) + "\n").encode()).issues
    listed = [i for i in issues if "not listed" not in i.message]
    (rest,) = [i for i in issues if "not listed" in i.message]
    assert len(listed) == 5 and rest.rule == "shares-accounted"
    assert rest.message.startswith("195 more rows") and rest.line == 6


# ---------------------------------------------------------------- deviations


def _legacy_row(**changes: str) -> str:
    fields_ = dict(
        zip(
            [f for f in field_names(LegacyRecord)],
            "T|TVIRT|201708|AMZN|12|21|10|1000|0|1000|0|1000|0|0|0|0|0.0100|0.0200|600|0.0200|0.0|300|0.0|100|0.0100|0.0".split("|"),
            strict=True,
        )
    )  # fmt: skip
    fields_.update(changes)
    return "|".join(fields_.values())


def deviation_issues(issues: tuple[Issue, ...]) -> dict[str, Issue]:
    return {i.rule: i for i in issues if i.rule in DEVIATION_RULES}


def test_legacy_deviations_are_warnings_with_rule_file_and_line() -> None:
    rows = [
        _legacy_row(),
        _legacy_row(avg_effective_spread="-0.0150"),
        # 1,000 shares priced, only 800 executed at the center: 200 routed away counted
        _legacy_row(exec_shares_mc="800", exec_shares_away="200", exec_0_9s="1000"),
        _legacy_row(avg_effective_spread="-0.0001"),
    ]
    parsed = read_605_arrow(("\n".join(rows) + "\n").encode(), name="TVIRT_201708.dat")
    found = deviation_issues(parsed.issues)
    assert set(found) == {"negative-effective-spread", "away-in-quote-split", "file-suffix"}
    negative = found["negative-effective-spread"]
    assert negative.line == 2 and negative.message.startswith("2 rows")
    assert negative.severity is Severity.WARNING and negative.file == "TVIRT_201708.dat"
    assert found["away-in-quote-split"].line == 3
    assert found["file-suffix"].line == 1 and "'.dat'" in found["file-suffix"].message
    assert parsed.table.num_rows == 4  # warnings keep the rows


def _detailed_rows(tmp_path: Path) -> list[dict[str, object]]:
    table = read_605_arrow(detailed_file(tmp_path / "d.txt", 6, seed=11)).table
    return table.to_pylist()


def test_detailed_deviations_eq_points_sentinel_away_negative(tmp_path: Path) -> None:
    rows = _detailed_rows(tmp_path)
    d = Decimal
    rows[1].update(
        avg_effective_spread=d("0.02"), avg_quoted_spread=d("0.025"), avg_eq_ratio=d("80")
    )
    rows[2].update(order_size=200000, covered_orders=3, covered_notional=d("2999999997"))
    executed = rows[3]["executed_qty"]
    assert isinstance(executed, Decimal)
    rows[3].update(pi_qty=executed + 1, at_quote_qty=d(0), outside_quote_qty=d(0))
    rows[4].update(avg_effective_spread=d("-0.001"))
    text = write_detailed([DetailedRecord(**r) for r in rows])  # type: ignore[arg-type]
    found = deviation_issues(read_605_arrow(text.encode(), name="x.txt").issues)
    assert {rule: issue.line for rule, issue in found.items()} == {
        "eq-percent-points": 3,
        "size-sentinel": 4,
        "away-in-quote-split": 5,
        "negative-effective-spread": 6,
    }


def test_summary_deviations_eq_points_and_sentinel() -> None:
    table = read_605_arrow(shared_path("sec-605", "oes", "data", "sample.csv")).table
    rows = table.to_pylist()
    assert not deviation_issues(read_605_arrow(write_summary(
        [SummaryRecord(**r) for r in rows]).encode()).issues)  # fmt: skip
    index = next(i for i, r in enumerate(rows) if r["avg_eq_ratio"] is not None)
    rows[index]["avg_eq_ratio"] = rows[index]["avg_eq_ratio"] * 100
    big = next(i for i, r in enumerate(rows) if r["order_size"] == 200000)
    rows[big]["avg_order_notional"] = Decimal("999999999.99")
    text = write_summary([SummaryRecord(**r) for r in rows])
    found = deviation_issues(read_605_arrow(text.encode(), name="s.csv").issues)
    assert found["eq-percent-points"].line == index + 2
    assert found["size-sentinel"].line == big + 2


def test_clean_files_are_parsed_typed_and_odd_numbers_fall_back_to_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow parses numbers itself unless the raw bytes hold one it would read where the
    row readers refuse it (here ``1e3`` deep in the file): then the file is read again as
    strings, and the verdict is the row readers'."""
    monkeypatch.setattr(sec605_arrow, "BLOCK_BYTES", 1 << 16)
    modes: list[bool] = []
    open_csv = sec605_arrow._open_csv

    def noted(state: Any, block: int, threads: bool) -> Any:
        modes.append(state.typed)
        return open_csv(state, block, threads)

    monkeypatch.setattr(sec605_arrow, "_open_csv", noted)
    path = legacy_file(tmp_path / "l.txt", 3000, seed=12)
    assert sum(b.num_rows for _, b in scan_605_batches(path)) == 3000 and modes == [True]
    lines = path.read_text().splitlines()
    parts = lines[2700].split("|")
    parts[16] = "1e3"  # avg_realized_spread with an exponent: refused by the row reader
    lines[2700] = "|".join(parts)
    odd = tmp_path / "odd.txt"
    odd.write_text("\n".join(lines) + "\n")
    modes.clear()
    issues: list[Issue] = []
    rows = sum(b.num_rows for _, b in scan_605_batches(odd, name="", issues=issues))
    assert modes == [True, False] and rows == 2999
    assert [(i.line, i.rule, i.column) for i in issues] == [(2701, "usd", "avg_realized_spread")]
    assert_same_verdict(odd)
