"""The scheduler runs as a worker inside the service: a due reminder reaches the outbox by itself."""

import asyncio
import time
from datetime import UTC, datetime

import httpx

from services.kit.clock import FrozenClock
from services.kit.testing import running_app
from services.rectification.main import build_app
from tests.rectification.conftest import START, YINZHOU, FakeDirectories, app_settings, events, problem_body


async def test_worker_fires_due_timers_in_the_service(database_url):
    clock = FrozenClock(START)
    settings = app_settings(
        await database_url("rect_worker"), scheduler_enabled=True, scheduler_poll_seconds=0.05
    )
    app = build_app(settings, clock=clock, http_transport=httpx.MockTransport(FakeDirectories().handler))
    async with running_app(app) as client:
        client.app = app  # type: ignore[attr-defined]
        assert (
            await client.post("/problems", json=problem_body(severity="severe"), headers=YINZHOU)
        ).status_code == 201
        clock.set(datetime(2026, 1, 9, 1, 0, tzinfo=UTC))  # the 3-days-before reminder is due
        # Wait for the background worker to notice (bounded): the clock, not the wait, makes it due.
        deadline = time.monotonic() + 10
        reminders: list = []
        while time.monotonic() < deadline and not reminders:
            reminders = await events(client, "rectification.milestone.reminder")
            await asyncio.sleep(0.05)
        assert [
            (e["payload"]["milestone"], e["payload"]["days_before"])
            for e in reminders
            if e["payload"]["milestone"] == "completion"
        ] == [("completion", 3)]
