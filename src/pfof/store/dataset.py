"""One day of a Parquet dataset in pfof's layout (:mod:`pfof.store.layout`), read and written.

Reading a dataset a day at a time keeps memory at one day's worth however long the period;
every failure names the partition folder and what was expected there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pfof.errors import InputError, PfofError
from pfof.store import layout

__all__ = ["read_day", "read_days", "read_part", "write_day"]


def read_part(part: Path) -> pa.Table:
    """Every Parquet file of one partition folder as one table (no partition column added).

    Raises :class:`~pfof.errors.InputError` naming the folder when it cannot be read.
    """
    try:
        return pq.read_table(part, partitioning=None)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{part}: cannot read as Parquet: {exc}") from exc


def read_day(root: str | Path, table: str, day: date) -> pa.Table | None:
    """``ROOT/<table>/date=YYYY-MM-DD`` as one table, ``None`` when the dataset has no such
    partition. Raises :class:`~pfof.errors.InputError` when it cannot be read."""
    part = layout.partition_dir(root, table, day)
    return read_part(part) if part.is_dir() else None


def read_days(
    folder: str | Path, days: list[date] | None = None
) -> Iterator[tuple[date, pa.Table]]:
    """(day, table) for each partition under a table's ``folder``, in day order, one at a time;
    only ``days`` when given (a missing one raises :class:`~pfof.errors.InputError`)."""
    found = layout.partitions(folder)
    for day in found if days is None else days:
        if day not in found:
            raise InputError(f"{layout.folder_part(folder, day).parent} is missing")
        yield day, read_part(found[day])


def write_day(table: pa.Table, folder: str | Path, day: date) -> Path:
    """Write one day of a table as ``FOLDER/date=YYYY-MM-DD/part-0.parquet``; returns the file.

    Raises :class:`~pfof.errors.PfofError` naming the file when it cannot be written.
    """
    target = layout.folder_part(folder, day)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target)
    except OSError as exc:
        raise PfofError(f"{target}: cannot write: {exc}") from exc
    return target
