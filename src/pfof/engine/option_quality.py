"""Options execution quality: the ``ORDER_QUALITY`` metrics per contract and in volatility.

Rule 605 covers NMS stocks only; nothing public says how well retail option orders are
filled. For each option order this module takes its ``ORDER_QUALITY`` row (options NBBO at
receipt, effective and quoted spread, E/Q, price improvement, realized spread at the equity
horizons) and adds what an options trader reads: the contract's terms from its OCC/OSI
symbol, the underlying's NBBO midpoint at receipt, price improvement per contract, and the
cost in implied-volatility points, ``side (IV(fill) - IV(NBBO midpoint)) * 100`` under the
Barone-Adesi-Whaley American pricer (``engine.option_pricing``). Formulas and caveats:
docs/options.md.

Each realized spread comes with its weight, ``realized_qty_<h>``: the contracts whose fill had
a valid midpoint at that horizon (docs/rule605.md, E3). A quality table written before
``ORDER_QUALITY`` had that column is accepted; its weight is then the executed contracts of
the orders with a realized spread (0 for the others), the weight such tables were averaged by.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.asof import NbboIndex, timestamps_ns
from pfof.engine.nbbo import conform, nbbo_table
from pfof.engine.option_pricing import IVStatus, implied_vol_points
from pfof.model.market_time import MARKET_TZ
from pfof.model.option_symbols import CONTRACT_MULTIPLIER, OptionSymbol, parse_option_symbol
from pfof.model.tables import HORIZONS_NS, ORDER_QUALITY, PRICE, TS

#: Risk-free rate used when the caller gives none (continuously compounded, annual).
DEFAULT_RATE = 0.045
_YEAR_NS = 365.0 * 86_400 * 1_000_000_000

OPTION_QUALITY = pa.schema(
    [
        ("order_id", pa.string()),
        ("broker", pa.string()),
        ("symbol", pa.string()),
        ("underlying", pa.string()),
        ("right", pa.string()),  # call / put
        ("strike", PRICE),
        ("expiry", pa.date32()),
        ("side", pa.string()),
        ("order_type", pa.string()),
        ("contracts", pa.float64()),
        ("executed_contracts", pa.float64()),
        ("received_ts", TS),
        ("nbbo_bid", PRICE),  # options NBBO at receipt, $/share
        ("nbbo_ask", PRICE),
        ("nbbo_state", pa.string()),
        ("quoted_spread", PRICE),  # $/share, as options are quoted
        ("avg_price", PRICE),
        ("effective_spread", PRICE),
        ("eq_ratio", pa.float64()),
        ("price_improvement_per_contract", PRICE),  # $ per contract (x 100 shares)
        ("price_improvement_usd", PRICE),  # per contract x executed contracts
        ("underlying_mid", PRICE),  # the underlying's NBBO midpoint at receipt
        ("years_to_expiry", pa.float64()),  # receipt to 16:00 New York on expiry, ACT/365
        ("iv_fill", pa.float64()),  # implied volatility of the fill price (0.25 = 25%)
        ("iv_mid", pa.float64()),  # implied volatility of the options NBBO midpoint
        ("vol_points", pa.float64()),  # side (iv_fill - iv_mid) x 100: a cost when positive
        ("iv_fill_status", pa.string()),  # engine.option_pricing.IVStatus name
        ("iv_mid_status", pa.string()),
        *[(f"realized_spread_{h}", PRICE) for h in HORIZONS_NS],  # $/share
        # contracts measured at each horizon: the realized spread's weight
        *[(f"realized_qty_{h}", pa.float64()) for h in HORIZONS_NS],
    ]
)


def parse_osi(symbols: pa.Array | pa.ChunkedArray | list[str]) -> pa.Table:
    """Root, right, strike and expiry of OCC/OSI option symbols (nulls where not one), as
    ``model.option_symbols.parse_option_symbol`` reads them (padded, compact or ``O:``).

    >>> parse_osi(["AAPL  260116C00150000"]).to_pylist()[0]["strike"]
    150.0
    """
    values = symbols.to_pylist() if isinstance(symbols, pa.Array | pa.ChunkedArray) else symbols
    cache: dict[str, OptionSymbol | None] = {}
    parsed: list[OptionSymbol | None] = []
    for sym in values:
        if not isinstance(sym, str):
            parsed.append(None)
            continue
        if sym not in cache:
            cache[sym] = parse_option_symbol(sym)
        parsed.append(cache[sym])
    return pa.table(
        {
            "underlying": pa.array([o.root if o else None for o in parsed], pa.string()),
            "right": pa.array(
                [None if o is None else "call" if o.right == "C" else "put" for o in parsed],
                pa.string(),
            ),
            "strike": pa.array([float(o.strike) if o else None for o in parsed], PRICE),
            "expiry": pa.array([o.expiry if o else None for o in parsed], pa.date32()),
        }
    )


def expiry_ns(expiries: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Nanoseconds since the epoch of 16:00 New York on each expiry date (NaN-free int64;
    null dates give 0)."""
    tz = ZoneInfo(MARKET_TZ)
    out = np.zeros(len(expiries), dtype=np.int64)
    values = expiries.to_pylist()
    cache: dict[date, int] = {}
    for i, d in enumerate(values):
        if d is None:
            continue
        if d not in cache:
            close = datetime.combine(d, time(16, 0), tzinfo=tz)
            cache[d] = int(close.timestamp()) * 1_000_000_000
        out[i] = cache[d]
    return out


