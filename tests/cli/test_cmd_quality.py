"""``pfof quality`` on a small directory of canonical Parquet tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pfof.cli import app
from pfof.engine.nbbo import consolidate_nbbo
from pfof.engine.quality import order_quality
from pfof.model.tables import FILLS, ORDER_QUALITY, ORDERS, QUOTES

T0 = 1_767_364_200_000_000_000  # 2026-01-02 14:30 UTC
MS = 1_000_000


def _write(root: Path, name: str, day: str, rows: list[dict], schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=schema)
    path = root / name / f"date={day}" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    return table


def _order(oid: str, ts: int, side: str = "buy") -> dict:
    return {
        "order_id": oid,
        "broker": "B",
        "customer_id": "c",
        "received_ts": ts,
        "symbol": "A",
        "section": "sp500",
        "side": side,
        "quantity": 100.0,
        "order_type": "market",
        "limit_price": None,
        "stop_price": None,
        "time_in_force": "DAY",
        "directed": False,
        "held": True,
    }


def test_quality_command_consolidates_quotes_and_writes_what_the_engine_measures(
    tmp_path: Path,
) -> None:
    quotes = [
        {
            "symbol": "A",
            "ts": T0,
            "venue": "XNYS",
            "bid": 9.99,
            "bid_size": 100,
            "ask": 10.02,
            "ask_size": 100,
        },
        {
            "symbol": "A",
            "ts": T0 + 5 * MS,
            "venue": "XNAS",
            "bid": 10.0,
            "bid_size": 200,
            "ask": 10.01,
            "ask_size": 300,
        },
    ]
    q = _write(tmp_path, "quotes", "2026-01-02", quotes, QUOTES)
    o = _write(
        tmp_path,
        "orders",
        "2026-01-02",
        [_order("o1", T0 + MS), _order("o2", T0 + 10 * MS, "sell")],
        ORDERS,
    )
    f = _write(
        tmp_path,
        "fills",
        "2026-01-02",
        [
            {
                "order_id": "o1",
                "seq": 0,
                "venue": "W",
                "exec_ts": T0 + 2 * MS,
                "quantity": 100.0,
                "price": 10.01,
            },
            {
                "order_id": "gtc-from-yesterday",
                "seq": 0,
                "venue": "W",
                "exec_ts": T0 + 3 * MS,
                "quantity": 5.0,
                "price": 10.0,
            },
        ],
        FILLS,
    )
    result = CliRunner().invoke(app, ["quality", str(tmp_path), "--out", str(tmp_path / "oq")])
    assert result.exit_code == 0, result.output
    assert "1 fills of orders received on another day" in result.output
    written = pq.read_table(tmp_path / "oq" / "date=2026-01-02" / "part-0.parquet")
    assert written.schema.equals(ORDER_QUALITY)
    expected = order_quality(o, f.slice(0, 1), consolidate_nbbo(q))
    assert written.equals(expected)
    # by hand: NBBO 9.99 x 10.02 at receipt (XNAS quotes later), bought at 10.01
    assert written.column("price_improvement_per_share").to_pylist()[0] == pytest.approx(0.01)


def test_quality_command_names_the_day_and_table_the_engine_refuses_in_one_line(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        "nbbo",
        "2026-01-02",
        [],
        pa.schema([("symbol", pa.string()), ("ts", pa.timestamp("ns", "UTC"))]),
    )
    _write(tmp_path, "orders", "2026-01-02", [_order("o1", T0), _order("o1", T0)], ORDERS)
    result = CliRunner().invoke(app, ["quality", str(tmp_path)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {tmp_path}: date=2026-01-02: ")
    assert "nbbo: missing column(s)" in line
