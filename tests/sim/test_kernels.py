"""Property tests of the simulator's exact kernels against naive references."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pfof.model.ground_truth import EXACT
from pfof.sim.arrow import decimals
from pfof.sim.day import _seq
from pfof.sim.economics import round_half_away
from pfof.sim.quotes import first_passage


@given(
    st.lists(st.integers(-50, 50), min_size=1, max_size=200),
    st.data(),
)
def test_first_passage_matches_a_scan(values: list[int], data: st.DataObject) -> None:
    arr = np.array(values, dtype=np.int64)
    n = len(arr)
    q = data.draw(st.integers(1, 20))
    start = np.array(data.draw(st.lists(st.integers(0, n), min_size=q, max_size=q)))
    stop = np.array([data.draw(st.integers(int(s), n)) for s in start])
    thr = np.array(data.draw(st.lists(st.integers(-60, 60), min_size=q, max_size=q)))
    got = first_passage(arr, start, stop, thr)
    for i in range(q):
        hits = [j for j in range(start[i], stop[i]) if arr[j] <= thr[i]]
        assert got[i] == (hits[0] if hits else stop[i])


@given(
    st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=50),
    st.sampled_from([10**6, 10**8, 10**12]),
)
def test_round_half_away_matches_decimal(values: list[int], divisor: int) -> None:
    got = round_half_away(np.array(values, dtype=object), divisor)
    for v, g in zip(values, got, strict=True):
        want = (Decimal(v) / divisor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert g == int(want)


@given(st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=50))
def test_decimal_arrays_from_scaled_ints(values: list[int]) -> None:
    arr = decimals(np.array(values, dtype=np.int64), EXACT)
    assert arr.to_pylist() == [Decimal(v).scaleb(-12) for v in values]


@given(st.lists(st.integers(0, 5), min_size=0, max_size=60))
def test_seq_numbers_rows_within_each_order(orders: list[int]) -> None:
    o = np.sort(np.array(orders, dtype=np.int64))
    got = _seq(o).tolist()
    want, last, k = [], None, 0
    for x in o.tolist():
        k = k + 1 if x == last else 1
        last = x
        want.append(k)
    assert got == want
