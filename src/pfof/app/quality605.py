"""Execution-quality statistics of Rule 605 files and of the market centers in a store.

``pfof rule605 summary`` and ``pfof market-centers`` call these, so Python and the command
line give the same numbers. Each file is read as a stream of Arrow batches
(:mod:`pfof.formats.sec605_arrow`) and summed by :mod:`pfof.engine.stats605`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pfof.errors import PfofError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from pfof.engine.stats605 import StatRow
    from pfof.errors import Issue

__all__ = ["market_center_quality", "rule605_summary"]


@dataclass(slots=True)
class FileStatistics:
    """The statistics rows of one Rule 605 file and the issues its reader found."""

    file: str
    kind: str
    rows: list[StatRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def file_quality(path: str | os.PathLike[str]) -> FileStatistics:
    """The statistics of one Rule 605 file (any of the three formats) and its reader's
    issues; the file is read once, as a stream."""
    import duckdb
    import pyarrow as pa

    from pfof.engine.stats605 import file_statistics
    from pfof.formats.sec605_arrow import scan_605_batches

    name = str(path)
    issues: list[Issue] = []
    pairs = scan_605_batches(Path(path), name=name, issues=issues)
    kind, first = next(pairs)  # a file without readable rows still gives one empty batch
    failed: list[PfofError] = []
    stream = pa.RecordBatchReader.from_batches(first.schema, _batches(first, pairs, failed))
    try:
        rows = file_statistics(kind, stream, file=name)
    except duckdb.Error:
        if failed:  # the reader's own error (a line that cannot be read), not DuckDB's wrap
            raise failed[0] from None
        raise
    return FileStatistics(name, kind, rows, issues)


def _batches(
    first: pa.RecordBatch, rest: Iterator[tuple[str, pa.RecordBatch]], failed: list[PfofError]
) -> Iterator[pa.RecordBatch]:
    """The batches, the reader's :class:`~pfof.errors.PfofError` kept in ``failed`` (DuckDB,
    which pulls the batches, would turn it into its own error)."""
    yield first
    try:
        for _, batch in rest:
            yield batch
    except PfofError as exc:
        failed.append(exc)
        raise


def rule605_summary(paths: Iterable[str | os.PathLike[str]]) -> list[StatRow]:
    """Execution-quality statistics of Rule 605 files, as ``pfof rule605 summary --json``.

    One dict per file, market center, month, order type, order size (and S&P 500 flag in a
    summary report), aggregated over symbols, with the keys of
    :data:`pfof.engine.stats605.STAT_KEYS`: ``net_price_improvement_cents_per_share``,
    ``eq_ratio``, ``pct_improved``, ``avg_effective_spread``, ... as exact decimal strings
    (ratios rounded half-up to 6 decimals; docs/rule605.md gives every formula). Files are
    read leniently: rows with errors are left out (``pfof rule605 validate`` lists them).

    >>> import pathlib, tempfile, pfof
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "TVIRT201612.txt"
    >>> _ = path.write_text("T|TVIRT|201612|AAPL|11|21|2|300|0|300|0|300|0|0|0|0|0.0100|"
    ...                     "0.0200|200|0.0100|0.1|100|0.1|0|0.0000|0.0\\n")
    >>> [row] = pfof.rule605_summary([path])
    >>> row["order_type"], row["size"], row["net_price_improvement_cents_per_share"]
    ('market', '100-499', '0.666667')
    """
    out: list[StatRow] = []
    for path in paths:
        out.extend(file_quality(path).rows)
    return out


def market_center_quality(
    source: str | os.PathLike[str] | duckdb.DuckDBPyConnection,
) -> list[StatRow]:
    """Execution quality of each market center and month in a pfof store, as
    ``pfof market-centers --json``: market and marketable limit orders of the stored legacy
    and detailed Rule 605 reports, over all symbols and sizes, with the statistics of
    :func:`rule605_summary` (keys :data:`pfof.engine.stats605.MARKET_CENTER_KEYS`).

    >>> import pfof
    >>> pfof.market_center_quality(pfof.connect(":memory:"))
    []
    """
    import duckdb

    from pfof.engine.stats605 import market_center_statistics
    from pfof.store.schema import connect

    if isinstance(source, duckdb.DuckDBPyConnection):
        return market_center_statistics(source)
    con = connect(Path(source), read_only=True)
    try:
        return market_center_statistics(con)
    finally:
        con.close()
