"""A ~200 MB 606(a)(1) report is validated and streamed in memory far below its size.

The report is written in chunks to ``tmp_path`` (never held in memory): 3 months x 3 sections
x many venues with long ``materialAspects``. A child process runs ``validate_606`` and
drains ``iter_a1_cells`` and reports its peak RSS; the same child on a one-venue file gives the
baseline (interpreter + imports). The cell count and the dollar total must equal what was
written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from formats.conftest import PEAK_KB_SOURCE, SAFE_PARSER

ORDER_TYPES = ("Market", "MarketableLimit", "NonMarketableLimit", "Other")
SECTIONS = ("rSP500", "rOtherStocks", "rOptions")
ASPECTS = 8_000  # characters of materialAspects per venue
MB = 2**20


@dataclass
class Written:
    path: Path
    size: int
    cells: int
    total_usd: Decimal


def write_a1(
    path: Path, venues_per_section: int, cph_places: int = 4, aspects: int = ASPECTS
) -> Written:
    """Write a schema-valid quarterly report chunk by chunk; return what it contains."""
    cells = 0
    total_cents = 0
    filler = ("Payment for order flow arrangement; rebates and fees as described. " * 200)[:aspects]
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<heldOrderRoutingPublicReport xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:noNamespaceSchemaLocation="oh-20191231.xsd">\n'
            "<version>1.3</version><bd>Streaming Test Brokerage</bd><year>2024</year>"
            "<qtr>2</qtr><timestamp>2024-07-01T12:00:00Z</timestamp>\n"
        )
        for mon in (4, 5, 6):
            out.write(f"<rMonthly><year>2024</year><mon>{mon}</mon>\n")
            for section in SECTIONS:
                out.write(
                    f"<{section}><ndoPct>100.00</ndoPct><ndoMarketPct>25.00</ndoMarketPct>"
                    "<ndoMarketableLimitPct>25.00</ndoMarketableLimitPct>"
                    "<ndoNonmarketableLimitPct>25.00</ndoNonmarketableLimitPct>"
                    "<ndoOtherPct>25.00</ndoOtherPct><rVenues>\n"
                )
                chunk: list[str] = []
                for i in range(venues_per_section):
                    parts = [
                        f"<rVenue><name>Venue {i:06d}</name><orderPct>0.01</orderPct>"
                        "<marketPct>0.01</marketPct><marketableLimitPct>0.01</marketableLimitPct>"
                        "<nonMarketableLimitPct>0.01</nonMarketableLimitPct>"
                        "<otherPct>0.01</otherPct>"
                    ]
                    for k, order_type in enumerate(ORDER_TYPES):
                        cents = (i * 7919 + mon * 104729 + k * 1299709) % 10_000_000 - 2_000_000
                        total_cents += cents
                        cells += 1
                        usd = (
                            f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
                        )
                        cph = f"{k}.{i % 10000:04d}"[: 2 + cph_places]
                        parts.append(
                            f"<netPmtPaidRecv{order_type}OrdersUsd>{usd}"
                            f"</netPmtPaidRecv{order_type}OrdersUsd>"
                            f"<netPmtPaidRecv{order_type}OrdersCph>{cph}"
                            f"</netPmtPaidRecv{order_type}OrdersCph>"
                        )
                    parts.append(f"<materialAspects>{i} {filler}</materialAspects></rVenue>\n")
                    chunk.append("".join(parts))
                    if len(chunk) >= 200:
                        out.write("".join(chunk))
                        chunk.clear()
                out.write("".join(chunk))
                out.write(f"</rVenues></{section}>\n")
            out.write("</rMonthly>\n")
        out.write("</heldOrderRoutingPublicReport>\n")
    return Written(path, path.stat().st_size, cells, Decimal(total_cents) / 100)


CHILD = PEAK_KB_SOURCE + textwrap.dedent(
    """
    import json, resource, sys
    from decimal import Decimal
    from pfof.formats import sec606
    path, what = sys.argv[1], sys.argv[2]
    issues = sec606.validate_606(path, strict=True).errors if what == "full" else []
    count, total = 0, Decimal(0)
    for cell in sec606.iter_a1_cells(path):
        count += 1
        if cell.net_payment_usd is not None:
            total += cell.net_payment_usd
    print(json.dumps({
        "issues": [str(i) for i in issues[:5]],
        "cells": count,
        "total": str(total),
        "maxrss_kb": peak_kb(),
    }))
    """
)


def run_child(path: Path, what: str = "full") -> dict[str, object]:
    """Run the child on ``path``: "full" = validate_606 + cells, "cells" = cells only."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_generator_writes_a_schema_valid_report(tmp_path: Path, sec_xsd: etree.XMLSchema) -> None:
    """The small version of the generated report is valid for lxml and the SEC's XSD."""
    written = write_a1(tmp_path / "small.xml", 3)
    assert sec_xsd.validate(etree.parse(str(written.path), SAFE_PARSER)), sec_xsd.error_log
    assert written.cells == 3 * 3 * 3 * 4


@pytest.mark.slow
def test_200mb_report_streams_in_bounded_memory(tmp_path: Path) -> None:
    tiny = write_a1(tmp_path / "tiny.xml", 1)
    # ~8.6 KB per venue, 9 section-months: about 200 MB
    big = write_a1(tmp_path / "big.xml", 2_600)
    assert big.size > 190 * MB

    baseline = run_child(tiny.path)
    assert baseline["issues"] == [] and baseline["cells"] == tiny.cells
    measured = run_child(big.path)
    big.path.unlink()

    assert measured["issues"] == [], measured["issues"]
    assert measured["cells"] == big.cells
    assert Decimal(str(measured["total"])) == big.total_usd
    growth = (int(measured["maxrss_kb"]) - int(baseline["maxrss_kb"])) * 1024
    assert growth < 100 * MB, (
        f"peak RSS grew by {growth / MB:.0f} MB over the baseline for a {big.size / MB:.0f} MB file"
    )


@pytest.mark.slow
def test_report_with_a_deviation_in_every_venue_streams_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """Goldman-style Cph values with two decimals in every venue: 144,000 tolerated deviations.

    Lenient streaming must not keep one object per deviation for the whole file (a summary or a
    capped list would do): memory stays bounded by the structure, not by the file's size. The
    file is ~100 MB (to keep the test short), so the bound is half its size.
    """
    tiny = write_a1(tmp_path / "tiny.xml", 1, cph_places=2)
    big = write_a1(tmp_path / "big.xml", 4_000, cph_places=2, aspects=2_000)
    assert big.size > 90 * MB

    baseline = run_child(tiny.path, "cells")
    measured = run_child(big.path, "cells")
    big.path.unlink()

    assert baseline["cells"] == tiny.cells
    assert measured["cells"] == big.cells
    assert Decimal(str(measured["total"])) == big.total_usd
    growth = (int(measured["maxrss_kb"]) - int(baseline["maxrss_kb"])) * 1024
    assert growth < big.size / 2, (
        f"peak RSS grew by {growth / MB:.0f} MB over the baseline for a "
        f"{big.size / MB:.0f} MB file with {big.cells} deviating Cph values"
    )
