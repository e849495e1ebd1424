"""formats.quotes_taq: the real per-exchange TAQ sample read exactly, and its NBBO checked
against an independent replay at many chosen times (same-timestamp bursts included)."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from pfof.engine.nbbo import nbbo_states, quotes_to_nbbo
from pfof.errors import InputError
from pfof.formats.quotes_taq import read_taq_quotes, read_taq_trades
from pfof.model.tables import QUOTES, TRADES
from support.reference_nbbo import ref_nbbo_at, ref_state


def _ny_date(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns // 10**9, ZoneInfo("America/New_York")).date()


TAQ_VENUES = {
    "ARCX": 5597,
    "BATS": 4281,
    "BATY": 6583,
    "EDGA": 1262,
    "EDGX": 3757,
    "IEXG": 1722,
    "XASE": 166,
    "XBOS": 6105,
    "XCHI": 47,
    "XNAS": 5461,
    "XNYS": 94422,
    "XPHL": 1998,
}


@pytest.fixture(scope="module")
def quotes() -> pa.Table:
    return read_taq_quotes(shared_path("real-quotes", "sampleQDataRaw.parquet"))


@pytest.fixture(scope="module")
def raw_rows() -> list[dict]:
    """The file's rows as the reference sees them: DT as UTC nanoseconds, sizes in shares,
    the exchange letter as the venue (any distinct label serves the NBBO)."""
    raw = pq.read_table(shared_path("real-quotes", "sampleQDataRaw.parquet"))
    ts = pc.cast(raw.column("DT"), pa.int64()).to_pylist()
    return [
        {
            "symbol": r["SYMBOL"],
            "ts": t,
            "venue": r["EX"],
            "bid": r["BID"],
            "bid_size": r["BIDSIZ"] * 100,
            "ask": r["OFR"],
            "ask_size": r["OFRSIZ"] * 100,
        }
        for r, t in zip(raw.to_pylist(), ts, strict=True)
    ]


def _ns(text: str) -> int:
    moment = datetime.fromisoformat(text).astimezone(UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def test_taq_quotes_read_every_row_with_venue_mics_and_shares(quotes: pa.Table) -> None:
    assert quotes.schema.equals(QUOTES)
    assert quotes.num_rows == 131_401
    counts = {v["values"]: v["counts"] for v in pc.value_counts(quotes["venue"]).to_pylist()}
    assert counts == TAQ_VENUES
    first = quotes.slice(0, 1).to_pylist()[0]
    assert first["venue"] == "ARCX" and first["symbol"] == "XXX"
    assert (first["bid"], first["bid_size"], first["ask"], first["ask_size"]) == (
        156.57,
        100,
        158.85,
        100,
    )


def test_taq_dt_without_zone_is_utc_by_default_and_tz_overrides_it(quotes: pa.Table) -> None:
    """DT 2018-01-02 09:04:13.125 is UTC (04:04:13.125 in New York, pre-market)."""
    first = pc.cast(quotes["ts"], pa.int64())[0].as_py()
    assert first == _ns("2018-01-02T09:04:13.125+00:00") == _ns("2018-01-02T04:04:13.125-05:00")
    path = shared_path("real-quotes", "sampleQDataRaw.parquet")
    shifted = read_taq_quotes(path, tz="America/New_York")
    assert pc.cast(shifted["ts"], pa.int64())[0].as_py() == first + 5 * 3600 * 1_000_000_000


def test_taq_nbbo_matches_an_independent_replay_at_chosen_times(
    quotes: pa.Table, raw_rows: list[dict]
) -> None:
    """Times: every 100th same-timestamp burst across venues (at it and 1 ns before it),
    random instants over both days, and times before the first quote. Each New York date's
    book starts empty: the reference replays only the quotes of the time's own date, and
    before a date's first quote the row in force is an earlier date's (another session)."""
    nbbo = quotes_to_nbbo(quotes)
    ts = pc.cast(nbbo["ts"], pa.int64()).to_pylist()
    rows = nbbo.to_pylist()
    states = nbbo_states(nbbo).to_pylist()
    by_ts: dict[int, set[str]] = {}
    for r in raw_rows:
        by_ts.setdefault(r["ts"], set()).add(r["venue"])
    bursts = sorted(t for t, venues in by_ts.items() if len(venues) >= 2)
    assert len(bursts) > 10_000
    rng = random.Random(9)
    start, end = raw_rows[0]["ts"], raw_rows[-1]["ts"]
    times = [t for b in bursts[::100] for t in (b, b - 1)]
    times += [rng.randrange(start, end) for _ in range(300)]
    times += [start - 1, start - 86_400_000_000_000, start, end, end + 10**12]
    by_date: dict[date, list[dict]] = {}
    for r in raw_rows:
        by_date.setdefault(_ny_date(r["ts"]), []).append(r)
    want = {}
    for t in times:
        want.update(ref_nbbo_at(by_date.get(_ny_date(t), []), "XXX", [t]))
    seen_states = set()
    for t in times:
        k = bisect.bisect_right(ts, t) - 1
        if want[t] is None:  # no quote yet on t's date
            assert k < 0 or _ny_date(ts[k]) < _ny_date(t), t
            continue
        bid, ask = want[t]
        row = rows[k]
        got_bid = None if row["bid"] is None else (row["bid"], row["bid_size"])
        got_ask = None if row["ask"] is None else (row["ask"], row["ask_size"])
        assert (got_bid, got_ask) == (bid, ask), t
        assert states[k] == ref_state(bid, ask), t
        seen_states.add(states[k])
    assert {"normal", "locked", "crossed"} <= seen_states


def test_a_burst_of_rows_at_one_timestamp_is_applied_whole(raw_rows: list[dict]) -> None:
    """At 2018-01-02 14:30:37.480999947Z six quotes of three venues arrive at once; the NBBO
    at that instant is the state after all six, one NBBO row at most for the timestamp."""
    t = 1514903437480999947
    quotes = pa.Table.from_pylist(
        [dict(r, ts=r["ts"]) for r in raw_rows if r["ts"] <= t],
        schema=pa.schema([(f.name, pa.int64() if f.name == "ts" else f.type) for f in QUOTES]),
    )
    quotes = quotes.set_column(1, "ts", quotes["ts"].cast(QUOTES.field("ts").type))
    nbbo = quotes_to_nbbo(quotes)
    last = pc.cast(nbbo["ts"], pa.int64()).to_pylist()
    assert last.count(t) <= 1
    bid, ask = ref_nbbo_at(raw_rows, "XXX", [t])[t]  # type: ignore[misc]
    row = nbbo.slice(nbbo.num_rows - 1).to_pylist()[0]
    assert ((row["bid"], row["bid_size"]), (row["ask"], row["ask_size"])) == (bid, ask)


def test_taq_trades_keep_every_print_with_finra_as_xadf_and_corrections() -> None:
    trades = read_taq_trades(shared_path("real-quotes", "sampleTDataRaw.parquet"))
    assert trades.schema.equals(TRADES)
    assert trades.num_rows == 77_263
    counts = {v["values"]: v["counts"] for v in pc.value_counts(trades["venue"]).to_pylist()}
    assert counts["XADF"] == 23_697 and counts["XNYS"] == 11_191
    corrections = pc.value_counts(trades["correction"]).to_pylist()
    assert {c["values"]: c["counts"] for c in corrections} == {0: 77_261, 8: 1, 10: 1}
    first = trades.slice(0, 1).to_pylist()[0]
    assert (first["venue"], first["price"], first["size"], first["conditions"]) == (
        "ARCX",
        157.8,
        2.0,
        "FTI",
    )


def test_wrds_layout_reads_date_and_time_in_new_york_time(tmp_path: Path) -> None:
    path = tmp_path / "wrds.csv"
    path.write_text(
        "DATE,TIME_M,EX,SYM_ROOT,SYM_SUFFIX,BID,BIDSIZ,ASK,ASKSIZ\n"
        "2022-05-10,9:30:00.123456789,N,BRK,B,300.5,2,300.7,3\n"
        "2022-05-10,9:30:01.000000000,Q,AAPL,,155.1,1,155.2,1\n",
        encoding="utf-8",
    )
    got = read_taq_quotes(path).to_pylist()
    assert [g["symbol"] for g in got] == ["BRK.B", "AAPL"]
    assert [g["venue"] for g in got] == ["XNYS", "XNAS"]
    first = pc.cast(read_taq_quotes(path)["ts"], pa.int64())[0].as_py()
    assert (
        first
        == _ns("2022-05-10T09:30:00.123456-04:00") + 789
        == _ns("2022-05-10T13:30:00.123456+00:00") + 789
    )
    assert (got[0]["bid_size"], got[0]["ask_size"]) == (200, 300)


def test_an_unknown_exchange_letter_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "taq.csv"
    path.write_text(
        "DT,EX,BID,BIDSIZ,OFR,OFRSIZ,SYMBOL\n"
        "2018-01-02 14:30:00,N,1,1,2,1,XXX\n"
        "2018-01-02 14:30:01,?,1,1,2,1,XXX\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"taq\.csv: line 3: EX '\?' is not a TAQ exchange code"):
        read_taq_quotes(path)


def test_a_bad_price_is_refused_naming_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "taq.csv"
    path.write_text(
        "DT,EX,BID,BIDSIZ,OFR,OFRSIZ,SYMBOL\n2018-01-02 14:30:00,N,1,1,abc,1,XXX\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"taq\.csv: line 2: OFR 'abc' is not a number"):
        read_taq_quotes(path)
