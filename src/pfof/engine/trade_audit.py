"""Each of an investor's trades against the NBBO in force when the order arrived.

For every row of ``INVESTOR_TRADES``: the NBBO at the order time (at the execution time when
the row has no order time, flagged), its age, where the fill stands against it (``inside``,
``at``, ``outside`` or ``no_quote``), price improvement per share and in dollars, effective
spread, E/Q, and, given the broker's Rule 606(a)(1) cells, the payment the
broker likely received for the order (:mod:`~pfof.engine.order_payment`), and for an option
trade whose underlying is quoted too, the cost in implied-volatility points
(:func:`~pfof.engine.option_pricing.implied_vol_points`, the measure of docs/options.md).
Formulas, units and every flag: docs/audit.md.

Which quote is usable (:func:`audit_usable`): a quote of the trade's New York date, and, for a
trade at or after 09:30 New York, one stamped at or after 09:30 (the regular-session rule of
the quality engine, docs/rule605.md E1: a pre-open quote is no price an order of the session
could have had); a pre-market trade is measured against that morning's pre-market NBBO. An
earlier day's quote is refused (``earlier_day_quote``), as is a pre-open quote for a trade of
the session or later (``pre_open_quote``), whatever its age unless the caller sets a limit.
Unlike Rule 605, which covers regular-hours orders only, the audit measures extended-hours
trades, flagged ``extended_hours`` (outside the NYSE regular session of their date: the
pre-market and post-close NBBO is thin). A crossed quote is measured against its far side and
midpoint (flag ``crossed_quote``), without quoted spread or E/Q (E5).

The NBBO lookups are one batch of :class:`~pfof.engine.asof.NbboIndex` searches (the as-of
rule of docs/metrics.md: the latest row of the symbol stamped at or before the time). The
per-trade arithmetic is exact: trade prices and quantities are ``Decimal`` and a quote's
float64 price is taken as the shortest decimal that prints it (``155.87``, never
``155.8699999...``), which is the price the source wrote for any price of up to 15
significant digits. Nothing is rounded here; outputs round ratios and estimates when written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.asof import NbboIndex, timestamps_ns
from pfof.engine.nbbo import conform, nbbo_table
from pfof.engine.option_pricing import IVStatus, implied_vol_points
from pfof.engine.option_quality import DEFAULT_RATE, expiry_ns
from pfof.engine.order_payment import PaymentRateBook, payment_usd
from pfof.engine.quality import SESSION_OPEN_NS, local_ns
from pfof.model.enums import OrderType, Section
from pfof.model.market_time import MARKET_TZ, year_quarter
from pfof.model.money import round_half_up
from pfof.model.option_symbols import (
    CONTRACT_MULTIPLIER,
    OptionSymbol,
    canonical_symbol,
    parse_option_symbol,
)
from pfof.model.trade_records import INVESTOR_TRADES, AuditFlag, TradeOrderType, TradePosition

__all__ = [
    "DEFAULT_DIVIDEND_YIELD",
    "DEFAULT_RATE",
    "AuditSummary",
    "TradeAudit",
    "audit_trades",
    "audit_usable",
    "extended_hours",
    "summarise_audit",
]

_PREC = 50
#: Payment estimates are rounded half-up to micro-dollars, the canonical money precision.
ESTIMATE_PLACES = 6
_NY = ZoneInfo(MARKET_TZ)
#: Continuous dividend yield of an option's underlying when the caller gives none.
DEFAULT_DIVIDEND_YIELD = 0.0
_YEAR_NS = 365.0 * 86_400 * 1_000_000_000
_DAY_NS = 86_400 * 1_000_000_000
_STATED_606 = {
    TradeOrderType.MARKET: OrderType.MARKET,
    TradeOrderType.MARKETABLE_LIMIT: OrderType.MARKETABLE_LIMIT,
    TradeOrderType.NON_MARKETABLE_LIMIT: OrderType.NON_MARKETABLE_LIMIT,
    TradeOrderType.STOP: OrderType.OTHER,
    TradeOrderType.STOP_LIMIT: OrderType.OTHER,
    TradeOrderType.OTHER: OrderType.OTHER,
}
#: Flags meaning "the quote found does not describe the market at the trade's time".
_UNUSABLE = (
    AuditFlag.AFTER_QUOTES,
    AuditFlag.EARLIER_DAY_QUOTE,
    AuditFlag.PRE_OPEN_QUOTE,
    AuditFlag.STALE_QUOTE,
)


@dataclass(slots=True)
class TradeAudit:
    """One trade measured against the NBBO (docs/audit.md has every formula).

    Money and prices are exact ``Decimal`` dollars (per share; ``price_improvement_usd`` and
    ``pfof_estimate_usd`` per trade, option contracts times :attr:`multiplier`); ``None`` where
    a figure is undefined for this trade, with the reason in ``flags``.
    """

    trade_id: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    line: int
    section: Section
    multiplier: int  # shares per unit of quantity: 1, or 100 per option contract
    stated_order_type: str | None
    order_type: OrderType | None  # the 606 bucket used for the payment estimate
    broker: str | None
    venue: str | None
    lookup_ts: int  # the time the NBBO is taken at, UTC ns (order time, else execution)
    quote_ts: int | None = None
    nbbo_bid: Decimal | None = None
    nbbo_ask: Decimal | None = None
    nbbo_bid_size: int | None = None
    nbbo_ask_size: int | None = None
    position: TradePosition = TradePosition.NO_QUOTE
    price_improvement_per_share: Decimal | None = None
    price_improvement_usd: Decimal | None = None
    effective_spread: Decimal | None = None
    quoted_spread: Decimal | None = None
    eq_ratio: Decimal | None = None
    pfof_rate: Decimal | None = None  # cents per 100 shares (per contract for options)
    pfof_basis: str | None = None  # "venue" or "routing_weighted"
    pfof_venue: str | None = None  # the 606 venue the trade's venue matched
    pfof_estimate_usd: Decimal | None = None
    underlying_mid: float | None = None  # options: the underlying's NBBO midpoint at lookup_ts
    # options: side x (IV(fill) - IV(NBBO midpoint)) x 100, positive = a cost
    vol_points_cost: float | None = None
    flags: list[AuditFlag] = field(default_factory=list)

    @property
    def quote_age_ns(self) -> int | None:
        """Nanoseconds from the quote's time stamp to the lookup time."""
        return None if self.quote_ts is None else self.lookup_ts - self.quote_ts

    @property
    def price_improvement_per_contract(self) -> Decimal | None:
        """Price improvement per option contract (per share x 100); ``None`` for stocks."""
        if self.section is not Section.OPTIONS or self.price_improvement_per_share is None:
            return None
        return self.price_improvement_per_share * self.multiplier


