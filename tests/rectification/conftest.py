from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from services.kit.clock import FrozenClock
from services.kit.testing import (
    create_postgres_database,
    drop_postgres_database,
    principal_headers,
    running_app,
)
from services.rectification.config import Settings
from services.rectification.main import build_app
from services.rectification.models import metadata, outbox_event, problem_table, timer_table
from services.rectification.policy import policy_from
from services.rectification.scheduler import TickResult, fire_due_timers
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB

# Monday 5 January 2026, 09:00 in Ningbo.
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)

CITY = principal_headers(roles=["city_admin"], scope="ningbo", sub="u-city-admin")
YINZHOU = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou", sub="u-yinzhou-admin")
HAISHU = principal_headers(roles=["district_admin"], scope="ningbo/haishu", sub="u-haishu-admin")
ZHANG = principal_headers(roles=["responsible"], scope="ningbo/yinzhou/dongwu", sub="u-zhang-wei")
LI = principal_headers(roles=["responsible"], scope="ningbo/yinzhou/dongwu", sub="u-li-na")
LEADER = principal_headers(roles=["team_leader"], scope="ningbo", sub="u-team-leader")
SYSTEM = principal_headers(roles=["system"], scope="", sub="service:scoring", kind="service")

HASH = "a" * 64
EVIDENCE = [{"file_hash": HASH, "name": "整改照片.jpg"}]
ZHANG_REF = {"user_id": "u-zhang-wei", "name": "张伟", "org_unit": "ningbo/yinzhou/dongwu/tiantong"}
LI_REF = {"user_id": "u-li-na", "name": "李娜", "org_unit": "ningbo/yinzhou/dongwu"}


def problem_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site": {
            "code": "330212001001",
            "name": "天童村",
            "type": "village",
            "org_unit": "ningbo/yinzhou/dongwu/tiantong",
            "district": "yinzhou",
        },
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
async def client(shared_database: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=shared_database,
        environment="test",
        scheduler_enabled=False,
        outbox_enabled=False,
        db_pool_size=2,
    )
    app = build_app(settings, clock=clock)
    async with running_app(app) as c:
        await _empty(app)
        c.app = app  # type: ignore[attr-defined]
        yield c


async def create(
    client: httpx.AsyncClient, headers: dict[str, str] = YINZHOU, **overrides: Any
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
