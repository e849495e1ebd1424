"""Analytics over Rule 606(a)(1) cells: per-report summaries, broker-quarter comparison, sanity.

Every function takes reported cells, either :class:`~pfof.model.reports606.A1Cell` objects or a
table (Arrow or Polars) whose columns carry the ``A1Cell`` field names, as the store's
``disclosures_606`` table does. Money stays ``Decimal`` end to end; quotients (rates, volumes)
are computed at 50 significant digits and rounded only when rendered.

Units (SEC Rule 606 XML): ``...Usd`` is a net payment in dollars (negative = paid by the broker);
``...Cph`` ("rate") is cents per 100 shares for stocks and, as real reports do, cents per
contract for options. Hence a cell that reports both implies a routed volume of

* stocks:  ``shares    = usd * 100 [cents/$] / rate [cents/100 sh] * 100 = usd * 10_000 / rate``
* options: ``contracts = usd * 100 [cents/$] / rate [cents/contract]      = usd * 100 / rate``

and the payment-weighted rate of a set of cells is ``sum(usd) / sum(usd / rate)`` over the cells
that report both (with a non-zero rate): total cents over total volume, in the rate's own unit.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from pfof.model.enums import OrderType, Section
from pfof.model.mics import NON_ISO_ALIASES, is_iso_mic
from pfof.model.reports606 import (
    A1Cell,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    Report606,
    a1_cells,
)

CellSource = Iterable[A1Cell] | Any  # A1Cell iterable, pyarrow.Table or polars.DataFrame

STOCK_SECTIONS = (Section.SP500, Section.OTHER_STOCKS)
_PREC = 50
RATE_PLACES = Decimal("0.0001")  # the 606 format's per-100-share precision
PCT_PLACES = Decimal("0.01")
_ZERO = Decimal(0)

# ---------------------------------------------------------------- rendering helpers


def dec_str(value: Decimal | None, places: Decimal | None = None) -> str | None:
    """Plain (never scientific) decimal string; rounded half-even to ``places`` if given."""
    if value is None:
        return None
    if places is not None:
        with localcontext(prec=_PREC):
            value = value.quantize(places, rounding=ROUND_HALF_EVEN)
    return format(value, "f")


def money_str(value: Decimal | None) -> str | None:
    """Exact dollars with at least cents: ``0`` -> ``"0.00"``, ``1.5000000000`` (a DECIMAL(38, 10)
    column) -> ``"1.50"``; only zeros are ever dropped."""
    if value is None:
        return None
    with localcontext(prec=_PREC):
        value = value.normalize()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(PCT_PLACES)
    return format(value, "f")


def _div(num: Decimal, den: Decimal) -> Decimal | None:
    if den == 0:
        return None
    with localcontext(prec=_PREC):
        return num / den


# ---------------------------------------------------------------- cell input


def as_cells(cells: CellSource) -> list[A1Cell]:
    """Materialise cells from ``A1Cell`` objects, a pyarrow Table or a polars DataFrame."""
    if hasattr(cells, "to_arrow") and not hasattr(cells, "to_pylist"):  # polars
        cells = cells.to_arrow()
    if hasattr(cells, "to_pylist"):  # pyarrow
        names = A1Cell.__slots__
        out = []
        for row in cells.to_pylist():
            values = {name: row.get(name) for name in names}
            values["section"] = Section(values["section"])
            values["order_type"] = OrderType(values["order_type"])
            out.append(A1Cell(**values))
        return out
    return list(cells)


# ---------------------------------------------------------------- name normalisation

_SUFFIXES = frozenset(
    "llc lc inc incorporated corp corporation co company lp llp ltd limited plc the na".split()
)
#: Distinct legal names for the same firm that no spelling rule could merge (normalised form ->
#: normalised canonical form). Kept tiny and explicit on purpose: merging distinct venues is
#: worse than leaving two spellings apart.
NAME_ALIASES: Mapping[str, str] = {
    # Citadel Securities LLC ran its retail wholesale business as "Citadel Execution Services".
    "citadel execution service": "citadel securitie",
}
_MIC = re.compile(r"^[A-Z0-9]{4}$")


def normalise_name(name: str | None) -> str:
    """A spelling-insensitive key for a firm or venue name.

    Case-folded, accents and punctuation dropped, corporate suffixes (LLC, Inc., Corp., L.P.,
    Co., Ltd., a leading "The") removed and a plural ``s`` trimmed from longer words, so that
    "Wolverine Executions Services,LLC" and "Wolverine Execution Services, LLC" agree while
    "Nasdaq Execution Services" and "The Nasdaq Stock Market" stay apart.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = text.replace("&", " ")
    # dotted abbreviations: "L.P." -> "lp", "l.l.c" -> "llc", "N.A." -> "na"
    text = re.sub(r"\b[a-z](?:\.[a-z])+\b\.?", lambda m: m.group().replace(".", ""), text)
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    while words and words[-1] in _SUFFIXES:
        words.pop()
    if words and words[0] == "the":
        words.pop(0)
    words = [
        w[:-1] if len(w) >= 5 and w.endswith("s") and not w.endswith("ss") else w for w in words
    ]
    key = " ".join(words)
    return NAME_ALIASES.get(key, key)