@dataclass(slots=True)
class AuditSummary:
    """Totals over the audited trades.

    ``price_improvement_per_pfof_dollar`` divides the price improvement by the payment
    estimate over the trades that have both (``None`` when there are none or the estimates
    sum to zero).
    """

    trades: int = 0
    with_quote: int = 0
    total_price_improvement_usd: Decimal = Decimal(0)
    total_pfof_estimate_usd: Decimal | None = None
    price_improvement_per_pfof_dollar: Decimal | None = None
    positions: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)


def _price(value: float | None, size: int | None) -> Decimal | None:
    """A quote price as the decimal it was written as; ``None`` for an absent side: no
    positive price, or a size that is given and not positive (as ``quotes_to_nbbo`` rules)."""
    if value is None or not np.isfinite(value) or value <= 0 or (size is not None and size <= 0):
        return None
    return Decimal(repr(float(value)))


@cache
def _minute_date(minute: int) -> date:
    return datetime.fromtimestamp(minute * 60, _NY).date()


def market_date(ts_ns: int) -> date:
    """The New York date of a UTC nanosecond time (zone changes fall on whole minutes)."""
    return _minute_date(ts_ns // 60_000_000_000)


def audit_usable(quote_ts: np.ndarray, at_ts: np.ndarray) -> np.ndarray:
    """Whether a quote stamped ``quote_ts`` may price a trade at ``at_ts`` (UTC nanoseconds).

    The quote must be of the trade's New York date; for a trade at or after 09:30 New York it
    must also be stamped at or after 09:30 (a regular-hours or post-close trade never takes a
    pre-open quote, as :func:`~pfof.engine.quality.in_session` rules), while a pre-market
    trade takes that morning's pre-market quote. ``quote_ts`` is the as-of quote, at or before
    ``at_ts``.

    >>> open_ = 1_652_189_400_000_000_000  # 2022-05-10 09:30 New York
    >>> audit_usable(np.array([open_ - 1, open_ - 1, open_ - 86_400_000_000_000]),
    ...              np.array([open_ - 1, open_, open_ - 1])).tolist()
    [True, False, False]
    """
    at_ts = np.asarray(at_ts, dtype=np.int64)
    if len(at_ts) == 0:
        return np.zeros(0, dtype=bool)
    at_local = local_ns(at_ts)
    midnight = at_local - at_local % _DAY_NS
    open_local = midnight + SESSION_OPEN_NS
    floor = np.where(at_local < open_local, midnight, open_local)
    return local_ns(np.asarray(quote_ts, dtype=np.int64)) >= floor


def extended_hours(ts: np.ndarray) -> np.ndarray:
    """Whether each UTC nanosecond time is outside the NYSE regular session of its New York
    date (09:30 to 16:00, 13:00 on early-close days; weekends and holidays have none).

    >>> extended_hours(np.array([1_652_189_400_000_000_000, 1_652_212_800_000_000_000])).tolist()
    [False, True]
    """
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) == 0:
        return np.zeros(0, dtype=bool)
    # the exchange calendar loads pandas: imported on the first audit, not with the module
    from pfof.engine.covered605 import regular_sessions

    day = local_ns(ts) // _DAY_NS  # New York dates, as days since 1970-01-01
    epoch = date(1970, 1, 1)
    sessions = regular_sessions(
        epoch + timedelta(days=int(day.min())), epoch + timedelta(days=int(day.max()))
    )
    days = np.array([(d - epoch).days for d in sessions.get_column("day").to_list()], np.int64)
    opens = sessions.get_column("session_open_ns").to_numpy().astype(np.int64)
    closes = sessions.get_column("session_close_ns").to_numpy().astype(np.int64)
    if len(days) == 0:
        return np.ones(len(ts), dtype=bool)
    at = np.minimum(np.searchsorted(days, day), len(days) - 1)
    regular = (days[at] == day) & (ts >= opens[at]) & (ts < closes[at])
    return ~regular


