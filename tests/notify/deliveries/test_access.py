"""Who may do what with notifications and their deliveries: every caller, a district-scoped `system` API key included, stays inside its scope.

Out of scope reads answer exactly like missing objects (404); writes naming something outside the
scope are 422 naming the field, and nothing is written.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from services.notify.models import Delivery
from tests.notify.access_support import CITY_KEY, WILDCARD_KEY, YINZHOU_KEY, pending, problem


class TestNotificationsAndDeliveries:
    @pytest.fixture
    async def sent(self, city):
        """A Haishu event, a Yinzhou event, and a city-wide one to every district admin."""
        r = await city.event(
            "hs",
            recipients=[{"kind": "person", "user_id": "u-haishu-responsible"}],
            org_unit="ningbo/haishu/x",
        )
        assert r.status_code == 202, r.text
        await city.event(
            "yz",
            recipients=[{"kind": "person", "user_id": "u-yinzhou-responsible"}],
            org_unit="ningbo/yinzhou/dongwu/tiantong",
        )
        await city.event(
            "all",
            "scoring.results.published",
            recipients=[{"kind": "role", "role": "district_admin", "org_unit": "ningbo"}],
            org_unit="ningbo",
        )
        return city

    async def test_another_districts_notification_reads_like_a_missing_one(self, sent):
        out = await sent.client.get("/notifications/hs", headers=YINZHOU_KEY)
        missing = await sent.client.get("/notifications/nope", headers=YINZHOU_KEY)
        assert out.status_code == missing.status_code == 404
        assert problem(out) == problem(missing) | {"detail": "No notification hs", "notification_id": "hs"}

    async def test_a_notification_shows_only_the_deliveries_in_scope(self, sent):
        own = await sent.client.get("/notifications/yz", headers=YINZHOU_KEY)
        assert own.status_code == 200
        assert {d["recipient"] for d in own.json()["deliveries"]} == {"u-yinzhou-responsible"}
        city_wide = await sent.client.get("/notifications/all", headers=YINZHOU_KEY)
        assert city_wide.status_code == 200
        assert {d["recipient"] for d in city_wide.json()["deliveries"]} == {"u-yinzhou-admin"}
        everyone = await sent.client.get("/notifications/all", headers=CITY_KEY)
        assert {d["recipient"] for d in everyone.json()["deliveries"]} == {
            "u-yinzhou-admin",
            "u-haishu-admin",
        }

    async def test_delivery_lists_and_statistics_cover_only_the_scope(self, sent):
        mine = await pending(sent, YINZHOU_KEY)
        assert {d["recipient"] for d in mine["items"]} == {"u-yinzhou-responsible", "u-yinzhou-admin"}
        assert mine["total"] == 4  # inbox + email each
        assert (await pending(sent, CITY_KEY))["total"] == 8
        stats = (await sent.client.get("/deliveries/stats", headers=YINZHOU_KEY)).json()["items"]
        assert {s["channel"]: s["by_status"] for s in stats}["inbox"] == {"pending": 2}
        assert (await pending(sent, WILDCARD_KEY))["total"] == 0

    async def test_re_driving_dead_letters_is_a_city_wide_action(self, sent):
        async with sent.app.state.sessionmaker() as s, s.begin():
            await s.execute(update(Delivery).values(status="failed", last_error="boom"))
        dead = (await sent.client.get("/deliveries?status=failed", headers=YINZHOU_KEY)).json()
        one = dead["items"][0]["id"]
        for path in (f"/deliveries/{one}/retry", "/deliveries/retry-failed"):
            r = await sent.client.post(path, headers=YINZHOU_KEY)
            assert r.status_code == 403
            assert r.json()["type"] == "/problems/forbidden"
        assert (await pending(sent))["total"] == 0
        r = await sent.client.post("/deliveries/retry-failed", headers=CITY_KEY)
        assert r.json() == {"updated": 8}
