"""The pure schedule: working days only, the daily cap, determinism, and when a team hears of a day."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from services.kit.workdays import WorkCalendar, entered_year
from services.sampling import schedule
from services.sampling.schedule import ScheduleInfeasible, Site

CAL = WorkCalendar()


def sites(district: str, n: int, team: int = 1) -> list[Site]:
    return [
        Site(f"{district}-{i:03d}", district, f"ningbo/{district}/{i % 3}/{i:03d}", team) for i in range(n)
    ]


def test_national_day_2026_is_skipped_and_the_adjusted_saturday_is_used():
    # 2026-09-29 Tue: Sep 29, 30 are working days; Oct 1-7 are the holiday; Oct 8, 9 and the
    # adjusted working Saturday Oct 10 (调休) follow.
    days, provisional = schedule.working_days(CAL, date(2026, 9, 29), 5)
    assert days == [
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),
    ]
    assert not provisional


def test_a_team_visits_its_districts_one_after_another_on_working_days():
    by_district, _ = schedule.district_days(CAL, date(2026, 9, 29), ["haishu", "yinzhou", "beilun"], 2)
    assert by_district == {
        "haishu": [date(2026, 9, 29), date(2026, 9, 30)],
        "yinzhou": [date(2026, 10, 8), date(2026, 10, 9)],
        "beilun": [date(2026, 10, 10), date(2026, 10, 12)],
    }


@pytest.mark.parametrize("seed", range(20))
def test_properties_hold_for_random_rounds(seed):
    rng = random.Random(seed)
    districts = [f"d{i}" for i in range(rng.randint(1, 9))]
    teams_n = rng.randint(1, 4)
    teams = {t + 1: districts[t::teams_n] for t in range(teams_n)}
    team_of = {d: n for n, ds in teams.items() for d in ds}
    days_per, cap = rng.randint(1, 3), rng.randint(1, 6)
    start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 360))
    all_sites = [s for d in districts for s in sites(d, rng.randint(0, days_per * cap), team_of[d])]
    rng.shuffle(all_sites)
    plan = schedule.plan(CAL, start=start, teams=teams, sites=all_sites, days_per_district=days_per, cap=cap)
    assert set(plan.slots) == {s.code for s in all_sites}
    load = Counter((s.team, plan.slots[s.code].visit_on) for s in all_sites)
    assert max(load.values(), default=0) <= cap
    for s in all_sites:
        slot = plan.slots[s.code]
        assert CAL.is_workday(slot.visit_on)[0], slot
        assert not chinese_calendar.is_holiday(slot.visit_on), slot
        assert slot.visit_from <= slot.visit_on <= slot.visit_to and slot.visit_from >= start
    # Deterministic: any input order, the same schedule.
    again = schedule.plan(
        CAL, start=start, teams=teams, sites=list(reversed(all_sites)), days_per_district=days_per, cap=cap
    )
    assert again.slots == plan.slots


def test_days_are_filled_evenly_in_org_unit_order():
    plan = schedule.plan(
        CAL,
        start=date(2026, 4, 7),
        teams={1: ["haishu"]},
        sites=sites("haishu", 9),
        days_per_district=2,
        cap=6,
    )
    per_day = Counter(s.visit_on for s in plan.slots.values())
    assert per_day == {date(2026, 4, 7): 5, date(2026, 4, 8): 4}
    ordered = schedule.visit_order(sites("haishu", 9))
    assert [plan.slots[s.code].visit_on for s in ordered] == sorted(
        plan.slots[s.code].visit_on for s in ordered
    )


def test_too_many_sites_names_every_district_and_what_would_fit():
    with pytest.raises(ScheduleInfeasible) as exc:
        schedule.plan(
            CAL,
            start=date(2026, 4, 7),
            teams={1: ["haishu"], 2: ["yinzhou"]},
            sites=sites("haishu", 13, 1) + sites("yinzhou", 4, 2),
            days_per_district=2,
            cap=6,
        )
    [short] = exc.value.shortfalls
    assert (short.team, short.district, short.sites, short.days, short.cap) == (1, "haishu", 13, 2, 6)
    assert short.days_needed == 3 and short.cap_needed == 7


def test_entered_holidays_win_over_the_package():
    cal = WorkCalendar({2026: entered_year(["2026-04-07"], [])})
    days, _ = schedule.working_days(cal, date(2026, 4, 7), 2)
    assert days == [date(2026, 4, 8), date(2026, 4, 9)]


def test_a_year_without_a_notice_is_provisional():
    days, provisional = schedule.working_days(CAL, date(2031, 1, 1), 2)
    assert days == [date(2031, 1, 2), date(2031, 1, 3)] and provisional


def test_the_evening_before_is_18_00_beijing_time():
    assert schedule.evening_before(date(2026, 10, 8)) == datetime(2026, 10, 7, 10, 0, tzinfo=UTC)
    assert schedule.evening_before(date(2026, 4, 7)) == datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


def test_first_free_day_skips_full_and_non_working_days():
    load = {date(2026, 9, 29): 3}
    assert schedule.first_free_day(CAL, date(2026, 9, 29), date(2026, 10, 9), load, 3) == date(2026, 9, 30)
    load[date(2026, 9, 30)] = 3
    assert schedule.first_free_day(CAL, date(2026, 9, 29), date(2026, 10, 9), load, 3) == date(2026, 10, 8)
    assert schedule.first_free_day(CAL, date(2026, 10, 1), date(2026, 10, 7), {}, 3) is None
