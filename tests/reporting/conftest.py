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


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def reporting(database_url: Any, settings_overrides: dict[str, Any]) -> AsyncIterator[Harness]:
    clock = FrozenClock(T0)
    app = build_app(reporting_settings(await database_url("reporting"), **settings_overrides), clock=clock)
    async with running_app(app) as client:
        yield Harness(app, client, clock)
