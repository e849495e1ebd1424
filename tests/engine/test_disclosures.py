"""Rule 606 analytics: per-report summary, broker-quarter comparison, sanity checks."""

from __future__ import annotations

import dataclasses
import json
import statistics
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfof.engine.disclosures import (
    BROKER_QUARTER_COLUMNS,
    SummaryInput,
    VenueResolver,
    as_cells,
    broker_quarters,
    hhi,
    money_str,
    normalise_name,
    payment_weighted_rate,
    rate_scale_flags,
    summarize_a1,
    summarize_files,
    venue_key,
)
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import A1Month, A1Section, A1Venue, HeldOrderRoutingReport, a1_cells

D = Decimal


def venue(
    name: str,
    pct: str | None = None,
    *,
    mic: str | None = None,
    mpid: str | None = None,
    **money: str | None,
) -> A1Venue:
    """A venue; ``money`` keys like ``market_usd="1.00", market_cph="2.0000"``."""
    fields = {
        f"{ot.value}_{kind}": (
            D(money[f"{ot.value}_{kind}"]) if money.get(f"{ot.value}_{kind}") else None
        )
        for ot in OrderType
        for kind in ("pct", "usd", "cph")
    }
    return A1Venue(
        name=name,
        mic=mic,
        mpid=mpid,
        order_pct=D(pct) if pct else None,
        material_aspects="",
        **fields,
    )


def section(*venues: A1Venue) -> A1Section:
    return A1Section(None, None, None, None, None, tuple(venues))


def report(
    bd: str, year: int, qtr: int, months: list[dict[str, A1Section]]
) -> HeldOrderRoutingReport:
    return HeldOrderRoutingReport(
        version="1.3",
        bd=bd,
        year=year,
        qtr=qtr,
        timestamp=None,
        months=tuple(
            A1Month(
                year, 3 * (qtr - 1) + i + 1, m.get("sp500"), m.get("other_stocks"), m.get("options")
            )
            for i, m in enumerate(months)
        ),
    )


# ---------------------------------------------------------------- per-report summary

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


def test_summary_of_hand_checked_report() -> None:
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


# ---------------------------------------------------------------- broker-quarter comparison


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


def test_broker_quarters_hand_checked() -> None:
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


def test_broker_quarters_accepts_arrow_and_polars() -> None:
    cells = hand_cells()
    rows = [dataclasses.asdict(c) for c in cells]
    for row in rows:
        row["section"] = row["section"].value
        row["order_type"] = row["order_type"].value
    arrow = pa.Table.from_pylist(rows)
    expected = [bq.to_json() for bq in broker_quarters(cells)]
    assert [bq.to_json() for bq in broker_quarters(arrow)] == expected
    assert [bq.to_json() for bq in broker_quarters(pl.from_arrow(arrow))] == expected
    assert as_cells(arrow) == cells
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


# ---------------------------------------------------------------- properties


@given(st.integers(min_value=1, max_value=40))
def test_hhi_of_equal_shares(n: int) -> None:
    assert hhi([D(100) / n] * n).quantize(D("0.0001")) == (D(10000) / n).quantize(D("0.0001"))


@given(
    st.decimals(min_value=D("0.0001"), max_value=D("500"), places=4),
    st.lists(
        st.decimals(min_value=D("0.01"), max_value=D("1e7"), places=2), min_size=1, max_size=30
    ),
)
def test_constant_rate_is_its_own_weighted_rate(rate: Decimal, amounts: list[Decimal]) -> None:
    venues = [
        venue(f"V{i}", market_usd=str(a), market_cph=str(rate)) for i, a in enumerate(amounts)
    ]
    cells = list(a1_cells(report("P", 2024, 1, [{"sp500": section(*venues)}])))
    got = payment_weighted_rate(cells)
    assert got is not None and abs(got - rate) < D("1e-30")


NAMES = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=127),
    min_size=1,
    max_size=12,
).filter(lambda w: w.casefold() not in {"the", "llc", "inc", "co", "corp", "lp", "ltd"})


