"""Share-weighted averages of per-order execution quality, summed one day at a time.

A dataset's summary is what ``pfof quality`` prints: how many orders and shares, and the
averages of the per-share measures weighted by executed shares (an order's measure counts in
proportion to what it executed; orders whose measure is null are left out of that average).
The sums are kept per day, so a month is summarised without holding its orders in memory.

Two measures take other weights, as the Rule 605 aggregation does (docs/rule605.md, E3, E5):

* a realized spread at horizon ``h`` is weighted by ``realized_qty_<h>``, the shares whose
  fill had a valid midpoint at that horizon, not by all executed shares. A table written
  before that column existed (absent, or null in a row) falls back to the executed shares,
  the weight such tables were summarised with;
* E/Q is the share-weighted effective spread over the share-weighted quoted spread, both
  over the same orders: those with a quoted spread (an order received while the NBBO was
  crossed has an effective spread but no quoted spread, and is left out of both terms).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pfof.errors import InputError

__all__ = ["SUMMARY_COLUMNS", "QualitySummary", "QualityTotals", "summarize_quality"]

#: The averages: summary field -> ``ORDER_QUALITY`` column, weighted by ``executed_qty``
#: (realized spreads: by :data:`_REALIZED_WEIGHTS`).
_WEIGHTED = {
    "quoted_spread": "quoted_spread",
    "effective_spread": "effective_spread",
    "price_improvement_per_share": "price_improvement_per_share",
    "realized_spread_15s": "realized_spread_15s",
    "realized_spread_1m": "realized_spread_1m",
    "time_to_first_fill_ms": "time_to_first_fill_ms",
}
#: Realized-spread weights: summary field -> the optional ``ORDER_QUALITY`` column of the shares
#: measured at that horizon (``executed_qty`` where the column is absent or null).
_REALIZED_WEIGHTS = {
    "realized_spread_15s": "realized_qty_15s",
    "realized_spread_1m": "realized_qty_1m",
}
#: The counts: summary field -> ``ORDER_QUALITY`` column.
_COUNTED = {"nbbo_states": "nbbo_state", "quote_positions": "quote_position"}
#: The ``ORDER_QUALITY`` columns a summary reads.
SUMMARY_COLUMNS = (
    "executed_qty",
    "price_improvement_usd",
    *_WEIGHTED.values(),
    *_COUNTED.values(),
)


@dataclass(frozen=True, slots=True)
class QualitySummary:
    """Execution quality of a set of orders; averages are per share, weighted by executed
    shares (``None`` when no executed share has the measure). Dollars are float sums of the
    per-order figures, not rounded."""

    orders: int = 0
    filled: int = 0
    shares: float = 0.0
    quoted_spread: float | None = None
    effective_spread: float | None = None
    price_improvement_per_share: float | None = None
    price_improvement_usd: float = 0.0
    realized_spread_15s: float | None = None
    realized_spread_1m: float | None = None
    time_to_first_fill_ms: float | None = None
    #: Orders per NBBO state at receipt (``normal``, ``locked``, ...), most frequent first.
    nbbo_states: dict[str, int] = field(default_factory=dict)
    #: Orders per execution price position against the NBBO (``inside``, ``at``, ``outside``).
    quote_positions: dict[str, int] = field(default_factory=dict)
    #: Effective over quoted spread (E/Q), both share-weighted over the orders that have a
    #: quoted spread (not crossed): below 1 means executions inside the quote.
    eq_ratio: float | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields, E/Q included."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class QualityTotals:
    """Running sums behind a :class:`QualitySummary`: ``add`` each day's per-order quality
    table (``ORDER_QUALITY`` or any table with :data:`SUMMARY_COLUMNS`), read ``summary()``."""

    def __init__(self) -> None:
        self.orders = 0
        self.filled = 0
        self._shares: list[float] = []
        self._pi_usd: list[float] = []
        self._num: dict[str, list[float]] = {name: [] for name in _WEIGHTED}
        self._den: dict[str, list[float]] = {name: [] for name in _WEIGHTED}
        self._counts: dict[str, Counter[str]] = {name: Counter() for name in _COUNTED}
        self._eq_effective: list[float] = []  # both E/Q terms over the same orders
        self._eq_quoted: list[float] = []

    def add(self, table: pa.Table) -> None:
        """Add one set of orders (typically a day's)."""
        missing = [c for c in SUMMARY_COLUMNS if c not in table.column_names]
        if missing:
            raise InputError(f"order quality table: missing column(s) {', '.join(missing)}")
        qty = table.column("executed_qty").cast(pa.float64())
        self.orders += table.num_rows
        self.filled += _count(pc.greater(qty, 0.0))
        self._shares.append(_sum(qty))
        self._pi_usd.append(_sum(table.column("price_improvement_usd")))
        for name, column in _WEIGHTED.items():
            values = table.column(column).cast(pa.float64())
            weight = qty
            measured = _REALIZED_WEIGHTS.get(name)
            if measured is not None and measured in table.column_names:
                weight = pc.coalesce(table.column(measured).cast(pa.float64()), qty)
            ok = pc.and_(pc.is_valid(values), pc.is_valid(weight))
            weights = weight.filter(ok)
            self._num[name].append(_sum(pc.multiply(values.filter(ok), weights)))
            self._den[name].append(_sum(weights))
        effective = table.column("effective_spread").cast(pa.float64())
        quoted = table.column("quoted_spread").cast(pa.float64())
        both = pc.and_(pc.and_(pc.is_valid(effective), pc.is_valid(quoted)), pc.is_valid(qty))
        weights = qty.filter(both)
        self._eq_effective.append(_sum(pc.multiply(effective.filter(both), weights)))
        self._eq_quoted.append(_sum(pc.multiply(quoted.filter(both), weights)))
        for name, column in _COUNTED.items():
            counts = pc.value_counts(table.column(column).drop_null())
            for item in counts.to_pylist():
                self._counts[name][item["values"]] += item["counts"]

    def summary(self) -> QualitySummary:
        """The summary of everything added so far."""
        return QualitySummary(
            orders=self.orders,
            filled=self.filled,
            shares=math.fsum(self._shares),
            quoted_spread=self._average("quoted_spread"),
            effective_spread=self._average("effective_spread"),
            price_improvement_per_share=self._average("price_improvement_per_share"),
            price_improvement_usd=math.fsum(self._pi_usd),
            realized_spread_15s=self._average("realized_spread_15s"),
            realized_spread_1m=self._average("realized_spread_1m"),
            time_to_first_fill_ms=self._average("time_to_first_fill_ms"),
            nbbo_states=self._counted("nbbo_states"),
            quote_positions=self._counted("quote_positions"),
            eq_ratio=self._eq_ratio(),
        )

    def _eq_ratio(self) -> float | None:
        """E/Q over the orders with both spreads; ``None`` when their quoted spreads sum to 0."""
        quoted = math.fsum(self._eq_quoted)
        return math.fsum(self._eq_effective) / quoted if quoted else None

    def _average(self, name: str) -> float | None:
        """The share-weighted average of the measure ``name`` (a key of ``_WEIGHTED``)."""
        den = math.fsum(self._den[name])
        return math.fsum(self._num[name]) / den if den else None

    def _counted(self, name: str) -> dict[str, int]:
        """The counts ``name`` (a key of ``_COUNTED``), most frequent first."""
        return dict(self._counts[name].most_common())


def summarize_quality(tables: pa.Table | Iterable[pa.Table]) -> QualitySummary:
    """The summary of one per-order quality table or of several (e.g. one per day)."""
    totals = QualityTotals()
    for table in [tables] if isinstance(tables, pa.Table) else tables:
        totals.add(table)
    return totals.summary()


def _sum(values: pa.ChunkedArray | pa.Array) -> float:
    total = pc.sum(values).as_py()
    return 0 if total is None else total


def _count(mask: pa.ChunkedArray | pa.Array) -> int:
    """How many values of a boolean array are true (nulls are not)."""
    total = pc.sum(mask.cast(pa.int64())).as_py()
    return 0 if total is None else int(total)
