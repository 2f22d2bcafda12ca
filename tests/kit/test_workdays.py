"""Working-day arithmetic against the official 2025-2026 holiday notices."""

from datetime import UTC, date, datetime

from services.kit.workdays import WorkCalendar, end_of_local_day, entered_year


class TestIsWorkday:
    def test_spring_festival_2026_is_a_holiday_and_its_adjusted_saturday_a_working_day(self):
        cal = WorkCalendar()
        assert cal.is_workday(date(2026, 2, 17)) == (False, False)  # 除夕 week, Tuesday
        assert cal.is_workday(date(2026, 2, 14)) == (True, False)  # Saturday 调休上班
        assert cal.is_workday(date(2026, 2, 28)) == (True, False)

    def test_spring_festival_2025_adjusted_sunday_and_saturday(self):
        cal = WorkCalendar()
        assert cal.is_workday(date(2025, 1, 26)) == (True, False)  # Sunday 调休上班
        assert cal.is_workday(date(2025, 2, 8)) == (True, False)  # Saturday 调休上班
        assert cal.is_workday(date(2025, 1, 29)) == (False, False)  # 春节

    def test_year_unknown_to_the_package_falls_back_to_monday_to_friday_provisionally(self):
        cal = WorkCalendar()
        assert cal.is_workday(date(2027, 1, 1)) == (False, True)  # 元旦, a fixed-date holiday
        assert cal.is_workday(date(2027, 1, 4)) == (True, True)  # a Monday: guessed working
        assert cal.is_workday(date(2027, 1, 2)) == (False, True)
        assert not cal.knows_year(2027)
        assert cal.knows_year(2026)

    def test_entered_year_is_authoritative(self):
        cal = WorkCalendar({2027: entered_year(["2027-01-01"], ["2027-02-06"])})
        assert cal.is_workday(date(2027, 1, 1)) == (False, False)
        assert cal.is_workday(date(2027, 2, 6)) == (True, False)  # a Saturday entered as 调休
        assert cal.is_workday(date(2027, 1, 4)) == (True, False)


class TestAddWorkingDays:
    def test_five_working_days_across_spring_festival_2026(self):
        # Fri 13 Feb: Sat 14 (调休) is 1, 15-23 are holidays, then Tue 24 .. Fri 27 are 2..5.
        assert WorkCalendar().add_working_days(date(2026, 2, 13), 5) == (date(2026, 2, 27), False)

    def test_adjusted_sunday_counts_in_2025(self):
        assert WorkCalendar().add_working_days(date(2025, 1, 24), 2) == (date(2025, 1, 27), False)

    def test_national_day_2026(self):
        # Wed 30 Sep; 1-7 Oct are holidays; Thu 8, Fri 9, Sat 10 (调休) count.
        assert WorkCalendar().add_working_days(date(2026, 9, 30), 3) == (date(2026, 10, 10), False)

    def test_crossing_into_an_unknown_year_is_provisional(self):
        # Thu 31 Dec is 1; Fri 1 Jan 2027 is 元旦 even in the guess; Mon 4, Tue 5 are 2 and 3.
        assert WorkCalendar().add_working_days(date(2026, 12, 30), 3) == (date(2027, 1, 5), True)

    def test_entered_dates_replace_the_guess(self):
        cal = WorkCalendar({2027: entered_year(["2027-01-01"], [])})
        assert cal.add_working_days(date(2026, 12, 30), 3) == (date(2027, 1, 5), False)

    def test_working_days_between_counts_the_end_not_the_start(self):
        cal = WorkCalendar()
        assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
        assert cal.working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2


class TestDeadlines:
    def test_a_date_deadline_ends_at_the_end_of_the_day_in_shanghai(self):
        assert end_of_local_day(date(2026, 3, 1)) == datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)


class TestFallbackKnowsFixedHolidays:
    def test_fixed_date_holidays_of_an_unknown_year_are_not_working_days(self):
        cal = WorkCalendar()
        for day in (
            date(2027, 1, 1),
            date(2027, 5, 1),
            date(2027, 10, 1),
            date(2027, 10, 2),
            date(2027, 10, 3),
        ):
            assert cal.is_workday(day) == (False, True), day
        assert cal.is_workday(date(2027, 10, 4)) == (True, True)  # a Monday, guessed

    def test_every_date_of_an_unknown_year_is_provisional(self):
        cal = WorkCalendar()
        assert all(cal.is_workday(date(2027, 3, d))[1] for d in range(1, 32))


class TestRollToWorkday:
    def test_a_working_day_stays(self):
        assert WorkCalendar().roll_to_workday(date(2026, 2, 13)) == (date(2026, 2, 13), False)

    def test_spring_festival_2026_rolls_to_the_first_working_day_after(self):
        # 15-23 Feb 2026 are holidays: Fri 20 rolls to Tue 24.
        assert WorkCalendar().roll_to_workday(date(2026, 2, 20)) == (date(2026, 2, 24), False)

    def test_a_weekend_in_an_unknown_year_rolls_provisionally(self):
        assert WorkCalendar().roll_to_workday(date(2027, 1, 1)) == (date(2027, 1, 4), True)
