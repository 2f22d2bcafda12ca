"""Every write the projection makes: upserts that keep the newest snapshot of each entity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.reporting.models import (
    Problem,
    ResultsVersion,
    Round,
    Sheet,
    StoredEvent,
    Visit,
)

Row = Mapping[str, Any]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _insert(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT (for ON CONFLICT)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def ensure_rounds(session: AsyncSession, codes: Sequence[str]) -> None:
    """A round row for each code (named by its code until its draw arrives)."""
    if not codes:
        return
    stmt = _insert(session, _table(Round)).on_conflict_do_nothing(index_elements=["code"])
    await session.execute(
        stmt,
        [
            {"code": c, "name": c, "district_names": {}, "last_seq": 0, "as_of": None}
            for c in sorted(set(codes))
        ],
    )


async def touch_round(session: AsyncSession, code: str, *, seq: int, occurred_at: datetime) -> None:
    """Move a round's freshness forward (never back): the newest event's seq and occurred_at."""
    t = _table(Round)
    await session.execute(
        update(t)
        .where(t.c.code == code)
        .values(
            last_seq=case((t.c.last_seq < seq, seq), else_=t.c.last_seq),
            as_of=case(
                (t.c.as_of.is_(None), occurred_at),
                (t.c.as_of < occurred_at, occurred_at),
                else_=t.c.as_of,
            ),
        )
    )


async def draw_revisions(session: AsyncSession, codes: Sequence[str]) -> dict[str, int | None]:
    """{round code: applied draw revision}, the rows locked for this transaction (PostgreSQL)."""
    rows = await session.execute(
        select(col(Round.code), col(Round.revision)).where(col(Round.code).in_(list(codes))).with_for_update()
    )
    return {r[0]: r[1] for r in rows.all()}


async def apply_draw(session: AsyncSession, code: str, round_values: Row, visits: Sequence[Row]) -> None:
    """Replace a round's description and its drawn sites."""
    await session.execute(update(_table(Round)).where(col(Round.code) == code).values(**round_values))
    await session.execute(delete(Visit).where(col(Visit.round_code) == code))
    if visits:
        await session.execute(_insert(session, _table(Visit)), list(visits))


async def upsert_newest(session: AsyncSession, model: Any, key: str, rows: Sequence[Row]) -> None:
    """Insert each row, or overwrite the stored one when the row's revision is >= the stored one's."""
    if not rows:
        return
    t = _table(model)
    stmt = _insert(session, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in t.columns if c.name != key},
        where=t.c.revision <= stmt.excluded.revision,
    )
    await session.execute(stmt, list(rows))


async def upsert_sheets(session: AsyncSession, rows: Sequence[Row]) -> None:
    await upsert_newest(session, Sheet, "sheet_id", rows)


async def upsert_problems(session: AsyncSession, rows: Sequence[Row]) -> None:
    await upsert_newest(session, Problem, "problem_id", rows)


async def insert_results(session: AsyncSession, rows: Sequence[Row]) -> None:
    """Keep each results version once (a version's content never changes)."""
    if rows:
        stmt = _insert(session, _table(ResultsVersion)).on_conflict_do_nothing(
            index_elements=["round_code", "version"]
        )
        await session.execute(stmt, list(rows))


async def clear(session: AsyncSession) -> None:
    """Drop every projection (the event store stays)."""
    for model in (Visit, Sheet, Problem, ResultsVersion, Round):
        await session.execute(delete(model))


async def lock_store(session: AsyncSession) -> None:
    """Hold off intake while the read model is rebuilt (PostgreSQL; SQLite writes one at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        await session.execute(text("LOCK TABLE event_store IN EXCLUSIVE MODE"))


async def stored_events(session: AsyncSession, *, after: int, limit: int) -> list[Row]:
    """One page of the store in sequence order."""
    t = _table(StoredEvent)
    rows = await session.execute(
        select(t.c.seq, t.c.id, t.c.type, t.c.occurred_at, t.c.round_code, t.c.data)
        .where(t.c.seq > after)
        .order_by(t.c.seq)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows.all()]
