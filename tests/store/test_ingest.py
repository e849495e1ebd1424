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
