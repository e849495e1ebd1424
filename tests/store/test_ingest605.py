"""Ingesting Rule 605 files: provenance, idempotence, per-file rollback, zips, memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import shared_path
from pfof.cli import app
from pfof.formats import sec605_arrow
from pfof.formats.sec605 import scan_605
from pfof.store import ingest605
from pfof.store.ingest import ingest
from pfof.store.schema import RULE605_ROW_TABLES, connect
from support.files605 import detailed_file, legacy_file


def _legacy_real() -> Path:
    return shared_path("sec-605", "legacy-real")


def _sample_csv() -> Path:
    return shared_path("sec-605", "oes", "data", "sample.csv")


def _rows(con: duckdb.DuckDBPyConnection, table: str, sha: str | None = None) -> int:
    where = f" WHERE sha256 = '{sha}'" if sha else ""
    return int(con.execute(f"SELECT count(*) FROM {table}{where}").fetchall()[0][0])


def _consistent(con: duckdb.DuckDBPyConnection) -> None:
    """Every source's n_rows is the count of its rows, and no row lacks its source."""
    for table, _ in RULE605_ROW_TABLES:
        orphans = con.execute(
            f"SELECT count(*) FROM {table} WHERE sha256 NOT IN (SELECT sha256 FROM sources_605)"
        ).fetchall()
        assert orphans == [(0,)], table
    for sha, fmt, n in con.execute("SELECT sha256, format, n_rows FROM sources_605").fetchall():
        assert _rows(con, f"rows_605_{fmt}", sha) == n


