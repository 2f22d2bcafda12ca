"""Delivery claims: bounded per subscription, leased briefly, renewed by the heartbeat, released.

Time here is the injectable clock: a lease "ends" when the test moves the clock past it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.kit.db import make_engine, make_sessionmaker
from services.notify.delivery import (
    _release,
    claim,
    close_clients,
    deliver_once,
    heartbeat_once,
    send_and_record,
    slots,
)
from services.notify.main import build_app
from tests.notify.conftest import ADMIN

LEASE = 10.0


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhook_max_in_flight": 4, "delivery_loops": 1, "delivery_lease_seconds": LEASE}


async def _subscribe(notify, url: str, secret: str | None = None) -> int:
    body: dict[str, Any] = {"name": "OA", "url": url, "event_types": ["*"]}
    if secret:
        body["secret"] = secret
    r = await notify.client.post("/webhooks/subscriptions", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _events(notify, n: int, prefix: str = "e") -> None:
    for i in range(n):
        r = await notify.event(f"{prefix}{i}", "rectification.problem.created")
        assert r.status_code in (200, 202), r.text


@pytest.fixture
async def twin(notify) -> AsyncIterator[Any]:
    """Another replica on the same database, with its own slots and worker id."""
    app = build_app(notify.app.state.settings, clock=notify.clock)
    engine = make_engine(notify.app.state.settings.database_url)
    app.state.sessionmaker = make_sessionmaker(engine)
    try:
        yield app
    finally:
        await close_clients(app)
        await engine.dispose()


class TestClaim:
    async def test_a_loop_claims_no_more_webhooks_of_a_subscription_than_its_limit(self, notify):
        await _subscribe(notify, "http://127.0.0.1:9/hook")
        await _events(notify, 10)
        first = await claim(notify.app)
        assert len(first.rows) == 4
        # Another loop of the same process finds the subscription's slots taken.
        assert (await claim(notify.app)).rows == []
        assert slots(notify.app).webhooks == Counter({first.rows[0]["subscription_id"]: 4})

    async def test_each_subscription_has_its_own_limit(self, notify):
        await _subscribe(notify, "http://127.0.0.1:9/a")
        await _subscribe(notify, "http://127.0.0.1:9/b")
        await _events(notify, 6)
        rows = (await claim(notify.app)).rows
        assert Counter(r["subscription_id"] for r in rows) == Counter({1: 4, 2: 4})

    async def test_slots_are_free_again_once_the_outcomes_are_recorded(self, notify, receiver):
        await _subscribe(notify, receiver.hook_url, receiver.secret)
        await _events(notify, 6)
        await send_and_record(notify.app, await claim(notify.app))
        assert slots(notify.app).held == {}
        assert len((await claim(notify.app)).rows) == 2
        assert (await receiver.received())["unique"] == 4

    async def test_a_replica_never_claims_rows_another_holds(self, notify, twin):
        await _subscribe(notify, "http://127.0.0.1:9/hook")
        await _events(notify, 6)
        mine = {r["id"] for r in (await claim(notify.app)).rows}
        theirs = {r["id"] for r in (await claim(twin)).rows}
        assert len(mine) == 4 and len(theirs) == 2 and not mine & theirs


class TestLeases:
    async def test_rows_of_a_worker_that_died_are_claimed_again_once_the_lease_ends(self, notify, twin):
        await _subscribe(notify, "http://127.0.0.1:9/hook")
        await _events(notify, 4)
        dead = {r["id"] for r in (await claim(notify.app)).rows}  # then no heartbeat: it crashed
        notify.clock.advance(seconds=LEASE - 1)
        assert (await claim(twin)).rows == []
        notify.clock.advance(seconds=2)
        again = (await claim(twin)).rows
        assert {r["id"] for r in again} == dead
        assert {r["attempts"] for r in again} == {2}

    async def test_the_heartbeat_keeps_a_live_workers_rows(self, notify, twin):
        await _subscribe(notify, "http://127.0.0.1:9/hook")
        await _events(notify, 4)
        held = {r["id"] for r in (await claim(notify.app)).rows}
        for _ in range(5):  # a long send: 5 leases' worth of heartbeats
            notify.clock.advance(seconds=LEASE - 1)
            assert await heartbeat_once(notify.app) == len(held)
            assert (await claim(twin)).rows == []
        notify.clock.advance(seconds=LEASE + 1)  # the beats stop
        assert {r["id"] for r in (await claim(twin)).rows} == held

    async def test_the_heartbeat_does_not_take_back_rows_another_worker_claimed(self, notify, twin):
        await _subscribe(notify, "http://127.0.0.1:9/hook")
        await _events(notify, 4)
        await claim(notify.app)
        notify.clock.advance(seconds=LEASE + 1)  # this worker stalled past its lease
        taken = (await claim(twin)).rows
        assert len(taken) == 4
        assert await heartbeat_once(notify.app) == 0
        notify.clock.advance(seconds=LEASE - 1)
        assert await heartbeat_once(twin) == 4

    async def test_shutdown_gives_back_held_rows_at_once(self, notify, twin):
        await _subscribe(notify, "http://127.0.0.1:9/hook")
        await _events(notify, 4)
        held = {r["id"] for r in (await claim(notify.app)).rows}
        await _release(notify.app)
        assert {r["id"] for r in (await claim(twin)).rows} == held


class TestSlowReceiver:
    @pytest.mark.parametrize(
        "settings_overrides",
        [{"webhook_max_in_flight": 4, "delivery_loops": 3, "delivery_lease_seconds": LEASE}],
    )
    async def test_never_more_than_the_limit_in_flight_across_loops(self, notify, receiver):
        await _subscribe(notify, receiver.hook_url, receiver.secret)
        await _events(notify, 24)
        await receiver.set_slow(0.1)

        async def loop() -> None:
            while await deliver_once(notify.app):
                pass

        await asyncio.gather(loop(), loop(), loop())
        seen = await receiver.received()
        assert Counter(seen["ids"].values()) == {1: 24}
        assert seen["max_in_flight"] <= 4
