"""Amended Rule 605(a)(2) summary CSV: pfof's validator against the SEC's samples, built-in
rules against the SEC's CSVW metadata, and writer output that always validates."""

from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_path
from pfof.errors import Severity
from pfof.formats.csvw import TableSchema, load_metadata, schema_from_metadata, validate_csv
from pfof.formats.sec605 import Rule605FormatError, read_605, validate_605
from pfof.formats.sec605_summary import BUILTIN_SCHEMA, HEADER, parse_summary, write_summary
from pfof.model.money import round_half_up
from pfof.model.records605 import SUMMARY_SIZE_ORDER, SummaryRecord

PK = "DsgntParticipant,RprtEntityCd,RptDate,Sp500,OrderSize,OrderType"

#: Every violation in the SEC's ng.csv, found by reading the file (line = file line).
NG_VIOLATIONS = {
    # line 2: a row with a bad value in almost every column
    (2, "RptDate", "format"),  # not 20[2-9]x + month
    (2, "RptDate", "exclusiveMaximum"),  # 220509 >= 209913
    (2, "Sp500", "format"),  # Z
    (2, "OrderSize", "format"),  # 529 is no bucket
    (2, "OrderType", "format"),  # MKT
    (2, "AvgOrderQty", "minimum"),  # -42
    (2, "AvgOrderSize", "format"),  # 0x36
    (2, "AvgOrderSize", "datatype"),
    (2, "ExctdOrderMidPtAvg", "format"),  # $42.42
    (2, "ExctdOrderMidPtAvg", "datatype"),
    (2, "PctExctdAtQuotOrBetter", "minimum"),  # -42
    (2, "PctExctdPI", "format"),  # NAN: neither the regex nor an xsd:float
    (2, "PctExctdPI", "datatype"),
    (2, "WghtdAvgPctPI", "format"),  # NaN: an xsd:float, but not the regex, and no bound holds
    (2, "WghtdAvgPctPI", "maximum"),
    (2, "AvgEffctvSprdPct", "format"),  # nan: this column declares no null tokens
    (2, "AvgEffctvSprdPct", "datatype"),
    (2, "AvgEFQPct", "format"),  # INF is not among the declared null tokens (case matters)
    (2, "WghtdAvgExctnTime", "minimum"),  # -42.42
    # line 3: order type MLIMIT and the twelve statistics empty
    (3, "OrderType", "format"),
    *(
        (3, name, "required")
        for name in (
            "AvgOrderQty",
            "AvgOrderSize",
            "ExctdOrderMidPtAvg",
            "PctExctdAtQuotOrBetter",
            "PctExctdPI",
            "WghtdAvgPctPI",
            "AvgEffctvSprdPct",
            "AvgPctQuotSprd",
            "AvgRealSprdPct1min",
            "WghtdAvgExctnTime",
        )
    ),  # AvgEFQPct, AvgRealSprdPct15sec may be ""
    (6, "AvgPctQuotSprd", "minimum"),  # -0.002293
    (32, PK, "primaryKey"),  # N,250,ML repeats line 31
    (33, "WghtdAvgExctnTime", "required"),  # empty last cell
    (40, "AvgPctQuotSprd", "minimum"),  # -0.001298 (S,SECOND,Y,250,ML)
}


def oes(*parts: str) -> Path:
    return shared_path("sec-605", "oes", *parts)


@pytest.fixture(scope="module")
def sec_schema() -> TableSchema:
    return load_metadata(oes("src", "oes-metadata.json"))


def keys(issues: list) -> set[tuple[int, str, str]]:
    return {(i.line, i.column, i.rule) for i in issues if i.severity is Severity.ERROR}


@pytest.mark.parametrize("use_metadata", [False, True], ids=["builtin", "metadata"])
def test_sec_sample_is_valid_and_reads_35_records_with_their_values(
    use_metadata: bool, sec_schema: TableSchema
) -> None:
    verdict = validate_605(oes("data", "sample.csv"), metadata=sec_schema if use_metadata else None)
    assert (verdict.kind, verdict.issues, verdict.records) == ("summary", [], 35)
    parsed = read_605(oes("data", "sample.csv"))
    assert len(parsed.records) == 35
    first = parsed.records[0]
    assert (first.participant, first.entity, first.rpt_date, first.sp500) == (
        "S",
        "SAMPLE",
        202501,
        True,
    )
    assert first.avg_execution_time_ms == Decimal("10360.60052")
    empty_efq = [r for r in parsed.records if r.avg_eq_ratio is None]
    assert [(r.order_size, r.order_type) for r in empty_efq] == [(5000, "M"), (10000, "M")]


