"""Rule 606 reports from order logs: the quarterly 606(a)(1) report of one broker and the
606(b)(1) report of one customer, built from the canonical tables.

Inputs are a mapping of canonical table name to an Arrow table, Polars DataFrame or DuckDB
relation (``orders``, ``routes``, ``fills``, ``arrangements``; ``nbbo`` when an arrangement
pays a fraction of the quoted spread); :func:`pfof.store.order_logs.load_order_logs` reads
them, filtered, from a dataset folder or a DuckDB store. Counting and summing run in an
in-memory DuckDB; only the (small) per-cell results are assembled in Python, with exact
``Decimal`` values rounded once, half up (:func:`pfof.model.money.round_half_up`), to the
places the SEC schema uses. docs/rule606.md ("606 from order logs") states every definition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

from pfof.engine.attribution import (
    ATTRIBUTION,
    RoutesScope,
    as_arrow,
    broker_routes_sql,
    payment_attribution,
)
from pfof.model.enums import OrderType, PaymentBasis, Section
from pfof.model.market_time import MARKET_TZ, as_date, quarter_bounds, quarter_months
from pfof.model.mics import ISO_MICS
from pfof.model.money import format_usd, round_half_up
from pfof.model.reports606 import (
    A1Month,
    A1Section,
    A1Venue,
    B1Order,
    B1Route,
    B1Transaction,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
)
from pfof.model.tables import CANONICAL

SCHEMA_VERSION = "1.3"
#: Option orders count in 606(a)(1) only below this market value, in dollars (Rule 600(b)'s
#: "customer order" leaves out option orders of $50,000 or more).
OPTION_ORDER_LIMIT_USD = 50_000
#: Contract multiplier of a listed equity option (shares per contract).
OPTION_MULTIPLIER = 100
#: Venues listed per section-month: the ten with the most non-directed orders ...
TOP_VENUES = 10
#: ... plus every venue that received at least this share (in %) of them (Rule 606(a)(1)(ii)).
MIN_VENUE_PCT = 5

#: Well-known wholesaler MPIDs (FINRA market participant identifiers) and their names.
KNOWN_MPIDS: dict[str, str] = {
    "CDRG": "Citadel Securities LLC",
    "NITE": "Virtu Americas LLC",
    "JNST": "Jane Street Capital LLC",
    "ETMM": "G1 Execution Services LLC",
    "UBSS": "UBS Securities LLC",
    "SOHO": "Two Sigma Securities LLC",
    "WOLV": "Wolverine Execution Services LLC",
    "GEBS": "Global Execution Brokers LP",
}

SECTION_NAMES = {
    Section.SP500: "S&P 500 stocks",
    Section.OTHER_STOCKS: "other NMS stocks",
    Section.OPTIONS: "options",
}
_TYPE_NAMES = {
    OrderType.MARKET: "market",
    OrderType.MARKETABLE_LIMIT: "marketable limit",
    OrderType.NON_MARKETABLE_LIMIT: "non-marketable limit",
    OrderType.OTHER: "other",
}

Tables = Mapping[str, Any]


# ------------------------------------------------------------------ venues


@dataclass(frozen=True)
class VenueId:
    """How a venue code from the order logs is written in a 606 report."""

    name: str
    mic: str | None
    mpid: str | None


def venue_id(code: str, names: Mapping[str, str] | None = None) -> VenueId:
    """``code`` as a report venue: an ISO MIC goes in ``mic``, any other 4-5 character code
    in ``mpid``; the name comes from ``names``, then pfof's MIC and MPID lists, else the code."""
    name = (names or {}).get(code) or ISO_MICS.get(code) or KNOWN_MPIDS.get(code) or code
    if code in ISO_MICS:
        return VenueId(name, code, None)
    upper = code.isascii() and code.isalnum() and code.upper() == code
    return VenueId(name, None, code if upper and 4 <= len(code) <= 5 else None)


# ------------------------------------------------------------------ arithmetic


def pct(part: int, total: int) -> Decimal:
    """``part / total`` in percent, two decimals, half up, from the exact ratio."""
    if total <= 0:
        raise ValueError("percentage of an empty total")
    return round_half_up(Fraction(part * 100, total), 2)


