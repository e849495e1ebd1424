"""Legacy (26-field) Rule 605 reader/writer: real excerpts, consistency warnings, round trip."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from pfof.errors import Severity
from pfof.formats.sec605 import Rule605FormatError, read_605, validate_605
from pfof.formats.sec605_legacy import parse_legacy, write_legacy
from pfof.model.records605 import LEGACY_FIELDS, LEGACY_MARKETABLE_ONLY, LegacyRecord

REAL = {
    "TVIRT_201612_first2000.txt": 2000,
    "TVIRT_201612_selected_symbols.txt": 96,
    "TVIRT_201708_first2000.txt": 2000,
    "TVIRT_201708_selected_symbols.txt": 94,
}


def real(name: str) -> Path:
    return shared_path("sec-605", "legacy-real", name)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_excerpts_read_without_issues(name: str) -> None:
    parsed = read_605(real(name))
    assert parsed.kind == "legacy" and len(parsed.records) == REAL[name]
    assert parsed.issues == ()
    assert {r.market_center for r in parsed.records} == {"TVIRT"}
    for record in parsed.records:
        limit_type = record.order_type in (13, 14, 15)
        assert all((getattr(record, f) is None) == limit_type for f in LEGACY_MARKETABLE_ONLY)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_excerpts_rewrite_byte_for_byte(name: str) -> None:
    path = real(name)
    assert write_legacy(read_605(path).records) == path.read_text()


def test_first_real_legacy_record_has_the_values_read_by_eye() -> None:
    """Values of the file's first line (AMZN, market orders of 100-499 shares), read by eye."""
    record = read_605(real("TVIRT_201708_selected_symbols.txt")).records[0]
    assert (record.participant, record.market_center, record.yyyymm, record.symbol) == (
        "T",
        "TVIRT",
        201708,
        "AMZN",
    )
    assert (record.order_type, record.order_size, record.covered_orders) == (11, 21, 3)
    assert record.covered_shares == 500
    assert (record.cancelled_shares, record.exec_shares_mc) == (350, 150)
    assert record.avg_realized_spread == Decimal("0.6367")
    assert record.avg_effective_spread == Decimal("0.3567")
    assert record.atq_shares == 150 and record.pi_avg_time == Decimal("0.0")


def _mutate(line: str, position: int, value: str) -> str:
    parts = line.split("|")
    parts[position - 1] = value
    return "|".join(parts)


def test_inconsistencies_are_warnings_with_file_and_line(tmp_path: Path) -> None:
    lines = real("TVIRT_201708_selected_symbols.txt").read_text().splitlines()
    type12 = next(i for i, line in enumerate(lines) if line.split("|")[4] == "12")
    type13 = next(i for i, line in enumerate(lines) if line.split("|")[4] == "13")
    bucket = int(lines[type12].split("|")[11])
    lines[type12] = _mutate(lines[type12], 12, str(bucket + 7))  # 0-9 s bucket off by 7
    pi_shares = int(lines[type12].split("|")[18])
    lines[type12] = _mutate(lines[type12], 19, str(pi_shares + 5))  # improved shares off by 5
    lines[type13] = _mutate(lines[type13], 18, "0.0100")  # effective spread on a type-13 line
    lines[0] = _mutate(lines[0], 9, "9999")  # cancelled shares: more than covered
    path = tmp_path / "mutated.txt"
    path.write_text("\n".join(lines) + "\n")
    parsed = read_605(path)
    assert len(parsed.records) == len(lines)  # nothing dropped, nothing raised
    found = {(i.line, i.column, i.rule) for i in parsed.issues}
    assert (type12 + 1, "exec_0_9s", "time-buckets") in found
    assert (type12 + 1, "pi_shares", "quote-buckets") in found
    assert (type13 + 1, "avg_effective_spread", "marketable-only") in found
    assert (1, "covered_shares", "shares-accounted") in found
    assert all(i.severity is Severity.WARNING and i.file == str(path) for i in parsed.issues)
    assert "mutated.txt:" in str(parsed.issues[0])
    # strict reading counts the same consistency warnings as errors
    with pytest.raises(Rule605FormatError) as caught:
        read_605(path, strict=True)
    assert {(i.line, i.column, i.rule) for i in caught.value.issues} == found
    assert all(i.severity is Severity.ERROR for i in caught.value.issues)


