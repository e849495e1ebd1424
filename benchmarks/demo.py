"""Benchmark of ``pfof demo``: the whole pipeline on the demo month, in child processes.

Target (issue 4): well under a minute on 2 cores. The baseline measured in the same run is
``pfof simulate --preset demo`` (the month's simulation alone, written as Parquet), so the
printed ratio says what measuring, rerouting, reporting and comparing add to simulating.
Each command runs in a fresh process with a fresh output folder; times are wall-clock, the
best of ``--repeat`` runs.

    .venv/bin/python benchmarks/demo.py
    .venv/bin/python benchmarks/demo.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_TARGET_S = 60.0


def _pfof() -> str:
    exe = Path(sys.executable).with_name("pfof")
    return str(exe) if exe.exists() else "pfof"


def timed(args: list[str]) -> tuple[float, float]:
    """(seconds, largest child peak RSS so far in MB) of ``pfof ARGS`` in a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [_pfof(), *args, "--out", str(Path(tmp) / "out")]
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=False
        )
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    # the largest peak RSS among the children waited for so far (Linux: in kB)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (best kept)")
    args = parser.parse_args()
    base = min(timed(["simulate", "--preset", "demo"])[0] for _ in range(args.repeat))
    runs = [timed(["demo"]) for _ in range(args.repeat)]
    demo = min(s for s, _ in runs)
    peak = max(m for _, m in runs)
    print(f"cores available      {os.cpu_count()}")
    print(f"pfof simulate (demo) {base:6.1f} s   (baseline)")
    print(
        f"pfof demo            {demo:6.1f} s   {demo / base:4.2f}x the baseline, "
        f"{demo / TIME_TARGET_S:4.2f}x the {TIME_TARGET_S:.0f} s target"
    )
    print(f"peak RSS of a child  {peak:6.0f} MB (largest child so far)")


if __name__ == "__main__":
    main()
