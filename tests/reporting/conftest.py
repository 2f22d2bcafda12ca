from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.kit.clock import FrozenClock
from services.kit.testing import SignedHeaders, running_app
from services.reporting.config import Settings
from services.reporting.main import build_app

# Monday 2 March 2026, 10:00 in Ningbo (02:00 UTC).
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

ADMIN = SignedHeaders(roles=["city_admin"], scope="ningbo", sub="u-admin")
LEADER = SignedHeaders(roles=["leader"], scope="ningbo", sub="u-leader")
SYSTEM = SignedHeaders(roles=["system"], scope="", sub="service:scoring", kind="service")
YINZHOU_ADMIN = SignedHeaders(roles=["district_admin"], scope="ningbo/yinzhou", sub="u-yz")
INSPECTOR = SignedHeaders(roles=["inspector"], scope="ningbo", sub="u-insp")


def reporting_settings(url: str, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": url,
        "environment": "test",
        "access_log": False,
        "log_json": False,
        "log_level": "WARNING",
    }
    return Settings(**(base | kw))


class Harness:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    async def send(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        """POST each event to /events; the answers (each must be 202)."""
        out = []
        for e in events:
            r = await self.client.post("/events", json=e, headers={**SYSTEM, "Idempotency-Key": e["id"]})
            assert r.status_code == 202, r.text
            out.append(r.json())
        return out

    async def batch(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST events to /events/batch in chunks of 500; every result must be 202."""
        results: list[dict[str, Any]] = []
        for i in range(0, len(events), 500):
            r = await self.client.post("/events/batch", json={"events": events[i : i + 500]}, headers=SYSTEM)
            assert r.status_code == 200, r.text
            results += r.json()["results"]
        assert all(x["status"] == 202 for x in results), [x for x in results if x["status"] != 202][:3]
        return results

    async def dashboard(self, code: str, headers: Any = ADMIN) -> dict[str, Any]:
        r = await self.client.get(f"/rounds/{code}/dashboard", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def reporting(database_url: Any, settings_overrides: dict[str, Any]) -> AsyncIterator[Harness]:
    clock = FrozenClock(T0)
    app = build_app(reporting_settings(await database_url("reporting"), **settings_overrides), clock=clock)
    async with running_app(app) as client:
        yield Harness(app, client, clock)
