"""``pfof quotes``: real market data to canonical tables, the same numbers as the Python API."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from conftest import shared_path
from pfof.cli import app
from pfof.engine.nbbo import quotes_to_nbbo
from pfof.formats.market_data import read_quotes
from pfof.model.tables import NBBO, QUOTES


def test_taq_quotes_and_their_nbbo_are_written_by_new_york_day(tmp_path: Path) -> None:
    sample = shared_path("real-quotes", "sampleQDataRaw.parquet")
    result = CliRunner().invoke(app, ["quotes", str(sample), "--nbbo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "131,401 per-venue quotes" in result.output and "XNYS" in result.output
    nbbo = quotes_to_nbbo(read_quotes(sample))
    assert f"NBBO: {nbbo.num_rows:,} rows" in result.output
    days = sorted(p.name for p in (tmp_path / "nbbo").iterdir())
    assert days == ["date=2018-01-02", "date=2018-01-03"]
    written = pa.concat_tables(
        [pq.read_table(tmp_path / "nbbo" / d / "part-0.parquet") for d in days]
    )
    assert written.schema.equals(NBBO) and written.equals(nbbo)
    quotes = pq.read_table(tmp_path / "quotes" / days[0] / "part-0.parquet")
    assert quotes.schema.equals(QUOTES)


def test_consolidated_pages_are_written_as_nbbo(tmp_path: Path) -> None:
    pages = [
        str(shared_path("real-quotes", "polygon", f"quotes_v3_AAPL_page{k}.json")) for k in (1, 2)
    ]
    result = CliRunner().invoke(app, ["quotes", *pages, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "20 consolidated quotes" in result.output and "normal 20" in result.output
    assert not (tmp_path / "quotes").exists()
    assert pq.read_table(tmp_path / "nbbo" / "date=2022-05-10" / "part-0.parquet").num_rows == 20


def test_a_time_without_zone_is_one_error_line_asking_for_tz(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("Sym,T,B,A\nXYZ,2022-05-10 10:30:00,1,2\n", encoding="utf-8")
    args = ["quotes", str(path), "--map", "symbol=Sym,ts=T,bid=B,ask=A"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "has no time zone; pass tz (--tz)" in result.output
    ok = CliRunner().invoke(app, [*args, "--tz", "America/New_York"])
    assert ok.exit_code == 0 and "1 consolidated quotes" in ok.output
