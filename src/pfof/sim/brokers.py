"""Brokers: routing policies and PFOF arrangements with wholesalers and exchanges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

import pyarrow as pa

from pfof.model.enums import OrderType, PaymentBasis, Section
from pfof.model.tables import ARRANGEMENTS
from pfof.sim.market_centers import EQUITY_EXCHANGES

#: Pseudo-venue in a fixed split meaning "the exchange showing the best price".
EXCHANGES = "EXCHANGES"


class RoutingPolicy(StrEnum):
    """How a broker picks the venue for a non-directed order."""

    MAX_PFOF = "max_pfof"  # the wholesaler paying the most for this order
    BEST_PI = "best_pi"  # the wholesaler with the best expected price improvement
    EXCHANGES_ONLY = "exchanges_only"  # lit exchanges only, no PFOF
    FIXED_SPLIT = "fixed_split"  # fixed percentages across venues


@dataclass(frozen=True)
class Arrangement:
    """One PFOF term: what ``venue`` pays the broker for one section and order type."""

    venue: str
    section: Section
    order_type: OrderType
    basis: PaymentBasis
    rate: Decimal


@dataclass(frozen=True)
class Broker:
    """A retail broker: its share of the order flow, routing policy and arrangements."""

    name: str
    policy: RoutingPolicy
    share: float
    wholesalers: tuple[str, ...] = ()
    arrangements: tuple[Arrangement, ...] = ()
    split: tuple[tuple[str, float], ...] = field(default=())
    #: Where non-marketable limit orders go: "wholesaler" (the policy's pick) or EXCHANGES.
    nml_to: str = "wholesaler"


_TYPES = (
    OrderType.MARKET,
    OrderType.MARKETABLE_LIMIT,
    OrderType.NON_MARKETABLE_LIMIT,
    OrderType.OTHER,
)


def per_share_terms(
    venue: str,
    sp500: tuple[str, str, str, str],
    other: tuple[str, str, str, str],
    options: str | None = None,
) -> tuple[Arrangement, ...]:
    """Per-share terms for the two stock sections (market, mkt limit, non-mkt limit, other)
    and a per-contract rate for options."""
    out = []
    for section, rates in ((Section.SP500, sp500), (Section.OTHER_STOCKS, other)):
        for ot, rate in zip(_TYPES, rates, strict=True):
            out.append(Arrangement(venue, section, ot, PaymentBasis.PER_SHARE, Decimal(rate)))
    if options is not None:
        for ot in _TYPES:
            out.append(
                Arrangement(venue, Section.OPTIONS, ot, PaymentBasis.PER_CONTRACT, Decimal(options))
            )
    return tuple(out)


def spread_fraction_terms(
    venue: str, fraction: str, options: str | None = None
) -> tuple[Arrangement, ...]:
    """A fraction of the quoted spread at receipt, per share, for every stock order type."""
    out = [
        Arrangement(venue, section, ot, PaymentBasis.SPREAD_FRACTION, Decimal(fraction))
        for section in (Section.SP500, Section.OTHER_STOCKS)
        for ot in _TYPES
    ]
    if options is not None:
        out += [
            Arrangement(venue, Section.OPTIONS, ot, PaymentBasis.PER_CONTRACT, Decimal(options))
            for ot in _TYPES
        ]
    return tuple(out)


def exchange_terms(exchanges: tuple[str, ...] | None = None) -> tuple[Arrangement, ...]:
    """Exchange fee schedules as arrangements: makers (non-marketable limit orders that rest
    and fill) earn the rebate, every other order type pays the take fee (a negative rate)."""
    out = []
    for ex in EQUITY_EXCHANGES:
        if exchanges is not None and ex.mic not in exchanges:
            continue
        for section in (Section.SP500, Section.OTHER_STOCKS):
            for ot in _TYPES:
                rate = ex.make_rebate if ot == OrderType.NON_MARKETABLE_LIMIT else -ex.take_fee
                out.append(Arrangement(ex.mic, section, ot, PaymentBasis.PER_SHARE, rate))
    return tuple(out)


def all_terms(broker: Broker, exchanges: tuple[str, ...]) -> tuple[Arrangement, ...]:
    """The broker's wholesaler terms followed by the exchanges' schedules."""
    return broker.arrangements + exchange_terms(exchanges)


def arrangements_table(
    brokers: tuple[Broker, ...], exchanges: tuple[str, ...], valid_from: date
) -> pa.Table:
    """The canonical ``arrangements`` table for every broker (open-ended validity)."""
    rows: dict[str, list] = {name: [] for name in ARRANGEMENTS.names}
    for broker in brokers:
        for a in all_terms(broker, exchanges):
            rows["broker"].append(broker.name)
            rows["venue"].append(a.venue)
            rows["section"].append(str(a.section))
            rows["order_type"].append(str(a.order_type))
            rows["basis"].append(str(a.basis))
            rows["rate"].append(a.rate)
            rows["valid_from"].append(valid_from)
            rows["valid_to"].append(None)
    return pa.Table.from_pydict(rows, schema=ARRANGEMENTS)
