"""An undefined entity (``&nbsp;``) is reported as what it is, with its line: not as lxml's
"no element found" or "Start tag expected, '<' not found, line 1, column 1"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pfof.formats import xmlsafe
from pfof.formats.sec606 import validate_606


def _with_entity(xml: bytes) -> bytes:
    """``xml`` with ``&nbsp;`` inside the first venue name (well past the first chunk lxml
    reads when the report is long)."""
    return xml.replace(b"</name>", b"&nbsp;LLC</name>", 1)


@pytest.mark.parametrize(
    ("doc", "line"),
    [
        (b'<?xml version="1.0"?>\n<r>&nbsp;</r>', 2),
        (b"&nbsp;<r/>", 1),
        (b"<r>\n<a>x&eacute;y</a>\n</r>", 2),
    ],
)
def test_iterparse_names_an_undefined_entity_and_its_line(doc: bytes, line: int) -> None:
    with pytest.raises(xmlsafe.UndefinedEntityError) as caught:
        list(xmlsafe.iterparse(doc))
    assert caught.value.line == line and "is not defined" in str(caught.value)
    assert caught.value.rule == "undefined-entity"


def test_a_long_report_with_an_entity_names_it_from_a_path_bytes_or_a_stream(
    schwab: Path, tmp_path: Path
) -> None:
    xml = _with_entity((schwab / "606-CHAS-2022Q4.xml").read_bytes())
    path = tmp_path / "nbsp.xml"
    path.write_bytes(xml)
    stream = io.BytesIO(xml)
    stream.name = "nbsp.xml"
    for source in (path, xml, stream):
        (error,) = validate_606(source).errors
        assert error.rule == "undefined-entity", error
        assert error.message.startswith("line 19: entity &nbsp; is not defined"), error
        assert "Start tag expected" not in error.message


def test_parse_bytes_names_an_undefined_entity() -> None:
    with pytest.raises(xmlsafe.UndefinedEntityError, match=r"line 1: entity &copy;"):
        xmlsafe.parse_bytes(b"<r>&copy;</r>")


def test_the_five_xml_entities_and_character_references_still_read() -> None:
    events = list(xmlsafe.iterparse(b"<r>&amp;&lt;&gt;&quot;&apos;&#160;&#x41;</r>"))
    assert events[-1][1].text == "&<>\"'\xa0A"