def _canonical_nbbo(nbbo: pa.Table) -> pa.Table:
    """``nbbo`` with symbols in :func:`canonical_symbol` form (option spellings unified)."""
    encoded = pc.dictionary_encode(nbbo.column("symbol").combine_chunks())
    names = encoded.dictionary.to_pylist()
    canon = [canonical_symbol(s) for s in names]
    if canon == names:
        return nbbo
    mapped = pc.take(pa.array(canon, pa.string()), encoded.indices)
    return nbbo.set_column(nbbo.schema.get_field_index("symbol"), "symbol", mapped)


def audit_trades(
    trades: pa.Table,
    nbbo: pa.Table,
    *,
    data_end_ns: int | Mapping[str, int] | None = None,
    max_quote_age_ns: int | None = None,
    sp500: Collection[str] | None = None,
    rates: PaymentRateBook | None = None,
    broker: str | None = None,
    rate: float = DEFAULT_RATE,
    dividend_yield: float = DEFAULT_DIVIDEND_YIELD,
) -> list[TradeAudit]:
    """One :class:`TradeAudit` per row of ``trades`` (``INVESTOR_TRADES``), in order.

    ``nbbo`` has at least the ``NBBO`` columns (symbol, ts, bid, bid_size, ask, ask_size).
    ``data_end_ns``: the last time the quote data covers, one for all symbols or per symbol
    (several sources end at different times; default: the NBBO's last row); a trade after it
    is ``no_quote``. A quote refused by :func:`audit_usable` (an earlier day's, or a pre-open
    quote for a trade at or after 09:30 New York) is not used; ``max_quote_age_ns``: nor is
    one older than this. A trade outside the regular session is flagged ``extended_hours``.
    ``sp500``: the symbols counted in 606's S&P 500 section (``None``: none known, stocks are
    counted as "other stocks" and flagged). ``rates``: the 606 cells for payment estimates
    (``None``: no estimate). ``broker``: for rows that name none. Symbols match in
    :func:`~pfof.model.option_symbols.canonical_symbol` form. ``rate`` and ``dividend_yield``
    (continuous, annual) price option trades' volatility-point cost, for which the
    underlying's NBBO midpoint at the trade's time must be in ``nbbo`` too.
    """
    t = conform(trades, INVESTOR_TRADES, "trades")
    nb = _canonical_nbbo(nbbo_table(nbbo))
    index = NbboIndex.build(nb)
    n = t.num_rows
    order_ts = t.column("order_ts")
    exec_ts = t.column("execution_ts")
    has_order = pc.is_valid(order_ts).to_numpy(zero_copy_only=False)
    lookup = timestamps_ns(pc.coalesce(order_ts, exec_ts), "trades order_ts/execution_ts")
    codes = index.encode(t.column("symbol"))
    rows = index.lookup(codes, lookup) if n else np.zeros(0, np.int64)
    bids = nb.column("bid").to_pylist()
    asks = nb.column("ask").to_pylist()
    bid_sizes = nb.column("bid_size").to_pylist()
    ask_sizes = nb.column("ask_size").to_pylist()
    quote_ts = timestamps_ns(nb.column("ts"), "nbbo column ts") if nb.num_rows else None
    if data_end_ns is None and quote_ts is not None and len(quote_ts):
        data_end_ns = int(quote_ts.max())
    ends: Mapping[str, int] | None = None
    single_end: int | None = None
    if isinstance(data_end_ns, Mapping):
        ends = {canonical_symbol(k): v for k, v in data_end_ns.items()}
    else:
        single_end = data_end_ns
    members = None if sp500 is None else {canonical_symbol(s) for s in sp500}
    found = rows >= 0
    session = np.zeros(n, dtype=bool)
    if quote_ts is not None and found.any():
        session[found] = audit_usable(quote_ts[rows[found]], lookup[found])
    outside_hours = extended_hours(lookup)

    columns = {  # the times are in ``lookup`` already (converting them to Python is slow)
        name: t.column(name).to_pylist()
        for name in INVESTOR_TRADES.names
        if name not in ("order_ts", "execution_ts")
    }
    out: list[TradeAudit] = []
    for i in range(n):
        symbol = columns["symbol"][i]
        option = parse_option_symbol(symbol) is not None
        flags: list[AuditFlag] = []
        if option:
            section = Section.OPTIONS
        elif members is not None:
            section = Section.SP500 if symbol in members else Section.OTHER_STOCKS
        else:
            section = Section.OTHER_STOCKS
            if rates is not None:  # the section only matters for the payment estimate
                flags.append(AuditFlag.SECTION_ASSUMED)
        if not has_order[i]:
            flags.append(AuditFlag.EXECUTION_TIME)
        if outside_hours[i]:
            flags.append(AuditFlag.EXTENDED_HOURS)
        trade = TradeAudit(
            trade_id=columns["trade_id"][i],
            symbol=symbol,
            side=columns["side"][i],
            quantity=columns["quantity"][i],
            price=columns["price"][i],
            line=columns["line"][i],
            section=section,
            multiplier=CONTRACT_MULTIPLIER if option else 1,
            stated_order_type=columns["order_type"][i],
            order_type=None,
            broker=columns["broker"][i] or broker,
            venue=columns["venue"][i],
            lookup_ts=int(lookup[i]),
            flags=flags,
        )
        row = int(rows[i])
        if codes[i] < 0:
            flags.append(AuditFlag.SYMBOL_NOT_IN_QUOTES)
        elif row < 0:
            flags.append(AuditFlag.BEFORE_QUOTES)
        else:
            _measure(
                trade,
                int(quote_ts[row]) if quote_ts is not None else 0,
                (bids[row], asks[row], bid_sizes[row], ask_sizes[row]),
                ends.get(symbol) if ends is not None else single_end,
                max_quote_age_ns,
                bool(session[i]),
            )
        _classify_order_type(trade, columns["limit_price"][i], estimating=rates is not None)
        if rates is not None:
            _estimate_payment(trade, rates)
        out.append(trade)
    underlying_end = ends if ends is not None else single_end
    _vol_points(out, nb, index, quote_ts, underlying_end, max_quote_age_ns, rate, dividend_yield)
    return out