@given(
    st.lists(NAMES, min_size=1, max_size=4),
    st.sampled_from(["", ", LLC", " Inc.", " L.P.", " Corporation", ",LLC"]),
)
def test_name_key_ignores_case_punctuation_and_suffixes(words: list[str], suffix: str) -> None:
    name = " ".join(words)
    assert normalise_name(name) == normalise_name(name.upper() + suffix)
    assert normalise_name(name) == normalise_name("  " + name.replace(" ", " - ") + suffix)


# ---------------------------------------------------------------- venue normalisation


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Wolverine Executions Services,LLC", "Wolverine Execution Services, LLC"),
        ("Apex Clearing", "Apex Clearing Corporation"),
        ("The Nasdaq Stock Market LLC.", "The Nasdaq Stock Market"),
        ("NYSE Arca, Inc .", "NYSE Arca, Inc."),
        ("Citadel Execution Services", "CITADEL SECURITIES LLC"),
        ("Firstrade Securities", "FIRSTRADE SECURITIES INC."),
    ],
)
def test_spellings_of_one_firm_merge(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nasdaq Execution Services, LLC", "The Nasdaq Stock Market"),
        ("G1 Execution Services, LLC", "Wolverine Execution Services, LLC"),
        ("CBOE BZX Exchange", "CBOE BYX Exchange"),
        ("Dash Financial Technologies, LLC", "Dash/IMC Financial Markets"),
        ("Morgan Stanley & Co., LLC", "Morgan Stanley Smith Barney"),
    ],
)
def test_distinct_venues_stay_apart(a: str, b: str) -> None:
    assert normalise_name(a) != normalise_name(b)


def test_venue_key_prefers_mic_then_mpid_then_name() -> None:
    assert venue_key("Whatever", "XNAS", "NSDQ") == "mic:XNAS"
    assert venue_key("Whatever", "not a mic", "cdrg") == "mpid:CDRG"
    assert venue_key("Citadel Securities, LLC", None, None) == "name:citadel securitie"


def test_resolver_attaches_code_less_spelling_to_its_unique_mic() -> None:
    rep = report(
        "R",
        2024,
        1,
        [
            {
                "sp500": section(
                    venue("The Nasdaq Stock Market LLC.", "50", mic="XNAS"),
                    venue("The Nasdaq Stock Market", "30"),
                    venue("Nasdaq PHLX, LLC", "10", mic="XPHL"),
                    venue("Nasdaq PHLX, LLC", "5", mic="PHLX"),
                    venue("Nasdaq PHLX LLC", "5"),
                )
            }
        ],
    )
    resolver = VenueResolver(a1_cells(rep))
    assert resolver.key("The Nasdaq Stock Market", None, None) == "mic:XNAS"
    # seen with two codes: stays name-keyed instead of being guessed
    assert resolver.key("Nasdaq PHLX LLC", None, None) == "name:nasdaq phlx"
    merged = {(m.name, m.key) for m in resolver.mapping(only_merged=True)}
    assert merged == {
        ("The Nasdaq Stock Market LLC.", "mic:XNAS"),
        ("The Nasdaq Stock Market", "mic:XNAS"),
    }
    # HHI merges the two Nasdaq rows: (50 + 30)^2 + 10^2 + 5^2 + 5^2
    (bq,) = broker_quarters(list(a1_cells(rep)))
    assert bq.hhi[Section.SP500] == D(6400 + 100 + 25 + 25)


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


def test_rate_scale_flags_the_other_direction_too() -> None:
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
    return sec606.read_report(path).report


def test_schwab_2020_summaries_total(shared) -> None:
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


def test_non_iso_mic_stand_ins_map_to_the_mic_they_mean() -> None:
    assert venue_key("New York Stock Exchange LLC.", "NYSE", None) == "mic:XNYS"
    assert venue_key("NYSE", " xnys ", None) == "mic:XNYS"
    assert venue_key("Somewhere", "", "  ") == "name:somewhere"


@given(st.decimals(min_value=D("-1e15"), max_value=D("1e15"), places=2))
def test_money_strings_are_exact_and_tidy(amount: Decimal) -> None:
    stored = amount.quantize(D("1e-10"))  # as read back from a DECIMAL(38, 10) column
    assert money_str(stored) == money_str(amount) == format(amount, "f")
    assert D(money_str(stored)) == amount
