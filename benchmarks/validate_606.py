"""Benchmark strict 606 validation: ``validate_606(strict=True)`` against lxml + the SEC's XSD.

On the SEC's large 606(b)(1) samples (``../shared/sec-606/b1_*.xml``) and on a generated
~200 MB (b)(1) report (written to a temporary directory and deleted afterwards), each file is
validated in the same run by

* ``pfof``: :func:`pfof.formats.sec606.validate_606` with ``strict=True`` (the whole verdict:
  schema rules, report rules and lenient warnings, with every issue's path and line);
* ``lxml``: ``etree.parse`` then ``XMLSchema.validate`` with the official
  ``oh-20191231.xsd``, read from ../shared at run time (never copied into the repository).

Each tool runs in its own child processes (so neither inherits the other's heap; the schemas
are compiled before the clock starts), the two taking turns so that both see the same load on
a shared machine: three rounds of ``--repeat`` runs on the SEC samples, two single runs on the
generated report; the best time and the largest peak RSS of each are printed. For reference,
the detailed pass alone (what every file went through before the derived-schema fast path)
is timed on the SEC samples. The last line is the largest pfof/lxml time ratio over all
files (the line before names the file), ``pfof_strict_vs_lxml_xsd=<ratio>`` (target at most
1.0).

    .venv/bin/python benchmarks/validate_606.py [--mb 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SAMPLES = ("b1_000500.xml", "b1_008000.xml", "b1_016000.xml")
VENUES = (
    ("Nasdaq Stock Market", "XNAS"),
    ("NYSE Arca", "ARCX"),
    ("New York Stock Exchange", "XNYS"),
    ("Cboe EDGX Exchange", "EDGX"),
    ("Investors Exchange", "IEXG"),
    ("Citadel Securities LLC, wholesale market making desk for retail order flow", None),
    ("Virtu Americas LLC (formerly KCG Americas), retail liquidity provider", None),
    ("G1 Execution Services, principal trading desk", None),
)


def write_b1(path: Path, megabytes: int) -> int:
    """A schema-valid 606(b)(1) report of about ``megabytes`` MB, written chunk by chunk:
    unique order ids, varied venues (some with an ISO MIC), dates and times."""
    target = megabytes * 2**20
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<heldExemptNotHeldOrderRoutingCustomerReport"
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:noNamespaceSchemaLocation="oh-20191231.xsd">\n'
            "<version>1.3</version><customer>Benchmark Customer</customer>"
            "<bd>Benchmark Brokerage</bd><timestamp>2024-04-02T12:00:00Z</timestamp>"
            "<startDate>2024-01-01</startDate><endDate>2024-03-31</endDate>\n"
        )
        written = 0
        for section, share in (("held", 0.6), ("notHeldExempt", 0.3), ("options", 0.1)):
            out.write(f"<{section}>\n")
            budget = target * share
            section_bytes = 0
            n = 0
            while section_bytes < budget:
                chunk = []
                for _ in range(500):
                    n += 1
                    parts = [
                        f"<order><orderId>{section[0]}{n:09d}-{(n * 7919) % 100003:05d}</orderId>"
                        f"<directed>{'Y' if n % 3 == 0 else 'N'}</directed>"
                    ]
                    for r in range(1 + n % 3):
                        name, mic = VENUES[(n + r) % len(VENUES)]
                        parts.append(f"<route><venueName>{name}</venueName>")
                        if mic is not None:
                            parts.append(f"<mic>{mic}</mic>")
                        for t in range(1 + (n + r) % 4):
                            day = 1 + (n + t) % 28
                            secs = 34200 + (n * 37 + r * 11 + t * 3) % 23400
                            parts.append(
                                f"<transaction><date>2024-0{1 + n % 3}-{day:02d}</date>"
                                f"<time>{secs // 3600:02d}:{secs // 60 % 60:02d}:"
                                f"{secs % 60:02d}</time></transaction>"
                            )
                        parts.append("</route>")
                    parts.append("</order>\n")
                    chunk.append("".join(parts))
                text = "".join(chunk)
                out.write(text)
                section_bytes += len(text)
            written += section_bytes
            out.write(f"</{section}>\n")
        out.write("</heldExemptNotHeldOrderRoutingCustomerReport>\n")
    return path.stat().st_size


#: Run in a fresh interpreter per tool and file, so neither inherits the other's heap (lxml
#: frees gigabytes after a large file, which slows whatever runs next in the same process).
CHILD = """
import json, sys, time
from pathlib import Path
tool, path, xsd_path, repeat = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if tool == "pfof":
    from pfof.formats import sec606
    sec606.validate_606(b"<x/>")  # compile the derived schema outside the timing
    if len(sys.argv) > 5:
        def run():
            return not sec606._check(path, fast=False).rejecting(True)
    else:
        def run():
            return sec606.validate_606(path, strict=True).valid
