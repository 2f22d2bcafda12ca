from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kit.clock import FrozenClock
from services.kit.testing import ManagedProcess, SignedHeaders, free_port, running_app
from services.notify.config import Settings
from services.notify.delivery import close_clients, deliver_once
from services.notify.events import CATALOG
from services.notify.main import build_app
from services.notify.signing import new_secret

# Monday 2 March 2026, 10:00 in Ningbo (02:00 UTC): working hours, outside any quiet hours.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


Caller = SignedHeaders


ADMIN = Caller(roles=["city_admin"], scope="ningbo", sub="u-admin")
SYSTEM = Caller(roles=["system"], scope="", sub="service:rectification", kind="service")
ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """The receiver process (webhooks + SMS provider) and a view of what it saw."""

    def __init__(self, proc: ManagedProcess, port: int, secret: str) -> None:
        self.proc = proc
        self.port = port
        self.secret = secret
        self.base = f"http://127.0.0.1:{port}"
        self.hook_url = f"{self.base}/hook"
        self.sms_url = f"{self.base}/sms"

    async def received(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as c:
            return (await c.get(f"{self.base}/_received")).json()  # type: ignore[no-any-return]

    async def count(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as c:
            return (await c.get(f"{self.base}/_count")).json()  # type: ignore[no-any-return]

    async def set_status(self, status: int) -> None:
        async with httpx.AsyncClient() as c:
            await c.post(f"{self.base}/_mode", json={"status": status})

    async def set_slow(self, delay: float, *, workers: int = 0) -> None:
        """Take `delay` seconds per webhook, handling `workers` at a time (0: any number)."""
        async with httpx.AsyncClient() as c:
            await c.post(f"{self.base}/_mode", json={"delay": delay, "workers": workers})


def start_receiver(secret: str, *, tolerance: int = 300) -> Receiver:
    port = free_port()
    proc = ManagedProcess(
        "receiver",
        [
            sys.executable,
            "-m",
            "tests.notify.receiver",
            "--port",
            str(port),
            "--secret",
            secret,
            "--tolerance",
            str(tolerance),
        ],
        cwd=ROOT,
    ).start()
    return Receiver(proc, port, secret)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = start_receiver(new_secret())
    try:
        await r.proc.wait_http(f"{r.base}/_received")
        yield r
    finally:
        r.proc.stop()


def complete(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` filled up to a valid payload of its type (the schema's first example, nobody as recipient).

    Notify refuses an event whose data breaks its type's schema; a test names only the fields it is
    about. A field given as ``MISSING`` is left out; unknown types pass as given.
    """
    if event_type not in CATALOG:
        return data
    base = {**CATALOG[event_type].sample, "priority": "normal", "recipients": []}
    return {k: v for k, v in (base | data).items() if v is not MISSING}


MISSING: Any = object()
"""A field :func:`complete` leaves out of an event's data."""


class Harness:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    async def person(self, user_id: str, **kw: Any) -> dict[str, Any]:
        body = {
            "name": kw.pop("name", user_id),
            "org_unit": kw.pop("org_unit", "ningbo/yinzhou"),
            "roles": kw.pop("roles", []),
            "phone": kw.pop("phone", "13812345678"),
            "email": kw.pop("email", f"{user_id}@example.cn"),
            **kw,
        }
        r = await self.client.put(f"/people/{user_id}", json=body, headers=ADMIN)
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]

    async def prefs(self, user_id: str, **kw: Any) -> httpx.Response:
        return await self.client.patch(f"/people/{user_id}/preferences", json=kw, headers=ADMIN)

    async def event(
        self,
        event_id: str,
        event_type: str = "rectification.problem.assigned",
        *,
        key: str | None = None,
        **data: Any,
    ) -> httpx.Response:
        env = {
            "id": event_id,
            "type": event_type,
            "source": "rectification",
            "occurred_at": self.clock.now().isoformat(),
            "data": complete(event_type, data),
        }
        return await self.client.post(
            "/events", json=env, headers={**SYSTEM, "Idempotency-Key": key or event_id}
        )

    async def deliver(self, rounds: int = 20) -> int:
        total = 0
        for _ in range(rounds):
            n = await deliver_once(self.app)
            total += n
            if n == 0:
                break
        return total

    async def deliveries(self, notification_id: str) -> list[dict[str, Any]]:
        r = await self.client.get(f"/notifications/{notification_id}", headers=ADMIN)
        assert r.status_code == 200, r.text
        return r.json()["deliveries"]  # type: ignore[no-any-return]


def notify_settings(url: str, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": url,
        "environment": "test",
        "delivery_enabled": False,
        "outbox_enabled": False,
        "webhook_allow_private": True,
        "access_log": False,
        "log_json": False,
        "log_level": "WARNING",
    }
    return Settings(**(base | kw))


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def notify(database_url, settings_overrides) -> AsyncIterator[Harness]:
    clock = FrozenClock(T0)
    app = build_app(notify_settings(await database_url("notify"), **settings_overrides), clock=clock)
    async with running_app(app) as client:
        yield Harness(app, client, clock)
        await close_clients(app)


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


@pytest.fixture
async def city(notify: Harness) -> Harness:
    """Two districts' people, each with contact points."""
    await notify.person("u-yinzhou-admin", org_unit="ningbo/yinzhou", roles=["district_admin"])
    await notify.person("u-yinzhou-responsible", org_unit="ningbo/yinzhou/dongwu", roles=["responsible"])
    await notify.person("u-haishu-admin", org_unit="ningbo/haishu", roles=["district_admin"])
    await notify.person(
        "u-haishu-responsible",
        org_unit="ningbo/haishu",
        roles=["responsible"],
        email="hs@haishu.gov.cn",
        is_contact=True,
    )
    return notify
