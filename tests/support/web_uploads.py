"""A small upload for the dashboard's audit tests: two trades in the trades template and the
NBBO quotes they execute against (AAPL, 2022-05-10)."""

from __future__ import annotations

from pfof.formats.trades import TEMPLATE_COLUMNS

QUOTES = (
    b"symbol,ts,bid,bid_size,ask,ask_size\n"
    b"AAPL,2022-05-10T14:11:00Z,155.80,100,155.90,200\n"
    b"AAPL,2022-05-10T14:12:00Z,155.82,100,155.92,200\n"
)
ROWS = (
    {
        "trade_id": "T-1",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": "100",
        "price": "155.865",
        "order_time": "2022-05-10T14:11:12Z",
        "execution_time": "2022-05-10T14:11:12.9Z",
        "order_type": "market",
    },
    {
        "trade_id": "T-2",
        "symbol": "AAPL",
        "side": "sell",
        "quantity": "10",
        "price": "155.84",
        "order_time": "2022-05-10T14:11:30Z",
        "execution_time": "2022-05-10T14:11:30.5Z",
        "order_type": "market",
    },
)


def trades_csv() -> bytes:
    """Two trades in the trades template."""
    lines = [",".join(TEMPLATE_COLUMNS)]
    lines += [",".join(row.get(c, "") for c in TEMPLATE_COLUMNS) for row in ROWS]
    return ("\n".join(lines) + "\n").encode()
