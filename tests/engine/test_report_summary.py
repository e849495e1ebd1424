"""Summaries of single 606 reports and the batch's sanity checks (engine.report_summary)."""

from __future__ import annotations

import dataclasses
import json
import statistics
from datetime import date
from decimal import Decimal

import pytest

from pfof.engine.report_summary import (
    SummaryInput,
    rate_scale_flags,
    summarize_a1,
    summarize_files,
    summarize_report,
)
from pfof.model.enums import Section
from pfof.model.reports606 import CustomerRoutingReport, a1_cells
from support.a1_reports import D, report, section, venue

HAND = report(
    "Test BD",
    2024,
    1,
    [
        {
            "sp500": section(
                venue(
                    "Alpha LLC",
                    "60.00",
                    market_usd="10.00",
                    market_cph="20.0000",
                    marketable_limit_usd="5.00",
                    marketable_limit_cph="10.0000",
                    other_usd="1.00",
                ),
                venue("Beta", "40.00", market_usd="-2.00", market_cph="-4.0000"),
            ),
            "options": section(venue("Gamma", "100.00", market_usd="30.00", market_cph="60.0000")),
        }
    ],
)


def test_a1_summary_gives_the_hand_checked_totals_by_section_and_order_type() -> None:
    out = summarize_a1(HAND, file="x.xml", strict_valid=False, warnings=["w"])
    assert out["file"] == "x.xml" and out["report"] == "a1" and out["broker"] == "Test BD"
    assert (out["year"], out["quarter"], out["strict_valid"], out["warnings"]) == (
        2024,
        1,
        False,
        ["w"],
    )
    # 10 + 5 + 1 - 2 + 30
    assert out["total_usd"] == "44.00"
    # S&P 500: usd 14; rate over cells with both: (10 + 5 - 2) / (10/20 + 5/10 + -2/-4) = 13/1.5
    assert out["sections"]["sp500"] == {"usd": "14.00", "rate": "8.6667"}
    assert out["sections"]["other_stocks"] == {"usd": "0.00", "rate": None}
    assert out["sections"]["options"] == {"usd": "30.00", "rate": "60.0000"}
    assert out["order_types"] == {
        "market": "38.00",
        "marketable_limit": "5.00",
        "non_marketable_limit": "0.00",
        "other": "1.00",
    }
    json.dumps(out)  # JSON-ready


def test_summary_money_is_exact_for_many_cents() -> None:
    # 1000 cells of 0.01 and one of 0.10: a float sum would drift, Decimal is exact
    venues = [venue(f"V{i}", market_usd="0.01") for i in range(1000)]
    rep = report("B", 2024, 2, [{"sp500": section(*venues, venue("W", other_usd="0.10"))}])
    assert summarize_a1(rep)["total_usd"] == "10.10"


def test_b1_summary_has_no_money_and_takes_the_quarter_of_its_start_date() -> None:
    b1 = CustomerRoutingReport(
        "1.3", "C1", "Some BD", None, date(2024, 8, 5), date(2024, 8, 9), (), (), ()
    )
    out = summarize_report(b1, file="b1.xml")
    assert (out["report"], out["year"], out["quarter"]) == ("b1", 2024, 3)
    assert out["total_usd"] is None and out["sections"] is None


def test_summarize_files_flags_the_100x_quarter_only() -> None:
    def quarter(qtr: int, cph: str) -> SummaryInput:
        rep = report(
            "Scaled Broker LLC" if qtr != 3 else "SCALED BROKER, L.L.C.",
            2023,
            qtr,
            [{"sp500": section(venue("A", market_usd="100.00", market_cph=cph))}],
        )
        return SummaryInput(f"q{qtr}.xml", rep)

    out = summarize_files(
        [quarter(1, "12.0000"), quarter(2, "9.5000"), quarter(3, "0.1100"), quarter(4, "11.0000")]
    )
    flagged = [o["file"] for o in out if any("100x" in w for w in o["warnings"])]
    assert flagged == ["q3.xml"]


