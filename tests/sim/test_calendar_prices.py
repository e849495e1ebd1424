"""Calendar sessions, tick grids and price ranges of the simulated market."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from pfof.sim.calendar import trading_sessions
from pfof.sim.prices import ceil_tick, floor_tick, on_grid, tick

NY = ZoneInfo("America/New_York")


def _ny(ns: int) -> time:
    from datetime import datetime

    return datetime.fromtimestamp(ns / 1e9, tz=NY).time()


def test_sessions_skip_holidays_and_honour_half_days() -> None:
    sessions = trading_sessions(date(2026, 11, 25), 4)
    assert [s.day for s in sessions] == [
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]
    thanksgiving_friday = sessions[1]
    assert thanksgiving_friday.half_day
    assert _ny(thanksgiving_friday.open_ns) == time(9, 30)
    assert _ny(thanksgiving_friday.close_ns) == time(13, 0)
    assert _ny(sessions[0].close_ns) == time(16, 0) and not sessions[0].half_day


def test_written_days_follow_the_calendar(sim_market) -> None:
    sessions = {s.day: s for s in trading_sessions(date(2026, 11, 27), 3)}
    assert sim_market.days() == list(sessions)  # the 11-27 half day, then weekdays
    assert sessions[date(2026, 11, 27)].half_day
    for day in sim_market.days():
        s = sessions[day]
        for name, col in (("quotes", "ts"), ("nbbo", "ts"), ("fills", "exec_ts")):
            ts = sim_market.read_day(name, day).column(col).cast("int64").to_numpy()
            assert ts.min() >= s.open_ns and ts.max() <= s.close_ns, (name, day)
        orders = sim_market.read_day("orders", day)
        rts = orders.column("received_ts").cast("int64").to_numpy()
        tif = np.array(orders.column("time_in_force").to_pylist())
        assert (rts[tif == "OPG"] < s.open_ns).all()
        assert (rts[tif != "OPG"] >= s.open_ns).all() and (rts <= s.close_ns).all()


@given(st.integers(min_value=1, max_value=50_000_000), st.booleans())
def test_tick_rounding_is_on_grid_and_tight(units: int, option: bool) -> None:
    x = np.array([units])
    lo, hi = floor_tick(x, option)[0], ceil_tick(x, option)[0]
    assert on_grid(np.array([lo]), option)[0] and on_grid(np.array([hi]), option)[0]
    assert hi >= units
    assert lo <= units or lo == tick(np.array([1]), option)[0]
    assert hi - units < tick(np.array([hi]), option)[0]


def _decimals(values: list[float]) -> list[Decimal]:
    return [Decimal(repr(v)) for v in values if v is not None]


def test_quotes_respect_tick_sizes_and_price_range(sim_market) -> None:
    q = sim_market.read_all("quotes")
    stock = pc.invert(pc.match_substring_regex(q.column("symbol"), r"\d"))
    prices = _decimals(q.filter(stock).column("bid").to_pylist())
    prices += _decimals(q.filter(stock).column("ask").to_pylist())
    assert all(
        (p % Decimal("0.01") == 0) if p >= 1 else (p % Decimal("0.0001") == 0) for p in prices
    )
    assert min(prices) < 1 and max(prices) > 1000
    opt = _decimals(q.filter(pc.invert(stock)).column("ask").to_pylist())
    assert opt and all(
        (p % Decimal("0.05") == 0) if p >= 3 else (p % Decimal("0.01") == 0) for p in opt
    )
