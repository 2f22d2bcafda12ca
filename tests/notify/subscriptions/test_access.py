"""Who may do what with webhook subscriptions: every caller, a district-scoped `system` API key included, stays inside its scope.

Out of scope reads answer exactly like missing objects (404); writes naming something outside the
scope are 422 naming the field, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from tests.notify.access_support import HOOK, YINZHOU_ADMIN, YINZHOU_KEY, problem
from tests.notify.conftest import ADMIN


class TestWebhookSubscriptions:
    async def _subscribe(self, notify, headers, **kw: Any) -> Any:
        body = {"name": kw.pop("name", "OA"), "url": HOOK, "event_types": ["*"], **kw}
        return await notify.client.post("/webhooks/subscriptions", json=body, headers=headers)

    async def test_a_district_keys_subscription_records_its_scope(self, notify):
        r = await self._subscribe(notify, YINZHOU_KEY)
        assert r.status_code == 201, r.text
        assert r.json()["scope"] == "ningbo/yinzhou"
        narrower = await self._subscribe(notify, YINZHOU_KEY, scope="ningbo/yinzhou/dongwu")
        assert narrower.json()["scope"] == "ningbo/yinzhou/dongwu"
        wider = await self._subscribe(notify, YINZHOU_KEY, scope="ningbo")
        assert wider.status_code == 422
        assert wider.json()["errors"][0]["loc"] == ["body", "scope"]

    async def test_a_subscription_receives_only_events_inside_its_scope(self, city):
        yz = (await self._subscribe(city, YINZHOU_KEY, name="鄞州OA")).json()
        whole = (await self._subscribe(city, ADMIN, name="市OA")).json()
        assert whole["scope"] == "ningbo"
        hs = await city.event("hs", "rectification.problem.created", org_unit="ningbo/haishu/x")
        yzr = await city.event("yz", "rectification.problem.created", org_unit="ningbo/yinzhou/dongwu")
        city_event = await city.event("ct", "sampling.round.published", org_unit="ningbo")
        no_place = await city.event("np", "notify.message")  # no org_unit: the whole city
        assert hs.json()["deliveries"]["webhook"] == 1
        assert yzr.json()["deliveries"]["webhook"] == 2
        assert city_event.json()["deliveries"]["webhook"] == 1
        assert no_place.json()["deliveries"]["webhook"] == 1

        async def hooked(sub: dict[str, Any]) -> set[str]:
            url = f"/webhooks/subscriptions/{sub['id']}/deliveries?status=pending"
            return {d["notification_id"] for d in (await city.client.get(url, headers=ADMIN)).json()["items"]}

        assert await hooked(yz) == {"yz"}
        assert await hooked(whole) == {"hs", "yz", "ct", "np"}

    async def test_a_district_keys_own_request_reaches_its_own_subscription(self, city):
        yz = (await self._subscribe(city, YINZHOU_KEY)).json()
        r = await city.client.post(
            "/notifications",
            json={
                "data": {"title": "t", "body": "b"},
                "recipients": [{"kind": "person", "user_id": "u-yinzhou-admin"}],
            },
            headers={**YINZHOU_KEY, "Idempotency-Key": "own"},
        )
        assert r.json()["deliveries"]["webhook"] == 1
        n = (await city.client.get(f"/notifications/{r.json()['id']}", headers=YINZHOU_KEY)).json()
        assert n["org_unit"] == "ningbo/yinzhou"
        assert {d["recipient"] for d in n["deliveries"]} == {"u-yinzhou-admin", f"webhook:{yz['id']}"}

    async def test_listing_reading_and_switching_subscriptions_is_scoped(self, notify):
        yz = (await self._subscribe(notify, YINZHOU_KEY, name="鄞州OA")).json()
        whole = (await self._subscribe(notify, ADMIN, name="市OA")).json()
        listed = (await notify.client.get("/webhooks/subscriptions", headers=YINZHOU_KEY)).json()
        assert [s["id"] for s in listed["items"]] == [yz["id"]] and listed["total"] == 1
        everything = (await notify.client.get("/webhooks/subscriptions", headers=ADMIN)).json()
        assert everything["total"] == 2
        missing_id = whole["id"] + 100
        window = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}
        for suffix, method, body in (
            ("", "get", None),
            ("/deliveries", "get", None),
            ("/disable", "post", None),
            ("/enable", "post", None),
            ("", "patch", {"name": "改名"}),
            ("", "delete", None),
            ("/rotate-secret", "post", {}),
            ("/ping", "post", None),
            ("/replay", "post", window),
        ):
            out = await notify.client.request(
                method, f"/webhooks/subscriptions/{whole['id']}{suffix}", json=body, headers=YINZHOU_KEY
            )
            missing = await notify.client.request(
                method, f"/webhooks/subscriptions/{missing_id}{suffix}", json=body, headers=YINZHOU_KEY
            )
            assert out.status_code == missing.status_code == 404
            assert problem(out)["title"] == problem(missing)["title"]
            assert problem(out)["detail"] == problem(missing)["detail"].replace(
                str(missing_id), str(whole["id"])
            )
        still = (await notify.client.get(f"/webhooks/subscriptions/{whole['id']}", headers=ADMIN)).json()
        assert still["enabled"] is True and still["name"] == "市OA"
        r = await notify.client.post(f"/webhooks/subscriptions/{yz['id']}/disable", headers=YINZHOU_KEY)
        assert r.status_code == 200 and r.json()["enabled"] is False

    async def test_a_district_key_manages_its_own_subscription(self, notify):
        yz = (await self._subscribe(notify, YINZHOU_KEY, name="鄞州OA")).json()
        base = f"/webhooks/subscriptions/{yz['id']}"
        r = await notify.client.patch(base, json={"name": "鄞州区OA"}, headers=YINZHOU_KEY)
        assert r.status_code == 200 and r.json()["name"] == "鄞州区OA"
        r = await notify.client.post(f"{base}/rotate-secret", json={}, headers=YINZHOU_KEY)
        assert r.status_code == 200 and r.json()["secret"].startswith("whsec_")
        window = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}
        r = await notify.client.post(f"{base}/replay", json=window, headers=YINZHOU_KEY)
        assert r.status_code == 200 and r.json() == {"replayed": 0}
        assert (await notify.client.delete(base, headers=YINZHOU_KEY)).status_code == 204

    async def test_a_district_admin_may_not_manage_subscriptions(self, notify):
        whole = (await self._subscribe(notify, ADMIN, name="市OA")).json()
        base = f"/webhooks/subscriptions/{whole['id']}"
        window = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}
        for method, suffix, body in (
            ("patch", "", {"name": "改名"}),
            ("delete", "", None),
            ("post", "/rotate-secret", {}),
            ("post", "/ping", None),
            ("post", "/replay", window),
        ):
            r = await notify.client.request(method, f"{base}{suffix}", json=body, headers=YINZHOU_ADMIN)
            assert r.status_code == 403, (method, suffix, r.text)
        still = (await notify.client.get(base, headers=ADMIN)).json()
        assert still["name"] == "市OA"
