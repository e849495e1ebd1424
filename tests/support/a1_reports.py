"""Hand-built Rule 606(a)(1) reports for the disclosure analytics' tests."""

from __future__ import annotations

from decimal import Decimal

from pfof.model.enums import OrderType
from pfof.model.reports606 import A1Month, A1Section, A1Venue, HeldOrderRoutingReport

D = Decimal


def venue(
    name: str,
    pct: str | None = None,
    *,
    mic: str | None = None,
    mpid: str | None = None,
    **money: str | None,
) -> A1Venue:
    """A venue; ``money`` keys like ``market_usd="1.00", market_cph="2.0000"``."""
    fields = {
        f"{ot.value}_{kind}": (
            D(money[f"{ot.value}_{kind}"]) if money.get(f"{ot.value}_{kind}") else None
        )
        for ot in OrderType
        for kind in ("pct", "usd", "cph")
    }
    return A1Venue(
        name=name,
        mic=mic,
        mpid=mpid,
        order_pct=D(pct) if pct else None,
        material_aspects="",
        **fields,
    )


def section(*venues: A1Venue) -> A1Section:
    """A section listing ``venues`` (no order-type percentages)."""
    return A1Section(None, None, None, None, None, tuple(venues))


def report(
    bd: str, year: int, qtr: int, months: list[dict[str, A1Section]]
) -> HeldOrderRoutingReport:
    """A report of ``bd``; each month maps section names (``sp500``...) to sections."""
    return HeldOrderRoutingReport(
        version="1.3",
        bd=bd,
        year=year,
        qtr=qtr,
        timestamp=None,
        months=tuple(
            A1Month(
                year, 3 * (qtr - 1) + i + 1, m.get("sp500"), m.get("other_stocks"), m.get("options")
            )
            for i, m in enumerate(months)
        ),
    )
