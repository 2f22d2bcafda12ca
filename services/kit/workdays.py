"""Chinese working days (工作日): statutory holidays and adjusted working weekends (调休).

Three sources, in order: the dates a city admin entered for a year (official notices come out each
December, before the package is updated); the ``chinesecalendar`` package (it knows 2004-2026 and
raises ``NotImplementedError`` outside); and, where neither knows the year, Monday to Friday less
the holidays whose date the State Council's rules fix (元旦 1 Jan, 劳动节 1 May, 国庆 1-3 Oct; the
lunar holidays and the 调休 weekends are only known from each year's notice). A date decided by that
last fallback is *provisional*, and so is every schedule computed across it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Holidays on a fixed Gregorian date (month, day), known for any year without its notice.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})


@dataclass(frozen=True)
class EnteredYear:
    """A year whose holidays and adjusted working days a city admin entered."""

    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass
class WorkCalendar:
    """Answers "is this a working day?" and counts working days, noting when it had to guess."""

    entered: Mapping[int, EnteredYear] = field(default_factory=dict)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(working day?, provisional?) for `day`."""
        year = self.entered.get(day.year)
        if year is not None:
            if day in year.holidays:
                return False, False
            if day in year.workdays:
                return True, False
            return day.weekday() < 5, False
        try:
            return bool(chinese_calendar.is_workday(day)), False
        except NotImplementedError:
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, True

    def knows_year(self, year: int) -> bool:
        """Whether `year` is covered by entered dates or by the package (i.e. not a Mon-Fri guess)."""
        return not self.is_workday(date(year, 6, 1))[1]

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The date `days` working days after `start` (start itself not counted), and whether it is provisional."""
        provisional = False
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            working, guessed = self.is_workday(current)
            provisional = provisional or guessed
            if working:
                remaining -= 1
        return current, provisional

    def roll_to_workday(self, day: date) -> tuple[date, bool]:
        """`day` if it is a working day, else the next working day; and whether that is provisional."""
        working, provisional = self.is_workday(day)
        while not working:
            day += timedelta(days=1)
            working, guessed = self.is_workday(day)
            provisional = provisional or guessed
        return day, provisional

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when `end` is before `start`."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current)[0]:
                count += 1
        return count


def local_date(moment: datetime) -> date:
    """The date in Asia/Shanghai at `moment`."""
    return moment.astimezone(LOCAL_TZ).date()


def end_of_local_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai on `day`, in UTC: when a deadline given as a date ends."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ).astimezone(UTC)


def start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LOCAL_TZ).astimezone(UTC)


def entered_year(holidays: Iterable[str | date], workdays: Iterable[str | date]) -> EnteredYear:
    def _d(v: str | date) -> date:
        return v if isinstance(v, date) else date.fromisoformat(v)

    return EnteredYear(frozenset(_d(h) for h in holidays), frozenset(_d(w) for w in workdays))
