"""Exact number parsing and formatting shared by the Rule 605 file formats.

Report files hold plain decimal numbers; they are read into ``Decimal`` without ever passing
through a float, and written rounded half-up to the number of places the format allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO

from pfof.errors import InputError, ParameterError
from pfof.model.money import round_half_up

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def parse_decimal(text: str) -> Decimal:
    """A plain decimal (no exponent, no NaN/Infinity); ``ParameterError`` otherwise."""
    if not _DECIMAL.fullmatch(text):
        raise ParameterError(f"expected a decimal number, got {text!r}")
    return Decimal(text)


def parse_int(text: str) -> int:
    """A plain integer; ``ParameterError`` otherwise (``12.0`` is not an integer here)."""
    if not _INTEGER.fullmatch(text):
        raise ParameterError(f"expected an integer, got {text!r}")
    return int(text)


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
    """Lines of a file (path, open text file, or already split lines) and its display name.

    A file that cannot be read, or is not UTF-8 text, raises :class:`~pfof.errors.InputError`
    naming it.
    """
    name = str(source) if isinstance(source, (str, Path)) else str(getattr(source, "name", ""))
    try:
        if isinstance(source, (str, Path)):
            with Path(source).open(encoding="utf-8-sig", newline="") as handle:
                return handle.read().splitlines(), name
        if hasattr(source, "read"):
            return source.read().splitlines(), name
        return [line.rstrip("\r\n") for line in source], name
    except OSError as exc:
        raise InputError(f"{name or 'input'}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name or 'input'}: not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from exc
