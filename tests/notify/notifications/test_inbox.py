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

    async def test_an_unknown_event_type_filter_is_refused(self, me):
        r = await me.client.get("/inbox?type=rectification.problem.lost", headers=ME)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "type"]

    async def test_messages_come_in_the_list_envelope_with_utc_times(self, me):
        await _send(me, "z1")
        page = (await me.client.get("/inbox?limit=1", headers=ME)).json()
        assert (page["total"], page["limit"], page["offset"]) == (1, 1, 0)
        assert page["items"][0]["created_at"].endswith("Z")

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
        from services.notify.channels import Outcome
        from services.notify.deliveries import repository
        from services.notify.delivery import record_outcomes

        await me.event("dup", recipients=[{"kind": "person", "user_id": "u-a"}])
        async with me.app.state.sessionmaker() as s, s.begin():
            from datetime import timedelta

            rows = await repository.claim_messages(
                s, now=me.clock.now(), limit=10, lease=timedelta(seconds=60), worker="test"
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


class RawStream:
    """One GET /inbox/stream driven straight through the ASGI app: opened, then closed by the client."""

    def __init__(self, app: Any, headers: Any) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in dict(headers).items()]
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.started = asyncio.Event()
        self.status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.body = b""
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> RawStream:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/inbox/stream",
            "raw_path": b"/inbox/stream",
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }
        await self.incoming.put({"type": "http.request", "body": b"", "more_body": False})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.response_headers = {k.decode(): v.decode() for k, v in message["headers"]}
                self.started.set()
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")

        self.task = asyncio.create_task(self.app(scope, self.incoming.get, send))
        await asyncio.wait_for(self.started.wait(), 10)
        return self

    async def close(self) -> None:
        """The client goes away; returns once the server has finished with the stream."""
        assert self.task is not None
        await self.incoming.put({"type": "http.disconnect"})
        await asyncio.wait_for(self.task, 10)


class TestStreamLimit:
    async def test_one_stream_over_the_cap_is_429_and_a_closed_stream_frees_its_slot(self, me):
        me.app.state.settings.stream_max_per_principal = 3
        streams = [await RawStream(me.app, ME).open() for _ in range(3)]
        try:
            assert [s.status for s in streams] == [200, 200, 200]
            refused = await RawStream(me.app, ME).open()
            await asyncio.wait_for(refused.task, 10)  # type: ignore[arg-type]
            assert refused.status == 429
            assert refused.response_headers["content-type"] == "application/problem+json"
            assert refused.response_headers["retry-after"] == "5"
            problem = json.loads(refused.body)
            assert problem["type"] == "/problems/too-many-streams" and problem["limit"] == 3
            # Someone else is not affected by u-a's streams.
            other = await RawStream(me.app, OTHER).open()
            assert other.status == 200
            await other.close()
            # Closing one of u-a's streams gives its slot back at once.
            await streams.pop().close()
            again = await RawStream(me.app, ME).open()
            assert again.status == 200
            streams.append(again)
        finally:
            for s in streams:
                await s.close()
        assert me.app.state.stream_slots.open_count("user:u-a") == 0
