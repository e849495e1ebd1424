"""One spelling-insensitive key per firm name, shared by the store (report identity) and the
engine (venue and broker identity across reports).

Brokers spell their own name and their venues' names differently from quarter to quarter
("FIRSTRADE SECURITIES INC." and "Firstrade Securities"); :func:`normalise_name` maps such
spellings to one key, and :func:`broker_key` is the identity of a report's ``<bd>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["NAME_ALIASES", "broker_key", "normalise_name"]

_SUFFIXES = frozenset(
    "llc lc inc incorporated corp corporation co company lp llp ltd limited plc the na".split()
)
#: Distinct legal names for the same firm that no spelling rule could merge (normalised form ->
#: normalised canonical form). Kept tiny and explicit on purpose: merging distinct venues is
#: worse than leaving two spellings apart.
NAME_ALIASES: Mapping[str, str] = {
    # Citadel Securities LLC ran its retail wholesale business as "Citadel Execution Services".
    "citadel execution service": "citadel securitie",
}


@lru_cache(maxsize=65_536)
def normalise_name(name: str | None) -> str:
    """A spelling-insensitive key for a firm or venue name.

    Case-folded, accents and punctuation dropped, corporate suffixes (LLC, Inc., Corp., L.P.,
    Co., Ltd., a leading "The") removed and a plural ``s`` trimmed from longer words, so that
    "Wolverine Executions Services,LLC" and "Wolverine Execution Services, LLC" agree while
    "Nasdaq Execution Services" and "The Nasdaq Stock Market" stay apart. Cached: a store
    repeats a few hundred names over every cell.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = text.replace("&", " ")
    # dotted abbreviations: "L.P." -> "lp", "l.l.c" -> "llc", "N.A." -> "na"
    text = re.sub(r"\b[a-z](?:\.[a-z])+\b\.?", lambda m: m.group().replace(".", ""), text)
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    while words and words[-1] in _SUFFIXES:
        words.pop()
    if words and words[0] == "the":
        words.pop(0)
    words = [
        w[:-1] if len(w) >= 5 and w.endswith("s") and not w.endswith("ss") else w for w in words
    ]
    key = " ".join(words)
    return NAME_ALIASES.get(key, key)


def broker_key(bd: str) -> str:
    """Identity of a broker (the report's ``<bd>``): its normalised name."""
    return normalise_name(bd)
