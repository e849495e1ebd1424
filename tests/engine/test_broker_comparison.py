"""Brokers compared quarter by quarter (engine.broker_comparison)."""

from __future__ import annotations

import dataclasses

import polars as pl
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from pfof.engine.broker_comparison import (
    BROKER_QUARTER_COLUMNS,
    broker_quarter_records,
    broker_quarters,
    hhi,
)
from pfof.model.enums import Section
from pfof.model.reports606 import a1_cells
from support.a1_reports import D, report, section, venue


def hand_cells() -> list:
    q1 = report(
        "Hand BD",
        2024,
        1,
        [
            {
                "sp500": section(
                    venue("A", "60.00", market_usd="20.00", market_cph="20.0000"),
                    venue("B", "40.00", market_usd="10.00", market_cph="10.0000"),
                )
            },
            {
                "sp500": section(venue("A", "100.00", market_usd="10.00", market_cph="20.0000")),
                "options": section(venue("O", "100.00", market_usd="-3.00", market_cph="-60.0000")),
            },
        ],
    )
    q2 = report(
        "Hand BD",
        2024,
        2,
        [
            {
                "sp500": section(
                    venue("A", "50.00", market_usd="48.00", market_cph="24.0000"),
                    venue("B", "50.00", market_usd="2.00", market_cph="1.0000"),
                )
            }
        ],
    )
    q4 = report("Hand BD", 2024, 4, [{"sp500": section(venue("A", "100.00", other_usd="1.00"))}])
    return [c for r in (q1, q2, q4) for c in a1_cells(r)]


def test_hand_made_quarters_give_the_expected_totals_rates_top_venue_and_hhi() -> None:
    q1, q2, q4 = broker_quarters(hand_cells())
    assert (q1.year, q1.quarter, q2.quarter, q4.quarter) == (2024, 1, 2, 4)
    assert q1.total_usd == D("37.00")
    assert q1.section_usd[Section.SP500] == D("40.00")
    assert q1.section_usd[Section.OPTIONS] == D("-3.00")
    # stocks: 20/20 + 10/10 + 10/20 = 2.5 hundred-share units... x 10,000 -> 25,000 shares
    assert q1.implied_shares == D(25000)
    # options: -3 / -60 cents per contract = 0.05 -> x 100 -> 5 contracts
    assert q1.implied_contracts == D(5)
    assert q1.section_rate[Section.SP500] == D(16)  # 40 / 2.5
    # venue A paid 30 of 37
    assert q1.top_venue == "A" and q1.top_venue_usd == D("30.00")
    assert q1.top_venue_share is not None and round(q1.top_venue_share, 6) == round(D(30) / 37, 6)
    # HHI: month 1: 60^2 + 40^2 = 5200, month 2: 100^2 -> mean 7600; options only month 2
    assert q1.hhi[Section.SP500] == D(7600)
    assert q1.hhi[Section.OPTIONS] == D(10000)
    assert q1.hhi[Section.OTHER_STOCKS] is None
    assert q1.qoq_change_usd is None
    # Q2: 50 vs 37 -> +13 (+35.14 %)
    assert q2.qoq_change_usd == D("13.00")
    assert q2.to_json()["qoq_change_pct"] == "35.14"
    assert q2.hhi[Section.SP500] == D(5000)
    # Q4 follows Q2: no Q3, so no quarter-over-quarter change
    assert q4.qoq_change_usd is None and q4.qoq_change_pct is None
    assert q4.section_rate[Section.SP500] is None


def test_qoq_change_reaches_back_across_the_year_end() -> None:
    cells = [
        c
        for year, qtr, usd in ((2023, 4, "10.00"), (2024, 1, "15.00"))
        for c in a1_cells(report("Y", year, qtr, [{"sp500": section(venue("A", market_usd=usd))}]))
    ]
    _, q1 = broker_quarters(cells)
    assert (q1.year, q1.quarter, q1.qoq_change_usd) == (2024, 1, D("5.00"))


def test_broker_quarters_from_arrow_and_polars_equal_those_from_cells() -> None:
    cells = hand_cells()
    rows = [dataclasses.asdict(c) for c in cells]
    for row in rows:
        row["section"] = row["section"].value
        row["order_type"] = row["order_type"].value
    arrow = pa.Table.from_pylist(rows)
    expected = [bq.to_json() for bq in broker_quarters(cells)]
    assert [bq.to_json() for bq in broker_quarters(arrow)] == expected
    assert [bq.to_json() for bq in broker_quarters(pl.from_arrow(arrow))] == expected
    assert broker_quarter_records(arrow) == expected
    assert tuple(expected[0]) == BROKER_QUARTER_COLUMNS


def test_top_venue_share_is_null_when_broker_pays_net() -> None:
    rep = report(
        "Payer",
        2024,
        1,
        [{"sp500": section(venue("X", market_usd="-5.00"), venue("Y", market_usd="1.00"))}],
    )
    (bq,) = broker_quarters(list(a1_cells(rep)))
    assert bq.top_venue == "Y" and bq.top_venue_share is None


@given(st.integers(min_value=1, max_value=40))
def test_hhi_of_n_equal_shares_is_10000_over_n(n: int) -> None:
    assert hhi([D(100) / n] * n).quantize(D("0.0001")) == (D(10000) / n).quantize(D("0.0001"))


def test_amounts_far_beyond_the_format_still_sum_exactly_and_render() -> None:
    """A store written before pfof refused oversized amounts may hold 28-digit ones: the
    comparison sums them exactly and every record renders (today: decimal.InvalidOperation)."""
    huge = "9" * 28 + ".99"
    cells = a1_cells(
        report(
            "Old Store BD",
            2020,
            1,
            [{"sp500": section(venue("A", "50.00", market_usd=huge, market_cph="1.0000"))}] * 2,
        )
    )
    (record,) = broker_quarter_records(list(cells))
    assert record["total_usd"] == "1" + "9" * 28 + ".98" and record["sp500_rate"] == "1.0000"
    assert record["implied_shares"] == "1" + "9" * 28 + "9800"  # usd x 10,000 / rate


def test_venue_percentages_merging_past_an_hhi_of_10000_leave_the_hhi_out_with_a_warning() -> None:
    """Two spellings of one venue at 80 % each merge into one venue at 160 %: HHI 25,600."""
    month = {
        "sp500": section(
            venue("Wolverine Execution Services, LLC", "80.00", market_usd="1.00"),
            venue("Wolverine Executions Services,LLC", "80.00", market_usd="1.00"),
        ),
        "other_stocks": section(venue("B", "100.00", market_usd="1.00")),
    }
    (bq,) = broker_quarters(list(a1_cells(report("HHI BD", 2024, 1, [month]))))
    assert bq.hhi[Section.SP500] is None and bq.hhi[Section.OTHER_STOCKS] == D(10_000)
    (warning,) = bq.warnings
    assert "venue-hhi" in warning and "25600.00" in warning and "month 1" in warning
