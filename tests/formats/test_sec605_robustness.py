"""No input makes a Rule 605 reader crash: bad bytes become errors, never exceptions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pfof.errors import Severity
from pfof.formats.sec605_detailed import HEADER as DETAILED_HEADER
from pfof.formats.sec605_detailed import parse_detailed
from pfof.formats.sec605_legacy import parse_legacy
from pfof.formats.sec605_summary import HEADER as SUMMARY_HEADER
from pfof.formats.sec605_summary import parse_summary

_cells = st.text(alphabet=st.sampled_from(list('0123456789.-+eEINFaN |,"\x00\t AZ')), max_size=8)


def _lines(delimiter: str, width: int) -> st.SearchStrategy[list[str]]:
    line = st.lists(_cells, min_size=width - 2, max_size=width + 1).map(delimiter.join)
    return st.lists(line | st.text(max_size=30), max_size=5)


@settings(max_examples=200, deadline=None)
@given(_lines("|", 26))
def test_legacy_parser_never_raises_and_gives_no_more_records_plus_bad_lines_than_lines(
    lines: list[str],
) -> None:
    parsed = parse_legacy(lines, file="x")
    assert len(parsed.records) + len({i.line for i in parsed.errors}) <= len(lines)


@settings(max_examples=200, deadline=None)
@given(_lines("|", 55))
def test_detailed_parser_never_raises_and_numbers_every_issue_from_line_1(lines: list[str]) -> None:
    parsed = parse_detailed(["|".join(DETAILED_HEADER), *lines], file="x")
    assert all(i.line >= 1 for i in parsed.issues)


@settings(max_examples=200, deadline=None)
@given(_lines(",", 18))
def test_summary_parser_never_raises_and_is_valid_exactly_without_errors(lines: list[str]) -> None:
    parsed = parse_summary([",".join(SUMMARY_HEADER), *lines], file="x")
    assert all(i.severity in (Severity.ERROR, Severity.WARNING) for i in parsed.issues)
    assert parsed.valid == (not parsed.errors)
