"""Issue 9 at the gateway: only published operations are forwarded, no internal address leaks,
credentials where they belong, bad tokens and key requests refused, failed logins rate-limited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import orjson
import pytest
from aiohttp import web

from gateway.routes import BadPath, api_path

PROBLEM = "application/problem+json"

# A service's OpenAPI document as the gateway reads it: roles, a public route, an event stream and
# an internal intake route.
DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "fake", "version": "1"},
    "paths": {
        "/items": {
            "get": {"operationId": "list_items", "responses": {"200": {"description": "ok"}}},
            "post": {
                "operationId": "create_item",
                "x-roles": ["city_admin"],
                "responses": {"201": {"description": "ok"}},
            },
        },
        "/items/{item_id}": {"get": {"operationId": "get_item", "responses": {"200": {"description": "ok"}}}},
        "/admin/secret": {
            "get": {
                "operationId": "secret",
                "x-roles": ["city_admin"],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/calendar/{token}.ics": {
            "get": {"operationId": "feed", "x-public": True, "responses": {"200": {"description": "ok"}}}
        },
        "/inbox/stream": {
            "get": {
                "operationId": "stream",
                "responses": {"200": {"description": "SSE", "content": {"text/event-stream": {}}}},
            }
        },
        "/findings": {
            "post": {
                "operationId": "intake",
                "x-roles": ["system"],
                "x-internal": True,
                "responses": {"201": {"description": "ok"}},
            },
            "get": {"operationId": "list_findings", "responses": {"200": {"description": "ok"}}},
        },
        "/events": {
            "post": {
                "operationId": "events",
                "x-roles": ["system"],
                "x-internal": True,
                "responses": {"202": {"description": "ok"}},
            }
        },
        "/redirect": {"get": {"operationId": "redirect", "responses": {"307": {"description": "moved"}}}},
    },
}


@dataclass
class Upstream:
    """A fake service on a real port: publishes DOC, records what reaches it."""

    url: str = ""
    seen: list[tuple[str, str]] = field(default_factory=list)
    body_sizes: list[int] = field(default_factory=list)

    def forwarded(self) -> list[tuple[str, str]]:
        return [s for s in self.seen if s[1] != "/openapi.json"]


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()

    async def handle(request: web.Request) -> web.StreamResponse:
        up.seen.append((request.method, request.raw_path))
        path = request.path
        if path == "/openapi.json":
            return web.json_response(DOC)
        if path == "/redirect":
            raise web.HTTPTemporaryRedirect(f"{up.url}/items/")
        if path.startswith("/calendar/"):
            return web.json_response({"detail": "unknown feed"}, status=404)
        if request.method == "POST":
            up.body_sizes.append(len(await request.read()))
        return web.json_response({"path": path, "query": request.query_string}, status=200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    up.url = f"http://127.0.0.1:{port}"
    yield up
    await runner.cleanup()


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body  # type: ignore[no-any-return]


def raw_token(gw: Any, **claims: Any) -> str:
    """A token signed by the gateway's own issuer with exactly these claims (shapes included)."""
    issuer = gw.app.state.authenticator.dev_issuer
    now = int(time.time())  # PyJWT checks exp against the wall clock
    base = {"iss": issuer.issuer, "aud": issuer.audience, "sub": "u-x", "iat": now, "exp": now + 3600}
    base.update(claims)
    return jwt.encode(base, issuer._key, algorithm="RS256", headers={"kid": issuer.kid})


