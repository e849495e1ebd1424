"""engine.nbbo: consolidation against a dict-of-venues replay, and on real venue quotes; the
compiled kernel against the NumPy implementation it replaced (tests/support/reference_nbbo_numpy),
which must give identical tables: same rows, same order, same bits."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SimMarket, shared_path
from pfof.engine.nbbo import consolidate_nbbo, nbbo_states, nbbo_table, quotes_to_nbbo
from pfof.model.tables import NBBO, QUOTES
from support.reference_nbbo_numpy import reference_consolidate_nbbo
from support.reference_quality import ref_consolidate

TS = pa.timestamp("ns", tz="UTC")
NEW_YORK = ZoneInfo("America/New_York")


def _ny_ns(*fields: int) -> int:
    """UTC nanoseconds of a New York wall-clock time (year, month, day, hour, minute...)."""
    return int(dt.datetime(*fields, tzinfo=NEW_YORK).timestamp()) * 10**9


def _ny_date(ts_ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ns // 10**9, NEW_YORK).date()


def _replay_per_day(rows: list[dict[str, Any]]) -> list[tuple]:
    """The dict replay run on each (symbol, New York date)'s quotes alone, concatenated."""
    groups: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["symbol"], _ny_date(row["ts"])), []).append(row)
    return [out for key in sorted(groups) for out in ref_consolidate(groups[key])]


def _quotes(rows: list[dict[str, Any]]) -> pa.Table:
    cols = {f.name: [r[f.name] for r in rows] for f in QUOTES}
    cols["ts"] = pa.array(cols["ts"], pa.int64()).cast(TS)
    return pa.table(cols, schema=QUOTES)


def _rows(table: pa.Table) -> list[tuple]:
    assert table.schema.equals(NBBO)
    ts = pc.cast(table.column("ts"), pa.int64()).to_pylist()
    return [
        (s, t, b, bs, a, as_)
        for s, t, b, bs, a, as_ in zip(
            table.column("symbol").to_pylist(),
            ts,
            table.column("bid").to_pylist(),
            table.column("bid_size").to_pylist(),
            table.column("ask").to_pylist(),
            table.column("ask_size").to_pylist(),
            strict=True,
        )
    ]


