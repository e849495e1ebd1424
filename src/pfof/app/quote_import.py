"""Market-data files into pfof's canonical tables (``pfof quotes``): read them, optionally
build the NBBO, summarise, and write the dataset layout ``OUT/<table>/date=YYYY-MM-DD/``.

Per-venue sources are written as ``quotes`` (and ``nbbo`` with ``nbbo=True``); consolidated
sources are written as ``nbbo`` always. A day is a New York trading date
(``model.market_time.MARKET_TZ``), as in every other dataset pfof writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pfof.engine.nbbo import nbbo_states, quotes_to_nbbo
from pfof.formats.market_data import MarketDataFormat, read_quotes
from pfof.model.market_time import MARKET_TZ
from pfof.store.dataset import write_day

__all__ = ["QuoteImport", "import_quotes"]


@dataclass(frozen=True, slots=True)
class QuoteImport:
    """What :func:`import_quotes` read and wrote."""

    per_venue: bool  # the source held one venue's quotes per row (else consolidated)
    rows: int  # quote rows read
    symbols: tuple[str, ...]
    venues: dict[str, int]  # per-venue rows by MIC (empty for a consolidated source)
    first: datetime | None  # UTC
    last: datetime | None
    nbbo_rows: int | None  # NBBO rows, when built or read
    states: dict[str, int]  # NBBO rows by state (normal, locked, crossed, ...)
    written: list[Path] = field(default_factory=list)


def _by_day(table: pa.Table) -> dict[date, pa.Table]:
    local = pc.local_timestamp(table.column("ts").cast(pa.timestamp("ns", tz=MARKET_TZ)))
    days = pc.cast(local, pa.date32())
    out: dict[date, pa.Table] = {}
    for day in pc.unique(days).to_pylist():
        out[day] = table.filter(pc.equal(days, pa.scalar(day, pa.date32())))
    return out


def import_quotes(
    source: str | Path | Sequence[str | Path],
    *,
    out: str | Path | None = None,
    nbbo: bool = False,
    format: MarketDataFormat | None = None,
    tz: str | None = None,
    columns: str | Mapping[str, str] | None = None,
    symbol: str | None = None,
) -> QuoteImport:
    """Read market-data quotes (``pfof.read_quotes`` arguments), build the NBBO when asked,
    and write the canonical tables under ``out`` when given."""
    table = read_quotes(source, format=format, tz=tz, columns=columns, symbol=symbol)
    per_venue = "venue" in table.column_names
    consolidated = quotes_to_nbbo(table) if (nbbo or not per_venue) else None
    written: list[Path] = []
    if out is not None:
        targets = [("quotes", table)] if per_venue else []
        if consolidated is not None:
            targets.append(("nbbo", consolidated))
        for name, data in targets:
            for day, part in sorted(_by_day(data).items()):
                written.append(write_day(part, Path(out) / name, day))
    ts = table.column("ts")
    bounds = pc.min_max(ts).as_py() if table.num_rows else {"min": None, "max": None}
    venues = (
        {v["values"]: v["counts"] for v in pc.value_counts(table.column("venue")).to_pylist()}
        if per_venue
        else {}
    )
    states = Counter(nbbo_states(consolidated).to_pylist()) if consolidated is not None else {}
    return QuoteImport(
        per_venue=per_venue,
        rows=table.num_rows,
        symbols=tuple(sorted(pc.unique(table.column("symbol")).to_pylist())),
        venues=dict(sorted(venues.items())),
        first=bounds["min"],
        last=bounds["max"],
        nbbo_rows=consolidated.num_rows if consolidated is not None else None,
        states=dict(states),
        written=written,
    )
