"""Hypothesis strategies that turn the shared samples into mutated and hostile inputs.

Each strategy takes real bytes (a 606 report, a Rule 605 file, CSVW metadata, a Parquet
partition) and draws one to three mutations: byte-level (truncate, flip, delete, duplicate,
insert hostile text anywhere) or structural (a field or element's text replaced by a hostile
value: markup, terminal escapes, bidi overrides, entities, DOCTYPEs, absurd or negative
numbers, NaN, non-UTF-8 bytes). Nothing here decides what is valid: the fuzz tests only
require that every outcome is an ordinary one.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from support.hostile_inputs import ESCAPE_FILE_NAME, FORMULA_NAME, MARKUP_NAME

#: Text an attacker or a careless export puts in a cell, an element or a name.
HOSTILE_TEXT = (
    MARKUP_NAME,
    FORMULA_NAME,
    ESCAPE_FILE_NAME,
    "[/]",
    "[link=https://evil.example]x[/link]",
    "\u202e\u2066",
    "\x85\x9b31m",
    "&nbsp;",
    "&#0;",
    "&#x1b;",
    "<!DOCTYPE r [<!ENTITY a 'b'>]>",
    "<![CDATA[x]]>",
    "9" * 40,
    "9" * 5000,
    "-1",
    "-0.0000001",
    "1e999999999",
    "-1e999999999",
    "NaN",
    "inf",
    "0." + "0" * 60 + "1",
    "",
    " ",
    "|",
    ",",
    '"',
    "\t",
    "\r",
    "\n",
    "=1+1",
    "@SUM(A1)",
    "2024-13-45",
    "0000-00-00",
)
HOSTILE_BYTES = (
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xc3\x28",
    b"\x1b[31m",
    b"\xe2\x80\xae",
)


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` after one to three byte-level mutations."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "delete", "duplicate", "insert"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "truncate":
            del out[at:]
        elif kind == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        elif kind == "duplicate":
            out[at:at] = out[at : at + draw(st.integers(1, 256))]
        else:
            hostile = draw(
                st.sampled_from(HOSTILE_BYTES)
                | st.sampled_from(HOSTILE_TEXT).map(lambda t: t.encode("utf-8"))
            )
            out[at:at] = hostile
    return bytes(out)


_TEXT_NODE = re.compile(rb">([^<>]{1,200})</")


@st.composite
def mutated_xml(draw: st.DrawFn, data: bytes) -> bytes:
    """A 606 report with element texts replaced by hostile values (XML-escaped or raw), and
    sometimes byte-level damage on top."""
    out = data
    spans = [m.span(1) for m in _TEXT_NODE.finditer(data)]
    for _ in range(draw(st.integers(1, 3))):
        if not spans:
            break
        start, end = draw(st.sampled_from(spans))
        text = draw(st.sampled_from(HOSTILE_TEXT))
        raw = draw(st.booleans())
        value = text if raw else text.replace("&", "&amp;").replace("<", "&lt;")
        out = out[:start] + value.encode("utf-8") + out[end:]
        spans = [m.span(1) for m in _TEXT_NODE.finditer(out)]
    if draw(st.booleans()):
        out = draw(mutated_bytes(out))
    return out


@st.composite
def mutated_lines(draw: st.DrawFn, lines: list[str], delimiter: str) -> str:
    """A delimited file (Rule 605) with cells replaced by hostile values, lines duplicated or
    dropped, and sometimes byte-level damage (returned as text with surrogates escaped)."""
    out = list(lines)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        row = draw(st.integers(0, len(out) - 1))
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "copy", "cut"]))
        cells = out[row].split(delimiter)
        if kind == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(HOSTILE_TEXT))
            out[row] = delimiter.join(cells)
        elif kind == "drop":
            del out[row]
        elif kind == "copy":
            out.insert(row, out[row])
        else:
            out[row] = delimiter.join(cells[: draw(st.integers(0, len(cells)))])
    return "\n".join(out) + "\n"
