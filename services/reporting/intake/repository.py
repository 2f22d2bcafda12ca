"""Every query intake makes: ids already stored, and new events appended to the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.reporting.models import StoredEvent


async def stored_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, int]:
    """{id: seq} for those of `ids` already in the store."""
    if not ids:
        return {}
    rows = await session.execute(
        select(col(StoredEvent.id), col(StoredEvent.seq)).where(col(StoredEvent.id).in_(list(set(ids))))
    )
    return {r[0]: r[1] for r in rows.all() if r[1] is not None}


async def append(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Append `rows` to the store; {id: seq} of those stored now (a twin committed meanwhile is skipped)."""
    if not rows:
        return {}
    table = StoredEvent.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id, table.c.seq)
    stored: dict[str, int] = {}
    # One statement for all (SQLAlchemy's insertmanyvalues); the answer is matched by id, not order.
    result = await session.execute(stmt, list(rows))
    for r in result.all():
        stored[r[0]] = r[1]
    return stored
