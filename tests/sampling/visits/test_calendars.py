"""Team and personal visit calendars, JSON and iCalendar, and who may read them."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar

from tests.sampling.conftest import ADMIN, drawn_round, key, user
from tests.sampling.visits.conftest import assignments, person, teams


class TestTeamCalendar:
    async def test_json_lists_the_teams_visits_by_day_then_site(self, city):
        await drawn_round(city, publish=True)
        t = (await teams(city))[0]
        r = await city.get(f"/rounds/2026Q1/teams/{t['number']}/visits", params={"limit": 500}, headers=ADMIN)
        assert r.status_code == 200, r.text
        page = r.json()
        mine = [a for a in await assignments(city) if a["team"]["id"] == t["id"]]
        assert page["total"] == len(mine) == len(page["items"]) > 0
        keys = [(v["visit_on"], v["site"]["code"]) for v in page["items"]]
        assert keys == sorted(keys)
        v = page["items"][0]
        assert v["team"]["number"] == t["number"] and v["team"]["name"] == t["name"]
        assert v["round_code"] == "2026Q1" and v["status"] == "published" and v["provisional"] is False
        assert set(v["site"]) == {"code", "name", "type", "org_unit", "district"}
        r = await city.get(
            f"/rounds/2026Q1/teams/{t['number']}/visits", params={"limit": 2, "offset": 1}, headers=ADMIN
        )
        assert [x["site"]["code"] for x in r.json()["items"]] == [
            x["site"]["code"] for x in page["items"][1:3]
        ]

    async def test_ics_has_one_all_day_event_per_visit(self, city):
        await drawn_round(city, publish=True)
        t = (await teams(city))[0]
        visits = (
            await city.get(f"/rounds/2026Q1/teams/{t['number']}/visits", params={"limit": 500}, headers=ADMIN)
        ).json()["items"]
        r = await city.get(f"/rounds/2026Q1/teams/{t['number']}/visits.ics", headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(r.content)
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
        assert str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"
        events = cal.walk("VEVENT")
        assert len(events) == len(visits)
        by_uid = {str(e["UID"]): e for e in events}
        for v in visits:
            e = by_uid[f"visit-2026Q1-{v['site']['code']}@sampling"]
            start, end = e.decoded("DTSTART"), e.decoded("DTEND")
            assert start == date.fromisoformat(v["visit_on"]) and end == start + timedelta(days=1)
            assert type(start) is date  # all-day
            assert v["site"]["name"] in str(e["SUMMARY"]) and t["name"] in str(e["SUMMARY"])
            [alarm] = e.walk("VALARM")
            assert alarm.decoded("TRIGGER") == timedelta(hours=-6)

    async def test_members_see_their_team_once_published_others_not(self, city):
        await drawn_round(city)
        t1, t2 = await teams(city)
        member = person(t1["member_user_ids"][0])
        # Before publication the team's own members see nothing (404, as for a team that does not exist).
        r = await city.get(f"/rounds/2026Q1/teams/{t1['number']}/visits", headers=member)
        assert r.status_code == 404 and r.json()["type"] == "/problems/team-not-found"
        await city.post("/rounds/2026Q1/reveal", headers=ADMIN)
        await city.post("/rounds/2026Q1/publish", headers=ADMIN)
        r = await city.get(f"/rounds/2026Q1/teams/{t1['number']}/visits", headers=member)
        assert r.status_code == 200 and r.json()["total"] > 0
        leader = person(t1["leader_user_id"], "team_leader")
        assert (
            await city.get(f"/rounds/2026Q1/teams/{t1['number']}/visits.ics", headers=leader)
        ).status_code == 200
        # Another team's calendar is a 404, whatever the format.
        for suffix in ("", ".ics"):
            r = await city.get(f"/rounds/2026Q1/teams/{t2['number']}/visits{suffix}", headers=member)
            assert r.status_code == 404, suffix
        r = await city.get("/rounds/2026Q1/teams/9/visits", headers=ADMIN)
        assert r.status_code == 404 and r.json()["type"] == "/problems/team-not-found"
        assert (await city.get("/rounds/2099Q1/teams/1/visits", headers=ADMIN)).status_code == 404

    async def test_districts_see_only_their_scope_after_publication(self, city):
        await drawn_round(city)
        t = (await teams(city))[0]
        district = t["districts"][0]
        url = f"/rounds/2026Q1/teams/{t['number']}/visits"
        leader = user("leader", f"ningbo/{district}")
        assert (await city.get(url, headers=leader)).status_code == 403
        assert (await city.get(url, headers=key(f"ningbo/{district}"))).status_code == 403
        await city.post("/rounds/2026Q1/reveal", headers=ADMIN)
        await city.post("/rounds/2026Q1/publish", headers=ADMIN)
        r = await city.get(url, params={"limit": 500}, headers=leader)
        assert r.status_code == 200 and r.json()["total"] > 0
        assert {v["site"]["district"] for v in r.json()["items"]} == {district}
        # A district the team does not visit: the team is not theirs to see.
        other = next(d for d in ("haishu", "yinzhou", "beilun", "gaoxin") if d not in t["districts"])
        assert (await city.get(url, headers=user("leader", f"ningbo/{other}"))).status_code == 404
        # Roles without access to visits.
        for role in ("district_admin", "responsible"):
            assert (await city.get(url, headers=user(role, "ningbo"))).status_code == 403, role

    async def test_city_wide_overseers_see_teams_before_publication(self, city):
        await drawn_round(city)
        for h in (ADMIN, user("leader", "ningbo"), key("ningbo")):
            r = await city.get("/rounds/2026Q1/teams/1/visits", headers=h)
            assert r.status_code == 200 and r.json()["total"] > 0
            assert r.json()["items"][0]["status"] == "drawn"


class TestPersonCalendar:
    async def test_an_inspector_reads_their_own_visits_once_published(self, city):
        await drawn_round(city)
        t = (await teams(city))[0]
        me = t["member_user_ids"][0]
        url = f"/inspectors/{me}/visits"
        r = await city.get(url, headers=person(me))
        assert r.status_code == 200 and r.json()["total"] == 0
        await city.post("/rounds/2026Q1/reveal", headers=ADMIN)
        await city.post("/rounds/2026Q1/publish", headers=ADMIN)
        r = await city.get(url, params={"limit": 500}, headers=person(me))
        mine = [a for a in await assignments(city) if a["team"]["id"] == t["id"]]
        assert r.json()["total"] == len(mine)
        assert all(v["team"]["id"] == t["id"] for v in r.json()["items"])
        assert (await city.get(url, params={"round_code": "2026Q2"}, headers=person(me))).json()["total"] == 0
        r = await city.get(f"{url}.ics", headers=person(me))
        assert r.status_code == 200
        cal = Calendar.from_ical(r.content)
        assert len(cal.walk("VEVENT")) == len(mine)
        assert cal.walk("VTIMEZONE")[0]["TZID"] == "Asia/Shanghai"

    async def test_others_are_refused(self, city):
        await drawn_round(city, publish=True)
        t1, t2 = await teams(city)
        me, other = t1["member_user_ids"][0], t2["leader_user_id"]
        for suffix in ("", ".ics"):
            r = await city.get(f"/inspectors/{other}/visits{suffix}", headers=person(me))
            assert r.status_code == 404, suffix
            r = await city.get(f"/inspectors/{other}/visits{suffix}", headers=user("leader", "ningbo/haishu"))
            assert r.status_code == 403, suffix
            r = await city.get(
                f"/inspectors/{other}/visits{suffix}", headers=user("district_admin", "ningbo")
            )
            assert r.status_code == 403, suffix
        r = await city.get(f"/inspectors/{other}/visits", headers=ADMIN)
        assert r.status_code == 200 and r.json()["total"] > 0
        r = await city.get("/inspectors/u-nobody/visits", headers=ADMIN)
        assert r.status_code == 404 and r.json()["type"] == "/problems/inspector-not-found"

    async def test_overseers_see_a_drawn_round_inspectors_do_not(self, city):
        await drawn_round(city)
        t = (await teams(city))[0]
        r = await city.get(f"/inspectors/{t['leader_user_id']}/visits", headers=ADMIN)
        assert r.status_code == 200 and r.json()["total"] > 0
        r = await city.get(
            f"/inspectors/{t['leader_user_id']}/visits", headers=person(t["leader_user_id"], "team_leader")
        )
        assert r.json()["total"] == 0