def _np(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(col.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def option_quality(
    quality: pa.Table,
    nbbo: pa.Table,
    *,
    rate: float = DEFAULT_RATE,
    dividend_yields: Mapping[str, float] | None = None,
    index: NbboIndex | None = None,
) -> pa.Table:
    """One ``OPTION_QUALITY`` row per option order of an ``ORDER_QUALITY`` table.

    Option orders are the rows of section ``options`` whose symbol is an OCC/OSI option
    symbol; the underlying's quote comes from ``nbbo`` (which may hold options rows too) as
    of receipt. ``dividend_yields`` maps an underlying to its continuous dividend yield
    (0 when absent). Volatilities that cannot be implied (a fill below intrinsic value, a
    one-sided quote, no underlying quote) are null with their status saying why.
    ``quality`` may lack the ``realized_qty_<h>`` columns (a table written before them): see
    the module's docstring for the weights used then.
    """
    q = conform(quality, ORDER_QUALITY, "quality")
    is_option = pc.fill_null(pc.equal(q.column("section"), "options"), False)
    q = q.filter(is_option)
    terms = parse_osi(q.column("symbol"))
    q = q.filter(pc.is_valid(terms.column("underlying")))
    terms = terms.filter(pc.is_valid(terms.column("underlying")))
    n = q.num_rows
    nb = nbbo_table(nbbo)
    if index is None:
        index = NbboIndex.build(nb)
    recv = timestamps_ns(q.column("received_ts"), "quality column received_ts")
    under = terms.column("underlying")
    rows = index.lookup(index.encode(under), recv)
    found = rows >= 0
    u_bid = np.full(n, np.nan)
    u_ask = np.full(n, np.nan)
    if n:
        bid_all, ask_all = _np(nb.column("bid")), _np(nb.column("ask"))
        u_bid[found] = bid_all[rows[found]]
        u_ask[found] = ask_all[rows[found]]
    two_sided = found & (u_bid > 0) & (u_ask >= u_bid)
    spot = np.where(two_sided, 0.5 * (u_bid + u_ask), np.nan)
    years = (expiry_ns(terms.column("expiry")) - recv) / _YEAR_NS
    divs = dividend_yields or {}
    q_yield = np.array([divs.get(s, 0.0) for s in under.to_pylist()], dtype=float)
    side = np.where(np.asarray(q.column("side").to_pylist(), dtype=object) == "buy", 1.0, -1.0)
    bid, ask = _np(q.column("nbbo_bid")), _np(q.column("nbbo_ask"))
    # A midpoint only from a two-sided, uncrossed quote; otherwise its volatility is refused.
    quoted = (bid > 0) & (ask >= bid)
    cost = implied_vol_points(
        np.asarray(terms.column("right").to_pylist(), dtype=object) == "call",
        side,
        _np(q.column("avg_price")),
        np.where(quoted, bid, np.nan),
        np.where(quoted, ask, np.nan),
        spot,
        _np(terms.column("strike")),
        years,
        rate,
        q_yield,
    )
    names = {int(s): s.name for s in IVStatus}
    pi_share = _np(q.column("price_improvement_per_share"))
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "order_id": q.column("order_id"),
        "broker": q.column("broker"),
        "symbol": q.column("symbol"),
        "underlying": under,
        "right": terms.column("right"),
        "strike": terms.column("strike"),
        "expiry": terms.column("expiry"),
        "side": q.column("side"),
        "order_type": q.column("order_type"),
        "contracts": q.column("quantity"),
        "executed_contracts": q.column("executed_qty"),
        "received_ts": q.column("received_ts"),
        "nbbo_bid": q.column("nbbo_bid"),
        "nbbo_ask": q.column("nbbo_ask"),
        "nbbo_state": q.column("nbbo_state"),
        "quoted_spread": q.column("quoted_spread"),
        "avg_price": q.column("avg_price"),
        "effective_spread": q.column("effective_spread"),
        "eq_ratio": q.column("eq_ratio"),
        "price_improvement_per_contract": _nullable(pi_share * float(CONTRACT_MULTIPLIER)),
        "price_improvement_usd": q.column("price_improvement_usd"),
        "underlying_mid": _nullable(spot),
        "years_to_expiry": _nullable(years),
        "iv_fill": _nullable(cost.iv_fill),
        "iv_mid": _nullable(cost.iv_mid),
        "vol_points": _nullable(cost.points),
        "iv_fill_status": pa.array([names[int(c)] for c in cost.fill_status], pa.string()),
        "iv_mid_status": pa.array([names[int(c)] for c in cost.mid_status], pa.string()),
    }
    executed = q.column("executed_qty")
    for h in HORIZONS_NS:
        columns[f"realized_spread_{h}"] = q.column(f"realized_spread_{h}")
    for h in HORIZONS_NS:
        # null only in tables written before the column: the old weight
        old = pc.if_else(pc.is_valid(q.column(f"realized_spread_{h}")), executed, 0.0)
        columns[f"realized_qty_{h}"] = pc.coalesce(q.column(f"realized_qty_{h}"), old)
    return pa.table(columns, schema=OPTION_QUALITY)


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, PRICE, mask=~np.isfinite(values))


