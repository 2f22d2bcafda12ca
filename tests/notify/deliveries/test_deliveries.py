"""Operations: statistics, dead letters, and delivery workers running side by side."""

from __future__ import annotations

import asyncio
from collections import Counter

from services.kit.db import make_engine, make_sessionmaker
from services.notify.delivery import close_clients, deliver_once
from services.notify.main import build_app
from tests.notify.conftest import ADMIN


class TestDeliveryStatistics:
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