def _vol_points(
    trades: list[TradeAudit],
    nb: pa.Table,
    index: NbboIndex,
    quote_ts: np.ndarray | None,
    data_end_ns: int | Mapping[str, int] | None,
    max_age_ns: int | None,
    rate: float,
    dividend_yield: float,
) -> None:
    """Set ``underlying_mid`` and ``vol_points_cost`` of the option trades with a two-sided,
    uncrossed options NBBO, in one vectorised implied-volatility solve.

    The underlying's quote is its NBBO row as of the trade's lookup time, refused by the
    rules of the option's own quote (after its data, :func:`audit_usable`, too old) and unless
    two-sided and uncrossed (flag ``no_underlying_quote``).
    """
    picked: list[tuple[TradeAudit, OptionSymbol, Decimal, Decimal]] = []
    for trade in trades:
        terms = parse_option_symbol(trade.symbol)
        bid, ask = trade.nbbo_bid, trade.nbbo_ask
        if terms is not None and bid is not None and ask is not None and bid <= ask:
            picked.append((trade, terms, bid, ask))
    if not picked:
        return
    when = np.array([p[0].lookup_ts for p in picked], dtype=np.int64)
    codes = index.encode(pa.array([p[1].root for p in picked], pa.string()))
    rows = index.lookup(codes, when) if index.num_rows else np.full(len(picked), -1)
    u_bid = nb.column("bid").to_pylist()
    u_ask = nb.column("ask").to_pylist()
    spot = np.full(len(picked), np.nan)
    found = (codes >= 0) & (rows >= 0)
    session = np.zeros(len(picked), dtype=bool)
    if quote_ts is not None and found.any():
        session[found] = audit_usable(quote_ts[rows[found]], when[found])
    for j, (trade, terms, _, _) in enumerate(picked):
        row = int(rows[j])
        if not found[j] or quote_ts is None:
            continue
        ts = int(quote_ts[row])
        root = terms.root
        end = data_end_ns.get(root) if isinstance(data_end_ns, Mapping) else data_end_ns
        if (
            (end is not None and trade.lookup_ts > end)
            or not session[j]
            or (max_age_ns is not None and trade.lookup_ts - ts > max_age_ns)
        ):
            continue
        b, a = u_bid[row], u_ask[row]
        if b is not None and a is not None and 0 < b <= a:
            spot[j] = 0.5 * (b + a)
    years = (expiry_ns(pa.array([p[1].expiry for p in picked], pa.date32())) - when) / _YEAR_NS
    cost = implied_vol_points(
        np.array([p[1].right == "C" for p in picked]),
        np.array([1.0 if p[0].side == "buy" else -1.0 for p in picked]),
        np.array([float(p[0].price) for p in picked]),
        np.array([float(p[2]) for p in picked]),
        np.array([float(p[3]) for p in picked]),
        spot,
        np.array([float(p[1].strike) for p in picked]),
        years,
        rate,
        dividend_yield,
    )
    ok = int(IVStatus.OK)
    for j, (trade, *_) in enumerate(picked):
        if np.isnan(spot[j]):
            trade.flags.append(AuditFlag.NO_UNDERLYING_QUOTE)
            continue
        trade.underlying_mid = float(spot[j])
        if int(cost.fill_status[j]) == ok and int(cost.mid_status[j]) == ok:
            trade.vol_points_cost = float(cost.points[j])
        else:
            trade.flags.append(AuditFlag.VOL_NOT_IMPLIED)


