"""Vocabulary of the per-order quality table (``tables.ORDER_QUALITY``)."""

from __future__ import annotations

from enum import StrEnum


class NbboState(StrEnum):
    """State of the NBBO in force at order receipt (docs/metrics.md, "Quote states").

    Spread and price-improvement metrics are computed for NORMAL, LOCKED and CROSSED (the
    quoted spread and E/Q only for NORMAL and LOCKED).
    """

    NORMAL = "normal"  # bid < ask, both present
    LOCKED = "locked"  # bid == ask
    CROSSED = "crossed"  # bid > ask
    ONE_SIDED = "one_sided"  # exactly one side present
    EMPTY = "empty"  # no quote yet for the symbol, or neither side present
    STALE = "stale"  # another session's or a pre-open quote, or older than an opt-in age


class QuotePosition(StrEnum):
    """Average execution price relative to the NBBO far side at receipt."""

    INSIDE = "inside"  # better than the quote: price improvement
    AT = "at"
    OUTSIDE = "outside"
