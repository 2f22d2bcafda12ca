"""Countdown templates per severity and the holiday calendar a city admin enters."""

from datetime import UTC, datetime

from tests.rectification.conftest import CITY, YINZHOU, create, pending_timers


class TestTemplates:
    async def test_defaults_are_listed(self, client):
        r = await client.get("/schedule-templates", headers=YINZHOU)
        items = {t["severity"]: t for t in r.json()["items"]}
        assert items["general"]["completion_days"] == 30
        assert items["general"]["plan_days"] == 5 and items["general"]["plan_working"] is True
        assert items["severe"]["completion_days"] == 7
        assert items["severe"]["customised"] is False

    async def test_city_admin_edits_a_template_used_by_new_problems(self, client):
        body = {
            "plan_days": 3,
            "plan_working": True,
            "midterm_percent": 50,
            "completion_days": 10,
            "completion_working": True,
            "verification_days": 3,
            "verification_working": True,
        }
        r = await client.put("/schedule-templates/severe", json=body, headers=CITY)
        assert r.status_code == 200
        assert r.json()["customised"] is True
        p = await create(client, severity="severe")
        # 10 working days from Mon 5 Jan 2026 → Mon 19 Jan.
        assert p["deadline_at"][:10] == "2026-01-19"

    async def test_district_admin_cannot_edit_templates(self, client):
        body = {"plan_days": 1, "midterm_percent": 50, "completion_days": 2, "verification_days": 1}
        assert (await client.put("/schedule-templates/severe", json=body, headers=YINZHOU)).status_code == 403

    async def test_bad_template_is_named(self, client):
        body = {"plan_days": 0, "midterm_percent": 50, "completion_days": 2, "verification_days": 1}
        r = await client.put("/schedule-templates/severe", json=body, headers=CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "plan_days"]


WORKING_30 = {
    "plan_days": 5,
    "plan_working": True,
    "midterm_percent": 50,
    "completion_days": 30,
    "completion_working": True,
    "verification_days": 5,
    "verification_working": True,
}


class TestHolidayCalendar:
    async def test_schedule_into_an_unknown_year_is_provisional_until_its_dates_are_entered(
        self, client, clock
    ):
        await client.put("/schedule-templates/general", json=WORKING_30, headers=CITY)
        clock.set(datetime(2026, 12, 14, 1, 0, tzinfo=UTC))  # Mon 14 Dec 2026
        p = await create(client)
        assert p["provisional"] is True
        # Mon-Fri guess less 元旦: 30 working days from 14 Dec 2026 → Tue 26 Jan 2027.
        assert p["deadline_at"][:10] == "2027-01-26"
        r = await client.get("/holiday-calendar/2027", headers=CITY)
        assert r.json()["source"] == "fallback"
        assert r.json()["holidays"] == ["2027-01-01", "2027-05-01", "2027-10-01", "2027-10-02", "2027-10-03"]
        # The notice (here made up) adds Mon 4 Jan: the deadline moves a day.
        body = {"holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"], "workdays": []}
        r = await client.put("/holiday-calendar/2027", json=body, headers=CITY)
        assert r.status_code == 200, r.text
        assert r.json()["recomputed_problems"] == 1
        p2 = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()
        assert p2["provisional"] is False
        assert p2["deadline_at"][:10] == "2027-01-27"
        due = next(t for t in await pending_timers(client, p["id"]) if t["kind"] == "due")
        assert due["fire_at"].isoformat().startswith("2027-01-27")
        assert (await client.get("/holiday-calendar/2027", headers=CITY)).json()["source"] == "entered"

    async def test_package_years_are_reported(self, client):
        r = await client.get("/holiday-calendar/2026", headers=CITY)
        assert r.json()["source"] == "package"
        assert "2026-02-14" in r.json()["workdays"]

    async def test_inconsistent_dates_are_refused(self, client):
        r = await client.put(
            "/holiday-calendar/2027",
            json={"holidays": ["2028-01-01"], "workdays": ["2027-01-04"]},
            headers=CITY,
        )
        assert r.status_code == 422
        locs = [e["loc"] for e in r.json()["errors"]]
        assert ["body", "holidays", 0] in locs
        assert ["body", "workdays", 0] in locs
        assert (await client.get("/holiday-calendar/2027", headers=CITY)).json()["source"] == "fallback"

    async def test_only_the_city_enters_dates(self, client):
        r = await client.put("/holiday-calendar/2027", json={"holidays": ["2027-01-01"]}, headers=YINZHOU)
        assert r.status_code == 403
