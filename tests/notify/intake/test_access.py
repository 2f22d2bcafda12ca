"""Who may do what with notification requests and events: every caller, a district-scoped `system` API key included, stays inside its scope.

Out of scope reads answer exactly like missing objects (404); writes naming something outside the
scope are 422 naming the field, and nothing is written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.notify.access_support import YINZHOU_KEY, pending
from tests.notify.conftest import SYSTEM


class TestCreateNotification:
    def _body(self, *recipients: dict[str, Any], **data: Any) -> dict[str, Any]:
        return {"data": {"title": "逾期", "body": "请处理", **data}, "recipients": list(recipients)}

    async def _send(self, notify, body: dict[str, Any], headers=YINZHOU_KEY, key: str = "k1") -> Any:
        return await notify.client.post(
            "/notifications", json=body, headers={**headers, "Idempotency-Key": key}
        )

    async def test_a_person_outside_the_scope_is_refused_like_an_unknown_one(self, city):
        out = await self._send(city, self._body({"kind": "person", "user_id": "u-haishu-responsible"}))
        ghost = await self._send(city, self._body({"kind": "person", "user_id": "u-ghost"}), key="k2")
        assert out.status_code == ghost.status_code == 422
        assert out.json()["type"] == "/problems/unknown-recipient"
        [err] = out.json()["errors"]
        assert err["loc"] == ["body", "recipients", 0, "user_id"]
        assert err["msg"] == ghost.json()["errors"][0]["msg"].replace("u-ghost", "u-haishu-responsible")
        assert (await pending(city))["total"] == 0

    @pytest.mark.parametrize(
        "recipient",
        [
            {"kind": "role", "role": "responsible", "org_unit": "ningbo/haishu"},
            {"kind": "role", "role": "district_admin", "org_unit": "ningbo"},
            {"kind": "org_unit", "org_unit": "ningbo/haishu"},
        ],
        ids=["role in another district", "role city-wide", "another district's contacts"],
    )
    async def test_a_unit_outside_the_scope_is_named_and_nothing_is_queued(self, city, recipient):
        mine = {"kind": "person", "user_id": "u-yinzhou-admin"}
        r = await self._send(city, self._body(mine, recipient))
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/out-of-scope"
        assert r.json()["errors"][0]["loc"] == ["body", "recipients", 1, "org_unit"]
        assert (await pending(city))["total"] == 0

    async def test_a_place_outside_the_scope_is_refused(self, city):
        r = await self._send(
            city,
            self._body({"kind": "person", "user_id": "u-yinzhou-admin"}, org_unit="ningbo/haishu/x"),
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "data", "org_unit"]
        assert (await pending(city))["total"] == 0

    async def test_inside_the_scope_a_role_reaches_only_the_districts_holders(self, city):
        r = await self._send(
            city, self._body({"kind": "role", "role": "responsible", "org_unit": "ningbo/yinzhou"})
        )
        assert r.status_code == 202, r.text
        assert r.json()["recipients"] == ["u-yinzhou-responsible"]


class TestServicePrincipal:
    async def test_the_services_own_principal_reaches_every_district(self, city):
        r = await city.client.put(
            "/people/u-haishu-responsible",
            json={"name": "海曙责任人", "org_unit": "ningbo/haishu"},
            headers=SYSTEM,
        )
        assert r.status_code == 200
        r = await city.event(
            "svc",
            recipients=[
                {"kind": "person", "user_id": "u-haishu-responsible"},
                {"kind": "org_unit", "org_unit": "ningbo/haishu"},
            ],
        )
        assert r.status_code == 202 and r.json()["recipients"] == ["u-haishu-responsible"]
