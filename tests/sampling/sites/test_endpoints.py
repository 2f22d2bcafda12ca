import httpx

from services.kit.testing import principal_headers
from services.sampling.models import Site
from tests.sampling.conftest import ADMIN


async def _add_site(client: httpx.AsyncClient, **kw) -> int:
    async with client.app.state.sessionmaker() as s:  # type: ignore[attr-defined]
        site = Site(**kw, district=kw["org_unit"].split("/")[1])
        s.add(site)
        await s.commit()
        assert site.id is not None
        return site.id


def _body(r: httpx.Response) -> dict:
    """The problem body without what differs per request."""
    return {k: v for k, v in r.json().items() if k not in ("request_id", "instance")}


class TestGetSite:
    async def test_reads_a_site_inside_scope(self, client):
        sid = await _add_site(
            client, code="330212001", type="town", name="东吴镇", org_unit="ningbo/yinzhou/dongwu"
        )
        r = await client.get(f"/sites/{sid}", headers=principal_headers(scope="ningbo/yinzhou"))
        assert r.status_code == 200
        assert r.json()["name"] == "东吴镇"

    async def test_site_outside_scope_answers_like_a_missing_one(self, client):
        sid = await _add_site(
            client, code="330203001", type="street", name="月湖街道", org_unit="ningbo/haishu/yuehu"
        )
        yinzhou = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        r = await client.get(f"/sites/{sid}", headers=yinzhou)
        missing = await client.get(f"/sites/{sid + 1000}", headers=yinzhou)
        assert r.status_code == missing.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert _body(r) == {**_body(missing), "detail": f"No site with id {sid}", "site_id": sid}
        assert "haishu" not in r.text and "scope" not in r.text

    async def test_missing_site_is_404_problem(self, client):
        r = await client.get("/sites/999", headers=principal_headers())
        assert r.status_code == 404
        body = r.json()
        assert body["type"] == "/problems/site-not-found"
        assert body["request_id"] == r.headers["x-request-id"]

    async def test_request_without_gateway_principal_is_refused(self, client):
        r = await client.get("/sites/1")
        assert r.status_code == 401
        assert r.json()["type"] == "/problems/unauthorized"

    async def test_forged_principal_is_refused(self, client):
        r = await client.get("/sites/1", headers=principal_headers(secret="not-the-secret-" * 3))
        assert r.status_code == 401


class TestHealth:
    async def test_ready_when_migrated(self, client):
        r = await client.get("/readyz")
        assert r.status_code == 200
        assert r.json()["status"] == "ready"


class TestListSites:
    async def test_filters_and_paginates(self, city):
        r = await city.get(
            "/sites",
            params={"type": ["village", "community"], "district": "haishu", "limit": 4},
            headers=ADMIN,
        )
        body = r.json()
        assert body["total"] == 15 and len(body["items"]) == 4 and body["limit"] == 4
        assert {s["type"] for s in body["items"]} <= {"village", "community"}
        r = await city.get("/sites", params={"parent_code": "330212001", "type": "enterprise"}, headers=ADMIN)
        assert [s["code"] for s in r.json()["items"]] == ["330212001E1", "330212001E3"]

    async def test_name_search_and_active_filter(self, city):
        r = await city.get("/sites", params={"q": "人民医院"}, headers=ADMIN)
        assert r.json()["total"] == 4
        r = await city.get("/sites", params={"active": "false"}, headers=ADMIN)
        assert r.json()["total"] == 0

    async def test_district_admin_sees_only_their_district(self, city):
        headers = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        r = await city.get("/sites", params={"limit": 500}, headers=headers)
        assert r.json()["total"] > 0
        assert {s["district"] for s in r.json()["items"]} == {"yinzhou"}

    async def test_limit_above_500_is_refused(self, city):
        r = await city.get("/sites", params={"limit": 501}, headers=ADMIN)
        assert r.status_code == 422

    async def test_search_matches_codes_too_and_ignores_case(self, city):
        r = await city.get("/sites", params={"q": "330212001e"}, headers=ADMIN)
        assert [s["code"] for s in r.json()["items"]] == ["330212001E1", "330212001E2", "330212001E3"]

    async def test_sorts_by_name_or_district_both_ways(self, city):
        params = {"type": "district", "limit": 10}
        up = (await city.get("/sites", params={**params, "sort": "district"}, headers=ADMIN)).json()["items"]
        down = (await city.get("/sites", params={**params, "sort": "-district"}, headers=ADMIN)).json()[
            "items"
        ]
        assert [s["district"] for s in up] == ["beilun", "haishu", "yinzhou"]
        assert [s["district"] for s in down] == ["yinzhou", "haishu", "beilun"]
        r = await city.get("/sites", params={"sort": "org_unit"}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "sort"]

    async def test_an_unknown_type_is_refused(self, city):
        r = await city.get("/sites", params={"type": "hamlet"}, headers=ADMIN)
        assert r.status_code == 422


class TestCreateSite:
    async def test_adds_a_village_under_a_town(self, city):
        body = {
            "code": "330212001099",
            "type": "village",
            "name": "新村",
            "parent_code": "330212001",
            "tags": ["新建"],
        }
        r = await city.post("/sites", json=body, headers=ADMIN)
        assert r.status_code == 201
        assert r.json()["org_unit"] == "ningbo/yinzhou/330212001/330212001099"

    async def test_duplicate_code_conflicts(self, city):
        body = {"code": "330212001", "type": "town", "name": "重复", "parent_code": "330212"}
        r = await city.post("/sites", json=body, headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/duplicate-code"

    async def test_wrong_parent_type_names_the_field(self, city):
        body = {"code": "V9", "type": "village", "name": "错村", "parent_code": "330212"}
        r = await city.post("/sites", json=body, headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "parent_code"]

    async def test_district_admin_cannot_add_outside_scope(self, city):
        headers = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        body = {"code": "V9", "type": "village", "name": "外村", "parent_code": "330203001"}
        r = await city.post("/sites", json=body, headers=headers)
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "parent_code"]]
        assert (await city.get("/sites/by-code/V9", headers=ADMIN)).status_code == 404


class TestUpdateSite:
    async def test_deactivate_and_rename(self, city):
        site = (await city.get("/sites/by-code/330212001001", headers=ADMIN)).json()
        r = await city.patch(f"/sites/{site['id']}", json={"active": False, "name": "改名村"}, headers=ADMIN)
        assert r.status_code == 200
        assert (r.json()["active"], r.json()["name"]) == (False, "改名村")

    async def test_move_to_unknown_parent_is_refused(self, city):
        site = (await city.get("/sites/by-code/330212001001", headers=ADMIN)).json()
        r = await city.patch(f"/sites/{site['id']}", json={"parent_code": "NOPE"}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["type"] == "/problems/invalid-parent"


class TestDeleteSite:
    async def test_leaf_can_be_deleted_but_not_a_parent(self, city):
        leaf = (await city.get("/sites/by-code/330212001001", headers=ADMIN)).json()
        town = (await city.get("/sites/by-code/330212001", headers=ADMIN)).json()
        assert (await city.delete(f"/sites/{town['id']}", headers=ADMIN)).status_code == 409
        assert (await city.delete(f"/sites/{leaf['id']}", headers=ADMIN)).status_code == 204
        assert (await city.get(f"/sites/{leaf['id']}", headers=ADMIN)).status_code == 404
