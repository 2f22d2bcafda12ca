"""Countdown schedules (倒排时间表), pure: templates per severity, milestones, days left and the light.

No I/O: the holiday calendar comes in as a :class:`~services.kit.workdays.WorkCalendar`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from services.kit.workdays import (
    LOCAL_TZ,
    WorkCalendar,
    end_of_local_day,
    local_date,
    start_of_local_day,
)
from services.rectification.enums import Light, MilestoneKind, Severity

# Reminders that are not at the due moment go out at 09:00 local time on their day.
REMINDER_TIME = time(9, 0)


@dataclass(frozen=True)
class Template:
    """How many (calendar or working) days each milestone gets for one severity."""

    plan_days: int
    plan_working: bool
    midterm_percent: int
    completion_days: int
    completion_working: bool
    verification_days: int
    verification_working: bool

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


DEFAULT_TEMPLATES: dict[str, Template] = {
    Severity.GENERAL: Template(5, True, 50, 30, False, 5, True),
    Severity.SERIOUS: Template(3, True, 50, 15, False, 5, True),
    Severity.SEVERE: Template(2, True, 50, 7, False, 3, True),
}


@dataclass
class MilestonePlan:
    """Where one milestone falls, and how it was computed (so it can be recomputed)."""

    kind: MilestoneKind
    position: int
    due_at: datetime
    base_on: date | None
    days: int | None
    working: bool
    provisional: bool


def add_days(calendar: WorkCalendar, start: date, days: int, working: bool) -> tuple[date, bool]:
    """`days` calendar or working days after `start`, and whether the result is provisional.

    A count of calendar days that lands on a non-working day rolls to the next working day (a
    deadline never falls in a holiday); either count is provisional when it crossed a guessed year.
    """
    if working:
        return calendar.add_working_days(start, days)
    return calendar.roll_to_workday(start + timedelta(days=days))


def plan_milestones(
    *,
    calendar: WorkCalendar,
    template: Template,
    starts_at: datetime,
    deadline_at: datetime | None,
    plan_due_at: datetime | None = None,
    midterm_due_at: datetime | None = None,
) -> list[MilestonePlan]:
    """The plan, mid-term and completion milestones of a problem starting at `starts_at`.

    An explicit deadline or milestone wins over the template; a template milestone that would
    fall after an explicit deadline is pulled back to it.
    """
    start_on = local_date(starts_at)
    if deadline_at is None:
        day, prov = add_days(calendar, start_on, template.completion_days, template.completion_working)
        completion = MilestonePlan(
            MilestoneKind.COMPLETION,
            3,
            end_of_local_day(day),
            start_on,
            template.completion_days,
            template.completion_working,
            prov,
        )
    else:
        completion = MilestonePlan(MilestoneKind.COMPLETION, 3, deadline_at, None, None, False, False)
    if plan_due_at is None:
        day, prov = add_days(calendar, start_on, template.plan_days, template.plan_working)
        plan = MilestonePlan(
            MilestoneKind.PLAN,
            1,
            min(end_of_local_day(day), completion.due_at),
            start_on,
            template.plan_days,
            template.plan_working,
            prov,
        )
    else:
        plan = MilestonePlan(MilestoneKind.PLAN, 1, plan_due_at, None, None, False, False)
    if midterm_due_at is None:
        span = (local_date(completion.due_at) - start_on).days
        offset = span * template.midterm_percent // 100
        day, prov = add_days(calendar, start_on, offset, False)
        midterm = MilestonePlan(
            MilestoneKind.MIDTERM,
            2,
            clamp_midterm(end_of_local_day(day), plan.due_at, completion.due_at),
            start_on,
            offset,
            False,
            prov,
        )
    else:
        midterm = MilestonePlan(MilestoneKind.MIDTERM, 2, midterm_due_at, None, None, False, False)
    return [plan, midterm, completion]


def clamp_midterm(midterm_at: datetime, plan_at: datetime, completion_at: datetime) -> datetime:
    """The mid-term milestone kept between the plan and the completion (the order of the schedule).

    A plan counted in working days can fall after a mid-term counted in calendar days across a long
    holiday (plan 10-10, mid-term 10-07 around National Day): the mid-term then moves to the plan.
    """
    return min(max(midterm_at, plan_at), completion_at)


def plan_verification(*, calendar: WorkCalendar, template: Template, submitted_at: datetime) -> MilestonePlan:
    """The verification milestone, counted from the day the rectification was submitted."""
    base = local_date(submitted_at)
    day, prov = add_days(calendar, base, template.verification_days, template.verification_working)
    return MilestonePlan(
        MilestoneKind.VERIFICATION,
        4,
        end_of_local_day(day),
        base,
        template.verification_days,
        template.verification_working,
        prov,
    )


def days_left(due_at: datetime, now: datetime) -> int:
    """Calendar days from today to the due date (Asia/Shanghai); negative once past."""
    return (local_date(due_at) - local_date(now)).days


def light_for(due_at: datetime | None, now: datetime, *, yellow_days: int, red_days: int) -> Light | None:
    """green, yellow (≤ yellow_days left), red (≤ red_days left) or overdue; None when nothing is due."""
    if due_at is None:
        return None
    if now > due_at:
        return Light.OVERDUE
    left = days_left(due_at, now)
    if left <= red_days:
        return Light.RED
    if left <= yellow_days:
        return Light.YELLOW
    return Light.GREEN


def light_bounds(
    light: Light, now: datetime, *, yellow_days: int, red_days: int
) -> tuple[datetime | None, datetime | None]:
    """[low, high) range of the due moment that gives `light` at `now` (the SQL form of light_for)."""
    today = local_date(now)
    red_end = start_of_local_day(today + timedelta(days=red_days + 1))
    yellow_end = start_of_local_day(today + timedelta(days=yellow_days + 1))
    return {
        Light.OVERDUE: (None, now),
        Light.RED: (now, red_end),
        Light.YELLOW: (red_end, yellow_end),
        Light.GREEN: (yellow_end, None),
    }[light]


def reminder_moment(due_at: datetime, offset_days: int) -> datetime:
    """When the reminder `offset_days` before `due_at` goes out (09:00 local; 0 = the due moment)."""
    if offset_days == 0:
        return due_at
    day = local_date(due_at) - timedelta(days=offset_days)
    return datetime.combine(day, REMINDER_TIME, tzinfo=LOCAL_TZ).astimezone(due_at.tzinfo)
