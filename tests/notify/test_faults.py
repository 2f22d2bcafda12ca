"""Faults with real processes over real HTTP: another service sends a burst through its outbox to
notify, which signs and delivers webhooks to a receiver process. Notify runs with the production
lease, heartbeat and in-flight settings. It is SIGKILLed twice mid-delivery, or the receiver is
slow, or down for a while; every event still reaches the receiver, and duplicates on the wire are
bounded by what was in flight at a crash (none without one).

Nothing here sleeps for time to pass: every wait polls a condition until a deadline. The only
timing assertion is the promised bound on delivery after a restart, measured with generous polling.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.kit.testing import ManagedProcess, free_port, principal_headers
from services.notify.config import Settings
from services.notify.signing import new_secret
from tests.conftest import TEST_DB
from tests.notify.conftest import ROOT, Receiver, start_receiver

# Real processes on a machine shared by many suites: a start can take a minute when it is busy.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _admin() -> dict[str, str]:
    """A city admin's forwarded principal, signed at each use (a run may outlast any fixed TTL)."""
    return principal_headers(roles=["city_admin"], sub="u-admin")


QUIET = {"LOG_LEVEL": "WARNING", "ACCESS_LOG": "false", "ENVIRONMENT": "test"}
LIMIT = Settings.model_fields["webhook_max_in_flight"].default  # the production default
DELIVERED_AFTER_RESTART = 15.0  # seconds: the promise in docs/notify.md
KILLED_BURST = 1000 if TEST_DB == "postgres" else 600
POLL = 0.1
STARTUP = 180.0  # seconds a process may take to answer on a machine shared by many test suites


@dataclass
class Stack:
    receiver: Receiver
    notify: ManagedProcess
    notify_url: str
    notify_env: dict[str, str]
    sender: ManagedProcess
    sender_url: str
    http: httpx.AsyncClient  # one client for all the polling (a new one per poll costs a TLS context)

    async def count(self) -> dict[str, Any]:
        """The receiver's cheap counters."""
        return (await self.http.get(f"{self.receiver.base}/_count")).json()  # type: ignore[no-any-return]

    async def received(self) -> dict[str, Any]:
        return (await self.http.get(f"{self.receiver.base}/_received")).json()  # type: ignore[no-any-return]

    def restart_notify(self) -> None:
        self.notify = ManagedProcess(
            "notify", [sys.executable, "-m", "services.notify"], env=self.notify_env, cwd=ROOT
        ).start()


