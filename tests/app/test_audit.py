"""``pfof.audit`` on the real market-data samples: trades placed at chosen times, every figure
equal to the independent reference (tests/support/reference_audit.py), no trade dropped, the
payment estimate from a real broker's 606 report, and option contracts priced per contract."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from pfof.app.audit import AUDIT_JSON_KEYS, audit
from pfof.errors import InputError, ParameterError
from pfof.formats.market_data import read_quotes
from pfof.formats.sec606 import read_606
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import a1_cells
from pfof.model.tables import QUOTES
from pfof.store.ingest import ingest
from pfof.store.schema import connect
from support.reference_audit import (
    NS,
    Book,
    Quote,
    databento_book,
    expected_trade,
    polygon_book,
    routing_weighted_rate,
    taq_book,
    venue_rate,
)
from support.reference_option_quality import YEAR_NS, ref_iv, ref_parse_osi

TEMPLATE = (
    "trade_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "order_time",
    "execution_time",
    "order_type",
    "limit_price",
    "broker",
    "venue",
)


def ns(text: str) -> int:
    """UTC nanoseconds of an ISO time with an offset and up to 9 fraction digits."""
    match = re.fullmatch(r"([^.]+)(?:\.(\d+))?(.*)", text)
    assert match is not None
    head, digits, zone = match.groups()
    whole = int(datetime.fromisoformat(head + zone).timestamp()) * NS
    return whole + int((digits or "").ljust(9, "0"))


def iso(t: int) -> str:
    seconds, nanos = divmod(t, NS)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def trades_csv(rows: list[dict[str, Any]]) -> bytes:
    lines = [",".join(TEMPLATE)]
    for row in rows:
        values = dict(row)
        for key in ("order_time", "execution_time"):
            if isinstance(values.get(key), int):
                values[key] = iso(values[key])
        lines.append(",".join("" if values.get(c) is None else str(values[c]) for c in TEMPLATE))
    return ("\n".join(lines) + "\n").encode()


def _fraction(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def check_against_reference(
    book: Book, rows: list[dict[str, Any]], out: dict[str, Any], multiplier: int = 1
) -> list[str]:
    """Assert every trade of ``out`` (``to_json()``) equals the reference; the positions."""
    assert [t["trade_id"] for t in out["trades"]] == [r["trade_id"] for r in rows]
    positions = []
    for row, got in zip(rows, out["trades"], strict=True):
        t = row.get("order_time") or row["execution_time"]
        want = expected_trade(
            book,
            row["symbol"],
            row["side"],
            Fraction(str(row["quantity"])),
            Fraction(str(row["price"])),
            t,
            multiplier,
        )
        where = f"trade {row['trade_id']}"
        assert got["position"] == want["position"], where
        assert ("extended_hours" in got["flags"]) == want["extended_hours"], where
        if want["why"] is not None:
            assert want["why"] in got["flags"], (where, got["flags"])
        assert got["quote_time"] == (None if want["quote_ts"] is None else iso(want["quote_ts"]))
        assert _fraction(got["nbbo_bid"]) == want["bid"], where
        assert _fraction(got["nbbo_ask"]) == want["ask"], where
        age = None if want["quote_ts"] is None else (t - want["quote_ts"]) / 1e6
        assert got["quote_age_ms"] == age, where
        for key, ref in (
            ("price_improvement_per_share", "pi_per_share"),
            ("price_improvement_usd", "pi_usd"),
            ("effective_spread", "effective_spread"),
        ):
            assert _fraction(got[key]) == want[ref], (where, key)
        eq = want["eq_ratio"]
        if eq is None:
            assert got["eq_ratio"] is None, where
        else:
            assert abs(Fraction(got["eq_ratio"]) - eq) <= Fraction(1, 2 * 10**6), where
        positions.append(got["position"])
    return positions


# ---------------------------------------------------------------- TAQ (per-venue quotes)


@pytest.fixture(scope="module")
def taq() -> tuple[Path, Book]:
    path = shared_path("real-quotes", "sampleQDataRaw.parquet")
    return path, taq_book(path)


def _taq_trades(path: Path) -> list[dict[str, Any]]:
    raw = pq.read_table(path, columns=["DT"]).column("DT").cast("int64").to_pylist()
    stamp = raw[50_000]  # a real quote's own time stamp: a trade then sees that quote
    e = "2018-01-02T{}-05:00"
    f = "2018-01-03T{}-05:00"
    rows = [
        ("inside", "buy", "100", "158.55", ns(e.format("09:45:00"))),
        ("at", "sell", "50", "157.04", ns(f.format("09:35:00"))),
        ("outside", "buy", "10", "157.08", ns(f.format("09:35:00.000000001"))),
        ("crossed", "buy", "100", "156.50", ns(e.format("10:30:00"))),
        ("locked", "sell", "100", "157.38", ns(f.format("15:00:00"))),
        ("fractional", "buy", "0.125", "157.2", ns(f.format("15:59:00.5"))),
        ("on-stamp", "sell", "200", "156.9", stamp),
        ("before-stamp", "sell", "200", "156.9", stamp - 1),
        ("before-data", "buy", "1", "156", ns(e.format("03:00:00"))),
        ("overnight", "buy", "1", "156", ns(f.format("05:00:00"))),
        # the NBBO in force was last set before the open (09:29:55, 09:24:12 crossed): a
        # pre-market trade takes it (flagged), a trade of the session does not
        ("early", "sell", "1", "158", ns(e.format("06:30:00"))),
        ("pre-market", "buy", "1", "158", ns(e.format("09:29:59"))),
        ("after-open", "buy", "1", "158", ns(e.format("09:30:00.010"))),
        ("after-open-crossed", "sell", "1", "157", ns(f.format("09:30:00.100"))),
        ("post-close", "buy", "1", "158", ns(e.format("16:30:00"))),
        ("after-data", "sell", "1", "157", ns(f.format("19:59:00"))),
    ]
    out = [
        {"trade_id": i, "symbol": "XXX", "side": s, "quantity": q, "price": p, "order_time": t}
        for i, s, q, p, t in rows
    ]
    out.append(
        {
            "trade_id": "other-symbol",
            "symbol": "YYY",
            "side": "buy",
            "quantity": "1",
            "price": "10",
            "order_time": ns(e.format("10:00:00")),
        }
    )
    out.append(
        {
            "trade_id": "exec-only",
            "symbol": "XXX",
            "side": "buy",
            "quantity": "3",
            "price": "158.50",
            "execution_time": ns(e.format("09:45:00.25")),
        }
    )
    return out


def test_taq_trades_equal_the_reference_at_every_chosen_time(taq: tuple[Path, Book]) -> None:
    path, book = taq
    rows = _taq_trades(path)
    result = audit(trades_csv(rows), [path])
    out = result.to_json()
    positions = check_against_reference(book, rows, out)
    assert set(positions) == {"inside", "at", "outside", "no_quote"}
    by_id = {t["trade_id"]: t for t in out["trades"]}
    # a crossed NBBO is measured against its far side and flagged; no E/Q
    crossed = by_id["crossed"]
    assert crossed["position"] == "inside" and "crossed_quote" in crossed["flags"]
    assert Fraction(crossed["nbbo_bid"]) > Fraction(crossed["nbbo_ask"])
    assert crossed["eq_ratio"] is None and crossed["effective_spread"] is not None
    for trade_id in ("after-open", "after-open-crossed"):
        assert by_id[trade_id]["flags"] == ["pre_open_quote"], trade_id
        assert by_id[trade_id]["position"] == "no_quote"
    # extended hours: measured against that day's own NBBO, and flagged
    for trade_id in ("early", "pre-market", "post-close"):
        trade = by_id[trade_id]
        assert trade["flags"][0] == "extended_hours", trade_id
        assert trade["position"] != "no_quote" and trade["quote_time"] is not None, trade_id
        assert trade["quote_time"][:10] == "2018-01-02"
    assert by_id["pre-market"]["quote_time"] < "2018-01-02T14:30"  # a pre-open quote, used
    for trade_id in ("before-data", "overnight", "after-data"):
        assert "extended_hours" in by_id[trade_id]["flags"], trade_id
    regular = {"inside", "at", "outside", "crossed", "locked", "fractional", "exec-only"}
    assert all("extended_hours" not in by_id[i]["flags"] for i in regular)
    assert by_id["locked"]["eq_ratio"] is None and "locked_quote" in by_id["locked"]["flags"]
    assert by_id["exec-only"]["flags"] == ["execution_time"]
    assert by_id["on-stamp"]["quote_time"] == iso(pq_stamp(path))
    assert out["summary"]["trades"] == len(rows)  # no_quote trades are kept, never dropped
    assert out["summary"]["with_quote"] == sum(p != "no_quote" for p in positions)
    total = sum(Fraction(t["price_improvement_usd"] or 0) for t in out["trades"])
    assert Fraction(out["summary"]["total_price_improvement_usd"]) == total


def pq_stamp(path: Path) -> int:
    return pq.read_table(path, columns=["DT"]).column("DT").cast("int64")[50_000].as_py()


# ---------------------------------------------------------------- Polygon (SIP NBBO pages)


def _polygon() -> list[Path]:
    folder = shared_path("real-quotes", "polygon")
    return [folder / "quotes_v3_AAPL_page1.json", folder / "quotes_v3_AAPL_page2.json"]


def _polygon_trades() -> list[dict[str, Any]]:
    day = "2022-05-10T10:11:{}-04:00"
    rows = [
        ("p-inside", "buy", "100", "155.865", day.format("12.7"), "market", None, "Citadel"),
        ("p-at", "sell", "30", "155.85", day.format("12.760"), "market", None, None),
        ("p-limit", "sell", "10", "155.85", day.format("12.790"), "limit", "155.80", None),
        ("p-stamp", "buy", "7", "155.87", day.format("12.800638700"), None, None, None),
        ("p-early", "buy", "1", "155.87", day.format("12.6"), "market", None, None),
        ("p-late", "buy", "1", "155.87", day.format("13"), "market", None, None),
    ]
    return [
        {
            "trade_id": i,
            "symbol": "AAPL",
            "side": s,
            "quantity": q,
            "price": p,
            "order_time": ns(t),
            "order_type": ot,
            "limit_price": lp,
            "broker": "Charles Schwab",
            "venue": v,
        }
        for i, s, q, p, t, ot, lp, v in rows
    ]


@pytest.fixture(scope="module")
def schwab_2022q2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("store") / "schwab.duckdb"
    con = connect(db)
    ingest([shared_path("real-606", "schwab", "606-CHAS-2022Q2.xml")], con)
    con.close()
    return db


def _schwab_cells(section: Section, order_type: OrderType) -> list[Any]:
    report = read_606(shared_path("real-606", "schwab", "606-CHAS-2022Q2.xml")).report
    return [c for c in a1_cells(report) if c.section is section and c.order_type is order_type]


def _micro(value: Fraction) -> Fraction:
    """Half-up to micro-dollars, written out by hand."""
    scaled = abs(value) * 10**6
    q, r = divmod(scaled.numerator, scaled.denominator)
    q += 2 * r >= scaled.denominator
    return Fraction(q if value >= 0 else -q, 10**6)


def test_polygon_pages_and_schwab_606_give_the_reference_figures_and_payments(
    schwab_2022q2: Path,
) -> None:
    rows = _polygon_trades()
    book = polygon_book(_polygon(), "AAPL")
    result = audit(trades_csv(rows), _polygon(), db=schwab_2022q2, sp500=["AAPL"])
    out = result.to_json()
    positions = check_against_reference(book, rows, out)
    assert positions == ["inside", "at", "at", "at", "no_quote", "no_quote"]
    got = {t["trade_id"]: t for t in out["trades"]}

    citadel = [
        c
        for c in _schwab_cells(Section.SP500, OrderType.MARKET)
        if (c.venue_name or "").upper().startswith("CITADEL")
    ]
    rate = venue_rate(citadel)
    assert rate is not None
    assert Fraction(got["p-inside"]["pfof_estimate_usd"]) == _micro(rate * 100 / 10_000)
    routed = routing_weighted_rate(_schwab_cells(Section.SP500, OrderType.MARKET))
    assert routed is not None
    assert Fraction(got["p-at"]["pfof_estimate_usd"]) == _micro(routed * 30 / 10_000)
    # sell limit 155.80 <= bid 155.85 at order time: a marketable limit order
    marketable = routing_weighted_rate(_schwab_cells(Section.SP500, OrderType.MARKETABLE_LIMIT))
    assert marketable is not None
    assert Fraction(got["p-limit"]["pfof_estimate_usd"]) == _micro(marketable * 10 / 10_000)
    assert "order_type_assumed" in got["p-stamp"]["flags"]
    # the payment estimate needs no quote: a market order's rate is known without one
    assert got["p-late"]["pfof_estimate_usd"] is not None

    summary = out["summary"]
    estimates = [Fraction(t["pfof_estimate_usd"]) for t in out["trades"]]
    assert Fraction(summary["total_pfof_estimate_usd"]) == sum(estimates)
    paired = [t for t in out["trades"] if t["price_improvement_usd"] is not None]
    ratio = sum(Fraction(t["price_improvement_usd"]) for t in paired) / sum(
        Fraction(t["pfof_estimate_usd"]) for t in paired
    )
    assert abs(Fraction(summary["price_improvement_per_pfof_dollar"]) - ratio) <= Fraction(
        1, 2 * 10**6
    )


def test_the_json_is_one_object_of_trades_and_summary_with_the_listed_keys(
    schwab_2022q2: Path,
) -> None:
    out = audit(trades_csv(_polygon_trades()), _polygon(), db=schwab_2022q2).to_json()
    assert set(out) == {"trades", "summary"}
    assert all(tuple(t) == AUDIT_JSON_KEYS for t in out["trades"])
    assert set(out["summary"]) == {
        "trades",
        "with_quote",
        "total_price_improvement_usd",
        "total_pfof_estimate_usd",
        "price_improvement_per_pfof_dollar",
    }
    text = json.dumps(out)
    money = ("price", "nbbo_bid", "price_improvement_usd", "pfof_estimate_usd")
    assert all(isinstance(t[k], str | None) for t in out["trades"] for k in money)
    assert json.loads(text) == out
    # without an S&P 500 list, AAPL is priced as 'other stocks' and says so
    assert all("section_assumed" in t["flags"] for t in out["trades"])


# ---------------------------------------------------------------- Databento DBN

#: The Databento samples are pre-market (04:01 and 05:33-07:10 New York): pre-market trades are
#: measured against them as they are, flagged ``extended_hours``. Shifted by six hours they
#: fall in the regular session, unflagged.
SHIFT = 6 * 3600 * NS


def _dbn(name: str, tmp_path: Path, shift: int) -> tuple[Path, Book]:
    """The sample (pfof reads it; the reference reads it itself), times moved by ``shift``."""
    path = shared_path("real-quotes", "databento", name)
    book = databento_book(path)
    if not shift:
        return path, book
    quotes = read_quotes(path)
    ts = pc.add(quotes.column("ts").cast(pa.int64()), shift).cast(quotes.schema.field("ts").type)
    moved = tmp_path / name.replace(".dbn.zst", ".parquet")
    pq.write_table(quotes.set_column(quotes.schema.get_field_index("ts"), "ts", ts), moved)
    states = {
        sym: [Quote(q.ts + shift, q.bid, q.ask) for q in rows] for sym, rows in book.states.items()
    }
    return moved, Book(states, book.end + shift)


@pytest.mark.parametrize("shift", [0, SHIFT], ids=["pre-market", "in-session"])
@pytest.mark.parametrize(
    ("name", "symbol", "times"),
    [
        (
            "XNAS.ITCH_test_data.mbp-1.dbn.zst",
            "NVDA",
            ["09:01:28.297109209", "09:01:30", "09:01:40", "09:02:00"],
        ),
        (
            "EQUS.MINI_test_data.mbp-1.dbn.zst",
            "QQQ",
            ["09:33:15", "11:00:00.0925", "11:00:00.1", "11:00:00.2"],
        ),
        (
            "EQUS.MINI_test_data.tbbo.dbn.zst",
            "QQQ",
            ["11:08:14.56", "11:08:15", "11:10:31.124072442", "11:10:31.124072441"],
        ),
    ],
)
def test_databento_files_equal_the_reference_one_sided_books_included(
    name: str, symbol: str, times: list[str], shift: int, tmp_path: Path
) -> None:
    path, book = _dbn(name, tmp_path, shift)
    day = "2020-12-28" if symbol == "NVDA" else "2023-03-28"
    rows = []
    for k, clock in enumerate(times):
        for side, price in (("buy", "520.5" if symbol == "NVDA" else "307.9"), ("sell", "307.88")):
            rows.append(
                {
                    "trade_id": f"{k}{side}",
                    "symbol": symbol,
                    "side": side,
                    "quantity": "5",
                    "price": price,
                    "order_time": ns(f"{day}T{clock}+00:00") + shift,
                }
            )
    out = audit(trades_csv(rows), [path]).to_json()
    positions = check_against_reference(book, rows, out)
    assert len(out["trades"]) == len(rows)
    assert set(positions) - {"no_quote"}  # the books are measured, pre-market or not
    flagged = ["extended_hours" in t["flags"] for t in out["trades"]]
    assert flagged == [not shift] * len(rows)
    assert not any("pre_open_quote" in t["flags"] for t in out["trades"])


def test_a_one_sided_nbbo_measures_the_side_present_and_flags_it() -> None:
    path = shared_path("real-quotes", "databento", "XNAS.ITCH_test_data.mbp-1.dbn.zst")
    rows = [
        {
            "trade_id": side,
            "symbol": "NVDA",
            "side": side,
            "quantity": "2",
            "price": "512.00",
            "order_time": ns("2020-12-28T09:01:30+00:00"),  # 04:01:30 New York
        }
        for side in ("buy", "sell")
    ]
    buy, sell = audit(trades_csv(rows), [path]).to_json()["trades"]
    assert buy["flags"][0] == sell["flags"][0] == "extended_hours"
    # only the bid (512.01) stands: a buy has nothing to compare with, a sell has
    assert buy["position"] == "no_quote" and "one_sided_quote" in buy["flags"]
    assert sell["position"] == "outside" and sell["price_improvement_per_share"] == "-0.01"
    assert sell["effective_spread"] is None and "one_sided_quote" in sell["flags"]


# ---------------------------------------------------------------- option contracts


def test_option_trades_are_priced_per_contract_from_a_quote_file_pfof_writes(
    tmp_path: Path, schwab_2022q2: Path
) -> None:
    call, put = "AAPL220520C00155000", "AAPL220520P00150000"
    t0 = ns("2022-05-10T14:00:00+00:00")
    quotes = pa.Table.from_pylist(
        [
            {
                "symbol": call,
                "ts": t0,
                "venue": "XCBO",
                "bid": 3.10,
                "bid_size": 12,
                "ask": 3.25,
                "ask_size": 30,
            },
            {
                "symbol": call,
                "ts": t0,
                "venue": "XPHO",
                "bid": 3.15,
                "bid_size": 5,
                "ask": 3.20,
                "ask_size": 7,
            },
            {
                "symbol": put,
                "ts": t0 + NS,
                "venue": "XISX",
                "bid": 1.02,
                "bid_size": 4,
                "ask": 1.08,
                "ask_size": 9,
            },
            {  # the data runs to a minute after t0
                "symbol": put,
                "ts": t0 + 60 * NS,
                "venue": "XISX",
                "bid": 1.01,
                "bid_size": 4,
                "ask": 1.08,
                "ask_size": 9,
            },
        ],
        schema=QUOTES,
    )
    path = tmp_path / "options.parquet"
    pq.write_table(quotes, path)
    rows = [
        {
            "trade_id": "c1",
            "symbol": "O:AAPL220520C00155000",  # Polygon's spelling of the same contract
            "side": "buy",
            "quantity": "2",
            "price": "3.17",
            "order_time": t0 + 5 * NS,
            "order_type": "market",
            "broker": "Charles Schwab",
        },
        {
            "trade_id": "p1",
            "symbol": "AAPL  220520P00150000",  # OSI's padded spelling
            "side": "sell",
            "quantity": "3",
            "price": "1.04",
            "order_time": t0 + 6 * NS,
            "order_type": "market",
            "broker": "Charles Schwab",
            "venue": "Citadel",
        },
    ]
    result = audit(trades_csv(rows), [path], db=schwab_2022q2)
    call_out, put_out = result.to_json()["trades"]
    # NBBO of the call: 3.15 (XPHO) x 3.20 (XPHO); per share 0.03 better, x 100 x 2 contracts
    assert (call_out["nbbo_bid"], call_out["nbbo_ask"]) == ("3.15", "3.20")
    assert call_out["price_improvement_per_share"] == "0.03"
    assert call_out["price_improvement_usd"] == "6.00"
    assert result.trades[0].price_improvement_per_contract == Decimal("3.00")
    assert put_out["price_improvement_usd"] == "6.00"  # (1.04 - 1.02) x 100 x 3
    options = _schwab_cells(Section.OPTIONS, OrderType.MARKET)
    routed = routing_weighted_rate(options)
    assert routed is not None
    assert Fraction(call_out["pfof_estimate_usd"]) == _micro(routed * 2 / 100)  # ¢ per contract
    citadel = venue_rate([c for c in options if (c.venue_name or "").startswith("CITADEL")])
    assert citadel is not None
    assert Fraction(put_out["pfof_estimate_usd"]) == _micro(citadel * 3 / 100)
    assert "section_assumed" not in call_out["flags"]


def _options_market(t0: int) -> pa.Table:
    """Per-venue quotes of AAPL, three AAPL options and an MSFT option (MSFT itself unquoted)."""

    def quote(symbol: str, venue: str, bid: float, ask: float, dt: int = 0) -> dict[str, Any]:
        return {
            "symbol": symbol,
            "ts": t0 + dt,
            "venue": venue,
            "bid": bid,
            "bid_size": 10,
            "ask": ask,
            "ask_size": 10,
        }

    return pa.Table.from_pylist(
        [
            quote("AAPL", "XNAS", 154.49, 154.56),
            quote("AAPL", "ARCX", 154.50, 154.54),
            quote("AAPL220520C00155000", "XCBO", 3.15, 3.20),
            quote("AAPL220520P00150000", "XISX", 1.02, 1.08),
            quote("AAPL220520C00100000", "XCBO", 54.30, 54.80),
            quote("MSFT220520C00280000", "XCBO", 4.00, 4.20),
            quote("AAPL", "XNAS", 154.49, 154.56, 60 * NS),  # the data runs a minute on
        ],
        schema=QUOTES,
    )


def _ref_vol_points(
    symbol: str,
    side: str,
    price: float,
    bid: float,
    ask: float,
    spot: float,
    t: int,
    r: float,
    q: float,
) -> float:
    """side x (IV(fill) - IV(mid)) x 100 by the scalar bisection reference."""
    parsed = ref_parse_osi(symbol)
    assert parsed is not None
    _, right, strike, expiry = parsed
    close = datetime.combine(expiry, time(16, 0), tzinfo=ZoneInfo("America/New_York"))
    years = (int(close.timestamp()) * NS - t) / YEAR_NS
    call = right == "call"
    iv_fill, fill_status = ref_iv(call, price, spot, strike, years, r, q)
    iv_mid, mid_status = ref_iv(call, 0.5 * (bid + ask), spot, strike, years, r, q)
    assert (fill_status, mid_status) == ("OK", "OK") and iv_fill and iv_mid
    return (1.0 if side == "buy" else -1.0) * (iv_fill - iv_mid) * 100.0


@pytest.mark.parametrize(("rate", "dividend_yield"), [(None, None), (0.03, 0.005)])
def test_option_trades_cost_in_volatility_points_needs_the_underlyings_quote(
    tmp_path: Path, rate: float | None, dividend_yield: float | None
) -> None:
    t0 = ns("2022-05-10T14:00:00+00:00")
    path = tmp_path / "options.parquet"
    pq.write_table(_options_market(t0), path)
    rows = [
        {"trade_id": "c1", "symbol": "AAPL220520C00155000", "side": "buy", "quantity": "2",
         "price": "3.22", "order_time": t0 + 5 * NS},
        {"trade_id": "p1", "symbol": "O:AAPL220520P00150000", "side": "sell", "quantity": "3",
         "price": "1.07", "order_time": t0 + 6 * NS},
        {"trade_id": "m1", "symbol": "MSFT220520C00280000", "side": "buy", "quantity": "1",
         "price": "4.10", "order_time": t0 + 6 * NS},
        {"trade_id": "d1", "symbol": "AAPL220520C00100000", "side": "sell", "quantity": "1",
         "price": "50", "order_time": t0 + 6 * NS},  # below intrinsic value (54.52 - 100)
        {"trade_id": "s1", "symbol": "AAPL", "side": "buy", "quantity": "10",
         "price": "154.52", "order_time": t0 + 6 * NS},
    ]  # fmt: skip
    result = audit(trades_csv(rows), [path], rate=rate, dividend_yield=dividend_yield)
    out = {t["trade_id"]: t for t in result.to_json()["trades"]}
    r = 0.045 if rate is None else rate  # the documented defaults
    q = 0.0 if dividend_yield is None else dividend_yield
    spot = (154.50 + 154.54) / 2  # the AAPL NBBO: 154.50 (ARCX) x 154.54 (ARCX)
    call = _ref_vol_points(
        "AAPL  220520C00155000", "buy", 3.22, 3.15, 3.20, spot, t0 + 5 * NS, r, q
    )
    put = _ref_vol_points(
        "AAPL  220520P00150000", "sell", 1.07, 1.02, 1.08, spot, t0 + 6 * NS, r, q
    )
    assert call > 0 > put  # bought above the midpoint (a cost), sold above it (a gain)
    assert out["c1"]["vol_points_cost"] == pytest.approx(call, abs=1e-6)
    assert out["p1"]["vol_points_cost"] == pytest.approx(put, abs=1e-6)
    assert result.trades[0].underlying_mid == pytest.approx(spot, abs=1e-12)
    assert out["c1"]["flags"] == [] and out["p1"]["flags"] == []
    # the existing per-contract figures are untouched by the new key
    assert out["c1"]["price_improvement_usd"] == "-4.00" and out["p1"]["eq_ratio"] == "-0.666667"
    assert out["m1"]["vol_points_cost"] is None and out["m1"]["flags"] == ["no_underlying_quote"]
    assert out["d1"]["vol_points_cost"] is None and out["d1"]["flags"] == ["vol_not_implied"]
    assert out["s1"]["vol_points_cost"] is None and out["s1"]["flags"] == []
    assert all(tuple(t) == AUDIT_JSON_KEYS for t in out.values())
    assert set(result.to_json()["summary"]) == {
        "trades",
        "with_quote",
        "total_price_improvement_usd",
        "total_pfof_estimate_usd",
        "price_improvement_per_pfof_dollar",
    }
    csv_rows = result.to_csv().splitlines()
    column = csv_rows[0].split(",").index("vol_points_cost")
    assert float(csv_rows[1].split(",")[column]) == out["c1"]["vol_points_cost"]


def test_an_underlying_quote_from_an_earlier_day_gives_no_volatility_cost(tmp_path: Path) -> None:
    t0 = ns("2022-05-09T19:59:00+00:00")  # 15:59 New York, the day before the trade
    day = 86_400 * NS
    stock = _options_market(t0).filter(pc.equal(pc.field("symbol"), "AAPL"))
    next_day = _options_market(t0 + day)
    options = next_day.filter(pc.not_equal(pc.field("symbol"), "AAPL"))
    later = next_day.slice(next_day.num_rows - 1)  # AAPL a minute after the trade
    path = tmp_path / "quotes.parquet"
    pq.write_table(pa.concat_tables([stock, options, later]), path)
    rows = [{"trade_id": "c1", "symbol": "AAPL220520C00155000", "side": "buy", "quantity": "1",
             "price": "3.18", "order_time": t0 + day + 5 * NS}]  # fmt: skip
    (c1,) = audit(trades_csv(rows), [path]).to_json()["trades"]
    assert c1["nbbo_bid"] == "3.15" and c1["vol_points_cost"] is None
    assert c1["flags"] == ["no_underlying_quote"]


def test_a_rate_out_of_range_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "options.parquet"
    pq.write_table(_options_market(ns("2022-05-10T14:00:00+00:00")), path)
    rows = [{"trade_id": "s1", "symbol": "AAPL", "side": "buy", "quantity": "1",
             "price": "154.52", "order_time": "2022-05-10T14:00:06Z"}]  # fmt: skip
    with pytest.raises(ParameterError, match="rate must be"):
        audit(trades_csv(rows), [path], rate=4.5)


def test_each_symbol_is_covered_only_as_far_as_its_own_sources_go(
    taq: tuple[Path, Book],
) -> None:
    path, _ = taq
    rows = [
        {
            "trade_id": "late",
            "symbol": "XXX",
            "side": "sell",
            "quantity": "1",
            "price": "157",
            "order_time": ns("2018-01-03T19:59:00-05:00"),
        }
    ]
    # the Polygon pages run to 2022, the TAQ sample's XXX only to January 3, 2018, 16:05
    (late,) = audit(trades_csv(rows), [path, *_polygon()]).to_json()["trades"]
    assert late["position"] == "no_quote" and late["flags"] == ["extended_hours", "after_quotes"]


def test_a_trades_file_with_no_readable_row_is_refused(taq: tuple[Path, Book]) -> None:
    path, _ = taq
    with pytest.raises(InputError, match="no trade could be read"):
        audit(b"trade_id,symbol,side,quantity,price,order_time\n1,XXX,hold,1,1,x\n", [path])


def test_unreadable_rows_are_reported_and_the_rest_audited(taq: tuple[Path, Book]) -> None:
    path, _ = taq
    text = (
        "trade_id,symbol,side,quantity,price,order_time\n"
        "1,XXX,buy,1,158.55,2018-01-02T09:45:00-05:00\n"
        "2,XXX,buy,none,158.55,2018-01-02T09:45:00-05:00\n"
    )
    result = audit(text.encode(), [path])
    assert [t.trade_id for t in result.trades] == ["1"]
    assert [(i.line, i.column) for i in result.issues] == [(3, "quantity")]
