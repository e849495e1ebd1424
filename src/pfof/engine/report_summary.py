"""Summaries of single Rule 606 reports, and the sanity checks run across a batch of them.

:func:`summarize_report` is what ``pfof rule606 summary --json`` prints for one file: totals
per section and order type, with payment-weighted rates (units in
:mod:`~pfof.engine.payment_rates`). :func:`summarize_files` adds what only a batch can tell:
the ~100x rate-scale check (:func:`rate_scale_flags`, a quarter reported in dollars where cents
are due) and the venue spellings merged with other quarters'. Money is an exact decimal string.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from pfof.engine.cell_input import CellSource, as_cells
from pfof.engine.payment_rates import RATE_PLACES, PaymentSums, exact_ratio
from pfof.engine.venue_identity import VenueResolver, broker_key, spelling_notes
from pfof.model.enums import OrderType, Section
from pfof.model.market_time import year_quarter
from pfof.model.money import dec_str, money_str
from pfof.model.reports606 import (
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    Report606,
    a1_cells,
)

__all__ = [
    "RateScaleFlag",
    "SummaryInput",
    "rate_scale_flags",
    "summarize_a1",
    "summarize_files",
    "summarize_report",
]

_ZERO = Decimal(0)


def summarize_a1(
    report: HeldOrderRoutingReport,
    *,
    file: str = "",
    strict_valid: bool = True,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """JSON-ready summary of one 606(a)(1) report (``pfof rule606 summary --json``).

    Keys: file, report ("a1"), broker, year, quarter, strict_valid, warnings, total_usd,
    sections (sp500/other_stocks/options -> {"usd", "rate"}), order_types (market,
    marketable_limit, non_marketable_limit, other -> usd). Money is an exact decimal string;
    ``rate`` is the payment-weighted rate (cents per 100 shares, per contract for options)
    rounded half-even to 4 places, or null when no cell reports both a payment and a rate.
    """
    sections = {section: PaymentSums() for section in Section}
    order_types = dict.fromkeys(OrderType, _ZERO)
    total = _ZERO
    with localcontext(prec=60):  # exact sums of any figure a 606 file may hold
        for cell in a1_cells(report):
            if cell.net_payment_usd is None:
                continue
            sections[cell.section].add(cell)
            order_types[cell.order_type] += cell.net_payment_usd
            total += cell.net_payment_usd
    return {
        "file": file,
        "report": "a1",
        "broker": report.bd,
        "year": report.year,
        "quarter": report.qtr,
        "strict_valid": strict_valid,
        "warnings": list(warnings),
        "total_usd": money_str(total),
        "sections": {
            section.value: {"usd": money_str(sums.usd), "rate": dec_str(sums.rate, RATE_PLACES)}
            for section, sums in sections.items()
        },
        "order_types": {ot.value: money_str(usd) for ot, usd in order_types.items()},
    }


def summarize_report(
    report: Report606,
    *,
    file: str = "",
    strict_valid: bool = True,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """:func:`summarize_a1` for 606(a)(1); b1/b3 reports carry no payments, so their money
    fields are null and year/quarter come from the reporting period's start date."""
    if isinstance(report, HeldOrderRoutingReport):
        return summarize_a1(report, file=file, strict_valid=strict_valid, warnings=warnings)
    kind = "b1" if isinstance(report, CustomerRoutingReport) else "b3"
    assert isinstance(report, CustomerRoutingReport | NotHeldHandlingReport)
    year, quarter = year_quarter(report.start_date)
    return {
        "file": file,
        "report": kind,
        "broker": report.bd,
        "year": year,
        "quarter": quarter,
        "strict_valid": strict_valid,
        "warnings": list(warnings),
        "total_usd": None,
        "sections": None,
        "order_types": None,
    }


@dataclass(frozen=True, slots=True)
class SummaryInput:
    """One file for :func:`summarize_files`: what the reader returned for it."""

    file: str
    report: Report606
    strict_valid: bool = True
    warnings: Sequence[str] = ()