def _measure(
    trade: TradeAudit,
    quote_ts: int,
    quote: tuple[float | None, float | None, int | None, int | None],
    data_end_ns: int | None,
    max_age_ns: int | None,
    session: bool,
) -> None:
    """Fill in the quote and the price figures of ``trade`` from the NBBO row in force.

    ``session``: whether the quote may price the trade (:func:`audit_usable`).
    """
    flags = trade.flags
    t = trade.lookup_ts
    if data_end_ns is not None and t > data_end_ns:
        flags.append(AuditFlag.AFTER_QUOTES)
    elif not session:
        earlier = market_date(quote_ts) != market_date(t)
        flags.append(AuditFlag.EARLIER_DAY_QUOTE if earlier else AuditFlag.PRE_OPEN_QUOTE)
    elif max_age_ns is not None and t - quote_ts > max_age_ns:
        flags.append(AuditFlag.STALE_QUOTE)
    if any(f in flags for f in _UNUSABLE):
        return
    bid, ask = _price(quote[0], quote[2]), _price(quote[1], quote[3])
    trade.quote_ts = quote_ts
    trade.nbbo_bid, trade.nbbo_ask = bid, ask
    trade.nbbo_bid_size = quote[2] if bid is not None else None
    trade.nbbo_ask_size = quote[3] if ask is not None else None
    buy = trade.side == "buy"
    far = ask if buy else bid
    if bid is None and ask is None:
        flags.append(AuditFlag.EMPTY_QUOTE)
    elif bid is None or ask is None:
        flags.append(AuditFlag.ONE_SIDED_QUOTE)
    if far is None:
        return  # position stays no_quote
    pi = far - trade.price if buy else trade.price - far
    trade.price_improvement_per_share = pi
    trade.price_improvement_usd = pi * trade.quantity * trade.multiplier
    trade.position = (
        TradePosition.INSIDE if pi > 0 else TradePosition.OUTSIDE if pi < 0 else TradePosition.AT
    )
    if bid is None or ask is None:
        return
    side = 1 if buy else -1
    trade.effective_spread = side * (2 * trade.price - (bid + ask))  # 2·s·(P − M)
    if bid > ask:  # crossed: far side and midpoint exist, a negative spread would flip E/Q
        flags.append(AuditFlag.CROSSED_QUOTE)
        return
    trade.quoted_spread = ask - bid
    if trade.quoted_spread == 0:
        flags.append(AuditFlag.LOCKED_QUOTE)
    else:
        with localcontext(prec=_PREC):
            trade.eq_ratio = trade.effective_spread / trade.quoted_spread