MARKETABLE_TYPES = ("market", "marketable_limit")


@dataclass(frozen=True)
class OptionsOutcome:
    """One routing's options figures: payment and improvement per contract, vol points.

    ``pfof_per_contract`` is the net options payment over the contracts executed for all
    option orders; improvement and volatility points are over marketable orders (market and
    marketable limit) with an execution, per executed contract; ``vol_points`` is their
    contract-weighted mean where both volatilities exist (``vol_point_orders`` of them).
    """

    label: str
    orders: int
    contracts: float
    pfof_usd: Decimal
    pfof_per_contract: float | None
    price_improvement_usd: float
    pi_per_contract: float | None
    vol_points: float | None
    vol_point_orders: int


def options_outcome(label: str, quality: pa.Table, payments: pa.Table) -> OptionsOutcome:
    """``OptionsOutcome`` of an ``OPTION_QUALITY`` table and the run's ``PAYMENTS`` rows."""
    executed = _np(quality.column("executed_contracts"))
    executed = np.where(np.isfinite(executed), executed, 0.0)
    types = np.asarray(quality.column("order_type").to_pylist(), dtype=object)
    marketable = np.isin(types, MARKETABLE_TYPES) & (executed > 0)
    pi_usd = _np(quality.column("price_improvement_usd"))
    pi_total = math.fsum(pi_usd[marketable & np.isfinite(pi_usd)].tolist())
    contracts = float(executed[marketable].sum())
    points = _np(quality.column("vol_points"))
    with_points = marketable & np.isfinite(points)
    weight = executed[with_points]
    vol_points = (
        float(np.dot(points[with_points], weight) / weight.sum()) if weight.sum() > 0 else None
    )
    options_pay = payments.filter(pc.equal(payments.column("section"), "options"))
    pfof = sum((Decimal(v) for v in options_pay.column("amount").to_pylist() if v), Decimal(0))
    all_contracts = float(executed.sum())
    return OptionsOutcome(
        label=label,
        orders=int(marketable.sum()),
        contracts=contracts,
        pfof_usd=pfof,
        pfof_per_contract=float(pfof) / all_contracts if all_contracts else None,
        price_improvement_usd=pi_total,
        pi_per_contract=pi_total / contracts if contracts else None,
        vol_points=vol_points,
        vol_point_orders=int(with_points.sum()),
    )
