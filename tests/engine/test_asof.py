"""engine.asof against a brute-force scan, on random small inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfof.engine.asof import NbboIndex, asof_nbbo, searchsorted_right
from support.reference_quality import ref_asof

TS = pa.timestamp("ns", tz="UTC")


@st.composite
def case(draw: st.DrawFn, spread_out: bool = False) -> dict[str, Any]:
    # spread_out: times decades apart, so packed keys would overflow and segments are used
    unit = 10**17 if spread_out else 1
    times = st.integers(0, 40).map(lambda k: k * unit)
    nbbo = [
        {"symbol": draw(st.sampled_from("ABC")), "ts": draw(times)}
        for _ in range(draw(st.integers(0, 25)))
    ]
    if draw(st.booleans()):
        nbbo.sort(key=lambda r: (r["symbol"], r["ts"]))
    events = [
        (draw(st.sampled_from(["A", "B", "C", "D", None])), draw(times))
        for _ in range(draw(st.integers(0, 15)))
    ]
    return {
        "nbbo": nbbo,
        "events": events,
        "offset": draw(st.sampled_from([0, 1, 3, -2])) * unit,
        "max_age": draw(st.sampled_from([None, 0, 1, 5])),
    }


def _nbbo(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            "symbol": pa.array([r["symbol"] for r in rows], pa.string()),
            "ts": pa.array([r["ts"] for r in rows], pa.int64()).cast(TS),
        }
    )


def _check(c: dict[str, Any]) -> None:
    nbbo = _nbbo(c["nbbo"])
    ts = np.array([t for _, t in c["events"]], dtype=np.int64)
    symbols = pa.array([s for s, _ in c["events"]], pa.string())
    got = asof_nbbo(ts, symbols, nbbo, offset_ns=c["offset"], max_age_ns=c["max_age"])
    want = [ref_asof(c["nbbo"], s, t + c["offset"], c["max_age"]) for s, t in c["events"]]
    assert got.tolist() == want


@settings(max_examples=300, deadline=None)
@given(case())
def test_asof_matches_brute_force(c: dict[str, Any]) -> None:
    _check(c)


@settings(max_examples=100, deadline=None)
@given(case(spread_out=True))
def test_asof_over_decades_falls_back_to_segments(c: dict[str, Any]) -> None:
    if c["nbbo"]:
        span = max(r["ts"] for r in c["nbbo"]) - min(r["ts"] for r in c["nbbo"]) + 1
        n_symbols = len({r["symbol"] for r in c["nbbo"]})
        overflow = (n_symbols + 1) * span >= 2**62
        assert (NbboIndex.build(_nbbo(c["nbbo"])).key is None) == overflow
    _check(c)


@settings(max_examples=100, deadline=None)
@given(case())
def test_composite_and_segments_agree(c: dict[str, Any]) -> None:
    index = NbboIndex.build(_nbbo(c["nbbo"]))
    codes = index.encode(pa.array([s for s, _ in c["events"]], pa.string()))
    ts = np.array([t for _, t in c["events"]], dtype=np.int64)
    offsets = [0, 1, 7]
    a = index.lookup_many(codes, ts, offsets, max_age_ns=c["max_age"], method="composite")
    b = index.lookup_many(codes, ts, offsets, max_age_ns=c["max_age"], method="segments")
    assert [x.tolist() for x in a] == [x.tolist() for x in b]


def test_sorted_input_is_not_resorted_and_unsorted_is() -> None:
    rows = [{"symbol": "B", "ts": 1}, {"symbol": "B", "ts": 4}, {"symbol": "A", "ts": 2}]
    assert NbboIndex.build(_nbbo(rows)).perm is None  # grouped + time-sorted
    assert NbboIndex.build(_nbbo([rows[1], rows[0], rows[2]])).perm is not None
    assert NbboIndex.build(_nbbo([*rows, {"symbol": "B", "ts": 9}])).perm is not None


def test_null_symbol_in_nbbo_is_reported() -> None:
    table = pa.table({"symbol": pa.array(["A", None]), "ts": pa.array([1, 2], TS)})
    with pytest.raises(ValueError, match="nbbo: row 1 has a null symbol"):
        NbboIndex.build(table)


def test_asof_on_chunked_columns_returns_the_latest_quote_row_per_event() -> None:
    rows = [{"symbol": s, "ts": t} for s in "AB" for t in (1, 5, 9)]
    table = pa.concat_tables([_nbbo(rows[:2]), _nbbo(rows[2:])])
    assert table.column("symbol").num_chunks == 2
    got = asof_nbbo(np.array([5, 4, 100]), pa.chunked_array([["A"], ["B", "B"]]), table)
    assert got.tolist() == [1, 3, 5]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 30), max_size=60),
    st.lists(st.integers(-2, 32), max_size=40),
    st.integers(1, 5),
)
def test_blocked_searchsorted_equals_numpy(keys: list[int], queries: list[int], block: int) -> None:
    k = np.sort(np.array(keys, dtype=np.int64))
    q = np.sort(np.array(queries, dtype=np.int64))
    want = np.searchsorted(k, q, side="right")
    assert searchsorted_right(k, q, block=block).tolist() == want.tolist()
