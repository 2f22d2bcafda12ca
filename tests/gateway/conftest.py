from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.main import build_app
from services.kit.clock import FrozenClock
from services.kit.testing import running_app


class Gateway:
    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client = client
        self.app = app

    def auth(
        self, *, roles: list[str] | None = None, scope: str = "ningbo", sub: str = "u-test", ttl: int = 3600
    ) -> dict[str, str]:
        issuer = self.app.state.authenticator.dev_issuer
        return {
            "Authorization": f"Bearer {issuer.mint(sub=sub, roles=roles or ['city_admin'], scope=scope, ttl_seconds=ttl)}"
        }


GatewayFactory = Callable[..., Any]


@pytest.fixture
async def make_gateway(tmp_path: Path, database_url) -> AsyncIterator[GatewayFactory]:
    """Start an in-process gateway with settings overrides; upstreams default to closed ports."""
    from contextlib import AsyncExitStack

    stack = AsyncExitStack()

    async def make(**overrides: Any) -> Gateway:
        settings = Settings(
            database_url=await database_url("gateway"),
            environment="test",
            dev_issuer_key_path=tmp_path / "issuer.pem",
            **{
                "sampling_url": "http://127.0.0.1:9",
                "scoring_url": "http://127.0.0.1:9",
                "rectification_url": "http://127.0.0.1:9",
                "notify_url": "http://127.0.0.1:9",
                **overrides,
            },
        )
        app = build_app(settings, clock=FrozenClock())
        client = await stack.enter_async_context(running_app(app))
        return Gateway(client, app)

    yield make
    await stack.aclose()
