"""Measuring a dataset: every order of every day against the NBBO, one day at a time.

A dataset is a folder in pfof's layout (``DIR/<table>/date=YYYY-MM-DD/*.parquet``, as
``pfof simulate`` writes it) holding ``orders``, ``fills`` and ``nbbo``; a day without an
``nbbo`` partition has its NBBO consolidated from the venues' ``quotes``. Each day is read,
measured (:func:`pfof.engine.quality.order_quality`), written or kept, and added to the
summary before the next one is read, so memory stays at ``workers`` days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.nbbo import consolidate_nbbo
from pfof.engine.quality import stream_order_quality
from pfof.engine.quality_summary import QualitySummary, QualityTotals
from pfof.errors import InputError, ParameterError, PfofError
from pfof.model.tables import FILLS, ORDER_QUALITY
from pfof.store import layout
from pfof.store.dataset import read_day, read_days, write_day

__all__ = ["DayProgress", "QualityRun", "measure_quality"]

#: ``progress(done, total, day)``: called after each day is measured.
DayProgress = Callable[[int, int, date], None]


@dataclass
class QualityRun:
    """What :func:`measure_quality` measured: the summary, the days, and where the per-order
    table went. With ``out`` the days were written there and are read back on demand;
    without, they are kept in memory (``kept``)."""

    summary: QualitySummary
    days: list[date]
    #: Fills of orders received on another day (multi-day orders): not measured.
    dropped_fills: int
    out: Path | None
    kept: dict[date, pa.Table] = field(default_factory=dict, repr=False)

    def day_tables(self) -> Iterator[tuple[date, pa.Table]]:
        """(day, per-order quality) for each day, in order, one day in memory at a time
        when the run was written to ``out``."""
        if self.out is None:
            yield from self.kept.items()
        else:
            yield from read_days(self.out, self.days)

    @property
    def table(self) -> pa.Table:
        """The per-order quality of every day as one ``ORDER_QUALITY`` table."""
        tables = [t for _, t in self.day_tables()]
        return pa.concat_tables(tables) if tables else ORDER_QUALITY.empty_table()


class _Unreadable(Exception):
    """Carries an error met reading the dataset through the engine's stream, unchanged."""

    def __init__(self, error: PfofError) -> None:
        super().__init__(str(error))
        self.error = error


def measure_quality(
    dataset: str | Path,
    *,
    out: str | Path | None = None,
    stale_after_ms: float = 300_000.0,
    workers: int = 1,
    progress: DayProgress | None = None,
) -> QualityRun:
    """Measure every order of a dataset against the NBBO, day by day.

    ``out``: folder the per-order table is written to as ``OUT/date=YYYY-MM-DD/part-0.parquet``
    (``None``: kept in memory instead). ``stale_after_ms``: a receipt NBBO older than this is
    ``stale`` and its spread measures are null (0 disables the check). ``workers``: days
    measured at once (threads).

    Raises :class:`~pfof.errors.InputError` naming the folder or partition that is missing,
    unreadable or malformed, :class:`~pfof.errors.ParameterError` for a bad argument.

    >>> import pfof
    >>> run = pfof.measure_quality("market")            # doctest: +SKIP
    >>> run.table.num_rows, round(run.summary.eq_ratio, 3)  # doctest: +SKIP
    (3000, 0.618)
    """
    root = Path(dataset)
    if not math.isfinite(stale_after_ms) or stale_after_ms < 0:
        raise ParameterError(f"stale_after_ms must be a number >= 0, got {stale_after_ms}")
    if workers < 1:
        raise ParameterError(f"workers must be at least 1, got {workers}")
    if not root.is_dir():
        raise InputError(
            f"{root}: not a folder; expected a dataset {root}/<table>/date=YYYY-MM-DD/"
        )
    days = layout.days(root, "orders")
    target = Path(out) if out is not None else None
    stale = int(stale_after_ms * 1_000_000) or None
    dropped: list[int] = []
    totals = QualityTotals()
    run = QualityRun(QualitySummary(), days, 0, target)
    stream = stream_order_quality(
        _day_inputs(root, days, dropped), workers=workers, stale_after_ns=stale
    )
    for done, day in enumerate(days, start=1):
        try:
            table = next(stream)
        except _Unreadable as exc:
            raise exc.error from exc.error.__cause__
        except (PfofError, ValueError) as exc:  # the engine refusing the day's tables
            raise InputError(f"{root}: {layout.partition_name(day)}: {exc}") from exc
        if target is None:
            run.kept[day] = table
        else:
            write_day(table, target, day)
        totals.add(table)
        if progress is not None:
            progress(done, len(days), day)
    run.summary = totals.summary()
    run.dropped_fills = sum(dropped)
    return run


