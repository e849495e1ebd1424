"""What a broker was likely paid for one order, from its Rule 606(a)(1) disclosures.

A 606(a)(1) report gives, per month, section (S&P 500 stocks, other stocks, options), venue
and order type, the share of non-directed orders routed to the venue and the net payment
with its rate: cents per 100 shares for stocks, cents per contract for options
(:mod:`~pfof.engine.payment_rates`). For one order of a known quarter, section and order type:

* **venue known**: the venue's payment-weighted rate over the quarter's months,
  ``sum(usd) / sum(usd / rate)`` over the venue's cells reporting both (total cents over the
  volume they imply); a venue listed without any payment has rate 0.
* **venue unknown**: the broker's routing-weighted rate, ``sum(pct * rate) / sum(pct)`` over
  every listed venue and month, ``pct`` being the venue's share of the order type's
  non-directed orders (``routed_pct``); a listed venue with no payment counts with rate 0.

The estimate is ``rate * quantity / 10,000`` dollars for shares and ``rate * contracts / 100``
for options (positive: paid to the broker). Brokers and venues match across spellings
(:mod:`~pfof.engine.venue_identity`); a venue named by a shorter name ("Citadel") matches the
one listed venue whose name starts with it ("Citadel Securities LLC").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal

from pfof.engine.cell_input import CellSource, as_cells
from pfof.engine.payment_rates import PaymentSums
from pfof.engine.venue_identity import VenueResolver, broker_key, mic_code, normalise_name
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import A1Cell

__all__ = ["PaymentRate", "PaymentRateBook", "payment_usd"]

_ZERO = Decimal(0)
_PREC = 50
Basis = Literal["venue", "routing_weighted"]
Missing = Literal["no_606", "not_in_606", "venue_not_in_606"]


@dataclass(frozen=True, slots=True)
class PaymentRate:
    """A rate (cents per 100 shares, per contract for options) and how it was chosen, or why
    there is none (``missing``)."""

    rate: Decimal | None
    basis: Basis | None = None
    venue: str | None = None  # the report's name of the matched venue
    missing: Missing | None = None


def payment_usd(rate: Decimal, quantity: Decimal, section: Section) -> Decimal:
    """Dollars paid for ``quantity`` shares (contracts for options) at ``rate``: exact."""
    divisor = 100 if section is Section.OPTIONS else 10_000
    with localcontext(prec=_PREC):
        return rate * quantity / divisor


def _cell_rate(cell: A1Cell) -> Decimal | None:
    """The cell's rate; 0 for a listed venue that reported no payment; None if unknowable."""
    if cell.rate is not None:
        return cell.rate
    if cell.net_payment_usd is None or cell.net_payment_usd == 0:
        return _ZERO
    return None


class PaymentRateBook:
    """Reported 606(a)(1) cells indexed by broker, quarter, section and order type."""

    def __init__(self, cells: CellSource) -> None:
        rows = as_cells(cells)
        self._resolver = VenueResolver(rows)
        self._broker_keys: dict[str, str] = {}
        self._found: dict[tuple[object, ...], PaymentRate] = {}
        self._quarters: set[tuple[str, int, int]] = set()
        self._cells: defaultdict[tuple[str, int, int, Section, OrderType], list[A1Cell]] = (
            defaultdict(list)
        )
        for cell in rows:
            key = broker_key(cell.broker)
            self._quarters.add((key, cell.year, cell.quarter))
            self._cells[(key, cell.year, cell.quarter, cell.section, cell.order_type)].append(cell)

    def _broker(self, broker: str) -> str:
        key = self._broker_keys.get(broker)
        if key is None:
            key = self._broker_keys[broker] = broker_key(broker)
        return key

    def has_report(self, broker: str, year: int, quarter: int) -> bool:
        """Whether any cell of ``broker``'s report for the quarter is held."""
        return (self._broker(broker), year, quarter) in self._quarters

    def rate(
        self,
        broker: str,
        year: int,
        quarter: int,
        section: Section,
        order_type: OrderType,
        venue: str | None = None,
    ) -> PaymentRate:
        """The rate for one order (module docstring), or why there is none."""
        key = (self._broker(broker), year, quarter, section, order_type, venue)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._lookup(*key)
        return found

    def _lookup(
        self,
        broker: str,
        year: int,
        quarter: int,
        section: Section,
        order_type: OrderType,
        venue: str | None,
    ) -> PaymentRate:
        """:meth:`rate` uncached, ``broker`` being a broker key."""
        if (broker, year, quarter) not in self._quarters:
            return PaymentRate(None, missing="no_606")
        cells = self._cells.get((broker, year, quarter, section, order_type), [])
        if not cells:
            return PaymentRate(None, missing="not_in_606")
        if venue is None or not venue.strip():
            rate = _routing_weighted(cells)
            return PaymentRate(
                rate, basis="routing_weighted", missing=None if rate is not None else "not_in_606"
            )
        mine = self._venue_cells(cells, venue)
        if not mine:
            return PaymentRate(None, basis="venue", missing="venue_not_in_606")
        name = next((c.venue_name for c in mine if c.venue_name), None)
        rate = _venue_rate(mine)
        return PaymentRate(
            rate, basis="venue", venue=name, missing=None if rate is not None else "not_in_606"
        )

    def _venue_cells(self, cells: list[A1Cell], venue: str) -> list[A1Cell]:
        """The cells of the one listed venue ``venue`` names (MIC, MPID or name)."""
        wanted = {self._resolver.key(venue, None, None), f"mpid:{venue.strip().upper()}"}
        code = mic_code(venue)
        if code is not None:
            wanted.add(f"mic:{code}")
        keys = {self._resolver.key(c.venue_name, c.mic, c.mpid): c for c in cells}
        exact = [c for c in cells if self._resolver.key(c.venue_name, c.mic, c.mpid) in wanted]
        if exact:
            return exact
        words = normalise_name(venue).split()
        if not words:
            return []
        prefixed = {
            key
            for key, cell in keys.items()
            if normalise_name(cell.venue_name).split()[: len(words)] == words
        }
        if len(prefixed) != 1:
            return []
        (key,) = prefixed
        return [c for c in cells if self._resolver.key(c.venue_name, c.mic, c.mpid) == key]


def _venue_rate(cells: list[A1Cell]) -> Decimal | None:
    sums = PaymentSums()
    for cell in cells:
        sums.add(cell)
    if sums.rate is not None:
        return sums.rate
    if all(c.net_payment_usd is None or c.net_payment_usd == 0 for c in cells):
        return _ZERO
    return None


def _routing_weighted(cells: list[A1Cell]) -> Decimal | None:
    weighted = weights = _ZERO
    for cell in cells:
        pct = cell.routed_pct
        rate = _cell_rate(cell)
        if pct is None or pct <= 0 or rate is None:
            continue
        weighted += pct * rate
        weights += pct
    if weights == 0:
        return None
    with localcontext(prec=_PREC):
        return weighted / weights
