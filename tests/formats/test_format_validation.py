"""``validate_606`` and ``validate_605`` on shared valid and invalid files, and strict versus
lenient: the verdicts the readers have always given (lenient reads what brokers publish,
strict only what the SEC schema accepts; a 605 file's consistency warnings are errors when
strict), now as one :class:`~pfof.errors.Validation`."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from conftest import SHARED, shared_path
from formats.conftest import SAFE_PARSER, resolve, shared_xml
from formats.test_sec605_summary import NG_VIOLATIONS
from pfof.errors import Severity, Validation
from pfof.formats.sec605 import Rule605FormatError, read_605, validate_605
from pfof.formats.sec606 import Rule606Error, read_606, validate_606

SAMPLE_606 = ("sec-606", "606a1_held_order_public_report.xml")


def oes(name: str) -> Path:
    return shared_path("sec-605", "oes", "data", name)


# ------------------------------------------------------------------ 606


def test_validate_606_on_the_sec_sample_is_valid_both_ways() -> None:
    for strict in (False, True):
        verdict = validate_606(shared_path(*SAMPLE_606), strict=strict)
        assert (verdict.format, verdict.kind, verdict.strict) == ("606", "a1", strict)
        assert verdict.valid and verdict.schema_valid and verdict.errors == []
        assert verdict.file.endswith("606a1_held_order_public_report.xml")


def test_validate_606_on_a_broken_report_lists_its_errors_with_paths() -> None:
    path = shared_path("real-606", "broken", "281065_606_NMS_2024_Q2.xml")
    verdict = validate_606(path)
    assert verdict.kind == "a1" and not verdict.valid
    assert verdict.schema_valid  # schema-valid, but nan venue names and sums far from 100
    rules = {i.rule for i in verdict.errors}
    assert rules == {"placeholder-venue-name", "pct-sum"}
    assert all(i.path.startswith("rMonthly[mon=") and i.line for i in verdict.errors)
    assert all(i.severity is Severity.WARNING for i in verdict.warnings)


def test_validate_606_on_a_non_606_document_has_no_kind() -> None:
    verdict = validate_606(b"<notAReport/>")
    assert (verdict.kind, verdict.valid, verdict.file) == (None, False, "<bytes>")
    assert [i.rule for i in verdict.errors] == ["root"]


def test_validate_606_goldman_is_valid_lenient_and_invalid_strict() -> None:
    path = next(shared_path("real-606", "goldman-invalid").glob("*.xml"))
    lenient, strict = validate_606(path), validate_606(path, strict=True)
    assert lenient.valid and not strict.valid
    assert lenient.schema_valid is strict.schema_valid is False
    assert any(w.rule == "cph-decimals" for w in lenient.warnings)
    assert any(e.rule == "CphType" for e in strict.errors)
    # a deviation is listed once: as an error when strict, not again as a warning
    errors = {(e.path, e.message) for e in strict.errors}
    assert not any((w.path, w.message) in errors for w in strict.warnings)


def test_validate_606_with_the_official_xsd_adds_lxml_errors_with_lines(tmp_path: Path) -> None:
    xsd = shared_path("sec-606", "oh-20191231.xsd")
    good = shared_path(*SAMPLE_606)
    assert not [i for i in validate_606(good, xsd=xsd).issues if i.rule == "xsd"]
    bad = tmp_path / "bad.xml"
    bad.write_text(good.read_text().replace("<qtr>1</qtr>", "<qtr>5</qtr>", 1))
    with bad.open("rb") as stream:  # a stream is read once and checked by both validators
        verdict = validate_606(stream, xsd=xsd)
    official = [i for i in verdict.errors if i.rule == "xsd"]
    assert official and all(i.line and i.severity is Severity.ERROR for i in official)
    assert any(i.rule == "QuarterType" for i in verdict.errors)
    assert verdict.file == str(bad)


#: The shared 606 files under 1 MB (the large b1 files add nothing but seconds).
SMALL_606 = [
    p
    for p in shared_xml("sec-606", "real-606")
    if not (SHARED / str(p.values[0])).is_file()
    or (SHARED / str(p.values[0])).stat().st_size < 1_000_000
]


@pytest.mark.parametrize("relative", SMALL_606)
def test_606_verdicts_lenient_and_strict_are_the_readers_verdicts(
    relative: str, sec_xsd: etree.XMLSchema
) -> None:
    """Lenient accepts every published report but the broken ones; strict accepts exactly
    those the SEC's XSD (lxml) validates; ``read_606`` raises exactly when ``validate_606``
    says invalid, with the same errors."""
    path = resolve(relative)
    lxml_ok = sec_xsd.validate(etree.parse(str(path), SAFE_PARSER))
    expected = {False: "/broken/" not in relative, True: "/broken/" not in relative and lxml_ok}
    for strict in (False, True):
        verdict = validate_606(path, strict=strict)
        assert verdict.valid == expected[strict], (strict, verdict.errors[:3])
        assert verdict.schema_valid == lxml_ok
        if verdict.valid:
            result = read_606(path, strict=strict)
            assert result.strict_valid == lxml_ok
            assert [str(w) for w in result.warnings] == [str(w) for w in verdict.warnings]
        else:
            with pytest.raises(Rule606Error) as caught:
                read_606(path, strict=strict)
            assert caught.value.issues == verdict.errors


# ------------------------------------------------------------------ 605


def test_validate_605_on_the_sec_sample_is_valid_with_35_records() -> None:
    for strict in (False, True):
        verdict = validate_605(oes("sample.csv"), strict=strict)
        assert isinstance(verdict, Validation)
        assert (verdict.format, verdict.kind, verdict.strict) == ("605", "summary", strict)
        assert (verdict.valid, verdict.issues, verdict.records) == (True, [], 35)


def test_validate_605_on_ng_lists_each_violation_by_line_column_and_rule() -> None:
    verdict = validate_605(oes("ng.csv"))
    assert not verdict.valid and verdict.kind == "summary"
    assert {(i.line, i.column, i.rule) for i in verdict.errors} == NG_VIOLATIONS
    assert {(i.line, i.rule) for i in verdict.warnings} == {
        (8, "order-size-bucket"),
        (33, "order-size-bucket"),
        (3, "one-report-per-file"),
        (39, "one-report-per-file"),
    }
    assert all(i.file.endswith("ng.csv") for i in verdict.issues)


def test_strict_605_counts_the_lenient_warnings_as_errors() -> None:
    lenient = validate_605(oes("ng.csv"))
    strict = validate_605(oes("ng.csv"), strict=True)
    assert strict.warnings == []
    assert len(strict.errors) == len(lenient.errors) + len(lenient.warnings)
    promoted = {(i.line, i.column, i.rule) for i in lenient.warnings}
    assert promoted <= {(i.line, i.column, i.rule) for i in strict.errors}


def test_605_warnings_only_file_reads_lenient_and_is_rejected_strict(tmp_path: Path) -> None:
    lines = oes("sample.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[7] = "9999"  # average notional $9,999 in the $0-250 bucket: a specification warning
    lines[1] = ",".join(cells)
    path = tmp_path / "bucket.csv"
    path.write_text("\n".join(lines) + "\n")
    parsed = read_605(path)
    assert len(parsed.records) == 35
    assert [(i.line, i.rule, i.severity) for i in parsed.issues] == [
        (2, "order-size-bucket", Severity.WARNING)
    ]
    with pytest.raises(Rule605FormatError) as caught:
        read_605(path, strict=True)
    assert [(i.line, i.rule) for i in caught.value.issues] == [(2, "order-size-bucket")]
    assert validate_605(path).valid and not validate_605(path, strict=True).valid


@pytest.mark.parametrize(
    "name", ["TVIRT_201612_selected_symbols.txt", "TVIRT_201708_selected_symbols.txt"]
)
def test_real_legacy_excerpts_are_valid_lenient_and_strict(name: str) -> None:
    path = shared_path("sec-605", "legacy-real", name)
    for strict in (False, True):
        verdict = validate_605(path, strict=strict)
        assert verdict.kind == "legacy" and verdict.valid and verdict.issues == []
        assert read_605(path, strict=strict).records
