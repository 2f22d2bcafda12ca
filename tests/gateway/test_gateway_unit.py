from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.ratelimit import RateLimiter
from gateway.routes import merge_openapi, rules_from
from services.kit.errors import TooManyRequests


class TestRateLimiter:
    def test_burst_then_refuses_with_retry_after(self):
        limiter = RateLimiter(per_minute=60, burst=3)
        for _ in range(3):
            limiter.check("u-a")
        with pytest.raises(TooManyRequests) as exc:
            limiter.check("u-a")
        assert exc.value.headers["Retry-After"] == "1"

    def test_callers_have_separate_buckets(self):
        limiter = RateLimiter(per_minute=60, burst=1)
        limiter.check("u-a")
        limiter.check("u-b")
        with pytest.raises(TooManyRequests):
            limiter.check("u-a")


class TestRateLimitThroughGateway:
    async def test_429_problem_with_retry_after(self, make_gateway):
        gw = await make_gateway(rate_limit_per_minute=60, rate_limit_burst=2)
        headers = gw.auth(sub="u-busy")
        codes = [(await gw.client.get("/api/v1/auth/whoami", headers=headers)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = await gw.client.get("/api/v1/auth/whoami", headers=headers)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/rate-limited"
        assert int(r.headers["retry-after"]) >= 1
        other = await gw.client.get("/api/v1/auth/whoami", headers=gw.auth(sub="u-calm"))
        assert other.status_code == 200


class TestBodyLimit:
    async def test_oversized_body_is_413_before_reaching_a_service(self, make_gateway):
        gw = await make_gateway(max_body_bytes=1000)
        gw.app.state.catalog.rules["sampling"] = rules_from({"paths": {"/sites": {"post": {}}}})
        r = await gw.client.post(
            "/api/v1/sampling/sites",
            content=b"x" * 2000,
            headers={**gw.auth(), "content-type": "application/json"},
        )
        assert r.status_code == 413
        assert r.json()["type"] == "/problems/payload-too-large"


class TestCors:
    async def test_preflight_from_an_allowed_origin(self, make_gateway):
        gw = await make_gateway(cors_origins=["https://web.dangjian.example"])
        r = await gw.client.options(
            "/api/v1/sampling/sites",
            headers={"Origin": "https://web.dangjian.example", "Access-Control-Request-Method": "GET"},
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://web.dangjian.example"

    async def test_preflight_from_another_origin_gets_no_grant(self, make_gateway):
        gw = await make_gateway(cors_origins=["https://web.dangjian.example"])
        r = await gw.client.options(
            "/api/v1/sampling/sites",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in r.headers


async def _flaky_server(counter: dict[str, int]) -> tuple[asyncio.base_events.Server, int]:
    """Drops the first request for /anything without answering, then answers 200; other paths get 404."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                if path.startswith(b"/anything") and counter["dropped"] == 0:
                    counter["dropped"] += 1
                    writer.close()
                    return
                status = b"200 OK" if path.startswith(b"/anything") else b"404 Not Found"
                if path.startswith(b"/anything"):
                    counter["answered"] += 1
                body = b'{"ok":true}'
                writer.write(
                    b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (status, len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


ANYTHING = {"paths": {"/anything": {"get": {}, "post": {}}}}


@pytest.mark.parametrize("proxy_client", ["aiohttp", "httpx"])
class TestRetries:
    async def test_get_is_retried_once_after_a_dropped_connection(self, make_gateway, proxy_client):
        counter = {"dropped": 0, "answered": 0}
        server, port = await _flaky_server(counter)
        async with server:
            gw = await make_gateway(sampling_url=f"http://127.0.0.1:{port}", proxy_client=proxy_client)
            gw.app.state.catalog.rules["sampling"] = rules_from(ANYTHING)  # the fake has no route table
            r = await gw.client.get("/api/v1/sampling/anything", headers=gw.auth())
        assert r.status_code == 200
        assert counter == {"dropped": 1, "answered": 1}

    async def test_post_is_never_retried(self, make_gateway, proxy_client):
        counter = {"dropped": 0, "answered": 0}
        server, port = await _flaky_server(counter)
        async with server:
            gw = await make_gateway(sampling_url=f"http://127.0.0.1:{port}", proxy_client=proxy_client)
            gw.app.state.catalog.rules["sampling"] = rules_from(ANYTHING)
            r = await gw.client.post("/api/v1/sampling/anything", json={"a": 1}, headers=gw.auth())
        assert r.status_code in (502, 503)
        assert counter == {"dropped": 1, "answered": 0}


class TestRouteRules:
    DOC = {
        "paths": {
            "/rounds/{round_code}": {"get": {"x-roles": ["city_admin", "leader"]}},
            "/rounds/current": {"get": {"x-roles": ["inspector"]}},
            "/calendar/{token}.ics": {"get": {"x-public": True}},
        }
    }

    def test_literal_route_wins_over_parameter(self):
        rules = rules_from(self.DOC)
        match = next(r for r in rules if r.pattern.match("/rounds/current"))
        assert match.roles == ("inspector",)

    def test_parameter_route_matches_one_segment_only(self):
        rules = rules_from(self.DOC)
        assert any(r.pattern.match("/rounds/2026Q1") for r in rules)
        assert not any(r.pattern.match("/rounds/2026Q1/sites") for r in rules)

    async def test_role_from_service_document_is_enforced_at_the_gateway(self, make_gateway):
        gw = await make_gateway()
        gw.app.state.catalog.rules["sampling"] = rules_from(self.DOC)
        r = await gw.client.get("/api/v1/sampling/rounds/2026Q1", headers=gw.auth(roles=["inspector"]))
        assert r.status_code == 403
        assert r.json()["required_roles"] == ["city_admin", "leader"]

    async def test_public_route_needs_no_credentials(self, make_gateway):
        gw = await make_gateway()
        gw.app.state.catalog.rules["sampling"] = rules_from(self.DOC)
        r = await gw.client.get("/api/v1/sampling/calendar/abc.ics")
        # Forwarded without authentication; the (closed) upstream then answers 503.
        assert r.status_code == 503


class TestMergeOpenApi:
    def test_a_schema_referring_to_a_renamed_one_is_renamed_with_it(self):
        """`Page_Item_` reads the same in both services, but each one's items are its own `Item`."""

        def doc(prop: str) -> dict:
            ref = {"$ref": "#/components/schemas/Page_Item_"}
            return {
                "paths": {
                    "/items": {
                        "get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}}}}
                    }
                },
                "components": {
                    "schemas": {
                        "Item": {"type": "object", "properties": {prop: {"type": "integer"}}},
                        "Page_Item_": {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
                            },
                        },
                    }
                },
            }

        merged = merge_openapi(
            {"paths": {}},
            {"notify": doc("a"), "rectification": doc("b")},
            title="t",
            version="1",
            description="d",
        )
        schemas = merged["components"]["schemas"]

        def items_of(path: str) -> dict:
            page = merged["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            page_schema = schemas[page["$ref"].rsplit("/", 1)[1]]
            return schemas[page_schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]

        assert "a" in items_of("/api/v1/notify/items")["properties"]
        assert "b" in items_of("/api/v1/rectification/items")["properties"]

    def test_same_named_different_schemas_are_both_kept(self):
        a = {
            "paths": {
                "/x": {
                    "get": {
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                                }
                            }
                        }
                    }
                }
            },
            "components": {"schemas": {"Item": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        }
        b = {
            "paths": {
                "/y": {
                    "get": {
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                                }
                            }
                        }
                    }
                }
            },
            "components": {"schemas": {"Item": {"type": "object", "properties": {"b": {"type": "integer"}}}}},
        }
        merged = merge_openapi(
            {"paths": {}}, {"sampling": a, "scoring": b}, title="t", version="1", description="d"
        )
        schemas = merged["components"]["schemas"]
        assert "a" in schemas["Item"]["properties"]
        assert "b" in schemas["Scoring_Item"]["properties"]
        assert schemas["Scoring_Item"]["title"] == "Scoring_Item"
        ref = merged["paths"]["/api/v1/scoring/y"]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["$ref"]
        assert ref == "#/components/schemas/Scoring_Item"


