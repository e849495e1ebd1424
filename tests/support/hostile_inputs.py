"""Hostile inputs built at test time from the shared samples (never stored in the repository).

Names that try to act: Rich markup that would crash (``[/]``) or spoof a link, terminal escape
sequences, C1 controls and bidi overrides; CSV formulas. Files that try to exhaust: symlinks
to ``/dev/zero``, FIFOs, zip members that expand far, listings with thousands of entries.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

#: A venue name with markup that crashes Rich ([/]) and a spoofed link, a bidi override
#: and a C1 control (U+009B is the 8-bit CSI).
MARKUP_NAME = "Evil [/] [link=https://evil.example]Citadel[/link] \u202eabc \x9b31m"
#: A broker name a spreadsheet would run as a formula.
FORMULA_NAME = '=HYPERLINK("https://evil.example","Schwab")'
#: What a terminal must never receive raw from a name: ESC, C1, bidi override.
RAW_CONTROLS = ("\x1b", "\x9b", "\x85", "\u202e", "\x07")
#: File-name text (no "/") with an OSC 8 hyperlink, a colour escape and a markup link.
ESCAPE_FILE_NAME = "\x1b]8;;evil.example\x07x\x1b]8;;\x07 \x1b[31m[link=evil.example]red"


def with_names(xml: bytes, *, venue: str | None = None, broker: str | None = None) -> bytes:
    """A 606(a)(1) report with its first venue (every occurrence of that spelling) and its
    ``<bd>`` renamed; the names are XML-escaped, control characters kept as they are."""
    text = xml.decode("utf-8")
    if venue is not None:
        first = re.search(r"<name>([^<]*)</name>", text)
        assert first is not None, "no venue <name> in the report"
        text = text.replace(f"<name>{first.group(1)}</name>", f"<name>{escape(venue)}</name>")
    if broker is not None:
        text = re.sub(r"<bd>[^<]*</bd>", f"<bd>{escape(broker)}</bd>", text, count=1)
    return text.encode("utf-8")


def zip_of(members: dict[str, bytes], *, level: int = 9) -> bytes:
    """A zip archive (deflated) of ``members``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def zero_symlink(folder: Path, name: str = "endless.xml") -> Path:
    """A symlink named like a report that points at ``/dev/zero`` (endless zero bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / name
    link.symlink_to("/dev/zero")
    return link


def fifo(folder: Path, name: str = "pipe.xml") -> Path:
    """A named pipe nobody writes to: opening it for reading blocks forever."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    os.mkfifo(path)
    return path


def no_raw_controls(text: str) -> bool:
    """True when ``text`` holds none of :data:`RAW_CONTROLS`."""
    return not any(ch in text for ch in RAW_CONTROLS)
