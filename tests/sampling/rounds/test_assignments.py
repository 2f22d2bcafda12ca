"""Rounds: plan, frozen frame, committed seed, draws, redraws, teams, publication."""

from __future__ import annotations

from services.kit.testing import principal_headers
from tests.sampling.conftest import ADMIN, drawn_round, outbox_rows


class TestAssignments:
    async def test_scoring_can_ask_whether_a_site_was_drawn(self, city):
        record = await drawn_round(city, publish=True)
        code = record["result"]["strata"][0]["selected"][0]
        system = principal_headers(roles=["system"], scope="", sub="service:scoring", kind="service")
        r = await city.get(f"/internal/rounds/2026Q1/assignments/{code}", headers=system)
        assert r.status_code == 200
        body = r.json()
        assert body["round_code"] == "2026Q1" and body["status"] == "published"
        assert set(body["site"]) == {"code", "name", "type", "org_unit", "district"}
        assert set(body["team"]) == {"id", "name", "leader_user_id", "member_user_ids"}
        r = await city.get("/internal/rounds/2026Q1/assignments/330212001999", headers=system)
        assert r.status_code == 404 and r.json()["type"] == "/problems/assignment-not-found"

    async def test_list_filters_by_team_and_district(self, city):
        await drawn_round(city, publish=True)
        teams = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"]
        r = await city.get("/rounds/2026Q1/assignments", params={"team_id": teams[0]["id"]}, headers=ADMIN)
        assert r.json()["total"] > 0
        assert {a["site"]["district"] for a in r.json()["items"]} <= set(teams[0]["districts"])
        r = await city.get(
            "/rounds/2026Q1/assignments", params={"district": "haishu", "limit": 2}, headers=ADMIN
        )
        assert len(r.json()["items"]) == 2 and all(
            a["site"]["district"] == "haishu" for a in r.json()["items"]
        )

    async def test_inspector_sees_only_their_own_and_only_once_published(self, city):
        await drawn_round(city)
        teams = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"]
        me = principal_headers(roles=["inspector"], scope="ningbo", sub=teams[0]["member_user_ids"][0])
        assert (await city.get("/me/assignments", headers=me)).json()["total"] == 0
        assert (await city.get("/rounds/2026Q1/assignments", headers=me)).json()["total"] == 0
        await city.post("/rounds/2026Q1/reveal", headers=ADMIN)
        await city.post("/rounds/2026Q1/publish", headers=ADMIN)
        mine = (await city.get("/me/assignments", headers=me)).json()
        assert mine["total"] > 0 and all(a["team"]["id"] == teams[0]["id"] for a in mine["items"])
        listed = (await city.get("/rounds/2026Q1/assignments", params={"limit": 500}, headers=me)).json()
        assert listed["total"] == mine["total"]

    async def test_moving_a_visit_keeps_recusal_and_tells_the_teams(self, city):
        await drawn_round(city, publish=True)
        teams = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"]
        pool = {i["user_id"]: i for i in (await city.get("/inspectors", headers=ADMIN)).json()["items"]}
        site = (
            await city.get("/rounds/2026Q1/assignments", params={"team_id": teams[0]["id"]}, headers=ADMIN)
        ).json()["items"][0]
        other = teams[1]
        homes = {pool[u]["home_district"] for u in [other["leader_user_id"], *other["member_user_ids"]]}
        body = {"team_id": other["id"], "reason": "调整"}
        r = await city.patch(f"/rounds/2026Q1/assignments/{site['site']['code']}", json=body, headers=ADMIN)
        if site["site"]["district"] in homes:
            assert r.status_code == 409 and r.json()["type"] == "/problems/recusal-violation"
            return
        assert r.status_code == 200 and r.json()["team"]["id"] == other["id"]
        changed = [e for e in await outbox_rows(city) if e["event_type"] == "sampling.assignment.changed"]
        assert len(changed) == 1 and changed[0]["payload"]["previous_team"]["id"] == teams[0]["id"]

    async def test_team_with_a_home_member_cannot_take_the_visit(self, city):
        await drawn_round(city, publish=True)
        teams = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"]
        # A team never visits its members' districts, so moving one of team 2's visits to team 1
        # is refused whenever team 1 has someone from that district.
        pool = {i["user_id"]: i for i in (await city.get("/inspectors", headers=ADMIN)).json()["items"]}
        homes0 = {
            pool[u]["home_district"] for u in [teams[0]["leader_user_id"], *teams[0]["member_user_ids"]]
        }
        visits = (
            await city.get(
                "/rounds/2026Q1/assignments", params={"team_id": teams[1]["id"], "limit": 500}, headers=ADMIN
            )
        ).json()
        clash = [a for a in visits["items"] if a["site"]["district"] in homes0]
        assert clash, "with 4 districts and 3-person teams some district of team 2 is home to team 1"
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{clash[0]['site']['code']}",
            json={"team_id": teams[0]["id"], "reason": "x"},
            headers=ADMIN,
        )
        assert r.status_code == 409 and r.json()["type"] == "/problems/recusal-violation"
        assert (
            await city.get(f"/rounds/2026Q1/assignments/{clash[0]['site']['code']}", headers=ADMIN)
        ).json()["team"]["id"] == teams[1]["id"]
