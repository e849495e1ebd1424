"""Execution venues pfof knows by code: ISO 10383 MICs of US equity and options exchanges,
well-known off-exchange venues, and the non-ISO codes brokers put in 606 ``mic`` elements.

Used to warn about non-ISO ``mic`` values, to normalise venue identities across reports and to
name the simulator's exchanges. Sources: the ISO 10383 MIC registry (iso20022.org) as of 2025.
"""

from __future__ import annotations

#: ISO 10383 MIC -> venue name (segment MICs of US exchanges and their options markets).
ISO_MICS: dict[str, str] = {
    # equities
    "XNYS": "New York Stock Exchange",
    "ARCX": "NYSE Arca",
    "XASE": "NYSE American",
    "XCHI": "NYSE Chicago",
    "XCIS": "NYSE National",
    "XNAS": "Nasdaq Stock Market",
    "XBOS": "Nasdaq BX",
    "XPHL": "Nasdaq PSX",
    "BATS": "Cboe BZX Exchange",
    "BATY": "Cboe BYX Exchange",
    "EDGA": "Cboe EDGA Exchange",
    "EDGX": "Cboe EDGX Exchange",
    "IEXG": "Investors Exchange",
    "MEMX": "Members Exchange",
    "EPRL": "MIAX Pearl Equities",
    "LTSE": "Long-Term Stock Exchange",
    "XBXO": "Nasdaq BX Options",
    # options
    "XCBO": "Cboe Options Exchange",
    "C2OX": "Cboe C2 Options",
    "BATO": "Cboe BZX Options",
    "EDGO": "Cboe EDGX Options",
    "XISX": "Nasdaq ISE",
    "GMNI": "Nasdaq GEMX",
    "MCRY": "Nasdaq MRX",
    "XPHO": "Nasdaq PHLX Options",
    "XNDQ": "Nasdaq Options Market",
    "AMXO": "NYSE American Options",
    "ARCO": "NYSE Arca Options",
    "XMIO": "MIAX Options",
    "MPRL": "MIAX Pearl Options",
    "EMLD": "MIAX Emerald",
    "XBOX": "BOX Options Exchange",
    "MXOP": "MIAX Sapphire",
    # off-exchange (FINRA TRF / ATS)
    "FINY": "FINRA/NYSE Trade Reporting Facility",
    "XADF": "FINRA Alternative Display Facility",
}

#: Codes brokers commonly report in ``mic`` that are not ISO MICs, with the ISO MIC meant.
NON_ISO_ALIASES: dict[str, str] = {
    "NYSE": "XNYS",
    "ARCA": "ARCX",
    "AMEX": "XASE",
    "CBOE": "XCBO",
}


def is_iso_mic(code: str) -> bool:
    """True when ``code`` is a MIC pfof knows from the ISO 10383 registry."""
    return code in ISO_MICS
