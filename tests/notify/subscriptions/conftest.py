from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.kit.clock import FrozenClock
from services.kit.testing import running_app
from services.notify.delivery import close_clients
from services.notify.main import build_app
from tests.notify.conftest import ADMIN, Harness, Receiver, notify_settings


@pytest.fixture
async def live(database_url, settings_overrides) -> AsyncIterator[Harness]:
    """Notify with its clock frozen at the wall time of the test's start.

    Signature timestamps are wall time (the receiver checks them against its own clock), and a
    rotated-out secret's expiry is compared with them; a clock months away from the wall would
    make every overlap look over (or endless). The clock is still the injectable one.
    """
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    app = build_app(notify_settings(await database_url("notify"), **settings_overrides), clock=clock)
    async with running_app(app) as client:
        yield Harness(app, client, clock)
        await close_clients(app)


async def subscribe(harness: Harness, receiver: Receiver | None = None, **kw: Any) -> dict[str, Any]:
    headers = kw.pop("headers", ADMIN)
    body = {
        "name": kw.pop("name", "鄞州区OA系统"),
        "url": receiver.hook_url if receiver else "http://127.0.0.1:9/hook",
        "event_types": ["*"],
        **({"secret": receiver.secret} if receiver else {}),
        **kw,
    }
    r = await harness.client.post("/webhooks/subscriptions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
