"""FINRA's bulk Rule 606(a) files: what their names say about the filer and the version.

FINRA centralises brokers' 606(a) reports (FINRA Rule 6151) and serves them in bulk, one XML
file per filing named ``<CRD>_606_NMS_<YYYY>_Q<n>_<MPID>_V<k>_<date>.xml``: the filer's CRD
number, the period, its MPID and the version of the filing (a refiled report gets the next
``V``). The report itself names the broker only by ``<bd>``, so the CRD tells two filers with
similar names apart and the version orders a filing's restatements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BulkName", "parse_bulk_name"]

_BULK = re.compile(
    r"(?P<crd>[0-9]{1,10})_606_NMS_(?P<year>[0-9]{4})_Q(?P<quarter>[1-4])_"
    r"(?P<mpid>[A-Za-z0-9]{1,12})_V(?P<version>[0-9]{1,6})_(?P<date>[0-9]{6,14})\.xml",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class BulkName:
    """The parts of a FINRA bulk file name."""

    crd: str  # the filer's CRD number, as written (digits)
    year: int
    quarter: int
    mpid: str
    version: int  # the filing's version: V1, V2, ...
    date: str  # the date part as written (YYYYMMDD)


def parse_bulk_name(path: str) -> BulkName | None:
    """The :class:`BulkName` of a file (or archive member) path, ``None`` when its last
    component is not a FINRA bulk file name.

    >>> parse_bulk_name("finra.zip!2024/281065_606_NMS_2024_Q2_OUTS_V2_20240731.xml")
    BulkName(crd='281065', year=2024, quarter=2, mpid='OUTS', version=2, date='20240731')
    """
    name = re.split(r"[/\\!]", path)[-1]
    match = _BULK.fullmatch(name)
    if match is None:
        return None
    return BulkName(
        crd=str(int(match["crd"])),
        year=int(match["year"]),
        quarter=int(match["quarter"]),
        mpid=match["mpid"].upper(),
        version=int(match["version"]),
        date=match["date"],
    )
