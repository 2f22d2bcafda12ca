"""The template's milestones: calendar-day deadlines roll past holidays, milestones stay in order."""

from datetime import UTC, date, datetime

from services.kit.workdays import LOCAL_TZ, WorkCalendar, local_date
from services.rectification.countdown import DEFAULT_TEMPLATES, Template, add_days, plan_milestones
from services.rectification.enums import MilestoneKind, Severity


def _plan(severity: str, on: date, template: Template | None = None) -> dict[str, tuple[date, bool]]:
    starts_at = datetime(on.year, on.month, on.day, 10, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    plans = plan_milestones(
        calendar=WorkCalendar(),
        template=template or DEFAULT_TEMPLATES[severity],
        starts_at=starts_at,
        deadline_at=None,
    )
    return {p.kind: (local_date(p.due_at), p.provisional) for p in plans}


class TestCalendarDaysRoll:
    def test_severe_problem_of_13_feb_2026_does_not_fall_due_in_spring_festival(self):
        # 7 calendar days → Fri 20 Feb, a Spring Festival holiday: rolls to Tue 24 Feb.
        plans = _plan(Severity.SEVERE, date(2026, 2, 13))
        assert plans[MilestoneKind.COMPLETION] == (date(2026, 2, 24), False)

    def test_a_deadline_on_a_weekend_rolls_to_monday(self):
        # Thu 1 Jan 2026 + 30 → Sat 31 Jan → Mon 2 Feb.
        assert add_days(WorkCalendar(), date(2026, 1, 1), 30, False) == (date(2026, 2, 2), False)

    def test_calendar_days_into_an_unknown_year_are_provisional(self):
        assert add_days(WorkCalendar(), date(2026, 12, 20), 30, False) == (date(2027, 1, 19), True)


class TestMilestonesStayInOrder:
    def test_national_day_does_not_put_the_midterm_before_the_plan(self):
        # Serious, issued Wed 30 Sep 2026: the plan (3 working days) is Sat 10 Oct (调休); the
        # completion (15 calendar days) Thu 15 Oct; half of that span was Wed 7 Oct, a holiday
        # before the plan. The mid-term now sits between them.
        plans = _plan(Severity.SERIOUS, date(2026, 9, 30))
        plan, midterm, completion = (plans[k][0] for k in MilestoneKind if k in plans)
        assert plan == date(2026, 10, 10)
        assert completion == date(2026, 10, 15)
        assert plan <= midterm <= completion

    def test_every_start_of_2026_keeps_the_order_and_lands_on_working_days(self):
        cal = WorkCalendar()
        day = date(2026, 1, 1)
        while day.year == 2026:
            for severity in DEFAULT_TEMPLATES:
                plans = _plan(severity, day)
                dues = [
                    plans[k][0] for k in (MilestoneKind.PLAN, MilestoneKind.MIDTERM, MilestoneKind.COMPLETION)
                ]
                assert dues == sorted(dues), (severity, day, dues)
                assert all(cal.is_workday(d)[0] or d.year > 2026 for d in dues), (severity, day, dues)
            day = date.fromordinal(day.toordinal() + 1)
