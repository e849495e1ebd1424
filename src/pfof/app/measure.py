"""Measuring a dataset: every order of every day against the NBBO, one day at a time.

A dataset is a folder in pfof's layout (``DIR/<table>/date=YYYY-MM-DD/*.parquet``, as
``pfof simulate`` writes it) holding ``orders``, ``fills`` and ``nbbo``; a day without an
``nbbo`` partition has its NBBO consolidated from the venues' ``quotes``. Each day is read,
measured (:func:`pfof.engine.quality.order_quality`), written or kept, and added to the
summary before the next one is read, so memory stays at ``workers`` days.

A day too large for memory (its NBBO over ``quality_batches.AUTO_BATCH_ROWS`` rows, or any day
when ``batch_symbols`` is given) is measured in symbol batches instead
(:mod:`pfof.app.quality_batches`): the same kernel on a slice of symbols at a time, the
day's table written a batch at a time, so memory stays at ``workers`` batches. The rows are
those of the in-memory pass, grouped by batch (sorted symbol ranges), in the orders' order
within each batch.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pfof.app.quality_batches import (
    AUTO_BATCH_ROWS,
    BatchSpec,
    DaySlices,
    DayWriter,
    SymbolBatch,
    nbbo_source,
    part_rows,
    read_batch,
)
from pfof.engine.nbbo import consolidate_nbbo
from pfof.engine.quality import stream_order_quality
from pfof.engine.quality_summary import QualitySummary, QualityTotals
from pfof.errors import InputError, ParameterError, PfofError
from pfof.model.tables import FILLS, ORDER_QUALITY
from pfof.store import layout
from pfof.store.dataset import read_day, read_days, write_day

__all__ = ["BatchProgress", "DayProgress", "QualityRun", "measure_quality"]

#: ``progress(done, total, day)``: called after each day is measured.
DayProgress = Callable[[int, int, date], None]
#: ``batch_progress(day, done, total)``: called after each symbol batch of a batched day.
BatchProgress = Callable[[date, int, int], None]


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


def checked_dataset(
    dataset: str | Path, stale_after_ms: float, batch_symbols: int | None
) -> tuple[Path, list[date], int | None]:
    """The dataset folder, its order days and the staleness cut-off in nanoseconds
    (``None``: none), after checking the arguments every quality engine shares."""
    root = Path(dataset)
    if not math.isfinite(stale_after_ms) or stale_after_ms < 0:
        raise ParameterError(f"stale_after_ms must be a number >= 0, got {stale_after_ms}")
    if batch_symbols is not None and batch_symbols < 1:
        raise ParameterError(f"batch_symbols must be at least 1, got {batch_symbols}")
    if not root.is_dir():
        raise InputError(
            f"{root}: not a folder; expected a dataset {root}/<table>/date=YYYY-MM-DD/"
        )
    return root, layout.days(root, "orders"), int(stale_after_ms * 1_000_000) or None


def measure_quality(
    dataset: str | Path,
    *,
    out: str | Path | None = None,
    stale_after_ms: float = 0.0,
    workers: int = 1,
    progress: DayProgress | None = None,
    batch_symbols: int | None = None,
    batch_progress: BatchProgress | None = None,
) -> QualityRun:
    """Measure every order of a dataset against the NBBO, day by day.

    ``out``: folder the per-order table is written to as ``OUT/date=YYYY-MM-DD/part-0.parquet``
    (``None``: kept in memory instead). A receipt NBBO from another session or from before the
    open is ``stale`` and its spread measures are null; ``stale_after_ms`` opts into an age
    limit as well (a receipt NBBO older than this is ``stale`` too; 0, the default, sets none).
    ``workers``: days measured at once (threads), or symbol batches of a batched day.
    ``batch_symbols``: measure every day in batches of this many symbols (``None``: only
    days whose NBBO has more than ``AUTO_BATCH_ROWS`` rows, in batches of about
    ``TARGET_BATCH_ROWS`` NBBO rows); ``batch_progress`` is told of each batch.

    Raises :class:`~pfof.errors.InputError` naming the folder or partition that is missing,
    unreadable or malformed, :class:`~pfof.errors.ParameterError` for a bad argument.

    >>> import pfof
    >>> run = pfof.measure_quality("market")            # doctest: +SKIP
    >>> run.table.num_rows, round(run.summary.eq_ratio, 3)  # doctest: +SKIP
    (3000, 0.618)
    """
    if workers < 1:
        raise ParameterError(f"workers must be at least 1, got {workers}")
    root, days, stale = checked_dataset(dataset, stale_after_ms, batch_symbols)
    target = Path(out) if out is not None else None
    dropped: list[int] = []
    totals = QualityTotals()
    run = QualityRun(QualitySummary(), days, 0, target)
    if batch_symbols is not None or any(_too_large(root, day) for day in days):
        for done, day in enumerate(days, start=1):
            dropped.append(
                _measure_in_batches(
                    root, day, run, totals, batch_symbols, stale, workers, batch_progress
                )
            )
            if progress is not None:
                progress(done, len(days), day)
        run.summary = totals.summary()
        run.dropped_fills = sum(dropped)
        return run
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


def _too_large(root: Path, day: date) -> bool:
    """Whether the day's NBBO (or quotes) has more rows than fit the in-memory pass."""
    source = nbbo_source(root, day)
    return source is not None and part_rows(source[1]) > AUTO_BATCH_ROWS


