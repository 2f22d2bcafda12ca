"""The rectification demo touches only demo objects, and the same ones however often it runs."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from services.kit.clock import FrozenClock
from services.kit.testing import running_app
from services.rectification import demo
from services.rectification.config import Settings
from services.rectification.main import build_app
from tests.rectification.conftest import CITY
from tests.rectification.findings.test_findings import FINDING, post


def finding(round_code: str) -> dict[str, Any]:
    body = copy.deepcopy(FINDING)
    body["id"] = str(uuid.uuid4())
    body["data"]["round_code"] = round_code
    body["data"]["finding_id"] = body["id"]  # one problem per finding: each its own
    return body


async def test_only_the_demo_rounds_first_findings_are_advanced_and_only_once(database_url):
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    settings = Settings(
        database_url=await database_url("rect_demo_once"),
        environment="test",
        scheduler_enabled=False,
        outbox_enabled=False,
    )
    app = build_app(settings, clock=FrozenClock(now))
    async with running_app(app) as client:
        real = finding("2025Q4")  # a real round's finding, arrived before the demo ran
        assert (await post(client, real)).status_code == 201
        for _ in range(demo.FINDINGS_TO_ADVANCE + 2):
            assert (await post(client, finding(demo.DEMO_ROUND))).status_code == 201
        batch = mock.AsyncMock(wraps=demo.service.assign_batch)
        one_by_one = mock.AsyncMock(side_effect=AssertionError("assigned one problem at a time"))
        with (
            mock.patch.object(demo.service, "assign_batch", batch),
            mock.patch.object(demo.service, "assign", one_by_one),
        ):
            first = await demo.run(settings, now=now)
        assert first["findings_advanced"] == demo.FINDINGS_TO_ADVANCE
        # The six of one district's unit: one batch.
        assert batch.await_count == 1 and len(batch.await_args.kwargs["batch"].items) == 6
        # More findings arrive; the demo runs again (as `make run` used to on every start).
        for _ in range(3):
            assert (await post(client, finding(demo.DEMO_ROUND))).status_code == 201
        again = await demo.run(settings, now=now)
        assert again == {"scenarios_created": 0, "findings_advanced": 0}
        items = (await client.get("/problems", params={"limit": 500}, headers=CITY)).json()["items"]
    by_source = {p["source_event_id"]: p for p in items}
    assert by_source[real["id"]]["responsible_person"] is None, "a real round's problem was touched"
    assigned = [p for p in items if not p["source_event_id"].startswith("demo:") and p["responsible_person"]]
    assert len(assigned) == demo.FINDINGS_TO_ADVANCE
