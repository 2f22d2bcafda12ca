"""The demo data covers every state and light, and running it twice changes nothing."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import httpx

from services.kit.clock import FrozenClock
from services.kit.testing import running_app
from services.rectification import demo
from services.rectification.config import Settings
from services.rectification.main import build_app
from tests.rectification.conftest import CITY
from tests.rectification.findings.test_findings import FINDING, post


@contextlib.contextmanager
def http_requests() -> Iterator[list[str]]:
    """Every request any httpx client of this process sends while inside (method and path)."""
    seen: list[str] = []
    send = httpx.AsyncClient.send

    async def counting(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return await send(self, request, **kw)

    with mock.patch.object(httpx.AsyncClient, "send", counting):
        yield seen


async def test_demo_covers_every_state_and_light_and_is_idempotent(database_url):
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    settings = Settings(
        database_url=await database_url("rect_demo"),
        environment="test",
        scheduler_enabled=False,
        outbox_enabled=False,
    )
    app = build_app(settings, clock=FrozenClock(now))
    async with running_app(app) as client:
        assert (await post(client, FINDING)).status_code == 201
        with http_requests() as sent:
            first = await demo.run(settings, now=now)
            again = await demo.run(settings, now=now)
        # In-process through the service's own functions (finding problems assigned in one batch):
        # not one request to anybody.
        assert sent == []
        assert first == {"scenarios_created": len(demo.SCENARIOS), "findings_advanced": 1}
        assert again == {"scenarios_created": 0, "findings_advanced": 0}
        items = (await client.get("/problems", params={"limit": 500}, headers=CITY)).json()["items"]
    assert {p["status"] for p in items} == {"open", "in_progress", "submitted", "returned", "closed"}
    assert {p["light"] for p in items} >= {"green", "yellow", "red", "overdue"}
    closed = [p["closed_on_time"] for p in items if p["status"] == "closed"]
    assert sorted(closed) == [False, True]
    assert any(p["extension_count"] == 1 for p in items)
    assert {p["round_code"] for p in items} == {"2026Q1"}  # the round the findings came from
    finding = next(p for p in items if p["source_event_id"] == FINDING["id"])
    assert finding["responsible_person"]["user_id"] == "u-yinzhou-responsible"