def pcts_summing_to_100(counts: list[int]) -> list[Decimal]:
    """Percentages with two decimals that sum to exactly 100.00 (largest remainder: every
    value is its exact share floored to 0.01, and the missing hundredths go to the largest
    remainders, earlier entries first on ties)."""
    total = sum(counts)
    if total <= 0:
        raise ValueError("percentages of an empty total")
    floors = [c * 10_000 // total for c in counts]
    rests = [c * 10_000 % total for c in counts]
    missing = 10_000 - sum(floors)
    for i in sorted(range(len(counts)), key=lambda i: (-rests[i], i))[:missing]:
        floors[i] += 1
    return [Decimal(f).scaleb(-2) for f in floors]


def per_hundred(usd: Decimal, units_micro: int, options: bool) -> Decimal | None:
    """Net payment in cents per 100 shares (cents per contract for options) of
    ``units_micro`` millionths of shares (contracts), 4 decimals half up, from the exact
    ratio; ``None`` (blank) when money moved on no routed shares, 0 when nothing moved."""
    if not units_micro:
        return Decimal("0.0000") if usd == 0 else None
    per = 100 if options else 10_000
    return round_half_up(Fraction(usd) * per * 1_000_000 / units_micro, 4)


# ------------------------------------------------------------------ in-memory tables


def _connect(tables: Tables, names: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in names:
        if name not in tables:
            raise ValueError(f"the {name} table is required")
        con.register(name, as_arrow(tables[name], name, CANONICAL[name]))
    return con


# ------------------------------------------------------------------ 606(a)(1)


def held_order_routing_report(
    tables: Tables,
    broker: str,
    year: int,
    quarter: int,
    *,
    routes_scope: RoutesScope = "first",
    max_venues: int | None = TOP_VENUES,
    venue_names: Mapping[str, str] | None = None,
    attribution: Any | None = None,
    timestamp: datetime | None = None,
) -> HeldOrderRoutingReport:
    """The 606(a)(1) report of ``broker`` for one calendar quarter.

    Orders count in the month (New York time) they were received; stock orders count only
    when held, option orders when their market value is below $50,000
    (:func:`large_option_orders_sql`). Payments
    are the per-order attribution (:func:`pfof.engine.attribution.payment_attribution`,
    computed unless ``attribution`` is given) of the non-directed counted orders, in the
    month of their fills. ``max_venues=None`` lists every venue instead of the top ten plus
    those with 5 % or more.
    """
    months = [date(year, month, 1) for month in quarter_months(quarter)]
    quarter_end = quarter_bounds(year, quarter)[1]
    if attribution is None:
        attribution = payment_attribution(
            tables["orders"],
            tables["routes"],
            tables["fills"],
            tables["arrangements"],
            tables.get("nbbo"),
            routes_scope=routes_scope,
        )
    con = _connect(tables, ("orders", "routes", "arrangements", "fills"))
    try:
        con.register("attribution", as_arrow(attribution, "attribution", ATTRIBUTION))
        with_nbbo = tables.get("nbbo") is not None
        if with_nbbo:
            con.register("nbbo", as_arrow(tables["nbbo"], "nbbo", CANONICAL["nbbo"]))
        params = {"broker": broker, "first": months[0], "last": months[-1]}
        con.execute(
            "CREATE TEMP TABLE large_options AS " + large_option_orders_sql(with_nbbo=with_nbbo),
            {"broker": broker},
        )
        con.execute(
            f"""CREATE TEMP TABLE counted AS
            SELECT order_id, section, order_type, directed,
                   date_trunc('month', timezone('{MARKET_TZ}', received_ts))::DATE AS month
            FROM orders WHERE broker = $broker AND (held OR section = 'options')
              AND order_id NOT IN (SELECT order_id FROM large_options)
              AND date_trunc('month', timezone('{MARKET_TZ}', received_ts))::DATE
                  BETWEEN $first AND $last""",
            params,
        )
        totals = con.sql(
            "SELECT month, section, directed, order_type, count(*) FROM counted GROUP BY ALL"
        ).fetchall()
        venues = con.sql(
            f"""SELECT c.month, c.section, r.venue, c.order_type, count(*) AS orders,
                       sum(r.units) AS units
                FROM counted c JOIN (
                  SELECT order_id, venue, sum(CAST(round(quantity * 1e6) AS HUGEINT)) AS units
                  FROM ({broker_routes_sql(routes_scope)}) GROUP BY ALL) r
                USING (order_id)
                WHERE NOT c.directed GROUP BY ALL"""
        ).fetchall()
        money = con.execute(
            """SELECT a.month, a.section, a.venue, a.order_type, sum(a.amount)
               FROM attribution a
               WHERE a.broker = $broker AND NOT a.directed AND (a.held OR a.section = 'options')
                 AND a.order_id NOT IN (SELECT order_id FROM large_options)
                 AND a.month BETWEEN $first AND $last GROUP BY ALL""",
            params,
        ).fetchall()
        arrangements = con.execute(
            "SELECT venue, section, order_type, basis, rate, valid_from, valid_to "
            "FROM arrangements WHERE broker = $broker AND valid_from <= $end "
            "AND (valid_to IS NULL OR valid_to >= $first) ORDER BY valid_from",
            {"broker": broker, "first": months[0], "end": quarter_end},
        ).fetchall()
    finally:
        con.close()

    all_orders: dict[tuple[date, str], int] = defaultdict(int)
    nd_by_type: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, section, directed, otype, n in totals:
        all_orders[month, section] += n
        if not directed:
            nd_by_type[month, section][otype] += n
    routed: dict[tuple[date, str], dict[str, dict[str, tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for month, section, venue, otype, n, units in venues:
        routed[month, section][venue][otype] = (n, int(units))
    paid: dict[tuple[date, str, str, str], Decimal] = {
        (m, s, v, t): amount for m, s, v, t, amount in money
    }
    terms: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for venue, section, otype, basis, rate, vfrom, vto in arrangements:
        period = (f" from {vfrom.isoformat()}" if vfrom > months[0] else "") + (
            f" until {vto.isoformat()}" if vto is not None and vto < quarter_end else ""
        )
        terms[venue, section].append((otype, basis, rate, period))

    out_months = []
    for month in months:
        blocks: dict[Section, A1Section | None] = {}
        for section in Section:
            key = (month, section.value)
            blocks[section] = _section(
                broker,
                section,
                all_orders.get(key, 0),
                nd_by_type.get(key, {}),
                routed.get(key, {}),
                {(v, t): a for (m, s, v, t), a in paid.items() if (m, s) == key},
                terms,
                max_venues,
                venue_names,
            )
        out_months.append(
            A1Month(
                year,
                month.month,
                blocks[Section.SP500],
                blocks[Section.OTHER_STOCKS],
                blocks[Section.OPTIONS],
            )
        )
    return HeldOrderRoutingReport(
        SCHEMA_VERSION, broker, year, quarter, timestamp, tuple(out_months)
    )


def large_option_orders_sql(*, with_nbbo: bool = False) -> str:
    """SQL selecting the ``order_id`` of ``$broker``'s option orders whose market value is
    $50,000 or more: contracts x 100 x a price, the limit price when there is one, else the
    order's share-weighted execution price (``fills``), else (``with_nbbo``) the far side of
    the NBBO in force at receipt on the same New York day (ask for a buy, bid for a sell),
    else the stop price. An order with none of these is counted (its value is unknown).

    Exact: quantities and prices on a 1e-6 grid, compared as integers (value >= limit).
    """
    unit = 10**12  # 1e-6 contracts x 1e-6 dollars
    limit = OPTION_ORDER_LIMIT_USD * unit
    far = (
        """ASOF LEFT JOIN (SELECT symbol, ts, bid, ask FROM nbbo) n
              ON o.symbol = n.symbol AND o.received_ts >= n.ts"""
        if with_nbbo
        else ""
    )
    far_price = (
        f"""CASE WHEN CAST(timezone('{MARKET_TZ}', n.ts) AS DATE)
                        = CAST(timezone('{MARKET_TZ}', o.received_ts) AS DATE)
                 THEN CASE WHEN o.side = 'buy' THEN n.ask ELSE n.bid END END"""
        if with_nbbo
        else "NULL::DOUBLE"
    )
    return f"""
        WITH o AS (
          SELECT order_id, symbol, side, received_ts,
                 CAST(round(quantity * 1e6) AS HUGEINT) AS qm,
                 CAST(round(limit_price * 1e6) AS HUGEINT) AS lim,
                 CAST(round(stop_price * 1e6) AS HUGEINT) AS stp
          FROM orders WHERE broker = $broker AND section = 'options'),
        px AS (
          SELECT order_id,
                 sum(CAST(round(quantity * 1e6) AS HUGEINT)
                     * CAST(round(price * 1e6) AS HUGEINT)) AS qp,
                 sum(CAST(round(quantity * 1e6) AS HUGEINT)) AS q
          FROM fills WHERE order_id IN (SELECT order_id FROM o) GROUP BY order_id),
        priced AS (
          SELECT o.order_id, o.qm, o.lim, o.stp, px.qp, px.q,
                 CAST(round({far_price} * 1e6) AS HUGEINT) AS far
          FROM o LEFT JOIN px USING (order_id) {far})
        SELECT order_id FROM priced WHERE CASE
          WHEN lim IS NOT NULL THEN qm * {OPTION_MULTIPLIER} * lim >= {limit}
          WHEN q > 0 THEN qm * {OPTION_MULTIPLIER} * qp >= {limit} * q
          WHEN far IS NOT NULL THEN qm * {OPTION_MULTIPLIER} * far >= {limit}
          WHEN stp IS NOT NULL THEN qm * {OPTION_MULTIPLIER} * stp >= {limit}
          ELSE false END"""


def select_venues(
    counts: Mapping[str, int], total: int, max_venues: int | None = TOP_VENUES
) -> list[str]:
    """Venues to list, in descending order of non-directed orders (ties by code): the
    ``max_venues`` largest plus any with at least 5 % of the section's non-directed orders."""
    ranked = sorted(counts, key=lambda v: (-counts[v], v))
    if max_venues is None:
        return ranked
    return [
        v
        for i, v in enumerate(ranked)
        if i < max_venues or counts[v] * 100 >= MIN_VENUE_PCT * total
    ]


def _section(
    broker: str,
    section: Section,
    total: int,
    nd_types: Mapping[str, int],
    routed: Mapping[str, Mapping[str, tuple[int, int]]],
    paid: Mapping[tuple[str, str], Decimal],
    terms: Mapping[tuple[str, str], list[tuple[Any, ...]]],
    max_venues: int | None,
    venue_names: Mapping[str, str] | None,
) -> A1Section | None:
    if total == 0:
        return None
    nd = sum(nd_types.values())
    type_counts = [nd_types.get(t.value, 0) for t in OrderType]
    type_pcts: Sequence[Decimal | None] = pcts_summing_to_100(type_counts) if nd else [None] * 4
    counts = {v: sum(n for n, _ in by_type.values()) for v, by_type in routed.items()}
    options = section is Section.OPTIONS
    venues = []
    for code in select_venues(counts, nd, max_venues):
        by_type = routed[code]
        usd, cph, pcts = {}, {}, {}
        for t, nd_t in zip(OrderType, type_counts, strict=True):
            n, units = by_type.get(t.value, (0, 0))
            pcts[t] = pct(n, nd_t) if nd_t else Decimal("0.00")
            exact = paid.get((code, t.value), Decimal(0))
            usd[t] = round_half_up(exact, 2)
            cph[t] = per_hundred(exact, units, options)
        ident = venue_id(code, venue_names)
        venues.append(
            A1Venue.by_order_type(
                ident.name,
                ident.mic,
                ident.mpid,
                pct(counts[code], nd),
                pcts,
                usd,
                cph,
                material_aspects(broker, ident, section, terms.get((code, section.value), [])),
            )
        )
    market, marketable_limit, non_marketable_limit, other = type_pcts  # OrderType order
    return A1Section(
        ndo_pct=pct(nd, total),
        ndo_market_pct=market,
        ndo_marketable_limit_pct=marketable_limit,
        ndo_nonmarketable_limit_pct=non_marketable_limit,
        ndo_other_pct=other,
        venues=tuple(venues),
    )


def _rate_text(basis: str, rate: Decimal, options: bool) -> str:
    r = abs(rate)
    if basis == PaymentBasis.SPREAD_FRACTION:
        per = " per contract (x100)" if options else " per share"
        return f"{(r * 100).normalize():f}% of the NBBO quoted spread at receipt{per}"
    unit = "contract" if basis == PaymentBasis.PER_CONTRACT else "share"
    exponent = r.normalize().as_tuple().exponent
    places = max(2 if options else 4, -exponent if isinstance(exponent, int) else 0)
    return f"{format_usd(r, places=places)} per {unit}"


def material_aspects(
    broker: str, venue: VenueId, section: Section, terms: list[tuple[Any, ...]]
) -> str:
    """Plain-language terms of ``broker``'s arrangements with ``venue`` for one section,
    drawn from the arrangements in force during the quarter: who pays whom, basis, rate."""
    who = f"{venue.name} ({venue.mic or venue.mpid})" if (venue.mic or venue.mpid) else venue.name
    if not terms:
        return (
            f"{broker} has no payment for order flow, profit-sharing, fee or rebate "
            f"arrangement with {who} for {SECTION_NAMES[section]}."
        )
    options = section is Section.OPTIONS
    received: list[str] = []
    paid: list[str] = []
    for otype, basis, rate, period in terms:
        if rate == 0:
            continue
        text = f"{_rate_text(basis, rate, options)} on {_TYPE_NAMES[OrderType(otype)]} orders"
        (received if rate > 0 else paid).append(text + period)
    parts = []
    if received:
        parts.append(f"{who} pays {broker} " + "; ".join(received) + ".")
    if paid:
        parts.append(
            f"{broker} pays {who} " + "; ".join(paid) + " (transaction fees, net of any rebate)."
        )
    if not parts:
        return (
            f"{broker}'s arrangement with {who} for {SECTION_NAMES[section]} "
            "pays nothing in either direction."
        )
    parts.append(
        "Amounts are per executed share (contract) of orders routed to the venue; "
        "there is no profit-sharing relationship."
    )
    title = SECTION_NAMES[section]
    return f"{title[0].upper()}{title[1:]}: " + " ".join(parts)


# ------------------------------------------------------------------ 606(b)(1)


def round_second(ts_ns: int) -> datetime:
    """A UTC instant rounded to the nearest second, half seconds up (the schema's rule)."""
    seconds = (ts_ns + 500_000_000) // 1_000_000_000
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def customer_routing_report(
    tables: Tables,
    broker: str,
    customer: str,
    start: date | str,
    end: date | str,
    *,
    routes_scope: RoutesScope = "all",
    venue_names: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
) -> CustomerRoutingReport:
    """The 606(b)(1) report for one customer: every order of ``customer`` at ``broker``
    received on a UTC date from ``start`` to ``end`` (inclusive), with each venue it was
    routed to (in routing order) and the UTC date and time of each fill at that venue.

    Held stock orders go in ``held``, not-held stock orders in ``notHeldExempt`` (pfof cannot
    tell whether a not-held order is exempt from 606(b)(3); a broker sends the non-exempt
    ones in a (b)(3) report instead), option orders in ``options``. Routes are all of the
    order's routes by default, so a customer also sees where a re-routed order executed.
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    con = _connect(tables, ("orders", "routes", "fills"))
    try:
        params = {
            "broker": broker,
            "customer": customer,
            "start": start,
            "end": end + timedelta(days=1),
        }
        con.execute(
            """CREATE TEMP TABLE mine AS SELECT order_id, section, directed, held, received_ts
               FROM orders WHERE broker = $broker AND customer_id = $customer
                 AND received_ts >= timezone('UTC', $start::TIMESTAMP)
                 AND received_ts < timezone('UTC', $end::TIMESTAMP)""",
            params,
        )
        orders = con.sql(
            "SELECT order_id, section, directed, held FROM mine ORDER BY received_ts, order_id"
        ).fetchall()
        scope = broker_routes_sql(routes_scope).replace(
            "FROM routes", "FROM routes WHERE order_id IN (SELECT order_id FROM mine)"
        )
        routes = con.sql(
            f"""SELECT order_id, venue, min(routed_ts) AS first FROM ({scope})
                GROUP BY ALL ORDER BY order_id, first, venue"""
        ).fetchall()
        fills = con.sql(
            """SELECT f.order_id, f.venue, epoch_ns(f.exec_ts) FROM fills f
               WHERE f.order_id IN (SELECT order_id FROM mine) ORDER BY f.exec_ts, f.seq"""
        ).fetchall()
    finally:
        con.close()
    by_order: dict[str, list[str]] = defaultdict(list)
    for order_id, venue, _ in routes:
        by_order[order_id].append(venue)
    execs: dict[tuple[str, str], list[B1Transaction]] = defaultdict(list)
    for order_id, venue, ns in fills:
        t = round_second(ns)
        execs[order_id, venue].append(B1Transaction(t.date(), time(t.hour, t.minute, t.second)))
    lists: dict[str, list[B1Order]] = {"held": [], "not_held": [], "options": []}
    for order_id, section, directed, held in orders:
        b1_routes = []
        for venue in by_order.get(order_id, []):
            ident = venue_id(venue, venue_names)
            b1_routes.append(
                B1Route(ident.name, ident.mic, ident.mpid, tuple(execs.get((order_id, venue), ())))
            )
        order = B1Order(order_id, bool(directed), tuple(b1_routes))
        key = "options" if section == Section.OPTIONS else "held" if held else "not_held"
        lists[key].append(order)
    return CustomerRoutingReport(
        SCHEMA_VERSION,
        customer,
        broker,
        timestamp,
        start,
        end,
        tuple(lists["held"]),
        tuple(lists["not_held"]),
        tuple(lists["options"]),
    )


def report_timestamp(now: datetime | None = None) -> datetime:
    """The current UTC time rounded to the second, half up (the schema's ``timestamp``)."""
    now = now or datetime.now(UTC)
    ns = int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000
    return round_second(ns)
