"""A broker's execution quality net of PFOF: its Rule 606 routing joined to Rule 605 quality.

Nobody publishes what a broker's customers get in price improvement next to what the broker
is paid for their orders. Both halves are public: the broker's 606(a)(1) report says which
venues got its non-directed orders and what each paid; each venue's monthly 605 report says
how it executed the orders it received. :func:`estimate_quality` joins them, per broker,
quarter, section (S&P 500, other stocks) and order type (market, marketable limit):

* ``w(v, m)`` = the venue's reported share of the section's non-directed orders of that type
  in month ``m`` (606 ``routed_pct``); ``PI(v, m)`` = the venue's net price improvement in
  cents per share from its 605 report of month ``m`` (same order type, a marketable limit
  order's IOC rows included, :data:`JOINED_TYPES`; the S&P 500 rows when the report has the
  flag, else all stocks), matched by MIC / MPID / name
  (:mod:`~pfof.engine.venue_identity`);
* estimated improvement, cents per 100 shares
  = ``100 * sum(w * PI) / sum(w)`` over the venue-months with 605 data (months weigh by their
  percentages: a 606 report gives no monthly order counts);
* PFOF per 100 shares = the payment-weighted rate of the group's cells, all venues
  (:mod:`~pfof.engine.payment_rates`); their ratio = price improvement per $1 of PFOF;
* coverage = ``sum(w)`` over venue-months with 605 data / ``sum(w)`` over all listed ones;
  the others are listed as unmatched venues.

The ``all`` row of a broker-quarter combines its four groups weighted by the shares their
payments imply (``usd / rate``); with no rated payment it has no estimate. Everything is
Decimal at 60 significant digits; rounding happens only in :meth:`QualityEstimate.to_json`.
docs/rule605.md ("Broker execution quality net of PFOF") states the limits.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfof.engine.cell_input import CellSource, as_cells
from pfof.engine.payment_rates import RATE_PLACES, PaymentSums, exact_ratio
from pfof.engine.venue_identity import VenueResolver, broker_key, mic_code, normalise_name
from pfof.errors import InputError, ParameterError
from pfof.model.enums import OrderType, Section
from pfof.model.money import dec_str

if TYPE_CHECKING:
    import duckdb

    from pfof.model.reports606 import A1Cell

__all__ = [
    "ALL",
    "JOINED_TYPES",
    "QUALITY_COLUMNS",
    "QualityEstimate",
    "UnmatchedVenue",
    "VenueQualityIndex",
    "broker_quality",
    "estimate_quality",
    "measured_improvement",
]

#: The 606 sections and order types that Rule 605's statistics of price improvement cover.
SECTIONS = (Section.SP500, Section.OTHER_STOCKS)
ORDER_TYPES = (OrderType.MARKET, OrderType.MARKETABLE_LIMIT)
#: ``section`` and ``order_type`` of a broker-quarter's combined row.
ALL = "all"
#: 605 order types (:func:`pfof.engine.stats605.order_type_name`) -> the 606 order type whose
#: routing weighs them. A 606 marketable limit order may be IOC; the amended 605 reports
#: those apart. Stop orders are 606 "other" orders; they are not joined.
JOINED_TYPES: dict[str, OrderType] = {
    "market": OrderType.MARKET,
    "marketable_limit": OrderType.MARKETABLE_LIMIT,
    "marketable_limit_ioc": OrderType.MARKETABLE_LIMIT,
}
#: Places of a percentage (coverage, a venue's routed share) in the JSON.
PCT_PLACES = Decimal("0.01")
_PREC = 60
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def _dec(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise InputError(f"605 statistics: {what} is {value!r}, expected a number")
    try:
        return Decimal(str(value))
    except ArithmeticError as exc:
        raise InputError(f"605 statistics: {what} is {value!r}, expected a number") from exc


@dataclass(slots=True)
class _Sums:
    """Net price improvement (cents x shares) and the executed shares it is spread over, and
    the figures of rows without share counts (amended summary reports)."""

    cents: Decimal = _ZERO
    shares: Decimal = _ZERO
    unweighted: list[Decimal] = field(default_factory=list)

    def add(self, other: _Sums) -> None:
        self.cents += other.cents
        self.shares += other.shares
        self.unweighted += other.unweighted

    def per_share(self) -> Decimal | None:
        """Share-weighted cents per share; rows without shares only when nothing else."""
        if self.shares > 0:
            return self.cents / self.shares
        if self.unweighted:
            return sum(self.unweighted, _ZERO) / len(self.unweighted)
        return None


@dataclass(frozen=True, slots=True)
class _Match:
    per_share: Decimal  # net price improvement, cents per share
    all_stocks: bool  # the venue's report has no S&P 500 flag: all-stock figures used


def _identities(name: str | None, mic: str | None, mpid: str | None) -> set[str]:
    """Every key a venue spelling can be known by: its MIC, its MPID, its normalised name."""
    out = set()
    code = mic_code(mic)
    if code is not None:
        out.add(f"mic:{code}")
    if mpid and mpid.strip():
        out.add(f"mpid:{mpid.strip().upper()}")
    if normalise_name(name):
        out.add(f"name:{normalise_name(name)}")
    return out


def _center_identities(code: str) -> set[str]:
    """A 605 market-center code may be a MIC (exchanges), an MPID (wholesalers) or a name."""
    return _identities(code, code, code)


class VenueQualityIndex:
    """Rule 605 net price improvement per market center, month ('YYYY-MM') and order type,
    split by S&P 500 flag (``None``: a format without it), looked up by a 606 venue spelling.

    ``rows`` are mappings (or an Arrow table) with ``market_center``, ``month``,
    ``order_type`` (joined by :data:`JOINED_TYPES`, others left out), ``sp500`` and
    ``net_price_improvement_cents_per_share``, and where known ``net_pi_numerator_cents`` and
    ``net_pi_shares`` (its divisor) or ``executed_shares``: the columns of
    :func:`pfof.engine.stats605.venue_quality`. Rows of one key (and the market
    centers one venue stands for) are combined share-weighted, from the exact numerators when
    given; rows without share counts (summary reports) count only where no row has them, as a
    plain mean. Rows without an improvement figure or with zero shares are left out.
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]] | Any) -> None:
        if hasattr(rows, "to_pylist"):
            rows = rows.to_pylist()
        self._stats: defaultdict[tuple[str, str, str], dict[bool | None, _Sums]] = defaultdict(dict)
        self._centers: defaultdict[str, set[str]] = defaultdict(set)
        with localcontext(prec=_PREC):
            for row in rows:
                self._add(row)

    def _add(self, row: Mapping[str, Any]) -> None:
        center = row.get("market_center")
        month = row.get("month")
        order_type = row.get("order_type")
        if not center or not month or not order_type:
            raise InputError(
                f"605 statistics row {dict(row)!r}: needs market_center, month and order_type"
            )
        per_share = _dec(
            row.get("net_price_improvement_cents_per_share"),
            "net_price_improvement_cents_per_share",
        )
        numerator = _dec(row.get("net_pi_numerator_cents"), "net_pi_numerator_cents")
        shares = _dec(row.get("net_pi_shares"), "net_pi_shares")
        if shares is None or numerator is None:
            numerator = None
            shares = _dec(row.get("executed_shares"), "executed_shares")
        if per_share is None and numerator is None:
            return
        if shares is not None and shares <= 0:
            return
        joined = JOINED_TYPES.get(str(order_type))
        if joined is None:
            return
        sp500 = row.get("sp500")
        flag = None if sp500 is None else bool(sp500)
        sums = self._stats[(str(center), str(month), joined.value)].setdefault(flag, _Sums())
        if numerator is None and per_share is not None and shares is not None:
            numerator = per_share * shares
        if numerator is not None and shares is not None:
            sums.cents += numerator
            sums.shares += shares
        elif per_share is not None:
            sums.unweighted.append(per_share)
        for identity in _center_identities(str(center)):
            self._centers[identity].add(str(center))

    def centers(self, name: str | None, mic: str | None, mpid: str | None, key: str) -> set[str]:
        """The 605 market centers a 606 venue spelling (and its canonical ``key``) stands for."""
        found: set[str] = set()
        for identity in _identities(name, mic, mpid) | {key}:
            found |= self._centers.get(identity, set())
        return found

    def lookup(
        self, centers: Iterable[str], month: str, order_type: OrderType, section: Section
    ) -> _Match | None:
        """Combined statistics of ``centers`` for one month, order type and section: each
        center's rows with the section's S&P 500 flag, else its rows without a flag."""
        wanted = section is Section.SP500
        total, all_stocks = _Sums(), False
        for center in sorted(centers):
            by_flag = self._stats.get((center, month, order_type.value))
            if not by_flag:
                continue
            sums = by_flag.get(wanted)
            if sums is None:
                sums = by_flag.get(None)
                if sums is None:
                    continue
                all_stocks = True
            total.add(sums)
        per_share = total.per_share()
        return None if per_share is None else _Match(per_share, all_stocks)


