from collections.abc import AsyncIterator

import httpx
import pytest

from services.kit.testing import principal_headers, running_app
from services.sampling.config import Settings
from services.sampling.main import build_app
from services.sampling.models import Site


@pytest.fixture
async def client(database_url) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(Settings(database_url=await database_url("sampling"), environment="test"))
    async with running_app(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


async def _add_site(client: httpx.AsyncClient, **kw) -> int:
    async with client.app.state.sessionmaker() as s:  # type: ignore[attr-defined]
        site = Site(**kw)
        s.add(site)
        await s.commit()
        assert site.id is not None
        return site.id


class TestGetSite:
    async def test_reads_a_site_inside_scope(self, client):
        sid = await _add_site(
            client, code="330212001", type="town", name="东吴镇", org_unit="ningbo/yinzhou/dongwu"
        )
        r = await client.get(f"/sites/{sid}", headers=principal_headers(scope="ningbo/yinzhou"))
        assert r.status_code == 200
        assert r.json()["name"] == "东吴镇"

    async def test_site_outside_scope_is_forbidden(self, client):
        sid = await _add_site(
            client, code="330203001", type="street", name="月湖街道", org_unit="ningbo/haishu/yuehu"
        )
        r = await client.get(
            f"/sites/{sid}", headers=principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        )
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"

    async def test_missing_site_is_404_problem(self, client):
        r = await client.get("/sites/999", headers=principal_headers())
        assert r.status_code == 404
        body = r.json()
        assert body["type"] == "/problems/site-not-found"
        assert body["request_id"] == r.headers["x-request-id"]

    async def test_request_without_gateway_principal_is_refused(self, client):
        r = await client.get("/sites/1")
        assert r.status_code == 401
        assert r.json()["type"] == "/problems/unauthorized"

    async def test_forged_principal_is_refused(self, client):
        r = await client.get("/sites/1", headers=principal_headers(secret="not-the-secret-" * 3))
        assert r.status_code == 401


class TestHealth:
    async def test_ready_when_migrated(self, client):
        r = await client.get("/readyz")
        assert r.status_code == 200
        assert r.json()["status"] == "ready"