# ---------------------------------------------------------------- 100x check


def _quarters(medians: dict[int, str]) -> list:
    out = []
    for qtr, cph in medians.items():
        venues = [venue(f"V{i}", market_usd="1.00", market_cph=cph) for i in range(3)]
        out += a1_cells(report("Unit BD", 2022, qtr, [{"other_stocks": section(*venues)}]))
    return out


def test_rate_scale_flags_dollars_for_cents() -> None:
    (flag,) = rate_scale_flags(_quarters({1: "9.0000", 2: "0.0900", 3: "10.0000", 4: "8.0000"}))
    assert (flag.year, flag.quarter, flag.section) == (2022, 2, Section.OTHER_STOCKS)
    assert flag.factor == D(100)  # reference 9 (median of 9, 10, 8) / 0.09
    assert "~100x smaller" in flag.message


def test_rate_scale_flags_a_quarter_about_100x_larger_too() -> None:
    (flag,) = rate_scale_flags(_quarters({1: "9.0000", 2: "900.0000", 3: "10.0000"}))
    # 900 / median(9, 10) = 94.7
    assert flag.quarter == 2 and "~95x larger" in flag.message


def test_rate_scale_ignores_ordinary_moves_and_needs_two_other_quarters() -> None:
    assert rate_scale_flags(_quarters({1: "9.0000", 2: "3.0000", 3: "27.0000", 4: "9.0000"})) == []
    # with only two quarters neither can be blamed
    assert rate_scale_flags(_quarters({1: "9.0000", 2: "0.0900"})) == []


# ---------------------------------------------------------------- real reports


def _read(path):
    sec606 = pytest.importorskip("pfof.formats.sec606")
    return sec606.read_606(path).report


def test_schwab_2020_summaries_add_up_to_the_published_total_without_flags(shared) -> None:
    files = sorted((shared / "real-606" / "schwab").glob("606-CHAS-2020Q*.xml"))
    assert len(files) == 4
    out = summarize_files([SummaryInput(str(f), _read(f)) for f in files])
    assert sum(D(o["total_usd"]) for o in out) == D("245463984.21")
    for o in out:
        parts = sum(D(s["usd"]) for s in o["sections"].values())
        assert parts == D(o["total_usd"]) == sum(D(v) for v in o["order_types"].values())
        assert not any("100x" in w for w in o["warnings"])


def test_firstrade_2020_q2_is_a_tenfold_venue_slip_not_a_100x_report(shared) -> None:
    """README: Q2 2020 has venue rows whose per-100-share rates 'look off by a unit'.

    What the data shows: Apex Clearing's stock rates in Q2 are roughly 10x below its rates in
    the other 2020 quarters, while the report's median rate is in line with the other quarters.
    So the ~100x (dollars-for-cents) check must stay silent on the real reports, and fire when
    the same Q2 report is scaled by 1/100.
    """
    folder = shared / "real-606" / "firstrade"
    reports = {q: _read(folder / f"routing_report_2020q{q}.xml") for q in (1, 2, 3, 4)}
    cells = [c for r in reports.values() for c in a1_cells(r)]
    assert rate_scale_flags(cells) == []

    def apex_median(qtr: int) -> Decimal:
        return statistics.median(
            abs(c.rate)
            for c in a1_cells(reports[qtr])
            if c.rate
            and c.section is not Section.OPTIONS
            and "apex" in (c.venue_name or "").lower()
        )

    others = statistics.median(apex_median(q) for q in (1, 3, 4))
    assert 5 < others / apex_median(2) < 20

    scaled = [
        dataclasses.replace(c, rate=c.rate / 100 if c.rate is not None else None)
        if c.quarter == 2
        else c
        for c in cells
    ]
    flags = rate_scale_flags(scaled)
    assert {(f.quarter, f.section) for f in flags} == {(2, s) for s in Section}
    assert all(D(80) < f.factor < D(200) for f in flags)
