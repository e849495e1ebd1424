"""Multi-day runs: stream day by day, write Parquet partitions, roll payments up by month."""

from __future__ import annotations

import ctypes
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pfof.model.tables import ARRANGEMENTS, PAYMENTS
from pfof.sim.brokers import arrangements_table
from pfof.sim.calendar import Session, trading_sessions
from pfof.sim.config import SimConfig
from pfof.sim.day import DAY_TABLES, DayResult, simulate_day
from pfof.sim.options import OPTION_SERIES, option_series_table
from pfof.sim.universe import build_universe
from pfof.store import layout

Progress = Callable[[int, int, Session], None]
PaymentKey = tuple[str, str, date, str, str]
MARKETABLE = ["market", "marketable_limit"]


@dataclass
class SimSummary:
    """What a run produced: row counts per table and the money it moved."""

    days: int = 0
    first_day: date | None = None
    last_day: date | None = None
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    payments_usd: Decimal = Decimal(0)
    #: On market and marketable limit orders, against the NBBO at execution.
    price_improvement_usd: Decimal = Decimal(0)
    half_days: int = 0
    seconds: float = 0.0
    out_dir: Path | None = None


def _release_memory() -> None:
    """Hand memory freed by the last day back to the OS (glibc keeps freed heap pages
    otherwise, and peak RSS would creep up over days although each day is freed)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018  (glibc only; musl has none)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _load_libc()


def iter_days(config: SimConfig) -> Iterator[tuple[Session, DayResult]]:
    """Simulate the configured days one at a time (in memory; nothing is written)."""
    config.validate()
    sessions = trading_sessions(config.start, config.days, config.calendar)
    universe = build_universe(config, sessions[0].day)
    for session in sessions:
        yield session, simulate_day(config, universe, session)
        _release_memory()


def payments_table(totals: dict[PaymentKey, int]) -> pa.Table:
    """The canonical monthly ``payments`` table from micro-dollar sums (sorted rows)."""
    rows = sorted(totals.items())
    return pa.table(
        {
            "broker": [k[0] for k, _ in rows],
            "venue": [k[1] for k, _ in rows],
            "month": pa.array([k[2] for k, _ in rows], pa.date32()),
            "section": [k[3] for k, _ in rows],
            "order_type": [k[4] for k, _ in rows],
            "amount": pa.array(
                [Decimal(v).scaleb(-6) for _, v in rows], PAYMENTS.field("amount").type
            ),
        },
        schema=PAYMENTS,
    )


def add_payments(totals: dict[PaymentKey, int], session: Session, day: DayResult) -> None:
    """Accumulate one day's per-fill payments (exact integers) into monthly totals."""
    month = session.day.replace(day=1)
    for (broker, venue, section, otype), micro in zip(
        day.payment_keys, day.payment_micro, strict=True
    ):
        key = (broker, venue, month, section, otype)
        totals[key] = totals.get(key, 0) + micro


def write_table(table: pa.Table, path: Path) -> None:
    """Deterministic Parquet: same table, same bytes (no timestamps in the metadata).

    String columns are written from dictionary arrays (much faster to encode) and the Arrow
    schema is not embedded, so readers see the canonical ``string`` columns again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [
        pc.dictionary_encode(col) if pa.types.is_string(col.type) else col for col in table.columns
    ]
    pq.write_table(
        pa.table(cols, names=table.column_names),
        path,
        compression="zstd",
        compression_level=1,
        row_group_size=1 << 20,
        store_schema=False,
    )


def simulate(
    config: SimConfig,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    sink: Callable[[Session, dict[str, pa.Table]], None] | None = None,
) -> SimSummary:
    """Run the simulation, writing ``OUT/<table>/date=YYYY-MM-DD/part-0.parquet`` per day and
    ``OUT/arrangements.parquet``, ``OUT/payments.parquet`` (and ``OUT/option_series.parquet``
    when the market lists options); ``sink`` also receives each day's
    tables (e.g. to load them into DuckDB). Memory stays at one day's worth.

    >>> import pfof
    >>> run = pfof.simulate(pfof.SimConfig(days=2, seed=1), "market")  # doctest: +SKIP
    >>> run.rows["orders"], run.payments_usd > 0                       # doctest: +SKIP
    (40000, True)
    """
    t0 = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else None
    summary = SimSummary(out_dir=out)
    totals: dict[PaymentKey, int] = {}
    arrangements = arrangements_table(config.brokers, config.exchanges, config.start)
    if out is not None:
        write_table(arrangements, layout.table_file(out, "arrangements"))
    if sink is not None:
        sink(None, {"arrangements": arrangements})  # type: ignore[arg-type]
    series = series_table(config)
    if out is not None and series.num_rows:
        write_table(series, layout.table_file(out, "option_series"))
    for session, day in iter_days(config):
        if out is not None:
            for name in DAY_TABLES:
                write_table(day.tables[name], layout.day_part(out, name, session.day))
        if sink is not None:
            sink(session, day.tables)
        add_payments(totals, session, day)
        for name, table in day.tables.items():
            summary.rows[name] += table.num_rows
        fe = day.tables["fill_economics"]
        marketable = pc.is_in(fe.column("order_type"), pa.array(MARKETABLE))
        pi = pc.filter(fe.column("price_improvement_usd"), marketable)
        summary.price_improvement_usd += pc.sum(pi).as_py() or Decimal(0)
        summary.days += 1
        summary.half_days += int(session.half_day)
        summary.first_day = summary.first_day or session.day
        summary.last_day = session.day
        if progress is not None:
            progress(summary.days, config.days, session)
        del day  # free this day before the next one is generated
    payments = payments_table(totals)
    if out is not None:
        write_table(payments, layout.table_file(out, "payments"))
    if sink is not None:
        sink(None, {"payments": payments})  # type: ignore[arg-type]
    summary.rows["arrangements"] = arrangements.num_rows
    summary.rows["payments"] = payments.num_rows
    summary.payments_usd = sum((Decimal(v).scaleb(-6) for v in totals.values()), Decimal(0))
    summary.seconds = time.perf_counter() - t0
    assert arrangements.schema.equals(ARRANGEMENTS)
    return summary


def series_table(config: SimConfig) -> pa.Table:
    """The run's option series and their pricing inputs (``sim.options.OPTION_SERIES``):
    the ground truth an options implied volatility is checked against; empty without options."""
    sessions = trading_sessions(config.start, config.days, config.calendar)
    universe = build_universe(config, sessions[0].day)
    if universe.options is None:
        return OPTION_SERIES.empty_table()
    return option_series_table(universe.options, universe.symbols[: universe.n_stocks])


def day_tables(config: SimConfig, index: int = 0) -> dict[str, pa.Table]:
    """The tables of day ``index`` of the run, in memory (identical to what ``simulate``
    writes for that day): the entry point for engines and tests that need one day."""
    config.validate()
    if not 0 <= index < config.days:
        raise ValueError(f"day index {index} outside 0..{config.days - 1}")
    sessions = trading_sessions(config.start, config.days, config.calendar)
    universe = build_universe(config, sessions[0].day)
    return simulate_day(config, universe, sessions[index]).tables
