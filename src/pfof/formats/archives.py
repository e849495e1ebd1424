"""Walk files, folders and (nested) zip archives, yielding Rule 606 XML candidates.

FINRA and brokers publish 606 reports loose, in folders, or in zips of zips (FINRA's quarterly
bulk file holds one zip per broker). :func:`walk` flattens all of that into a stream of
:class:`Candidate` (an ``.xml`` file or member, with a display path such as
``bulk.zip!2024Q1/broker.zip!report.xml``) and :class:`Skipped` notices (anything else, with the
reason). ``walk(..., suffixes=...)`` also yields Rule 605 files (``.txt``, ``.dat``, ``.csv``),
which are opened lazily and read as a stream, a zip member while the walk waits on it.
Archives are read in memory, never extracted to disk, and guarded against zip bombs by
:class:`ArchiveLimits`: members looked at, bytes of one file or member, uncompressed bytes in
all, nesting depth and compression ratio.

Only regular files are read: a FIFO would block forever and a device such as ``/dev/zero``
never ends, so either (or a socket, or a symlink to one) is skipped with the reason. A plain
file larger than a report may be is refused before it is read, and the read itself stops at
the limit (a file growing meanwhile, or a ``/proc`` file claiming size 0, cannot exceed it).
:func:`open_regular` is the same guard for other readers of untrusted paths.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

from pfof.errors import InputError

#: Separator between an archive's display path and a member inside it.
MEMBER_SEP = "!"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Zip-bomb guards for one :func:`walk` (counted over all archives and nesting levels)."""

    max_members: int = 200_000  # zip members looked at
    max_total_bytes: int = 1 << 30  # uncompressed bytes read out of archives, in all
    max_file_bytes: int = 128 << 20  # one XML file or member (or nested zip), uncompressed
    max_depth: int = 4  # zips inside zips inside ... (1 = a zip, no nested zips)
    max_ratio: int = 1_000  # uncompressed/compressed size of one member
    #: one file or member read as a stream (a Rule 605 file: :data:`STREAMED_SUFFIXES`)
    max_stream_bytes: int = 16 << 30


#: Suffixes :func:`walk` yields by default: Rule 606 XML reports.
XML_SUFFIXES: tuple[str, ...] = (".xml",)
#: Rule 605 monthly files (``.dat`` in older months' zips): read as a stream, never whole, so
#: a zip member is opened lazily rather than read into memory, within ``max_stream_bytes``.
STREAMED_SUFFIXES: tuple[str, ...] = (".txt", ".dat", ".csv")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file or archive member that may be a Rule 606 XML report."""

    path: str  # display path, members joined with "!"
    size: int | None
    _opener: Callable[[], BinaryIO] = field(repr=False)
    #: Bytes :meth:`read_bytes` reads at most (``None``: no limit).
    max_bytes: int | None = None
    #: The file on disk, for a loose file (``None``: an archive member).
    file: Path | None = None

    def open(self) -> BinaryIO:
        """A fresh binary stream over the content (the caller closes it)."""
        return self._opener()

    def read_bytes(self) -> bytes:
        """The whole content; ``OSError`` saying so when it is larger than ``max_bytes``."""
        with self.open() as stream:
            if self.max_bytes is None:
                return stream.read()
            data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise OSError(_too_large(self.max_bytes))
        return data


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

    def __init__(self, limits: ArchiveLimits, suffixes: tuple[str, ...] = XML_SUFFIXES) -> None:
        self.limits = limits
        self.members = 0
        self.bytes = 0
        self.suffixes = suffixes
        self.what = "606 XML file" if suffixes == XML_SUFFIXES else "Rule 605/606 report file"


#: What :mod:`zipfile` raises on a damaged archive (a bad header, a name that does not decode,
#: a deflate stream that does not inflate, an offset past the end).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    NotImplementedError,
    zlib.error,
    struct.error,
    UnicodeDecodeError,
    ValueError,
    OverflowError,
)


class _LimitExceeded(Exception):
    """A limit of the whole walk (members, bytes in all): stop reading the archive."""


class _MemberTooLarge(Exception):
    """One member too large or too compressed: skip it, go on with the next."""


def _too_large(limit: int) -> str:
    return f"larger than {limit:,} bytes, the limit for one report file (ArchiveLimits)"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for binary reading when it is a regular file (or a symlink to one);
    :class:`~pfof.errors.InputError` naming it otherwise. Never blocks on a FIFO."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(f"{name}: not a regular file ({_kind(mode)}); expected a file to read")
    return os.fdopen(fd, "rb")


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (:func:`open_regular`);
    :class:`~pfof.errors.InputError` naming it when larger."""
    with open_regular(path) as stream:
        try:
            data = stream.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"{os.fspath(path)}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise InputError(f"{os.fspath(path)}: larger than {max_bytes:,} bytes; not read")
    return data