def _measure_in_batches(
    root: Path,
    day: date,
    run: QualityRun,
    totals: QualityTotals,
    per_batch: int | None,
    stale: int | None,
    workers: int,
    batch_progress: BatchProgress | None,
) -> int:
    """Measure one day a symbol batch at a time, writing (or keeping) each batch's rows as
    they come; returns the fills of other days' orders left out."""
    with DaySlices(root, day, per_batch=per_batch) as slices:
        batches = slices.batches
        stream = stream_order_quality(
            (_batch_inputs(root, day, slices, b) for b in batches),
            workers=workers,
            stale_after_ns=stale,
        )
        kept: list[pa.Table] = []
        target = None if run.out is None else layout.folder_part(run.out, day)
        with contextlib.ExitStack() as stack:
            writer = None if target is None else stack.enter_context(DayWriter(target))
            for done, batch in enumerate(batches, start=1):
                try:
                    table = next(stream)
                except _Unreadable as exc:
                    raise exc.error from exc.error.__cause__
                except (PfofError, ValueError) as exc:
                    where = f"{layout.partition_name(day)}: {batch.label}"
                    raise InputError(f"{root}: {where}: {exc}") from exc
                totals.add(table)
                if writer is None:
                    kept.append(table)
                else:
                    writer.write(table)
                if batch_progress is not None:
                    batch_progress(day, done, len(batches))
            if not batches:  # a day without orders
                kept.append(ORDER_QUALITY.empty_table())
                if writer is not None:
                    writer.write(kept[0])
        if target is None:
            run.kept[day] = pa.concat_tables(kept)
        return slices.dropped_fills


def _batch_inputs(
    root: Path, day: date, slices: DaySlices, batch: SymbolBatch
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(orders, fills, nbbo) of one symbol batch, checked as a whole day's are."""
    try:
        return checked_batch(root, day, slices.nbbo_table, slices.spec(batch))
    except PfofError as exc:
        raise _Unreadable(exc) from exc


def checked_batch(
    root: Path, day: date, nbbo_table: str, spec: BatchSpec
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(orders, fills, nbbo) of the symbol batch ``spec`` describes, with its prices checked
    and, when the day has only venues' quotes (``nbbo_table="quotes"``), its NBBO built.

    Raises :class:`~pfof.errors.InputError` naming the partition, row and batch.
    """
    where = f" of symbols {spec.first}..{spec.last}"
    orders, fills, nbbo = read_batch(spec)
    orders = _finite_prices(root, "orders", day, orders, where)
    fills = _finite_prices(root, "fills", day, fills, where)
    nbbo = _finite_prices(root, nbbo_table, day, nbbo, where)
    if nbbo_table == "quotes":
        try:
            nbbo = consolidate_nbbo(nbbo)
        except ValueError as exc:
            part = layout.partition_dir(root, "quotes", day)
            raise InputError(f"{part}: cannot consolidate the NBBO: {exc}") from exc
    return orders, fills, nbbo


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


def _finite_prices(root: Path, name: str, day: date, table: pa.Table, where: str = "") -> pa.Table:
    """``table`` if its prices are finite or empty; a NaN or infinite price is an
    :class:`~pfof.errors.InputError` naming the partition, column and row (it would turn
    every measure of its orders into NaN). ``where`` qualifies the row (`` of symbols A..B``)."""
    for column in _PRICES[name]:
        if column not in table.column_names:
            continue
        values = table.column(column)
        if not pa.types.is_floating(values.type):
            continue
        row = pc.index(pc.invert(pc.is_finite(values)), True).as_py()
        if row >= 0:
            raise InputError(
                f"{layout.partition_dir(root, name, day)}: {column} on row {row}{where} is "
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