@dataclass(frozen=True, slots=True)
class UnmatchedVenue:
    """A venue the broker routed to whose 605 statistics the join did not find.

    ``routed_pct``: its share of the group's listed routed orders (percent, summed over the
    quarter's months); ``None`` on a broker-quarter's ``all`` row (shares of different groups
    do not add up).
    """

    name: str
    key: str
    routed_pct: Decimal | None

    def to_json(self) -> dict[str, Any]:
        """``{"venue", "key", "routed_pct"}`` with the percentage to 2 places."""
        return {
            "venue": self.name,
            "key": self.key,
            "routed_pct": dec_str(self.routed_pct, PCT_PLACES),
        }

    def __str__(self) -> str:
        pct = "" if self.routed_pct is None else f" {dec_str(self.routed_pct, PCT_PLACES)}%"
        return f"{self.name} ({self.key}){pct}"


@dataclass(slots=True)
class QualityEstimate:
    """A broker's estimated price improvement next to its PFOF, for one quarter, section and
    order type (``all`` / ``all``: the quarter's four groups combined).

    Units: cents per 100 shares (as 606 rates); ``pi_per_pfof_dollar`` is dollars of price
    improvement per dollar of PFOF; ``coverage`` a fraction of the listed routed orders.
    """

    broker: str
    broker_key: str
    year: int
    quarter: int
    section: str
    order_type: str
    pi_cents_per_100: Decimal | None = None
    pfof_cents_per_100: Decimal | None = None
    coverage: Decimal | None = None
    months: tuple[str, ...] = ()  # months whose 605 data the estimate uses
    all_stock_venues: tuple[str, ...] = ()  # venues whose reports have no S&P 500 flag
    unmatched: tuple[UnmatchedVenue, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def pi_per_pfof_dollar(self) -> Decimal | None:
        """Price improvement per $1 of PFOF (both per 100 shares); ``None`` without PFOF."""
        if self.pi_cents_per_100 is None or not self.pfof_cents_per_100:
            return None
        return exact_ratio(self.pi_cents_per_100, self.pfof_cents_per_100)

    def to_json(self) -> dict[str, Any]:
        """Flat JSON-ready record; figures as decimal strings rounded half-even to 4 places
        (percentages to 2)."""
        coverage = None if self.coverage is None else self.coverage * _HUNDRED
        return {
            "broker": self.broker,
            "year": self.year,
            "quarter": self.quarter,
            "section": self.section,
            "order_type": self.order_type,
            "pi_cents_per_100_shares": dec_str(self.pi_cents_per_100, RATE_PLACES),
            "pfof_cents_per_100_shares": dec_str(self.pfof_cents_per_100, RATE_PLACES),
            "pi_per_pfof_dollar": dec_str(self.pi_per_pfof_dollar, RATE_PLACES),
            "coverage_pct": dec_str(coverage, PCT_PLACES),
            "months_605": list(self.months),
            "all_stock_venues": list(self.all_stock_venues),
            "unmatched_venues": [u.to_json() for u in self.unmatched],
            "notes": list(self.notes),
        }


#: Keys of :meth:`QualityEstimate.to_json` in order (the CSV columns).
QUALITY_COLUMNS: tuple[str, ...] = tuple(QualityEstimate("", "", 0, 1, "", "").to_json())


def estimate_quality(cells: CellSource, venue_stats: Any) -> list[QualityEstimate]:
    """Per broker and quarter with 605 data for some routed venue-month: the estimated price
    improvement, PFOF, their ratio and the coverage per section and order type, then ``all``.

    ``cells``: reported 606(a)(1) cells (``A1Cell`` objects or a table of them, as
    :func:`pfof.store.queries.disclosure_cells` returns); ``venue_stats``: 605 statistics per
    market center, month, order type and S&P 500 flag (see :class:`VenueQualityIndex`, or an
    index built already). The formula is in the module docstring.
    """
    index = venue_stats if isinstance(venue_stats, VenueQualityIndex) else None
    index = index or VenueQualityIndex(venue_stats)
    rows = as_cells(cells)
    resolver = VenueResolver(rows)
    groups: defaultdict[tuple[str, int, int], list[A1Cell]] = defaultdict(list)
    display: dict[str, str] = {}
    for cell in rows:
        if cell.section in SECTIONS and cell.order_type in ORDER_TYPES:
            key = broker_key(cell.broker)
            display[key] = cell.broker
            groups[(key, cell.year, cell.quarter)].append(cell)
    out: list[QualityEstimate] = []
    with localcontext(prec=_PREC):
        for (bkey, year, quarter), group in sorted(groups.items()):
            out += _broker_quarter(display[bkey], bkey, year, quarter, group, index, resolver)
    return out


def _broker_quarter(
    broker: str,
    bkey: str,
    year: int,
    quarter: int,
    cells: list[A1Cell],
    index: VenueQualityIndex,
    resolver: VenueResolver,
) -> list[QualityEstimate]:
    """The group rows and the ``all`` row of one broker-quarter (none without 605 data)."""
    estimates: list[QualityEstimate] = []
    weights: list[tuple[QualityEstimate, Decimal]] = []
    everything = PaymentSums()
    for section in SECTIONS:
        for order_type in ORDER_TYPES:
            mine = [c for c in cells if c.section is section and c.order_type is order_type]
            if not any(c.routed_pct or c.net_payment_usd is not None for c in mine):
                continue  # no order of this type routed, nothing paid: no row
            estimate, sums = _group(broker, bkey, year, quarter, section, order_type, mine)
            _join(estimate, mine, index, resolver)
            for cell in mine:
                everything.add(cell)
            estimates.append(estimate)
            weights.append((estimate, sums.usd_per_rate))
    if not any(e.coverage for e in estimates):
        return []
    combined = QualityEstimate(broker, bkey, year, quarter, ALL, ALL)
    combined.pfof_cents_per_100 = everything.rate
    _combine(combined, weights)
    estimates.append(combined)
    return estimates


def _group(
    broker: str,
    bkey: str,
    year: int,
    quarter: int,
    section: Section,
    order_type: OrderType,
    cells: list[A1Cell],
) -> tuple[QualityEstimate, PaymentSums]:
    sums = PaymentSums()
    for cell in cells:
        sums.add(cell)
    estimate = QualityEstimate(broker, bkey, year, quarter, section.value, order_type.value)
    estimate.pfof_cents_per_100 = sums.rate
    return estimate, sums


def _join(
    estimate: QualityEstimate,
    cells: list[A1Cell],
    index: VenueQualityIndex,
    resolver: VenueResolver,
) -> None:
    """Weight each routed venue-month's 605 improvement by its routed share (module doc)."""
    total = covered = weighted = _ZERO
    months: set[str] = set()
    all_stocks: set[str] = set()
    unmatched: dict[str, Decimal] = {}
    for cell in cells:
        if cell.routed_pct is None or cell.routed_pct <= 0:
            continue
        key = resolver.key(cell.venue_name, cell.mic, cell.mpid)
        month = f"{cell.year:04d}-{cell.month:02d}"
        centers = index.centers(cell.venue_name, cell.mic, cell.mpid, key)
        match = index.lookup(centers, month, OrderType(cell.order_type), Section(cell.section))
        total += cell.routed_pct
        if match is None:
            unmatched[key] = unmatched.get(key, _ZERO) + cell.routed_pct
            continue
        covered += cell.routed_pct
        weighted += cell.routed_pct * match.per_share
        months.add(month)
        if match.all_stocks:
            all_stocks.add(resolver.name(key))
    if total > 0:
        estimate.coverage = covered / total
    if covered > 0:
        estimate.pi_cents_per_100 = weighted / covered * _HUNDRED
    estimate.months = tuple(sorted(months))
    estimate.all_stock_venues = tuple(sorted(all_stocks))
    estimate.unmatched = tuple(
        UnmatchedVenue(resolver.name(key), key, pct / total * _HUNDRED)
        for key, pct in sorted(unmatched.items(), key=lambda item: (-item[1], item[0]))
    )
    if all_stocks:
        estimate.notes.append(
            f"{', '.join(estimate.all_stock_venues)}: the 605 report has no S&P 500 flag; "
            "its all-stock figures stand for both sections"
        )


def _combine(combined: QualityEstimate, weights: list[tuple[QualityEstimate, Decimal]]) -> None:
    """The ``all`` row: the groups' improvement and coverage weighted by implied shares."""
    weight = sum((w for e, w in weights if w > 0 and e.coverage is not None), _ZERO)
    if weight > 0:
        combined.coverage = (
            sum((w * (e.coverage or _ZERO) for e, w in weights if w > 0), _ZERO) / weight
        )
    priced = [(e, w) for e, w in weights if w > 0 and e.pi_cents_per_100 is not None]
    priced_weight = sum((w for _, w in priced), _ZERO)
    if priced_weight > 0:
        combined.pi_cents_per_100 = (
            sum((w * (e.pi_cents_per_100 or _ZERO) for e, w in priced), _ZERO) / priced_weight
        )
    else:
        combined.notes.append(
            "no group with an estimate reports a rated payment: no implied volume to weight "
            "the sections and order types by"
        )
    combined.months = tuple(sorted({m for e, _ in weights for m in e.months}))
    combined.all_stock_venues = tuple(sorted({v for e, _ in weights for v in e.all_stock_venues}))
    names = {(u.key, u.name) for e, _ in weights for u in e.unmatched}
    combined.unmatched = tuple(UnmatchedVenue(n, k, None) for k, n in sorted(names))


def measured_improvement(
    quality: Any, orders: Any, venues: Iterable[str] | None = None
) -> dict[tuple[str, str], Decimal | None]:
    """A broker's own price improvement, cents per 100 shares, from its orders: the yardstick
    of an estimate (``pfof demo`` compares them).

    Share-weighted over the broker's non-directed, held market and marketable limit orders in
    S&P 500 and other stocks, per (section, order type) and (``all``, ``all``):
    ``10,000 * sum(x * PI) / sum(x)``, ``x`` the executed shares and ``PI`` the price
    improvement per share in dollars (``ORDER_QUALITY``, against the NBBO at the broker's
    receipt). ``quality`` needs a ``venue`` column (the first route,
    :func:`~pfof.engine.routing.with_first_venue`); ``venues`` keeps only orders first routed
    to one of them (the venues with 605 data). ``orders`` gives ``directed`` and ``held``.
    Floats enter through their shortest decimal form and are summed as Decimal.
    """
    flags = {
        r["order_id"]: (bool(r["directed"]), bool(r["held"]))
        for r in orders.select(["order_id", "directed", "held"]).to_pylist()
    }
    kept = None if venues is None else set(venues)
    columns = ["order_id", "section", "order_type", "executed_qty", "price_improvement_per_share"]
    sums: defaultdict[tuple[str, str], _Sums] = defaultdict(_Sums)
    with localcontext(prec=_PREC):
        for r in quality.select([*columns, "venue"]).to_pylist():
            directed, held = flags.get(r["order_id"], (True, False))
            qty, pi = r["executed_qty"], r["price_improvement_per_share"]
            if directed or not held or not qty or pi is None:
                continue
            if r["section"] not in {s.value for s in SECTIONS}:
                continue
            if r["order_type"] not in {t.value for t in ORDER_TYPES}:
                continue
            if kept is not None and r["venue"] not in kept:
                continue
            x = Decimal(repr(qty))
            cents = Decimal(repr(pi)) * x * _HUNDRED
            for key in ((r["section"], r["order_type"]), (ALL, ALL)):
                sums[key].cents += cents
                sums[key].shares += x
        return {
            key: (s.cents / s.shares * _HUNDRED if s.shares else None)
            for key, s in sorted(sums.items())
        }


def broker_quality(
    source: str | os.PathLike[str] | duckdb.DuckDBPyConnection | CellSource,
    venue_stats: Any = None,
    *,
    broker: str | None = None,
    year: int | None = None,
    quarter: int | None = None,
) -> list[QualityEstimate]:
    """Each broker's estimated price improvement next to its payment for order flow.

    Joins the broker's Rule 606(a)(1) routing (share of non-directed market and marketable
    limit orders per venue, S&P 500 and other stocks) to each venue's Rule 605 net price
    improvement of the same months, matched by MIC / MPID / name: per broker, quarter,
    section and order type, the estimated improvement and the PFOF in cents per 100 shares,
    improvement per $1 of PFOF, the coverage (share of routed orders whose venue has 605
    data) and the venues left unmatched (``pfof brokers --quality``). ``source`` is a store
    (path or open connection) holding both kinds of report, or 606 cells given with
    ``venue_stats``; ``broker``, ``year``, ``quarter`` narrow a store.

    >>> import pfof
    >>> pfof.ingest(["606-reports/", "605-reports/"], "pfof.duckdb")  # doctest: +SKIP
    >>> for q in pfof.broker_quality("pfof.duckdb"):                 # doctest: +SKIP
    ...     print(q.broker, q.year, q.quarter, q.section, q.order_type,
    ...           q.pi_cents_per_100, q.pfof_cents_per_100, q.coverage)
    """
    import duckdb

    if isinstance(source, duckdb.DuckDBPyConnection | str | os.PathLike):
        if venue_stats is not None:
            raise ParameterError("venue_stats go with 606 cells, not with a store")
        return _from_store(source, broker=broker, year=year, quarter=quarter)
    if broker is not None or year is not None or quarter is not None:
        raise ParameterError("broker, year and quarter filter a store, not given cells")
    if venue_stats is None:
        raise ParameterError("606 cells need venue_stats (605 statistics) to join")
    return estimate_quality(source, venue_stats)


def _from_store(
    source: str | os.PathLike[str] | duckdb.DuckDBPyConnection,
    **where: Any,
) -> list[QualityEstimate]:
    import duckdb

    from pfof.engine.stats605 import venue_quality
    from pfof.store.queries import disclosure_cells
    from pfof.store.schema import connect

    if isinstance(source, duckdb.DuckDBPyConnection):
        return estimate_quality(disclosure_cells(source, **where), venue_quality(source))
    con = connect(Path(source), read_only=True)
    try:
        return estimate_quality(disclosure_cells(con, **where), venue_quality(con))
    finally:
        con.close()
