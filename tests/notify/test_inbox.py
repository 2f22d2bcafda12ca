"""The in-app inbox: listing, read state, unread count and the live Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from services.kit.testing import free_port
from tests.notify.conftest import Caller

ME = Caller(roles=["responsible"], scope="ningbo/yinzhou", sub="u-a")
OTHER = Caller(roles=["responsible"], scope="ningbo/yinzhou", sub="u-b")


async def _send(
    notify, event_id: str, event_type: str = "rectification.problem.assigned", **data: Any
) -> None:
    r = await notify.event(event_id, event_type, recipients=[{"kind": "person", "user_id": "u-a"}], **data)
    assert r.status_code == 202, r.text
    await notify.deliver()


@pytest.fixture
async def me(notify):
    await notify.person("u-a", email=None, phone=None)
    await notify.person("u-b", email=None, phone=None)
    return notify


class TestListInbox:
    async def test_unread_first_then_newest_and_filter_by_type(self, me):
        await _send(me, "i1", title="一")
        await _send(me, "i2", "rectification.problem.closed", title="二")
        await _send(me, "i3", title="三")
        items = (await me.client.get("/inbox", headers=ME)).json()["items"]
        assert [m["notification_id"] for m in items] == ["i3", "i2", "i1"]
        await me.client.post(f"/inbox/{items[0]['id']}/read", headers=ME)
        items = (await me.client.get("/inbox", headers=ME)).json()["items"]
        assert [m["notification_id"] for m in items] == ["i2", "i1", "i3"]
        assert items[2]["read_at"] is not None
        closed = (await me.client.get("/inbox?type=rectification.problem.closed", headers=ME)).json()
        assert closed["total"] == 1 and closed["items"][0]["notification_id"] == "i2"

    async def test_unread_count_and_mark_all_read(self, me):
        for i in range(3):
            await _send(me, f"c{i}")
        assert (await me.client.get("/inbox/unread-count", headers=ME)).json() == {"unread": 3}
        assert (await me.client.post("/inbox/read-all", headers=ME)).json() == {"updated": 3}
        assert (await me.client.get("/inbox/unread-count", headers=ME)).json() == {"unread": 0}

    async def test_nobody_reads_or_marks_someone_elses_messages(self, me):
        await _send(me, "p1")
        assert (await me.client.get("/inbox", headers=OTHER)).json()["total"] == 0
        [mine] = (await me.client.get("/inbox", headers=ME)).json()["items"]
        r = await me.client.post(f"/inbox/{mine['id']}/read", headers=OTHER)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/inbox-message-not-found"

    async def test_each_message_lands_in_the_inbox_once_even_if_delivered_twice(self, me):
        from services.notify import repository
        from services.notify.channels import Outcome
        from services.notify.delivery import record_outcomes

        await me.event("dup", recipients=[{"kind": "person", "user_id": "u-a"}])
        async with me.app.state.sessionmaker() as s, s.begin():
            from datetime import timedelta

            rows = await repository.claim_deliveries(
                s, now=me.clock.now(), limit=10, lease=timedelta(seconds=60)
            )
        async with me.app.state.sessionmaker() as s, s.begin():
            await record_outcomes(s, me.app.state.settings, rows, [Outcome(True)], now=me.clock.now())
        async with me.app.state.sessionmaker() as s, s.begin():  # a stale worker reports the same row again
            await record_outcomes(s, me.app.state.settings, rows, [Outcome(True)], now=me.clock.now())
        assert (await me.client.get("/inbox", headers=ME)).json()["total"] == 1


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an already started app over real HTTP (SSE needs a streaming server)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_config=None, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def _read_events(resp: httpx.Response, n: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async for line in resp.aiter_lines():
        if line == "":
            if "data" in current:
                events.append(current)
                if len(events) == n:
                    return events
            current = {}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            current[field] = value.lstrip(" ")
    return events


class TestStreamInbox:
    async def test_live_stream_and_reconnect_with_last_event_id_misses_nothing(self, me):
        me.app.state.settings.stream_poll_seconds = 0.1
        await _send(me, "before")  # already there when the stream opens: not replayed without Last-Event-ID
        async with serving(me.app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
            async with client.stream("GET", "/inbox/stream", headers=ME) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                await _send(me, "live", title="实时")
                [ev] = await asyncio.wait_for(_read_events(resp, 1), 5)
            assert ev["event"] == "message"
            first = json.loads(ev["data"])
            assert first["notification_id"] == "live" and first["title"] == "整改任务：实时"
            # Disconnected: two messages arrive meanwhile.
            await _send(me, "missed-1")
            await _send(me, "missed-2")
            async with client.stream(
                "GET", "/inbox/stream", headers={**ME, "Last-Event-ID": ev["id"]}
            ) as resp:
                evs = await asyncio.wait_for(_read_events(resp, 2), 5)
            assert [json.loads(e["data"])["notification_id"] for e in evs] == ["missed-1", "missed-2"]
            assert [int(e["id"]) for e in evs] == sorted(int(e["id"]) for e in evs)

    async def test_stream_needs_the_gateway_principal(self, me):
        r = await me.client.get("/inbox/stream")
        assert r.status_code == 401
