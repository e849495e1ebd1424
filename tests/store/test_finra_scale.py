"""A quarter's FINRA bulk zip: CRDs kept, only a filer's latest V<k> counted, affiliated
filers' identical reports shown and counted once, a bad member rolled back alone, and a
second ingest changing nothing. The reports are real ones (../shared) given new brokers and
FINRA file names in a temporary zip; expectations come from the XML itself (ElementTree)."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import shared_path
from pfof.cli import app
from pfof.store import ingest as ingest_module
from pfof.store.ingest import entry_count, ingest
from pfof.store.queries import stored_reports, total_net_payment
from pfof.store.schema import connect
from support.report_copies import retimestamp

Q = "2020_Q1"
ALPHA, ALPHA_CLEARING, BETA = "Alpha Securities LLC", "Alpha Clearing Corp", "Beta Brokerage Inc"


def name(crd: int, mpid: str, version: int) -> str:
    return f"{crd}_606_NMS_{Q}_{mpid}_V{version}_20200415.xml"


def rebrand(data: bytes, broker: str) -> bytes:
    return re.sub(rb"<bd>[^<]*</bd>", f"<bd>{broker}</bd>".encode(), data, count=1)


def restate(data: bytes) -> bytes:
    """The first market-order dollar figure raised by one dollar (a V2 with other figures)."""
    pattern = rb"<netPmtPaidRecvMarketOrdersUsd>([-0-9.]+)</netPmtPaidRecvMarketOrdersUsd>"
    match = re.search(pattern, data)
    assert match is not None
    value = Decimal(match.group(1).decode()) + 1
    new = f"<netPmtPaidRecvMarketOrdersUsd>{value}</netPmtPaidRecvMarketOrdersUsd>".encode()
    return data[: match.start()] + new + data[match.end() :]


def usd_total(data: bytes) -> Decimal:
    """Sum of every net payment dollar figure in a 606(a)(1) document (independent of pfof)."""
    root = ET.fromstring(data)
    return sum(
        (
            Decimal(e.text)
            for e in root.iter()
            if re.fullmatch(r"netPmtPaidRecv\w+Usd", e.tag) and e.text and e.text.strip()
        ),
        Decimal(0),
    )


@pytest.fixture(scope="module")
def members() -> dict[str, bytes]:
    """The bulk zip's members, in file order, and what each one is (see the test names)."""
    schwab = shared_path("real-606", "schwab", "606-CHAS-2020Q1.xml").read_bytes()
    firstrade = shared_path("real-606", "firstrade", "routing_report_2020q1.xml").read_bytes()
    broken = shared_path("real-606", "broken", "281065_606_NMS_2024_Q2.xml").read_bytes()
    alpha_v1 = rebrand(schwab, ALPHA)
    alpha_v2 = retimestamp(restate(alpha_v1), "2020-05-01T12:00:00Z")
    beta = rebrand(firstrade, BETA)
    return {
        name(1001, "ALPH", 1): alpha_v1,
        name(1001, "ALPH", 2): alpha_v2,  # restates V1: V1 superseded
        name(1002, "BETA", 1): beta,
        # an affiliate files Alpha's V2 figures under its own CRD and name: stored, affiliated
        name(1003, "ALPC", 1): rebrand(alpha_v2, ALPHA_CLEARING),
        # another CRD files Beta's very bytes, and a third re-published: both affiliated copies
        name(1004, "BETB", 1): beta,
        name(1005, "BETC", 1): retimestamp(beta, "2020-04-20T00:00:00Z"),
        "readme.txt": b"FINRA Rule 6151 bulk download",  # not a report: skipped
        name(1006, "BRKN", 1): broken,  # rejected alone
    }


def bulk_zip(folder: Path, members: dict[str, bytes], order: list[str] | None = None) -> Path:
    path = folder / "finra-2020Q1.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member in order or list(members):
            z.writestr(f"2020Q1/{member}", members[member])
    return path


def statuses(db: Path) -> dict[str, tuple[str, str | None]]:
    """File name -> (status, the file counted instead)."""
    con = connect(db, read_only=True)
    try:
        return {
            r.path.rsplit("/", 1)[-1]: (r.status, (r.current_path or "").rsplit("/", 1)[-1] or None)
            for r in stored_reports(con, history=True)
        }
    finally:
        con.close()


