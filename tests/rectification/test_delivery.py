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
from services.rectification.deadlines.service import timer_event_id
from services.rectification.main import build_app, relay_config
from tests.rectification.conftest import START, YINZHOU, FakeDirectories, problem_body, tick


@pytest.fixture
async def wired(database_url) -> AsyncIterator[tuple[httpx.AsyncClient, list[httpx.Request]]]:
    received: list[httpx.Request] = []
    directories = FakeDirectories()

    def notify(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # directory lookups (people, sites)
            return directories.handler(request)
        received.append(request)
        if request.url.path == "/events/batch":
            events = orjson.loads(request.content)["events"]
            return httpx.Response(
                200,
                json={
                    "results": [{"id": e["id"], "status": 202, "body": {"accepted": True}} for e in events]
                },
            )
        return httpx.Response(202, json={"accepted": True})

    settings = Settings(
        database_url=await database_url("rect_delivery"),
        environment="test",
        scheduler_enabled=False,
        outbox_enabled=False,
        notify_url="http://notify.test",
        sampling_url="http://sampling.test",
        reporting_url="http://reporting.test",
    )
    app = build_app(settings, clock=FrozenClock(START), http_transport=httpx.MockTransport(notify))
    async with running_app(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client, received


async def test_reminder_is_delivered_to_notify_keyed_by_its_event_id(wired):
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
    # Events to notify and to reporting go through their batch intakes: each envelope keeps its own id,
    # the idempotency key.
    assert {str(r.url) for r in received} == {
        "http://notify.test/events/batch",
        "http://reporting.test/events/batch",
    }
    to_reporting = [
        e for r in received if r.url.host == "reporting.test" for e in orjson.loads(r.content)["events"]
    ]
    assert [(e["type"], e["version"], e["data"]["revision"]) for e in to_reporting] == [
        ("rectification.problem.changed", 1, 1)
    ]
    bodies = [e for r in received if r.url.host == "notify.test" for e in orjson.loads(r.content)["events"]]
    assert {b["type"] for b in bodies} == {
        "rectification.problem.created",
        "rectification.milestone.reminder",
    }
    reminder = next(b for b in bodies if b["type"] == "rectification.milestone.reminder")
    assert reminder["id"] == timer_event_id(reminder["data"]["timer_id"])
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert reminder["source"] == "rectification"
    assert reminder["data"]["recipients"] == [{"kind": "person", "user_id": "u-zhang-wei"}]
    assert reminder["data"]["site"]["org_unit"] == "ningbo/yinzhou/dongwu/tiantong"


async def test_openapi_lists_every_route_with_its_roles(wired):
    client, _ = wired
    schema = (await client.get("/openapi.json")).json()
    ops = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
    # Internal intake: only the services' own principal; the gateway does not route it.
    assert ops["rectification_receive_finding"]["x-internal"] is True
    assert ops["rectification_list_follow_up_sites"]["x-internal"] is True
    assert "x-roles" not in ops["rectification_get_calendar_feed"]
    assert "/follow-up-sites" in schema["paths"]
