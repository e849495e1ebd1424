"""Typed models of the three SEC Rule 606 XML reports, holding exact ``Decimal`` values.

``None`` stands for a blank (or absent optional) value: the SEC schema lets every numeric
field be blank ("not meaningful"). Field names follow the XML elements in snake case.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from pfof.model.enums import OrderType, Section

Num = Decimal | None

#: Digits a 606 figure may have before the decimal point: 15, amounts below one quadrillion
#: dollars (some 100,000 times a year's payment for order flow in the whole US market). The
#: SEC's ``xs:decimal`` sets no bound, but every XML Schema processor need only hold 18 digits,
#: and sums of such figures stay exact in the store's DECIMAL(38, ...) columns.
FIGURE_INTEGER_DIGITS = 15
#: Decimal places the store keeps exactly: 606(a)(1) cells are DECIMAL(38, 10) (the format has
#: 2 or 4 places), 606(b)(3) figures DECIMAL(38, 18) (the SEC's own sample has 12).
A1_PLACES = 10
B3_PLACES = 18
#: The Herfindahl-Hirschman index of venue percentages (sum of their squares) when one venue
#: receives every order: no share of one set of orders gives more.
HHI_MAX = Decimal(10_000)

# ---------------------------------------------------------------- 606(a)(1)


@dataclass(frozen=True, slots=True)
class A1Venue:
    """One ``rVenue``: routing shares and net payments for one venue in one section-month."""

    name: str | None
    mic: str | None
    mpid: str | None
    order_pct: Num
    market_pct: Num
    marketable_limit_pct: Num
    non_marketable_limit_pct: Num
    other_pct: Num
    market_usd: Num
    market_cph: Num
    marketable_limit_usd: Num
    marketable_limit_cph: Num
    non_marketable_limit_usd: Num
    non_marketable_limit_cph: Num
    other_usd: Num
    other_cph: Num
    material_aspects: str

    @classmethod
    def by_order_type(
        cls,
        name: str | None,
        mic: str | None,
        mpid: str | None,
        order_pct: Num,
        pcts: Mapping[OrderType, Num],
        usd: Mapping[OrderType, Num],
        cph: Mapping[OrderType, Num],
        material_aspects: str,
    ) -> A1Venue:
        """A venue from its per-order-type percentages, net payments and rates."""
        return cls(
            name,
            mic,
            mpid,
            order_pct,
            market_pct=pcts[OrderType.MARKET],
            marketable_limit_pct=pcts[OrderType.MARKETABLE_LIMIT],
            non_marketable_limit_pct=pcts[OrderType.NON_MARKETABLE_LIMIT],
            other_pct=pcts[OrderType.OTHER],
            market_usd=usd[OrderType.MARKET],
            market_cph=cph[OrderType.MARKET],
            marketable_limit_usd=usd[OrderType.MARKETABLE_LIMIT],
            marketable_limit_cph=cph[OrderType.MARKETABLE_LIMIT],
            non_marketable_limit_usd=usd[OrderType.NON_MARKETABLE_LIMIT],
            non_marketable_limit_cph=cph[OrderType.NON_MARKETABLE_LIMIT],
            other_usd=usd[OrderType.OTHER],
            other_cph=cph[OrderType.OTHER],
            material_aspects=material_aspects,
        )

    def pct(self, order_type: OrderType) -> Num:
        return getattr(self, f"{order_type.value}_pct")

    def usd(self, order_type: OrderType) -> Num:
        return getattr(self, f"{order_type.value}_usd")

    def cph(self, order_type: OrderType) -> Num:
        return getattr(self, f"{order_type.value}_cph")


@dataclass(frozen=True, slots=True)
class A1Section:
    """``rSP500`` / ``rOtherStocks`` / ``rOptions`` for one month."""

    ndo_pct: Num
    ndo_market_pct: Num
    ndo_marketable_limit_pct: Num
    ndo_nonmarketable_limit_pct: Num
    ndo_other_pct: Num
    venues: tuple[A1Venue, ...]


@dataclass(frozen=True, slots=True)
class A1Month:
    year: int
    mon: int
    sp500: A1Section | None
    other_stocks: A1Section | None
    options: A1Section | None

    def section(self, section: Section) -> A1Section | None:
        return getattr(self, section.value)


@dataclass(frozen=True, slots=True)
class HeldOrderRoutingReport:
    """606(a)(1) quarterly public report (``heldOrderRoutingPublicReport``)."""

    version: str
    bd: str
    year: int
    qtr: int
    timestamp: datetime | None
    months: tuple[A1Month, ...]


@dataclass(frozen=True, slots=True)
class A1Cell:
    """One reported cell of a 606(a)(1) report: a venue x section x month x order type.

    ``rate`` is the reported ``...Cph`` value: cents per 100 shares for stocks, and (as real
    options sections report it) cents per contract for options.
    """

    broker: str
    year: int
    quarter: int
    month: int
    section: Section
    venue_name: str | None
    mic: str | None
    mpid: str | None
    order_type: OrderType
    venue_pct: Num  # % of the section's non-directed orders routed to the venue
    routed_pct: Num  # % of the section's non-directed orders of this type routed to the venue
    net_payment_usd: Num
    rate: Num
    venue_index: int  # 1-based position of the venue in its rVenues


def a1_cells(report: HeldOrderRoutingReport) -> Iterator[A1Cell]:
    """Flatten a 606(a)(1) report into one row per reported cell."""
    for month in report.months:
        for section in Section:
            block = month.section(section)
            if block is None:
                continue
            yield from section_cells(report.bd, report.year, report.qtr, month.mon, section, block)


def section_cells(
    broker: str, year: int, qtr: int, mon: int, section: Section, block: A1Section
) -> Iterator[A1Cell]:
    """Cells of one section-month (shared by the model flattener and the streaming reader)."""
    for index, venue in enumerate(block.venues, start=1):
        for order_type in OrderType:
            yield A1Cell(
                broker=broker,
                year=year,
                quarter=qtr,
                month=mon,
                section=section,
                venue_name=venue.name,
                mic=venue.mic,
                mpid=venue.mpid,
                order_type=order_type,
                venue_pct=venue.order_pct,
                routed_pct=venue.pct(order_type),
                net_payment_usd=venue.usd(order_type),
                rate=venue.cph(order_type),
                venue_index=index,
            )


# ---------------------------------------------------------------- 606(b)(1)


@dataclass(frozen=True, slots=True)
class B1Transaction:
    date: date
    time: time


@dataclass(frozen=True, slots=True)
class B1Route:
    venue_name: str | None
    mic: str | None
    mpid: str | None
    transactions: tuple[B1Transaction, ...]


@dataclass(frozen=True, slots=True)
class B1Order:
    order_id: str
    directed: bool
    routes: tuple[B1Route, ...]


@dataclass(frozen=True, slots=True)
class CustomerRoutingReport:
    """606(b)(1) customer report (``heldExemptNotHeldOrderRoutingCustomerReport``).

    ``held``, ``not_held_exempt`` and ``options`` are ``None`` when the element is absent and
    an empty tuple when it is present with no orders.
    """

    version: str
    customer: str
    bd: str
    timestamp: datetime | None
    start_date: date
    end_date: date
    held: tuple[B1Order, ...] | None
    not_held_exempt: tuple[B1Order, ...] | None
    options: tuple[B1Order, ...] | None


# ---------------------------------------------------------------- 606(b)(3)


@dataclass(frozen=True, slots=True)
class B3IoiVenue:
    venue_name: str
    mic: str | None
    mpid: str | None


#: The figures of a 606(b)(3) ``iVenue`` in schema order, the one list of them in pfof:
#: (XML element name, model attribute name, SEC schema simple type).
B3_VENUE_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("routedShr", "routed_shr", "ShrType"),
    ("iocRoutedShr", "ioc_routed_shr", "ShrType"),
    ("furtherRoutableShr", "further_routable_shr", "ShrType"),
    ("orderSizeShr", "order_size_shr", "ShrType"),
    ("executedShr", "executed_shr", "ShrType"),
    ("filledPct", "filled_pct", "PctOrNmType"),
    ("fillSizeShr", "fill_size_shr", "ShrType"),
    ("netFeeOrRebateCph", "net_fee_or_rebate_cph", "CphType"),
    ("midpointShr", "midpoint_shr", "ShrType"),
    ("midpointPct", "midpoint_pct", "PctOrNmType"),
    ("nearsideShr", "nearside_shr", "ShrType"),
    ("nearsidePct", "nearside_pct", "PctOrNmType"),
    ("farsideShr", "farside_shr", "ShrType"),
    ("farsidePct", "farside_pct", "PctOrNmType"),
    ("providedLiqudityShr", "provided_liquidity_shr", "ShrType"),  # sic: the SEC's spelling
    ("providedLiquidityPct", "provided_liquidity_pct", "PctOrNmType"),
    ("orderDurationMsec", "order_duration_msec", "MsecType"),
    ("providedLiquidityNetCph", "provided_liquidity_net_cph", "CphType"),
    ("removedLiquidityShr", "removed_liquidity_shr", "ShrType"),
    ("removedLiquidityPct", "removed_liquidity_pct", "PctOrNmType"),
    ("removedLiquidityNetCph", "removed_liquidity_net_cph", "CphType"),
)
#: (XML element name, model attribute name) of each ``iVenue`` figure.
B3_VENUE_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (xml, attr) for xml, attr, _ in B3_VENUE_FIGURES
)


@dataclass(frozen=True, slots=True)
class B3Venue:
    venue_name: str
    services: str | None
    mic: str | None
    mpid: str | None
    routed_shr: Num
    ioc_routed_shr: Num
    further_routable_shr: Num
    order_size_shr: Num
    executed_shr: Num
    filled_pct: Num
    fill_size_shr: Num
    net_fee_or_rebate_cph: Num
    midpoint_shr: Num
    midpoint_pct: Num
    nearside_shr: Num
    nearside_pct: Num
    farside_shr: Num
    farside_pct: Num
    provided_liquidity_shr: Num
    provided_liquidity_pct: Num
    order_duration_msec: Num
    provided_liquidity_net_cph: Num
    removed_liquidity_shr: Num
    removed_liquidity_pct: Num
    removed_liquidity_net_cph: Num


@dataclass(frozen=True, slots=True)
class B3Month:
    year: int
    mon: int
    sent_shr: Num
    executed_as_principal_shr: Num
    ioi_exposed_ord: Num
    ioi_exposed_venues: tuple[B3IoiVenue, ...]
    routing_venues: tuple[B3Venue, ...]


@dataclass(frozen=True, slots=True)
class NotHeldHandlingReport:
    """606(b)(3) not-held order handling report (``notHeldOrderHandlingCustomerReport``)."""

    version: str
    customer: str
    bd: str
    timestamp: datetime | None
    start_date: date
    end_date: date
    directed: tuple[B3Month, ...] | None
    non_directed: tuple[B3Month, ...] | None


Report606 = HeldOrderRoutingReport | CustomerRoutingReport | NotHeldHandlingReport
