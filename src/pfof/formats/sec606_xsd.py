"""An XSD pfof derives from its own Rule 606 declarations, and the fast path it enables.

:func:`derived_xsd` writes ``sec606_declarations`` (content models, ``xs:unique`` keys) and
``sec606_types`` (each type's :class:`~pfof.formats.sec606_types.Facets`) as an XML schema,
compiled once by lxml (:func:`derived_schema`); the tests prove its verdicts equal lxml's on
the SEC's own XSD, which pfof never needs, for every document without an ``xsi:type`` (which
may name one of the SEC file's types; those documents always take the detailed pass).
:func:`fast_check` lets libxml2 validate a 606(b)(1) report while parsing, without building a
tree, against a stricter variant in which a ``mic`` must be an ISO MIC pfof knows. It answers
only when the detailed validator (``sec606_validator``) could find nothing but what it can
state itself, a missing ``xsi:noNamespaceSchemaLocation``: anything else (an invalid or
malformed document, a ``mic`` that draws a warning, ``xsi:type``, a text encoding the byte
scan cannot read, another kind of report) returns None and the caller runs the detailed pass,
so verdicts and issue lists do not depend on which path ran.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import quoteattr

from lxml import etree

from pfof.formats import xmlsafe
from pfof.formats.sec606_declarations import B1_ROOT, GLOBAL_ELEMENTS
from pfof.formats.sec606_grammar import Choice, Element, Occurs, Particle, Sequence
from pfof.formats.sec606_types import SIMPLE_TYPES, Facets
from pfof.model.mics import ISO_MICS

_PREFIX = "pfof."  # derived type names: no xsi:type in a report can name one by chance
_NM = f"{_PREFIX}blank"


def _number(value: Decimal) -> str:
    return format(value, "f")


def _restriction(f: Facets) -> str:
    parts = []
    if f.collapse:
        parts.append('<xs:whiteSpace value="collapse"/>')
    if f.pattern is not None:
        parts.append(f"<xs:pattern value={quoteattr(f.pattern)}/>")
    if f.minimum is not None:
        parts.append(f'<xs:minInclusive value="{_number(f.minimum)}"/>')
    if f.maximum is not None:
        parts.append(f'<xs:maxInclusive value="{_number(f.maximum)}"/>')
    if f.min_length is not None:
        parts.append(f'<xs:minLength value="{f.min_length}"/>')
    if f.max_length is not None:
        parts.append(f'<xs:maxLength value="{f.max_length}"/>')
    parts.extend(f"<xs:enumeration value={quoteattr(v)}/>" for v in f.enumeration)
    return f'<xs:restriction base="xs:{f.base}">{"".join(parts)}</xs:restriction>'


def _simple_types(fast: bool) -> list[str]:
    out = [
        f'<xs:simpleType name="{_NM}"><xs:restriction base="xs:string">'
        '<xs:whiteSpace value="collapse"/><xs:maxLength value="0"/>'
        "</xs:restriction></xs:simpleType>"
    ]
    for name, simple in SIMPLE_TYPES.items():
        facets = simple.facets
        assert facets is not None, name
        own = f"{_PREFIX}{name}"
        if fast and name == "mic":
            facets = Facets("string", enumeration=tuple(sorted(ISO_MICS)))
        if facets.or_blank:
            out.append(f'<xs:simpleType name="{own}.value">{_restriction(facets)}</xs:simpleType>')
            out.append(
                f'<xs:simpleType name="{own}"><xs:union memberTypes="{own}.value {_NM}"/>'
                "</xs:simpleType>"
            )
        else:
            out.append(f'<xs:simpleType name="{own}">{_restriction(facets)}</xs:simpleType>')
    return out


def _occurs(p: Occurs, keys: bool) -> str:
    attrs = ""
    if p.min != 1:
        attrs += f' minOccurs="{p.min}"'
    if p.max != 1:
        attrs += f' maxOccurs="{"unbounded" if p.max is None else p.max}"'
    element = p.element
    if GLOBAL_ELEMENTS.get(element.name) is element:
        return f'<xs:element ref="{element.name}"{attrs}/>'
    return _element(element, attrs, keys)


def _particle(p: Particle, keys: bool) -> str:
    if isinstance(p, Occurs):
        return _occurs(p, keys)
    tag = "xs:sequence" if isinstance(p, Sequence) else "xs:choice"
    assert isinstance(p, Sequence | Choice)
    return f"<{tag}>{''.join(_particle(item, keys) for item in p.items)}</{tag}>"


def _element(e: Element, attrs: str = "", keys: bool = True) -> str:
    if e.simple is not None:
        return f'<xs:element name="{e.name}" type="{_PREFIX}{e.simple.name}"{attrs}/>'
    assert e.content is not None, e.name
    content = _particle(e.content, keys)
    if not isinstance(e.content, Sequence | Choice):
        content = f"<xs:sequence>{content}</xs:sequence>"
    uniques = "".join(
        f'<xs:unique name="{u.name}"><xs:selector xpath="{"/".join(u.selector)}"/>'
        + "".join(f'<xs:field xpath="{field}"/>' for field in u.fields)
        + "</xs:unique>"
        for u in (e.uniques if keys else ())
    )
    return (
        f'<xs:element name="{e.name}"{attrs}><xs:complexType>{content}</xs:complexType>'
        f"{uniques}</xs:element>"
    )


@functools.cache
def derived_xsd(fast: bool = False) -> str:
    """pfof's Rule 606 declarations written as an XML schema (text).

    ``fast`` gives the fast path's stricter variant: a ``mic`` must be one of the ISO MICs
    pfof knows (never blank), and the ``xs:unique`` keys are left to :class:`_Scan`, which
    checks them faster than libxml2 and more strictly (order ids unique across all lists).
    """
    body = _simple_types(fast) + [_element(e, keys=not fast) for e in GLOBAL_ELEMENTS.values()]
    return (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(body) + "</xs:schema>"
    )


@functools.cache
def derived_schema(fast: bool = False) -> etree.XMLSchema:
    """:func:`derived_xsd` compiled by lxml (once per process and variant)."""
    return etree.XMLSchema(xmlsafe.parse_bytes(derived_xsd(fast).encode()))


@dataclass(frozen=True)
class Root:
    """The root element of a document the fast path found valid."""

    name: str
    line: int | None
    attrib: dict[str, str]


#: Text that sends a document to the detailed pass: an ``xsi:type`` attribute (which may name
#: one of the derived schema's own types) or anything looking like one.
_TYPE = b":type"
#: An order id the byte scan can compare: no reference, carriage return or markup inside, so
#: equal bytes are equal values and unequal bytes unequal ones (``orderId`` keeps white space).
_ORDER_ID = re.compile(rb"<orderId(?:>([^<&\r]+)</orderId>)?")  # b"" when not plain
_ID_MARK = b"<orderId"
_SPACE = b" \t\r\n"
_HEAD_STEP = 1024  # bytes fed at a time to find the root start tag
_PROLOG = 512  # bytes that must show the XML declaration's encoding
#: Encodings in which ``_TYPE`` is spelled in these bytes (ASCII-compatible ones).
_BYTE_ENCODINGS = {
    "utf-8",
    "utf8",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "latin-1",
    "latin1",
    "windows-1252",
    "cp1252",
}
_DECLARED = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


class _Scan:
    """Reads the bytes the validating parser is fed: the root element, and the byte checks."""

    def __init__(self) -> None:
        self.head: etree.XMLPullParser | None = xmlsafe.pull_parser()
        self.root: Root | None = None
        self.carry = b""  # the bytes after the last complete order id
        self.prolog: bytes | None = b""  # the first bytes, until the encoding is known
        self.ids: set[bytes] = set()

    def __call__(self, chunk: bytes, last: bool) -> bool:
        if self.prolog is not None:  # decided once its first 512 bytes are in
            self.prolog += chunk
            if len(self.prolog) >= _PROLOG or last:
                if not _byte_readable(self.prolog):
                    return False
                self.prolog = None
        if self.head is not None and not self._read_root(chunk):
            return False
        buf = self.carry + chunk if self.carry else chunk
        if not _no_xsi_type(buf, len(self.carry)):  # the carry's were looked at before
            return False
        cut = len(buf) if last else buf.rfind(_ID_MARK)  # the last id may be incomplete
        if cut < 0:
            cut = max(0, len(buf) - len(_ID_MARK) + 1)  # ... and so may a mark at the end
        self.carry = buf[cut:]
        return self._unique_ids(buf, cut)

    def _unique_ids(self, buf: bytes, end: int) -> bool:
        """Every order id starting before ``end`` is plainly written and new: the schema's
        ``xs:unique`` order-id keys hold (here across the three lists, more strictly)."""
        found = _ORDER_ID.findall(buf, 0, end)
        before = len(self.ids)
        self.ids.update(found)
        return len(self.ids) == before + len(found) and b"" not in self.ids

    def _read_root(self, chunk: bytes) -> bool:
        """Find the root start tag (in the first bytes); only a 606(b)(1) root goes on."""
        assert self.head is not None
        if not chunk:
            return False
        try:
            for at in range(0, len(chunk), _HEAD_STEP):
                self.head.feed(chunk[at : at + _HEAD_STEP])
                for _, elem in self.head.read_events():
                    tag = elem.tag if isinstance(elem.tag, str) else ""
                    if tag != B1_ROOT.name:
                        return False
                    self.root = Root(tag, elem.sourceline, dict(elem.attrib))
                    self.head = None
                    return True
        except etree.XMLSyntaxError:
            return False
        return True


def _no_xsi_type(buf: bytes, start: int) -> bool:
    """Whether no ``=`` in ``buf`` from ``start`` on follows a name ending in ``:type`` (an
    ``xsi:type`` attribute, or text that looks like one). ``=`` is rare outside the root's
    start tag, so this is quicker than searching for ``:type`` in times full of colons; an
    ``=`` whose name may begin before ``buf`` counts as one."""
    at = buf.find(b"=", start)
    while at >= 0:
        end = at
        while end > 0 and buf[end - 1] in _SPACE:
            end -= 1
        if end < len(_TYPE) or buf.endswith(_TYPE, 0, end):
            return False
        at = buf.find(b"=", at + 1)
    return True


def _byte_readable(chunk: bytes) -> bool:
    """Whether the document's markup can be searched in its bytes: UTF-8 or another
    ASCII-compatible encoding (a UTF-16 or EBCDIC document goes to the detailed pass)."""
    head = chunk[:_PROLOG]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head[:4] or head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x4c\x6f\xa7\x94")):
        return False
    if not head.startswith(b"<?xml"):
        return True  # no declaration: UTF-8
    if b"?>" not in head:
        return False
    declared = _DECLARED.match(head)
    return declared is None or declared.group(1).decode("ascii").lower() in _BYTE_ENCODINGS


def fast_check(source: xmlsafe.Source) -> Root | None:
    """The root of a 606(b)(1) report whose detailed validation can find nothing but a missing
    ``xsi:noNamespaceSchemaLocation``, or None when the detailed pass must run.

    A seekable stream is left where it was; an unseekable one is not read (None).
    """
    stream: xmlsafe.Source = source
    start = 0
    if not isinstance(source, bytes | str | os.PathLike):
        if not source.seekable():
            return None
        start = source.tell()
    scan = _Scan()
    try:
        valid = xmlsafe.schema_valid(stream, derived_schema(fast=True), scan)
    finally:
        if not isinstance(source, bytes | str | os.PathLike):
            source.seek(start)
    return scan.root if valid and scan.root is not None else None
