"""Brokers compared quarter by quarter from their reported Rule 606(a)(1) cells.

:func:`broker_quarters` gives, per broker and quarter, the net payment for order flow by
section and order type, payment-weighted rates, the routed volume they imply (units in
:mod:`~pfof.engine.payment_rates`), the change from the previous quarter, the top-paying
venue's share and venue concentration (HHI), plus the sanity warnings of
:mod:`~pfof.engine.report_summary`. Brokers and venues are matched across spellings
(:mod:`~pfof.engine.venue_identity`). ``pfof brokers`` prints :func:`broker_quarter_records`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from pfof.engine.cell_input import CellSource, as_cells
from pfof.engine.payment_rates import (
    RATE_PLACES,
    STOCK_SECTIONS,
    PaymentSums,
    exact_ratio,
    implied_volume,
)
from pfof.engine.report_summary import rate_scale_flags
from pfof.engine.venue_identity import VenueResolver, broker_key, spelling_notes
from pfof.model.enums import OrderType, Section
from pfof.model.market_time import previous_quarter
from pfof.model.money import dec_str, money_str
from pfof.model.reports606 import HHI_MAX, A1Cell

__all__ = [
    "BROKER_QUARTER_COLUMNS",
    "PCT_PLACES",
    "BrokerQuarter",
    "broker_quarter_records",
    "broker_quarters",
    "hhi",
]

#: Places of percentages and HHI values in :meth:`BrokerQuarter.to_json`.
PCT_PLACES = Decimal("0.01")
#: Significant digits of the sums: exact for any figure a DECIMAL(38, 10) column holds.
_PREC = 60
_ZERO = Decimal(0)


@dataclass(slots=True)
class BrokerQuarter:
    """Net PFOF of one broker in one quarter, with rates, volumes and concentration."""

    broker: str
    broker_key: str
    year: int
    quarter: int
    total_usd: Decimal = _ZERO
    section_usd: dict[Section, Decimal] = field(
        default_factory=lambda: dict.fromkeys(Section, _ZERO)
    )
    section_rate: dict[Section, Decimal | None] = field(default_factory=dict)
    order_type_usd: dict[OrderType, Decimal] = field(
        default_factory=lambda: dict.fromkeys(OrderType, _ZERO)
    )
    stock_order_type_rate: dict[OrderType, Decimal | None] = field(default_factory=dict)
    implied_shares: Decimal = _ZERO
    implied_contracts: Decimal = _ZERO
    qoq_change_usd: Decimal | None = None
    qoq_change_pct: Decimal | None = None
    top_venue: str | None = None
    top_venue_usd: Decimal | None = None
    top_venue_share: Decimal | None = None  # top venue's net payment / total, when total > 0
    hhi: dict[Section, Decimal | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # sanity checks (~100x rates, HHI)
    venue_notes: list[str] = field(default_factory=list)  # spellings merged with other quarters'

    def to_json(self) -> dict[str, Any]:
        """Flat JSON-ready record; decimals as exact strings (rates, shares rounded)."""
        out: dict[str, Any] = {
            "broker": self.broker,
            "year": self.year,
            "quarter": self.quarter,
            "total_usd": money_str(self.total_usd),
        }
        for section in Section:
            out[f"{section.value}_usd"] = money_str(self.section_usd[section])
            out[f"{section.value}_rate"] = dec_str(self.section_rate.get(section), RATE_PLACES)
        for ot in OrderType:
            out[f"{ot.value}_usd"] = money_str(self.order_type_usd[ot])
        for ot in OrderType:
            out[f"stocks_{ot.value}_rate"] = dec_str(
                self.stock_order_type_rate.get(ot), RATE_PLACES
            )
        out["implied_shares"] = dec_str(self.implied_shares, Decimal(1))
        out["implied_contracts"] = dec_str(self.implied_contracts, Decimal(1))
        out["qoq_change_usd"] = money_str(self.qoq_change_usd)
        out["qoq_change_pct"] = dec_str(self.qoq_change_pct, PCT_PLACES)
        out["top_venue"] = self.top_venue
        out["top_venue_usd"] = money_str(self.top_venue_usd)
        out["top_venue_share_pct"] = dec_str(
            None if self.top_venue_share is None else self.top_venue_share * 100, PCT_PLACES
        )
        for section in Section:
            out[f"{section.value}_hhi"] = dec_str(self.hhi.get(section), PCT_PLACES)
        out["warnings"] = [*self.warnings, *self.venue_notes]
        return out


def hhi(shares_pct: Iterable[Decimal]) -> Decimal:
    """Herfindahl-Hirschman index of percentages: sum of squares, 0-10,000 scale."""
    return sum((pct * pct for pct in shares_pct), _ZERO)


def broker_quarters(cells: CellSource) -> list[BrokerQuarter]:
    """Per broker and quarter: net PFOF by section and order type, payment-weighted rates,
    quarter-over-quarter change, implied routed volume, top venue's payment share and venue
    concentration, plus the ~100x rate-scale warnings.

    * Brokers and venues are matched across spellings
      (:func:`~pfof.engine.venue_identity.normalise_name`,
      :class:`~pfof.engine.venue_identity.VenueResolver`).
    * ``qoq_change_*`` compares with the broker's immediately preceding calendar quarter (null
      when that quarter is absent); the percentage is relative to the previous total's magnitude.
    * ``top_venue``: the venue with the largest net payment over the quarter, all sections;
      its share is of the quarter's total and only given when the total is positive.
    * ``hhi[section]``: per month, the HHI of the venues' ``orderPct`` (percent of non-directed
      orders, venues merged by canonical key), averaged over the months reported. Reports list
      only the top venues, so this is a lower bound of the true concentration. A month whose
      percentages give more than 10,000 (no share of one set of orders can) leaves the
      section's HHI null, with a warning naming the rule ``venue-hhi``.

    Sums are exact whatever the size of the figures (computed at 60 significant digits).
    """
    with localcontext(prec=_PREC):
        return _broker_quarters(cells)


def _broker_quarters(cells: CellSource) -> list[BrokerQuarter]:
    rows = as_cells(cells)
    resolver = VenueResolver(rows)
    groups: defaultdict[tuple[str, int, int], list[A1Cell]] = defaultdict(list)
    display: dict[str, str] = {}
    for cell in rows:
        bkey = broker_key(cell.broker)
        display[bkey] = cell.broker  # last spelling seen; rows come in report order
        groups[(bkey, cell.year, cell.quarter)].append(cell)
    flags = rate_scale_flags(rows)
    result: dict[tuple[str, int, int], BrokerQuarter] = {}
    for (bkey, year, quarter), group in sorted(groups.items()):
        bq = _broker_quarter(display[bkey], bkey, year, quarter, group, resolver)
        bq.warnings[:0] = [
            f.message for f in flags if (f.broker_key, f.year, f.quarter) == (bkey, year, quarter)
        ]
        bq.venue_notes = spelling_notes(group, resolver)
        previous = result.get((bkey, *previous_quarter(year, quarter)))
        if previous is not None:
            bq.qoq_change_usd = bq.total_usd - previous.total_usd
            bq.qoq_change_pct = exact_ratio(bq.qoq_change_usd * 100, abs(previous.total_usd))
        result[(bkey, year, quarter)] = bq
    return list(result.values())


def _broker_quarter(
    broker: str, bkey: str, year: int, quarter: int, cells: list[A1Cell], resolver: VenueResolver
) -> BrokerQuarter:
    bq = BrokerQuarter(broker, bkey, year, quarter)
    sections = {section: PaymentSums() for section in Section}
    stock_types = {ot: PaymentSums() for ot in OrderType}
    venue_usd: defaultdict[str, Decimal] = defaultdict(Decimal)
    month_venue_pct: defaultdict[tuple[Section, int], dict[str, Decimal]] = defaultdict(dict)
    seen_venue_rows: set[tuple[Section, int, int]] = set()
    for cell in cells:
        key = resolver.key(cell.venue_name, cell.mic, cell.mpid)
        row = (cell.section, cell.month, cell.venue_index)
        if cell.venue_pct is not None and row not in seen_venue_rows:
            seen_venue_rows.add(row)
            pcts = month_venue_pct[(cell.section, cell.month)]
            pcts[key] = pcts.get(key, _ZERO) + cell.venue_pct
        if cell.net_payment_usd is None:
            continue
        sections[cell.section].add(cell)
        if cell.section in STOCK_SECTIONS:
            stock_types[cell.order_type].add(cell)
        bq.order_type_usd[cell.order_type] += cell.net_payment_usd
        bq.total_usd += cell.net_payment_usd
        venue_usd[key] += cell.net_payment_usd
    for section, sums in sections.items():
        bq.section_usd[section] = sums.usd
        bq.section_rate[section] = sums.rate
        volume = implied_volume(sums.usd_per_rate, section)
        if section is Section.OPTIONS:
            bq.implied_contracts += volume
        else:
            bq.implied_shares += volume
    bq.stock_order_type_rate = {ot: sums.rate for ot, sums in stock_types.items()}
    top = max(venue_usd.items(), key=lambda item: (item[1], item[0])) if venue_usd else None
    if top is not None and top[1] > 0:  # no "top-paying" venue when no venue paid
        bq.top_venue = resolver.name(top[0])
        bq.top_venue_usd = top[1]
        bq.top_venue_share = exact_ratio(top[1], bq.total_usd) if bq.total_usd > 0 else None
    for section in Section:
        months = sorted(
            (m, hhi(p.values())) for (s, m), p in month_venue_pct.items() if s is section
        )
        over = [(m, value) for m, value in months if value > HHI_MAX]
        for month, value in over:
            bq.warnings.append(
                f"{broker} {year} Q{quarter}: {section.value} venue percentages of month {month} "
                f"give an HHI of {dec_str(value, PCT_PLACES)}, above {HHI_MAX} [venue-hhi]; "
                "the section's concentration is left out"
            )
        monthly = [value for _, value in months]
        mean = exact_ratio(sum(monthly, _ZERO), Decimal(len(monthly))) if monthly else None
        bq.hhi[section] = None if over else mean
    return bq


#: Column order of :func:`broker_quarter_records` (and the CSV output).
BROKER_QUARTER_COLUMNS: tuple[str, ...] = tuple(BrokerQuarter("", "", 0, 1).to_json().keys())


def broker_quarter_records(cells: CellSource) -> list[dict[str, Any]]:
    """:func:`broker_quarters` as flat JSON-ready dicts (exact decimal strings)."""
    return [bq.to_json() for bq in broker_quarters(cells)]