def test_bulk_quarter_keeps_crds_latest_versions_and_shows_affiliated_filers(
    tmp_path: Path, members: dict[str, bytes]
) -> None:
    bulk = bulk_zip(tmp_path, members)
    db = tmp_path / "s.duckdb"
    seen: list[str] = []
    summary = ingest(bulk, db, progress=lambda o: seen.append(o.path))
    assert entry_count(bulk) == len(seen) == len(members) == 8

    out = {o.path.rsplit("/", 1)[-1]: o for o in summary.outcomes}
    assert [n for n, o in out.items() if o.status == "ingested"] == [
        name(1001, "ALPH", 1),
        name(1001, "ALPH", 2),
        name(1002, "BETA", 1),
        name(1003, "ALPC", 1),
    ]
    assert out[name(1006, "BRKN", 1)].status == "rejected"
    assert out["readme.txt"].status == "skipped"
    assert out[name(1001, "ALPH", 2)].supersedes.endswith(name(1001, "ALPH", 1))
    assert out[name(1003, "ALPC", 1)].identical_to.endswith(name(1001, "ALPH", 2))
    assert "affiliated" in out[name(1003, "ALPC", 1)].reason
    for copy in (name(1004, "BETB", 1), name(1005, "BETC", 1)):
        assert out[copy].status == "skipped"
        assert out[copy].identical_to.endswith(name(1002, "BETA", 1))
    assert len(summary.affiliated) == 3

    assert statuses(db) == {
        name(1001, "ALPH", 2): ("current", None),
        name(1001, "ALPH", 1): ("superseded", name(1001, "ALPH", 2)),
        name(1002, "BETA", 1): ("current", None),
        name(1003, "ALPC", 1): ("affiliated", name(1001, "ALPH", 2)),
        name(1004, "BETB", 1): ("affiliated", name(1002, "BETA", 1)),
        name(1005, "BETC", 1): ("affiliated", name(1002, "BETA", 1)),
    }
    con = connect(db, read_only=True)
    try:
        crds = dict(con.execute("SELECT crd, bulk_version FROM sources ORDER BY crd").fetchall())
        assert crds == {"1001": 2, "1002": 1, "1003": 1}  # V1 and V2 of 1001: the dict keeps V2
        want = usd_total(members[name(1001, "ALPH", 2)]) + usd_total(members[name(1002, "BETA", 1)])
        assert total_net_payment(con) == want  # V1 and the affiliated copies not counted
        assert total_net_payment(con, broker=ALPHA_CLEARING) == 0
    finally:
        con.close()


def test_a_second_ingest_changes_nothing_and_the_order_of_members_does_not_matter(
    tmp_path: Path, members: dict[str, bytes]
) -> None:
    bulk = bulk_zip(tmp_path, members)
    db = tmp_path / "s.duckdb"
    ingest(bulk, db)
    before = statuses(db)
    again = ingest(bulk, db)
    assert not again.ingested and len(again.rejected) == 1  # the broken member, again
    assert statuses(db) == before
    con = connect(db, read_only=True)
    counts = con.execute(
        "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM duplicates)"
    ).fetchall()
    con.close()
    assert counts == [(4, 2)]

    other = tmp_path / "reversed"
    other.mkdir()
    ingest(bulk_zip(other, members, order=list(reversed(members))), other / "s.duckdb")
    assert statuses(other / "s.duckdb") == before  # the lowest CRD counts, whatever came first