def summarize_files(items: Sequence[SummaryInput]) -> list[dict[str, Any]]:
    """Summaries of several files, with cross-file sanity warnings appended to each file.

    Adds the ~100x rate-scale check (each report against the same broker's other quarters in
    the batch) and the venue spellings that were merged with other quarters' spellings.
    """
    cells_by_file = {
        item.file: list(a1_cells(item.report))
        for item in items
        if isinstance(item.report, HeldOrderRoutingReport)
    }
    all_cells = [cell for cells in cells_by_file.values() for cell in cells]
    scale = rate_scale_flags(all_cells)
    resolver = VenueResolver(all_cells)
    out = []
    for item in items:
        extra: list[str] = []
        if isinstance(item.report, HeldOrderRoutingReport):
            bkey = broker_key(item.report.bd)
            extra += [
                flag.message
                for flag in scale
                if (flag.broker_key, flag.year, flag.quarter)
                == (bkey, item.report.year, item.report.qtr)
            ]
            extra += spelling_notes(cells_by_file[item.file], resolver)
        out.append(
            summarize_report(
                item.report,
                file=item.file,
                strict_valid=item.strict_valid,
                warnings=[*item.warnings, *extra],
            )
        )
    return out


# ---------------------------------------------------------------- 100x sanity check


@dataclass(frozen=True, slots=True)
class RateScaleFlag:
    """A broker-quarter-section whose median rate is ~``factor`` times off its other quarters."""

    broker: str
    broker_key: str
    year: int
    quarter: int
    section: Section
    median_rate: Decimal
    reference_rate: Decimal
    factor: Decimal  # reference / median: >1 means this quarter's rates are too small

    @property
    def message(self) -> str:
        """The warning as printed: how far off, which way, and the likely cause."""
        small = self.factor > 1
        times = self.factor if small else exact_ratio(Decimal(1), self.factor) or _ZERO
        return (
            f"{self.broker} {self.year} Q{self.quarter} {self.section.value}: per-100-share "
            f"rates are ~{dec_str(times, Decimal(1))}x {'smaller' if small else 'larger'} than "
            f"the broker's other quarters (median |rate| {dec_str(self.median_rate, RATE_PLACES)}"
            f" vs {dec_str(self.reference_rate, RATE_PLACES)}); "
            + ("dollars reported where cents are due?" if small else "wrong unit?")
        )


def rate_scale_flags(
    cells: CellSource, *, threshold: Decimal = Decimal(30), min_other_quarters: int = 2
) -> list[RateScaleFlag]:
    """Flag broker-quarter-sections whose rates look ~100x off the same broker's other quarters.

    For each (broker, section, quarter) take the median |rate| over non-zero rates; the reference
    is the median of that broker's medians for the same section in its other quarters (at least
    ``min_other_quarters`` of them). A quarter is flagged when reference/median is
    ``>= threshold`` or ``<= 1/threshold``, and also lies that far from the median over all the
    broker's quarters (itself included), so that one bad quarter among three does not get its
    good neighbours blamed. The default 30 catches a 100x unit slip (dollars for cents) while
    ordinary quarter-to-quarter moves (a few x at most in real reports) pass. Brokers are
    matched by normalised name.
    """
    rates: defaultdict[tuple[str, Section, int, int], list[Decimal]] = defaultdict(list)
    names: dict[str, str] = {}
    for cell in as_cells(cells):
        bkey = broker_key(cell.broker)
        names[bkey] = cell.broker
        if cell.rate is not None and cell.rate != 0:
            rates[(bkey, cell.section, cell.year, cell.quarter)].append(abs(cell.rate))
    medians = {key: statistics.median(values) for key, values in rates.items()}
    flags = []
    for (bkey, section, year, quarter), median in sorted(medians.items()):
        others = [
            m
            for (b, s, y, q), m in medians.items()
            if b == bkey and s == section and (y, q) != (year, quarter)
        ]
        if len(others) < min_other_quarters:
            continue
        reference = statistics.median(others)
        factor = exact_ratio(reference, median)
        overall = exact_ratio(statistics.median([*others, median]), median)
        if (
            factor is None
            or overall is None
            or not (_off(factor, threshold) and _off(overall, threshold))
        ):
            continue
        flags.append(
            RateScaleFlag(names[bkey], bkey, year, quarter, section, median, reference, factor)
        )
    return flags


def _off(factor: Decimal, threshold: Decimal) -> bool:
    return factor >= threshold or factor * threshold <= 1
