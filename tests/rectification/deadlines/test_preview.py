"""GET /schedule-preview: the schedule a new problem would get, computed without creating one."""

from tests.rectification.conftest import CITY, LEADER, YINZHOU, ZHANG


class TestSchedulePreview:
    async def test_national_day_keeps_the_milestones_in_order(self, client):
        r = await client.get(
            "/schedule-preview", params={"severity": "serious", "issued_on": "2026-09-30"}, headers=YINZHOU
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["severity_label"] == "较重"
        assert body["deadline_on"] == "2026-10-15"
        assert body["provisional"] is False
        kinds = [m["kind"] for m in body["milestones"]]
        assert kinds == ["plan", "midterm", "completion"]
        dues = [m["due_on"] for m in body["milestones"]]
        assert dues[0] == "2026-10-10" and dues == sorted(dues)
        assert body["milestones"][0]["label"] == "制定整改方案"
        assert body["milestones"][2]["due_at"] == "2026-10-15T15:59:59Z"

    async def test_a_severe_deadline_rolls_out_of_spring_festival(self, client):
        r = await client.get(
            "/schedule-preview", params={"severity": "severe", "issued_on": "2026-02-13"}, headers=CITY
        )
        assert r.json()["deadline_on"] == "2026-02-24"

    async def test_an_unknown_year_is_provisional_and_skips_new_year(self, client):
        r = await client.get(
            "/schedule-preview", params={"severity": "severe", "issued_on": "2026-12-25"}, headers=CITY
        )
        body = r.json()
        # 7 calendar days → Fri 1 Jan 2027, 元旦 even in the Mon-Fri guess → Mon 4 Jan.
        assert body["deadline_on"] == "2027-01-04"
        assert body["provisional"] is True
        assert body["milestones"][2]["provisional"] is True

    async def test_defaults_to_today_and_creates_nothing(self, client):
        r = await client.get("/schedule-preview", params={"severity": "general"}, headers=ZHANG)
        assert r.status_code == 200, r.text
        assert r.json()["issued_on"] == "2026-01-05"  # the test clock's Monday
        assert r.json()["deadline_on"] == "2026-02-04"
        assert (await client.get("/problems", headers=CITY)).json()["total"] == 0

    async def test_uses_a_customised_template(self, client):
        body = {
            "plan_days": 3,
            "plan_working": True,
            "midterm_percent": 50,
            "completion_days": 10,
            "completion_working": True,
            "verification_days": 3,
            "verification_working": True,
        }
        assert (await client.put("/schedule-templates/severe", json=body, headers=CITY)).status_code == 200
        r = await client.get(
            "/schedule-preview", params={"severity": "severe", "issued_on": "2026-01-05"}, headers=LEADER
        )
        assert r.json()["deadline_on"] == "2026-01-19"
        assert r.json()["verification_days"] == 3

    async def test_bad_parameters_are_named(self, client):
        r = await client.get("/schedule-preview", params={"severity": "huge"}, headers=CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "severity"]
        r = await client.get(
            "/schedule-preview", params={"severity": "general", "issued_on": "2099-12-20"}, headers=CITY
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "issued_on"]

    async def test_needs_a_reader_role(self, client):
        r = await client.get("/schedule-preview", params={"severity": "general"})
        assert r.status_code == 401