def mic_code(code: str | None) -> str | None:
    """The MIC a reported ``mic`` stands for, or ``None`` when it is not MIC-like.

    Registered ISO 10383 codes pass; common non-ISO stand-ins (``NYSE``, ``ARCA``...) become
    the MIC they mean; other four-character codes are kept as reported (pfof's registry only
    covers US venues, so an unknown code may still be a real MIC).
    """
    if not code or not code.strip():
        return None
    code = code.strip().upper()
    code = NON_ISO_ALIASES.get(code, code)
    return code if is_iso_mic(code) or _MIC.match(code) else None


def venue_key(name: str | None, mic: str | None, mpid: str | None) -> str:
    """Identity of a venue from one row: ``mic:XXXX``, else ``mpid:XXXX``, else ``name:...``."""
    code = mic_code(mic)
    if code is not None:
        return f"mic:{code}"
    if mpid and mpid.strip():
        return f"mpid:{mpid.strip().upper()}"
    return f"name:{normalise_name(name)}"


def broker_key(bd: str) -> str:
    return normalise_name(bd)


@dataclass(frozen=True, slots=True)
class VenueSpelling:
    """One raw (name, mic, mpid) spelling and the canonical venue it maps to."""

    name: str | None
    mic: str | None
    mpid: str | None
    key: str
    canonical_name: str
    cells: int
    quarters: tuple[tuple[int, int], ...]


