"""Rectification fixtures: the app on a shared database emptied per test, a frozen clock, principals
signed when a request is made, and fakes of notify's and sampling's directories and of the evidence
service over MockTransport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import delete, func, select

from services.kit.clock import FrozenClock
from services.kit.testing import (
    SignedHeaders,
    create_postgres_database,
    drop_postgres_database,
    running_app,
)
from services.rectification.config import Settings
from services.rectification.deadlines.policy import policy_from
from services.rectification.deadlines.service import TickResult, fire_due_timers
from services.rectification.main import build_app
from services.rectification.models import metadata, outbox_event, problem_table, timer_table
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB
from tests.rectification import fake_evidence
from tests.rectification.fake_evidence import PHOTO_ID, FakeEvidence

# Monday 5 January 2026, 09:00 in Ningbo.
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


SignedAs = SignedHeaders


CITY = SignedAs(roles=["city_admin"], scope="ningbo", sub="u-city-admin")
YINZHOU = SignedAs(roles=["district_admin"], scope="ningbo/yinzhou", sub="u-yinzhou-admin")
HAISHU = SignedAs(roles=["district_admin"], scope="ningbo/haishu", sub="u-haishu-admin")
ZHANG = SignedAs(roles=["responsible"], scope="ningbo/yinzhou/dongwu", sub="u-zhang-wei")
LI = SignedAs(roles=["responsible"], scope="ningbo/yinzhou/dongwu", sub="u-li-na")
LEADER = SignedAs(roles=["team_leader"], scope="ningbo", sub="u-team-leader")
# The services' own principal (what scoring's relay and sampling's client sign).
SYSTEM = SignedAs(roles=["system"], scope="", sub="service:scoring", kind="service")
# Integrations: API keys with the `system` role, one for the city and one for a district.
CITY_KEY = SignedAs(roles=["system"], scope="ningbo", sub="key:city", kind="api_key")
YINZHOU_KEY = SignedAs(roles=["system"], scope="ningbo/yinzhou", sub="key:yinzhou", kind="api_key")

HASH = "a" * 64  # the SHA-256 of fake_evidence.PHOTO_ID
EVIDENCE = [{"file_id": PHOTO_ID}]
ZHANG_REF = {"user_id": "u-zhang-wei"}
LI_REF = {"user_id": "u-li-na"}

# Notify's directory of people and sampling's of sites, as the fakes below serve them.
PEOPLE: dict[str, dict[str, Any]] = {
    "u-zhang-wei": {"name": "张伟", "org_unit": "ningbo/yinzhou/dongwu/tiantong"},
    "u-li-na": {"name": "李娜", "org_unit": "ningbo/yinzhou/dongwu"},
    "u-chen-jing": {"name": "陈静", "org_unit": "ningbo/haishu/yuehu"},
    "u-gone": {"name": "离职人员", "org_unit": "ningbo/yinzhou/dongwu", "active": False},
}
SITES: dict[str, dict[str, Any]] = {
    "330212001001": {
        "name": "天童村",
        "type": "village",
        "org_unit": "ningbo/yinzhou/dongwu/tiantong",
        "district": "yinzhou",
    },
    "330203001": {
        "name": "月湖街道",
        "type": "street",
        "org_unit": "ningbo/haishu/yuehu",
        "district": "haishu",
    },
}
TIANTONG = {"code": "330212001001"}
HAISHU_SITE = {"code": "330203001"}


@dataclass
class FakeDirectories:
    """Answers notify's ``GET /people/{user_id}`` and sampling's ``GET /sites/by-code/{code}``."""

    people: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in PEOPLE.items()})
    sites: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in SITES.items()})
    down: bool = False
    fail_with: int | None = None  # answer every lookup with this status
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, text="upstream trouble")
        host, parts = (
            request.url.host,
            [unquote(p) for p in request.url.raw_path.decode().strip("/").split("/")],
        )
        if host == "notify.test" and len(parts) == 2 and parts[0] == "people":
            person = self.people.get(parts[1])
            if person is None:
                return httpx.Response(404, json={"type": "/problems/person-not-found"})
            full = {"active": True, "roles": ["responsible"], **person, "user_id": parts[1]}
            return httpx.Response(200, json=full)
        if host == "sampling.test" and len(parts) == 3 and parts[:2] == ["sites", "by-code"]:
            site = self.sites.get(parts[2])
            if site is None:
                return httpx.Response(404, json={"type": "/problems/site-not-found"})
            return httpx.Response(200, json={"id": 1, "active": True, **site, "code": parts[2]})
        return httpx.Response(404, json={"type": "/problems/not-found"})


def problem_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site": dict(TIANTONG),
        "level": "village_community",
        "category": "三会一课",
        "severity": "general",
        "description": "支部委员会会议记录不全",
        "responsible_person": ZHANG_REF,
    }
    body.update(overrides)
    return body


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="session")
async def shared_database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """One migrated database for the API tests, emptied before each test (a fresh database per test
    costs over a second on PostgreSQL; emptying costs milliseconds)."""
    if TEST_DB == "postgres":
        url = await create_postgres_database(POSTGRES_ADMIN_URL, "t_rectification")
        yield url
        await drop_postgres_database(POSTGRES_ADMIN_URL, url)
    else:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('rectification') / 'rectification.db'}"


async def _empty(app: Any) -> None:
    async with app.state.sessionmaker() as s, s.begin():
        for table in reversed(metadata.sorted_tables):
            await s.execute(delete(table))


@pytest.fixture
def directories() -> FakeDirectories:
    return FakeDirectories()


def app_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for an in-process app whose peers are the fakes (notify.test, sampling.test)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": "test",
        "scheduler_enabled": False,
        "outbox_enabled": False,
        "db_pool_size": 2,
        "notify_url": "http://notify.test",
        "sampling_url": "http://sampling.test",
        "evidence_url": fake_evidence.URL,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def evidence() -> FakeEvidence:
    return FakeEvidence()


def peers(directories: FakeDirectories, evidence: FakeEvidence) -> httpx.MockTransport:
    """One transport for every peer: the evidence fake by its host, the directories otherwise."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == fake_evidence.HOST:
            return evidence.handler(request)
        return directories.handler(request)

    return httpx.MockTransport(handler)


