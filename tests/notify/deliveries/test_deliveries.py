"""Operations: statistics, dead letters, and delivery workers running side by side."""

from __future__ import annotations

import asyncio
from collections import Counter

from services.kit.db import make_engine, make_sessionmaker
from services.notify.delivery import close_clients, deliver_once
from services.notify.main import build_app
from tests.notify.conftest import ADMIN


class TestListDeliveries:
    async def test_filters_by_status_and_channel_and_sorts_by_id_either_way(self, notify):
        await notify.person("u-a")
        r = await notify.event("d1", recipients=[{"kind": "person", "user_id": "u-a"}], priority="urgent")
        assert r.json()["deliveries"] == {"inbox": 1, "email": 1, "sms": 1, "webhook": 0}
        sms = (await notify.client.get("/deliveries?status=pending&channel=sms", headers=ADMIN)).json()
        assert [d["channel"] for d in sms["items"]] == ["sms"]
        assert (sms["total"], sms["limit"], sms["offset"]) == (1, 50, 0)
        oldest = (await notify.client.get("/deliveries?status=pending&sort=id", headers=ADMIN)).json()
        newest = (await notify.client.get("/deliveries?status=pending", headers=ADMIN)).json()
        ids = [d["id"] for d in oldest["items"]]
        assert ids == sorted(ids) and len(ids) == 3
        assert [d["id"] for d in newest["items"]] == ids[::-1]

    async def test_an_unknown_sort_status_or_parameter_is_refused_naming_it(self, notify):
        for query, loc in (
            ("sort=priority", ["query", "sort"]),
            ("status=lost", ["query", "status"]),
            ("colour=red", ["query", "colour"]),
        ):
            r = await notify.client.get(f"/deliveries?{query}", headers=ADMIN)
            assert r.status_code == 422, query
            assert r.json()["errors"][0]["loc"] == loc


class TestDeliveryStatistics:
    async def test_one_item_per_channel_in_the_list_envelope(self, notify):
        r = await notify.client.get("/deliveries/stats", headers=ADMIN)
        page = r.json()
        assert [s["channel"] for s in page["items"]] == ["inbox", "email", "sms", "webhook"]
        assert (page["total"], page["limit"], page["offset"]) == (4, 4, 0)

    async def test_counts_per_channel_and_status(self, notify, receiver):
        notify.app.state.settings.sms_url = receiver.sms_url
        await notify.person("u-a", email=None)
        await notify.person("u-b", email=None)
        await notify.event("o1", recipients=[{"kind": "person", "user_id": "u-a"}], priority="urgent")
        await receiver.set_status(422)
        await notify.event("o2", recipients=[{"kind": "person", "user_id": "u-b"}], priority="urgent")
        await notify.deliver()
        stats = {
            s["channel"]: s
            for s in (await notify.client.get("/deliveries/stats", headers=ADMIN)).json()["items"]
        }
        assert stats["inbox"]["by_status"] == {"sent": 2}
        assert stats["sms"]["by_status"] == {"failed": 2}
        assert stats["webhook"]["by_status"] == {}

    async def test_outbox_admin_is_mounted(self, notify):
        r = await notify.client.get("/outbox/events", headers=ADMIN)
        assert r.status_code == 200 and r.json()["total"] == 0


class TestReplicas:
    async def test_two_delivery_workers_never_send_a_webhook_twice(self, notify, receiver):
        r = await notify.client.post(
            "/webhooks/subscriptions",
            json={"name": "OA", "url": receiver.hook_url, "event_types": ["*"], "secret": receiver.secret},
            headers=ADMIN,
        )
        assert r.status_code == 201
        for i in range(40):
            await notify.event(f"r{i}", "rectification.problem.created")
        # A second replica: its own app state and engine on the same database.
        twin = build_app(notify.app.state.settings, clock=notify.clock)
        engine = make_engine(notify.app.state.settings.database_url)
        twin.state.sessionmaker = make_sessionmaker(engine)
        notify.app.state.settings.delivery_batch_size = 7
        try:
            while sum(await asyncio.gather(deliver_once(notify.app), deliver_once(twin))):
                pass
        finally:
            await close_clients(twin)
            await engine.dispose()
        seen = await receiver.received()
        assert seen["unique"] == 40
        assert Counter(seen["ids"].values()) == {1: 40}