@pytest.mark.parametrize("use_metadata", [False, True], ids=["builtin", "metadata"])
def test_ng_gives_every_known_violation_and_spec_warning_and_read_raises(
    use_metadata: bool, sec_schema: TableSchema
) -> None:
    parsed = validate_605(oes("data", "ng.csv"), metadata=sec_schema if use_metadata else None)
    assert keys(parsed.issues) == NG_VIOLATIONS
    assert all(i.file.endswith("ng.csv") and i.message for i in parsed.issues)
    warnings = {(i.line, i.rule) for i in parsed.issues if i.severity is Severity.WARNING}
    # spec checks beyond CSVW: 4742.54 in the $10,000 bucket, 14417.64 in the $5,000 bucket,
    # and the file mixes three reporters
    assert warnings == {
        (8, "order-size-bucket"),
        (33, "order-size-bucket"),
        (3, "one-report-per-file"),
        (39, "one-report-per-file"),
    }
    with pytest.raises(Rule605FormatError):
        read_605(oes("data", "ng.csv"))


def test_metadata_columns_match_the_builtin_table(sec_schema: TableSchema) -> None:
    assert sec_schema.names == BUILTIN_SCHEMA.names == HEADER
    assert sec_schema.primary_key == BUILTIN_SCHEMA.primary_key
    for ours, theirs in zip(BUILTIN_SCHEMA.columns, sec_schema.columns, strict=True):
        assert ours.titles == theirs.titles
        assert (ours.base, ours.required, ours.null_declared) == (
            theirs.base,
            theirs.required,
            theirs.null_declared,
        )
        assert set(ours.null) == set(theirs.null)
        assert {(b.kind, b.value) for b in ours.bounds} == {
            (b.kind, b.value) for b in theirs.bounds
        }


# ---------------------------------------------------------------- mutations of sample.csv

_TOKENS = [
    "",
    " ",
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "2.5",
    "-2",
    "-2.000001",
    "1.000001",
    "0.1234567",
    "123456.678900",
    "1e3",
    "1E-7",
    "+5",
    ".5",
    "5.",
    "+",
    "NaN",
    "nan",
    "INF",
    "inf",
    "-inf",
    "+inf",
    "abc",
    "0x10",
    "$1",
    "Y",
    "N",
    "y",
    " Y ",
    "YN",
    "M",
    "ML",
    "MKT",
    "m",
    "T",
    "SAMPLE",
    "sample",
    "A1",
    "202501",
    "202500",
    "202413",
    "202412",
    "209912",
    "209913",
    "210001",
    "2025-01",
    "199999",
    "200000",
    "250",
    "251",
    '"M"',
    "1,2",
    "5 000",
]


#: Column-specific pools (valid and invalid values) so that every constraint gets exercised.
_BY_COLUMN = [
    ["A", "T", "S", "NG", "s", "A1", ""],
    ["SAMPLE", "TVIRT", "X", "Sample", "AB-C", ""],
    ["202501", "202412", "202413", "209912", "209913", "209901", "2025", "", "+202501"],
    ["Y", "N", "y", "YN", "Z", ""],
    ["0", "250", "1000", "199999", "200000", "300", "01000", ""],
    ["M", "ML", "MLL", "L", ""],
    *[
        [
            "0",
            "0.5",
            "1",
            "12.345678",
            "1.5e2",
            "-0.000001",
            "2",
            "-2",
            "2.000001",
            "-3",
            "0.0000001",
            "",
        ]
    ]
    * 12,
]


@st.composite
def mutated_sample(draw: st.DrawFn, lines: list[str]) -> list[str]:
    out = list(lines)
    for _ in range(draw(st.integers(1, 2))):
        action = draw(st.sampled_from(["cell"] * 12 + ["duplicate", "drop", "header"]))
        if action == "header":
            cells = out[0].split(",")
            i = draw(st.integers(0, len(cells) - 1))
            cells[i] = draw(
                st.sampled_from(["Designated Participant", "Order Type", "X", cells[i].lower(), ""])
            )
            out[0] = ",".join(cells)
            continue
        row = draw(st.integers(1, len(out) - 1))
        if action == "duplicate":
            out.insert(draw(st.integers(1, len(out))), out[row])
        elif action == "drop":
            cells = out[row].split(",")
            del cells[draw(st.integers(0, len(cells) - 1))]
            out[row] = ",".join(cells)
        else:
            cells = out[row].split(",")
            col = draw(st.integers(0, len(cells) - 1))
            pool = _BY_COLUMN[col] if col < len(_BY_COLUMN) else _TOKENS
            cells[col] = draw(st.sampled_from(pool if draw(st.integers(0, 3)) else _TOKENS))
            out[row] = ",".join(cells)
    return out


@pytest.fixture(scope="module")
def sample_lines() -> list[str]:
    return oes("data", "sample.csv").read_text().splitlines()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_builtin_rules_agree_with_metadata_on_mutations(
    data: st.DataObject, sample_lines: list[str], sec_schema: TableSchema
) -> None:
    lines = data.draw(mutated_sample(sample_lines))
    ours = parse_summary(lines, spec_checks=False)
    theirs = parse_summary(lines, schema=sec_schema, spec_checks=False)
    assert [(i.line, i.column, i.rule) for i in ours.issues] == [
        (i.line, i.column, i.rule) for i in theirs.issues
    ]
    assert ours.valid == theirs.valid


