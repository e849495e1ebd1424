"""The exchanges' time zone and quarter arithmetic (model.market_time)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfof.errors import ParameterError
from pfof.model.market_time import (
    MARKET_TZ,
    previous_quarter,
    quarter_bounds,
    quarter_months,
    quarter_of,
    year_quarter,
)


def test_market_tz_is_new_york() -> None:
    assert ZoneInfo(MARKET_TZ).key == "America/New_York"


@pytest.mark.parametrize(
    ("month", "quarter"), [(1, 1), (3, 1), (4, 2), (6, 2), (7, 3), (9, 3), (10, 4), (12, 4)]
)
def test_quarter_of_month(month: int, quarter: int) -> None:
    assert quarter_of(month) == quarter


def test_quarter_months_are_the_three_months_of_the_quarter() -> None:
    assert [list(quarter_months(q)) for q in (1, 2, 3, 4)] == [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
        [10, 11, 12],
    ]


@pytest.mark.parametrize(
    ("year", "quarter", "first", "last"),
    [
        (2024, 1, date(2024, 1, 1), date(2024, 3, 31)),
        (2024, 2, date(2024, 4, 1), date(2024, 6, 30)),
        (2024, 3, date(2024, 7, 1), date(2024, 9, 30)),
        (2024, 4, date(2024, 10, 1), date(2024, 12, 31)),
    ],
)
def test_quarter_bounds_are_its_first_and_last_day(
    year: int, quarter: int, first: date, last: date
) -> None:
    assert quarter_bounds(year, quarter) == (first, last)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_every_day_lies_within_the_bounds_of_its_quarter(day: date) -> None:
    year, quarter = year_quarter(day)
    first, last = quarter_bounds(year, quarter)
    assert first <= day <= last and day.month in quarter_months(quarter)
    # the quarters tile the calendar: the day before the first is the previous quarter's last
    assert quarter_bounds(*previous_quarter(year, quarter))[1] == first - timedelta(days=1)


def test_previous_quarter_of_q1_is_q4_of_the_year_before() -> None:
    assert previous_quarter(2024, 1) == (2023, 4)
    assert previous_quarter(2024, 3) == (2024, 2)


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_quarter_outside_1_to_4_is_a_parameter_error(quarter: int) -> None:
    for call in (quarter_months, lambda q: quarter_bounds(2024, q)):
        with pytest.raises(ParameterError, match="quarter must be 1-4"):
            call(quarter)


@pytest.mark.parametrize("month", [0, 13])
def test_month_outside_1_to_12_is_a_parameter_error(month: int) -> None:
    with pytest.raises(ParameterError, match="month must be 1-12"):
        quarter_of(month)
