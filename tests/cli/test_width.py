"""Every table the data commands print reads at 80 columns: no cell cut to ``Rob…``, no line
wider than the terminal, the key figures all there (``--wide`` keeps the one-row tables)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import shared_path
from pfof.cli import app

NARROW = {"COLUMNS": "80"}


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env=NARROW)
    assert result.exit_code == code, result.output
    return result


def _reads_at_80(output: str) -> None:
    assert "…" not in output
    table_lines = [line for line in output.splitlines() if line[:1] in "┏┃│├└┡┗"]
    assert table_lines, output
    assert max(len(line) for line in table_lines) <= 80


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Charles Schwab's and Firstrade's twelve quarters each, ingested at 80 columns:
    (store, what ``pfof ingest`` printed)."""
    db = tmp_path_factory.mktemp("store") / "h.duckdb"
    real = shared_path("real-606")
    result = _run("ingest", str(real / "schwab"), str(real / "firstrade"), "--db", str(db))
    return db, result.output


@pytest.fixture
def store(ingested: tuple[Path, str]) -> Path:
    return ingested[0]


def test_ingest_at_80_columns_prints_each_file_on_one_uncut_line(
    ingested: tuple[Path, str],
) -> None:
    _, output = ingested
    assert "…" not in output
    first = str(shared_path("real-606", "schwab", "606-CHAS-2020Q1.xml"))
    line = next(line for line in output.splitlines() if first in line)
    assert line.startswith(f"ingested {first}: a1 Charles Schwab 2020 Q1, 240 rows")
    assert output.splitlines()[-1].startswith("24 ingested (4016 rows), 0 skipped, 0 rejected")


def test_brokers_at_80_columns_shows_every_figure_uncut(store: Path) -> None:
    output = _run("brokers", "--db", str(store)).output
    _reads_at_80(output)
    output = " ".join(re.sub(r"[│┃]", " ", output).split())  # names may wrap in their cell
    for figure in (
        "Charles Schwab",
        "FIRSTRADE SECURITIES INC.",
        "2020 Q1",
        "2022 Q4",
        "53,577,203",  # Schwab 2020 Q1 net PFOF
        "23.45",  # its QoQ % in 2020 Q2
        "CITADEL SECURITIES",
        "28,511,593",  # options
        "23,043,965",  # non-marketable limit
        "12.5639",  # S&P 500 rate
        "21,805.4",  # implied shares (millions)
        "2,540.98",  # HHI S&P 500
        "Citadel Execution Services",  # a merged spelling
    ):
        assert figure in output, figure


def test_brokers_wide_keeps_one_row_per_broker_and_quarter(store: Path) -> None:
    result = CliRunner().invoke(
        app, ["brokers", "--db", str(store), "--wide"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    rows = [line for line in result.output.splitlines() if "Charles Schwab" in line]
    assert any("2020 Q1" in row and "53,577,203" in row for row in rows)


def test_venues_at_80_columns_groups_spellings_under_their_venue(store: Path) -> None:
    output = _run("venues", "--all", "--db", str(store)).output
    _reads_at_80(output)
    lines = output.splitlines()
    head = next(i for i, line in enumerate(lines) if "│ CITADEL SECURITIES LLC " in line)
    assert "864" in lines[head]  # all spellings' cells together
    assert "Citadel Execution Services" in "".join(lines[head + 1 : head + 3])
    for name in ("Wolverine Executions Services,LLC", "Dash Financial Technologies, LLC"):
        assert name in output


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sim") / "sim"
    result = _run(
        "simulate",
        "--out",
        str(out),
        "--days",
        "1",
        "--orders-per-day",
        "500",
        "--symbols",
        "5",
        "--start",
        date(2026, 3, 2).isoformat(),
    )
    return out, result.output


def test_simulate_at_80_columns_shows_every_table_count(simulated: tuple[Path, str]) -> None:
    _, output = simulated
    _reads_at_80(output)
    for table in ("quotes", "nbbo", "orders", "routes", "fills", "payments"):
        assert f"│ {table} " in output
    orders = next(line for line in output.splitlines() if "│ orders " in line)
    assert orders.rstrip(" │").endswith("500")


def test_quality_at_80_columns_shows_every_measure(simulated: tuple[Path, str]) -> None:
    out, _ = simulated
    output = _run("quality", str(out)).output
    _reads_at_80(output)
    for measure in (
        "orders / filled",
        "avg effective spread /sh",
        "E/Q",
        "price improvement total",
        "realized spread 1 min /sh",
        "time to first fill (ms)",
        "NBBO at receipt: normal",
        "price vs quote: inside",
    ):
        assert measure in output, measure
    assert "wrote 500 rows for 1 day(s)" in output
