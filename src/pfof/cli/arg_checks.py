"""Checks of the CLI's path and date arguments, before a command does any work.

An output folder that is a file, cannot be created or cannot be written, a store whose folder
refuses new files (DuckDB writes a write-ahead log beside the store), an input that is a FIFO
or a device, a date outside the years pfof's timestamps hold: each is one
:class:`~pfof.errors.ParameterError` line naming the option and the path, exit status 2,
instead of a traceback half-way through. Writability is tried, not inferred from permission
bits (root ignores those; a read-only mount does not). Imports only the standard library.
"""

from __future__ import annotations

import os
import stat
import tempfile
from datetime import date
from pathlib import Path

from pfof.errors import ParameterError

__all__ = [
    "FIRST_DATE",
    "LAST_DATE",
    "date_option",
    "input_file",
    "output_file",
    "output_folder",
    "store_file",
]

#: Dates the commands accept: nanosecond timestamps hold 1677-09-21 to 2262-04-11, and a
#: quarter or a window must end (and be followed by a day) inside them.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _probe(folder: Path, option: str, shown: Path) -> None:
    """Create and remove a file in ``folder``; ParameterError naming ``option`` if refused."""
    try:
        fd, name = tempfile.mkstemp(prefix=".pfof-write-check-", dir=folder)
    except OSError as exc:
        raise ParameterError(
            f"{option} {shown}: cannot write in {folder} ({_reason(exc)}); "
            "expected a writable folder"
        ) from exc
    os.close(fd)
    os.unlink(name)


def output_folder(path: Path, option: str = "--out") -> Path:
    """``path`` as a writable folder, created (with its parents) if missing."""
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {path}: is a file; expected a folder (created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(
            f"{option} {path}: cannot create the folder ({_reason(exc)}); "
            "expected a writable folder"
        ) from exc
    _probe(path, option, path)
    return path


def output_file(path: Path, option: str = "--out") -> Path:
    """``path`` as a file that can be written: not a folder, in an existing writable folder."""
    if path.is_dir():
        raise ParameterError(f"{option} {path}: is a folder; expected a file name")
    folder = path.parent
    if not folder.is_dir():
        raise ParameterError(f"{option} {path}: the folder {folder} does not exist")
    _probe(folder, option, path)
    return path


def store_file(path: Path, option: str = "--db") -> Path:
    """``path`` as a DuckDB store pfof can write: a file (or none yet) in a folder that takes
    new files, since DuckDB writes a write-ahead log beside the store on every commit."""
    if path.is_dir():
        raise ParameterError(f"{option} {path}: is a folder; expected a DuckDB file")
    output_file(path, option)
    if path.exists() and not os.access(path, os.W_OK):
        raise ParameterError(f"{option} {path}: the store file is read-only")
    return path


def input_file(path: Path, option: str) -> Path:
    """``path`` as a regular file to read: a FIFO would block, a device never end."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ParameterError(f"{option} {path}: cannot read ({_reason(exc)})") from exc
    if not stat.S_ISREG(mode):
        raise ParameterError(
            f"{option} {path}: not a regular file (a folder, FIFO, device or socket); "
            "expected a file"
        )
    return path


def date_option(value: str, option: str) -> date:
    """A ``YYYY-MM-DD`` option value from :data:`FIRST_DATE` to :data:`LAST_DATE`."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ParameterError(f"{option} {value!r}: expected a date as YYYY-MM-DD ({exc})") from exc
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ParameterError(f"{option} {value}: expected a date from {FIRST_DATE} to {LAST_DATE}")
    return day
