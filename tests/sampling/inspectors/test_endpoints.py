from services.kit.testing import principal_headers
from tests.sampling.conftest import ADMIN


class TestInspectors:
    async def test_create_read_update(self, city):
        body = {"user_id": "u-new", "name": "新督查员", "home_district": "haishu", "can_lead": True}
        r = await city.post("/inspectors", json=body, headers=ADMIN)
        assert r.status_code == 201
        iid = r.json()["id"]
        r = await city.patch(
            f"/inspectors/{iid}", json={"home_district": "beilun", "active": False}, headers=ADMIN
        )
        assert (r.json()["home_district"], r.json()["active"]) == ("beilun", False)
        r = await city.get(
            "/inspectors", params={"home_district": "beilun", "active": "false"}, headers=ADMIN
        )
        assert [i["user_id"] for i in r.json()["items"]] == ["u-new"]

    async def test_unknown_district_and_duplicates_are_refused(self, city):
        r = await city.post(
            "/inspectors", json={"user_id": "u-x", "name": "某", "home_district": "mars"}, headers=ADMIN
        )
        assert r.status_code == 422
        r = await city.post(
            "/inspectors",
            json={"user_id": "u-insp-01", "name": "某", "home_district": "haishu"},
            headers=ADMIN,
        )
        assert r.status_code == 409

    async def test_district_admin_cannot_read_the_pool(self, city):
        headers = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        assert (await city.get("/inspectors", headers=headers)).status_code == 403

    async def test_sorts_by_name_and_searches_user_ids(self, city):
        r = await city.get("/inspectors", params={"sort": "-user_id", "limit": 2}, headers=ADMIN)
        assert [i["user_id"] for i in r.json()["items"]] == ["u-insp-12", "u-insp-11"]
        r = await city.get("/inspectors", params={"q": "U-INSP-0", "limit": 500}, headers=ADMIN)
        assert r.json()["total"] == 9
