"""Exact number parsing and formatting, and line reading, shared by the Rule 605 file formats.

Report files hold plain decimal numbers; they are read into ``Decimal`` without ever passing
through a float, and written rounded half-up to the number of places the format allows. A
number no report could hold (more than :data:`MAX_INTEGER_DIGITS` digits before the point, or
:data:`MAX_FRACTION_DIGITS` after it) and a negative count or share are refused with the rule
named (:class:`FigureError`), so that nothing downstream meets an absurd magnitude.

Files are read as a stream of lines (:func:`open_lines`): a detailed report of a million rows
never sits in memory whole. Only regular files are opened (a FIFO or a device would block or
never end), and a line longer than :data:`MAX_LINE_BYTES` ends the reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO

from pfof.errors import InputError, ParameterError
from pfof.formats.archives import open_regular
from pfof.model.money import round_half_up

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)

#: Digits before the decimal point a Rule 605 figure may have: a market center's monthly
#: shares or dollars for one symbol stay far below 10**15 (all US equity trading is ~10**13
#: dollars a month); more is a corrupt or hostile file.
MAX_INTEGER_DIGITS = 15
#: Digits after the decimal point (the amended formats write at most 6, legacy files 4).
MAX_FRACTION_DIGITS = 12
#: The largest magnitude a figure may have (exclusive).
FIGURE_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS
#: Bytes one line may have: real lines are a few hundred; a longer one is not a 605 file.
MAX_LINE_BYTES = 1 << 20


class FigureError(ParameterError):
    """A cell that reads as a number but cannot be a Rule 605 figure; ``rule`` says why
    (``range``: too many digits; ``non-negative``: a negative count or share)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _shown(text: str) -> str:
    return repr(text if len(text) <= 24 else text[:20] + "...")


def _check_digits(text: str) -> None:
    whole, _, fraction = text.lstrip("+-").partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise FigureError(
            "range",
            f"{_shown(text)} has more than {MAX_INTEGER_DIGITS} digits before the decimal "
            "point: no Rule 605 figure is that large",
        )
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise FigureError(
            "range",
            f"{_shown(text)} has more than {MAX_FRACTION_DIGITS} decimals (the formats use "
            "at most 6)",
        )


def in_range(value: Decimal) -> bool:
    """True for a finite figure below :data:`FIGURE_LIMIT` in magnitude (any exponent)."""
    return value.is_finite() and value.adjusted() < MAX_INTEGER_DIGITS  # no arithmetic


def parse_decimal(text: str) -> Decimal:
    """A plain decimal (no exponent, no NaN/Infinity) of at most :data:`MAX_INTEGER_DIGITS`
    and :data:`MAX_FRACTION_DIGITS` digits; ``ParameterError`` (:class:`FigureError` for the
    digits) otherwise."""
    if not _DECIMAL.fullmatch(text):
        raise ParameterError(f"expected a decimal number, got {_shown(text)}")
    _check_digits(text)
    return Decimal(text)


def parse_int(text: str) -> int:
    """A plain integer; ``ParameterError`` otherwise (``12.0`` is not an integer here)."""
    if not _INTEGER.fullmatch(text):
        raise ParameterError(f"expected an integer, got {_shown(text)}")
    _check_digits(text)
    return int(text)


def non_negative(value: Decimal | int) -> Decimal | int:
    """``value`` when it is zero or more; :class:`FigureError` (rule ``non-negative``) for a
    count or share below zero."""
    if value < 0:
        raise FigureError("non-negative", f"{value} is negative: counts and shares are >= 0")
    return value


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


def decoded_lines(chunks: Iterable[bytes], name: str) -> Iterator[str]:
    """UTF-8 lines of binary ``\\n``-terminated chunks, split as ``str.splitlines`` does; a
    chunk that does not decode names its line."""
    number = 0
    for index, chunk in enumerate(chunks):
        if len(chunk) > MAX_LINE_BYTES:
            raise InputError(
                f"{name}: line {number + 1} is longer than {MAX_LINE_BYTES:,} bytes; "
                "a Rule 605 line has a few hundred"
            )
        if index == 0 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name}: line {number + 1}: not UTF-8 text ({exc.reason} at byte "
                f"{exc.start + 1} of the line)"
            ) from exc
        for line in text.splitlines():
            number += 1
            yield line


def read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.readline(MAX_LINE_BYTES + 1):
        yield chunk


@contextmanager
def open_lines(source: str | Path | IO[str] | Iterable[str]) -> Iterator[tuple[Iterator[str], str]]:
    """The lines of a file (path, open text file, or already split lines), read as a stream,
    and its display name.

    A path that is no regular file, cannot be read, is not UTF-8 text or has an endless line
    raises :class:`~pfof.errors.InputError` naming it (and the line).
    """
    name = str(source) if isinstance(source, (str, Path)) else str(getattr(source, "name", ""))
    if isinstance(source, (str, Path)):
        with open_regular(source) as handle:
            try:
                yield decoded_lines(read_chunks(handle), name), name
            except OSError as exc:
                raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    elif hasattr(source, "read"):
        yield (line for chunk in source for line in chunk.splitlines()), name
    else:
        yield (line.rstrip("\r\n") for line in source), name
