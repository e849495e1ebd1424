"""Walk files, folders and (nested) zip archives, yielding Rule 606 XML candidates.

FINRA and brokers publish 606 reports loose, in folders, or in zips of zips (FINRA's quarterly
bulk file holds one zip per broker). :func:`walk` flattens all of that into a stream of
:class:`Candidate` (an ``.xml`` file or member, with a display path such as
``bulk.zip!2024Q1/broker.zip!report.xml``) and :class:`Skipped` notices (anything else, with the
reason). Archives are read in memory, never extracted to disk, and guarded against zip bombs by
:class:`ArchiveLimits`.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

#: Separator between an archive's display path and a member inside it.
MEMBER_SEP = "!"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Zip-bomb guards for one :func:`walk` (counted over all archives and nesting levels)."""

    max_members: int = 200_000  # zip members looked at
    max_total_bytes: int = 8 << 30  # uncompressed bytes read out of archives
    max_depth: int = 4  # zips inside zips inside ... (1 = a zip, no nested zips)
    max_ratio: int = 1_000  # uncompressed/compressed size of one member


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file or archive member that may be a Rule 606 XML report."""

    path: str  # display path, members joined with "!"
    size: int | None
    _opener: Callable[[], BinaryIO] = field(repr=False)

    def open(self) -> BinaryIO:
        """A fresh binary stream over the content (the caller closes it)."""
        return self._opener()

    def read_bytes(self) -> bytes:
        with self.open() as stream:
            return stream.read()


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something :func:`walk` did not yield as a candidate, and why.

    ``error`` is True for problems a user should fix (missing path, corrupt or oversized
    archive) and False for things skipped on purpose (a non-XML member).
    """

    path: str
    reason: str
    error: bool = False


Entry = Candidate | Skipped


class _Budget:
    """Counts members and uncompressed bytes across one walk."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.members = 0
        self.bytes = 0


class _LimitExceeded(Exception):
    pass


def walk(
    paths: Iterable[str | os.PathLike[str]], limits: ArchiveLimits | None = None
) -> Iterator[Entry]:
    """Yield every 606 candidate under ``paths`` (files, folders, zips, nested zips).

    Folders are walked recursively in sorted order; ``.xml`` files are candidates; ``.zip``
    files are opened and their members walked the same way. A limit breach stops reading the
    offending archive (yielding a :class:`Skipped` error) and the walk goes on with the next path.
    """
    budget = _Budget(limits or ArchiveLimits())
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk_dir(path, budget)
        elif path.is_file():
            yield from _walk_file(path, budget)
        else:
            yield Skipped(str(raw), "no such file or folder", error=True)


def _walk_dir(folder: Path, budget: _Budget) -> Iterator[Entry]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield from _walk_file(Path(root) / name, budget)


def _walk_file(path: Path, budget: _Budget) -> Iterator[Entry]:
    suffix = path.suffix.lower()
    if suffix == ".xml":
        yield Candidate(str(path), path.stat().st_size, lambda: open(path, "rb"))
    elif suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            yield Skipped(str(path), f"not a readable zip archive: {exc}", error=True)
            return
        with archive:
            yield from _walk_zip(archive, str(path), 1, budget)
    else:
        yield Skipped(str(path), f"not a 606 XML file or zip archive ({suffix or 'no extension'})")


def _walk_zip(
    archive: zipfile.ZipFile, display: str, depth: int, budget: _Budget
) -> Iterator[Entry]:
    limits = budget.limits
    if depth > limits.max_depth:
        yield Skipped(display, f"zip nested deeper than {limits.max_depth} levels", error=True)
        return
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        member = f"{display}{MEMBER_SEP}{info.filename}"
        budget.members += 1
        if budget.members > limits.max_members:
            yield Skipped(member, f"more than {limits.max_members} archive members", error=True)
            return
        base = info.filename.rsplit("/", 1)[-1]
        suffix = Path(base).suffix.lower()
        if suffix not in (".xml", ".zip") or base.startswith("._"):
            yield Skipped(member, "not a 606 XML file or zip archive")
            continue
        if info.flag_bits & 0x1:
            yield Skipped(member, "encrypted zip member", error=True)
            continue
        try:
            data = _read_member(archive, info, budget)
        except _LimitExceeded as exc:
            yield Skipped(member, str(exc), error=True)
            return
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            yield Skipped(member, f"cannot read zip member: {exc}", error=True)
            continue
        if suffix == ".xml":
            yield Candidate(member, len(data), partial(io.BytesIO, data))
            continue
        try:
            inner = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            yield Skipped(member, f"not a readable zip archive: {exc}", error=True)
            continue
        with inner:
            yield from _walk_zip(inner, member, depth + 1, budget)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """Read one member, enforcing the byte budget on actual (not declared) sizes."""
    limits = budget.limits
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        raise _LimitExceeded(
            f"compression ratio {info.file_size // info.compress_size}:1 exceeds "
            f"{limits.max_ratio}:1 (zip bomb?)"
        )
    remaining = limits.max_total_bytes - budget.bytes
    if info.file_size > remaining:
        raise _LimitExceeded(f"archives hold more than {limits.max_total_bytes} uncompressed bytes")
    out = io.BytesIO()
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            budget.bytes += len(chunk)
            if budget.bytes > limits.max_total_bytes:
                raise _LimitExceeded(
                    f"archives hold more than {limits.max_total_bytes} uncompressed bytes"
                )
            out.write(chunk)
    return out.getvalue()
