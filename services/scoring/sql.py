"""The two statement helpers every entity repository uses (repositories hold the queries themselves)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession


async def execute(session: AsyncSession, stmt: Any, params: Any = None) -> Result[Any]:
    """Run a Core statement on the session."""
    # SQLModel deprecates execute() in favour of exec(); the plain SQLAlchemy call reads the same rows.
    return await SAAsyncSession.execute(session, stmt, params)


async def insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows into a model's table (Core: no ORM objects built)."""
    if len(rows) > 1:
        await execute(session, insert(model.__table__), rows)
    elif rows:
        await execute(session, insert(model.__table__).values(**rows[0]))