@st.composite
def venue_quotes(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [
        {
            "symbol": draw(st.sampled_from(["AA", "B", "C"])),
            "ts": draw(st.integers(0, 12)),
            "venue": draw(st.sampled_from(["XNYS", "XNAS", "ARCX", "BATS"])),
            "bid": draw(st.sampled_from([None, 0.0, 9.98, 9.99, 10.0, 10.01])),
            "bid_size": draw(st.one_of(st.none(), st.integers(0, 4))),
            "ask": draw(st.sampled_from([None, 0.0, 9.99, 10.0, 10.01, 10.02])),
            "ask_size": draw(st.one_of(st.none(), st.integers(0, 4))),
        }
        for _ in range(draw(st.integers(0, 30)))
    ]


@settings(max_examples=300, deadline=None)
@given(venue_quotes(), st.sampled_from([1, 3, 1_000]))
def test_consolidation_matches_replay(rows: list[dict[str, Any]], chunk_rows: int) -> None:
    got = _rows(consolidate_nbbo(_quotes(rows), chunk_rows=chunk_rows))
    assert got == ref_consolidate(rows)


def test_nbbo_adds_sizes_at_the_best_price_and_a_venues_new_quote_replaces_its_old() -> None:
    rows = [
        {
            "symbol": "A",
            "ts": 1,
            "venue": "X",
            "bid": 10.0,
            "bid_size": 2,
            "ask": 10.05,
            "ask_size": 1,
        },
        {
            "symbol": "A",
            "ts": 2,
            "venue": "Y",
            "bid": 10.0,
            "bid_size": 3,
            "ask": 10.04,
            "ask_size": 5,
        },
        {
            "symbol": "A",
            "ts": 3,
            "venue": "Y",
            "bid": 9.9,
            "bid_size": 3,
            "ask": None,
            "ask_size": None,
        },  # Y's new quote replaces its old one, ask side withdrawn
        {
            "symbol": "A",
            "ts": 4,
            "venue": "X",
            "bid": 10.0,
            "bid_size": 2,
            "ask": 10.05,
            "ask_size": 1,
        },  # same as before: no NBBO change, no row
    ]
    assert _rows(consolidate_nbbo(_quotes(rows))) == [
        ("A", 1, 10.0, 2, 10.05, 1),
        ("A", 2, 10.0, 5, 10.04, 5),
        ("A", 3, 10.0, 2, 10.05, 1),
    ]


def test_missing_or_mistyped_column_raises_naming_the_column() -> None:
    with pytest.raises(ValueError, match=r"quotes: missing column\(s\) venue"):
        consolidate_nbbo(_quotes([]).drop_columns(["venue"]))
    bad = pa.table(
        {
            "symbol": ["A"],
            "ts": pa.array([1], TS),
            "bid": ["x"],
            "bid_size": [1],
            "ask": [1.0],
            "ask_size": [1],
        }
    )
    with pytest.raises(ValueError, match="nbbo: column bid has type string"):
        nbbo_table(bad)


def _real_quotes(rows: int | None = None) -> pa.Table:
    """The shared TAQ sample as venue quotes (the exchange letter as the venue)."""
    raw = pq.read_table(shared_path("real-quotes", "sampleQDataRaw.parquet"))
    if rows is not None:
        raw = raw.slice(0, rows)
    dt = raw.column("DT")
    ts = pc.cast(pc.cast(dt, pa.timestamp("ns")), pa.int64())
    quotes = pa.table(
        {
            "symbol": raw.column("SYMBOL").cast(pa.string()),
            "ts": ts,
            "venue": raw.column("EX").cast(pa.string()),
            "bid": raw.column("BID").cast(pa.float64()),
            "bid_size": raw.column("BIDSIZ").cast(pa.int64()),
            "ask": raw.column("OFR").cast(pa.float64()),
            "ask_size": raw.column("OFRSIZ").cast(pa.int64()),
        }
    )
    return quotes.set_column(1, "ts", ts.cast(TS))


def test_real_venue_quotes_match_replay() -> None:
    """TAQ quotes of one stock on 12 venues (locked/crossed venues, shared timestamps)."""
    quotes = _real_quotes(20_000)
    rows = quotes.set_column(1, "ts", pc.cast(quotes.column("ts"), pa.int64())).to_pylist()
    got = _rows(consolidate_nbbo(quotes))
    want = _replay_per_day(rows)
    assert len(got) == len(want) > 1_000
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2] and g[3] == w[3] and g[5] == w[5]
        assert all(
            math.isclose(x, y) if x is not None else y is None
            for x, y in ((g[2], w[2]), (g[4], w[4]))
        )


def test_quotes_to_nbbo_consolidates_per_venue_quotes() -> None:
    rows = [
        {
            "symbol": "A",
            "ts": 1,
            "venue": "X",
            "bid": 10.0,
            "bid_size": 2,
            "ask": 10.1,
            "ask_size": 1,
        },
        {
            "symbol": "A",
            "ts": 1,
            "venue": "Y",
            "bid": 10.05,
            "bid_size": 0,
            "ask": 10.08,
            "ask_size": 3,
        },
    ]  # Y's bid has no size: ignored; both rows of ts 1 applied
    assert _rows(quotes_to_nbbo(_quotes(rows))) == [("A", 1, 10.0, 2, 10.08, 3)]


def test_quotes_to_nbbo_passes_a_consolidated_table_through_cleaned_and_sorted() -> None:
    table = pa.table(
        {
            "symbol": ["B", "A", "A", "A"],
            "ts": pa.array([5, 7, 3, 3], TS),
            "bid": [1.0, 0.0, 2.0, 2.1],
            "bid_size": [100, 100, None, 5],
            "ask": [1.1, 2.2, None, 2.0],
            "ask_size": [100, -1, None, 5],
            "bid_venue": ["XNYS", None, None, "ARCX"],
            "ask_venue": ["XNYS", None, None, "ARCX"],
        }
    )
    got = quotes_to_nbbo(table)
    assert _rows(got) == [
        ("A", 3, 2.0, None, None, None),  # a price without size is kept (sizes unknown)
        ("A", 3, 2.1, 5, 2.0, 5),  # same timestamp: source order kept (crossed, kept)
        ("A", 7, None, None, None, None),  # zero bid, negative ask size: missing sides
        ("B", 5, 1.0, 100, 1.1, 100),
    ]
    assert nbbo_states(got).to_pylist() == ["one_sided", "crossed", "empty", "normal"]


