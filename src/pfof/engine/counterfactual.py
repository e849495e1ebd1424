"""What another routing policy would have given customers on the same orders.

Inputs are engine tables, whatever produced them: the per-order quality (``ORDER_QUALITY``)
and the canonical ``payments`` of the actual routing and of an alternative run of the same
orders (e.g. ``pfof.sim.rerouting``), optionally with each run's ``routes``. Price
improvement is summed over market and marketable limit orders - the orders for which
improvement over the quote at receipt is meaningful (Rule 605 measures it for the same
types) - and PFOF is the broker's net payment over every order type. Orders are paired by
``order_id``; the comparison refuses two runs whose orders differ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
import pyarrow as pa

from pfof.engine.routing import first_routes
from pfof.errors import ParameterError

#: Order types whose price improvement the comparison adds up.
MARKETABLE = ("market", "marketable_limit")
#: Columns that identify an order; two runs compare only when they agree on all of them.
ORDER_KEY = ("order_id", "symbol", "side", "order_type", "quantity", "received_ts")
#: Price improvement differences (dollars per order) at or below this are ties.
TIE_USD = 1e-9


def _frame(table: pa.Table | pl.DataFrame) -> pl.DataFrame:
    frame = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def marketable_pi(quality: pa.Table | pl.DataFrame) -> pl.DataFrame:
    """``order_id``, ``order_type``, ``pi_usd`` (null PI counts as 0) of the marketable orders."""
    q = _frame(quality)
    return q.filter(pl.col("order_type").is_in(MARKETABLE)).select(
        "order_id", "order_type", pi_usd=pl.col("price_improvement_usd").fill_null(0.0)
    )


def total_price_improvement(quality: pa.Table | pl.DataFrame) -> float:
    """Customers' price improvement in dollars over marketable orders (correctly rounded
    ``math.fsum``, so the total does not depend on row order)."""
    return math.fsum(marketable_pi(quality).get_column("pi_usd").to_list())


def total_payments(payments: pa.Table | pl.DataFrame) -> Decimal:
    """Exact sum of ``payments.amount`` (net PFOF, dollars)."""
    values = _frame(payments).get_column("amount").to_list()
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


@dataclass(frozen=True)
class RoutingOutcome:
    """One routing policy's result on the order stream."""

    label: str
    price_improvement_usd: float
    pfof_usd: Decimal
    #: order type -> price improvement (marketable types) in dollars
    pi_by_order_type: Mapping[str, float] = field(default_factory=dict)
    #: order type -> net PFOF in dollars
    pfof_by_order_type: Mapping[str, Decimal] = field(default_factory=dict)
    #: venue -> orders whose first route went there
    first_routes_by_venue: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """Actual routing against an alternative on the same orders."""

    actual: RoutingOutcome
    alternative: RoutingOutcome
    orders: int  # marketable orders compared
    better: int  # orders with more price improvement under the alternative
    worse: int
    same: int

    @property
    def pi_gain_usd(self) -> float:
        """Extra price improvement customers would have had under the alternative."""
        return self.alternative.price_improvement_usd - self.actual.price_improvement_usd

    @property
    def pfof_change_usd(self) -> Decimal:
        """Change of the broker's net PFOF under the alternative (negative: it earns less)."""
        return self.alternative.pfof_usd - self.actual.pfof_usd


def outcome(
    label: str,
    quality: pa.Table | pl.DataFrame,
    payments: pa.Table | pl.DataFrame,
    routes: pa.Table | None = None,
) -> RoutingOutcome:
    """Totals of one run: price improvement on marketable orders and net PFOF, by order type,
    and (with ``routes``) how many orders went first to each venue."""
    pi = marketable_pi(quality)
    pi_types = {
        str(t): math.fsum(g.get_column("pi_usd").to_list())
        for (t,), g in pi.group_by("order_type", maintain_order=True)
    }
    pay = _frame(payments)
    pfof_types: dict[str, Decimal] = {}
    for t, amount in zip(
        pay.get_column("order_type").to_list(), pay.get_column("amount").to_list(), strict=True
    ):
        if amount is not None:
            pfof_types[t] = pfof_types.get(t, Decimal(0)) + Decimal(amount)
    venues: dict[str, int] = {}
    if routes is not None:
        counts = (
            _frame(first_routes(routes))
            .group_by("venue")
            .len()
            .sort(["len", "venue"], descending=[True, False])
        )
        venues = {str(v): int(n) for v, n in counts.iter_rows()}
    return RoutingOutcome(
        label=label,
        price_improvement_usd=math.fsum(pi.get_column("pi_usd").to_list()),
        pfof_usd=total_payments(pay),
        pi_by_order_type=dict(sorted(pi_types.items())),
        pfof_by_order_type=dict(sorted(pfof_types.items())),
        first_routes_by_venue=venues,
    )


def check_same_orders(
    actual: pa.Table | pl.DataFrame,
    alternative: pa.Table | pl.DataFrame,
) -> None:
    """Raise :class:`~pfof.errors.ParameterError` naming the first order on which two runs'
    order tables (or quality tables) disagree; the key columns are ``ORDER_KEY``."""
    a = _frame(actual).select(ORDER_KEY).sort("order_id")
    b = _frame(alternative).select(ORDER_KEY).sort("order_id")
    if a.height != b.height:
        raise ParameterError(f"the runs hold different orders: {a.height:,} against {b.height:,}")
    if a.equals(b):
        return
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_alt")) for c in ORDER_KEY)
    both = pl.concat([a, b.rename({c: f"{c}_alt" for c in ORDER_KEY})], how="horizontal")
    row = both.with_row_index().filter(differs).row(0, named=True)
    col = next(c for c in ORDER_KEY if row[c] != row[f"{c}_alt"])
    raise ParameterError(
        f"the runs hold different orders: sorted row {row['index']} has {col} "
        f"{row[col]!r} in the actual run and {row[col + '_alt']!r} in the other"
    )


def compare(
    actual: RoutingOutcome,
    alternative: RoutingOutcome,
    actual_quality: pa.Table | pl.DataFrame,
    alternative_quality: pa.Table | pl.DataFrame,
) -> Comparison:
    """Pair the two runs' marketable orders and count where the alternative did better."""
    check_same_orders(actual_quality, alternative_quality)
    a = marketable_pi(actual_quality)
    b = marketable_pi(alternative_quality).select("order_id", pi_alt="pi_usd")
    paired = a.join(b, on="order_id", how="inner")
    diff = pl.col("pi_alt") - pl.col("pi_usd")
    counts = paired.select(
        better=(diff > TIE_USD).sum(), worse=(diff < -TIE_USD).sum(), n=pl.len()
    ).row(0, named=True)
    better, worse, n = int(counts["better"]), int(counts["worse"]), int(counts["n"])
    return Comparison(actual, alternative, n, better, worse, n - better - worse)
