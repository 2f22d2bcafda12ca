"""A small synthetic city and an app with a frozen clock and faked peers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.engine import make_url

from services.kit.clock import FrozenClock
from services.kit.db import make_engine
from services.kit.migrations import upgrade_to_head
from services.kit.testing import (
    SignedHeaders,
    create_postgres_database,
    drop_postgres_database,
    principal_headers,
    running_app,
)
from services.sampling.config import Settings
from services.sampling.main import MIGRATIONS_DIR, build_app
from services.sampling.models import metadata, outbox_event
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB


class PrincipalAuth(httpx.Auth):
    """Signs the principal for every request a client sends (unless the request names its own)."""

    def __init__(self, **principal: Any) -> None:
        self.principal = principal

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for key, value in principal_headers(**self.principal).items():
            request.headers.setdefault(key, value)
        yield request


ADMIN = SignedHeaders(roles=["city_admin"], scope="ningbo", sub="u-admin")
DISTRICTS = {
    "haishu": ("330203", "district"),
    "yinzhou": ("330212", "district"),
    "beilun": ("330206", "district"),
    "gaoxin": ("3302G1", "zone"),
}


def city_rows(towns: int = 3, villages: int = 5, orgs: int = 3) -> list[dict[str, Any]]:
    """4 districts/zones × `towns` towns × `villages` villages, `orgs` two-new orgs per town, 1 institution each."""
    rows: list[dict[str, Any]] = []
    for slug, (code, typ) in DISTRICTS.items():
        rows.append({"code": code, "type": typ, "name": f"{slug}区", "district": slug})
        rows.append(
            {"code": f"{code}H1", "type": "institution", "name": f"{slug}人民医院", "parent_code": code}
        )
        for t in range(1, towns + 1):
            tc = f"{code}{t:03d}"
            rows.append(
                {
                    "code": tc,
                    "type": "town" if t % 2 else "street",
                    "name": f"{slug}第{t}镇",
                    "parent_code": code,
                }
            )
            for v in range(1, villages + 1):
                rows.append(
                    {
                        "code": f"{tc}{v:03d}",
                        "type": "village" if v % 2 else "community",
                        "name": f"{slug}{t}村{v}",
                        "parent_code": tc,
                    }
                )
            for o in range(1, orgs + 1):
                rows.append(
                    {
                        "code": f"{tc}E{o}",
                        "type": "enterprise" if o % 2 else "social_org",
                        "name": f"{slug}{t}企业{o}",
                        "parent_code": tc,
                    }
                )
    return rows


def inspector_rows() -> list[dict[str, Any]]:
    """Three inspectors per district, the first two of each may lead."""
    rows = []
    n = 0
    for slug in DISTRICTS:
        for k in range(3):
            n += 1
            rows.append(
                {"user_id": f"u-insp-{n:02d}", "name": f"督查员{n}", "home_district": slug, "can_lead": k < 2}
            )
    return rows


PLAN: dict[str, Any] = {
    "quotas": [
        {"group": "town_street", "per": "district", "count": 2},
        {"group": "village_community", "per": "district", "count": 4},
        {"group": "two_new", "per": "district", "min": 1, "max": 2},
        {"group": "institution", "per": "city", "count": 1},
    ],
    "exclude_last_rounds": 1,
}


class FakePeers:
    """Records calls to rectification/notify and answers follow-up-sites."""

    def __init__(self) -> None:
        self.follow_up: list[dict[str, Any]] = []
        self.down = False
        self.events: list[dict[str, Any]] = []
        self.keys: list[str | None] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/follow-up-sites":
            return httpx.Response(200, json={"items": self.follow_up})
        if request.url.path == "/events":
            self.events.append(json.loads(request.content))
            self.keys.append(request.headers.get("idempotency-key"))
            return httpx.Response(202, json={})
        return httpx.Response(404)


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(scope="session")
async def pg_shared() -> AsyncIterator[str | None]:
    """On PostgreSQL, one fresh migrated database for this suite, emptied before each test.

    Creating and migrating a database per test costs seconds on a busy server; TRUNCATE costs
    milliseconds and leaves the same empty, migrated state.
    """
    if TEST_DB != "postgres":
        yield None
        return
    url = await create_postgres_database(POSTGRES_ADMIN_URL, "t_sampling")
    engine = make_engine(url)
    await upgrade_to_head(engine, MIGRATIONS_DIR)
    await engine.dispose()
    yield url
    await drop_postgres_database(POSTGRES_ADMIN_URL, url)


@pytest.fixture
async def sampling_db(pg_shared: str | None, database_url: Callable[[str], Any]) -> AsyncIterator[str]:
    """An empty, migrated sampling database."""
    if pg_shared is None:
        yield await database_url("sampling")
        return
    import asyncpg

    db = make_url(pg_shared)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    conn = await asyncpg.connect(user=db.username, host=db.host, port=db.port or 5432, database=db.database)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    yield pg_shared


@pytest.fixture
async def client(sampling_db: str, peers: FakePeers, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=sampling_db, environment="test", outbox_enabled=False)
    app = build_app(settings, clock=clock, http_transport=httpx.MockTransport(peers.handler))
    async with running_app(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


async def import_json(
    client: httpx.AsyncClient, path: str, rows: list[dict[str, Any]], **params: Any
) -> httpx.Response:
    return await client.post(
        path, params=params, content=json.dumps(rows), headers={**ADMIN, "content-type": "application/json"}
    )


@pytest.fixture
async def city(client: httpx.AsyncClient) -> httpx.AsyncClient:
    r = await import_json(client, "/sites/import", city_rows())
    assert r.status_code == 200, r.text
    r = await import_json(client, "/inspectors/import", inspector_rows())
    assert r.status_code == 200, r.text
    return client


def round_body(code: str = "2026Q1", **kw: Any) -> dict[str, Any]:
    return {"code": code, "plan": PLAN, "visit_start_on": "2026-04-06", "team_count": 2, "team_size": 3, **kw}


async def drawn_round(
    client: httpx.AsyncClient, code: str = "2026Q1", *, publish: bool = False, **kw: Any
) -> dict[str, Any]:
    """Create, freeze, draw (and optionally reveal and publish) a round; returns its exported record."""
    r = await client.post("/rounds", json=round_body(code, **kw), headers=ADMIN)
    assert r.status_code == 201, r.text
    r = await client.post(f"/rounds/{code}/freeze", headers=ADMIN)
    assert r.status_code == 200, r.text
    r = await client.post(f"/rounds/{code}/draws", json={"public_value": "20260405-37-12-08"}, headers=ADMIN)
    assert r.status_code == 201, r.text
    if publish:
        assert (await client.post(f"/rounds/{code}/reveal", headers=ADMIN)).status_code == 200
        r = await client.post(f"/rounds/{code}/publish", headers=ADMIN)
        assert r.status_code == 200, r.text
    r = await client.get(f"/rounds/{code}/draws/1", headers=ADMIN)
    assert r.status_code == 200
    return dict(r.json())


def key(scope: str) -> dict[str, str]:
    """An integration's API key (role ``system``) scoped to `scope`."""
    return principal_headers(roles=["system"], scope=scope, kind="api_key", sub=f"key:{scope or 'none'}")


