"""services.kit.db: engines for both databases, the request's session, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from services.kit.db import (
    SessionDep,
    UtcDateTime,
    is_sqlite,
    make_engine,
    make_sessionmaker,
    service_metadata,
)
from services.kit.errors import install_error_handlers

metadata = MetaData()
notes = Table(
    "note",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(20)),
    Column("at", UtcDateTime()),
)


@pytest.fixture
async def engine(database_url):
    engine = make_engine(await database_url("kitdb"), pool_size=2)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


def test_is_sqlite() -> None:
    assert is_sqlite("sqlite+aiosqlite:///x.db") and not is_sqlite("postgresql+asyncpg://h/d")


def test_service_metadata_names_constraints() -> None:
    assert service_metadata().naming_convention["pk"]


async def test_datetimes_come_back_aware_in_utc(engine) -> None:
    beijing = datetime(2026, 10, 9, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    async with make_sessionmaker(engine)() as s, s.begin():
        await s.execute(insert(notes).values(id=1, text="a", at=beijing))
    async with make_sessionmaker(engine)() as s:
        at = (await s.execute(select(notes.c.at))).scalar_one()
    assert at == beijing and at.tzinfo == UTC


async def test_a_naive_datetime_is_refused(engine) -> None:
    async with make_sessionmaker(engine)() as s:
        with pytest.raises(Exception, match="naive datetime"):
            await s.execute(insert(notes).values(id=2, text="b", at=datetime(2026, 1, 1)))


async def test_the_request_session_commits_on_success_and_rolls_back_on_error(engine) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.post("/notes/{note_id}")
    async def add(note_id: int, session: SessionDep, fail: bool = False) -> dict:
        await session.execute(insert(notes).values(id=note_id, text="x", at=datetime.now(UTC)))
        if fail:
            raise ValueError("boom")
        return {"ok": True}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.post("/notes/10")).status_code == 200
        assert (await c.post("/notes/11?fail=true")).status_code == 500
    async with make_sessionmaker(engine)() as s:
        ids = set((await s.execute(select(notes.c.id))).scalars())
    assert ids == {10}