async def _eventually(check: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(POLL)  # the polling interval, not a wait for time to pass
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


@pytest.fixture
def notify_env() -> dict[str, str]:
    """Settings a test adds to notify's environment (none: production leases and limits)."""
    return {}


@pytest.fixture
async def stack(database_url, notify_env) -> AsyncIterator[Stack]:
    receiver = start_receiver(new_secret(), tolerance=300)
    notify_port, sender_port = free_port(), free_port()
    env = {
        **QUIET,
        "NOTIFY_DATABASE_URL": await database_url("notify_e2e"),
        "NOTIFY_PORT": str(notify_port),
        "NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
        **notify_env,
    }
    notify = ManagedProcess("notify", [sys.executable, "-m", "services.notify"], env=env, cwd=ROOT).start()
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
    http = httpx.AsyncClient(timeout=60)
    s = Stack(receiver, notify, notify_url, env, sender, f"http://127.0.0.1:{sender_port}", http)
    try:
        await receiver.proc.wait_http(f"{receiver.base}/_received", timeout=STARTUP)
        await notify.wait_http(f"{notify_url}/readyz", timeout=STARTUP)
        await sender.wait_http(f"{s.sender_url}/readyz", timeout=STARTUP)
        async with httpx.AsyncClient() as c:
            r = await c.post(
                f"{notify_url}/webhooks/subscriptions",
                json={
                    "name": "OA",
                    "url": receiver.hook_url,
                    "event_types": ["rectification.*"],
                    "secret": receiver.secret,
                },
                headers=_admin(),
            )
            assert r.status_code == 201, r.text
        yield s
    finally:
        for p in (s.sender, s.notify, receiver.proc):
            p.stop()
        await http.aclose()


async def _burst(stack: Stack, prefix: str, count: int) -> set[str]:
    r = await stack.http.post(
        f"{stack.sender_url}/burst", json={"count": count, "prefix": prefix}, headers=_admin()
    )
    assert r.status_code == 200, r.text
    return set(r.json()["ids"])


async def _unique_at_least(stack: Stack, n: int, what: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        seen = await stack.count()
        return seen if seen["unique"] >= n else None

    return await _eventually(check, 120, what)  # type: ignore[no-any-return]


async def _all_delivered(stack: Stack, expected: set[str], within: float = 180) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        if (await stack.count())["unique"] < len(expected):
            return None
        seen = await stack.received()
        return seen if set(seen["ids"]) >= expected else None

    seen = await _eventually(check, within, f"{len(expected)} webhooks")
    outbox = (await stack.http.get(f"{stack.sender_url}/_outbox", headers=_admin())).json()
    assert outbox == {"sent": len(expected)}
    return seen  # type: ignore[no-any-return]


async def _webhook_stats(stack: Stack) -> dict[str, int]:
    stats = (await stack.http.get(f"{stack.notify_url}/deliveries/stats", headers=_admin())).json()["items"]
    return next(s for s in stats if s["channel"] == "webhook")["by_status"]  # type: ignore[no-any-return]


class TestNotifyKilledTwiceMidDelivery:
    async def test_nothing_lost_few_duplicates_and_everything_delivered_soon_after_the_restart(self, stack):
        # A receiver taking 10 ms a request: the burst takes several seconds, so the kills land
        # while webhooks are in flight.
        await stack.receiver.set_slow(0.01)
        expected = await _burst(stack, "kill", KILLED_BURST)
        in_flight_at_kills = []
        for fraction in (0.3, 0.9):
            await _unique_at_least(stack, int(KILLED_BURST * fraction), f"{fraction:.0%} of the webhooks")
            in_flight_at_kills.append((await stack.count())["in_flight"])
            stack.notify.kill()  # SIGKILL: no shutdown, leases and half-done passes left behind
            assert not stack.notify.alive()
            spawned_at = time.monotonic()
            stack.restart_notify()
            await stack.notify.wait_http(f"{stack.notify_url}/readyz", timeout=STARTUP)
            # "Restarted" is when notify answers again: how long Python takes to start on a busy
            # machine is not what the leases promise (and the leases run from the kill anyway).
            restarted_at = time.monotonic()
        await _all_delivered(stack, expected)
        delivered_after = time.monotonic() - restarted_at

        # Rows a killed process had sent but not yet recorded come back when their lease ends and
        # go out once more: wait for notify's own books to settle before counting duplicates.
        async def settled() -> dict[str, int] | None:
            stats = await _webhook_stats(stack)
            return stats if stats == {"sent": len(expected)} else None

        await _eventually(settled, 120, "notify to record every webhook as sent")
        seen = await stack.received()
        duplicates = seen["requests"] - seen["unique"]
        print(
            f"\nnotify killed twice [{TEST_DB}]: sent {len(expected)}, received {seen['requests']} "
            f"({seen['unique']} unique), duplicates {duplicates} (limit {LIMIT} per subscription, "
            f"at most {2 * LIMIT} for two kills; receiver had {in_flight_at_kills} in flight just before the kills), "
            f"bad signatures {seen['bad_signatures']}, all delivered {delivered_after:.1f} s after the "
            f"last restart (promise: {DELIVERED_AFTER_RESTART:.0f} s; it took {restarted_at - spawned_at:.1f} s "
            f"to start), most in flight {seen['max_in_flight']}"
        )
        assert set(seen["ids"]) == expected  # nothing lost, nothing invented
        assert seen["bad_signatures"] == 0
        assert seen["max_in_flight"] <= LIMIT
        # At-least-once on the wire: only what was in flight at each kill may come twice (the
        # receiver, deduplicating by webhook-id, still processes every event once).
        assert duplicates <= 2 * LIMIT
        assert delivered_after <= DELIVERED_AFTER_RESTART


class TestSlowReceiver:
    @pytest.mark.parametrize("notify_env", [{"NOTIFY_WEBHOOK_TIMEOUT_SECONDS": "2"}])
    async def test_a_slow_receiver_gets_every_event_exactly_once(self, stack):
        # One request at a time, 50 ms each: flooded with more than ~40 requests, it would keep
        # some waiting past notify's 2 s timeout, and those would be sent again.
        burst = 100
        await stack.receiver.set_slow(0.05, workers=1)
        started = time.monotonic()
        expected = await _burst(stack, "slow", burst)
        seen = await _all_delivered(stack, expected)
        print(
            f"\nslow receiver [{TEST_DB}]: sent {burst}, received {seen['requests']} "
            f"({seen['unique']} unique) in {time.monotonic() - started:.1f} s, most in flight "
            f"{seen['max_in_flight']} (limit {LIMIT})"
        )
        assert set(seen["ids"]) == expected
        assert seen["requests"] == seen["unique"] == burst  # no fault: not a single duplicate
        assert seen["max_in_flight"] <= LIMIT
        assert await _webhook_stats(stack) == {"sent": burst}


class TestReceiverDownForAWhile:
    @pytest.mark.parametrize(
        "notify_env", [{"NOTIFY_WEBHOOK_RETRY_SCHEDULE": json.dumps([0.2, 0.5] + [1.0] * 60)}]
    )
    async def test_every_event_arrives_after_the_receiver_comes_back(self, stack):
        burst = 300
        await stack.receiver.set_status(503)
        expected = await _burst(stack, "down", burst)

        async def refused_again_and_again() -> bool:
            return (await stack.count())["refused"] >= 2 * burst

        await _eventually(refused_again_and_again, 120, "every webhook to be refused about twice")
        await stack.receiver.set_status(200)
        seen = await _all_delivered(stack, expected)
        assert set(seen["ids"]) == expected
        assert seen["requests"] == seen["unique"] == burst  # no crash here: not even a duplicate on the wire
        assert seen["bad_signatures"] == 0
