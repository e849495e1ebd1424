"""Run ``pfof`` in a child process under a time and memory bound, measuring both.

The child is polled with psutil (its own and its children's resident memory); past the bound
it is killed and the run reports it, so a test of a hostile input fails instead of taking
the machine down. :func:`without_privilege` runs the child with permission bits in force
even when the tests run as root, so that a read-only folder is read-only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

PFOF = Path(sys.executable).with_name("pfof")


@dataclass(frozen=True)
class BoundedRun:
    """What a bounded child run did: exit status (None when killed), output, peak memory."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    killed: str = ""  # why the run was killed ("time", "memory"), or ""


def _rss(process: psutil.Process) -> int:
    try:
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            total += child.memory_info().rss
    except psutil.Error:
        return 0
    return total


def run_bounded(
    args: list[str],
    *,
    timeout: float = 60.0,
    max_mb: float = 1500.0,
    prefix: tuple[str, ...] = (),
    **popen: Any,
) -> BoundedRun:
    """Run ``pfof ARGS`` (after the ``prefix`` command, if any) with no stdin, killing it
    past ``timeout`` seconds or ``max_mb`` MB of resident memory (its children's included)."""
    command = [*prefix, str(PFOF), *args]
    env = {**os.environ, "COLUMNS": "100", **popen.pop("env", {})}
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )
    watched = psutil.Process(child.pid)
    peak, killed = 0, ""
    while child.poll() is None:
        peak = max(peak, _rss(watched))
        if peak > max_mb * 2**20:
            killed = "memory"
        elif time.perf_counter() - started > timeout:
            killed = "time"
        if killed:
            child.kill()
            break
        time.sleep(0.05)
    out, err = child.communicate()
    seconds = time.perf_counter() - started
    code = None if killed else child.returncode
    return BoundedRun(code, out, err, seconds, peak / 2**20, killed)


#: Runs a command as root without the capabilities that override permission bits.
UNPRIVILEGED = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
    "--",
)


def without_privilege(args: list[str], **bounds: Any) -> BoundedRun:
    """:func:`run_bounded` with permission bits in force: as root (whom they do not stop),
    through ``setpriv`` dropping the capabilities that override them; skips the calling test
    when ``setpriv`` is missing."""
    import pytest

    if os.geteuid() != 0:
        return run_bounded(args, **bounds)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission bits cannot be tested")
    return run_bounded(args, prefix=UNPRIVILEGED, **bounds)