def test_nbbo_states_label_locked_and_crossed() -> None:
    table = pa.table(
        {
            "bid": [1.0, 1.0, 1.0, None],
            "ask": [1.1, 1.0, 0.9, 2.0],
        }
    )
    assert nbbo_states(table).to_pylist() == ["normal", "locked", "crossed", "one_sided"]


# ------------------------------------------------- the kernel against the NumPy implementation


def _assert_identical(quotes: pa.Table, **kwargs: int) -> pa.Table:
    got = consolidate_nbbo(quotes, **kwargs)
    want = reference_consolidate_nbbo(quotes, **kwargs)
    assert got.schema.equals(want.schema)
    assert got.equals(want)  # values, nulls and order; floats compared exactly
    for name in ("bid", "ask"):  # bit for bit, not just ==
        g = pc.fill_null(got.column(name), 0.0).to_numpy()
        w = pc.fill_null(want.column(name), 0.0).to_numpy()
        assert g.tobytes() == w.tobytes()
    return got


@st.composite
def bursty_quotes(draw: st.DrawFn) -> pa.Table:
    """Venue quotes in bursts sharing a timestamp, out of time order across and within
    symbols, with missing, zero and negative sides and prices that lock and cross."""
    prices = st.sampled_from([None, -1.0, 0.0, 9.98, 9.99, 10.0, 10.01, 10.02, float("inf")])
    sizes = st.one_of(st.none(), st.integers(-2, 5))
    rows: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 12))):
        ts = draw(st.integers(0, 6))
        symbol = draw(st.sampled_from(["A", "BB", "C", "D"]))
        for _ in range(draw(st.integers(1, 6))):  # a burst: one timestamp, several venues
            rows.append(
                {
                    "symbol": draw(st.sampled_from([symbol, symbol, "Z"])),
                    "ts": ts,
                    "venue": draw(st.sampled_from(["V1", "V2", "V3", "V4", "V5"])),
                    "bid": draw(prices),
                    "bid_size": draw(sizes),
                    "ask": draw(prices),
                    "ask_size": draw(sizes),
                }
            )
    return _quotes(rows)


@settings(max_examples=400, deadline=None)
@given(bursty_quotes(), st.sampled_from([1, 2, 5, 1_000]))
def test_kernel_equals_numpy_implementation_on_bursts(quotes: pa.Table, chunk_rows: int) -> None:
    _assert_identical(quotes, chunk_rows=chunk_rows)


def test_kernel_replays_a_withdrawn_best_and_a_burst() -> None:
    """The best bidder leaves (its new quote is lower): the next best venue's bid, with the sizes
    of every venue at that price; a burst of one timestamp gives one row, its last state."""
    rows = [
        {
            "symbol": "A",
            "ts": 1,
            "venue": "X",
            "bid": 10.0,
            "bid_size": 2,
            "ask": 10.2,
            "ask_size": 1,
        },
        {
            "symbol": "A",
            "ts": 1,
            "venue": "Y",
            "bid": 9.9,
            "bid_size": 3,
            "ask": 10.1,
            "ask_size": 4,
        },
        {
            "symbol": "A",
            "ts": 1,
            "venue": "Z",
            "bid": 9.9,
            "bid_size": 5,
            "ask": 10.1,
            "ask_size": 6,
        },
        {
            "symbol": "A",
            "ts": 2,
            "venue": "X",
            "bid": 9.8,
            "bid_size": 2,
            "ask": 10.1,
            "ask_size": 1,
        },
        {
            "symbol": "A",
            "ts": 3,
            "venue": "Y",
            "bid": None,
            "bid_size": None,
            "ask": 9.9,
            "ask_size": 7,
        },
    ]  # ts 3: Y's ask 9.9 locks Z's bid 9.9 (kept, a locked market)
    got = _rows(_assert_identical(_quotes(rows)))
    assert got == [
        ("A", 1, 10.0, 2, 10.1, 10),
        ("A", 2, 9.9, 8, 10.1, 11),  # X now asks 10.1 too: 1 + 4 + 6
        ("A", 3, 9.9, 5, 9.9, 7),
    ]


