"""services.kit.http: the peer client signs as the service, passes the request id, honours on-behalf-of."""

from __future__ import annotations

import httpx

from services.kit.auth import PRINCIPAL_HEADER, Principal, verify_principal
from services.kit.context import request_id_var
from services.kit.http import make_service_client, on_behalf_of

SECRET = "k" * 40


def recording() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    return seen, httpx.MockTransport(handler)


async def test_calls_carry_the_services_own_principal_and_the_request_id() -> None:
    seen, transport = recording()
    token = request_id_var.set("rid-123")
    try:
        async with make_service_client(service="demo", secret=SECRET, transport=transport) as client:
            await client.get("http://peer/x")
            await client.get("http://peer/y")
    finally:
        request_id_var.reset(token)
    first = verify_principal(seen[0].headers[PRINCIPAL_HEADER], secret=SECRET)
    assert first.is_service and first.sub == "service:demo"
    assert seen[0].headers["x-request-id"] == "rid-123"
    # The token is reused while it is fresh (one signature per period, not per call).
    assert seen[0].headers[PRINCIPAL_HEADER] == seen[1].headers[PRINCIPAL_HEADER]


async def test_on_behalf_of_replaces_the_service_principal() -> None:
    seen, transport = recording()
    user = Principal(sub="u-li", roles=("inspector",), scope="ningbo/yinzhou")
    async with make_service_client(service="demo", secret=SECRET, transport=transport) as client:
        await client.get("http://peer/x", headers=on_behalf_of(user, secret=SECRET))
    assert verify_principal(seen[0].headers[PRINCIPAL_HEADER], secret=SECRET) == user
    assert "x-request-id" not in seen[0].headers


def test_timeouts_are_explicit() -> None:
    client = make_service_client(service="demo", secret=SECRET, timeout=7.0)
    assert client.timeout.read == 7.0 and client.timeout.connect == 3.0
