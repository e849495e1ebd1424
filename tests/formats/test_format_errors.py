"""Every error the format readers and writers raise on purpose is a ``PfofError`` of the right
family: unreadable input is an ``InputError`` naming the file, a file that breaks its format's
rules a ``ValidationError`` listing the issues, a bad argument a ``ParameterError``."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import shared_path
from pfof.errors import InputError, ParameterError, PfofError, ValidationError
from pfof.formats import csvw, sec605, sec606, xmlsafe
from pfof.formats.sec605_legacy import parse_legacy, write_legacy

LEGACY_LINE = "T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||"


@pytest.mark.parametrize(
    ("error", "family"),
    [
        (sec606.Rule606Error, ValidationError),
        (sec605.Rule605FormatError, ValidationError),
        (sec605.UnknownFormatError, InputError),
        (xmlsafe.UnsafeXMLError, InputError),
        (csvw.MetadataError, InputError),
    ],
    ids=lambda value: value.__name__,
)
def test_each_format_error_class_belongs_to_its_pfof_family(
    error: type[Exception], family: type[PfofError]
) -> None:
    assert issubclass(error, family) and issubclass(error, PfofError)
    assert issubclass(error, ValueError)  # plain-Python callers catching ValueError still work


def test_missing_606_file_raises_input_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.xml"
    for call in (
        lambda: sec606.read_606(missing),
        lambda: sec606.validate_606(missing),
        lambda: list(sec606.iter_a1_cells(missing)),
    ):
        with pytest.raises(InputError, match=r"absent\.xml") as caught:
            call()
        assert caught.value.exit_code == 2


def test_rejected_606_report_raises_validation_error_with_the_issues() -> None:
    with pytest.raises(ValidationError) as caught:
        sec606.read_606(b"<notAReport/>")
    assert isinstance(caught.value, sec606.Rule606Error)
    assert caught.value.source == "<bytes>" and caught.value.issues
    assert all(i.severity == "error" and i.rule for i in caught.value.issues)
    assert str(caught.value.issues[0]) in str(caught.value)


def test_dtd_in_606_is_a_rejected_report_not_a_crash() -> None:
    doc = b'<!DOCTYPE r [<!ENTITY x "y">]><heldOrderRoutingPublicReport/>'
    with pytest.raises(sec606.Rule606Error) as caught:
        sec606.read_606(doc)
    assert [i.rule for i in caught.value.issues] == ["dtd-forbidden"]
    with pytest.raises(InputError):  # the secure parser itself raises its InputError
        xmlsafe.parse_bytes(doc)


def test_unusable_xsd_raises_input_error_naming_the_schema_file(tmp_path: Path) -> None:
    report = shared_path("sec-606", "606a1_held_order_public_report.xml")
    not_a_schema = tmp_path / "not-a-schema.xsd"
    not_a_schema.write_text("<root/>")
    broken = tmp_path / "broken.xsd"
    broken.write_text("<xs:schema")
    for xsd in (not_a_schema, broken, tmp_path / "absent.xsd"):
        with pytest.raises(InputError, match=re.escape(xsd.name)):
            sec606.validate_606(report, xsd=xsd)


def test_writing_something_that_is_no_606_report_raises_parameter_error() -> None:
    with pytest.raises(ParameterError, match="not a Rule 606 report model"):
        sec606.write_606("not a report")  # type: ignore[arg-type]


def test_unreadable_605_files_raise_input_error_naming_the_file(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("DsgntParticipant,RprtEntityCd\nS,CAF\xc9\n".encode("latin-1"))
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("a,b,c\n1,2,3\n")
    for path, error in (
        (tmp_path / "absent.csv", InputError),
        (latin1, InputError),
        (unknown, sec605.UnknownFormatError),
    ):
        for call in (sec605.read_605, sec605.validate_605):
            with pytest.raises(error, match=re.escape(path.name)):
                call(path)


def test_bad_605_arguments_raise_parameter_or_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="kind must be one of"):
        sec605.read_605([LEGACY_LINE], kind="bogus")  # type: ignore[arg-type]
    bad_metadata = tmp_path / "meta.json"
    bad_metadata.write_text("{not json")
    sample = shared_path("sec-605", "oes", "data", "sample.csv")
    with pytest.raises(csvw.MetadataError, match=r"meta\.json"):
        sec605.validate_605(sample, metadata=bad_metadata)
    record = parse_legacy([LEGACY_LINE]).records[0]
    with pytest.raises(ParameterError, match="delimiter"):
        write_legacy([replace(record, symbol="A|B")])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"tables": [' + "9" * 5000 + "]}", "digits"),  # beyond Python's int conversion limit
        ("[" * 100_000, "nested too deeply"),
    ],
    ids=["huge-number", "deep-nesting"],
)
def test_hostile_csvw_metadata_is_a_metadata_error(tmp_path: Path, text: str, message: str) -> None:
    """JSON that Python's parser refuses with ValueError or RecursionError, not JSONDecodeError,
    is still an error naming the file (a fuzzing run found the huge number)."""
    path = tmp_path / "meta.json"
    path.write_text(text)
    with pytest.raises(
        csvw.MetadataError, match=rf"meta\.json: not CSVW metadata JSON: .*{message}"
    ):
        csvw.load_metadata(path)


def test_605_file_with_errors_raises_validation_error_keeping_the_readable_records() -> None:
    lines = [LEGACY_LINE, "T|TVIRT|201612|X|12"]
    with pytest.raises(ValidationError) as caught:
        sec605.read_605(lines)
    error = caught.value
    assert isinstance(error, sec605.Rule605FormatError)
    assert [(i.line, i.rule) for i in error.issues] == [(2, "field-count")]
    assert len(error.result.records) == 1 and error.result.kind == "legacy"
