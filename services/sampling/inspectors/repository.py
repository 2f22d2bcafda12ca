"""Every query on the inspector pool."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.pagination import PageParams, Sort, apply_sort, contains
from services.sampling.inspectors.schemas import InspectorFilter
from services.sampling.models import Inspector, metadata
from services.sampling.sites.repository import execute, update_by_id

inspector_t = metadata.tables["inspector"]
SORTABLE = {
    "user_id": inspector_t.c.user_id,
    "name": inspector_t.c.name,
    "home_district": inspector_t.c.home_district,
}


async def get_inspector(session: AsyncSession, inspector_id: int) -> Inspector | None:
    return await session.get(Inspector, inspector_id)


async def get_by_user_id(session: AsyncSession, user_id: str) -> Inspector | None:
    rows = await execute(session, select(Inspector).where(col(Inspector.user_id) == user_id))
    return rows.scalars().first()


async def list_inspectors(
    session: AsyncSession, where: InspectorFilter, *, page: PageParams, sort: Sort
) -> tuple[list[Inspector], int]:
    conds: list[ColumnElement[bool]] = []
    if where.home_district is not None:
        conds.append(col(Inspector.home_district) == where.home_district)
    if where.can_lead is not None:
        conds.append(col(Inspector.can_lead) == where.can_lead)
    if where.active is not None:
        conds.append(col(Inspector.active) == where.active)
    if where.q:
        conds.append(contains(where.q, col(Inspector.name), col(Inspector.user_id)))
    total = (await execute(session, select(func.count()).select_from(Inspector).where(*conds))).scalar_one()
    stmt = apply_sort(select(Inspector).where(*conds), sort, SORTABLE, tiebreak=inspector_t.c.id)
    rows = await execute(session, page.apply(stmt))
    return list(rows.scalars().all()), int(total)


async def all_inspectors(session: AsyncSession) -> dict[str, Inspector]:
    """The whole pool by user id."""
    rows = await execute(session, select(Inspector))
    return {i.user_id: i for i in rows.scalars().all()}


async def add(session: AsyncSession, inspector: Inspector) -> Inspector:
    session.add(inspector)
    await session.flush()
    return inspector


async def upsert_inspectors(
    session: AsyncSession, new: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    """Insert `new` rows and update `changed` ones by id (``b_id``)."""
    if new:
        await execute(session, insert(inspector_t), new)
    await update_by_id(
        session, inspector_t, ("name", "home_district", "can_lead", "active", "tags", "updated_at"), changed
    )
