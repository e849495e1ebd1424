"""Venue and broker identity across the spellings of 606 reports (engine.venue_identity)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfof.engine.broker_comparison import broker_quarters
from pfof.engine.venue_identity import (
    VenueResolver,
    broker_key,
    mic_code,
    normalise_name,
    spelling_notes,
    venue_key,
    venue_mapping,
)
from pfof.model.enums import Section
from pfof.model.reports606 import a1_cells
from support.a1_reports import D, report, section, venue

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


def test_broker_key_is_the_normalised_name() -> None:
    assert broker_key("SCALED BROKER, L.L.C.") == broker_key("Scaled Broker LLC") != ""
    assert broker_key("Scaled Broker LLC") == normalise_name("Scaled Broker LLC")


def test_venue_key_prefers_mic_then_mpid_then_name() -> None:
    assert venue_key("Whatever", "XNAS", "NSDQ") == "mic:XNAS"
    assert venue_key("Whatever", "not a mic", "cdrg") == "mpid:CDRG"
    assert venue_key("Citadel Securities, LLC", None, None) == "name:citadel securitie"


def test_non_iso_mic_stand_ins_map_to_the_mic_they_mean() -> None:
    assert venue_key("New York Stock Exchange LLC.", "NYSE", None) == "mic:XNYS"
    assert venue_key("NYSE", " xnys ", None) == "mic:XNYS"
    assert venue_key("Somewhere", "", "  ") == "name:somewhere"


def test_mic_code_keeps_unknown_four_character_codes_and_drops_others() -> None:
    assert mic_code("zzzz") == "ZZZZ"
    assert mic_code("not a mic") is None and mic_code(None) is None


NASDAQ = report(
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


def test_resolver_attaches_code_less_spelling_to_its_unique_mic() -> None:
    resolver = VenueResolver(a1_cells(NASDAQ))
    assert resolver.key("The Nasdaq Stock Market", None, None) == "mic:XNAS"
    # seen with two codes: stays name-keyed instead of being guessed
    assert resolver.key("Nasdaq PHLX LLC", None, None) == "name:nasdaq phlx"
    merged = {(m.name, m.key) for m in resolver.mapping(only_merged=True)}
    assert merged == {
        ("The Nasdaq Stock Market LLC.", "mic:XNAS"),
        ("The Nasdaq Stock Market", "mic:XNAS"),
    }
    # HHI merges the two Nasdaq rows: (50 + 30)^2 + 10^2 + 5^2 + 5^2
    (bq,) = broker_quarters(list(a1_cells(NASDAQ)))
    assert bq.hhi[Section.SP500] == D(6400 + 100 + 25 + 25)


def test_venue_mapping_lists_only_merged_spellings_by_default() -> None:
    cells = list(a1_cells(NASDAQ))
    merged = venue_mapping(cells)
    assert {m.key for m in merged} == {"mic:XNAS"}
    assert len(venue_mapping(cells, only_merged=False)) == 5


def test_spelling_notes_name_each_spelling_counted_under_another_name() -> None:
    cells = list(a1_cells(NASDAQ))
    notes = spelling_notes(cells, VenueResolver(cells))
    assert len(notes) == 1 and "counted as 'The Nasdaq Stock Market LLC.' (mic:XNAS)" in notes[0]
