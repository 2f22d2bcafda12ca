"""Role says what, scope says where: every role, `system` API keys included, stays inside its scope.

A district must never learn which villages will be visited before a round is published, and an
object outside the caller's scope is answered exactly like a missing one.
"""

from __future__ import annotations

import pytest

from tests.sampling.conftest import ADMIN, city_rows, key, user

YINZHOU_SITES = sum(1 for r in city_rows() if r["code"].startswith("330212"))


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
