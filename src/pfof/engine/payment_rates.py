"""Payment-weighted rates and implied volumes of reported Rule 606(a)(1) cells.

Units (SEC Rule 606 XML): ``...Usd`` is a net payment in dollars (negative = paid by the broker);
``...Cph`` ("rate") is cents per 100 shares for stocks and, as real reports do, cents per
contract for options. Hence a cell that reports both implies a routed volume of

* stocks:  ``shares    = usd * 100 [cents/$] / rate [cents/100 sh] * 100 = usd * 10_000 / rate``
* options: ``contracts = usd * 100 [cents/$] / rate [cents/contract]      = usd * 100 / rate``

and the payment-weighted rate of a set of cells is ``sum(usd) / sum(usd / rate)`` over the cells
that report both (with a non-zero rate): total cents over total volume, in the rate's own unit.
Money stays ``Decimal``; quotients are computed at 50 significant digits and rounded only when
rendered (to :data:`RATE_PLACES`, the format's precision).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from pfof.engine.cell_input import CellSource, as_cells
from pfof.model.enums import Section
from pfof.model.reports606 import A1Cell

__all__ = [
    "RATE_PLACES",
    "STOCK_SECTIONS",
    "PaymentSums",
    "exact_ratio",
    "implied_volume",
    "payment_weighted_rate",
]

STOCK_SECTIONS = (Section.SP500, Section.OTHER_STOCKS)
#: The 606 format's precision of a rate (cents per 100 shares or per contract).
RATE_PLACES = Decimal("0.0001")
_PREC = 50
_ZERO = Decimal(0)


def exact_ratio(num: Decimal, den: Decimal) -> Decimal | None:
    """``num / den`` to 50 significant digits; ``None`` when ``den`` is zero."""
    if den == 0:
        return None
    with localcontext(prec=_PREC):
        return num / den


@dataclass(slots=True)
class PaymentSums:
    """Running sums for a payment-weighted rate: USD, USD over reporting cells, USD/rate."""

    usd: Decimal = _ZERO
    rated_usd: Decimal = _ZERO
    usd_per_rate: Decimal = _ZERO

    def add(self, cell: A1Cell) -> None:
        """Count one cell's payment (and its rate, when it reports a non-zero one)."""
        if cell.net_payment_usd is None:
            return
        self.usd += cell.net_payment_usd
        if cell.rate is not None and cell.rate != 0:
            with localcontext(prec=_PREC):
                self.usd_per_rate += cell.net_payment_usd / cell.rate
            self.rated_usd += cell.net_payment_usd

    @property
    def rate(self) -> Decimal | None:
        """The payment-weighted rate of the cells added, ``None`` when none reported one."""
        return exact_ratio(self.rated_usd, self.usd_per_rate)


def payment_weighted_rate(cells: CellSource) -> Decimal | None:
    """``sum(usd) / sum(usd / rate)`` over cells reporting both (rate != 0); ``None`` if none."""
    sums = PaymentSums()
    for cell in as_cells(cells):
        sums.add(cell)
    return sums.rate


def implied_volume(usd_per_rate: Decimal, section: Section) -> Decimal:
    """Routed volume implied by ``sum(usd / rate)``: shares (stocks) or contracts (options)."""
    factor = 100 if section is Section.OPTIONS else 10_000
    return usd_per_rate * factor