def test_kernel_sorts_unordered_symbols_stably() -> None:
    """Quotes out of time order: sorted by time, rows of one timestamp kept in input order."""
    rows = [
        {
            "symbol": "B",
            "ts": 5,
            "venue": "X",
            "bid": 1.0,
            "bid_size": 1,
            "ask": 2.0,
            "ask_size": 1,
        },
        {
            "symbol": "B",
            "ts": 3,
            "venue": "X",
            "bid": 1.1,
            "bid_size": 1,
            "ask": 2.0,
            "ask_size": 1,
        },
        {
            "symbol": "B",
            "ts": 3,
            "venue": "X",
            "bid": 1.2,
            "bid_size": 1,
            "ask": 2.0,
            "ask_size": 1,
        },
        {
            "symbol": "A",
            "ts": 9,
            "venue": "Y",
            "bid": 1.0,
            "bid_size": 1,
            "ask": None,
            "ask_size": 0,
        },
    ]
    got = _rows(_assert_identical(_quotes(rows)))
    assert got == [
        ("A", 9, 1.0, 1, None, None),
        ("B", 3, 1.2, 1, 2.0, 1),  # the later of ts 3's two quotes stands
        ("B", 5, 1.0, 1, 2.0, 1),
    ]


def test_kernel_equals_numpy_implementation_on_the_simulated_market(
    sim_market: SimMarket,
) -> None:
    quotes = sim_market.read_all("quotes")
    got = _assert_identical(quotes)
    assert got.num_rows > 1_000
    _assert_identical(quotes, chunk_rows=5_000)  # several kernel calls


def test_kernel_equals_numpy_implementation_on_real_venue_quotes() -> None:
    quotes = _real_quotes()
    got = _assert_identical(quotes)
    assert got.num_rows > 10_000
    assert set(nbbo_states(got).to_pylist()) >= {"normal", "locked", "crossed"}
    shuffled = quotes.take(pa.array(np.random.default_rng(1).permutation(quotes.num_rows)))
    _assert_identical(shuffled)  # out of time order: the merge sort path


# ------------------------------------------------------- each New York date starts a fresh book


def _quote(ts: int, venue: str, bid: float | None, bsz: int, ask: float | None, asz: int) -> dict:
    return {
        "symbol": "A",
        "ts": ts,
        "venue": venue,
        "bid": bid,
        "bid_size": bsz,
        "ask": ask,
        "ask_size": asz,
    }


def test_yesterdays_venue_quote_never_reaches_todays_nbbo() -> None:
    """Worked by hand (January: New York is UTC-5). X's 10.02 offer of Monday must not stand
    against Y's Tuesday bid 10.05 (the book kept across days gave a crossed 10.05 / 10.02)."""
    mon_close = _ny_ns(2026, 1, 5, 15, 59)
    mon_evening = _ny_ns(2026, 1, 5, 19, 30)  # 00:30 UTC Tuesday: still Monday in New York
    tue_open = _ny_ns(2026, 1, 6, 9, 30)
    rows = [
        _quote(mon_close, "X", 10.00, 1, 10.02, 1),
        _quote(mon_close + 1, "Y", 9.99, 4, 10.03, 4),
        _quote(mon_evening, "Y", 10.00, 2, 10.03, 4),  # Monday's book: X's quote still counts
        _quote(tue_open, "Y", 10.05, 2, 10.07, 3),
        _quote(tue_open + 1, "X", 10.04, 1, 10.06, 1),
    ]
    got = _rows(_assert_identical(_quotes(rows)))
    assert got == [
        ("A", mon_close, 10.00, 1, 10.02, 1),  # Y's quote at mon_close + 1 changes nothing
        ("A", mon_evening, 10.00, 1 + 2, 10.02, 1),
        ("A", tue_open, 10.05, 2, 10.07, 3),  # Y alone: X's Monday offer is gone
        ("A", tue_open + 1, 10.05, 2, 10.06, 1),
    ]
    assert nbbo_states(consolidate_nbbo(_quotes(rows))).to_pylist()[3] == "normal"
    assert got == _replay_per_day(rows)