class TestOnlyPublishedOperationsAreForwarded:
    @pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"])
    @pytest.mark.parametrize("roles", [None, ["city_admin"], ["inspector"], ["system"]])
    async def test_a_services_own_pages_are_404_and_never_forwarded(
        self, make_gateway, upstream, path, roles
    ):
        gw = await make_gateway(sampling_url=upstream.url)
        headers = gw.auth(roles=roles) if roles else {}
        r = await gw.client.get(f"/api/v1/sampling{path}", headers=headers)
        assert_problem(r, 404)
        assert upstream.forwarded() == []

    async def test_a_published_operation_is_forwarded(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        r = await gw.client.get("/api/v1/sampling/items/7?x=1", headers=gw.auth(roles=["inspector"]))
        assert r.status_code == 200 and r.json() == {"path": "/items/7", "query": "x=1"}
        assert upstream.forwarded() == [("GET", "/items/7?x=1")]

    async def test_another_method_is_405_with_allow(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        r = await gw.client.delete("/api/v1/sampling/items", headers=gw.auth())
        body = assert_problem(r, 405)
        assert body["type"] == "/problems/method-not-allowed"
        assert r.headers["allow"] == "GET, POST"
        assert upstream.forwarded() == []

    async def test_internal_operations_do_not_exist(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        admin = gw.auth(roles=["city_admin", "system"])
        assert_problem(await gw.client.post("/api/v1/sampling/events", json={}, headers=admin), 404)
        # The path has a published GET; its internal POST is not offered either.
        r = await gw.client.post("/api/v1/sampling/findings", json={}, headers=admin)
        assert_problem(r, 405)
        assert r.headers["allow"] == "GET"
        assert upstream.forwarded() == []

    async def test_merged_openapi_omits_internal_operations(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        doc = (await gw.client.get("/openapi.json")).json()
        assert "/api/v1/sampling/events" not in doc["paths"]
        assert set(doc["paths"]["/api/v1/sampling/findings"]) == {"get"}
        assert "/api/v1/sampling/items" in doc["paths"]

    async def test_unloadable_route_table_is_503(self, make_gateway):
        gw = await make_gateway()  # every upstream on a closed port
        r = await gw.client.get("/api/v1/sampling/items", headers=gw.auth())
        body = assert_problem(r, 503)
        assert "sampling" in body["detail"] and "127.0.0.1" not in r.text and ":9" not in body["detail"]


class TestNoInternalAddressLeaks:
    async def test_trailing_slash_is_404_not_a_redirect_to_the_upstream(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        r = await gw.client.get("/api/v1/sampling/items/", headers=gw.auth())
        assert_problem(r, 404)
        assert "127.0.0.1" not in r.text and "location" not in r.headers
        assert upstream.forwarded() == []

    async def test_upstream_redirect_location_is_rewritten_to_the_public_path(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        r = await gw.client.get("/api/v1/sampling/redirect", headers=gw.auth())
        assert r.status_code == 307
        assert r.headers["location"] == "/api/v1/sampling/items/"
        assert "127.0.0.1" not in str(r.headers) and upstream.url not in r.text

    def test_a_services_own_path_in_location_gets_the_area_prefix(self):
        from gateway.proxy import Forwarder

        fwd = Forwarder(
            timeout=1,
            connect_timeout=1,
            retries=0,
            max_body_bytes=1,
            max_connections=1,
            upstreams={"scoring": "http://127.0.0.1:8002", "notify": "http://10.0.0.5:8004"},
        )
        assert fwd.public_location("/sheets/5", "scoring") == "/api/v1/scoring/sheets/5"
        assert fwd.public_location("http://10.0.0.5:8004/x?y=1", "scoring") == "/api/v1/notify/x?y=1"
        assert fwd.public_location("https://sso.example/cb", "scoring") == "https://sso.example/cb"

    async def test_a_broken_upstream_answer_is_502_without_its_address(self, make_gateway):
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"/openapi.json" in head:
                body = orjson.dumps(DOC)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            else:
                writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            gw = await make_gateway(sampling_url=f"http://127.0.0.1:{port}")
            r = await gw.client.post("/api/v1/sampling/items", json={}, headers=gw.auth())
        body = assert_problem(r, 502)
        assert "sampling" in body["detail"]
        assert "127.0.0.1" not in r.text and str(port) not in r.text


class TestOversizedChunkedBody:
    @pytest.mark.parametrize("proxy_client", ["aiohttp", "httpx"])
    async def test_413_without_internal_detail(self, make_gateway, upstream, proxy_client):
        gw = await make_gateway(sampling_url=upstream.url, max_body_bytes=300_000, proxy_client=proxy_client)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"x" * 65_536

        r = await gw.client.post(
            "/api/v1/sampling/items",
            content=chunks(),
            headers={**gw.auth(), "content-type": "application/json"},
        )
        body = assert_problem(r, 413)
        assert body["type"] == "/problems/payload-too-large"
        assert "127.0.0.1" not in r.text and upstream.url not in r.text
        assert all(size <= 300_000 for size in upstream.body_sizes)


class TestQueryToken:
    async def test_query_token_works_on_a_declared_event_stream(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        token = gw.auth(roles=["responsible"])["Authorization"].split()[1]
        r = await gw.client.get(f"/api/v1/sampling/inbox/stream?access_token={token}&since=3")
        assert r.status_code == 200
        assert r.json()["query"] == "since=3"  # the token is not forwarded

    async def test_query_token_is_refused_on_other_routes_whatever_accept_says(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        token = gw.auth(roles=["city_admin"])["Authorization"].split()[1]
        r = await gw.client.get(
            f"/api/v1/sampling/admin/secret?access_token={token}", headers={"Accept": "text/event-stream"}
        )
        assert_problem(r, 401)
        r = await gw.client.get(
            f"/api/v1/auth/whoami?access_token={token}", headers={"Accept": "text/event-stream"}
        )
        assert_problem(r, 401)
        assert upstream.forwarded() == []


class TestEncodedPaths:
    @pytest.mark.parametrize(
        "tail",
        [
            "/items/..%2Fadmin%2Fsecret",
            "/items/..%2fadmin%2fsecret",
            "/items/x%5C..%5Cadmin",
            "/items/%2e%2e/admin/secret",
            "/items/%2E%2E/admin/secret",
            "/items/%252e%252e",
            "/items/a%00b",
            "/items//secret",
            "/items/%zz",
        ],
    )
    async def test_structure_changing_escapes_are_refused_before_the_role_check(
        self, make_gateway, upstream, tail
    ):
        gw = await make_gateway(sampling_url=upstream.url)
        r = await gw.client.get(f"/api/v1/sampling{tail}", headers=gw.auth(roles=["inspector"]))
        assert_problem(r, 400)
        assert upstream.forwarded() == []

    async def test_ordinary_escapes_are_forwarded_as_checked(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url)
        r = await gw.client.get("/api/v1/sampling/items/%E5%AE%81%20x", headers=gw.auth(roles=["inspector"]))
        assert r.status_code == 200 and r.json()["path"] == "/items/宁 x"
        assert upstream.forwarded() == [("GET", "/items/%E5%AE%81%20x")]

    @pytest.mark.parametrize("raw", ["/api/v1/sampling/items/../admin/secret", "/api/v1/sampling/./admin"])
    def test_dot_segments_are_refused(self, raw):
        with pytest.raises(BadPath):
            api_path(raw, "sampling")

    def test_the_matched_path_is_the_forwarded_path_decoded(self):
        assert api_path("/api/v1/sampling/sites/%41b?x=%2F", "sampling") == ("/sites/%41b", "/sites/Ab")


class TestMetrics:
    async def test_metrics_need_credentials(self, make_gateway):
        gw = await make_gateway(metrics_token="p" * 32)
        assert_problem(await gw.client.get("/metrics"), 401)
        assert_problem(await gw.client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
        assert_problem(await gw.client.get("/metrics", headers=gw.auth(roles=["inspector"])), 403)
        district = gw.auth(roles=["city_admin"], scope="ningbo/yinzhou")
        assert_problem(await gw.client.get("/metrics", headers=district), 403)

    async def test_prometheus_token_and_city_admin_read_them(self, make_gateway):
        gw = await make_gateway(metrics_token="p" * 32)
        r = await gw.client.get("/metrics", headers={"Authorization": "Bearer " + "p" * 32})
        assert r.status_code == 200 and "http_request" in r.text
        assert (await gw.client.get("/metrics", headers=gw.auth(roles=["city_admin"]))).status_code == 200

    async def test_without_a_configured_token_only_the_city_admin(self, make_gateway):
        gw = await make_gateway()
        assert_problem(await gw.client.get("/metrics", headers={"Authorization": "Bearer "}), 401)
        assert (await gw.client.get("/metrics", headers=gw.auth())).status_code == 200


class TestTokenClaims:
    @pytest.mark.parametrize(
        "claims",
        [
            {"roles": 5, "org_unit": "ningbo"},
            {"roles": ["city_admin", 5], "org_unit": "ningbo"},
            {"roles": {"a": 1}, "org_unit": "ningbo"},
            {"roles": ["city_admin"], "org_unit": "ningbo", "name": {"first": "x"}},
            {"roles": ["city_admin"], "org_unit": "ningbo", "name": 7},
            {"roles": ["city_admin"], "org_unit": 5},
            {"roles": ["city_admin"], "org_unit": ["ningbo"]},
            {"roles": ["city_admin"], "org_unit": "ningbo/%"},
            {"roles": ["city_admin"], "org_unit": "shanghai"},
            {"roles": ["city_admin"], "org_unit": "ningbo/a b"},
        ],
    )
    async def test_misshapen_claims_are_401(self, make_gateway, claims):
        gw = await make_gateway()
        headers = {"Authorization": f"Bearer {raw_token(gw, **claims)}"}
        assert_problem(await gw.client.get("/api/v1/auth/whoami", headers=headers), 401)

    async def test_non_string_sub_is_401(self, make_gateway):
        gw = await make_gateway()
        headers = {"Authorization": f"Bearer {raw_token(gw, sub=12, roles=['leader'], org_unit='ningbo')}"}
        assert_problem(await gw.client.get("/api/v1/auth/whoami", headers=headers), 401)

    async def test_well_formed_claims_still_work(self, make_gateway):
        gw = await make_gateway()
        token = raw_token(gw, roles=["leader"], org_unit="ningbo/yinzhou", name="王")
        r = await gw.client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["scope"] == "ningbo/yinzhou" and r.json()["name"] == "王"


async def _create(gw: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return await gw.client.post("/api/v1/auth/api-keys", json=body, headers=headers or gw.auth())


def _locs(resp: Any) -> list[list[Any]]:
    return [e["loc"] for e in assert_problem(resp, 422)["errors"]]


class TestApiKeyCreation:
    @pytest.mark.parametrize("scope", ["ningbo/_%", "ningbo/../x", "shanghai", "ningbo/", "", "ningbo\x00"])
    async def test_scope_must_be_an_org_unit(self, make_gateway, scope):
        gw = await make_gateway()
        r = await _create(gw, {"name": "k", "roles": ["system"], "scope": scope})
        assert ["body", "scope"] in _locs(r)

    async def test_scope_outside_the_creator_is_422_naming_it(self, make_gateway):
        gw = await make_gateway()
        district = gw.auth(roles=["city_admin"], scope="ningbo/yinzhou")
        r = await _create(gw, {"name": "k", "roles": ["system"], "scope": "ningbo/haishu"}, district)
        assert ["body", "scope"] in _locs(r)
        r = await _create(gw, {"name": "k", "roles": ["system"], "scope": "ningbo"}, district)
        assert ["body", "scope"] in _locs(r)
        ok = await _create(gw, {"name": "k", "roles": ["system"], "scope": "ningbo/yinzhou/dongwu"}, district)
        assert ok.status_code == 201

    async def test_unknown_roles_are_422(self, make_gateway):
        gw = await make_gateway()
        r = await _create(gw, {"name": "k", "roles": ["wizard"], "scope": "ningbo"})
        assert ["body", "roles"] in _locs(r)

    async def test_expiry_must_be_in_the_future_of_the_clock(self, make_gateway):
        gw = await make_gateway()
        now = gw.app.state.clock.now()
        for when in (now - timedelta(seconds=1), now):
            r = await _create(
                gw, {"name": "k", "roles": ["system"], "scope": "ningbo", "expires_at": when.isoformat()}
            )
            assert ["body", "expires_at"] in _locs(r)
        later = (now + timedelta(minutes=5)).isoformat()
        assert (
            await _create(gw, {"name": "k", "roles": ["system"], "scope": "ningbo", "expires_at": later})
        ).status_code == 201

    async def test_control_characters_in_the_name_are_422(self, make_gateway):
        gw = await make_gateway()
        r = await _create(gw, {"name": "a\x00b", "roles": ["system"], "scope": "ningbo"})
        assert_problem(r, 422)


class TestApiKeyScope:
    async def test_list_and_revoke_only_keys_in_the_callers_scope(self, make_gateway):
        gw = await make_gateway()
        haishu = (await _create(gw, {"name": "h", "roles": ["system"], "scope": "ningbo/haishu"})).json()
        yinzhou = (await _create(gw, {"name": "y", "roles": ["system"], "scope": "ningbo/yinzhou"})).json()
        district = gw.auth(roles=["city_admin"], scope="ningbo/yinzhou")
        listed = (await gw.client.get("/api/v1/auth/api-keys", headers=district)).json()
        assert [k["id"] for k in listed["items"]] == [yinzhou["id"]] and listed["total"] == 1
        r = await gw.client.delete(f"/api/v1/auth/api-keys/{haishu['id']}", headers=district)
        assert_problem(r, 404)
        missing = await gw.client.delete("/api/v1/auth/api-keys/ffffffffffff", headers=district)
        assert r.json()["title"] == missing.json()["title"]
        still = await gw.client.get("/api/v1/auth/whoami", headers={"X-API-Key": haishu["key"]})
        assert still.status_code == 200
        city = (await gw.client.get("/api/v1/auth/api-keys", headers=gw.auth())).json()
        assert city["total"] == 2

    @pytest.mark.parametrize("query", [f"limit={2**63}", f"offset={2**63}", "offset=-1", f"limit={2**64}"])
    async def test_huge_params_are_422(self, make_gateway, query):
        gw = await make_gateway()
        assert_problem(await gw.client.get(f"/api/v1/auth/api-keys?{query}", headers=gw.auth()), 422)


class TestFailedAuthLimit:
    async def test_failures_lead_to_429_before_any_token_work_then_the_window_passes(self, make_gateway):
        gw = await make_gateway(auth_failures_per_minute=3)
        bad = {"Authorization": "Bearer not-a-token"}
        for _ in range(3):
            assert_problem(await gw.client.get("/api/v1/auth/whoami", headers=bad), 401)
        r = await gw.client.get("/api/v1/auth/whoami", headers=gw.auth())
        body = assert_problem(r, 429)
        assert body["type"] == "/problems/rate-limited" and int(r.headers["retry-after"]) == 60
        assert_problem(await gw.client.get("/api/v1/sampling/items", headers=gw.auth()), 429)
        assert_problem(await gw.client.get("/metrics", headers=gw.auth()), 429)
        gw.app.state.clock.advance(seconds=61)
        assert (await gw.client.get("/api/v1/auth/whoami", headers=gw.auth())).status_code == 200

    async def test_refused_public_route_tokens_count(self, make_gateway, upstream):
        gw = await make_gateway(sampling_url=upstream.url, auth_failures_per_minute=2)
        for _ in range(2):
            assert (await gw.client.get("/api/v1/sampling/calendar/guess.ics")).status_code == 404
        r = await gw.client.get("/api/v1/sampling/calendar/guess.ics")
        assert_problem(r, 429)
        assert len([s for s in upstream.forwarded() if s[1].startswith("/calendar/")]) == 2

    async def test_the_limit_can_be_lifted(self, make_gateway):
        gw = await make_gateway(auth_failures_per_minute=1, rate_limit_enabled=False, rate_limit_burst=1)
        bad = {"Authorization": "Bearer not-a-token"}
        for _ in range(3):
            assert_problem(await gw.client.get("/api/v1/auth/whoami", headers=bad), 401)
        for _ in range(3):
            assert (await gw.client.get("/api/v1/auth/whoami", headers=gw.auth())).status_code == 200

    def test_addresses_are_counted_separately(self):
        from gateway.ratelimit import FailedAuthLimiter
        from services.kit.clock import FrozenClock
        from services.kit.errors import TooManyRequests

        clock = FrozenClock()
        limiter = FailedAuthLimiter(per_minute=2, clock=clock)
        limiter.record("10.0.0.1")
        clock.advance(seconds=30)
        limiter.record("10.0.0.1")
        limiter.check("10.0.0.2")
        with pytest.raises(TooManyRequests) as exc:
            limiter.check("10.0.0.1")
        assert exc.value.headers["Retry-After"] == "30"
        clock.advance(seconds=30)
        limiter.check("10.0.0.1")  # the first failure left the window
