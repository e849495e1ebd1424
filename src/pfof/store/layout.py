"""The on-disk dataset layout of canonical tables, known here and nowhere else.

A dataset is a folder holding one sub-folder per day-partitioned table and one Parquet file per
small table::

    ROOT/<table>/date=YYYY-MM-DD/part-0.parquet    quotes, nbbo, orders, routes, fills, ...
    ROOT/arrangements.parquet, ROOT/payments.parquet

``pfof simulate`` writes it, ``pfof quality`` and the 606 generator read it, and DuckDB reads
it as a Hive-partitioned dataset (``date`` is the partition column).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pfof.errors import InputError

__all__ = [
    "PARTITION",
    "PART_FILE",
    "day_part",
    "day_parts",
    "days",
    "folder_part",
    "parquet_glob",
    "partition_dir",
    "partition_name",
    "partitions",
    "table_file",
]

#: A day partition's folder name: ``date=YYYY-MM-DD``.
PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
#: The one Parquet file of a day partition.
PART_FILE = "part-0.parquet"


def partition_name(day: date | str) -> str:
    """``date=YYYY-MM-DD`` for ``day``."""
    return f"date={day.isoformat() if isinstance(day, date) else day}"


def partition_dir(root: str | Path, table: str, day: date | str) -> Path:
    """``ROOT/<table>/date=YYYY-MM-DD``."""
    return Path(root) / table / partition_name(day)


def day_part(root: str | Path, table: str, day: date | str) -> Path:
    """The Parquet file one day of ``table`` is written to."""
    return folder_part(Path(root) / table, day)


def folder_part(folder: str | Path, day: date | str) -> Path:
    """``FOLDER/date=YYYY-MM-DD/part-0.parquet``: one day of a table given by its own folder
    (``pfof quality --out FOLDER``) rather than by a dataset root and a table name."""
    return Path(folder) / partition_name(day) / PART_FILE


def table_file(root: str | Path, table: str) -> Path:
    """``ROOT/<table>.parquet`` of an unpartitioned table (arrangements, payments)."""
    return Path(root) / f"{table}.parquet"


def parquet_glob(root: str | Path, table: str) -> str:
    """A glob of every Parquet file of a partitioned table, for DuckDB's ``read_parquet``."""
    return str(Path(root) / table / "**" / "*.parquet")


def day_parts(root: str | Path, table: str) -> dict[date, Path]:
    """Each day's partition folder of ``table``, in day order (empty when there is none).

    Raises :class:`~pfof.errors.InputError` for a folder among them that is not a partition.
    """
    return partitions(Path(root) / table)


def partitions(folder: str | Path) -> dict[date, Path]:
    """Each day's partition folder under a table's ``folder``, in day order (empty when the
    folder does not exist).

    Raises :class:`~pfof.errors.InputError` for an entry that is not a ``date=`` partition.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    found: dict[date, Path] = {}
    for part in folder.iterdir():
        m = PARTITION.match(part.name)
        if not m or not part.is_dir():
            raise InputError(f"{part}: expected a partition folder named date=YYYY-MM-DD")
        try:
            found[date.fromisoformat(m.group(1))] = part
        except ValueError as exc:
            raise InputError(f"{part}: {m.group(1)} is not a calendar date") from exc
    return dict(sorted(found.items()))


def days(root: str | Path, table: str = "orders") -> list[date]:
    """The days a dataset holds, judged by ``table``'s partitions.

    Raises :class:`~pfof.errors.InputError` naming the folder when there is none.
    """
    folder = Path(root) / table
    if not folder.is_dir():
        raise InputError(f"{folder} is missing: expected {root}/<table>/date=YYYY-MM-DD/")
    found = list(day_parts(root, table))
    if not found:
        raise InputError(f"{folder} has no date=YYYY-MM-DD partitions")
    return found
