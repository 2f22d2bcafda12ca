"""The gateway in front of the real services, over real HTTP."""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
import pytest
from openapi_spec_validator import validate

from services.kit.testing import ManagedProcess, free_port
from tests.e2e.conftest import System, start_gateway

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


def assert_problem(resp: httpx.Response, status: int, slug: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


class TestForwarding:
    async def test_authenticated_request_reaches_the_service_as_the_caller(self, system: System):
        async with system.client() as c:
            r = await c.get(
                "/api/v1/sampling/whoami",
                headers=system.auth(roles=["inspector"], sub="u-li", scope="ningbo/yinzhou"),
            )
        assert r.status_code == 200
        assert r.json() == {
            "service": "sampling",
            "sub": "u-li",
            "roles": ["inspector"],
            "scope": "ningbo/yinzhou",
            "kind": "user",
            "name": None,
        }

    async def test_request_id_is_carried_to_the_service_and_back(self, system: System):
        async with system.client() as c:
            r = await c.get(
                "/api/v1/sampling/sites/424242", headers={**system.auth(), "X-Request-ID": "trace-abc-123"}
            )
        body = assert_problem(r, 404, "site-not-found")
        assert r.headers["x-request-id"] == "trace-abc-123"
        # The body was written by the sampling process: the id crossed the hop.
        assert body["request_id"] == "trace-abc-123"
        assert body["instance"] == "/api/v1/sampling/sites/424242"

    async def test_every_area_is_routed(self, system: System):
        async with system.client() as c:
            for area in ("sampling", "scoring", "rectification", "notify", "reporting", "evidence"):
                r = await c.get(f"/api/v1/{area}/whoami", headers=system.auth())
                assert r.status_code == 200
                assert r.json()["service"] == area


class TestErrors:
    async def test_unknown_area_is_404(self, system: System):
        async with system.client() as c:
            r = await c.get("/api/v1/nowhere/x", headers=system.auth())
        assert_problem(r, 404, "not-found")

    async def test_unknown_route_in_a_service_is_404(self, system: System):
        async with system.client() as c:
            r = await c.get("/api/v1/scoring/no-such-thing", headers=system.auth())
        assert_problem(r, 404, "not-found")

    async def test_unknown_route_outside_the_api_is_404(self, system: System):
        async with system.client() as c:
            r = await c.get("/nothing-here")
        assert_problem(r, 404, "not-found")

    async def test_wrong_method_is_405(self, system: System):
        async with system.client() as c:
            r = await c.delete("/api/v1/sampling/whoami", headers=system.auth())
        assert_problem(r, 405, "method-not-allowed")

    async def test_invalid_path_parameter_is_422_naming_it(self, system: System):
        async with system.client() as c:
            r = await c.get("/api/v1/sampling/sites/not-a-number", headers=system.auth())
        body = assert_problem(r, 422, "validation-error")
        assert ["path", "site_id"] in [e["loc"] for e in body["errors"]]

    async def test_invalid_body_is_422_listing_each_field(self, system: System):
        async with system.client() as c:
            r = await c.post("/api/v1/auth/api-keys", json={"roles": ["wizard"]}, headers=system.auth())
        body = assert_problem(r, 422, "validation-error")
        locs = [e["loc"] for e in body["errors"]]
        assert ["body", "name"] in locs and ["body", "scope"] in locs and ["body", "roles"] in locs

    async def test_malformed_json_is_400(self, system: System):
        async with system.client() as c:
            r = await c.post(
                "/api/v1/auth/api-keys",
                content=b'{"name": "x", ',
                headers={**system.auth(), "content-type": "application/json"},
            )
        assert_problem(r, 400, "malformed-json")

    async def test_wrong_content_type_is_415(self, system: System):
        async with system.client() as c:
            r = await c.post(
                "/api/v1/auth/api-keys",
                content=b"name=x",
                headers={**system.auth(), "content-type": "text/plain"},
            )
        assert_problem(r, 415, "unsupported-media-type")

    async def test_missing_token_is_401(self, system: System):
        async with system.client() as c:
            r = await c.get("/api/v1/sampling/whoami")
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")

    async def test_forged_token_is_401(self, system: System):
        from gateway.auth import DevIssuer

        forger = DevIssuer(
            system.tmp / "forger.pem", issuer="dangjian-dev-issuer", audience="dangjian-inspection"
        )
        token = forger.mint(sub="u-evil", roles=["city_admin"], scope="ningbo")
        async with system.client() as c:
            r = await c.get("/api/v1/sampling/whoami", headers={"Authorization": f"Bearer {token}"})
        assert_problem(r, 401, "unauthorized")

    async def test_expired_token_is_401(self, system: System):
        token = system.token(roles=["city_admin"], ttl=-300)
        async with system.client() as c:
            r = await c.get("/api/v1/sampling/whoami", headers={"Authorization": f"Bearer {token}"})
        body = assert_problem(r, 401, "unauthorized")
        assert "expired" in body["detail"]

    async def test_wrong_role_is_403(self, system: System):
        async with system.client() as c:
            r = await c.post(
                "/api/v1/auth/api-keys",
                json={"name": "x", "roles": ["system"], "scope": "ningbo"},
                headers=system.auth(roles=["inspector"]),
            )
        body = assert_problem(r, 403, "forbidden")
        assert "city_admin" in body["detail"]

    async def test_direct_call_to_a_service_without_the_gateway_is_refused(self, system: System):
        async with httpx.AsyncClient() as c:
            r = await c.get(f"{system.service_urls['sampling']}/whoami")
            forged = await c.get(
                f"{system.service_urls['sampling']}/whoami",
                headers={"Authorization": f"Bearer {system.token(roles=['city_admin'])}"},
            )
        assert_problem(r, 401, "unauthorized")
        # A user's own JWT is not the gateway's signed principal either.
        assert_problem(forged, 401, "unauthorized")


class TestUpstreamFailures:
    async def test_stopped_service_gives_503_quickly(self, system: System):
        # A gateway of its own whose notify points at a service we stop.
        port = free_port()
        notify_env = {
            **system.env,
            "NOTIFY_PORT": str(port),
            "NOTIFY_DATABASE_URL": f"sqlite+aiosqlite:///{system.tmp / 'n2.db'}",
        }
        notify = ManagedProcess(
            "notify-stoppable",
            [sys.executable, "-m", "services.notify"],
            env=notify_env,
            log_dir=system.tmp / "logs",
        ).start()
        system.extra.append(notify)
        await notify.wait_http(f"http://127.0.0.1:{port}/readyz")
        gw, url = await start_gateway(
            {**system.env, "NOTIFY_URL": f"http://127.0.0.1:{port}"}, system.tmp, name="gw-503"
        )
        system.extra.append(gw)
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            ok = await c.get("/api/v1/notify/whoami", headers=system.auth())
            assert ok.status_code == 200
            notify.stop()
            started = time.monotonic()
            r = await c.get("/api/v1/notify/whoami", headers=system.auth())
            elapsed = time.monotonic() - started
        body = assert_problem(r, 503, "service-unavailable")
        assert "notify" in body["detail"]
        assert elapsed < 10, "a stopped service must fail fast, not hang until the upstream timeout"

    async def test_slow_service_gives_504_within_the_timeout(self, system: System):
        slow_port = free_port()
        slow = ManagedProcess(
            "slow-upstream",
            [sys.executable, "-m", "tests.e2e.slow_upstream", str(slow_port)],
            log_dir=system.tmp / "logs",
        ).start()
        system.extra.append(slow)
        await slow.wait_http(f"http://127.0.0.1:{slow_port}/ping")
        gw, url = await start_gateway(
            {**system.env, "SCORING_URL": f"http://127.0.0.1:{slow_port}"},
            system.tmp,
            name="gw-504",
            GATEWAY_UPSTREAM_TIMEOUT_SECONDS="1.5",
        )
        system.extra.append(gw)
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            started = time.monotonic()
            r = await c.get("/api/v1/scoring/anything", headers=system.auth())
            elapsed = time.monotonic() - started
        body = assert_problem(r, 504, "upstream-timeout")
        assert "scoring" in body["detail"]
        assert elapsed < 8, "the gateway must give up at its timeout, not wait for the upstream"


class TestApiKeys:
    async def test_key_works_until_revoked(self, system: System):
        admin = system.auth(roles=["city_admin"], sub="u-admin")
        async with system.client() as c:
            created = await c.post(
                "/api/v1/auth/api-keys",
                json={"name": "夜间导出脚本", "roles": ["system"], "scope": "ningbo"},
                headers=admin,
            )
            assert created.status_code == 201, created.text
            key = created.json()["key"]
            key_id = created.json()["id"]
            assert key.startswith("djk_")

            used = await c.get("/api/v1/sampling/whoami", headers={"X-API-Key": key})
            assert used.status_code == 200
            assert used.json()["kind"] == "api_key" and used.json()["roles"] == ["system"]
            as_bearer = await c.get("/api/v1/scoring/whoami", headers={"Authorization": f"Bearer {key}"})
            assert as_bearer.status_code == 200

            listed = await c.get("/api/v1/auth/api-keys", headers=admin)
            row = next(k for k in listed.json()["items"] if k["id"] == key_id)
            assert "key" not in row and "secret_hash" not in row
            assert row["last_used_at"] is not None

            revoked = await c.delete(f"/api/v1/auth/api-keys/{key_id}", headers=admin)
            assert revoked.status_code == 200 and revoked.json()["revoked_at"]
            after = await c.get("/api/v1/sampling/whoami", headers={"X-API-Key": key})
        body = assert_problem(after, 401, "unauthorized")
        assert "revoked" in body["detail"]

    async def test_wrong_secret_is_refused(self, system: System):
        async with system.client() as c:
            created = await c.post(
                "/api/v1/auth/api-keys",
                json={"name": "k", "roles": ["leader"], "scope": "ningbo"},
                headers=system.auth(),
            )
            key = created.json()["key"]
            r = await c.get("/api/v1/sampling/whoami", headers={"X-API-Key": key[:-4] + "AAAA"})
        assert_problem(r, 401, "unauthorized")

    async def test_key_cannot_be_scoped_outside_the_creator(self, system: System):
        async with system.client() as c:
            r = await c.post(
                "/api/v1/auth/api-keys",
                json={"name": "k", "roles": ["system"], "scope": "ningbo"},
                headers=system.auth(roles=["city_admin"], scope="ningbo/yinzhou"),
            )
        body = assert_problem(r, 422, "validation-error")
        assert [e["loc"] for e in body["errors"]] == [["body", "scope"]]

    async def test_key_scope_must_be_an_org_unit(self, system: System):
        async with system.client() as c:
            r = await c.post(
                "/api/v1/auth/api-keys",
                json={"name": "k", "roles": ["system"], "scope": "ningbo/%"},
                headers=system.auth(),
            )
        body = assert_problem(r, 422, "validation-error")
        assert ["body", "scope"] in [e["loc"] for e in body["errors"]]


class TestOpenApi:
    async def test_merged_document_is_valid_openapi_with_stable_ids(self, system: System):
        async with system.client() as c:
            r = await c.get("/openapi.json")
        assert r.status_code == 200
        doc = r.json()
        validate(doc)
        ops = [
            op
            for ops in doc["paths"].values()
            for m, op in ops.items()
            if m in {"get", "post", "put", "patch", "delete"}
        ]
        ids = [op["operationId"] for op in ops]
        assert len(ids) == len(set(ids)), "operation ids must be unique"
        assert "sampling_get_site" in ids and "gateway_create_api_key" in ids
        assert "/api/v1/sampling/sites/{site_id}" in doc["paths"]
        names = {t["name"] for t in doc["tags"]}
        assert {"gateway.auth", "gateway.status"} <= names
        for area in ("sampling", "scoring", "rectification", "notify", "reporting", "evidence"):
            assert any(n.startswith(area + ".") for n in names), area
        assert "x-unavailable-services" not in doc["info"]

    async def test_docs_page_is_served(self, system: System):
        async with system.client() as c:
            r = await c.get("/docs")
        assert r.status_code == 200 and "/openapi.json" in r.text


class TestConcurrency:
    async def test_many_concurrent_requests_all_answer(self, system: System):
        headers = system.auth()
        async with system.client() as c:
            results = await asyncio.gather(
                *(c.get("/api/v1/sampling/whoami", headers=headers) for _ in range(200))
            )
        assert [r.status_code for r in results] == [200] * 200


class TestTokenCommand:
    async def test_minted_token_is_accepted_by_the_gateway(self, system: System):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            "token",
            "--sub",
            "u-wang",
            "--role",
            "district_admin",
            "--scope",
            "ningbo/yinzhou",
            env=system.env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        async with system.client() as c:
            r = await c.get(
                "/api/v1/rectification/whoami", headers={"Authorization": f"Bearer {out.decode().strip()}"}
            )
        assert r.status_code == 200
        assert r.json()["roles"] == ["district_admin"] and r.json()["scope"] == "ningbo/yinzhou"


class TestPublicRoutes:
    async def test_calendar_feed_is_reachable_without_credentials_through_the_gateway(self, system: System):
        async with system.client() as c:
            issued = await c.post(
                "/api/v1/rectification/calendar-token",
                headers=system.auth(roles=["responsible"], sub="u-cal"),
            )
            assert issued.status_code == 200, issued.text
            token = issued.json()["token"]
            feed = await c.get(f"/api/v1/rectification/calendar/{token}.ics")
            wrong = await c.get(f"/api/v1/rectification/calendar/{'x' * 40}.ics")
        assert feed.status_code == 200, feed.text
        assert feed.headers["content-type"].startswith("text/calendar")
        assert feed.text.startswith("BEGIN:VCALENDAR")
        assert_problem(wrong, 404, wrong.json()["type"].rsplit("/", 1)[1])

    async def test_other_routes_of_the_same_service_still_need_credentials(self, system: System):
        async with system.client() as c:
            r = await c.post("/api/v1/rectification/calendar-token")
        assert_problem(r, 401, "unauthorized")


class TestEventStream:
    async def test_browser_event_stream_authenticates_with_a_query_token(self, system: System):
        token = system.token(roles=["responsible"], sub="u-sse")
        async with (
            system.client() as c,
            c.stream(
                "GET",
                f"/api/v1/notify/inbox/stream?access_token={token}",
                headers={"Accept": "text/event-stream"},
            ) as resp,
        ):
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            first = await anext(resp.aiter_text())
        assert "connected" in first

    async def test_query_token_is_not_accepted_for_ordinary_requests(self, system: System):
        token = system.token(roles=["city_admin"])
        async with system.client() as c:
            r = await c.get(f"/api/v1/notify/whoami?access_token={token}")
            # Asking for an event stream does not make a route one.
            sse = await c.get(
                f"/api/v1/scoring/outbox/events?access_token={token}", headers={"Accept": "text/event-stream"}
            )
        assert_problem(r, 401, "unauthorized")
        assert_problem(sse, 401, "unauthorized")


class TestOutboxAdmin:
    async def test_every_service_lists_its_failed_events_for_an_admin(self, system: System):
        async with system.client() as c:
            for area in ("sampling", "scoring", "rectification", "notify", "reporting"):
                r = await c.get(f"/api/v1/{area}/outbox/events", headers=system.auth())
                assert r.status_code == 200, (area, r.text)
                assert set(r.json()) == {"items", "total", "limit", "offset"}
                denied = await c.get(
                    f"/api/v1/{area}/outbox/events", headers=system.auth(roles=["inspector"])
                )
                assert denied.status_code == 403


SERVICE_PAGES = ["/metrics", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"]


class TestOnlyPublishedOperations:
    @pytest.mark.parametrize("roles", [None, ["city_admin"], ["system"], ["inspector"]])
    async def test_service_pages_are_not_reachable_through_the_api(self, system: System, roles):
        headers = system.auth(roles=roles) if roles else {}
        async with system.client() as c:
            for area in ("sampling", "scoring", "rectification", "notify", "reporting", "evidence"):
                for page in SERVICE_PAGES:
                    r = await c.get(f"/api/v1/{area}{page}", headers=headers)
                    assert_problem(r, 404, "not-found")
                    assert "# HELP" not in r.text and "swagger" not in r.text.lower()

    async def test_trailing_slash_does_not_leak_the_upstream_address(self, system: System):
        async with system.client() as c:
            r = await c.get("/api/v1/sampling/sites/", headers=system.auth())
        assert_problem(r, 404, "not-found")
        assert "location" not in r.headers
        for url in system.service_urls.values():
            assert url not in r.text

    @pytest.mark.parametrize(
        "tail", ["/whoami/..%2Foutbox%2Fevents", "/x/%2e%2e/outbox/events", "/x%5C..%5Cwhoami"]
    )
    async def test_encoded_paths_are_refused_before_the_role_check(self, system: System, tail):
        async with system.client() as c:
            r = await c.get(f"/api/v1/scoring{tail}", headers=system.auth(roles=["inspector"]))
        assert_problem(r, 400, "bad-path")

    async def test_status_names_no_internal_address(self, system: System):
        async with system.client() as c:
            r = await c.get("/api/v1/status", headers=system.auth())
        assert r.status_code == 200
        assert [s["url"] for s in r.json()["services"]] == [
            f"/api/v1/{a}"
            for a in ("sampling", "scoring", "rectification", "notify", "reporting", "evidence")
        ]
        assert "127.0.0.1" not in r.text


class TestGatewayMetrics:
    async def test_metrics_need_credentials_and_a_city_wide_city_admin(self, system: System):
        async with system.client() as c:
            anonymous = await c.get("/metrics")
            inspector = await c.get("/metrics", headers=system.auth(roles=["inspector"]))
            admin = await c.get("/metrics", headers=system.auth(roles=["city_admin"]))
        assert_problem(anonymous, 401, "unauthorized")
        assert_problem(inspector, 403, "forbidden")
        assert admin.status_code == 200 and "# HELP" in admin.text
