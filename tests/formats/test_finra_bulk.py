"""FINRA bulk 606 file names: the filer's CRD and the filing's version (formats.finra_bulk)."""

from __future__ import annotations

import pytest

from pfof.formats.finra_bulk import BulkName, parse_bulk_name


def test_a_bulk_name_gives_crd_period_mpid_and_version_also_inside_archives() -> None:
    expected = BulkName("281065", 2024, 2, "OUTS", 12, "20240731")
    for path in (
        "281065_606_NMS_2024_Q2_OUTS_V12_20240731.xml",
        "/data/finra/281065_606_NMS_2024_Q2_outs_V12_20240731.XML",
        "bulk.zip!2024/inner.zip!0281065_606_NMS_2024_Q2_OUTS_V12_20240731.xml",
        "C:\\reports\\281065_606_NMS_2024_Q2_OUTS_V12_20240731.xml",
    ):
        assert parse_bulk_name(path) == expected, path


@pytest.mark.parametrize(
    "name",
    [
        "606-CHAS-2020Q1.xml",
        "281065_606_NMS_2024_Q2.xml",  # a converter's name: no MPID, version or date
        "12345_606_NMS_2025_Q1_from_pdf.xml",
        "281065_606_NMS_2024_Q5_OUTS_V1_20240731.xml",
        "281065_606_NMS_2024_Q2_OUTS_V1_20240731.xml.bak",
        "281065_606_NMS_2024_Q2_OUTS_V1_20240731.xml/other.xml",
    ],
)
def test_other_names_are_not_bulk_names(name: str) -> None:
    assert parse_bulk_name(name) is None
