"""Faults with real processes over real HTTP: another service sends a burst through its outbox to
notify, which signs and delivers webhooks to a receiver. Notify is SIGKILLed mid-burst, or the
receiver is down for a while; every event still reaches the receiver once per webhook-id."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.kit.testing import ManagedProcess, free_port, principal_headers
from services.notify.signing import new_secret
from tests.notify.conftest import ROOT, Receiver, start_receiver

pytestmark = pytest.mark.e2e

ADMIN = principal_headers(roles=["city_admin"], sub="u-admin")
BURST = 300
QUIET = {"LOG_LEVEL": "WARNING", "ACCESS_LOG": "false", "ENVIRONMENT": "test"}


@dataclass
class Stack:
    receiver: Receiver
    notify: ManagedProcess
    notify_url: str
    notify_env: dict[str, str]
    sender: ManagedProcess
    sender_url: str

    def restart_notify(self) -> None:
        self.notify = ManagedProcess(
            "notify", [sys.executable, "-m", "services.notify"], env=self.notify_env, cwd=ROOT
        ).start()


async def _eventually(check: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last is not None and last is not False:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


@pytest.fixture
async def stack(database_url) -> AsyncIterator[Stack]:
    receiver = start_receiver(new_secret(), tolerance=300)
    notify_port, sender_port = free_port(), free_port()
    notify_env = {
        **QUIET,
        "NOTIFY_DATABASE_URL": await database_url("notify_e2e"),
        "NOTIFY_PORT": str(notify_port),
        "NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
        "NOTIFY_DELIVERY_LEASE_SECONDS": "3",
        "NOTIFY_DELIVERY_POLL_SECONDS": "0.05",
        "NOTIFY_WEBHOOK_RETRY_SCHEDULE": json.dumps([0.2, 0.5] + [1.0] * 60),
    }
    notify = ManagedProcess(
        "notify", [sys.executable, "-m", "services.notify"], env=notify_env, cwd=ROOT
    ).start()
    notify_url = f"http://127.0.0.1:{notify_port}"
    sender = ManagedProcess(
        "sender",
        [sys.executable, "-m", "tests.notify.sender_app"],
        env={
            **QUIET,
            "SENDER_DATABASE_URL": await database_url("sender_e2e"),
            "SENDER_PORT": str(sender_port),
            "NOTIFY_URL": notify_url,
        },
        cwd=ROOT,
    ).start()
    s = Stack(receiver, notify, notify_url, notify_env, sender, f"http://127.0.0.1:{sender_port}")
    try:
        await receiver.proc.wait_http(f"{receiver.base}/_received")
        await notify.wait_http(f"{notify_url}/readyz")
        await sender.wait_http(f"{s.sender_url}/readyz")
        async with httpx.AsyncClient() as c:
            r = await c.post(
                f"{notify_url}/webhooks/subscriptions",
                json={
                    "name": "OA",
                    "url": receiver.hook_url,
                    "event_types": ["rectification.*"],
                    "secret": receiver.secret,
                },
                headers=ADMIN,
            )
            assert r.status_code == 201, r.text
        yield s
    finally:
        for p in (s.sender, s.notify, receiver.proc):
            p.stop()


async def _burst(stack: Stack, prefix: str) -> set[str]:
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(f"{stack.sender_url}/burst", json={"count": BURST, "prefix": prefix}, headers=ADMIN)
        assert r.status_code == 200, r.text
        return set(r.json()["ids"])


async def _all_delivered(stack: Stack, expected: set[str]) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        seen = await stack.receiver.received()
        return seen if set(seen["ids"]) >= expected else None

    seen = await _eventually(check, 90, f"{len(expected)} webhooks")
    async with httpx.AsyncClient() as c:
        outbox = (await c.get(f"{stack.sender_url}/_outbox", headers=ADMIN)).json()
    assert outbox == {"sent": len(expected)}
    return seen  # type: ignore[no-any-return]


class TestNotifyKilledMidBurst:
    async def test_every_event_reaches_the_receiver_once_per_webhook_id(self, stack):
        expected = await _burst(stack, "kill")

        async def some_arrived() -> bool:
            return (await stack.receiver.received())["unique"] >= 20

        await _eventually(some_arrived, 60, "the first webhooks")
        stack.notify.kill()  # SIGKILL: no shutdown, leases and half-done passes left behind
        assert not stack.notify.alive()
        await asyncio.sleep(0.5)
        stack.restart_notify()
        await stack.notify.wait_http(f"{stack.notify_url}/readyz")
        seen = await _all_delivered(stack, expected)
        assert set(seen["ids"]) == expected  # nothing lost, nothing invented
        assert seen["unique"] == BURST
        assert seen["bad_signatures"] == 0
        # At-least-once on the wire: only what was in flight at the kill may come twice, and the
        # receiver, deduplicating by webhook-id, processes every event exactly once.
        assert seen["requests"] - seen["unique"] <= 200
        async with httpx.AsyncClient() as c:
            stats = (await c.get(f"{stack.notify_url}/deliveries/stats", headers=ADMIN)).json()
        webhook = next(s for s in stats if s["channel"] == "webhook")
        assert webhook["by_status"] == {"sent": BURST}


class TestReceiverDownForAWhile:
    async def test_every_event_arrives_after_the_receiver_comes_back(self, stack):
        await stack.receiver.set_status(503)
        expected = await _burst(stack, "down")

        async def failing() -> bool:
            async with httpx.AsyncClient() as c:
                r = await c.get(
                    f"{stack.notify_url}/deliveries?status=pending&channel=webhook&limit=1", headers=ADMIN
                )
            items = r.json()["items"]
            return r.json()["total"] == BURST and bool(items) and items[0]["attempts"] >= 1

        await _eventually(failing, 60, "the webhooks to fail at least once")
        await asyncio.sleep(1.5)
        await stack.receiver.set_status(200)
        seen = await _all_delivered(stack, expected)
        assert set(seen["ids"]) == expected
        assert seen["requests"] == seen["unique"] == BURST  # no crash here: not even a duplicate on the wire
        assert seen["bad_signatures"] == 0
