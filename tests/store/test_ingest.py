"""Ingesting Rule 606 reports into DuckDB: totals, idempotency, rollback, zips, crashes."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pfof.formats.sec606 import read_606
from pfof.store import queries
from pfof.store.ingest import default_reader, ingest
from pfof.store.schema import connect
from support.report_copies import (
    SCHWAB_Q1_CELL,
    SCHWAB_Q1_RESTATED,
    crlf,
    reindent,
    replace_once,
    retimestamp,
    write,
)


def counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return queries.table_counts(con)
    finally:
        con.close()


def consistency_problems(db: Path) -> list[tuple]:
    """Sources whose stored row count disagrees with their rows, and rows without a source."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """
            SELECT s.sha256, s.n_rows, count(d.sha256) AS found
            FROM sources s LEFT JOIN disclosures_606 d USING (sha256)
            GROUP BY ALL HAVING s.n_rows <> count(d.sha256)
            UNION ALL
            SELECT d.sha256, NULL, count(*) FROM disclosures_606 d
            WHERE d.sha256 NOT IN (SELECT sha256 FROM sources) GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.close()


def test_schwab_folder_ingests_to_the_published_2020_total_with_provenance(
    schwab: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    con = connect(str(db))
    summary = ingest([schwab], con)
    con.close()
    assert len(summary.ingested) == 12 and not summary.rejected
    con = duckdb.connect(str(db), read_only=True)
    total = con.execute(
        "SELECT sum(net_payment_usd) FROM disclosures_606 WHERE broker = 'Charles Schwab' "
        "AND year = 2020"
    ).fetchone()[0]
    n_files = con.execute(
        "SELECT count(*) FROM sources WHERE year = 2020 AND kind = 'a1' AND strict_valid"
    ).fetchone()[0]
    row = con.execute(
        "SELECT path, length(sha256), ingested_at IS NOT NULL, json_array_length(warnings) "
        "FROM sources WHERE path LIKE '%2020Q1.xml'"
    ).fetchone()
    con.close()
    assert Decimal(total) == Decimal("245463984.21")
    assert n_files == 4
    assert row[0] == str(schwab / "606-CHAS-2020Q1.xml") and row[1] == 64 and row[2]
    assert row[3] == len(read_606(schwab / "606-CHAS-2020Q1.xml").warnings) > 0
    assert consistency_problems(db) == []


def test_reingest_changes_nothing(schwab: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    files = sorted(schwab.glob("*2021Q*.xml"))
    con = connect(str(db))
    first = ingest(files, con)
    before = queries.table_counts(con)
    sources_before = con.execute("SELECT * FROM sources ORDER BY sha256").fetchall()
    # same files again, and a copy under another name: all skipped by content hash
    copy = tmp_path / "renamed.xml"
    shutil.copy(files[0], copy)
    second = ingest([*files, copy], con)
    after = queries.table_counts(con)
    sources_after = con.execute("SELECT * FROM sources ORDER BY sha256").fetchall()
    con.close()
    assert len(first.ingested) == 4
    assert [o.status for o in second.outcomes] == ["skipped"] * 5
    assert "already ingested" in second.outcomes[-1].reason
    assert before == after and before["disclosures_606"] > 0
    assert sources_before == sources_after


def test_failing_file_in_a_batch_is_rejected_alone(shared_606: Path, tmp_path: Path) -> None:
    good1 = shared_606 / "schwab" / "606-CHAS-2020Q1.xml"
    bad = shared_606 / "broken" / "Cascade_Investments_606_NMS_2024_Q2.xml"
    good2 = shared_606 / "firstrade" / "routing_report_2020q1.xml"
    con = connect(str(tmp_path / "b.duckdb"))
    summary = ingest([good1, bad, good2], con)
    paths = [r[0] for r in con.execute("SELECT path FROM sources ORDER BY path").fetchall()]
    con.close()
    assert [o.status for o in summary.outcomes] == ["ingested", "rejected", "ingested"]
    assert str(bad) in summary.rejected[0].reason
    assert paths == sorted([str(good1), str(good2)])
    assert consistency_problems(tmp_path / "b.duckdb") == []


def test_error_inside_the_transaction_rolls_the_file_back(schwab: Path, tmp_path: Path) -> None:
    """A value that cannot be stored exactly fails after the provenance row was written."""
    target = "606-CHAS-2020Q3.xml"

    def reader(stream):
        result = default_reader(stream)
        if not stream.name.endswith(target):
            return result
        report = result.report
        month = report.months[0]
        venue = month.sp500.venues[0]
        bad = dataclasses.replace(venue, market_cph=Decimal("1.000000000001"))  # 12 places
        sp500 = dataclasses.replace(month.sp500, venues=(bad, *month.sp500.venues[1:]))
        months = (dataclasses.replace(month, sp500=sp500), *report.months[1:])
        return dataclasses.replace(result, report=dataclasses.replace(report, months=months))

    db = tmp_path / "t.duckdb"
    con = connect(str(db))
    files = sorted(schwab.glob("*2020Q*.xml"))
    summary = ingest(files, con, reader=reader)
    stored = [r[0] for r in con.execute("SELECT path FROM sources").fetchall()]
    con.close()
    (rejected,) = summary.rejected
    assert rejected.path.endswith(target) and "DECIMAL(38, 10)" in rejected.reason
    assert len(summary.ingested) == 3 and not any(p.endswith(target) for p in stored)
    assert consistency_problems(db) == []


def test_reports_in_zips_and_nested_zips_are_ingested_once_with_member_paths(
    schwab: Path, tmp_path: Path
) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(schwab / "606-CHAS-2020Q1.xml", "606-CHAS-2020Q1.xml")
        z.write(schwab / "606-CHAS-2020Q2.xml", "q2/606-CHAS-2020Q2.xml")
        z.writestr("notes.txt", "not a report")
    outer = tmp_path / "bulk.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(inner, "2020/inner.zip")
        z.write(schwab / "606-CHAS-2020Q3.xml", "606-CHAS-2020Q3.xml")
    con = connect(str(tmp_path / "z.duckdb"))
    summary = ingest([outer], con)
    again = ingest([outer, schwab / "606-CHAS-2020Q1.xml"], con)
    paths = sorted(r[0] for r in con.execute("SELECT path FROM sources").fetchall())
    con.close()
    assert (
        sorted(o.path for o in summary.ingested)
        == paths
        == sorted(
            [
                f"{outer}!2020/inner.zip!606-CHAS-2020Q1.xml",
                f"{outer}!2020/inner.zip!q2/606-CHAS-2020Q2.xml",
                f"{outer}!606-CHAS-2020Q3.xml",
            ]
        )
    )
    assert [o.path for o in summary.skipped] == [f"{outer}!2020/inner.zip!notes.txt"]
    assert not again.ingested and len(again.skipped) == 5


CRASH_SCRIPT = textwrap.dedent(
    """
    import sys
    from pfof.store.ingest import ingest
    from pfof.store.schema import connect

    con = connect(sys.argv[1])
    def progress(outcome):
        print(outcome.status, outcome.path, flush=True)
    ingest(sys.argv[2:], con, progress=progress)
    print("done", flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_mid_batch_leaves_a_consistent_store(shared_606: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    folders = [shared_606 / "schwab", shared_606 / "firstrade", shared_606 / "goldman-invalid"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(db), *map(str, folders)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.send_signal(signal.SIGKILL)  # somewhere inside file 4 or later
    proc.wait()
    assert all(line.startswith("ingested") for line in lines)
    assert consistency_problems(db) == []
    committed = counts(db)["sources"]
    assert 3 <= committed < 28
    # resuming ingests exactly what is missing
    con = connect(str(db))
    resumed = ingest(folders, con)
    con.close()
    assert len(resumed.ingested) == 28 - committed and len(resumed.skipped) == committed
    assert counts(db)["sources"] == 28 and consistency_problems(db) == []


def test_warnings_are_stored_as_json(shared_606: Path, tmp_path: Path) -> None:
    path = shared_606 / "goldman-invalid" / "GSCO_606_Q1_2020_20200619113325.xml"
    con = connect(str(tmp_path / "g.duckdb"))
    (outcome,) = ingest([path], con).outcomes
    strict, warnings = con.execute("SELECT strict_valid, warnings FROM sources").fetchone()
    con.close()
    issues = json.loads(warnings)
    assert outcome.status == "ingested" and strict is False
    assert len(issues) == outcome.warnings == len(read_606(path).warnings)
    assert {"rule", "path", "message"} <= set(issues[0])


def test_b1_and_b3_reports_get_provenance_and_rows(sec606_samples: Path, tmp_path: Path) -> None:
    folder = sec606_samples
    b1 = folder / "606b1_held_exempt_not_held_customer_routing.xml"
    b3 = folder / "606b3_not_held_customer_handling_1mo.xml"
    con = connect(str(tmp_path / "b.duckdb"))
    summary = ingest([b1, b3], con)
    kinds = con.execute("SELECT kind, n_rows FROM sources ORDER BY kind").fetchall()
    b1_rows = con.execute("SELECT count(*) FROM routes_606b1").fetchone()[0]
    # the SEC's own sample carries a 12-decimal average: stored exactly, not rounded
    exact = con.execute(
        "SELECT count(*) FROM venues_606b3 WHERE provided_liquidity_shr = 955745.000134341414"
    ).fetchone()[0]
    con.close()
    assert [o.status for o in summary.outcomes] == ["ingested", "ingested"]
    report = read_606(b1).report
    expected = sum(
        max(1, len(route.transactions))
        for orders in (report.held, report.not_held_exempt, report.options)
        for order in orders or ()
        for route in order.routes
    )
    assert kinds[0] == ("b1", expected) and b1_rows == expected > 0
    assert kinds[1][0] == "b3" and kinds[1][1] > 0
    assert exact == 1


def test_ingest_takes_a_store_path_and_a_single_report_path(schwab: Path, tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    summary = ingest(schwab / "606-CHAS-2020Q1.xml", db)
    assert [o.status for o in summary.outcomes] == ["ingested"]
    assert counts(db)["sources"] == 1  # the file was closed: it opens read-only here


def test_ingest_refuses_the_store_before_the_paths(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "o.duckdb"))
    try:
        with pytest.raises(TypeError, match="the paths come first"):
            ingest(con, [tmp_path])  # type: ignore[arg-type]
    finally:
        con.close()


# ------------------------------------------------------------------ one report counts once


def schwab_2020_total(con: duckdb.DuckDBPyConnection) -> Decimal:
    from pfof.app.analysis import broker_quarters

    return sum(
        (q.total_usd for q in broker_quarters(con) if q.year == 2020),
        Decimal(0),
    )


def test_the_same_report_in_another_byte_form_is_a_duplicate_stored_once(
    schwab: Path, tmp_path: Path
) -> None:
    """CRLF line endings, re-indentation and a new <timestamp> leave the figures as they were:
    each such copy is reported as a duplicate, stores nothing and changes no total."""
    copies = tmp_path / "copies"
    q1, q2, q3 = (schwab / f"606-CHAS-2020Q{q}.xml" for q in (1, 2, 3))
    variants = [
        write(copies, "q1-crlf.xml", crlf(q1.read_bytes())),
        write(copies, "q2-reindented.xml", reindent(q2.read_bytes())),
        write(copies, "q3-republished.xml", retimestamp(q3.read_bytes(), "2024-05-01T12:00:00Z")),
        write(copies, "q1-crlf-reindented.xml", crlf(reindent(q1.read_bytes()))),
    ]
    con = connect(tmp_path / "d.duckdb")
    first = ingest(sorted(schwab.glob("*2020Q*.xml")), con)
    before = queries.table_counts(con)
    second = ingest(variants, con)
    third = ingest(variants, con)  # idempotent: a duplicate seen again is skipped again
    total = schwab_2020_total(con)
    after = queries.table_counts(con)
    con.close()
    assert len(first.ingested) == 4
    assert [o.status for o in second.outcomes] == ["skipped"] * 4
    assert [o.duplicate_of for o in second.outcomes] == [
        str(q1),
        str(q2),
        str(q3),
        str(q1),
    ]
    assert all("duplicate of" in o.reason for o in second.outcomes)
    assert [o.status for o in third.outcomes] == ["skipped"] * 4
    assert before == after
    assert total == Decimal("245463984.21")


def test_a_restatement_supersedes_the_older_report_in_either_ingest_order(
    schwab: Path, tmp_path: Path
) -> None:
    q1 = (schwab / "606-CHAS-2020Q1.xml").read_bytes()
    restated = retimestamp(
        replace_once(q1, SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED), "2021-03-01T09:00:00Z"
    )
    path = write(tmp_path / "r", "606-CHAS-2020Q1-restated.xml", restated)
    original = schwab / "606-CHAS-2020Q1.xml"
    others = [schwab / f"606-CHAS-2020Q{q}.xml" for q in (2, 3, 4)]
    expected = Decimal("245463984.21") + 1
    for order in ([original, path], [path, original]):
        db = tmp_path / f"r{len(list(tmp_path.glob('*.duckdb')))}.duckdb"
        con = connect(db)
        summary = ingest([*order, *others], con)
        total = schwab_2020_total(con)
        q1_total = queries.total_net_payment(con, broker="Charles Schwab", year=2020, quarter=1)
        cells = queries.disclosure_cells(con, broker="Charles Schwab", year=2020, quarter=1)
        con.close()
        assert [o.status for o in summary.outcomes] == ["ingested"] * 5
        assert total == expected, order
        assert q1_total == file_total(original) + 1
        assert cells.num_rows == 240 and set(cells.column("sha256").to_pylist()) == {
            summary.outcomes[order.index(path)].sha256
        }
        second = summary.outcomes[1]
        if order[0] == original:
            assert second.supersedes == str(original) and "restates" in second.reason
        else:
            assert second.superseded_by == str(path) and "superseded by" in second.reason


def test_a_bulk_file_version_decides_which_report_is_current(schwab: Path, tmp_path: Path) -> None:
    """FINRA bulk files name the filer's CRD and a version: V2 replaces V1, whatever the
    timestamps say; the same report under another filer's CRD is another identity."""
    q1 = (schwab / "606-CHAS-2020Q1.xml").read_bytes()
    v1 = retimestamp(q1, "2020-06-01T00:00:00Z")
    v2 = retimestamp(replace_once(q1, SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED), "2020-05-01T00:00:00Z")
    bulk = tmp_path / "bulk"
    files = [
        write(bulk, "5393_606_NMS_2020_Q1_SCHB_V2_20200601.xml", v2),
        write(bulk, "5393_606_NMS_2020_Q1_SCHB_V1_20200420.xml", v1),
    ]
    con = connect(tmp_path / "v.duckdb")
    summary = ingest(files, con)
    total = queries.total_net_payment(con, broker="Charles Schwab", year=2020, quarter=1)
    rows = con.execute("SELECT crd, bulk_version FROM sources ORDER BY bulk_version").fetchall()
    con.close()
    assert [o.status for o in summary.outcomes] == ["ingested", "ingested"]
    assert summary.outcomes[1].superseded_by == str(files[0])
    assert rows == [("5393", 1), ("5393", 2)]
    assert total == file_total(schwab / "606-CHAS-2020Q1.xml") + 1


def file_total(path: Path) -> Decimal:
    """The sum of a 606(a)(1) file's dollar cells, read without the store."""
    from pfof.model.reports606 import a1_cells

    cells = a1_cells(read_606(path).report)
    return sum((c.net_payment_usd for c in cells if c.net_payment_usd is not None), Decimal(0))


def test_reports_of_the_same_broker_quarter_from_two_filers_both_count(
    schwab: Path, tmp_path: Path
) -> None:
    q1 = (schwab / "606-CHAS-2020Q1.xml").read_bytes()
    other = replace_once(q1, SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED)
    bulk = tmp_path / "bulk"
    files = [
        write(bulk, "5393_606_NMS_2020_Q1_SCHB_V1_20200420.xml", q1),
        write(bulk, "7777_606_NMS_2020_Q1_OTHR_V1_20200420.xml", other),
    ]
    con = connect(tmp_path / "f.duckdb")
    ingest(files, con)
    cells = queries.disclosure_cells(con)
    con.close()
    assert cells.num_rows == 480


def test_a_brokers_own_download_and_its_finra_bulk_filing_are_one_report(
    schwab: Path, tmp_path: Path
) -> None:
    """The file a broker publishes names no CRD; its FINRA bulk filing does. With one filer
    for the broker and quarter they are editions of one report: the later counts."""
    own = schwab / "606-CHAS-2020Q1.xml"
    refiled = retimestamp(
        replace_once(own.read_bytes(), SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED), "2021-06-01T00:00:00Z"
    )
    bulk = write(tmp_path / "bulk", "5393_606_NMS_2020_Q1_SCHB_V1_20210601.xml", refiled)
    con = connect(tmp_path / "o.duckdb")
    summary = ingest([bulk, own], con)
    total = queries.total_net_payment(con, broker="Charles Schwab", year=2020, quarter=1)
    con.close()
    assert summary.outcomes[1].superseded_by == str(bulk)
    assert total == file_total(own) + 1