def test_a_dates_first_row_is_written_even_when_unchanged_and_never_when_empty() -> None:
    """Tuesday's first state equal to Monday's last row still gets a row (so a lookup in
    Tuesday's session finds a Tuesday time); Wednesday's first quote is empty, as the book
    already is after the reset: no row, as before a symbol's first quote."""
    mon, tue = _ny_ns(2026, 1, 5, 12, 0), _ny_ns(2026, 1, 6, 4, 0)
    wed = _ny_ns(2026, 1, 7, 8, 0)
    rows = [
        _quote(mon, "X", 10.00, 1, 10.02, 1),
        _quote(tue, "X", 10.00, 1, 10.02, 1),
        _quote(wed, "X", 0.0, 0, 0.0, 0),
        _quote(wed + 5, "Y", 10.01, 3, None, 0),
    ]
    got = _rows(_assert_identical(_quotes(rows)))
    assert got == [
        ("A", mon, 10.00, 1, 10.02, 1),
        ("A", tue, 10.00, 1, 10.02, 1),
        ("A", wed + 5, 10.01, 3, None, None),
    ]
    assert got == _replay_per_day(rows)


#: New York midnights next to the 2026 clock changes (spring forward on 8 March, back on
#: 1 November) and an ordinary one: UTC offsets -5 h and -4 h on either side.
_MIDNIGHTS = [
    _ny_ns(2026, 3, 8),
    _ny_ns(2026, 3, 9),
    _ny_ns(2026, 11, 1),
    _ny_ns(2026, 11, 2),
    _ny_ns(2026, 1, 6),
]


@st.composite
def quotes_around_midnight(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Venue quotes within two hours of one or two New York midnights (some next to a clock
    change, where a fixed UTC offset would put a quote on the wrong date), in bursts."""
    bases = draw(st.lists(st.sampled_from(_MIDNIGHTS), min_size=1, max_size=2))
    hour = 3_600 * 10**9
    steps = st.sampled_from([-2 * hour, -hour, -1, 0, 1, hour // 2, hour, 2 * hour - 1])
    prices = st.sampled_from([None, 0.0, 9.99, 10.0, 10.01, 10.02])
    rows: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 10))):
        ts = draw(st.sampled_from(bases)) + draw(steps)
        symbol = draw(st.sampled_from(["A", "B"]))
        for _ in range(draw(st.integers(1, 3))):
            rows.append(
                {
                    "symbol": symbol,
                    "ts": ts,
                    "venue": draw(st.sampled_from(["V1", "V2", "V3"])),
                    "bid": draw(prices),
                    "bid_size": draw(st.integers(0, 3)),
                    "ask": draw(prices),
                    "ask_size": draw(st.integers(0, 3)),
                }
            )
    return rows


@settings(max_examples=300, deadline=None)
@given(quotes_around_midnight(), st.sampled_from([1, 4, 1_000]))
def test_books_reset_at_new_york_midnight_across_clock_changes(
    rows: list[dict[str, Any]], chunk_rows: int
) -> None:
    quotes = _quotes(rows)
    got = _assert_identical(quotes, chunk_rows=chunk_rows)
    assert _rows(got) == _replay_per_day(rows)


def test_real_quotes_of_each_date_are_consolidated_alone() -> None:
    """The TAQ sample spans two New York dates: the NBBO of the whole table is each date's own
    NBBO, concatenated (so no 2 January venue quote reaches 3 January)."""
    quotes = _real_quotes()
    ts = pc.cast(quotes.column("ts"), pa.int64()).to_numpy()
    first_jan3 = _ny_ns(2018, 1, 3)
    jan3 = ts >= first_jan3
    assert jan3.any() and (~jan3).any() and (ts < _ny_ns(2018, 1, 4)).all()
    whole = consolidate_nbbo(quotes)
    alone = pa.concat_tables([consolidate_nbbo(quotes.filter(pa.array(m))) for m in (~jan3, jan3)])
    assert whole.equals(alone)
    states = nbbo_states(consolidate_nbbo(quotes.filter(pa.array(jan3)))).to_pylist()
    assert states[0] != "crossed"  # the morning's first quotes alone
