"""A fired timer reaches notify as the outbox envelope, keyed by its event id."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from services.kit import outbox
from services.kit.clock import FrozenClock
from services.kit.testing import running_app
from services.rectification.config import Settings
from services.rectification.main import build_app, relay_config
from services.rectification.scheduler import timer_event_id
from tests.rectification.conftest import START, YINZHOU, problem_body, tick


@pytest.fixture
async def wired(database_url) -> AsyncIterator[tuple[httpx.AsyncClient, list[httpx.Request]]]:
    received: list[httpx.Request] = []

    def notify(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(202, json={"accepted": True})

    settings = Settings(
        database_url=await database_url("rect_delivery"),
        environment="test",
        scheduler_enabled=False,
        outbox_enabled=False,
        notify_url="http://notify.test",
    )
    app = build_app(settings, clock=FrozenClock(START), http_transport=httpx.MockTransport(notify))
    async with running_app(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client, received


async def test_reminder_is_delivered_to_notify_with_its_event_id_as_idempotency_key(wired):
    client, received = wired
    app = client.app
    assert (
        await client.post("/problems", json=problem_body(severity="severe"), headers=YINZHOU)
    ).status_code == 201
    app.state.clock.set(datetime(2026, 1, 9, 1, 0, tzinfo=UTC))
    fired = await tick(client)
    assert fired.fired >= 1
    cfg = relay_config(app.state.settings)
    while await outbox.relay_once(app, cfg):
        pass
    bodies = [orjson.loads(r.content) for r in received]
    assert {b["type"] for b in bodies} == {
        "rectification.problem.created",
        "rectification.milestone.reminder",
    }
    reminder = next(b for b in bodies if b["type"] == "rectification.milestone.reminder")
    request = next(r for r in received if orjson.loads(r.content)["id"] == reminder["id"])
    assert str(request.url) == "http://notify.test/events"
    assert (
        request.headers["idempotency-key"] == reminder["id"] == timer_event_id(reminder["data"]["timer_id"])
    )
    assert reminder["source"] == "rectification"
    assert reminder["data"]["recipients"] == [{"kind": "person", "user_id": "u-zhang-wei"}]
    assert reminder["data"]["site"]["org_unit"] == "ningbo/yinzhou/dongwu/tiantong"


async def test_openapi_lists_every_route_with_its_roles(wired):
    client, _ = wired
    schema = (await client.get("/openapi.json")).json()
    ops = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
    assert ops["rectification_receive_finding"]["x-roles"] == ["system", "city_admin"]
    assert "x-roles" not in ops["rectification_get_calendar_feed"]
    assert "/follow-up-sites" in schema["paths"]
