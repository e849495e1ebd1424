"""formats.quotes_polygon: the real AAPL v3 quote pages and trades read exactly (SIP
nanoseconds, exchange ids as MICs, round lots as shares, newest-first pages in time order)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import shared_path
from pfof.errors import InputError
from pfof.formats.quotes_polygon import (
    SHARES_SINCE_NS,
    read_polygon_quotes,
    read_polygon_trades,
)
from pfof.model.tables import NBBO_VENUES, TRADES


def _pages() -> list[Path]:
    return [
        shared_path("real-quotes", "polygon", "quotes_v3_AAPL_page1.json"),
        shared_path("real-quotes", "polygon", "quotes_v3_AAPL_page2.json"),
    ]


def _ns(table: pa.Table) -> list[int]:
    return pc.cast(table["ts"], pa.int64()).to_pylist()


def test_quote_pages_become_nbbo_rows_in_time_order() -> None:
    quotes = read_polygon_quotes(_pages())
    assert quotes.schema.equals(NBBO_VENUES)
    assert quotes.num_rows == 20
    ts = _ns(quotes)
    assert ts == sorted(ts)
    assert ts[0] == 1652191872663407429 and ts[-1] == 1652191872800638700
    rows = quotes.to_pylist()
    assert {r["symbol"] for r in rows} == {"AAPL"}  # from page 1's next_url, for both pages
    first, last = rows[0], rows[-1]
    assert (first["bid"], first["bid_size"], first["ask"], first["ask_size"]) == (
        155.85,
        400,
        155.87,
        200,
    )
    assert (first["bid_venue"], first["ask_venue"]) == ("BATS", "BATS")  # exchange 19
    assert (last["bid_venue"], last["ask_venue"]) == ("BATS", "IEXG")  # 19 and 15
    venues = {r["bid_venue"] for r in rows}
    assert venues == {"BATS", "IEXG", "MEMX", "ARCX", "XNAS"}  # 19, 15, 21, 11, 12


def test_sip_nanoseconds_are_utc() -> None:
    """1652191872663407429 ns is 2022-05-10 14:11:12.663407429 UTC, 10:11 in New York."""
    quotes = read_polygon_quotes(_pages())
    first = quotes["ts"][0]
    assert first.type == pa.timestamp("ns", tz="UTC")
    assert str(first.cast(pa.timestamp("ns")).as_py()).startswith("2022-05-10 14:11:12.663407")
    local = pc.local_timestamp(quotes["ts"].cast(pa.timestamp("ns", tz="America/New_York")))
    assert str(local[0].as_py()).startswith("2022-05-10 10:11:12.663407")


def test_a_page_without_a_ticker_needs_symbol() -> None:
    page2 = _pages()[1]  # the last page has no next_url
    with pytest.raises(InputError, match=r"page2\.json: result 1: no ticker .* pass symbol="):
        read_polygon_quotes([page2])
    assert read_polygon_quotes([page2], symbol="AAPL").num_rows == 10


def test_trades_map_exchange_ids_and_keep_conditions_and_corrections() -> None:
    path = shared_path("real-quotes", "polygon", "trades_v3_AAPL_limit2.json")
    trades = read_polygon_trades([path], symbol="AAPL")
    assert trades.schema.equals(TRADES)
    rows = trades.to_pylist()
    assert [(r["venue"], r["price"], r["size"]) for r in rows] == [
        ("ARCX", 156.43, 10.0),
        ("XNAS", 157.43, 10.0),
    ]
    assert {(r["conditions"], r["correction"]) for r in rows} == {("12 37", 1)}
    assert _ns(trades) == [1651181822461979400] * 2
    with pytest.raises(InputError, match=r"holds trades, not quotes"):
        read_polygon_quotes([path], symbol="AAPL")


def _page(tmp_path: Path, results: list[dict]) -> Path:
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"status": "OK", "results": results}), encoding="utf-8")
    return path


def test_zero_sides_are_missing_and_sizes_are_shares_from_november_2025(tmp_path: Path) -> None:
    before, after = SHARES_SINCE_NS - 1, SHARES_SINCE_NS
    path = _page(
        tmp_path,
        [
            {"sip_timestamp": before, "bid_price": 10.0, "bid_size": 3, "bid_exchange": 10},
            {
                "sip_timestamp": after,
                "bid_price": 10.0,
                "bid_size": 30,
                "bid_exchange": 10,
                "ask_price": 0,
                "ask_size": 0,
                "ask_exchange": 12,
            },
        ],
    )
    rows = read_polygon_quotes([path], symbol="XYZ").to_pylist()
    assert [(r["bid_size"], r["bid_venue"]) for r in rows] == [(300, "XNYS"), (30, "XNYS")]
    assert [(r["ask"], r["ask_size"], r["ask_venue"]) for r in rows] == [(None, None, None)] * 2


def test_a_float_timestamp_or_a_failed_page_is_refused(tmp_path: Path) -> None:
    path = _page(tmp_path, [{"sip_timestamp": 1.5e18, "bid_price": 1.0, "bid_size": 1}])
    with pytest.raises(InputError, match=r"page\.json: result 1: sip_timestamp .* not an integer"):
        read_polygon_quotes([path], symbol="XYZ")
    path.write_text('{"status": "ERROR", "results": []}', encoding="utf-8")
    with pytest.raises(InputError, match=r"status 'ERROR'"):
        read_polygon_quotes([path], symbol="XYZ")
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"page\.json: not JSON"):
        read_polygon_quotes([path], symbol="XYZ")
    path.write_text('{"results": [' + "9" * 5000 + "]}", encoding="utf-8")  # > int digit limit
    with pytest.raises(InputError, match=r"page\.json: not JSON .*digits"):
        read_polygon_quotes([path], symbol="XYZ")
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match=r"page\.json: not JSON .*nested too deeply"):
        read_polygon_quotes([path], symbol="XYZ")
