"""The venue codes of market-data feeds, mapped to the ISO 10383 MICs pfof uses, in one place.

Each feed names the venue of a quote or a trade its own way: TAQ and the SIPs by a one-letter
participant id (``N`` = NYSE), Polygon/Massive by a number (``10`` = NYSE), Databento by a
publisher id naming dataset and venue (``9`` = ``XNYS.PILLAR.XNYS``). The readers in
``pfof.formats`` translate them here. Sources: the CTA/UTP participant lists, the Polygon/Massive
``/v3/reference/exchanges`` table and Databento's publisher list (``databento-dbn``), as of 2025.

Where feeds disagree pfof picks one MIC per venue: Nasdaq PSX is ``XPHL`` (Polygon's MIC; the
simulator's too), not Databento's ``XPSX``. The FINRA facility (TAQ ``D``, Polygon ``4``)
carries both the Alternative Display Facility's quotes and the trade reporting facilities'
off-exchange prints; without the facility id they are all ``XADF``.
"""

from __future__ import annotations

__all__ = [
    "DATABENTO_CONSOLIDATED",
    "DATABENTO_VENUES",
    "POLYGON_EXCHANGES",
    "TAQ_EXCHANGES",
]

#: (MIC, CTA/UTP participant letter as in TAQ's ``EX``, Polygon/Massive exchange id).
_US_EQUITY_VENUES: tuple[tuple[str, str | None, int | None], ...] = (
    ("XASE", "A", 1),  # NYSE American
    ("XBOS", "B", 2),  # Nasdaq BX
    ("XCIS", "C", 3),  # NYSE National
    ("XADF", "D", 4),  # FINRA ADF and trade reporting facilities
    ("XISE", "I", 6),  # Nasdaq ISE (equities)
    ("EDGA", "J", 7),  # Cboe EDGA
    ("EDGX", "K", 8),  # Cboe EDGX
    ("XCHI", "M", 9),  # NYSE Chicago (NYSE Texas)
    ("XNYS", "N", 10),  # New York Stock Exchange
    ("ARCX", "P", 11),  # NYSE Arca
    ("XNAS", "T", 12),  # Nasdaq
    ("LTSE", "L", 14),  # Long-Term Stock Exchange
    ("IEXG", "V", 15),  # Investors Exchange
    ("CBSX", "W", 16),  # Cboe Stock Exchange (closed 2017)
    ("XPHL", "X", 17),  # Nasdaq PSX
    ("BATY", "Y", 18),  # Cboe BYX
    ("BATS", "Z", 19),  # Cboe BZX
    ("EPRL", "H", 20),  # MIAX Pearl Equities
    ("MEMX", "U", 21),  # Members Exchange
    ("24EQ", "G", 22),  # 24X National Exchange
    ("TXSE", "F", 23),  # Texas Stock Exchange
    ("OOTC", None, 62),  # FINRA OTC reporting facility
    ("FINY", None, 201),  # FINRA/NYSE TRF
    ("FINN", None, 202),  # FINRA/Nasdaq TRF Carteret
    ("FINC", None, 203),  # FINRA/Nasdaq TRF Chicago
)

#: TAQ exchange letter (``EX``) -> MIC. ``Q`` is Nasdaq's letter on Nasdaq-listed (tape C)
#: quotes in older TAQ files; ``S`` and ``E`` (the SIPs themselves) are no venue.
TAQ_EXCHANGES: dict[str, str] = {
    **{letter: mic for mic, letter, _ in _US_EQUITY_VENUES if letter},
    "Q": "XNAS",
}

#: Polygon/Massive exchange id (``exchange``, ``bid_exchange``, ``ask_exchange``,
#: ``trf_id``) -> MIC. Ids 5 and 13 (the UTP and CTA SIPs) are no venue.
POLYGON_EXCHANGES: dict[int, str] = {
    pid: mic for mic, _, pid in _US_EQUITY_VENUES if pid is not None
}

#: Databento publisher ids in runs: (first id, the venue of it and of each following id).
#: Venues are pfof's MICs; the codes of :data:`DATABENTO_CONSOLIDATED` are no single venue.
_DATABENTO_RUNS: tuple[tuple[int, str], ...] = (
    # 2-19: one exchange feed each (XNAS.ITCH, ..., XNYS.TRADES.FINY)
    (
        2,
        "XNAS XBOS XPHL BATS BATY EDGA EDGX XNYS XCIS XASE XCHI XCIS XCIS MEMX EPRL FINN FINC FINY",
    ),
    # 20-37: OPRA.PILLAR, per options exchange
    (
        20,
        "AMXO XBOX XCBO EMLD EDGO GMNI XISX MCRY XMIO ARCO OPRA MPRL XNDQ XBXO C2OX XPHO BATO MXOP",
    ),
    # 38-47: IEXG.TOPS, DBEQ.BASIC, ARCX.PILLAR, XNYS.BBO/TRADES, XNAS.QBBO/NLS
    (38, "IEXG XCHI XCIS IEXG EPRL ARCX XNYS XNYS XNAS XNAS"),
    # 48-56: EQUS.PLUS per venue
    (48, "XCHI XCIS IEXG EPRL XNAS XNYS FINN FINY FINC"),
    # 59-61: DBEQ.BASIC and EQUS.PLUS consolidated, OPRA MIAX Sapphire
    (59, "DBEQ EQUS SPHR"),
    # 62-83: EQUS.ALL per venue, then XNAS.BASIC
    (
        62,
        "XCHI XCIS IEXG EPRL XNAS XNYS FINN FINY FINC BATS BATY EDGA EDGX XBOS XPHL MEMX XASE "
        "ARCX LTSE XNAS FINN FINC",
    ),
    # 86-96: XNAS.NLS/BASIC, EQUS.SUMMARY, TRADESBBO feeds, consolidated EQUS feeds
    (86, "XBOS XPHL XBOS XPHL EQUS XCIS XNYS EQUS EQUS EQUS EQUS"),
    # 108-109: OPRA MIAX/IEX options
    (108, "MXTO IEXO"),
    # 111-135: EQUS.SIP per participant, then the CTA and UTP SIPs themselves
    (
        111,
        "XASE XBOS XCIS TXSE 24EQ EPRL XISE EDGA EDGX LTSE XCHI XNYS ARCX XNAS MEMX IEXG XPHL "
        "BATY BATS FINN FINY FINC XADF CTA UTP",
    ),
)

#: Databento publisher id -> venue (pfof MIC, or a code of :data:`DATABENTO_CONSOLIDATED`).
DATABENTO_VENUES: dict[int, str] = {
    first + k: venue for first, venues in _DATABENTO_RUNS for k, venue in enumerate(venues.split())
}

#: Databento venue codes that mean "consolidated over several venues": records of these
#: publishers are a best bid and offer across venues (an NBBO), not one venue's quote.
DATABENTO_CONSOLIDATED: frozenset[str] = frozenset({"EQUS", "DBEQ", "OPRA", "CTA", "UTP"})