@pytest.fixture
async def client(
    shared_database: str, clock: FrozenClock, directories: FakeDirectories, evidence: FakeEvidence
) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(app_settings(shared_database), clock=clock, http_transport=peers(directories, evidence))
    async with running_app(app) as c:
        await _empty(app)
        c.app = app  # type: ignore[attr-defined]
        yield c


async def create(
    client: httpx.AsyncClient, headers: Mapping[str, str] = YINZHOU, **overrides: Any
) -> dict[str, Any]:
    r = await client.post("/problems", json=problem_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def tick(client: httpx.AsyncClient, batch_size: int = 500) -> TickResult:
    """Run scheduler ticks until nothing more is due (at the test clock's now)."""
    app = client.app  # type: ignore[attr-defined]
    total = TickResult()
    while True:
        async with app.state.sessionmaker() as s, s.begin():
            r = await fire_due_timers(
                s, now=app.state.clock.now(), batch_size=batch_size, policy=policy_from(app.state.settings)
            )
        total.claimed += r.claimed
        total.fired += r.fired
        total.skipped += r.skipped
        if r.claimed < batch_size:
            return total


async def events(client: httpx.AsyncClient, event_type: str | None = None) -> list[dict[str, Any]]:
    app = client.app  # type: ignore[attr-defined]
    stmt = select(outbox_event).order_by(outbox_event.c.created_at, outbox_event.c.id)
    if event_type:
        stmt = stmt.where(outbox_event.c.event_type == event_type)
    async with app.state.sessionmaker() as s:
        return [dict(r._mapping) for r in (await s.execute(stmt)).all()]


async def pending_timers(client: httpx.AsyncClient, problem_id: int | None = None) -> list[dict[str, Any]]:
    app = client.app  # type: ignore[attr-defined]
    stmt = select(timer_table).where(timer_table.c.status == "pending").order_by(timer_table.c.fire_at)
    if problem_id is not None:
        stmt = stmt.where(timer_table.c.problem_id == problem_id)
    async with app.state.sessionmaker() as s:
        return [dict(r._mapping) for r in (await s.execute(stmt)).all()]


async def count_problems(client: httpx.AsyncClient) -> int:
    app = client.app  # type: ignore[attr-defined]
    async with app.state.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(problem_table))).scalar_one())
