"""Role says what, scope says where: every role, `system` API keys included, stays inside its scope.

A district must never learn which villages will be visited before a round is published, and an
object outside the caller's scope is answered exactly like a missing one.
"""

from __future__ import annotations

import pytest

from tests.sampling.conftest import ADMIN, body, city_rows, key, site_id, user

YINZHOU_SITES = sum(1 for r in city_rows() if r["code"].startswith("330212"))


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
