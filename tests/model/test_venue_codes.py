"""model.venue_codes: the feeds' venue codes agree with each other on every venue."""

from __future__ import annotations

from pfof.model.venue_codes import (
    DATABENTO_CONSOLIDATED,
    DATABENTO_VENUES,
    POLYGON_EXCHANGES,
    TAQ_EXCHANGES,
)


def test_taq_letters_and_polygon_ids_name_the_same_venues() -> None:
    """The CTA/UTP participant letter and Polygon's id of one exchange give one MIC."""
    pairs = {"A": 1, "B": 2, "C": 3, "D": 4, "J": 7, "K": 8, "M": 9, "N": 10, "P": 11}
    pairs |= {"T": 12, "V": 15, "X": 17, "Y": 18, "Z": 19, "H": 20, "U": 21}
    for letter, pid in pairs.items():
        assert TAQ_EXCHANGES[letter] == POLYGON_EXCHANGES[pid], letter
    assert TAQ_EXCHANGES["N"] == "XNYS" and TAQ_EXCHANGES["Q"] == TAQ_EXCHANGES["T"] == "XNAS"
    assert POLYGON_EXCHANGES[201] == "FINY" and 5 not in POLYGON_EXCHANGES  # the UTP SIP


def test_databento_venues_use_the_same_mics_as_the_other_feeds() -> None:
    exchange_mics = set(TAQ_EXCHANGES.values()) | set(POLYGON_EXCHANGES.values())
    equities = {pid: v for pid, v in DATABENTO_VENUES.items() if not 20 <= pid <= 37}
    equities = {p: v for p, v in equities.items() if p not in (61, 108, 109)}  # options
    for pid, venue in equities.items():
        assert venue in exchange_mics | DATABENTO_CONSOLIDATED, (pid, venue)
    assert DATABENTO_VENUES[2] == "XNAS" and DATABENTO_VENUES[4] == "XPHL"  # Nasdaq PSX