def _day_inputs(
    root: Path, days: list[date], dropped: list[int]
) -> Iterator[tuple[pa.Table, pa.Table, pa.Table]]:
    """(orders, fills, nbbo) of each day; appends to ``dropped`` the fills of other days'
    orders, which are left out."""
    for day in days:
        try:
            orders, fills, nbbo = _read_day(root, day)
        except PfofError as exc:
            raise _Unreadable(exc) from exc
        # fills of orders received on another day (multi-day orders) are not measured here
        if (
            fills.num_rows
            and "order_id" in fills.column_names
            and "order_id" in orders.column_names
        ):
            mine = pc.is_in(fills.column("order_id"), value_set=orders.column("order_id"))
            dropped.append(fills.num_rows - (pc.sum(mine.cast(pa.int64())).as_py() or 0))
            fills = fills.filter(mine)
        yield orders, fills, nbbo


#: Price columns that must hold finite numbers (or nothing) in each table.
_PRICES = {
    "orders": ("limit_price", "stop_price"),
    "fills": ("price",),
    "nbbo": ("bid", "ask"),
    "quotes": ("bid", "ask"),
}


def _finite_prices(root: Path, name: str, day: date, table: pa.Table) -> pa.Table:
    """``table`` if its prices are finite or empty; a NaN or infinite price is an
    :class:`~pfof.errors.InputError` naming the partition, column and row (it would turn
    every measure of its orders into NaN)."""
    for column in _PRICES[name]:
        if column not in table.column_names:
            continue
        values = table.column(column)
        if not pa.types.is_floating(values.type):
            continue
        row = pc.index(pc.invert(pc.is_finite(values)), True).as_py()
        if row >= 0:
            raise InputError(
                f"{layout.partition_dir(root, name, day)}: {column} on row {row} is "
                f"{values[row].as_py()}; expected a finite price (or an empty cell)"
            )
    return table


def _read_day(root: Path, day: date) -> tuple[pa.Table, pa.Table, pa.Table]:
    orders = read_day(root, "orders", day)
    assert orders is not None  # the days are those of the orders partitions
    orders = _finite_prices(root, "orders", day, orders)
    fills = read_day(root, "fills", day)
    if fills is not None:
        fills = _finite_prices(root, "fills", day, fills)
    nbbo = read_day(root, "nbbo", day)
    if nbbo is not None:
        nbbo = _finite_prices(root, "nbbo", day, nbbo)
    if nbbo is None:
        quotes = read_day(root, "quotes", day)
        if quotes is not None:
            quotes = _finite_prices(root, "quotes", day, quotes)
        if quotes is None:
            raise InputError(
                f"{layout.partition_dir(root, 'nbbo', day)} is missing, and so is "
                f"{layout.partition_dir(root, 'quotes', day)}: expected the day's NBBO, or the "
                "venues' quotes to consolidate it from"
            )
        try:
            nbbo = consolidate_nbbo(quotes)
        except ValueError as exc:
            part = layout.partition_dir(root, "quotes", day)
            raise InputError(f"{part}: cannot consolidate the NBBO: {exc}") from exc
    return orders, FILLS.empty_table() if fills is None else fills, nbbo