class VenueResolver:
    """Map raw venue spellings to one canonical key and display name.

    MIC (when ISO-shaped) wins, then MPID, then the normalised name. A row with neither code is
    attached to a code-keyed venue when its normalised name was seen with exactly one code;
    names seen with several codes stay name-keyed rather than being merged by guess.
    """

    def __init__(self, cells: Iterable[A1Cell]) -> None:
        spellings: Counter[tuple[str | None, str | None, str | None]] = Counter()
        quarters: defaultdict[tuple[str | None, str | None, str | None], set[tuple[int, int]]]
        quarters = defaultdict(set)
        for cell in cells:
            raw = (cell.venue_name, cell.mic, cell.mpid)
            spellings[raw] += 1
            quarters[raw].add((cell.year, cell.quarter))
        codes_by_name: defaultdict[str, set[str]] = defaultdict(set)
        for name, mic, mpid in spellings:
            key = venue_key(name, mic, mpid)
            if not key.startswith("name:") and normalise_name(name):
                codes_by_name[normalise_name(name)].add(key)
        self._keys: dict[tuple[str | None, str | None, str | None], str] = {}
        for raw in spellings:
            key = venue_key(*raw)
            if key.startswith("name:"):
                codes = codes_by_name.get(key[5:], set())
                if len(codes) == 1:
                    key = next(iter(codes))
            self._keys[raw] = key
        # display name: the spelling used most recently (names evolve), then the most used one
        rank: defaultdict[str, dict[str, tuple[tuple[int, int], int]]] = defaultdict(dict)
        for raw, count in spellings.items():
            if raw[0]:
                seen = rank[self._keys[raw]]
                latest, total = seen.get(raw[0], ((0, 0), 0))
                seen[raw[0]] = (max(latest, max(quarters[raw])), total + count)
        self._names = {
            key: max(names.items(), key=lambda item: (item[1], item[0]))[0]
            for key, names in rank.items()
        }
        self._spellings = spellings
        self._quarters = quarters

    def key(self, name: str | None, mic: str | None, mpid: str | None) -> str:
        raw = (name, mic, mpid)
        return self._keys.get(raw) or venue_key(*raw)

    def name(self, key: str) -> str:
        return self._names.get(key, key.split(":", 1)[1])

    def mapping(self, *, only_merged: bool = False) -> list[VenueSpelling]:
        """Raw spellings with their canonical key; ``only_merged``: keys with 2+ spellings."""
        per_key = Counter(self._keys.values())
        rows = [
            VenueSpelling(
                name=raw[0],
                mic=raw[1],
                mpid=raw[2],
                key=key,
                canonical_name=self.name(key),
                cells=self._spellings[raw],
                quarters=tuple(sorted(self._quarters[raw])),
            )
            for raw, key in self._keys.items()
            if not only_merged or per_key[key] > 1
        ]
        return sorted(rows, key=lambda r: (r.key, r.name or "", r.mic or "", r.mpid or ""))


def venue_mapping(cells: CellSource, *, only_merged: bool = True) -> list[VenueSpelling]:
    """The raw venue spellings that were merged under one canonical venue (or all of them)."""
    return VenueResolver(as_cells(cells)).mapping(only_merged=only_merged)


# ---------------------------------------------------------------- aggregation core


@dataclass(slots=True)
class _Acc:
    """Running sums for a payment-weighted rate: USD, USD over reporting cells, USD/rate."""

    usd: Decimal = _ZERO
    rated_usd: Decimal = _ZERO
    usd_per_rate: Decimal = _ZERO

    def add(self, cell: A1Cell) -> None:
        if cell.net_payment_usd is None:
            return
        self.usd += cell.net_payment_usd
        if cell.rate is not None and cell.rate != 0:
            with localcontext(prec=_PREC):
                self.usd_per_rate += cell.net_payment_usd / cell.rate
            self.rated_usd += cell.net_payment_usd

    @property
    def rate(self) -> Decimal | None:
        return _div(self.rated_usd, self.usd_per_rate)


def payment_weighted_rate(cells: CellSource) -> Decimal | None:
    """``sum(usd) / sum(usd / rate)`` over cells reporting both (rate != 0); ``None`` if none."""
    acc = _Acc()
    for cell in as_cells(cells):
        acc.add(cell)
    return acc.rate


def implied_volume(usd_per_rate: Decimal, section: Section) -> Decimal:
    """Routed volume implied by ``sum(usd / rate)``: shares (stocks) or contracts (options)."""
    factor = 100 if section is Section.OPTIONS else 10_000
    return usd_per_rate * factor