def _classify_order_type(trade: TradeAudit, limit_price: Decimal | None, estimating: bool) -> None:
    """The 606 order-type bucket: as stated, or a limit order judged against the NBBO.

    The flags of an assumed or unknown type are only set when ``estimating`` a payment, the
    one figure the type changes.
    """
    stated = trade.stated_order_type
    if stated is None and limit_price is None:
        trade.order_type = OrderType.MARKET
        if estimating:
            trade.flags.append(AuditFlag.ORDER_TYPE_ASSUMED)
        return
    if stated is not None and stated != TradeOrderType.LIMIT:
        trade.order_type = _STATED_606[TradeOrderType(stated)]
    else:
        far = trade.nbbo_ask if trade.side == "buy" else trade.nbbo_bid
        if limit_price is None or far is None:
            if estimating:
                trade.flags.append(AuditFlag.ORDER_TYPE_UNKNOWN)
            return
        marketable = limit_price >= far if trade.side == "buy" else limit_price <= far
        trade.order_type = (
            OrderType.MARKETABLE_LIMIT if marketable else OrderType.NON_MARKETABLE_LIMIT
        )
    if trade.order_type is OrderType.NON_MARKETABLE_LIMIT:
        trade.flags.append(AuditFlag.NON_MARKETABLE_LIMIT)


def _estimate_payment(trade: TradeAudit, rates: PaymentRateBook) -> None:
    if trade.order_type is None:
        return  # ORDER_TYPE_UNKNOWN is flagged already
    if not trade.broker:
        trade.flags.append(AuditFlag.NO_BROKER)
        return
    year, quarter = year_quarter(market_date(trade.lookup_ts))
    found = rates.rate(trade.broker, year, quarter, trade.section, trade.order_type, trade.venue)
    trade.pfof_basis = found.basis
    trade.pfof_venue = found.venue
    if found.rate is None:
        trade.flags.append(AuditFlag(found.missing or "not_in_606"))
        return
    trade.pfof_rate = found.rate
    trade.pfof_estimate_usd = round_half_up(
        payment_usd(found.rate, trade.quantity, trade.section), ESTIMATE_PLACES
    )


def summarise_audit(trades: Iterable[TradeAudit]) -> AuditSummary:
    """Counts and exact totals over audited trades (``AuditSummary``)."""
    summary = AuditSummary()
    positions: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    pfof_total: Decimal | None = None
    paired_pi = paired_pfof = Decimal(0)
    paired = False
    for trade in trades:
        summary.trades += 1
        positions[trade.position.value] += 1
        flags.update(f.value for f in trade.flags)
        if trade.position is not TradePosition.NO_QUOTE:
            summary.with_quote += 1
        if trade.price_improvement_usd is not None:
            summary.total_price_improvement_usd += trade.price_improvement_usd
        if trade.pfof_estimate_usd is not None:
            pfof_total = (pfof_total or Decimal(0)) + trade.pfof_estimate_usd
            if trade.price_improvement_usd is not None:
                paired = True
                paired_pi += trade.price_improvement_usd
                paired_pfof += trade.pfof_estimate_usd
    summary.total_pfof_estimate_usd = pfof_total
    if paired and paired_pfof != 0:
        with localcontext(prec=_PREC):
            summary.price_improvement_per_pfof_dollar = paired_pi / paired_pfof
    summary.positions = {p.value: positions[p.value] for p in TradePosition}
    summary.flags = dict(sorted(flags.items()))
    return summary
