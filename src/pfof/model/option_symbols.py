"""Option contract symbols in the OCC (OSI) format, and one spelling of a symbol for matching.

An OCC symbol names a listed option: the root (1-6 characters), the expiry ``YYMMDD``, ``C``
or ``P`` and the strike in thousandths of a dollar on 8 digits, e.g. ``AAPL220520C00155000``
(the AAPL $155 call expiring 2022-05-20). Feeds spell it padded to 21 characters
(``AAPL  220520C00155000``, OPRA and Databento) or with a prefix (``O:AAPL220520C00155000``,
Polygon). :func:`canonical_symbol` gives every spelling one key, so a trade file and a quote
file written by different firms still meet. Standard US equity options deliver 100 shares
per contract (:data:`CONTRACT_MULTIPLIER`); prices are quoted per share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = ["CONTRACT_MULTIPLIER", "OptionSymbol", "canonical_symbol", "parse_option_symbol"]

#: Shares per standard US equity option contract.
CONTRACT_MULTIPLIER = 100

_OCC = re.compile(r"^(?:O:)?([A-Z][A-Z0-9.]{0,5}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


@dataclass(frozen=True, slots=True)
class OptionSymbol:
    """The parts of an OCC option symbol."""

    root: str
    expiry: date
    right: str  # "C" (call) or "P" (put)
    strike: Decimal  # dollars

    @property
    def symbol(self) -> str:
        """The compact OCC spelling: ``AAPL220520C00155000``."""
        return f"{self.root}{self.expiry:%y%m%d}{self.right}{int(self.strike * 1000):08d}"


def parse_option_symbol(text: str) -> OptionSymbol | None:
    """The option named by ``text`` (compact, space-padded or ``O:``-prefixed OCC), or ``None``
    when ``text`` is not an OCC option symbol (a stock ticker, for instance).

    >>> parse_option_symbol("O:AAPL220520C00155000").strike
    Decimal('155')
    """
    match = _OCC.match(text.strip().upper())
    if match is None:
        return None
    root, yy, mm, dd, right, strike = match.groups()
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        return None
    return OptionSymbol(root, expiry, right, Decimal(int(strike)) / 1000)


def canonical_symbol(text: str) -> str:
    """One spelling per instrument: upper case, trimmed; options in compact OCC form."""
    option = parse_option_symbol(text)
    return option.symbol if option is not None else text.strip().upper()
