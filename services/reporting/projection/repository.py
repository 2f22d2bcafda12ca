"""Every write the projection makes: upserts that keep the newest snapshot of each entity."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Date, Table, Text, case, cast, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kit.db import UtcDateTime
from services.reporting.models import (
    Problem,
    ResultsVersion,
    Round,
    Sheet,
    StoredEvent,
    Visit,
    metadata,
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
    await _bulk(session, Visit, visits)


def _converter(column: Any, sqlite_: bool) -> Callable[[Any], Any]:
    """What the driver takes for a column's value (what SQLAlchemy's types would bind)."""
    kind = column.type
    if isinstance(kind, JSON):
        return lambda v: None if v is None else orjson.dumps(v).decode()
    if isinstance(kind, UtcDateTime):
        if sqlite_:
            # SQLAlchemy's SQLite DATETIME text (naive UTC, always with microseconds).
            return lambda v: (
                None if v is None else v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            )
        return lambda v: None if v is None else v.astimezone(UTC)
    if isinstance(kind, Date) and sqlite_:
        return lambda v: None if v is None else v.isoformat()
    return lambda v: v


@functools.lru_cache(maxsize=32)
def _bulk_sql(
    table_name: str, dialect: str, key: tuple[str, ...], newest: bool
) -> tuple[str, tuple[str, ...]]:
    """INSERT … ON CONFLICT for `table_name` in the driver's own parameter style, and its column order."""
    t = metadata.tables[table_name]
    cols = tuple(c.name for c in t.columns)
    marks = ", ".join("?" if dialect == "sqlite" else f"${i + 1}" for i in range(len(cols)))
    names = ", ".join(f'"{c}"' for c in cols)
    sql = f'INSERT INTO "{table_name}" ({names}) VALUES ({marks})'
    if key:
        conflict = ", ".join(f'"{k}"' for k in key)
        if newest:
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in key)
            sql += f' ON CONFLICT ({conflict}) DO UPDATE SET {sets} WHERE "{table_name}".revision <= excluded.revision'
        else:
            sql += f" ON CONFLICT ({conflict}) DO NOTHING"
    return sql, cols


async def _bulk(
    session: AsyncSession, model: Any, rows: Sequence[Row], *, key: tuple[str, ...] = (), newest: bool = False
) -> None:
    """Many rows in one driver-level executemany (SQLAlchemy's per-row parameter handling costs more
    than the database's work here); values converted as the column types would bind them."""
    if not rows:
        return
    t = _table(model)
    dialect = session.get_bind().dialect.name
    sql, cols = _bulk_sql(t.name, dialect, key, newest)
    convert = [_converter(t.c[c], dialect == "sqlite") for c in cols]
    params = [tuple(f(row.get(c)) for f, c in zip(convert, cols, strict=True)) for row in rows]
    conn = await session.connection()
    await conn.exec_driver_sql(sql, params)


async def upsert_newest(session: AsyncSession, model: Any, key: str, rows: Sequence[Row]) -> None:
    """Insert each row, or overwrite the stored one when the row's revision is >= the stored one's."""
    await _bulk(session, model, rows, key=(key,), newest=True)


async def upsert_sheets(session: AsyncSession, rows: Sequence[Row]) -> None:
    await upsert_newest(session, Sheet, "sheet_id", rows)


async def upsert_problems(session: AsyncSession, rows: Sequence[Row]) -> None:
    await upsert_newest(session, Problem, "problem_id", rows)


async def insert_results(session: AsyncSession, rows: Sequence[Row]) -> None:
    """Keep each results version once (a version's content never changes)."""
    await _bulk(session, ResultsVersion, rows, key=("round_code", "version"))


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
        select(t.c.seq, t.c.id, t.c.type, t.c.occurred_at, t.c.round_code, cast(t.c.data, Text))
        .where(t.c.seq > after)
        .order_by(t.c.seq)
        .limit(limit)
    )
    # The JSON text parsed by orjson: several times faster than the column type's json.loads.
    return [
        {
            "seq": r[0],
            "id": r[1],
            "type": r[2],
            "occurred_at": r[3],
            "round_code": r[4],
            "data": orjson.loads(r[5]),
        }
        for r in rows.all()
    ]
