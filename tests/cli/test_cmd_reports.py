"""``pfof reports`` and the promise behind it: one report counts once in ``pfof brokers``,
whatever byte form or edition of it was ingested."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from pfof.cli import app
from support.report_copies import (
    SCHWAB_Q1_CELL,
    SCHWAB_Q1_RESTATED,
    crlf,
    reindent,
    replace_once,
    retimestamp,
    write,
)

runner = CliRunner()


def brokers_json(db: Path) -> list[dict]:
    out = runner.invoke(app, ["brokers", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_the_schwab_folder_twice_with_crlf_and_republished_copies_leaves_every_total(
    schwab: Path, tmp_path: Path
) -> None:
    copies = tmp_path / "copies"
    for path in sorted(schwab.glob("*.xml")):
        data = path.read_bytes()
        write(copies, f"crlf-{path.name}", crlf(data))
        write(copies, f"tabs-{path.name}", reindent(data))
        write(copies, f"new-{path.name}", retimestamp(data, "2025-01-02T03:04:05Z"))
    db = tmp_path / "s.duckdb"
    first = runner.invoke(app, ["ingest", str(schwab), "--db", str(db)])
    assert first.exit_code == 0, first.output
    before = brokers_json(db)
    again = runner.invoke(app, ["ingest", str(schwab), str(copies), "--db", str(db)])
    assert again.exit_code == 0, again.output
    assert "0 ingested (0 rows), 48 skipped, 0 rejected" in again.output
    assert "duplicate of" in again.output
    after = brokers_json(db)
    assert after == before and len(after) == 12
    total_2020 = sum(Decimal(r["total_usd"]) for r in after if r["year"] == 2020)
    assert total_2020 == Decimal("245463984.21")

    listed = runner.invoke(app, ["reports", "--db", str(db), "--json"])
    assert listed.exit_code == 0, listed.output
    current = json.loads(listed.stdout)
    assert len(current) == 12 and {r["status"] for r in current} == {"current"}
    history = json.loads(
        runner.invoke(app, ["reports", "--db", str(db), "--history", "--json"]).stdout
    )
    assert sorted({r["status"] for r in history}) == ["current", "duplicate"]
    assert sum(r["status"] == "duplicate" for r in history) == 36


def test_reports_lists_a_restatement_and_the_edition_it_superseded(
    schwab: Path, tmp_path: Path
) -> None:
    q1 = schwab / "606-CHAS-2020Q1.xml"
    restated = write(
        tmp_path / "r",
        "606-CHAS-2020Q1-restated.xml",
        retimestamp(
            replace_once(q1.read_bytes(), SCHWAB_Q1_CELL, SCHWAB_Q1_RESTATED),
            "2021-02-03T04:05:06Z",
        ),
    )
    db = tmp_path / "r.duckdb"
    out = runner.invoke(app, ["ingest", str(q1), str(restated), "--db", str(db)])
    assert out.exit_code == 0 and "restates" in out.output, out.output

    table = runner.invoke(app, ["reports", "--db", str(db)], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert "606-CHAS-2020Q1-restated.xml" in table.stdout and "2021-02-03" in table.stdout
    assert "1 current, 1 superseded, 0 duplicate(s) (--history lists them)" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80

    history = runner.invoke(app, ["reports", "--db", str(db), "--history"])
    assert history.exit_code == 0, history.output
    assert "superseded" in history.stdout and "606-CHAS-2020Q1.xml" in history.stdout
    (quarter,) = brokers_json(db)
    assert Decimal(quarter["total_usd"]) == Decimal("53577202.81") + 1


def test_reports_on_a_missing_store_is_one_line_with_exit_2(tmp_path: Path) -> None:
    out = runner.invoke(app, ["reports", "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 2
    assert "no such store" in out.output and len(out.output.strip().splitlines()) == 1
