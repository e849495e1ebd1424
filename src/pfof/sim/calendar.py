"""Trading sessions from a maintained exchange calendar (regular hours, half days honoured)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import exchange_calendars as xcals
import pandas as pd


@dataclass(frozen=True)
class Session:
    """One trading day: its date, index in the run, and open/close as UTC nanoseconds."""

    day: date
    index: int
    open_ns: int
    close_ns: int

    @property
    def midnight_ns(self) -> int:
        """UTC midnight of the session date, the origin of intraday time keys."""
        return int(pd.Timestamp(self.day, tz="UTC").value)

    @property
    def half_day(self) -> bool:
        """True for an early close (regular session shorter than 6.5 hours)."""
        return self.close_ns - self.open_ns < 6.5 * 3600 * 10**9


def trading_sessions(start: date, days: int, calendar: str = "XNYS") -> list[Session]:
    """The first ``days`` sessions on or after ``start`` (weekends and holidays skipped)."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    end = start + timedelta(days=days * 2 + 15)
    cal = xcals.get_calendar(
        calendar, start=(start - timedelta(days=7)).isoformat(), end=end.isoformat()
    )
    sched = cal.schedule.loc[pd.Timestamp(start) : pd.Timestamp(end)]
    if len(sched) < days:
        raise ValueError(f"calendar {calendar} has only {len(sched)} sessions after {start}")
    out = []
    for i, (label, row) in enumerate(sched.iloc[:days].iterrows()):
        out.append(Session(label.date(), i, int(row["open"].value), int(row["close"].value)))
    return out
