"""Synthetic Rule 606(a)(1) disclosures for a handful of brokers, made from seeded volumes.

The embedded default data behind ``pfof demo`` until the order-level simulator drives the
606 generator: each broker routes a known number of shares of each section and order type
to wholesalers and exchanges at known rates, and the report figures are derived from those
volumes exactly as a broker would derive them (dollars first, then cents per 100 shares).
The brokers and wholesalers are fictitious (names end in "(simulated)", wholesaler MPIDs are
the simulator's ``SIM`` IDs); the exchanges are real venues, named by their MICs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from pfof.model.enums import OrderType, Section
from pfof.model.market_time import quarter_bounds, quarter_months
from pfof.model.reports606 import A1Month, A1Section, A1Venue, HeldOrderRoutingReport
from pfof.sim.market_centers import WHOLESALERS

CENT = Decimal("0.01")
PCT = Decimal("0.01")
CPH = Decimal("0.0001")


@dataclass(frozen=True)
class Venue:
    name: str
    mic: str | None
    mpid: str | None
    wholesaler: bool


#: Five of the simulator's fictitious wholesalers, then real exchanges (by MIC).
VENUES = (
    *(Venue(w.name, None, w.mpid, True) for w in WHOLESALERS[:5]),
    Venue("New York Stock Exchange", "XNYS", None, False),
    Venue("The Nasdaq Stock Market LLC", "XNAS", None, False),
    Venue("Cboe BZX Exchange, Inc.", "BATS", None, False),
)


@dataclass(frozen=True)
class BrokerProfile:
    """A broker's size and appetite for payment (cents per 100 shares; cents per contract)."""

    name: str
    monthly_shares: int  # non-directed shares per month per stock section
    stock_rate: Decimal  # average cents per 100 shares paid by wholesalers
    option_rate: Decimal  # average cents per contract
    wholesalers: int  # how many wholesalers it routes to


#: Fictitious peer brokers, named by size and marked "(simulated)".
BROKERS = (
    BrokerProfile("Large Broker (simulated)", 2_400_000_000, Decimal("14"), Decimal("48"), 4),
    BrokerProfile("Mid Broker (simulated)", 900_000_000, Decimal("9"), Decimal("38"), 3),
    BrokerProfile("Small Broker (simulated)", 350_000_000, Decimal("4"), Decimal("20"), 2),
    BrokerProfile("No-PFOF Broker (simulated)", 120_000_000, Decimal("0"), Decimal("0"), 0),
)

_TYPE_RATE = {  # multiplier of the broker's average rate by order type
    OrderType.MARKET: Decimal("1.0"),
    OrderType.MARKETABLE_LIMIT: Decimal("1.1"),
    OrderType.NON_MARKETABLE_LIMIT: Decimal("1.6"),
    OrderType.OTHER: Decimal("0.9"),
}


def _split(total: int, weights: list[float]) -> list[int]:
    """Split an integer total by weights, exactly (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[
        : total - sum(parts)
    ]:
        parts[i] += 1
    return parts


def _pcts(counts: list[int]) -> list[Decimal]:
    """Percentages with two decimals that sum to exactly 100.00 (when any count is non-zero)."""
    total = sum(counts)
    if total == 0:
        return [Decimal("0.00")] * len(counts)
    bps = _split(10_000, [c / total for c in counts]) if total else [0] * len(counts)
    return [Decimal(b) / 100 for b in bps]


def quarter_report(
    broker: BrokerProfile, year: int, quarter: int, seed: int = 0
) -> HeldOrderRoutingReport:
    """One quarter's 606(a)(1) report of ``broker``; figures follow from seeded volumes."""
    rng = random.Random(f"{seed}:{broker.name}:{year}:{quarter}")
    months = []
    for mon in quarter_months(quarter):
        sections = {}
        for section in Section:
            options = section is Section.OPTIONS
            volume = broker.monthly_shares // (200 if options else 1)
            if section is Section.OTHER_STOCKS:
                volume = volume * 3 // 5
            volume = int(volume * rng.uniform(0.85, 1.15))
            type_volume = _split(volume, [0.45, 0.1, 0.35, 0.1])
            venues = [v for v in VENUES if v.wholesaler][: broker.wholesalers] + [
                v for v in VENUES if not v.wholesaler
            ]
            weights = [
                rng.uniform(3, 10) if v.wholesaler else rng.uniform(0.2, 1.2) for v in venues
            ]
            routed = [_split(tv, weights) for tv in type_volume]  # [type][venue]
            rate = broker.option_rate if options else broker.stock_rate
            blocks = []
            for vi, venue in enumerate(venues):
                usd, cph = {}, {}
                for ti, ot in enumerate(OrderType):
                    units = routed[ti][vi]
                    paid = venue.wholesaler and rate > 0 and units > 0
                    unit_rate = (
                        rate * _TYPE_RATE[ot] * Decimal(str(round(rng.uniform(0.8, 1.2), 3)))
                    )
                    # cents per 100 shares -> dollars; options: cents per contract -> dollars
                    per = Decimal(units) / (1 if options else 100)
                    dollars = (
                        (per * unit_rate / 100).quantize(CENT, ROUND_HALF_EVEN)
                        if paid
                        else Decimal("0.00")
                    )
                    usd[ot] = dollars
                    cph[ot] = (
                        (dollars * 100 / per).quantize(CPH, ROUND_HALF_EVEN)
                        if units
                        else Decimal("0.0000")
                    )
                pcts = {
                    ot: _pcts([routed[ti][j] for j in range(len(venues))])[vi]
                    for ti, ot in enumerate(OrderType)
                }
                aspects = (
                    f"{broker.name} receives payment for order flow from {venue.name} "
                    f"for marketable and non-marketable orders."
                    if venue.wholesaler and rate > 0
                    else f"{broker.name} pays or receives the exchange's "
                    "published access fees and rebates."
                )
                blocks.append((venue, usd, cph, pcts, aspects))
            order_pct = _pcts([sum(routed[ti][j] for ti in range(4)) for j in range(len(venues))])
            market, marketable_limit, non_marketable_limit, other = _pcts(type_volume)
            sections[section] = A1Section(
                Decimal("100.00"),
                market,
                marketable_limit,
                non_marketable_limit,
                other,
                tuple(
                    A1Venue.by_order_type(
                        venue.name,
                        venue.mic,
                        venue.mpid,
                        order_pct[j],
                        pcts,
                        usd,
                        cph,
                        aspects,
                    )
                    for j, (venue, usd, cph, pcts, aspects) in enumerate(blocks)
                ),
            )
        months.append(
            A1Month(
                year,
                mon,
                sections[Section.SP500],
                sections[Section.OTHER_STOCKS],
                sections[Section.OPTIONS],
            )
        )
    last_day = quarter_bounds(year, quarter)[1]
    generated = datetime.combine(last_day + timedelta(days=20), time(12), tzinfo=UTC)
    return HeldOrderRoutingReport("1.3", broker.name, year, quarter, generated, tuple(months))
