"""``pfof audit``: the same figures as ``pfof.audit`` as JSON, CSV, tables that read at 80
columns and an offline HTML report; unreadable rows on stderr; errors as one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import shared_path
from pfof.app.audit import AUDIT_CSV_COLUMNS, audit
from pfof.cli import app
from pfof.store.ingest import ingest
from pfof.store.schema import connect

TRADES = (
    "trade_id,symbol,side,quantity,price,order_time,order_type,limit_price,broker,venue\n"
    "t1,AAPL,buy,100,155.865,2022-05-10T10:11:12.7-04:00,market,,Charles Schwab,Citadel\n"
    "t2,AAPL,sell,10,155.85,2022-05-10T14:11:12.790Z,limit,155.80,Charles Schwab,\n"
    "t3,MSFT,buy,1,300,2022-05-10T14:11:12.790Z,,,Charles Schwab,\n"
    "t4,AAPL,hold,1,300,2022-05-10T14:11:12.790Z,,,Charles Schwab,\n"
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    """(trades file, --quotes arguments, a store with Schwab's 2022 Q2 report)."""
    root = tmp_path_factory.mktemp("audit")
    trades = root / "trades.csv"
    trades.write_text(TRADES, encoding="utf-8")
    polygon = shared_path("real-quotes", "polygon")
    quotes = [
        str(polygon / "quotes_v3_AAPL_page1.json"),
        str(polygon / "quotes_v3_AAPL_page2.json"),
    ]
    db = root / "schwab.duckdb"
    con = connect(db)
    ingest([shared_path("real-606", "schwab", "606-CHAS-2022Q2.xml")], con)
    con.close()
    return trades, quotes, db


def _args(inputs: tuple[Path, list[str], Path], *extra: str) -> list[str]:
    trades, quotes, db = inputs
    out = ["audit", str(trades), "--db", str(db)]
    for q in quotes:
        out += ["--quotes", q]
    return out + list(extra)


def test_json_equals_the_python_api_and_unreadable_rows_go_to_stderr(
    inputs: tuple[Path, list[str], Path],
) -> None:
    result = CliRunner().invoke(app, _args(inputs, "--json"))
    assert result.exit_code == 0, result.output
    trades, quotes, db = inputs
    assert json.loads(result.stdout) == audit(trades, quotes, db=db).to_json()
    assert [t["trade_id"] for t in json.loads(result.stdout)["trades"]] == ["t1", "t2", "t3"]
    assert f"{trades}:5, side: 'hold' is not a side" in result.stderr


def test_csv_has_one_row_per_trade_with_the_estimate_explained(
    inputs: tuple[Path, list[str], Path],
) -> None:
    result = CliRunner().invoke(app, _args(inputs, "--csv", "--sp500", str(_sp500(inputs))))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == AUDIT_CSV_COLUMNS
    assert [r["trade_id"] for r in rows] == ["t1", "t2", "t3"]
    assert rows[0]["section"] == "sp500" and rows[0]["pfof_basis"] == "venue"
    assert rows[0]["pfof_venue"] == "CITADEL SECURITIES LLC" and rows[0]["pfof_rate"] == "10"
    assert rows[1]["order_type"] == "marketable_limit"
    assert rows[1]["pfof_basis"] == "routing_weighted"
    assert (
        rows[2]["position"] == "no_quote"
        and rows[2]["flags"] == "symbol_not_in_quotes;order_type_assumed"
    )


def _sp500(inputs: tuple[Path, list[str], Path]) -> Path:
    path = inputs[0].parent / "sp500.txt"
    path.write_text("AAPL\nMSFT\n", encoding="utf-8")
    return path


def test_tables_read_at_80_columns_and_the_html_report_works_offline(
    inputs: tuple[Path, list[str], Path], tmp_path: Path
) -> None:
    html = tmp_path / "audit.html"
    result = CliRunner().invoke(app, _args(inputs, "--html", str(html)), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "price improvement, total" in result.stdout and "$0.50" in result.stdout
    assert "section_assumed" in result.stdout  # no --sp500: said, not guessed
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and "Plotly.newPlot" in text
    assert "Worst fills" in text and "t1" in text


def test_errors_are_one_line_with_exit_code_2(inputs: tuple[Path, list[str], Path]) -> None:
    both = CliRunner().invoke(app, _args(inputs, "--json", "--csv"))
    assert both.exit_code == 2 and both.stderr.startswith("error: --json and --csv")
    missing = CliRunner().invoke(app, ["audit", "absent.csv", "--quotes", inputs[1][0]])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: absent.csv: no such file"
    no_quotes = CliRunner().invoke(app, ["audit", str(inputs[0])])
    assert no_quotes.exit_code == 2 and "--quotes" in no_quotes.stderr


def test_rate_and_dividend_yield_price_option_trades_as_the_python_api_does(
    tmp_path: Path,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pfof.model.tables import QUOTES

    t0 = 1_652_191_200 * 1_000_000_000  # 2022-05-10T14:00:00Z
    quotes = pa.Table.from_pylist(
        [
            {"symbol": s, "ts": t0 + dt, "venue": "XCBO", "bid": b, "bid_size": 5, "ask": a,
             "ask_size": 5}
            for s, b, a in [("AAPL", 154.50, 154.54), ("AAPL220520C00155000", 3.15, 3.20)]
            for dt in (0, 60_000_000_000)  # the data runs a minute past the trade
        ],
        schema=QUOTES,
    )  # fmt: skip
    path = tmp_path / "quotes.parquet"
    pq.write_table(quotes, path)
    trades = tmp_path / "trades.csv"
    trades.write_text(
        "trade_id,symbol,side,quantity,price,order_time\n"
        "c1,AAPL220520C00155000,buy,1,3.19,2022-05-10T14:00:05Z\n",
        encoding="utf-8",
    )
    base = ["audit", str(trades), "--quotes", str(path), "--json"]
    result = CliRunner().invoke(app, [*base, "--rate", "0.03", "--dividend-yield", "0.01"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == audit(trades, [path], rate=0.03, dividend_yield=0.01).to_json()
    default = audit(trades, [path]).to_json()["trades"][0]["vol_points_cost"]
    cost = out["trades"][0]["vol_points_cost"]
    assert cost is not None and default is not None and cost != default
    bad = CliRunner().invoke(app, [*base, "--rate", "4.5"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: rate must be")
