"""What every service gets from the kit's app factory."""

from __future__ import annotations

from services.kit.testing import principal_headers, running_app
from services.notify.config import Settings
from services.notify.main import build_app


class TestReadiness:
    async def test_not_ready_until_migrated(self, database_url):
        app = build_app(
            Settings(database_url=await database_url("notready"), auto_migrate=False, environment="test")
        )
        async with running_app(app) as c:
            r = await c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["type"] == "/problems/not-ready"
        assert "expected" in r.json()["detail"]

    async def test_alive_even_when_not_ready(self, database_url):
        app = build_app(
            Settings(database_url=await database_url("alive"), auto_migrate=False, environment="test")
        )
        async with running_app(app) as c:
            assert (await c.get("/healthz")).status_code == 200


class TestMetrics:
    async def test_requests_are_counted_by_route_template(self, database_url):
        app = build_app(Settings(database_url=await database_url("metrics"), environment="test"))
        async with running_app(app) as c:
            await c.get("/whoami", headers=principal_headers())
            await c.get("/whoami")
            body = (await c.get("/metrics")).text
        assert 'http_requests_total{method="GET",process="notify",route="/whoami",status="200"}' in body
        assert 'http_requests_total{method="GET",process="notify",route="/whoami",status="401"}' in body


class TestRequestId:
    async def test_given_id_is_echoed_and_bad_one_replaced(self, database_url):
        app = build_app(Settings(database_url=await database_url("rid"), environment="test"))
        async with running_app(app) as c:
            good = await c.get("/healthz", headers={"X-Request-ID": "abc-123"})
            bad = await c.get("/healthz", headers={"X-Request-ID": "no spaces allowed"})
        assert good.headers["x-request-id"] == "abc-123"
        assert bad.headers["x-request-id"] != "no spaces allowed" and len(bad.headers["x-request-id"]) == 32