def user(role: str, scope: str, sub: str = "tester") -> dict[str, str]:
    return principal_headers(roles=[role], scope=scope, sub=sub)


def service() -> dict[str, str]:
    """The principal a service signs for itself (what scoring sends)."""
    return principal_headers(roles=["system"], scope="", kind="service", sub="service:scoring")


def body(r: httpx.Response) -> dict[str, Any]:
    """A problem body without what differs per request."""
    return {k: v for k, v in r.json().items() if k not in ("request_id", "instance")}


async def site_id(client: httpx.AsyncClient, code: str) -> int:
    r = await client.get(f"/sites/by-code/{code}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


async def codes_of(client: httpx.AsyncClient, district: str) -> list[str]:
    r = await client.get(
        "/rounds/2026Q1/assignments", params={"district": district, "limit": 500}, headers=ADMIN
    )
    return [a["site"]["code"] for a in r.json()["items"]]


async def export_file(client: httpx.AsyncClient, path: str, fmt: str) -> httpx.Response:
    """An export (as the city admin) in `fmt`, asserting it succeeded."""
    r = await client.get(path, params={"format": fmt}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r


def csv_rows(r: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))


def xlsx_rows(r: httpx.Response) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    return [[c for c in row] for row in ws.iter_rows()]  # type: ignore[misc]


async def outbox_rows(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every event the app queued in its outbox, oldest first."""
    async with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = await conn.execute(select(outbox_event).order_by(outbox_event.c.created_at, outbox_event.c.id))
        return [dict(r._mapping) for r in rows]