def test_malformed_lines_are_errors_naming_line_and_field(tmp_path: Path) -> None:
    lines = real("TVIRT_201612_selected_symbols.txt").read_text().splitlines()[:5]
    lines[1] = lines[1] + "|extra"
    lines[2] = _mutate(lines[2], 8, "12x00")
    lines[3] = _mutate(lines[3], 17, "abc")
    lines[4] = _mutate(lines[4], 3, "201613")
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    verdict = validate_605(path)
    assert verdict.records == 1 and not verdict.valid
    errors = {(i.line, i.column, i.rule) for i in verdict.errors}
    assert errors == {
        (2, "", "field-count"),
        (3, "covered_shares", "int"),
        (4, "avg_realized_spread", "usd"),
        (5, "yyyymm", "yyyymm"),
    }
    message = next(str(i) for i in verdict.errors if i.line == 3)
    assert "bad.txt:3" in message and "field 8" in message and "12x00" in message
    with pytest.raises(Rule605FormatError, match=r"bad\.txt:2") as caught:
        read_605(path)
    assert len(caught.value.result.records) == 1  # the readable line is kept for display


def test_symbol_with_space_and_empty_away_field_read_and_write_back_unchanged() -> None:
    line = (
        "T|TABCD|202001|AAC U|12|21|2|300|0|300||300|0|0|0|0|0.0100|0.0200|100|0.0100|0.5|"
        "200|1.0|0|0.0000|0.0"
    )
    parsed = parse_legacy([line])
    record = parsed.records[0]
    assert record.symbol == "AAC U" and record.exec_shares_away is None
    assert parsed.issues == []
    assert write_legacy([record]) == line + "\n"


def test_writer_rounds_half_up_to_the_format() -> None:
    line = parse_legacy(["T|X|202001|A|11|21|1|100|0|100|0|100|0|0|0|0|1|2|0|3|4|100|5|0|6|7"])
    record = replace(
        line.records[0],
        avg_realized_spread=Decimal("0.00005"),
        avg_effective_spread=Decimal("-0.00005"),
        pi_avg_time=Decimal("0.25"),
    )
    fields = write_legacy([record]).rstrip("\n").split("|")
    assert fields[16:21] == ["0.0001", "-0.0001", "0", "3.0000", "0.3"]


# ---------------------------------------------------------------- round trip

_text = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ .", min_size=1, max_size=6)
    .map(str.strip)
    .filter(bool)
)
_count = st.none() | st.integers(min_value=0, max_value=10**12)


def _value(kind: str) -> st.SearchStrategy[object]:
    if kind == "str":
        return _text
    if kind == "yyyymm":
        return st.builds(lambda y, m: y * 100 + m, st.integers(2001, 2026), st.integers(1, 12))
    if kind == "code":
        return st.integers(10, 99)
    if kind == "int":
        return _count
    places = 4 if kind == "usd" else 1
    return st.none() | st.decimals(
        min_value=-(10**6), max_value=10**6, places=places, allow_nan=False, allow_infinity=False
    )


legacy_records = st.builds(
    lambda values: LegacyRecord(*values),
    st.tuples(*(_value(kind) for _, kind in LEGACY_FIELDS)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(legacy_records, max_size=5))
def test_written_legacy_file_reads_back_to_the_records_without_errors(
    records: list[LegacyRecord],
) -> None:
    text = write_legacy(records)
    parsed = parse_legacy(text.splitlines())
    assert parsed.errors == []
    assert parsed.records == records
