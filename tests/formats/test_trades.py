"""The trades template reader: every column, times with offsets or a zone, column maps,
Parquet, and rows that cannot be read reported with their line while the others are read."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pfof.errors import InputError, ParameterError, Severity
from pfof.formats.trades import (
    TEMPLATE_COLUMNS,
    parse_column_map,
    parse_time_ns,
    read_symbols,
    read_trades,
)
from pfof.model.trade_records import INVESTOR_TRADES

HEADER = ",".join(TEMPLATE_COLUMNS)
NS = 1_000_000_000


def _ns(text: str) -> int:
    """UTC ns of an ISO time with at most microseconds (datetime's own parser)."""
    dt = datetime.fromisoformat(text).astimezone(UTC)
    return int(dt.timestamp()) * NS + dt.microsecond * 1000


def test_a_template_row_reads_every_column_exactly() -> None:
    text = (
        f"{HEADER}\n"
        "T-1,aapl,Buy,100.5,155.8650,2022-05-10T10:11:12.800638700-04:00,"
        "2022-05-10T14:11:12.9Z,limit,155.87,Charles Schwab,CDRG\n"
    )
    read = read_trades(text.encode())
    assert read.valid and read.issues == ()
    assert read.table.schema == INVESTOR_TRADES
    row = read.table.to_pylist()[0]
    assert row["trade_id"] == "T-1" and row["symbol"] == "AAPL" and row["side"] == "buy"
    assert row["quantity"] == Decimal("100.5") and row["price"] == Decimal("155.865")
    assert row["limit_price"] == Decimal("155.87")
    ns = read.table.column("order_ts").cast(pa.int64()).to_pylist()[0]
    assert ns == _ns("2022-05-10T14:11:12+00:00") + 800_638_700
    assert read.table.column("execution_ts").cast(pa.int64())[0].as_py() == _ns(
        "2022-05-10T14:11:12.900+00:00"
    )
    assert (row["order_type"], row["broker"], row["venue"], row["line"]) == (
        "limit",
        "Charles Schwab",
        "CDRG",
        2,
    )


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2022-05-10T14:11:12Z", None, "2022-05-10T14:11:12+00:00"),
        ("2022-05-10 10:11:12+0400", None, "2022-05-10T06:11:12+00:00"),
        ("2022-05-10T10:11:12.5-04", None, "2022-05-10T14:11:12.5+00:00"),
        ("2022-05-10T10:11:12", "America/New_York", "2022-05-10T14:11:12+00:00"),
        ("2022-01-10T10:11:12", "America/New_York", "2022-01-10T15:11:12+00:00"),
        ("2022-05-10T10:11", "UTC", "2022-05-10T10:11:00+00:00"),
    ],
)
def test_times_with_an_offset_are_exact_and_without_one_read_in_the_zone_given(
    text: str, tz: str | None, expected: str
) -> None:
    from zoneinfo import ZoneInfo

    assert parse_time_ns(text, ZoneInfo(tz) if tz else None) == _ns(expected)


def test_nanoseconds_survive_and_a_time_without_offset_or_zone_is_refused() -> None:
    assert parse_time_ns("1970-01-01T00:00:00.000000001Z", None) == 1
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_time_ns("2022-05-10T10:11:12", None)
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_time_ns("10/05/2022 10:11", None)
    with pytest.raises(ValueError, match="month must be"):
        parse_time_ns("2022-13-10T10:11:12Z", None)


def test_unreadable_rows_are_reported_with_line_and_reason_and_the_rest_read() -> None:
    text = (
        "trade_id,symbol,side,quantity,price,order_time\n"
        "1,AAPL,buy,10,155.86,2022-05-10T14:11:12Z\n"
        "2,AAPL,hold,10,155.86,2022-05-10T14:11:12Z\n"
        "\n"
        "3,AAPL,sell,-5,155.86,2022-05-10T14:11:12Z\n"
        '4,"AAPL",sell,5,abc,2022-05-10T14:11:12Z\n'
        "5,AAPL,sell,5,155.86,2022-05-10 10:11:12\n"
        "6,,sell,5,155.86,2022-05-10T14:11:12Z\n"
        "7,AAPL,sell,5,155.86,\n"
        "8,MSFT,sell,5,$300.10,2022-05-10T14:11:12Z\n"
    )
    read = read_trades(io.BytesIO(text.encode()), name="mine.csv")
    assert read.table.column("trade_id").to_pylist() == ["1", "8"]
    assert read.table.column("price").to_pylist()[1] == Decimal("300.10")
    found = [(i.line, i.column) for i in read.errors]
    assert found == [
        (3, "side"),
        (5, "quantity"),
        (6, "price"),
        (7, "order_time"),
        (8, "symbol"),
        (9, "order_time"),
    ]
    assert all(i.file == "mine.csv" and "row skipped" in i.message for i in read.errors)
    assert "no UTC offset" in read.errors[3].message
    assert not read.valid


def test_quoted_newlines_keep_line_numbers_true() -> None:
    text = (
        "trade_id,symbol,side,quantity,price,order_time\n"
        '"a\nb",AAPL,buy,1,1,2022-05-10T14:11:12Z\n'
        "2,AAPL,buy,0,1,2022-05-10T14:11:12Z\n"
    )
    read = read_trades(text.encode())
    assert [i.line for i in read.errors] == [4]


