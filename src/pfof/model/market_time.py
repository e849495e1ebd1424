"""Market time: the exchanges' time zone and calendar-quarter arithmetic, known here only.

US equity and options markets keep New York time, so a trading day, a report month and a
report quarter are New York dates (Rule 605 and 606 both count orders by the date they were
received there). Quarters are calendar quarters: Q1 is January to March.
"""

from __future__ import annotations

from datetime import date, timedelta

from pfof.errors import ParameterError

__all__ = [
    "MARKET_TZ",
    "as_date",
    "previous_quarter",
    "quarter_bounds",
    "quarter_months",
    "quarter_of",
    "year_quarter",
]

#: IANA time zone of US exchanges (DuckDB ``timezone(...)``, Polars, ``zoneinfo``).
MARKET_TZ = "America/New_York"


def _check_quarter(quarter: int) -> None:
    if not 1 <= quarter <= 4:
        raise ParameterError(f"quarter must be 1-4, got {quarter}")


def quarter_of(month: int) -> int:
    """The quarter (1-4) a month (1-12) falls in."""
    if not 1 <= month <= 12:
        raise ParameterError(f"month must be 1-12, got {month}")
    return (month - 1) // 3 + 1


def year_quarter(day: date) -> tuple[int, int]:
    """``(year, quarter)`` of a date."""
    return day.year, quarter_of(day.month)


def quarter_months(quarter: int) -> range:
    """The month numbers of a quarter: ``range(4, 7)`` for Q2."""
    _check_quarter(quarter)
    return range(3 * quarter - 2, 3 * quarter + 1)


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    _check_quarter(quarter)
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    """``(year, quarter)`` of the quarter before: Q4 of the previous year before Q1."""
    _check_quarter(quarter)
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def as_date(value: date | str, what: str = "date") -> date:
    """``value`` as a date: a ``date`` as it is, a string as ISO ``YYYY-MM-DD``.

    Raises :class:`~pfof.errors.ParameterError` naming ``what`` for anything else.
    """
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what} must be a date (YYYY-MM-DD), got {value!r}") from exc
