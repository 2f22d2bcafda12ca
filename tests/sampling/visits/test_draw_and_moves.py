"""Visit days at the draw, the visit settings, and moving one visit (working days, the daily cap)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.sampling.conftest import ADMIN, drawn_round, round_body
from tests.sampling.visits.conftest import CAL, assignments, load, teams


class TestDraw:
    async def test_every_visit_is_on_a_working_day_inside_its_window_within_the_cap(self, city):
        # Visits start on Tue 2026-09-29: two working days, then the National Day holiday (Oct 1-7).
        await drawn_round(city, visit_start_on="2026-09-29", max_visits_per_day=5)
        rows = await assignments(city)
        assert rows
        for a in rows:
            day = date.fromisoformat(a["visit_on"])
            assert CAL.is_workday(day)[0], a
            assert not date(2026, 10, 1) <= day <= date(2026, 10, 7)
            assert a["visit_from"] <= a["visit_on"] <= a["visit_to"]
        assert max(load(rows).values()) <= 5
        # Each team's first district takes Sep 29-30, its second Oct 8-9, right after the holiday.
        assert {a["visit_from"] for a in rows} == {"2026-09-29", "2026-10-08"}
        assert {a["visit_to"] for a in rows} == {"2026-09-30", "2026-10-09"}

    async def test_the_round_reads_its_cap_and_the_default_is_six(self, city):
        r = await city.post("/rounds", json=round_body(), headers=ADMIN)
        assert r.status_code == 201 and r.json()["max_visits_per_day"] == 6

    async def test_the_same_draw_gives_the_same_schedule(self, city):
        await drawn_round(city)
        first = {a["site"]["code"]: a["visit_on"] for a in await assignments(city)}
        r = await city.post(
            "/rounds/2026Q1/draws",
            json={"public_value": "20260405-37-12-08", "reason": "复核"},
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
        assert {a["site"]["code"]: a["visit_on"] for a in await assignments(city)} == first

    async def test_a_window_too_small_is_refused_naming_the_settings_and_nothing_is_drawn(self, city):
        r = await city.post(
            "/rounds", json=round_body(visit_days_per_district=1, max_visits_per_day=2), headers=ADMIN
        )
        assert r.status_code == 201, r.text
        assert (await city.post("/rounds/2026Q1/freeze", headers=ADMIN)).status_code == 200
        r = await city.post("/rounds/2026Q1/draws", json={"public_value": "42"}, headers=ADMIN)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["type"] == "/problems/schedule-infeasible"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert {tuple(e["loc"]) for e in problem["errors"]} == {
            ("round", "max_visits_per_day"),
            ("round", "visit_days_per_district"),
        }
        assert "visit-plan" in problem["detail"] and problem["shortfalls"]
        assert all(s["max_visits_per_day"] == 2 and s["days"] == 1 for s in problem["shortfalls"])
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["status"] == "frame_frozen"
        assert (await city.get("/rounds/2026Q1/draws", headers=ADMIN)).json()["total"] == 0
        # Fix the settings the problem names, then draw.
        r = await city.put(
            "/rounds/2026Q1/visit-plan",
            json={"visit_days_per_district": 2, "max_visits_per_day": 6},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        assert r.json()["visits"] == 0 and r.json()["max_visits_per_day"] == 6
        r = await city.post("/rounds/2026Q1/draws", json={"public_value": "42"}, headers=ADMIN)
        assert r.status_code == 201, r.text


class TestVisitPlan:
    async def test_a_drawn_round_is_scheduled_again(self, city):
        await drawn_round(city)
        r = await city.put(
            "/rounds/2026Q1/visit-plan",
            json={"visit_start_on": "2026-09-28", "visit_days_per_district": 3, "max_visits_per_day": 4},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["first_visit_on"] == "2026-09-28" and body["visits"] == len(await assignments(city))
        rows = await assignments(city)
        assert max(load(rows).values()) <= 4
        assert all(CAL.is_workday(date.fromisoformat(a["visit_on"]))[0] for a in rows)
        assert {a["visit_from"] for a in rows} == {"2026-09-28", "2026-10-08"}
        assert (await city.get("/rounds/2026Q1/visit-plan", headers=ADMIN)).json() == body

    async def test_an_infeasible_change_changes_nothing(self, city):
        await drawn_round(city)
        before = await assignments(city)
        r = await city.put(
            "/rounds/2026Q1/visit-plan",
            json={"visit_days_per_district": 1, "max_visits_per_day": 1},
            headers=ADMIN,
        )
        assert r.status_code == 422 and r.json()["type"] == "/problems/schedule-infeasible"
        assert await assignments(city) == before
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["max_visits_per_day"] == 6

    async def test_refused_once_published_and_for_others(self, city):
        await drawn_round(city, publish=True)
        r = await city.put("/rounds/2026Q1/visit-plan", json={"max_visits_per_day": 5}, headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/wrong-round-status"
        from tests.sampling.conftest import user

        r = await city.put(
            "/rounds/2026Q1/visit-plan",
            json={"max_visits_per_day": 5},
            headers=user("city_admin", "ningbo/haishu"),
        )
        assert r.status_code == 403
        r = await city.put("/rounds/2026Q1/visit-plan", json={"max_visits_per_day": 0}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "max_visits_per_day"


class TestMoves:
    async def _two(self, city):
        await drawn_round(city, publish=True)
        rows = await assignments(city)
        return rows, await teams(city)

    async def test_a_non_working_day_is_refused(self, city):
        rows, _ = await self._two(city)
        a = rows[0]
        saturday = date.fromisoformat(a["visit_from"])
        while saturday.weekday() != 5 or CAL.is_workday(saturday)[0]:
            saturday += timedelta(days=1)
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{a['site']['code']}",
            json={"visit_to": saturday.isoformat(), "visit_on": saturday.isoformat(), "reason": "调整"},
            headers=ADMIN,
        )
        assert r.status_code == 422 and r.json()["type"] == "/problems/visit-day-not-working"
        assert r.json()["errors"][0]["loc"] == ["body", "visit_on"]
        assert (await assignments(city)) == rows

    async def test_a_day_outside_the_window_is_refused(self, city):
        rows, _ = await self._two(city)
        a = rows[0]
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{a['site']['code']}",
            json={"visit_on": "2026-05-06", "reason": "调整"},
            headers=ADMIN,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "visit_on"]

    async def test_a_full_day_is_refused_and_a_free_one_taken(self, city):
        await drawn_round(city, publish=False, max_visits_per_day=6)
        rows = await assignments(city)
        team_id = rows[0]["team"]["id"]
        mine = [a for a in rows if a["team"]["id"] == team_id]
        day = mine[0]["visit_on"]
        on_day = [a for a in mine if a["visit_on"] == day]
        others = [a for a in mine if a["visit_on"] != day and a["visit_from"] == mine[0]["visit_from"]]
        # Fill `day` up to the cap with visits of the same district window.
        for a in others[: 6 - len(on_day)]:
            r = await city.patch(
                f"/rounds/2026Q1/assignments/{a['site']['code']}",
                json={"visit_on": day, "reason": "集中"},
                headers=ADMIN,
            )
            assert r.status_code == 200, r.text
            assert r.json()["visit_on"] == day
        on_day_now = [
            a for a in await assignments(city) if a["team"]["id"] == team_id and a["visit_on"] == day
        ]
        assert len(on_day_now) == 6  # a district has at least 2 towns + 4 villages + 1 organisation
        rest = [
            a
            for a in await assignments(city)
            if a["team"]["id"] == team_id
            and a["visit_on"] != day
            and a["visit_from"] == mine[0]["visit_from"]
        ]
        assert rest
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{rest[0]['site']['code']}",
            json={"visit_on": day, "reason": "集中"},
            headers=ADMIN,
        )
        assert r.status_code == 409 and r.json()["type"] == "/problems/visit-day-full"
        assert r.json()["max_visits_per_day"] == 6 and day not in r.json()["free_days"]

    async def test_a_visit_moved_to_another_team_keeps_the_cap_and_a_working_day(self, city):
        await drawn_round(city, max_visits_per_day=6)
        rows = await assignments(city)
        tms = await teams(city)
        pool = {i["user_id"]: i for i in (await city.get("/inspectors", headers=ADMIN)).json()["items"]}
        for a in rows:
            other = next(t for t in tms if t["id"] != a["team"]["id"])
            homes = {pool[u]["home_district"] for u in [other["leader_user_id"], *other["member_user_ids"]]}
            if a["site"]["district"] not in homes:
                break
        else:
            return
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{a['site']['code']}",
            json={"team_id": other["id"], "reason": "调整"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        moved = r.json()
        assert moved["team"]["id"] == other["id"]
        assert CAL.is_workday(date.fromisoformat(moved["visit_on"]))[0]
        assert moved["visit_from"] <= moved["visit_on"] <= moved["visit_to"]
        assert max(load(await assignments(city)).values()) <= 6


class TestPublication:
    async def test_a_visit_on_a_day_that_became_a_holiday_stops_publication(self, city, monkeypatch):
        from services.kit.workdays import WorkCalendar, entered_year
        from services.sampling.visits import service as visits

        await drawn_round(city)
        rows = await assignments(city)
        day = rows[0]["visit_on"]
        # The city enters the year's notice after the draw: that day is now a holiday.
        monkeypatch.setattr(visits, "work_calendar", lambda: WorkCalendar({2026: entered_year([day], [])}))
        assert (await city.post("/rounds/2026Q1/reveal", headers=ADMIN)).status_code == 200
        r = await city.post("/rounds/2026Q1/publish", headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/visit-schedule-stale"
        stale = {a["site"]["code"] for a in rows if a["visit_on"] == day}
        assert set(r.json()["sites"]) == stale and "visit-plan" in r.json()["detail"]
        # Scheduled again around the holiday, the round publishes.
        r = await city.put("/rounds/2026Q1/visit-plan", json={"max_visits_per_day": 6}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert all(a["visit_on"] != day for a in await assignments(city))
        assert (await city.post("/rounds/2026Q1/publish", headers=ADMIN)).status_code == 200

    async def test_a_year_without_its_notice_is_marked_provisional(self, city):
        await drawn_round(city, code="2031Q1", visit_start_on="2031-04-07", publish=True)
        r = await city.get("/rounds/2031Q1/teams/1/visits", headers=ADMIN)
        assert r.status_code == 200 and r.json()["items"]
        assert all(v["provisional"] for v in r.json()["items"])
        assert (await city.get("/rounds/2031Q1/visit-plan", headers=ADMIN)).json()["provisional"] is True