# ---------------------------------------------------------------- per-report summary


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
    sections = {section: _Acc() for section in Section}
    order_types = dict.fromkeys(OrderType, _ZERO)
    total = _ZERO
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
            section.value: {"usd": money_str(acc.usd), "rate": dec_str(acc.rate, RATE_PLACES)}
            for section, acc in sections.items()
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
    start = report.start_date
    return {
        "file": file,
        "report": kind,
        "broker": report.bd,
        "year": start.year,
        "quarter": (start.month - 1) // 3 + 1,
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
            extra += _spelling_notes(cells_by_file[item.file], resolver)
        out.append(
            summarize_report(
                item.report,
                file=item.file,
                strict_valid=item.strict_valid,
                warnings=[*item.warnings, *extra],
            )
        )
    return out


def _spelling_notes(cells: Iterable[A1Cell], resolver: VenueResolver) -> list[str]:
    notes = []
    seen = set()
    for cell in cells:
        raw = (cell.venue_name, cell.mic, cell.mpid)
        if raw in seen:
            continue
        seen.add(raw)
        key = resolver.key(*raw)
        canonical = resolver.name(key)
        if cell.venue_name and cell.venue_name != canonical:
            notes.append(
                f"venue {cell.venue_name!r} counted as {canonical!r} ({key}): "
                "the same venue, spelled differently elsewhere"
            )
    return notes


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
        small = self.factor > 1
        times = self.factor if small else _div(Decimal(1), self.factor) or _ZERO
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
        factor = _div(reference, median)
        overall = _div(statistics.median([*others, median]), median)
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


# ---------------------------------------------------------------- broker-quarter comparison


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
    warnings: list[str] = field(default_factory=list)  # sanity checks (~100x rates)
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

    * Brokers and venues are matched across spellings (:func:`normalise_name`,
      :class:`VenueResolver`).
    * ``qoq_change_*`` compares with the broker's immediately preceding calendar quarter (null
      when that quarter is absent); the percentage is relative to the previous total's magnitude.
    * ``top_venue``: the venue with the largest net payment over the quarter, all sections;
      its share is of the quarter's total and only given when the total is positive.
    * ``hhi[section]``: per month, the HHI of the venues' ``orderPct`` (percent of non-directed
      orders, venues merged by canonical key), averaged over the months reported. Reports list
      only the top venues, so this is a lower bound of the true concentration.
    """
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
        bq.warnings = [
            f.message for f in flags if (f.broker_key, f.year, f.quarter) == (bkey, year, quarter)
        ]
        bq.venue_notes = _spelling_notes(group, resolver)
        previous = result.get((bkey, *_previous_quarter(year, quarter)))
        if previous is not None:
            bq.qoq_change_usd = bq.total_usd - previous.total_usd
            change = _div(bq.qoq_change_usd * 100, abs(previous.total_usd))
            bq.qoq_change_pct = change
        result[(bkey, year, quarter)] = bq
    return list(result.values())


def _previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def _broker_quarter(
    broker: str, bkey: str, year: int, quarter: int, cells: list[A1Cell], resolver: VenueResolver
) -> BrokerQuarter:
    bq = BrokerQuarter(broker, bkey, year, quarter)
    sections = {section: _Acc() for section in Section}
    stock_types = {ot: _Acc() for ot in OrderType}
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
    for section, acc in sections.items():
        bq.section_usd[section] = acc.usd
        bq.section_rate[section] = acc.rate
        volume = implied_volume(acc.usd_per_rate, section)
        if section is Section.OPTIONS:
            bq.implied_contracts += volume
        else:
            bq.implied_shares += volume
    bq.stock_order_type_rate = {ot: acc.rate for ot, acc in stock_types.items()}
    top = max(venue_usd.items(), key=lambda item: (item[1], item[0])) if venue_usd else None
    if top is not None and top[1] > 0:  # no "top-paying" venue when no venue paid
        bq.top_venue = resolver.name(top[0])
        bq.top_venue_usd = top[1]
        bq.top_venue_share = _div(top[1], bq.total_usd) if bq.total_usd > 0 else None
    for section in Section:
        monthly = [hhi(p.values()) for (s, _), p in month_venue_pct.items() if s is section]
        bq.hhi[section] = _div(sum(monthly, _ZERO), Decimal(len(monthly))) if monthly else None
    return bq


#: Column order of :func:`broker_quarter_records` (and the CSV output).
BROKER_QUARTER_COLUMNS: tuple[str, ...] = tuple(BrokerQuarter("", "", 0, 1).to_json().keys())


def broker_quarter_records(cells: CellSource) -> list[dict[str, Any]]:
    """:func:`broker_quarters` as flat JSON-ready dicts (exact decimal strings)."""
    return [bq.to_json() for bq in broker_quarters(cells)]
