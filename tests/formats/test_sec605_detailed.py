"""Amended detailed (55-field) Rule 605 reader/writer."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from pfof.formats.sec605 import Rule605FormatError, read_605
from pfof.formats.sec605_detailed import HEADER, NON_NEGATIVE, parse_detailed, write_detailed
from pfof.model.records605 import DETAILED_FIELDS, DetailedRecord


def _value(attr: str, kind: str) -> st.SearchStrategy[object]:
    if kind == "str":
        return st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
    if kind == "yyyymm":
        return st.builds(lambda y, m: y * 100 + m, st.integers(2026, 2040), st.integers(1, 12))
    if kind == "int":
        ints = st.integers(min_value=0, max_value=10**9)
        return ints if attr == "order_size" else st.none() | ints
    return st.none() | st.decimals(
        min_value=0 if attr in NON_NEGATIVE else -(10**9),
        max_value=10**12,
        places=6,
        allow_nan=False,
        allow_infinity=False,
    )


detailed_records = st.builds(
    lambda values: DetailedRecord(*values),
    st.tuples(*(_value(attr, kind) for _, attr, kind in DETAILED_FIELDS)),
)


def test_header_matches_the_reference_field_list() -> None:
    """The 55 header names are those of the reconstructed field list in ../shared."""
    rows = shared_path("sec-605", "amended_605_detailed_fields_55.csv").read_text().splitlines()
    names = tuple(line.split(",")[1] for line in rows[1:] if line.strip())
    assert HEADER == names
    assert len(HEADER) == 55


@settings(max_examples=100, deadline=None)
@given(st.lists(detailed_records, max_size=4))
def test_written_detailed_file_has_the_header_and_reads_back_to_the_records(
    records: list[DetailedRecord],
) -> None:
    text = write_detailed(records)
    assert text.splitlines()[0] == "|".join(HEADER)
    parsed = parse_detailed(text.splitlines(), check=False)
    assert parsed.errors == []
    assert parsed.records == records


def _sample() -> DetailedRecord:
    defaults = {"str": "X", "yyyymm": 202608, "int": 1}
    values = [defaults.get(kind) for _, _, kind in DETAILED_FIELDS]
    record = DetailedRecord(*values)  # type: ignore[arg-type]
    return replace(
        record,
        covered_qty=Decimal(100),
        executed_qty=Decimal(60),
        executed_away_qty=Decimal(10),
        cancelled_qty=Decimal(30),
        qty_to_100us=Decimal(50),
        qty_to_1s=Decimal(20),
    )


def test_detailed_writer_rounds_half_up_to_six_places_and_trims_zeros() -> None:
    record = replace(
        _sample(),
        avg_midpoint=Decimal("12.3456785"),
        avg_effective_spread=Decimal("0.0100"),
        realized_spread_1s=Decimal("-0.0000005"),
    )
    cells = write_detailed([record]).splitlines()[1].split("|")
    header = list(HEADER)
    assert cells[header.index("ExctdOrderMidPtAvg")] == "12.345679"
    assert cells[header.index("AvgEffctvSprd")] == "0.01"
    assert cells[header.index("AvgRealSprd1sec")] == "-0.000001"


def test_detailed_issues_name_line_field_and_rule_and_read_605_raises_on_the_errors() -> None:
    lines = write_detailed([_sample(), _sample()]).splitlines()
    parsed = parse_detailed(lines, file="d.txt")
    assert len(parsed.records) == 2
    # buckets 50 + 20 = 70 = 60 at the center + 10 away: consistent
    assert parsed.issues == []
    bad = list(lines)
    cells = bad[1].split("|")
    cells[HEADER.index("CvrdOrderQtyto1sec")] = "21"
    bad[1] = "|".join(cells)
    cells = bad[2].split("|")
    cells[HEADER.index("CvrdOrderCnt")] = "1.5"
    bad[2] = "|".join(cells)
    bad.append("X|Y")
    bad[0] = bad[0].replace("AvgEFQPct", "AvgEFQ")
    parsed = parse_detailed(bad, file="d.txt")
    found = {(i.severity.value, i.line, i.column, i.rule) for i in parsed.issues}
    assert found == {
        ("error", 1, "AvgEFQPct", "header"),
        ("warning", 2, "CvrdOrderQtyto100microsec", "time-buckets"),
        ("error", 3, "CvrdOrderCnt", "int"),
        ("error", 4, "", "field-count"),
    }
    with pytest.raises(Rule605FormatError) as caught:
        read_605(bad, kind="detailed")
    assert caught.value.issues[0].line == 1 and len(caught.value.issues) == 3
