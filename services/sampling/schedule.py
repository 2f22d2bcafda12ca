"""Visit days (pure): which working day each drawn site is visited on, and when a team hears of it.

A team visits its districts one after another (in the order the draw dealt them). Each district
gets ``days_per_district`` consecutive *working days* (工作日 of ``services.kit.workdays``: statutory
holidays are skipped, an adjusted working weekend day (调休) counts), starting at the round's first
visit day rolled to a working day. Inside a district the team's sites are ordered by org unit and
code (a town/street next to its villages and organisations, so nearby sites share a day) and cut
into contiguous runs, one per day, as evenly as possible (the earlier days take the extra site),
never more than ``cap`` on one day. Nothing here is random: the same draw, settings and calendar
give the same schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from services.kit.workdays import LOCAL_TZ, WorkCalendar

# A team hears of the next day's visits at this local time on the calendar day before.
EVENING = time(18, 0)
DEFAULT_MAX_VISITS_PER_DAY = 6


@dataclass(frozen=True)
class Site:
    """What the schedule needs of one visit: the site, its district and the team visiting it."""

    code: str
    district: str
    org_unit: str
    team: int


@dataclass(frozen=True)
class Slot:
    """One site's visit: its window (the district's days for its team) and its day."""

    visit_from: date
    visit_to: date
    visit_on: date


@dataclass(frozen=True)
class Shortfall:
    """A district whose sites do not fit its days at the cap."""

    team: int
    district: str
    sites: int
    days: int
    cap: int

    @property
    def days_needed(self) -> int:
        return -(-self.sites // self.cap)

    @property
    def cap_needed(self) -> int:
        return -(-self.sites // max(self.days, 1))


class ScheduleInfeasible(Exception):
    """Some districts' sites do not fit their visit days at the cap; `shortfalls` says which."""

    def __init__(self, shortfalls: list[Shortfall]) -> None:
        super().__init__("; ".join(f"{s.district}: {s.sites} sites in {s.days} days" for s in shortfalls))
        self.shortfalls = shortfalls


@dataclass
class Schedule:
    """Every site's slot, and whether a date in it was guessed (a year the calendar does not know)."""

    slots: dict[str, Slot] = field(default_factory=dict)
    provisional: bool = False


def working_days(calendar: WorkCalendar, start: date, count: int) -> tuple[list[date], bool]:
    """The first `count` working days on or after `start`, and whether any is provisional."""
    days: list[date] = []
    provisional = False
    day = start
    while len(days) < count:
        working, guessed = calendar.is_workday(day)
        provisional = provisional or guessed
        if working:
            days.append(day)
        day += timedelta(days=1)
    return days, provisional


def district_days(
    calendar: WorkCalendar, start: date, team_districts: Sequence[str], days_per_district: int
) -> tuple[dict[str, list[date]], bool]:
    """One team's working days in each of its districts, visited in the given order."""
    days, provisional = working_days(calendar, start, days_per_district * len(team_districts))
    return (
        {d: days[i * days_per_district : (i + 1) * days_per_district] for i, d in enumerate(team_districts)},
        provisional,
    )


def spread(count: int, days: int) -> list[int]:
    """How many of `count` sites fall on each of `days` days: as even as possible, extras first."""
    base, extra = divmod(count, days)
    return [base + (1 if i < extra else 0) for i in range(days)]


def visit_order(sites: Iterable[Site]) -> list[Site]:
    """Sites in the order they are visited: by org unit (town before its villages), then code."""
    return sorted(sites, key=lambda s: (s.org_unit.encode("utf-8"), s.code.encode("utf-8")))


def plan(
    calendar: WorkCalendar,
    *,
    start: date,
    teams: dict[int, Sequence[str]],
    sites: Iterable[Site],
    days_per_district: int,
    cap: int,
) -> Schedule:
    """Schedule every site: `teams` maps a team's number to its districts in visiting order.

    Raises :class:`ScheduleInfeasible` (naming every district that does not fit) instead of
    overfilling a day or spilling into the next district's days.
    """
    out = Schedule()
    windows: dict[str, tuple[int, list[date]]] = {}
    for number, districts in sorted(teams.items()):
        by_name, provisional = district_days(calendar, start, districts, days_per_district)
        out.provisional = out.provisional or provisional
        for d, ds in by_name.items():
            windows[d] = (number, ds)
    by_district: dict[str, list[Site]] = defaultdict(list)
    for s in sites:
        by_district[s.district].append(s)
    shortfalls = []
    for d, group in sorted(by_district.items()):
        number, days = windows[d]
        if len(group) > len(days) * cap:
            shortfalls.append(Shortfall(number, d, len(group), len(days), cap))
            continue
        ordered = visit_order(group)
        i = 0
        for day, n in zip(days, spread(len(ordered), len(days)), strict=True):
            for s in ordered[i : i + n]:
                out.slots[s.code] = Slot(days[0], days[-1], day)
            i += n
    if shortfalls:
        raise ScheduleInfeasible(shortfalls)
    return out


def first_free_day(
    calendar: WorkCalendar, first: date, last: date, load: dict[date, int], cap: int
) -> date | None:
    """The first working day in [first, last] on which a team with `load` visits still has room."""
    day = first
    while day <= last:
        if calendar.is_workday(day)[0] and load.get(day, 0) < cap:
            return day
        day += timedelta(days=1)
    return None


def evening_before(day: date) -> datetime:
    """18:00 Asia/Shanghai on the calendar day before `day`, in UTC: when a team hears of `day`'s visits."""
    return datetime.combine(day - timedelta(days=1), EVENING, tzinfo=LOCAL_TZ).astimezone(UTC)
