"""Links a service hands out start at the gateway's public URL: the gateway tells the service where
clients reach it (GATEWAY_PUBLIC_URL) and under which prefix, and a client cannot say otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "fake", "version": "1"},
    "paths": {
        "/calendar-token": {"post": {"operationId": "token", "responses": {"200": {"description": "ok"}}}},
    },
}


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    """A fake rectification on a real port that answers with the forwarding headers it received."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path == "/openapi.json":
            return web.json_response(DOC)
        return web.json_response(
            {
                name: request.headers.getall(name, [])
                for name in ("x-gateway-public-url", "x-forwarded-prefix")
            }
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


class TestForwardedPublicUrl:
    async def test_the_service_is_told_the_gateways_public_url_and_prefix(self, make_gateway, echo):
        gw = await make_gateway(rectification_url=echo, public_url="https://dangjian.example.gov.cn:9443/")
        r = await gw.client.post("/api/v1/rectification/calendar-token", headers=gw.auth())
        assert r.status_code == 200
        assert r.json() == {
            "x-gateway-public-url": ["https://dangjian.example.gov.cn:9443"],
            "x-forwarded-prefix": ["/api/v1/rectification"],
        }

    async def test_a_client_cannot_supply_its_own(self, make_gateway, echo):
        gw = await make_gateway(rectification_url=echo, public_url="http://127.0.0.1:9100")
        forged = {"x-gateway-public-url": "https://evil.example", "x-forwarded-prefix": "/phish"}
        r = await gw.client.post("/api/v1/rectification/calendar-token", headers={**gw.auth(), **forged})
        assert r.json() == {
            "x-gateway-public-url": ["http://127.0.0.1:9100"],
            "x-forwarded-prefix": ["/api/v1/rectification"],
        }
