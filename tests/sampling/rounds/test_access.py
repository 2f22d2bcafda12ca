"""Role says what, scope says where: every role, `system` API keys included, stays inside its scope.

A district must never learn which villages will be visited before a round is published, and an
object outside the caller's scope is answered exactly like a missing one.
"""

from __future__ import annotations

import pytest

from services.sampling.main import build_app
from tests.sampling.conftest import (
    ADMIN,
    body,
    city_rows,
    codes_of,
    drawn_round,
    key,
    round_body,
    service,
    user,
)

YINZHOU_SITES = sum(1 for r in city_rows() if r["code"].startswith("330212"))


class TestBeforePublication:
    """A drawn but unpublished round: only city-wide overseers learn anything about its visits."""

    PATHS = (
        "/rounds/2026Q1/assignments",
        "/rounds/2026Q1/assignments/{code}",
        "/rounds/2026Q1/draws",
        "/rounds/2026Q1/draws/1",
        "/rounds/2026Q1/teams",
        "/rounds/2026Q1/frame",
    )

    @pytest.mark.parametrize(
        ("headers", "scope"),
        [
            pytest.param(key, "ningbo/yinzhou", id="district-key"),
            pytest.param(lambda s: user("district_admin", s), "ningbo/yinzhou", id="district-admin"),
            pytest.param(lambda s: user("leader", s), "ningbo/yinzhou", id="district-leader"),
            pytest.param(key, "ningbo/yinzhou/330212001", id="town-key"),
        ],
    )
    async def test_district_scoped_callers_are_refused(self, city, headers, scope):
        await drawn_round(city)
        code = (await codes_of(city, "yinzhou"))[0]
        for path in self.PATHS:
            r = await city.get(path.format(code=code), headers=headers(scope))
            assert r.status_code == 403, (path, r.text)
            # Nothing about the visit, whatever the problem says about the caller's own scope.
            assert code not in str(body(r)).replace(scope, "")

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param(lambda: user("leader", "ningbo"), id="city-leader"),
            pytest.param(lambda: key("ningbo"), id="city-key"),
            pytest.param(lambda: ADMIN, id="city-admin"),
        ],
    )
    async def test_city_wide_overseers_see_everything(self, city, headers):
        await drawn_round(city)
        code = (await codes_of(city, "haishu"))[0]
        for path in self.PATHS:
            r = await city.get(path.format(code=code), headers=headers())
            assert r.status_code == 200, (path, r.text)

    async def test_inspectors_see_nothing_yet(self, city):
        record = await drawn_round(city)
        member = record["teams"][0]["member_user_ids"][0] if "teams" in record else "u-insp-01"
        headers = user("inspector", "ningbo", sub=member)
        assert (await city.get("/rounds/2026Q1/teams", headers=headers)).json()["items"] == []
        assert (await city.get("/rounds/2026Q1/assignments", headers=headers)).json()["total"] == 0
        assert (await city.get("/rounds/2026Q1/draws/1", headers=headers)).status_code == 403


class TestAfterPublication:
    async def test_a_district_key_sees_only_its_districts_visits_and_teams(self, city):
        await drawn_round(city, publish=True)
        headers = key("ningbo/yinzhou")
        r = await city.get("/rounds/2026Q1/assignments", params={"limit": 500}, headers=headers)
        assert r.status_code == 200
        assert r.json()["total"] == len(await codes_of(city, "yinzhou")) > 0
        assert {a["site"]["district"] for a in r.json()["items"]} == {"yinzhou"}
        teams = (await city.get("/rounds/2026Q1/teams", headers=headers)).json()["items"]
        every = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"]
        assert teams and all("yinzhou" in t["districts"] for t in teams)
        assert len(teams) < len(every)
        assert (await city.get("/rounds/2026Q1/draws/1", headers=headers)).status_code == 403

    async def test_another_districts_visit_answers_like_an_undrawn_site(self, city):
        await drawn_round(city, publish=True)
        other = (await codes_of(city, "haishu"))[0]
        headers = key("ningbo/yinzhou")
        hidden = await city.get(f"/rounds/2026Q1/assignments/{other}", headers=headers)
        missing = await city.get("/rounds/2026Q1/assignments/NOT-DRAWN", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert body(hidden) == {
            **body(missing),
            "detail": f"Site {other} was not drawn in round 2026Q1",
            "site_code": other,
        }

    async def test_my_assignments_stay_inside_my_scope(self, city):
        await drawn_round(city, publish=True)
        team = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"][0]
        me = team["leader_user_id"]
        visited = set(team["districts"])
        elsewhere = next(d for d in ("haishu", "yinzhou", "beilun", "gaoxin") if d not in visited)
        r = await city.get("/me/assignments", headers=user("team_leader", "ningbo", sub=me))
        assert r.json()["total"] > 0
        r = await city.get("/me/assignments", headers=user("team_leader", f"ningbo/{elsewhere}", sub=me))
        assert r.status_code == 200 and r.json()["total"] == 0


class TestRoundActions:
    async def test_a_district_scoped_city_admin_cannot_run_a_round(self, city):
        district_admin_role = user("city_admin", "ningbo/yinzhou")
        r = await city.post("/rounds", json=round_body(districts=["yinzhou"]), headers=district_admin_role)
        assert r.status_code == 403
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).status_code == 404

    async def test_a_district_scoped_city_admin_cannot_move_a_visit(self, city):
        await drawn_round(city)
        code = (await codes_of(city, "yinzhou"))[0]
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{code}",
            json={"visit_from": "2026-04-07", "reason": "调整"},
            headers=user("city_admin", "ningbo/yinzhou"),
        )
        assert r.status_code == 403

    async def test_districts_do_not_learn_follow_up_sites(self, city):
        plan_round = round_body(plan={**round_body()["plan"], "follow_up": {"site_codes": ["330212001001"]}})
        assert (await city.post("/rounds", json=plan_round, headers=ADMIN)).status_code == 201
        for headers in (key("ningbo/yinzhou"), user("leader", "ningbo/yinzhou")):
            r = await city.get("/rounds/2026Q1", headers=headers)
            assert r.json()["follow_ups"] == [] and "330212001001" not in r.text
        assert "330212001001" in (await city.get("/rounds/2026Q1", headers=key("ningbo"))).text


class TestInternalLookup:
    async def test_only_the_services_own_principal_reaches_it(self, city):
        await drawn_round(city)  # scoring may ask before publication
        code = (await codes_of(city, "haishu"))[0]
        r = await city.get(f"/internal/rounds/2026Q1/assignments/{code}", headers=service())
        assert r.status_code == 200 and r.json()["site"]["code"] == code
        listing = await city.get(
            "/internal/rounds/2026Q1/assignments", params={"limit": 500}, headers=service()
        )
        every = await city.get("/rounds/2026Q1/assignments", params={"limit": 500}, headers=ADMIN)
        assert listing.json()["total"] == every.json()["total"] > 0
        for headers in (key("ningbo"), ADMIN, user("leader", "ningbo")):
            for path in (
                f"/internal/rounds/2026Q1/assignments/{code}",
                "/internal/rounds/2026Q1/assignments",
            ):
                r = await city.get(path, headers=headers)
                assert r.status_code == 404, path
                assert code not in str(body(r))

    def test_is_marked_internal_and_the_user_routes_are_not(self):
        spec = build_app().openapi()
        for path in (
            "/internal/rounds/{round_code}/assignments",
            "/internal/rounds/{round_code}/assignments/{site_code}",
        ):
            assert spec["paths"][path]["get"]["x-internal"] is True
        assert "x-internal" not in spec["paths"]["/rounds/{round_code}/assignments"]["get"]
