"""The walk over files, folders and zips stays bounded: devices, FIFOs and sockets are skipped
(never read), a file or member larger than a report may be is refused, and the bytes expanded
out of archives are bounded in all, not only by each member's ratio."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from pfof.errors import InputError
from pfof.formats.archives import (
    ArchiveLimits,
    Candidate,
    Skipped,
    open_regular,
    read_regular,
    walk,
)
from support.hostile_inputs import fifo, zero_symlink, zip_of


def _walk_quickly(paths: list[Path], limits: ArchiveLimits | None = None) -> list[object]:
    """``list(walk(paths))`` and every candidate's bytes, within 10 s (a FIFO read would
    block: a writer is attached to release it, and the test fails)."""
    out: list[object] = []

    def run() -> None:
        for entry in walk(paths, limits):
            out.append((entry, entry.read_bytes() if isinstance(entry, Candidate) else None))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    blocked = worker.is_alive()
    if blocked:
        for path in paths:
            for pipe in path.glob("*.xml") if path.is_dir() else [path]:
                if pipe.is_fifo():
                    os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
    assert not blocked, "the walk blocked or ran on"
    return out


def test_a_folder_with_a_dev_zero_symlink_a_fifo_and_a_socket_skips_them(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    zero_symlink(folder, "zero.xml")
    fifo(folder, "pipe.xml")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "sock.xml"))
        (folder / "real.xml").write_bytes(b"<r/>")
        entries = _walk_quickly([folder])
    read = {e.path: data for e, data in entries if isinstance(e, Candidate)}  # type: ignore[attr-defined]
    assert read == {str(folder / "real.xml"): b"<r/>"}
    reasons = {Path(e.path).name: e.reason for e, _ in entries if isinstance(e, Skipped)}  # type: ignore[attr-defined]
    assert reasons["zero.xml"].startswith("a device, not a regular file")
    assert reasons["pipe.xml"].startswith("a FIFO, not a regular file")
    assert reasons["sock.xml"].startswith("a socket, not a regular file")


def test_a_fifo_given_by_name_is_skipped_not_called_missing(tmp_path: Path) -> None:
    pipe = fifo(tmp_path, "pipe.xml")
    ((entry, _),) = _walk_quickly([pipe])
    assert isinstance(entry, Skipped) and "FIFO" in entry.reason


def test_a_plain_file_larger_than_a_report_may_be_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"<r>" + b" " * 5000 + b"</r>")
    ((entry, _),) = _walk_quickly([big], ArchiveLimits(max_file_bytes=4096))
    assert isinstance(entry, Skipped) and entry.error
    assert "larger than 4,096 bytes" in entry.reason


def test_reading_a_candidate_stops_at_its_limit_whatever_its_size_said(tmp_path: Path) -> None:
    grown = tmp_path / "grown.xml"
    grown.write_bytes(b"x" * 10_000)
    candidate = Candidate(str(grown), 10, lambda: grown.open("rb"), max_bytes=100)
    with pytest.raises(OSError, match="larger than 100 bytes"):
        candidate.read_bytes()


def test_expanded_bytes_are_bounded_in_all_not_only_per_member(tmp_path: Path) -> None:
    """Members at a modest ratio (far under 1000:1) still stop once the archive's expanded
    bytes pass the total: a small zip cannot make the walk inflate gigabytes."""
    member = (os.urandom(8) + b"\0" * 1_000) * 300  # ~300 KB at about 100:1
    archive = tmp_path / "many.zip"
    archive.write_bytes(zip_of({f"r{i:02d}.xml": member for i in range(20)}))
    limits = ArchiveLimits(max_total_bytes=1_000_000)
    entries = _walk_quickly([archive], limits)
    read = sum(len(data or b"") for _, data in entries)
    assert read <= 1_000_000
    stopped = [e for e, _ in entries if isinstance(e, Skipped)]
    assert len(stopped) == 1 and "in all" in stopped[0].reason  # type: ignore[attr-defined]


def test_one_member_too_large_is_skipped_and_the_next_members_read(tmp_path: Path) -> None:
    archive = tmp_path / "mixed.zip"
    archive.write_bytes(zip_of({"a.xml": os.urandom(6000), "b.xml": b"<b/>"}))
    entries = _walk_quickly([archive], ArchiveLimits(max_file_bytes=4096))
    assert [(type(e).__name__, data) for e, data in entries] == [
        ("Skipped", None),
        ("Candidate", b"<b/>"),
    ]


def test_open_regular_refuses_devices_and_read_regular_bounds_the_bytes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        open_regular("/dev/zero")
    small = tmp_path / "small.json"
    small.write_bytes(b"{}" * 100)
    assert read_regular(small, 1_000) == b"{}" * 100
    with pytest.raises(InputError, match=r"small\.json: larger than 10 bytes"):
        read_regular(small, 10)


def test_a_damaged_zip_is_a_skipped_error_not_a_crash(tmp_path: Path) -> None:
    """Found by the fuzz suite: zipfile raises zlib.error on a corrupt deflate stream and
    UnicodeDecodeError on a member name flagged UTF-8 that is not."""
    sound = zip_of({"a.xml": os.urandom(3000) * 2, "b.xml": b"<b/>"})
    corrupt = bytearray(sound)
    corrupt[40:60] = bytes(20)  # inside a's deflate stream
    (tmp_path / "deflate.zip").write_bytes(bytes(corrupt))
    named = sound.replace(b"b.xml", b"\xc5\x28.xm", 2)  # not UTF-8, flagged so below
    named = named.replace(b"\x14\x00\x00\x00\x08\x00", b"\x14\x00\x00\x08\x08\x00")
    (tmp_path / "names.zip").write_bytes(named)
    entries = _walk_quickly([tmp_path / "deflate.zip", tmp_path / "names.zip"])
    skipped = [e for e, _ in entries if isinstance(e, Skipped)]
    assert skipped and all(e.error for e in skipped)  # type: ignore[attr-defined]
