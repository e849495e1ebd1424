"""Benchmark of the CLI's start-up: ``pfof --help`` against a bare ``import typer``.

Measures, in the same run, the wall time of

* ``python -c "import typer"`` — the baseline: no CLI can start faster than its framework;
* ``pfof --help`` — the root help, which must import no data library;
* ``pfof rule606 summary FILE`` — one real command end to end (a Schwab 606 report from
  ../shared/real-606 when present, else a small report written with pfof's own 606 writer).

``pfof`` is the console script beside the interpreter (what users run; its own import of
``pfof.cli`` is part of the cost). Each is run ``--repeat`` times (default 15) after one
warm-up run; the median is reported. Target: ``pfof --help`` at most 2.0 x the baseline.

Bytecode is cached as for an installed package: the runs write and read ``.pyc`` files under
a temporary ``PYTHONPYCACHEPREFIX`` (also when ``PYTHONDONTWRITEBYTECODE`` is set, which would
make every run compile pfof's sources while Typer's come precompiled), never into the
repository. ``--no-bytecode-cache`` measures the environment as it is.

    .venv/bin/python benchmarks/cli_startup.py
    .venv/bin/python benchmarks/cli_startup.py --repeat 31
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.0
SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def pfof_command() -> list[str]:
    """The ``pfof`` console script next to this interpreter, else the same entry point."""
    script = Path(sys.executable).with_name("pfof")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from pfof.cli import main; main()"]


def report_606(tmp: Path) -> Path:
    """A real broker's 606 report, or one written by pfof's writer when ../shared is absent."""
    found = sorted((SHARED / "real-606" / "schwab").glob("*.xml"))
    if found:
        return found[0]
    from pfof.formats.sec606 import write_606
    from pfof.sim.peer_disclosures import BROKERS, quarter_report

    path = tmp / "peer_2026Q3.xml"
    path.write_bytes(write_606(quarter_report(BROKERS[0], 2026, 3, seed=0)))
    return path


def median_seconds(argv: list[str], repeat: int, env: dict[str, str]) -> float:
    """Median wall time of ``repeat`` runs of ``argv`` (after one warm-up run)."""
    subprocess.run(argv, check=True, capture_output=True, env=env)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (median)")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="run with the environment as it is (no temporary PYTHONPYCACHEPREFIX)",
    )
    args = parser.parse_args()
    pfof = pfof_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COLUMNS": "100"}
        if not args.no_bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        report = report_606(Path(tmp))
        runs = {
            'python -c "import typer"': [sys.executable, "-c", "import typer"],
            "pfof --help": [*pfof, "--help"],
            f"pfof rule606 summary {report.name}": [*pfof, "rule606", "summary", str(report)],
        }
        medians = {label: median_seconds(argv, args.repeat, env) for label, argv in runs.items()}
    base = medians['python -c "import typer"']
    width = max(len(label) for label in medians)
    cache = "off (as is)" if args.no_bytecode_cache else "on (temporary prefix)"
    print(f"{args.repeat} runs each, median; bytecode cache {cache}")
    print(f"{'command':<{width}}  {'median ms':>9}  {'x typer':>7}")
    for label, seconds in medians.items():
        print(f"{label:<{width}}  {seconds * 1000:>9.1f}  {seconds / base:>7.2f}")
    ratio = medians["pfof --help"] / base
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"target: pfof --help at most {TARGET_RATIO} x bare typer ({verdict})")
    print(f"pfof_help_vs_bare_typer={ratio:.2f}")


if __name__ == "__main__":
    main()