def test_real_files_ingest_with_provenance_and_a_second_run_skips_them(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    detailed = detailed_file(tmp_path / "NSDQ_202608.txt", 500, seed=1)
    first = ingest([_legacy_real(), _sample_csv(), detailed], db)
    assert [o.status for o in first.outcomes] == ["ingested"] * 6
    legacy = first.outcomes[0]
    assert (legacy.format, legacy.market_center, legacy.month) == ("legacy", "TVIRT", "2016-12")
    assert [o.format for o in first.outcomes[4:]] == ["summary", "detailed"]
    con = connect(db)
    try:
        # each file's rows: as many as the row reader reads
        for outcome in first.outcomes:
            expected = scan_605(outcome.path).records
            assert outcome.rows == expected
            assert _rows(con, f"rows_605_{outcome.format}", outcome.sha256) == expected
        stored = con.execute(
            "SELECT path, format, market_center, month, market_centers, months, n_rows "
            "FROM sources_605 WHERE format = 'detailed'"
        ).fetchall()
        assert stored == [
            (str(detailed), "detailed", "NSDQ", "2026-08", ["NSDQ"], ["2026-08"], 500)
        ]
        total = con.execute("SELECT sum(covered_shares) FROM rows_605_legacy").fetchall()[0][0]
        assert total == sum(
            r.covered_shares  # type: ignore[attr-defined]
            for name in sorted(_legacy_real().iterdir())
            for r in _records(name)
        )
        _consistent(con)
    finally:
        con.close()
    again = ingest([_legacy_real(), _sample_csv(), detailed, tmp_path / "copy"], db)
    assert [o.status for o in again.outcomes[:6]] == ["skipped"] * 6
    assert all("already ingested" in o.reason for o in again.outcomes[:6])


def _records(path: Path) -> list[object]:
    out: list[object] = []
    scan_605(path, on_record=out.append)
    return out


def test_monthly_zips_with_dat_and_txt_members_and_a_bad_member_among_good_ones(
    tmp_path: Path,
) -> None:
    good_old = legacy_file(tmp_path / "a.txt", 300, seed=1, month=201612).read_bytes()
    good_new = legacy_file(tmp_path / "b.txt", 200, seed=2, month=201708).read_bytes()
    lines = good_new.split(b"\n")
    lines[1] = lines[1].replace(b"|TVIRT|201708|", b"|TVIRT|2017x8|")  # an error on line 2
    bad = b"\n".join(lines)
    archive = tmp_path / "TVIRT_2017.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("TVIRT_201612.dat", good_old)
        z.writestr("TVIRT_201707.txt", bad)
        z.writestr("TVIRT_201708.txt", good_new)
        z.writestr("readme.txt", "Rule 605 reports of TVIRT, one file a month.\n")
        z.writestr("logo.png", b"\x89PNG")
    db = tmp_path / "z.duckdb"
    summary = ingest(archive, db)
    by_name = {o.path.rsplit("!", 1)[1]: o for o in summary.outcomes}
    assert by_name["TVIRT_201612.dat"].status == "ingested"
    assert by_name["TVIRT_201708.txt"].status == "ingested"
    rejected = by_name["TVIRT_201707.txt"]
    assert rejected.status == "rejected" and ":2" in rejected.reason and "yyyymm" in rejected.reason
    assert (
        by_name["readme.txt"].status == "skipped"
        and "not a Rule 605" in by_name["readme.txt"].reason
    )
    assert by_name["logo.png"].status == "skipped"
    con = connect(db)
    try:
        assert _rows(con, "rows_605_legacy") == 500  # the bad member's rows rolled back
        warnings = con.execute(
            "SELECT warnings FROM sources_605 WHERE path LIKE '%.dat'"
        ).fetchall()[0][0]
        (suffix,) = [w for w in json.loads(warnings) if w["rule"] == "file-suffix"]
        assert suffix["file"].endswith("!TVIRT_201612.dat") and suffix["line"] == 1
        months = con.execute("SELECT month FROM sources_605 ORDER BY month").fetchall()
        assert months == [("2016-12",), ("2017-08",)]
        _consistent(con)
    finally:
        con.close()


def test_deviation_warnings_are_stored_with_rule_file_and_line(tmp_path: Path) -> None:
    lines = legacy_file(tmp_path / "l.txt", 50, seed=3).read_text().splitlines()
    marketable = [i for i, line in enumerate(lines) if line.split("|")[4] in ("11", "12")]
    parts = lines[marketable[1]].split("|")
    parts[17] = "-0.0042"  # a negative average effective spread
    lines[marketable[1]] = "|".join(parts)
    path = tmp_path / "TVIRT_201708.txt"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "w.duckdb"
    (outcome,) = ingest(path, db).outcomes
    assert outcome.status == "ingested" and outcome.warnings == 1
    con = connect(db)
    try:
        strict, warnings = con.execute("SELECT strict_valid, warnings FROM sources_605").fetchall()[
            0
        ]
    finally:
        con.close()
    (warning,) = json.loads(warnings)
    assert strict is False
    assert warning["rule"] == "negative-effective-spread"
    assert warning["line"] == marketable[1] + 1 and warning["file"] == str(path)
    assert warning["severity"] == "warning"


def test_an_interruption_mid_file_leaves_nothing_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = legacy_file(tmp_path / "l.txt", 5000, seed=5)
    db = tmp_path / "i.duckdb"
    scan = sec605_arrow.scan_605_batches

    def interrupted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for count, pair in enumerate(scan(*args, **kwargs), start=1):
            yield pair
            if count == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(ingest605, "scan_605_batches", interrupted)
    monkeypatch.setattr(ingest605, "INSERT_ROWS", 1000)
    monkeypatch.setattr(ingest605, "FAST_PATH", False)  # the Arrow reader's stream
    with pytest.raises(KeyboardInterrupt):
        ingest(path, db)
    con = connect(db)
    try:
        assert _rows(con, "rows_605_legacy") == 0 and _rows(con, "sources_605") == 0
    finally:
        con.close()
    monkeypatch.undo()
    (outcome,) = ingest(path, db).outcomes
    assert outcome.status == "ingested" and outcome.rows == 5000


def test_a_killed_process_leaves_no_partial_file(tmp_path: Path) -> None:
    """SIGKILL in the middle of a file's insert: the reopened store has none of its rows."""
    path = legacy_file(tmp_path / "l.txt", 20000, seed=6)
    db = tmp_path / "k.duckdb"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pfof.formats import sec605_arrow
        from pfof.store import ingest605
        from pfof.store.ingest import ingest
        scan = sec605_arrow.scan_605_batches
        def killed(*args, **kwargs):
            for count, pair in enumerate(scan(*args, **kwargs), start=1):
                yield pair
                if count == 3:
                    os.kill(os.getpid(), signal.SIGKILL)
        ingest605.scan_605_batches = killed
        ingest605.INSERT_ROWS = 2000
        ingest605.FAST_PATH = False
        ingest([{str(path)!r}], {str(db)!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()
    con = connect(db)
    try:
        assert _rows(con, "rows_605_legacy") == 0 and _rows(con, "sources_605") == 0
    finally:
        con.close()


def test_xml_goes_to_the_606_reader_and_unknown_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a report\n")
    (tmp_path / "report.txt").write_text("<?xml version='1.0'?><nope/>")
    summary = ingest(tmp_path, tmp_path / "x.duckdb")
    by_name = {Path(o.path).name: o for o in summary.outcomes}
    assert by_name["notes.txt"].status == "skipped"
    assert by_name["report.txt"].status == "rejected"  # read as a 606 report, and refused
    assert by_name["report.txt"].format is None


def test_a_400k_row_detailed_file_ingests_in_bounded_memory(tmp_path: Path) -> None:
    """Peak RSS while ingesting 400,000 rows (142 MB of text, ~350 MB as Arrow decimals)
    stays within a bound a whole-file read would break, measured in a fresh process after a
    warm-up file (so that loading the libraries does not count)."""
    small = detailed_file(tmp_path / "small.txt", 5_000, seed=1)
    big = detailed_file(tmp_path / "big.txt", 400_000, seed=2)
    db = tmp_path / "m.duckdb"
    script = textwrap.dedent(
        f"""
        import threading, time, psutil
        from pfof.store.ingest import ingest
        from pfof.store.schema import connect
        con = connect({str(db)!r})
        assert ingest([{str(small)!r}], con).outcomes[0].status == "ingested"
        proc = psutil.Process()
        base = peak = proc.memory_info().rss
        stop = False
        def watch():
            global peak
            while not stop:
                peak = max(peak, proc.memory_info().rss)
                time.sleep(0.01)
        thread = threading.Thread(target=watch)
        thread.start()
        (outcome,) = ingest([{str(big)!r}], con).outcomes
        stop = True
        thread.join()
        assert outcome.status == "ingested" and outcome.rows == 400_000, outcome
        print((peak - base) // 2**20)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    growth_mib = int(done.stdout.split()[-1])
    # the file's rows as Arrow decimals alone take ~350 MiB; a whole-file read holds more
    assert growth_mib < 700, growth_mib


def test_pfof_ingest_lists_605_files_with_format_market_center_and_month(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(_legacy_real(), folder)
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 0, result.output
    assert "605 legacy TVIRT 2016-12, 2000 rows" in result.output
    assert "605 legacy TVIRT 2017-08, 94 rows" in result.output
    assert "4 ingested (4190 rows)" in result.output
