"""Exact number parsing and formatting shared by the Rule 605 file formats.

Report files hold plain decimal numbers; they are read into ``Decimal`` without ever passing
through a float, and written rounded half-up to the number of places the format allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def parse_decimal(text: str) -> Decimal:
    """A plain decimal (no exponent, no NaN/Infinity); ``ValueError`` otherwise."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"expected a decimal number, got {text!r}")
    return Decimal(text)


def parse_int(text: str) -> int:
    """A plain integer; ``ValueError`` otherwise (``12.0`` is not an integer here)."""
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"expected an integer, got {text!r}")
    return int(text)


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round to ``places`` decimals, a 5 in the next digit rounding away from zero."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_fixed(value: Decimal | None, places: int) -> str:
    """Fixed number of decimals (legacy report style: ``0.0100``); empty for ``None``."""
    if value is None:
        return ""
    text = f"{round_half_up(value, places):f}"
    return "0" + text[2:] if text.startswith("-0") and Decimal(text) == 0 else text


def format_trimmed(value: Decimal | int | None, places: int = 6) -> str:
    """At most ``places`` decimals, trailing zeros dropped, never an exponent (amended style)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    rounded = round_half_up(value, places)
    if rounded == 0:
        return "0"
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def read_lines(source: str | Path | IO[str] | Iterable[str]) -> tuple[list[str], str]:
    """Lines of a file (path, open text file, or already split lines) and its display name."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return handle.read().splitlines(), str(path)
    name = str(getattr(source, "name", ""))
    if hasattr(source, "read"):
        return source.read().splitlines(), name  # type: ignore[union-attr]
    return [line.rstrip("\r\n") for line in source], name