def walk(
    paths: Iterable[str | os.PathLike[str]],
    limits: ArchiveLimits | None = None,
    *,
    suffixes: tuple[str, ...] = XML_SUFFIXES,
) -> Iterator[Entry]:
    """Yield every 606 candidate under ``paths`` (files, folders, zips, nested zips).

    ``suffixes``: the file suffixes yielded as candidates (default ``.xml``; those of
    :data:`STREAMED_SUFFIXES` are opened lazily, a zip member while the walk waits on it).

    Folders are walked recursively in sorted order; ``.xml`` files are candidates; ``.zip``
    files are opened and their members walked the same way. FIFOs, devices and sockets are
    skipped with the reason. A limit breach stops reading the offending member (one too
    large) or archive (too many members or bytes in all), yielding a :class:`Skipped` error,
    and the walk goes on with the next path.
    """
    budget = _Budget(limits or ArchiveLimits(), suffixes)
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk_dir(path, budget)
        elif path.exists() or path.is_symlink():
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
    if suffix not in (*budget.suffixes, ".zip"):
        yield Skipped(str(path), f"not a {budget.what} or zip archive ({suffix or 'no extension'})")
        return
    try:
        info = path.stat()
    except OSError as exc:  # a dangling symlink, a file gone since the folder was listed
        yield Skipped(str(path), f"cannot read: {exc.strerror or exc}", error=True)
        return
    if not stat.S_ISREG(info.st_mode):
        yield Skipped(str(path), f"{_kind(info.st_mode)}, not a regular file: not read")
        return
    limit = budget.limits.max_file_bytes
    if suffix in STREAMED_SUFFIXES:
        streamed = budget.limits.max_stream_bytes
        if info.st_size > streamed:
            yield Skipped(str(path), _too_large(streamed), error=True)
            return
        yield Candidate(str(path), info.st_size, partial(open_regular, path), limit, Path(path))
        return
    if suffix != ".zip":
        if info.st_size > limit:
            yield Skipped(str(path), _too_large(limit), error=True)
            return
        yield Candidate(str(path), info.st_size, partial(open_regular, path), limit, Path(path))
        return
    try:
        archive = zipfile.ZipFile(open_regular(path))
    except _ZIP_ERRORS as exc:  # InputError (not a regular file) is a ValueError
        yield Skipped(str(path), f"not a readable zip archive: {exc}", error=True)
        return
    with archive:
        yield from _walk_zip(archive, str(path), 1, budget)


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
        if suffix not in (*budget.suffixes, ".zip") or base.startswith("._"):
            yield Skipped(member, f"not a {budget.what} or zip archive")
            continue
        if info.flag_bits & 0x1:
            yield Skipped(member, "encrypted zip member", error=True)
            continue
        if suffix in STREAMED_SUFFIXES:
            try:
                _check_streamed(info, budget)
            except _MemberTooLarge as exc:
                yield Skipped(member, str(exc), error=True)
                continue
            except _LimitExceeded as exc:
                yield Skipped(member, str(exc), error=True)
                return
            opener = partial(archive.open, info)
            yield Candidate(member, info.file_size, opener, limits.max_file_bytes)  # type: ignore[arg-type]
            continue
        try:
            data = _read_member(archive, info, budget)
        except _MemberTooLarge as exc:
            yield Skipped(member, str(exc), error=True)
            continue
        except _LimitExceeded as exc:
            yield Skipped(member, str(exc), error=True)
            return
        except _ZIP_ERRORS as exc:
            yield Skipped(member, f"cannot read zip member: {exc}", error=True)
            continue
        if suffix != ".zip":
            yield Candidate(member, len(data), partial(io.BytesIO, data))
            continue
        try:
            inner = zipfile.ZipFile(io.BytesIO(data))
        except _ZIP_ERRORS as exc:
            yield Skipped(member, f"not a readable zip archive: {exc}", error=True)
            continue
        with inner:
            yield from _walk_zip(inner, member, depth + 1, budget)


def _check_streamed(info: zipfile.ZipInfo, budget: _Budget) -> None:
    """Limits of a member read as a stream (it is opened lazily, while the walk waits): its
    declared size, which :mod:`zipfile` never reads past, counts towards the total."""
    limits = budget.limits
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        raise _MemberTooLarge(
            f"compression ratio {info.file_size // info.compress_size}:1 exceeds "
            f"{limits.max_ratio}:1 (zip bomb?)"
        )
    if info.file_size > limits.max_stream_bytes:
        raise _MemberTooLarge(_too_large(limits.max_stream_bytes))
    if info.file_size > limits.max_total_bytes - budget.bytes:
        raise _LimitExceeded(
            f"archives hold more than {limits.max_total_bytes:,} uncompressed bytes in all"
        )
    budget.bytes += info.file_size


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """Read one member, enforcing the limits on actual (not declared) sizes."""
    limits = budget.limits
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        raise _MemberTooLarge(
            f"compression ratio {info.file_size // info.compress_size}:1 exceeds "
            f"{limits.max_ratio}:1 (zip bomb?)"
        )
    if info.file_size > limits.max_file_bytes:
        raise _MemberTooLarge(_too_large(limits.max_file_bytes))
    remaining = limits.max_total_bytes - budget.bytes
    total = f"archives hold more than {limits.max_total_bytes:,} uncompressed bytes in all"
    if info.file_size > remaining:
        raise _LimitExceeded(total)
    out = bytearray()
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            budget.bytes += len(chunk)
            if budget.bytes > limits.max_total_bytes:
                raise _LimitExceeded(total)
            out += chunk
            if len(out) > limits.max_file_bytes:
                raise _MemberTooLarge(_too_large(limits.max_file_bytes))
    return bytes(out)
