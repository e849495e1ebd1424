"""Report identity, content digests and the choice of the current edition (store.identity)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from pfof.formats.sec606 import read_606
from pfof.store.identity import (
    Edition,
    content_digest,
    current_editions,
    legacy_report_key,
    report_identity,
)
from support.a1_reports import report, section, venue
from support.report_copies import (
    SCHWAB_Q1_CELL,
    SCHWAB_Q1_RESTATED,
    crlf,
    reindent,
    replace_once,
    retimestamp,
)


def at(day: int) -> datetime:
    return datetime(2024, 1, day, tzinfo=UTC)


def edition(sha: str, *, crd=None, version=None, ts=None, ingested=1, key="k") -> Edition:
    return Edition(sha, key, crd, version, ts, at(ingested))


def test_byte_forms_and_a_new_timestamp_keep_the_digest_a_changed_figure_does_not(
    schwab: Path,
) -> None:
    data = (schwab / "606-CHAS-2020Q1.xml").read_bytes()
    digest = content_digest(read_606(data).report)
    same = [crlf(data), reindent(data), retimestamp(data, "2030-01-01T00:00:00Z")]
    same.append(data.replace(b"<version>1.3</version>", b"<version>1.2</version>"))
    assert {content_digest(read_606(d).report) for d in same} == {digest}
    restated = replace_once(data, SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED)
    assert content_digest(read_606(restated).report) != digest


def test_the_digest_reads_numbers_by_value_and_text_by_its_words() -> None:
    a = report("BD", 2024, 1, [{"sp500": section(venue("A  B", "50.00", market_usd="1.50"))}])
    b = report("BD", 2024, 1, [{"sp500": section(venue("A B", "50.0", market_usd="1.5"))}])
    c = report("BD", 2024, 1, [{"sp500": section(venue("A B", "50.00", market_usd="-1.50"))}])
    assert content_digest(a) == content_digest(b) != content_digest(c)
    assert content_digest(dataclasses.replace(a, timestamp=at(3))) == content_digest(a)


def test_identity_keys_the_broker_by_its_normalised_name_and_takes_the_crd_from_a_bulk_name(
    schwab: Path,
) -> None:
    parsed = read_606(schwab / "606-CHAS-2020Q1.xml").report
    plain = report_identity(parsed, "606-CHAS-2020Q1.xml")
    shouting = report_identity(
        dataclasses.replace(parsed, bd="CHARLES SCHWAB & CO., INC."), "x.zip!a/b.xml"
    )
    bulk = report_identity(parsed, "f.zip!5393_606_NMS_2020_Q1_SCHB_V3_20200420.xml")
    assert plain.key == bulk.key and (plain.crd, plain.bulk_version) == (None, None)
    assert (bulk.crd, bulk.bulk_version, bulk.timestamp) == ("5393", 3, parsed.timestamp)
    assert shouting.key == plain.key  # the broker's spellings across filings agree
    bank = report_identity(dataclasses.replace(parsed, bd="Charles Schwab Bank"), "y")
    assert bank.key != plain.key
    assert legacy_report_key("s", "a1", "Charles Schwab", 2020, 1) == plain.key


def test_two_customers_reports_are_two_identities(sec606_samples: Path) -> None:
    parsed = read_606(sec606_samples / "606b1_held_exempt_not_held_customer_routing.xml").report
    other = dataclasses.replace(parsed, customer="Someone Else")
    assert report_identity(parsed, "a").key != report_identity(other, "a").key
    old_b1 = [legacy_report_key(sha, "b1", "X", 2020, 1) for sha in ("s1", "s2")]
    assert old_b1[0] != old_b1[1]


def test_the_bulk_version_outranks_the_timestamp_which_outranks_ingestion_order() -> None:
    v1 = edition("v1", crd="1", version=1, ts=at(20), ingested=1)
    v2 = edition("v2", crd="1", version=2, ts=at(10), ingested=2)
    assert current_editions([v2, v1]) == {"v1": "v2", "v2": "v2"}
    late = edition("late", ts=at(20), ingested=1)
    early = edition("early", ts=at(10), ingested=5)
    untimed = edition("untimed", ingested=9)
    assert set(current_editions([late, early, untimed]).values()) == {"late"}
    first, second = edition("first", ingested=1), edition("second", ingested=2)
    assert current_editions([second, first])["first"] == "second"


def test_a_duplicate_republished_after_a_restatement_makes_its_twin_current_again() -> None:
    original = edition("orig", ts=at(1), ingested=1)
    restated = edition("rest", ts=at(5), ingested=2)
    assert current_editions([original, restated])["orig"] == "rest"
    republished = edition("orig", ts=at(9), ingested=3)  # sha256: the stored twin's
    assert current_editions([original, restated], [republished])["rest"] == "orig"


def test_files_without_a_crd_join_the_one_filer_of_their_key_but_not_one_of_two() -> None:
    own = edition("own", ts=at(9))
    bulk = edition("bulk", crd="1", version=1, ts=at(1))
    assert current_editions([own, bulk]) == {"own": "bulk", "bulk": "bulk"}  # V1 beats none
    other = edition("other", crd="2", version=1, ts=at(1))
    chosen = current_editions([own, bulk, other])
    assert chosen == {"own": "own", "bulk": "bulk", "other": "other"}
    assert current_editions([edition("x", key="a"), edition("y", key="b")]) == {"x": "x", "y": "y"}
