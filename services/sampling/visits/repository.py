"""Every query on visit days: a team's visits and daily load, a person's teams, the held-back reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.pagination import PageParams
from services.sampling.enums import PUBLISHED_STATUSES
from services.sampling.models import Assignment, Round, outbox_event
from services.sampling.sites.repository import execute


async def visits_of_teams(
    session: AsyncSession,
    draw_id: int,
    team_ids: Sequence[int],
    *,
    visible_to: Principal | None = None,
    page: PageParams | None = None,
) -> tuple[list[Assignment], int]:
    """The teams' visits of a draw by day, then site code (inside `visible_to`'s scope when given)."""
    conds: list[ColumnElement[bool]] = [
        col(Assignment.draw_id) == draw_id,
        col(Assignment.team_id).in_(list(team_ids)),
    ]
    if visible_to is not None:
        conds.append(visible_to.scope_filter(col(Assignment.org_unit)))
    total = (await execute(session, select(func.count()).select_from(Assignment).where(*conds))).scalar_one()
    stmt = select(Assignment).where(*conds).order_by(col(Assignment.visit_on), col(Assignment.site_code))
    if page is not None:
        stmt = page.apply(stmt)
    return list((await execute(session, stmt)).scalars().all()), int(total)


async def team_load(session: AsyncSession, team_id: int, *, except_id: int | None = None) -> dict[date, int]:
    """How many visits the team has on each day (leaving out the assignment `except_id`)."""
    conds: list[ColumnElement[bool]] = [col(Assignment.team_id) == team_id]
    if except_id is not None:
        conds.append(col(Assignment.id) != except_id)
    rows = await execute(
        session,
        select(col(Assignment.visit_on), func.count()).where(*conds).group_by(col(Assignment.visit_on)),
    )
    return {r[0]: int(r[1]) for r in rows}


async def rounds_with_draw(session: AsyncSession, *, published_only: bool, code: str | None) -> list[Round]:
    """Rounds that have a draw in force (only published and closed ones if asked), newest first."""
    conds: list[ColumnElement[bool]] = [col(Round.current_draw_id).is_not(None)]
    if published_only:
        conds.append(col(Round.status).in_(PUBLISHED_STATUSES))
    if code is not None:
        conds.append(col(Round.code) == code)
    rows = await execute(session, select(Round).where(*conds).order_by(col(Round.code).desc()))
    return list(rows.scalars().all())


async def upcoming_events(session: AsyncSession, event_type: str, round_code: str) -> list[dict[str, Any]]:
    """The outbox rows of `event_type` about `round_code`, whatever their state, oldest first."""
    rows = await execute(
        session,
        select(outbox_event)
        .where(outbox_event.c.event_type == event_type)
        .order_by(outbox_event.c.created_at, outbox_event.c.id),
    )
    out = [dict(r._mapping) for r in rows]
    return [r for r in out if (r["payload"] or {}).get("round_code") == round_code]


async def save(session: AsyncSession, *rows: Any) -> None:
    for row in rows:
        session.add(row)
    await session.flush()
