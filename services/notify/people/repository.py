"""Every query on the recipient directory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kit import orgunit
from services.notify.models import Person


async def get_person(session: AsyncSession, user_id: str) -> Person | None:
    return await session.get(Person, user_id)


def add_person(session: AsyncSession, person: Person) -> None:
    session.add(person)


async def people_by_ids(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, Person]:
    if not user_ids:
        return {}
    rows = await session.execute(select(Person).where(col(Person.user_id).in_(list(user_ids))))
    return {p.user_id: p for p in rows.scalars()}


async def people_in_unit(session: AsyncSession, org_unit: str, *, subtree: bool) -> list[Person]:
    """Active people of `org_unit` (and, with `subtree`, of every unit below it)."""
    unit = orgunit.under(col(Person.org_unit), org_unit) if subtree else col(Person.org_unit) == org_unit
    rows = await session.execute(select(Person).where(unit, col(Person.active).is_(True)))
    return list(rows.scalars())


async def list_people(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    org_unit: str | None,
    role: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Person], int]:
    """People matching `visible` (the caller's scope, SQL on ``Person.org_unit``) and the filters."""
    where: list[ColumnElement[bool]] = [visible]
    if org_unit:
        where.append(orgunit.under(col(Person.org_unit), org_unit))
    stmt = select(Person).where(*where).order_by(col(Person.org_unit), col(Person.user_id))
    people = list((await session.execute(stmt)).scalars())
    if role:  # roles is a JSON list: filter here rather than in two SQL dialects
        people = [p for p in people if role in p.roles]
    return people[offset : offset + limit], len(people)


async def digest_candidates(session: AsyncSession) -> list[Person]:
    """Active people who asked for a digest (locked on PostgreSQL, so one replica builds each)."""
    stmt = select(Person).where(col(Person.digest_enabled).is_(True), col(Person.active).is_(True))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())
