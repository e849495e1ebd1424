"""Byte-level variants of a real 606 report: the same report in another form, or restated.

A careless (or hostile) user ingests the same report saved with CRLF line endings, re-indented
by an editor, re-published with a new ``<timestamp>``, or renamed as a FINRA bulk file; or a
broker restates a quarter with other figures. These helpers write such files.
"""

from __future__ import annotations

import re
from pathlib import Path

#: The first market-order dollar cell of Schwab's 2020 Q1 report, and the same cell restated.
SCHWAB_Q1_CELL = b"<netPmtPaidRecvMarketOrdersUsd>153528.70</netPmtPaidRecvMarketOrdersUsd>"
SCHWAB_Q1_RESTATED = b"<netPmtPaidRecvMarketOrdersUsd>153529.70</netPmtPaidRecvMarketOrdersUsd>"


def crlf(data: bytes) -> bytes:
    """The document with Windows line endings."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def reindent(data: bytes) -> bytes:
    """The document re-indented: every leading run of spaces becomes tabs, twice as deep."""
    return re.sub(rb"(?m)^( +)", lambda m: b"\t" * (2 * len(m.group(1))), data)


def retimestamp(data: bytes, timestamp: str) -> bytes:
    """The document with its ``<timestamp>`` replaced (or added after ``<qtr>``/``<bd>``)."""
    new = f"<timestamp>{timestamp}</timestamp>".encode()
    if b"<timestamp>" in data:
        return re.sub(rb"<timestamp>[^<]*</timestamp>", new, data, count=1)
    return re.sub(rb"(</qtr>|</bd>)", rb"\1" + new, data, count=1)


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with the first ``old`` replaced by ``new`` (which must be there)."""
    assert old in data, old
    return data.replace(old, new, 1)


def write(folder: Path, name: str, data: bytes) -> Path:
    """``data`` written to ``folder/name``; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path
