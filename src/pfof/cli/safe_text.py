"""Names from files shown as data: never Rich markup, never terminal control.

Broker and venue names, file names, zip member names and paths come from files anyone can
write. Printed as they are, ``[/]`` in a venue name is a Rich markup error, ``[link=...]`` a
clickable spoofed name, and ESC, C1 or bidi-override characters move the cursor, retitle the
terminal or reverse the text after them. Every such string goes through this module on its
way to the terminal: :func:`visible` spells control characters as escapes (``\\x1b``,
``\\u202e``), :func:`markup` also escapes Rich markup for use inside a markup string, and
:func:`cell` gives a Rich ``Text`` that is never parsed as markup. :func:`csv_cell` keeps a
spreadsheet from running a cell as a formula. Imports only Rich and the standard library.
"""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

__all__ = ["cell", "csv_cell", "markup", "visible"]

#: Bidirectional formatting characters (embeddings, overrides, isolates, marks).
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_SHOWN_RAW = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\u2028\u2029{_BIDI}]")
#: A plain decimal number: spreadsheets read it as a number, never as a formula.
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with every control character (C0, DEL, C1), line or paragraph separator and
    bidi formatting character written as a visible escape: ``"a\\x1b[31m"`` shows as
    ``a\\x1b[31m``, never as red.

    >>> visible("Evil\\x1b]8;;http://x\\x07 \\u202eabc")
    'Evil\\\\x1b]8;;http://x\\\\x07 \\\\u202eabc'
    """
    return _SHOWN_RAW.sub(_escape_char, str(text))


def markup(text: object) -> str:
    """``text`` ready to sit inside a Rich markup string: :func:`visible`, and ``[`` escaped
    so that nothing in it opens or closes a tag.

    >>> markup("Evil [/] [link=https://x]Citadel[/link]")
    'Evil \\\\[/] \\\\[link=https://x]Citadel\\\\[/link]'
    """
    return escape(visible(text))


def cell(text: object, style: str = "") -> Text:
    """A table cell (or any renderable) showing ``text`` as it is, control characters made
    :func:`visible`; Rich never parses a ``Text`` as markup."""
    return Text(visible(text), style=style)


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula (OWASP's CSV-injection guidance).

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'``; control characters are made :func:`visible`. A plain decimal number (``-6.46``)
    is left as it is: a number is no formula, and negative figures stay numbers. ``None`` and
    non-strings pass through (``--json`` keeps every value exact).

    >>> csv_cell("=HYPERLINK(1)"), csv_cell("-6.46"), csv_cell("-1+1"), csv_cell(None)
    ("'=HYPERLINK(1)", '-6.46', "'-1+1", None)
    """
    if not isinstance(value, str):
        return value
    if _NUMBER.fullmatch(value):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return visible(value)