def test_hand_made_mutations_give_the_expected_errors_under_both_schemas(
    sample_lines: list[str], sec_schema: TableSchema
) -> None:
    """Spot checks that the mutation pool exercises real constraints."""
    lines = list(sample_lines)
    lines[1] = lines[1].replace("S,SAMPLE,202501,Y,0,M,5,", "S,SAMPLE,202501,Y,0,M,-5,")
    lines[2] = lines[2].replace(",1,0,0,", ",1.0000001,0,0,")
    lines.append(lines[3])
    lines[0] = lines[0].replace("OrderType", "Order Type")  # a title is an accepted header
    for schema in (None, sec_schema):
        found = keys(parse_summary(lines, schema=schema).issues)
        assert found == {
            (2, "AvgOrderQty", "minimum"),
            (3, "PctExctdAtQuotOrBetter", "format"),
            (3, "PctExctdAtQuotOrBetter", "maximum"),
            (37, PK, "primaryKey"),
        }


# ---------------------------------------------------------------- generic CSVW behaviour


def test_csvw_schema_applies_inherited_and_shorthand_rules_and_flags_each_bad_cell() -> None:
    doc = {
        "dialect": {"delimiter": ";"},
        "tableSchema": {
            "null": "-",
            "required": True,
            "columns": [
                {"name": "id", "datatype": "positiveInteger"},
                {"titles": {"en": ["Label"]}, "datatype": {"base": "string", "maxLength": 3}},
                {"name": "x", "datatype": {"base": "decimal", "minExclusive": 0}},
            ],
            "primaryKey": "id",
        },
    }
    schema = schema_from_metadata(doc)
    assert schema.names == ("id", "Label", "x")
    result = validate_csv(["id;Label;y", "1;ab;1.5", "0;abcd;0", "1;-;x", '2;"a;b";2'], schema)
    assert keys(result.issues) == {
        (1, "x", "titles"),
        (3, "id", "datatype"),
        (3, "Label", "maxLength"),
        (3, "x", "minExclusive"),
        (4, "x", "datatype"),
        (4, "id", "primaryKey"),
    }  # "-" is a declared null: required columns may hold it
    assert result.rows[-1] == (5, {"id": Decimal(2), "Label": "a;b", "x": Decimal(2)})


# ---------------------------------------------------------------- writer

_codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=5)


def _dec(low: str | None = None, high: str | None = None) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(low) if low else Decimal(-(10**6)),
        max_value=Decimal(high) if high else Decimal(10**9),
        places=8,
        allow_nan=False,
        allow_infinity=False,
    )


summary_records = st.builds(
    SummaryRecord,
    participant=_codes,
    entity=_codes,
    rpt_date=st.builds(lambda y, m: y * 100 + m, st.integers(2025, 2099), st.integers(1, 12)),
    sp500=st.booleans(),
    order_size=st.sampled_from(SUMMARY_SIZE_ORDER),
    order_type=st.sampled_from(["M", "ML"]),
    avg_order_qty=_dec("0"),
    avg_order_notional=_dec("0"),
    avg_midpoint=_dec("0"),
    pct_at_quote_or_better=_dec("0", "1"),
    pct_price_improved=_dec("0", "1"),
    avg_pct_price_improvement=_dec("-2", "2"),
    avg_effective_spread_pct=_dec("-2", "2"),
    avg_quoted_spread_pct=_dec("0", "2"),
    avg_eq_ratio=st.none() | _dec(),
    realized_spread_pct_15s=st.none() | _dec(),
    realized_spread_pct_1m=_dec(),
    avg_execution_time_ms=_dec("0"),
)


def _key(r: SummaryRecord) -> tuple[object, ...]:
    return (r.participant, r.entity, r.rpt_date, r.sp500, r.order_size, r.order_type)


def _rounded(r: SummaryRecord) -> SummaryRecord:
    changes = {
        f.name: round_half_up(getattr(r, f.name), 6)
        for f in fields(r)
        if isinstance(getattr(r, f.name), Decimal)
    }
    return replace(r, **changes)


@settings(max_examples=150, deadline=None)
@given(st.lists(summary_records, max_size=6, unique_by=_key))
def test_writer_output_validates_and_reads_back(records: list[SummaryRecord]) -> None:
    text = write_summary(records)
    assert text.endswith("\r\n") and text.count("\r\n") == len(records) + 1
    parsed = parse_summary(text.splitlines(), spec_checks=False)
    assert parsed.issues == []
    assert parsed.records == [_rounded(r) for r in records]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(summary_records, max_size=6, unique_by=_key))
def test_writer_output_passes_the_sec_metadata(
    records: list[SummaryRecord], sec_schema: TableSchema
) -> None:
    parsed = parse_summary(
        write_summary(records).splitlines(), schema=sec_schema, spec_checks=False
    )
    assert parsed.issues == []