class TestTokens:
    async def test_token_without_org_unit_is_refused(self, make_gateway):
        gw = await make_gateway()
        issuer = gw.app.state.authenticator.dev_issuer
        token = issuer.mint(sub="u-x", roles=["city_admin"], scope="")
        r = await gw.client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and "org_unit" in r.json()["detail"]

    async def test_basic_auth_scheme_is_refused(self, make_gateway):
        gw = await make_gateway()
        r = await gw.client.get("/api/v1/auth/whoami", headers={"Authorization": "Basic dXNlcjpwdw=="})
        assert r.status_code == 401

    async def test_expired_api_key_is_refused(self, make_gateway):
        gw = await make_gateway()
        now = gw.app.state.clock.now()
        created = await gw.client.post(
            "/api/v1/auth/api-keys",
            json={
                "name": "short",
                "roles": ["system"],
                "scope": "ningbo",
                "expires_at": (now + timedelta(hours=1)).isoformat(),
            },
            headers=gw.auth(),
        )
        key = created.json()["key"]
        assert (await gw.client.get("/api/v1/auth/whoami", headers={"X-API-Key": key})).status_code == 200
        gw.app.state.clock.advance(hours=2)
        gw.app.state.authenticator.forget_api_key(created.json()["id"])
        r = await gw.client.get("/api/v1/auth/whoami", headers={"X-API-Key": key})
        assert r.status_code == 401 and "expired" in r.json()["detail"]
