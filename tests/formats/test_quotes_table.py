"""formats.quotes_table: any CSV or Parquet of quotes through a column map, and the time-zone
rules (a time without zone is refused unless tz says which zone it is in)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pfof.errors import InputError, ParameterError
from pfof.formats.quotes_table import read_quote_table, read_trade_table, utc_timestamps
from pfof.model.tables import NBBO_VENUES, QUOTES, TRADES

#: 2022-05-10 14:30:00 UTC (10:30 in New York, EDT = UTC-4).
T0 = 1_652_193_000_000_000_000
BROKER_MAP = "symbol=Sym,ts=Time,venue=Exch,bid=BidPx,bid_size=BidSz,ask=AskPx,ask_size=AskSz"


def _write(tmp_path: Path, text: str, name: str = "quotes.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _ns(table: pa.Table) -> list[int]:
    return pc.cast(table["ts"], pa.int64()).to_pylist()


def test_a_column_map_and_tz_read_a_brokers_csv_as_per_venue_quotes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Sym,Time,Exch,BidPx,BidSz,AskPx,AskSz\n"
        "AAPL,2022-05-10 10:30:00,XNAS,155.10,300,155.12,200\n"
        "AAPL,2022-05-10 10:30:00.000000001,ARCX,155.11,100,155.13,100\n",
    )
    quotes = read_quote_table(path, columns=BROKER_MAP, tz="America/New_York")
    assert quotes.schema.equals(QUOTES)
    assert _ns(quotes) == [T0, T0 + 1]
    assert quotes.to_pylist()[1]["venue"] == "ARCX"
    assert quotes.to_pylist()[0]["bid_size"] == 300


def test_times_without_zone_are_refused_unless_tz_is_given(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "Sym,Time,BidPx,AskPx\nAAPL,2022-05-10 10:30:00,155.10,155.12\n", "nbbo.csv"
    )
    columns = {"symbol": "Sym", "ts": "Time", "bid": "BidPx", "ask": "AskPx"}
    with pytest.raises(InputError, match=r"nbbo\.csv: line 2: Time .* has no time zone; pass tz"):
        read_quote_table(path, columns=columns)
    got = read_quote_table(path, columns=columns, tz="America/New_York")
    assert got.schema.equals(NBBO_VENUES) and _ns(got) == [T0]
    assert got.to_pylist()[0]["bid_size"] is None


def test_offsets_and_epoch_integers_need_no_tz(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "symbol,ts,bid,ask\n"
        "A,2022-05-10T10:30:00-04:00,1,2\n"
        "A,2022-05-10T14:30:00.5Z,1,2\n"
        "A,2022-05-10 15:30:00+01:00,1,2\n",
    )
    assert _ns(read_quote_table(path)) == [T0, T0 + 500_000_000, T0]
    for unit, value in (("s", T0 // 10**9), ("ms", T0 // 10**6), ("ns", T0)):
        epoch = _write(tmp_path, f"symbol,ts,bid,ask\nA,{value},1,2\n", f"epoch_{unit}.csv")
        assert _ns(read_quote_table(epoch)) == [T0], unit


def test_mixed_offsets_use_tz_for_the_rest_only(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "symbol,ts,bid,ask\nA,2022-05-10T10:30:00-04:00,1,2\nA,2022-05-10 10:30:00,1,2\n"
    )
    with pytest.raises(InputError, match=r"line 3: ts 2022-05-10 10:30:00 has no time zone"):
        read_quote_table(path)
    assert _ns(read_quote_table(path, tz="America/New_York")) == [T0, T0]


def test_parquet_timestamps_with_and_without_zone(tmp_path: Path) -> None:
    naive = pa.array([T0], pa.timestamp("ns"))
    table = pa.table({"symbol": ["A"], "ts": naive, "bid": [1.0], "ask": [2.0]})
    pq.write_table(table, tmp_path / "naive.parquet")
    with pytest.raises(InputError, match=r"naive\.parquet: row 1: ts .* has no time zone"):
        read_quote_table(tmp_path / "naive.parquet")
    assert _ns(read_quote_table(tmp_path / "naive.parquet", tz="UTC")) == [T0]
    zoned = table.set_column(1, "ts", naive.cast(pa.timestamp("us", tz="Europe/Paris")))
    pq.write_table(zoned, tmp_path / "zoned.parquet")
    assert _ns(read_quote_table(tmp_path / "zoned.parquet")) == [T0]


def test_a_date_column_with_a_time_of_day(tmp_path: Path) -> None:
    path = _write(tmp_path, "Day,Clock,Px,Ask\n2022-05-10,10:30:00,1,2\n")
    columns = "date=Day,ts=Clock,bid=Px,ask=Ask"
    got = read_quote_table(path, columns=columns, tz="America/New_York", symbol="AAPL")
    assert _ns(got) == [T0] and got.to_pylist()[0]["symbol"] == "AAPL"


def test_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "symbol,ts,bid,ask\nA,2022-05-10T10:30:00Z,1.5,2\nA,bad,1,2\n")
    with pytest.raises(InputError, match=r"quotes\.csv: line 3: ts 'bad' is not an ISO 8601 time"):
        read_quote_table(path)
    path = _write(tmp_path, "symbol,ts,bid,ask\nA,2022-05-10T10:30:00Z,x,2\n")
    with pytest.raises(InputError, match=r"quotes\.csv: line 2: bid 'x' is not a number"):
        read_quote_table(path)
    with pytest.raises(InputError, match=r"no column 'BidPx' \(mapped to bid\)"):
        read_quote_table(path, columns="bid=BidPx")
    with pytest.raises(ParameterError, match=r"'spread' is not a column pfof reads"):
        read_quote_table(path, columns="spread=X")
    with pytest.raises(ParameterError, match=r"expected COLUMN=FILE_COLUMN"):
        read_quote_table(path, columns="bid")
    with pytest.raises(ParameterError, match=r"unknown time zone 'Mars/Olympus'"):
        read_quote_table(path, tz="Mars/Olympus")
    venues = _write(tmp_path, "symbol,ts,venue,bid,ask\nA,2022-05-10T10:30:00Z,XNAS,1,2\n")
    with pytest.raises(InputError, match=r"per-venue quotes need the column\(s\) bid_size"):
        read_quote_table(venues)


def test_trades_through_a_column_map(tmp_path: Path) -> None:
    path = _write(tmp_path, "Sym,When,Px,Qty,Mkt\nAAPL,2022-05-10T14:30:00Z,155.1,0.5,XNAS\n")
    trades = read_trade_table(path, columns="symbol=Sym,ts=When,price=Px,size=Qty,venue=Mkt")
    assert trades.schema.equals(TRADES)
    assert trades.to_pylist()[0] | {"ts": None} == {
        "symbol": "AAPL",
        "ts": None,
        "venue": "XNAS",
        "price": 155.1,
        "size": 0.5,
        "conditions": None,
        "correction": None,
    }


def test_utc_timestamps_refuses_an_empty_time() -> None:
    with pytest.raises(InputError, match=r"f\.csv: line 3: ts is empty"):
        utc_timestamps(
            pa.array(["2022-05-10T10:30:00Z", None]),
            tz=None,
            path="f.csv",
            column="ts",
            csv_file=True,
        )