def test_a_row_with_only_an_execution_time_is_read_and_one_with_neither_is_not() -> None:
    text = (
        "trade_id,symbol,side,quantity,price,execution_time\n"
        "1,AAPL,buy,1,1,2022-05-10T14:11:12Z\n"
        "2,AAPL,buy,1,1,\n"
    )
    read = read_trades(text.encode())
    assert read.table.column("order_ts").null_count == 1
    assert read.table.num_rows == 1 and [i.line for i in read.errors] == [3]


def test_a_column_map_reads_another_layout_and_headers_match_case_insensitively() -> None:
    text = (
        "Order ID;Ticker;ACTION;Shares;Fill Price;Time\n"
        "9;msft;Sell Short;3;300.5;2022-05-10T14:11:12Z\n"
    )
    read = read_trades(
        text.encode(),
        columns="trade_id=order id,symbol=Ticker,side=action,quantity=Shares,"
        "price=Fill Price,order_time=time",
    )
    assert read.table.to_pylist()[0]["side"] == "sell"
    assert read.table.to_pylist()[0]["symbol"] == "MSFT"


def test_missing_required_columns_and_bad_maps_are_refused_naming_them() -> None:
    with pytest.raises(InputError, match="missing required column"):
        read_trades(b"trade_id,symbol,side,price,order_time\n1,A,buy,1,x\n")
    with pytest.raises(InputError, match="no such column"):
        read_trades(b"trade_id,symbol\n", columns={"side": "Action"})
    with pytest.raises(ParameterError, match="not a trades template column"):
        parse_column_map("ticker=Symbol")
    with pytest.raises(ParameterError, match="expected TEMPLATE_COLUMN=FILE_COLUMN"):
        parse_column_map("symbol")
    with pytest.raises(ParameterError, match="unknown time zone"):
        read_trades(b"", tz="Mars/Olympus")
    with pytest.raises(InputError, match="empty"):
        read_trades(b"\n\n")
    with pytest.raises(InputError, match="no such file"):
        read_trades(Path("/nonexistent/trades.csv"))


def test_unknown_order_types_and_repeated_ids_are_warnings_not_errors() -> None:
    text = (
        "trade_id,symbol,side,quantity,price,order_time,order_type\n"
        "1,AAPL,buy,1,1,2022-05-10T14:11:12Z,trailing stop\n"
        "1,AAPL,buy,1,1,2022-05-10T14:11:12Z,STP LMT\n"
    )
    read = read_trades(text.encode())
    assert read.valid and read.table.num_rows == 2
    assert read.table.column("order_type").to_pylist() == ["other", "stop_limit"]
    assert [(i.rule, i.severity) for i in read.issues] == [
        ("order-type", Severity.WARNING),
        ("trade-id-repeated", Severity.WARNING),
    ]


def test_option_symbols_are_read_in_one_canonical_spelling() -> None:
    text = (
        "trade_id,symbol,side,quantity,price,order_time\n"
        "1,O:AAPL220520C00155000,buy,2,3.15,2022-05-10T14:11:12Z\n"
        "2,AAPL  220520C00155000,buy,2,3.15,2022-05-10T14:11:12Z\n"
    )
    read = read_trades(text.encode())
    assert read.table.column("symbol").to_pylist() == ["AAPL220520C00155000"] * 2


def test_parquet_with_typed_columns_reads_like_csv(tmp_path: Path) -> None:
    ts = pa.array([_ns("2022-05-10T14:11:12+00:00") + 7], pa.timestamp("ns", tz="UTC"))
    table = pa.table(
        {
            "trade_id": ["p1"],
            "symbol": ["AAPL"],
            "side": ["sell"],
            "quantity": [100],
            "price": [155.85],
            "order_time": ts,
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    read = read_trades(path)
    row = read.table.to_pylist()[0]
    assert row["price"] == Decimal("155.85") and row["quantity"] == Decimal(100)
    assert read.table.column("order_ts").cast(pa.int64())[0].as_py() % 1000 == 7
    naive = table.set_column(5, "order_time", ts.cast(pa.timestamp("ns")))
    pq.write_table(naive, path)
    with pytest.raises(InputError, match="without a time zone"):
        read_trades(path)
    local = read_trades(path, tz="America/New_York")
    utc = local.table.column("order_ts").cast(pa.int64())[0].as_py()
    assert utc - _ns("2022-05-10T14:11:12+00:00") == 4 * 3600 * NS + 7


def test_a_symbol_list_skips_headers_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "sp500.csv"
    path.write_text("Symbol,Name\naapl,Apple\n# comment\n\nMSFT,Microsoft\n", encoding="utf-8")
    assert read_symbols(path) == frozenset({"AAPL", "MSFT"})
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(InputError, match="lists no symbol"):
        read_symbols(path)


def test_a_number_in_a_time_column_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    table = pa.table(
        {
            "trade_id": ["n1"],
            "symbol": ["AAPL"],
            "side": ["buy"],
            "quantity": [1],
            "price": [1.5],
            "order_time": [1_652_191_872_000],  # milliseconds? nanoseconds? not said
        }
    )
    path = tmp_path / "numbers.parquet"
    pq.write_table(table, path)
    read = read_trades(path)
    assert read.table.num_rows == 0
    assert [(i.line, i.column) for i in read.errors] == [(1, "order_time")]
    assert "is a number, not a time" in read.errors[0].message
