"""One identity per firm and venue across the spellings brokers' 606 reports use.

Brokers spell the same venue differently from quarter to quarter ("Wolverine Executions
Services,LLC", "Wolverine Execution Services, LLC") and sometimes put a non-ISO code in
``mic``. Comparisons across reports (payments per venue, venue concentration, a broker's
quarters) need one key per venue and per broker: a venue is keyed by its MIC, else its MPID,
else its normalised name (:func:`venue_key`); a broker by its normalised name
(:func:`broker_key`). :class:`VenueResolver` also attaches code-less rows to the one code their
name was seen with, and picks each venue's display name.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pfof.engine.cell_input import CellSource, as_cells
from pfof.model.mics import NON_ISO_ALIASES, is_iso_mic
from pfof.model.names import NAME_ALIASES, broker_key, normalise_name
from pfof.model.reports606 import A1Cell

__all__ = [
    "NAME_ALIASES",
    "VenueResolver",
    "VenueSpelling",
    "broker_key",
    "mic_code",
    "normalise_name",
    "spelling_notes",
    "venue_key",
    "venue_mapping",
]

_MIC = re.compile(r"^[A-Z0-9]{4}$")

Spelling = tuple[str | None, str | None, str | None]  # (venue name, mic, mpid) as reported


def mic_code(code: str | None) -> str | None:
    """The MIC a reported ``mic`` stands for, or ``None`` when it is not MIC-like.

    Registered ISO 10383 codes pass; common non-ISO stand-ins (``NYSE``, ``ARCA``...) become
    the MIC they mean; other four-character codes are kept as reported (pfof's registry only
    covers US venues, so an unknown code may still be a real MIC).
    """
    if not code or not code.strip():
        return None
    code = code.strip().upper()
    code = NON_ISO_ALIASES.get(code, code)
    return code if is_iso_mic(code) or _MIC.match(code) else None


def venue_key(name: str | None, mic: str | None, mpid: str | None) -> str:
    """Identity of a venue from one row: ``mic:XXXX``, else ``mpid:XXXX``, else ``name:...``."""
    code = mic_code(mic)
    if code is not None:
        return f"mic:{code}"
    if mpid and mpid.strip():
        return f"mpid:{mpid.strip().upper()}"
    return f"name:{normalise_name(name)}"


@dataclass(frozen=True, slots=True)
class VenueSpelling:
    """One raw (name, mic, mpid) spelling and the canonical venue it maps to."""

    name: str | None
    mic: str | None
    mpid: str | None
    key: str
    canonical_name: str
    cells: int
    quarters: tuple[tuple[int, int], ...]


class VenueResolver:
    """Map raw venue spellings to one canonical key and display name.

    MIC (when ISO-shaped) wins, then MPID, then the normalised name. A row with neither code is
    attached to a code-keyed venue when its normalised name was seen with exactly one code;
    names seen with several codes stay name-keyed rather than being merged by guess.
    """

    def __init__(self, cells: Iterable[A1Cell]) -> None:
        spellings: Counter[Spelling] = Counter()
        quarters: defaultdict[Spelling, set[tuple[int, int]]] = defaultdict(set)
        for cell in cells:
            raw = (cell.venue_name, cell.mic, cell.mpid)
            spellings[raw] += 1
            quarters[raw].add((cell.year, cell.quarter))
        codes_by_name: defaultdict[str, set[str]] = defaultdict(set)
        for name, mic, mpid in spellings:
            key = venue_key(name, mic, mpid)
            if not key.startswith("name:") and normalise_name(name):
                codes_by_name[normalise_name(name)].add(key)
        self._keys: dict[Spelling, str] = {}
        for raw in spellings:
            key = venue_key(*raw)
            if key.startswith("name:"):
                codes = codes_by_name.get(key[5:], set())
                if len(codes) == 1:
                    key = next(iter(codes))
            self._keys[raw] = key
        # display name: the spelling used most recently (names evolve), then the most used one
        rank: defaultdict[str, dict[str, tuple[tuple[int, int], int]]] = defaultdict(dict)
        for raw, count in spellings.items():
            if raw[0]:
                seen = rank[self._keys[raw]]
                latest, total = seen.get(raw[0], ((0, 0), 0))
                seen[raw[0]] = (max(latest, max(quarters[raw])), total + count)
        self._names = {
            key: max(names.items(), key=lambda item: (item[1], item[0]))[0]
            for key, names in rank.items()
        }
        self._spellings = spellings
        self._quarters = quarters

    def key(self, name: str | None, mic: str | None, mpid: str | None) -> str:
        """The canonical key of one spelling (of a venue seen or not)."""
        raw = (name, mic, mpid)
        return self._keys.get(raw) or venue_key(*raw)

    def name(self, key: str) -> str:
        """The display name of a canonical key: its latest, then most used, spelling."""
        return self._names.get(key, key.split(":", 1)[1])

    def mapping(self, *, only_merged: bool = False) -> list[VenueSpelling]:
        """Raw spellings with their canonical key; ``only_merged``: keys with 2+ spellings."""
        per_key = Counter(self._keys.values())
        rows = [
            VenueSpelling(
                name=raw[0],
                mic=raw[1],
                mpid=raw[2],
                key=key,
                canonical_name=self.name(key),
                cells=self._spellings[raw],
                quarters=tuple(sorted(self._quarters[raw])),
            )
            for raw, key in self._keys.items()
            if not only_merged or per_key[key] > 1
        ]
        return sorted(rows, key=lambda r: (r.key, r.name or "", r.mic or "", r.mpid or ""))


def venue_mapping(cells: CellSource, *, only_merged: bool = True) -> list[VenueSpelling]:
    """The raw venue spellings that were merged under one canonical venue (or all of them)."""
    return VenueResolver(as_cells(cells)).mapping(only_merged=only_merged)


def spelling_notes(cells: Iterable[A1Cell], resolver: VenueResolver) -> list[str]:
    """One note per venue spelling in ``cells`` that differs from its venue's display name
    (the same venue spelled differently elsewhere), so that merges are never silent."""
    notes = []
    seen = set()
    for cell in cells:
        raw = (cell.venue_name, cell.mic, cell.mpid)
        if raw in seen:
            continue
        seen.add(raw)
        key = resolver.key(*raw)
        canonical = resolver.name(key)
        if cell.venue_name and cell.venue_name != canonical:
            notes.append(
                f"venue {cell.venue_name!r} counted as {canonical!r} ({key}): "
                "the same venue, spelled differently elsewhere"
            )
    return notes
