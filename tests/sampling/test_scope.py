"""Role says what, scope says where: every role, `system` API keys included, stays inside its scope.

A district must never learn which villages will be visited before a round is published, and an
object outside the caller's scope is answered exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kit.testing import principal_headers
from services.sampling.main import build_app
from tests.sampling.conftest import ADMIN, city_rows, drawn_round, round_body

YINZHOU_SITES = sum(1 for r in city_rows() if r["code"].startswith("330212"))


def key(scope: str) -> dict[str, str]:
    """An integration's API key (role ``system``) scoped to `scope`."""
    return principal_headers(roles=["system"], scope=scope, kind="api_key", sub=f"key:{scope or 'none'}")


def user(role: str, scope: str, sub: str = "tester") -> dict[str, str]:
    return principal_headers(roles=[role], scope=scope, sub=sub)


def service() -> dict[str, str]:
    """The principal a service signs for itself (what scoring sends)."""
    return principal_headers(roles=["system"], scope="", kind="service", sub="service:scoring")


def body(r: httpx.Response) -> dict[str, Any]:
    """A problem body without what differs per request."""
    return {k: v for k, v in r.json().items() if k not in ("request_id", "instance")}


async def site_id(client: httpx.AsyncClient, code: str) -> int:
    r = await client.get(f"/sites/by-code/{code}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


async def codes_of(client: httpx.AsyncClient, district: str) -> list[str]:
    r = await client.get(
        "/rounds/2026Q1/assignments", params={"district": district, "limit": 500}, headers=ADMIN
    )
    return [a["site"]["code"] for a in r.json()["items"]]


class TestSiteScope:
    async def test_a_district_key_lists_and_exports_only_its_district(self, city):
        r = await city.get("/sites", params={"limit": 500}, headers=key("ningbo/yinzhou"))
        assert r.status_code == 200
        assert r.json()["total"] == YINZHOU_SITES
        assert {s["district"] for s in r.json()["items"]} == {"yinzhou"}
        r = await city.get("/sites/export", params={"format": "json"}, headers=key("ningbo/yinzhou"))
        assert len(r.json()) == YINZHOU_SITES

    async def test_an_empty_scope_sees_nothing(self, city):
        r = await city.get("/sites", headers=key(""))
        assert r.status_code == 200 and r.json()["total"] == 0
        r = await city.get("/sites/export", params={"format": "json"}, headers=key(""))
        assert r.json() == []

    async def test_wildcards_in_a_scope_match_only_themselves(self, city):
        r = await city.get("/sites", headers=user("district_admin", "ningbo/_______"))
        assert r.json()["total"] == 0

    @pytest.mark.parametrize("who", ["district_admin", "system"])
    async def test_out_of_scope_read_answers_like_a_missing_one(self, city, who):
        headers = key("ningbo/yinzhou") if who == "system" else user(who, "ningbo/yinzhou")
        sid = await site_id(city, "330203001")
        hidden = await city.get(f"/sites/{sid}", headers=headers)
        missing = await city.get(f"/sites/{sid + 100_000}", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert body(hidden) == {**body(missing), "detail": f"No site with id {sid}", "site_id": sid}
        assert "haishu" not in hidden.text and "scope" not in hidden.text
        hidden = await city.get("/sites/by-code/330203001", headers=headers)
        missing = await city.get("/sites/by-code/330203XXX", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert body(hidden) == {**body(missing), "detail": "No site with code 330203001", "code": "330203001"}

    async def test_out_of_scope_writes_answer_like_missing_ones_and_change_nothing(self, city):
        headers = user("district_admin", "ningbo/yinzhou")
        sid = await site_id(city, "330203001001")
        patched = await city.patch(f"/sites/{sid}", json={"name": "改了"}, headers=headers)
        missing = await city.patch(f"/sites/{sid + 100_000}", json={"name": "改了"}, headers=headers)
        assert patched.status_code == missing.status_code == 404
        assert body(patched)["type"] == body(missing)["type"] == "/problems/site-not-found"
        assert (await city.delete(f"/sites/{sid}", headers=key("ningbo/yinzhou"))).status_code == 404
        after = await city.get(f"/sites/{sid}", headers=ADMIN)
        assert after.status_code == 200 and after.json()["name"] != "改了"

    async def test_a_district_cannot_create_a_district(self, city):
        r = await city.post(
            "/sites",
            json={"code": "330299", "type": "district", "name": "新区", "district": "xinqu"},
            headers=user("district_admin", "ningbo/yinzhou"),
        )
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "district"]]
        assert (await city.get("/sites/by-code/330299", headers=ADMIN)).status_code == 404

    async def test_a_district_cannot_move_its_site_under_another_district(self, city):
        sid = await site_id(city, "330212001")
        r = await city.patch(
            f"/sites/{sid}", json={"parent_code": "330203"}, headers=user("district_admin", "ningbo/yinzhou")
        )
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "parent_code"]]
        assert "ningbo/haishu" not in r.text
        assert (await city.get(f"/sites/{sid}", headers=ADMIN)).json()["parent_code"] == "330212"

    async def test_an_import_naming_another_districts_code_writes_nothing(self, city):
        rows = [
            {"code": "330212001777", "type": "village", "name": "新村", "parent_code": "330212001"},
            {"code": "330203001", "type": "town", "name": "抢来的镇", "parent_code": "330212"},
        ]
        r = await city.post(
            "/sites/import", json=rows, headers={**key("ningbo/yinzhou"), "content-type": "application/json"}
        )
        assert r.status_code == 422
        assert [(e["line"], e["column"], e["problem"]) for e in r.json()["errors"]] == [
            (2, "code", "out-of-scope")
        ]
        assert (await city.get("/sites/by-code/330212001777", headers=ADMIN)).status_code == 404
        assert (await city.get("/sites/by-code/330203001", headers=ADMIN)).json()["name"] != "抢来的镇"


class TestInspectorPool:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/inspectors"),
            ("GET", "/inspectors/1"),
            ("GET", "/inspectors/export"),
            ("POST", "/inspectors"),
            ("PATCH", "/inspectors/1"),
        ],
    )
    async def test_a_district_key_cannot_reach_the_city_wide_pool(self, city, method, path):
        payload = {"user_id": "u-x", "name": "某人", "home_district": "yinzhou"} if method != "GET" else None
        r = await city.request(method, path, json=payload, headers=key("ningbo/yinzhou"))
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert "home_district" not in r.text

    async def test_district_scoped_readers_are_refused_and_city_wide_ones_read(self, city):
        assert (await city.get("/inspectors", headers=user("leader", "ningbo/yinzhou"))).status_code == 403
        assert (await city.get("/inspectors", headers=user("district_admin", "ningbo"))).status_code == 403
        r = await city.get("/inspectors", headers=key("ningbo"))
        assert r.status_code == 200 and r.json()["total"] == 12
        assert (await city.get("/inspectors", headers=user("leader", "ningbo"))).status_code == 200

    async def test_a_district_key_cannot_import_into_the_pool(self, city):
        r = await city.post(
            "/inspectors/import",
            json=[{"user_id": "u-new", "name": "新人", "home_district": "haishu"}],
            headers={**key("ningbo/yinzhou"), "content-type": "application/json"},
        )
        assert r.status_code == 403
        assert (await city.get("/inspectors", params={"q": "u-new"}, headers=ADMIN)).json()["total"] == 0


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
        assert (await city.get("/rounds/2026Q1/teams", headers=headers)).json() == []
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
        teams = (await city.get("/rounds/2026Q1/teams", headers=headers)).json()
        every = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()
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
        team = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()[0]
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
