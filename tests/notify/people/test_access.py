"""Who may do what with people and their preferences: every caller, a district-scoped `system` API key included, stays inside its scope.

Out of scope reads answer exactly like missing objects (404); writes naming something outside the
scope are 422 naming the field, and nothing is written.
"""

from __future__ import annotations

import pytest

from tests.notify.access_support import WILDCARD_KEY, YINZHOU_ADMIN, YINZHOU_KEY, problem
from tests.notify.conftest import ADMIN, Caller


class TestUpsertPerson:
    async def test_a_district_key_cannot_rewrite_another_districts_person(self, city):
        r = await city.client.put(
            "/people/u-haishu-responsible",
            json={"name": "改写", "org_unit": "ningbo/haishu", "email": "attacker@example.cn"},
            headers=YINZHOU_KEY,
        )
        assert r.status_code == 404
        assert r.json()["detail"] == "No person 'u-haishu-responsible' in the directory"
        assert r.json()["type"] == "/problems/person-not-found"
        stored = (await city.client.get("/people/u-haishu-responsible", headers=ADMIN)).json()
        assert (stored["name"], stored["email"]) == ("u-haishu-responsible", "h***@haishu.gov.cn")

    async def test_nor_move_one_of_its_own_people_into_another_district(self, city):
        r = await city.client.put(
            "/people/u-yinzhou-responsible",
            json={"name": "x", "org_unit": "ningbo/haishu"},
            headers=YINZHOU_KEY,
        )
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/out-of-scope"
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "org_unit"]]
        stored = (await city.client.get("/people/u-yinzhou-responsible", headers=ADMIN)).json()
        assert stored["org_unit"] == "ningbo/yinzhou/dongwu"

    async def test_a_district_admin_creates_people_only_inside_their_district(self, city):
        r = await city.client.put(
            "/people/u-new", json={"name": "新人", "org_unit": "ningbo/haishu/x"}, headers=YINZHOU_ADMIN
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "org_unit"]
        assert (await city.client.get("/people/u-new", headers=ADMIN)).status_code == 404
        r = await city.client.put(
            "/people/u-new",
            json={"name": "新人", "org_unit": "ningbo/yinzhou/dongwu", "roles": ["responsible"]},
            headers=YINZHOU_ADMIN,
        )
        assert r.status_code == 201, r.text

    async def test_only_a_city_wide_caller_gives_a_city_role(self, city):
        r = await city.client.put(
            "/people/u-new",
            json={"name": "x", "org_unit": "ningbo/yinzhou", "roles": ["responsible", "city_admin"]},
            headers=YINZHOU_ADMIN,
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "roles", 1]
        assert (await city.client.get("/people/u-new", headers=ADMIN)).status_code == 404

    @pytest.mark.parametrize("unit", ["shanghai/pudong", "ningbo/%", "ningbo//x", "ningbo/yinzhou/"])
    async def test_an_org_unit_outside_the_grammar_or_the_city_is_refused(self, notify, unit):
        r = await notify.client.put("/people/u-x", json={"name": "x", "org_unit": unit}, headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "org_unit"]


class TestReadPeople:
    async def test_a_district_key_lists_only_its_districts_people(self, city):
        r = await city.client.get("/people?limit=500", headers=YINZHOU_KEY)
        assert r.status_code == 200
        assert sorted(p["user_id"] for p in r.json()["items"]) == [
            "u-yinzhou-admin",
            "u-yinzhou-responsible",
        ]
        assert r.json()["total"] == 2

    async def test_an_org_unit_filter_outside_the_scope_finds_nobody(self, city):
        r = await city.client.get("/people?org_unit=ningbo/haishu", headers=YINZHOU_KEY)
        assert r.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}

    async def test_another_districts_person_reads_like_a_missing_one(self, city):
        out = await city.client.get("/people/u-haishu-responsible", headers=YINZHOU_ADMIN)
        missing = await city.client.get("/people/u-nobody", headers=YINZHOU_ADMIN)
        assert out.status_code == missing.status_code == 404
        assert problem(out) == problem(missing) | {
            "detail": "No person 'u-haishu-responsible' in the directory",
            "user_id": "u-haishu-responsible",
        }

    async def test_a_wildcard_scope_matches_only_itself(self, city):
        r = await city.client.get("/people", headers=WILDCARD_KEY)
        assert r.json()["total"] == 0
        one = await city.client.get("/people/u-yinzhou-admin", headers=WILDCARD_KEY)
        assert one.status_code == 404


class TestPreferences:
    async def test_a_district_key_cannot_mute_another_districts_person(self, city):
        r = await city.client.patch(
            "/people/u-haishu-admin/preferences", json={"channels": {"*": []}}, headers=YINZHOU_KEY
        )
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/person-not-found"
        r = await city.client.get("/people/u-haishu-admin/preferences", headers=YINZHOU_KEY)
        assert r.status_code == 404
        prefs = (await city.client.get("/people/u-haishu-admin/preferences", headers=ADMIN)).json()
        assert prefs["channels"] == {}

    async def test_a_district_admin_keeps_the_preferences_of_their_districts_people(self, city):
        r = await city.client.patch(
            "/people/u-yinzhou-responsible/preferences",
            json={"digest_enabled": True},
            headers=YINZHOU_ADMIN,
        )
        assert r.status_code == 200 and r.json()["digest_enabled"] is True

    async def test_a_person_reads_their_own_preferences_whatever_their_scope(self, city):
        me = Caller(roles=["responsible"], scope="ningbo/yinzhou/dongwu/tiantong", sub="u-yinzhou-admin")
        r = await city.client.get("/people/u-yinzhou-admin/preferences", headers=me)
        assert r.status_code == 200