else:
    from lxml import etree
    xsd = etree.XMLSchema(etree.parse(xsd_path))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    def run():
        return bool(xsd.validate(etree.parse(str(path), parser)))
times = []
for _ in range(repeat):
    start = time.perf_counter()
    valid = run()
    times.append(time.perf_counter() - start)
peak = 0
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
print(json.dumps({"seconds": min(times), "valid": valid, "peak_mb": peak / 1024}))
"""


def timed(tool: str, path: Path, xsd: Path, repeat: int, *extra: str) -> dict[str, float]:
    """Best of ``repeat`` runs of ``tool`` on ``path`` in a child process, with its peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, tool, str(path), str(xsd), str(repeat), *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(path: Path, xsd: Path, rounds: int, repeat: int, detailed: bool) -> float:
    """Time both on ``path`` (children taking turns, ``rounds`` each, so both see the same
    machine load; best of all runs), print them, return pfof/lxml."""
    runs: dict[str, list[dict[str, float]]] = {"pfof": [], "lxml": []}
    for _ in range(rounds):
        for tool, measured in runs.items():
            measured.append(timed(tool, path, xsd, repeat))
    pfof, lxml = (
        {
            "seconds": min(r["seconds"] for r in measured),
            "valid": measured[0]["valid"],
            "peak_mb": max(r["peak_mb"] for r in measured),
        }
        for measured in runs.values()
    )
    assert lxml["valid"] == pfof["valid"], f"{path.name}: verdicts differ: {lxml} {pfof}"
    mb = path.stat().st_size / 2**20
    pfof_s, lxml_s = pfof["seconds"], lxml["seconds"]
    print(
        f"{path.name:24} {mb:6.1f} MB  pfof strict {pfof_s:6.3f} s ({mb / pfof_s:5.1f} MB/s, "
        f"peak {pfof['peak_mb']:5.0f} MB)  lxml+XSD {lxml_s:6.3f} s ({mb / lxml_s:5.1f} MB/s, "
        f"peak {lxml['peak_mb']:5.0f} MB)  ratio {pfof_s / lxml_s:.2f}"
    )
    if detailed:
        slow_s = timed("pfof", path, xsd, 1, "detailed")["seconds"]
        print(f"{'':32} detailed pass alone {slow_s:6.3f} s ({mb / slow_s:5.1f} MB/s)")
    return pfof_s / lxml_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="size of the generated report")
    ap.add_argument("--repeat", type=int, default=5, help="runs per small file (best of)")
    args = ap.parse_args()
    xsd_path = SHARED / "sec-606" / "oh-20191231.xsd"
    if not xsd_path.is_file():
        print(f"skipped: {xsd_path} is absent (the SEC's XSD is the baseline)")
        return 0
    ratios: dict[str, float] = {}
    for name in SAMPLES:
        path = SHARED / "sec-606" / name
        if path.is_file():
            ratios[name] = compare(path, xsd_path, 3, args.repeat, detailed=True)
        else:
            print(f"{name}: absent from {path.parent}, skipped")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / f"b1_generated_{args.mb}mb.xml"
        start = time.perf_counter()
        size = write_b1(big, args.mb)
        print(f"generated {big.name}: {size / 2**20:.0f} MB in {time.perf_counter() - start:.1f} s")
        ratios[big.name] = compare(big, xsd_path, 2, 1, detailed=False)
        big.unlink()
    worst = max(ratios, key=lambda k: ratios[k])
    print(f"largest ratio: {worst}")
    print(f"pfof_strict_vs_lxml_xsd={ratios[worst]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
