"""A broker's 606 routing joined to its venues' 605 price improvement, checked against sums
worked out by hand in each test."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pyarrow as pa
import pytest

from pfof.engine.broker_quality import (
    ALL,
    QUALITY_COLUMNS,
    VenueQualityIndex,
    broker_quality,
    estimate_quality,
    measured_improvement,
)
from pfof.errors import InputError, ParameterError
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import A1Cell

D = Decimal
SP, OTHER = Section.SP500, Section.OTHER_STOCKS
MKT, MLT = OrderType.MARKET, OrderType.MARKETABLE_LIMIT
#: (name, mic, mpid) of the venues: one matched by MPID, one by MIC, one without 605 data.
ALPHA = ("Alpha Securities LLC", None, "ALFA")
BETA = ("Beta Exchange", "XBTA", None)
GAMMA = ("Gamma Markets", None, "GAMA")


def cell(
    venue: tuple[str | None, str | None, str | None],
    section: Section,
    order_type: OrderType,
    routed_pct: str | None,
    usd: str | None = None,
    rate: str | None = None,
    *,
    month: int = 10,
    broker: str = "Broker X",
    index: int = 1,
) -> A1Cell:
    name, mic, mpid = venue
    return A1Cell(
        broker=broker,
        year=2026,
        quarter=4,
        month=month,
        section=section,
        venue_name=name,
        mic=mic,
        mpid=mpid,
        order_type=order_type,
        venue_pct=None,
        routed_pct=None if routed_pct is None else D(routed_pct),
        net_payment_usd=None if usd is None else D(usd),
        rate=None if rate is None else D(rate),
        venue_index=index,
    )


def stat(
    center: str, order_type: str, sp500: bool | None, shares: str, pi: str, month: str = "2026-10"
) -> dict[str, object]:
    return {
        "market_center": center,
        "month": month,
        "order_type": order_type,
        "sp500": sp500,
        "executed_shares": D(shares),
        "net_price_improvement_cents_per_share": D(pi),
    }


#: ALFA files amended summaries (S&P 500 flag); XBTA a legacy report (no flag).
STATS = [
    stat("ALFA", "market", True, "1000", "2.5"),
    stat("ALFA", "market", False, "500", "1.0"),
    stat("XBTA", "market", None, "2000", "0.4"),
]
CELLS = [
    # S&P 500 market orders: 60 % Alpha, 30 % Beta, 10 % Gamma (no 605 data)
    cell(ALPHA, SP, MKT, "60", "120", "12", index=1),
    cell(BETA, SP, MKT, "30", index=2),
    cell(GAMMA, SP, MKT, "10", "30", "15", index=3),
    # other stocks, market orders: half Alpha, half Beta
    cell(ALPHA, OTHER, MKT, "50", "40", "10", index=1),
    cell(BETA, OTHER, MKT, "50", index=2),
    # S&P 500 marketable limit orders all to Alpha, which reports no such orders
    cell(ALPHA, SP, MLT, "100", "10", "10", index=1),
]


def _row(rows, section: str, order_type: str):
    (found,) = [r for r in rows if (r.section, r.order_type) == (section, order_type)]
    return found


def _close(value: Decimal | None, expected: Fraction) -> None:
    assert value is not None
    assert abs(Fraction(value) - expected) < Fraction(1, 10**40), (value, float(expected))


def test_two_venues_weighted_by_routed_share_with_an_unmatched_one() -> None:
    rows = estimate_quality(CELLS, STATS)
    sp = _row(rows, "sp500", "market")
    # 605: Alpha improves S&P 500 market orders by 2.5 c/share, Beta all stocks by 0.4;
    # weights 60 and 30 of the 100 % listed: (60 * 2.5 + 30 * 0.4) / 90 = 1.8 c/share
    _close(sp.pi_cents_per_100, Fraction(180))
    _close(sp.coverage, Fraction(90, 100))
    # PFOF: $150 over 120/12 + 30/15 = 12 (x 10,000 shares) -> 12.5 c per 100 shares
    _close(sp.pfof_cents_per_100, Fraction(25, 2))
    _close(sp.pi_per_pfof_dollar, Fraction(180) / Fraction(25, 2))
    assert [(u.name, u.key, u.routed_pct) for u in sp.unmatched] == [
        ("Gamma Markets", "mpid:GAMA", D(10))
    ]
    assert sp.months == ("2026-10",)
    assert sp.all_stock_venues == ("Beta Exchange",)
    assert any("no S&P 500 flag" in note for note in sp.notes)

    other = _row(rows, "other_stocks", "market")
    # Alpha's non-S&P row (1.0) and Beta's all-stock row (0.4), half each -> 0.7 c/share
    _close(other.pi_cents_per_100, Fraction(70))
    _close(other.coverage, Fraction(1))
    _close(other.pfof_cents_per_100, Fraction(10))
    assert other.unmatched == ()

    limit = _row(rows, "sp500", "marketable_limit")
    assert limit.pi_cents_per_100 is None and limit.coverage == 0
    assert limit.pi_per_pfof_dollar is None
    assert [u.name for u in limit.unmatched] == ["Alpha Securities LLC"]

    combined = _row(rows, ALL, ALL)
    # groups weighted by implied shares (usd / rate): 12, 4 and 1; the limit group has no
    # estimate: (12 * 180 + 4 * 70) / 16 = 152.5; coverage (12 * .9 + 4 * 1 + 1 * 0) / 17
    _close(combined.pi_cents_per_100, Fraction(305, 2))
    _close(combined.coverage, Fraction(148, 170))
    # $120 + $30 + $40 + $10 over 12 + 4 + 1
    _close(combined.pfof_cents_per_100, Fraction(200, 17))
    assert {u.name for u in combined.unmatched} == {"Gamma Markets", "Alpha Securities LLC"}
    assert [(r.section, r.order_type) for r in rows] == [
        ("sp500", "market"),
        ("sp500", "marketable_limit"),
        ("other_stocks", "market"),
        (ALL, ALL),
    ]


def test_months_weigh_by_their_routed_percentages() -> None:
    stats = [*STATS, stat("ALFA", "market", True, "100", "3.0", month="2026-11")]
    cells = [*CELLS, cell(ALPHA, SP, MKT, "100", month=11)]
    sp = _row(estimate_quality(cells, stats), "sp500", "market")
    # October as above (60 * 2.5 + 30 * 0.4 = 162 over 90) plus November 100 * 3.0 over 100
    _close(sp.pi_cents_per_100, Fraction(100 * 462, 190))
    _close(sp.coverage, Fraction(190, 200))
    assert sp.months == ("2026-10", "2026-11")


def test_rows_of_one_key_combine_share_weighted_and_sp500_rows_win_over_unflagged() -> None:
    stats = [
        stat("ALFA", "market", True, "1000", "2.0"),
        stat("ALFA", "market", True, "3000", "1.0"),  # (2000 + 3000) / 4000 = 1.25
        stat("ALFA", "market", None, "9000", "9.0"),  # a detailed file: ignored for S&P 500
        stat("ALFA", "market", True, "0", "50"),  # no executed shares: no statistic
    ]
    rows = estimate_quality([cell(ALPHA, SP, MKT, "80", "8", "10")], stats)
    sp = _row(rows, "sp500", "market")
    _close(sp.pi_cents_per_100, Fraction(125))
    assert sp.all_stock_venues == () and sp.notes == []
    # for other stocks the unflagged rows stand in
    rows = estimate_quality([cell(ALPHA, OTHER, MKT, "80", "8", "10")], stats)
    _close(_row(rows, "other_stocks", "market").pi_cents_per_100, Fraction(900))


def test_venues_match_by_mic_mpid_or_name_and_spellings_merge() -> None:
    stats = [
        stat("XBTA", "market", None, "10", "1"),
        stat("ALFA", "market", None, "10", "2"),
        stat("DELTA", "market", None, "10", "4"),  # a five-letter code: no MIC, named so
    ]
    cells = [
        cell(("Beta Exchange, Inc.", "XBTA", None), SP, MKT, "25", index=1),
        cell(("ALPHA SECURITIES", None, "alfa"), SP, MKT, "25", index=2),
        cell(("Delta", None, None), SP, MKT, "25", index=3),
        cell(("Epsilon", None, None), SP, MKT, "25", index=4),
    ]
    sp = _row(estimate_quality(cells, stats), "sp500", "market")
    _close(sp.pi_cents_per_100, Fraction(100 * (1 + 2 + 4), 3))
    _close(sp.coverage, Fraction(3, 4))
    assert [(u.name, u.key) for u in sp.unmatched] == [("Epsilon", "name:epsilon")]


def test_a_venue_without_codes_takes_the_code_its_name_has_elsewhere() -> None:
    cells = [
        cell(("Alpha Securities LLC", None, "ALFA"), SP, MKT, "50", month=10),
        cell(("Alpha Securities, LLC", None, None), SP, MKT, "50", month=11),
    ]
    stats = [stat("ALFA", "market", True, "10", "1", month=m) for m in ("2026-10", "2026-11")]
    sp = _row(estimate_quality(cells, stats), "sp500", "market")
    _close(sp.coverage, Fraction(1))


def test_broker_quarters_without_605_data_give_no_rows() -> None:
    stats = [stat("ALFA", "market", True, "10", "1", month="2026-07")]  # another quarter
    assert estimate_quality(CELLS, stats) == []
    other = [cell(GAMMA, SP, MKT, "100", broker="Broker Y")]
    rows = estimate_quality([*CELLS, *other], STATS)
    assert {r.broker for r in rows} == {"Broker X"}


def test_options_and_other_order_types_are_left_out() -> None:
    cells = [
        cell(ALPHA, Section.OPTIONS, MKT, "100", "5", "50"),
        cell(ALPHA, SP, OrderType.NON_MARKETABLE_LIMIT, "100", "5", "20"),
        cell(ALPHA, SP, MKT, "100", "1", "10"),
    ]
    rows = estimate_quality(cells, STATS)
    assert [(r.section, r.order_type) for r in rows] == [("sp500", "market"), (ALL, ALL)]
    _close(rows[1].pfof_cents_per_100, Fraction(10))  # the market orders' rate only


def test_a_broker_without_payments_gets_group_estimates_but_no_combined_one() -> None:
    rows = estimate_quality([cell(ALPHA, SP, MKT, "100")], STATS)
    sp, combined = _row(rows, "sp500", "market"), _row(rows, ALL, ALL)
    _close(sp.pi_cents_per_100, Fraction(250))
    assert sp.pfof_cents_per_100 is None and sp.pi_per_pfof_dollar is None
    assert combined.pi_cents_per_100 is None and combined.notes


def test_json_record_rounds_only_at_output_and_accepts_an_arrow_table() -> None:
    table = pa.Table.from_pylist(
        [{**s, "executed_shares": str(s["executed_shares"])} for s in STATS]
    )
    rows = estimate_quality(CELLS, VenueQualityIndex(table))
    record = _row(rows, "sp500", "market").to_json()
    assert tuple(record) == QUALITY_COLUMNS
    assert record["pi_cents_per_100_shares"] == "180.0000"
    assert record["pfof_cents_per_100_shares"] == "12.5000"
    assert record["pi_per_pfof_dollar"] == "14.4000"
    assert record["coverage_pct"] == "90.00"
    assert record["unmatched_venues"] == [
        {"venue": "Gamma Markets", "key": "mpid:GAMA", "routed_pct": "10.00"}
    ]
    combined = _row(rows, ALL, ALL).to_json()
    assert combined["coverage_pct"] == "87.06"  # 148 / 170
    assert combined["unmatched_venues"][0]["routed_pct"] is None


def test_bad_statistics_and_arguments_are_refused() -> None:
    with pytest.raises(InputError, match="executed_shares"):
        VenueQualityIndex([{**STATS[0], "executed_shares": "many"}])
    with pytest.raises(InputError, match="market_center"):
        VenueQualityIndex([{**STATS[0], "market_center": None}])
    with pytest.raises(ParameterError):
        broker_quality(CELLS)
    with pytest.raises(ParameterError):
        broker_quality(CELLS, STATS, broker="Broker X")


def test_exact_numerators_win_and_rows_without_shares_count_only_alone() -> None:
    stats = [
        # net_pi_numerator_cents / net_pi_shares = 300 / 200 = 1.5, whatever the rounded ratio
        {
            **stat("ALFA", "market", True, "999", "1.4999"),
            "net_pi_numerator_cents": D(300),
            "net_pi_shares": D(200),
        },
        # a summary row of the same center and month (no share counts): ignored
        {**stat("ALFA", "market", True, "1", "9"), "executed_shares": None},
        # a center with only summary rows: its figure stands alone
        {**stat("XBTA", "market", True, "1", "0.5"), "executed_shares": None},
    ]
    cells = [cell(ALPHA, SP, MKT, "50", index=1), cell(BETA, SP, MKT, "50", index=2)]
    sp = _row(estimate_quality(cells, stats), "sp500", "market")
    _close(sp.pi_cents_per_100, Fraction(100 * (50 * Fraction(3, 2) + 50 * Fraction(1, 2)), 100))


def _orders_and_quality() -> tuple[pa.Table, pa.Table]:
    orders = pa.Table.from_pylist(
        [
            {"order_id": "a", "directed": False, "held": True},
            {"order_id": "b", "directed": False, "held": True},
            {"order_id": "c", "directed": False, "held": True},
            {"order_id": "d", "directed": True, "held": True},  # directed: not in the 606 share
            {"order_id": "e", "directed": False, "held": False},  # not held
            {"order_id": "f", "directed": False, "held": True},
        ]
    )
    row = dict.fromkeys(
        ["order_id", "section", "order_type", "executed_qty", "price_improvement_per_share"]
    )
    quality = pa.Table.from_pylist(
        [
            {
                **row,
                "order_id": "a",
                "section": "sp500",
                "order_type": "market",
                "executed_qty": 100.0,
                "price_improvement_per_share": 0.01,
                "venue": "ALFA",
            },
            {
                **row,
                "order_id": "b",
                "section": "sp500",
                "order_type": "market",
                "executed_qty": 300.0,
                "price_improvement_per_share": 0.002,
                "venue": "XBTA",
            },
            {
                **row,
                "order_id": "c",
                "section": "other_stocks",
                "order_type": "marketable_limit",
                "executed_qty": 50.0,
                "price_improvement_per_share": -0.004,
                "venue": "ALFA",
            },
            {
                **row,
                "order_id": "d",
                "section": "sp500",
                "order_type": "market",
                "executed_qty": 100.0,
                "price_improvement_per_share": 1.0,
                "venue": "ALFA",
            },
            {
                **row,
                "order_id": "e",
                "section": "sp500",
                "order_type": "market",
                "executed_qty": 100.0,
                "price_improvement_per_share": 1.0,
                "venue": "ALFA",
            },
            {
                **row,
                "order_id": "f",
                "section": "sp500",
                "order_type": "non_marketable_limit",
                "executed_qty": 100.0,
                "price_improvement_per_share": 1.0,
                "venue": "ALFA",
            },
        ]
    )
    return orders, quality


def test_measured_improvement_is_share_weighted_over_non_directed_held_orders() -> None:
    orders, quality = _orders_and_quality()
    got = measured_improvement(quality, orders)
    # S&P 500 market: (100 x 1 c + 300 x 0.2 c) / 400 = 0.4 c/share = 40 c per 100 shares
    assert got[("sp500", "market")] == D(40)
    assert got[("other_stocks", "marketable_limit")] == D(-40)
    # all: (100 + 60 - 20) c over 450 shares
    _close(got[(ALL, ALL)], Fraction(140 * 100, 450))
    only = measured_improvement(quality, orders, venues={"ALFA"})
    assert only[("sp500", "market")] == D(100)
    assert set(only) == {("sp500", "market"), ("other_stocks", "marketable_limit"), (ALL, ALL)}


def test_a_group_without_routed_orders_or_payments_gives_no_row() -> None:
    cells = [cell(ALPHA, SP, MKT, "100", index=1), cell(ALPHA, SP, MLT, None, index=1)]
    rows = estimate_quality(cells, STATS)
    assert [(r.section, r.order_type) for r in rows] == [("sp500", "market"), (ALL, ALL)]


def test_marketable_limit_ioc_rows_join_606_marketable_limit_orders_and_stops_do_not() -> None:
    stats = [
        stat("ALFA", "marketable_limit", None, "300", "2.0"),
        stat("ALFA", "marketable_limit_ioc", None, "100", "6.0"),  # (600 + 600) / 400 = 3.0
        stat("ALFA", "stop_marketable_limit", None, "100", "-50"),  # a 606 "other" order
    ]
    rows = estimate_quality([cell(ALPHA, SP, MLT, "100", "1", "10")], stats)
    _close(_row(rows, "sp500", "marketable_limit").pi_cents_per_100, Fraction(300))