def test_a_file_failing_to_store_is_rolled_back_alone(
    tmp_path: Path, members: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., Any] = ingest_module._insert_rows
    calls = {"n": 0}

    def fail_second(con: Any, table_name: str, table: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        real(con, table_name, table)

    monkeypatch.setattr(ingest_module, "_insert_rows", fail_second)
    db = tmp_path / "s.duckdb"
    summary = ingest(bulk_zip(tmp_path, members), db)
    failed = [o for o in summary.rejected if "disk full" in o.reason]
    assert len(failed) == 1 and failed[0].path.endswith(name(1001, "ALPH", 2))
    con = connect(db, read_only=True)
    paths = [p for (p,) in con.execute("SELECT path FROM sources").fetchall()]
    cells = con.execute("SELECT count(DISTINCT sha256) FROM disclosures_606").fetchall()
    con.close()
    assert not any(p.endswith(name(1001, "ALPH", 2)) for p in paths)
    assert cells == [(len(paths),)]  # no orphan rows of the failed file
    # without Alpha's V2, its affiliate's report (identical to V2) is nobody's copy: it counts
    assert statuses(db)[name(1003, "ALPC", 1)] == ("current", None)


def test_cli_lists_affiliated_filings_and_brokers_counts_them_once(
    tmp_path: Path, members: dict[str, bytes]
) -> None:
    bulk = bulk_zip(tmp_path, members)
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(bulk), "--db", str(db)])
    assert result.exit_code == 1  # the broken member
    assert "3 identical to another filer's report" in result.output
    reports = runner.invoke(app, ["reports", "--db", str(db), "--json"])
    listed = {(r["crd"], r["status"]) for r in json.loads(reports.output)}
    assert listed == {
        ("1001", "current"),
        ("1002", "current"),
        ("1003", "affiliated"),
        ("1004", "affiliated"),  # each copy with its own filer's CRD
        ("1005", "affiliated"),
    }
    text = runner.invoke(app, ["reports", "--db", str(db)])
    assert "affiliated" in text.output and "counted once" in text.output
    brokers = runner.invoke(app, ["brokers", "--db", str(db), "--json"])
    records = json.loads(brokers.output)
    assert {r["broker"] for r in records} == {ALPHA, BETA}  # the affiliate's copy not again
    alpha = next(r for r in records if r["broker"] == ALPHA)
    assert Decimal(alpha["total_usd"]) == usd_total(members[name(1001, "ALPH", 2)])
    table = runner.invoke(app, ["brokers", "--db", str(db)])
    assert "counted once" in table.output


def test_entry_count_lists_nested_zips_without_reading_reports(
    tmp_path: Path, members: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for member, data in list(members.items())[:3]:
            z.writestr(member, data)
    outer = tmp_path / "bulk.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("2020Q1/alpha.zip", inner.getvalue())
        z.writestr("2020Q1/" + name(1002, "BETA", 1), members[name(1002, "BETA", 1)])
    monkeypatch.setattr(ingest_module, "default_reader", lambda _: pytest.fail("a report was read"))
    assert entry_count([outer, tmp_path / "missing.xml"]) == 5


def test_one_walk_gives_the_content_digest_and_a_routing_digest_blind_to_the_name(
    members: dict[str, bytes],
) -> None:
    from pfof.formats.sec606 import read_606
    from pfof.store.identity import content_digest, report_digests

    alpha = read_606(members[name(1001, "ALPH", 2)]).report
    clearing = read_606(members[name(1003, "ALPC", 1)]).report
    v1 = read_606(members[name(1001, "ALPH", 1)]).report
    (a_content, a_routing), (c_content, c_routing) = report_digests(alpha), report_digests(clearing)
    assert a_content == content_digest(alpha) != c_content == content_digest(clearing)
    assert a_routing == c_routing  # only <bd> differs
    assert report_digests(v1)[1] != a_routing  # a figure differs


def test_one_broker_name_under_two_crds_with_other_figures_is_two_filers_both_counted(
    tmp_path: Path, members: dict[str, bytes]
) -> None:
    beta = members[name(1002, "BETA", 1)]
    other = restate(beta)  # same <bd>, another CRD, other figures: not identical
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name(1002, "BETA", 1)).write_bytes(beta)
    (folder / name(1007, "BETX", 1)).write_bytes(other)
    summary = ingest(folder, tmp_path / "s.duckdb")
    assert [o.identical_to for o in summary.outcomes] == [None, None]
    assert set(statuses(tmp_path / "s.duckdb").values()) == {("current", None)}
    con = connect(tmp_path / "s.duckdb", read_only=True)
    try:
        assert total_net_payment(con) == usd_total(beta) + usd_total(other)
    finally:
        con.close()
