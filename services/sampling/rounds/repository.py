"""Every query on rounds, frames, draws, teams and assignments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.pagination import PageParams, Sort, apply_sort
from services.sampling.enums import PUBLISHED_STATUSES, RoundStatus
from services.sampling.models import Assignment, Draw, Round, RoundFrame, Team, metadata
from services.sampling.sites import repository as sites_repository
from services.sampling.sites.repository import BATCH, execute

round_t = metadata.tables["round"]
assignment_t = metadata.tables["assignment"]
SORTABLE = {"code": round_t.c.code, "created_at": round_t.c.created_at, "status": round_t.c.status}


async def save(session: AsyncSession, *rows: Any) -> None:
    """Add `rows` (new or changed) and flush them (ids are set afterwards)."""
    for row in rows:
        session.add(row)
    await session.flush()


async def get_round_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Round | None:
    stmt = select(Round).where(col(Round.code) == code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await execute(session, stmt)).scalars().first()


async def list_rounds(
    session: AsyncSession, *, status: RoundStatus | None, page: PageParams, sort: Sort
) -> tuple[list[Round], int]:
    conds = [col(Round.status) == status] if status else []
    total = (await execute(session, select(func.count()).select_from(Round).where(*conds))).scalar_one()
    stmt = apply_sort(select(Round).where(*conds), sort, SORTABLE, tiebreak=round_t.c.id)
    rows = await execute(session, page.apply(stmt))
    return list(rows.scalars().all()), int(total)


async def next_revision(session: AsyncSession, rnd: Round) -> int:
    """Count one more change of the round's sample and return its new revision.

    Incremented in SQL (the row lock orders concurrent writers), so revisions only ever grow; the
    object learns the value without marking it changed (the ORM never writes it back).
    """
    stmt = (
        update(round_t)
        .where(round_t.c.id == rnd.id)
        .values(revision=round_t.c.revision + 1)
        .returning(round_t.c.revision)
    )
    revision = int((await execute(session, stmt)).scalar_one())
    set_committed_value(rnd, "revision", revision)
    return revision


async def district_names(session: AsyncSession) -> dict[str, str]:
    """Every district's or zone's Chinese name (慈溪市) by slug (cixi), from the directory."""
    names: dict[str, str] = {}
    for name, slug in sorted((await sites_repository.district_names(session)).items()):
        names.setdefault(slug, name)
    return names


async def get_frame(session: AsyncSession, round_id: int) -> RoundFrame | None:
    return await session.get(RoundFrame, round_id)


async def recently_drawn_codes(
    session: AsyncSession, *, before_code: str, rounds: int
) -> tuple[list[str], set[str]]:
    """Codes of the rounds drawn before `before_code` (the last `rounds` of them) and the sites they visited."""
    if rounds <= 0:
        return [], set()
    prev = await execute(
        session,
        select(col(Round.code), col(Round.current_draw_id))
        .where(col(Round.code) < before_code, col(Round.current_draw_id).is_not(None))
        .order_by(col(Round.code).desc())
        .limit(rounds),
    )
    pairs = list(prev.all())
    if not pairs:
        return [], set()
    rows = await execute(
        session,
        select(col(Assignment.site_code)).where(col(Assignment.draw_id).in_([p[1] for p in pairs])),
    )
    return [p[0] for p in pairs], {r[0] for r in rows}


async def get_draw_by_id(session: AsyncSession, draw_id: int) -> Draw | None:
    return await session.get(Draw, draw_id)


async def list_draws(session: AsyncSession, round_id: int) -> list[Draw]:
    rows = await execute(
        session, select(Draw).where(col(Draw.round_id) == round_id).order_by(col(Draw.number))
    )
    return list(rows.scalars().all())


async def get_draw(session: AsyncSession, round_id: int, number: int) -> Draw | None:
    rows = await execute(
        session, select(Draw).where(col(Draw.round_id) == round_id, col(Draw.number) == number)
    )
    return rows.scalars().first()


async def last_draw_number(session: AsyncSession, round_id: int) -> int:
    n = (
        await execute(session, select(func.max(col(Draw.number))).where(col(Draw.round_id) == round_id))
    ).scalar_one()
    return int(n or 0)


async def teams_of_draw(session: AsyncSession, draw_id: int) -> list[Team]:
    rows = await execute(session, select(Team).where(col(Team.draw_id) == draw_id).order_by(col(Team.number)))
    return list(rows.scalars().all())


async def teams_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Team]:
    rows = await execute(session, select(Team).where(col(Team.id).in_(list(set(ids)))))
    return {t.id: t for t in rows.scalars().all() if t.id is not None}


async def insert_assignments(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await execute(session, insert(assignment_t), rows[i : i + BATCH])


async def get_assignment(session: AsyncSession, draw_id: int, site_code: str) -> Assignment | None:
    rows = await execute(
        session,
        select(Assignment).where(col(Assignment.draw_id) == draw_id, col(Assignment.site_code) == site_code),
    )
    return rows.scalars().first()


async def list_assignments(
    session: AsyncSession,
    draw_id: int,
    *,
    team_ids: Sequence[int] | None = None,
    district: str | None = None,
    visible_to: Principal | None = None,
    page: PageParams | None = None,
) -> tuple[list[Assignment], int]:
    """A draw's assignments; `visible_to` keeps only those inside that principal's scope."""
    conds: list[ColumnElement[bool]] = [col(Assignment.draw_id) == draw_id]
    if visible_to is not None:
        conds.append(visible_to.scope_filter(col(Assignment.org_unit)))
    if team_ids is not None:
        conds.append(col(Assignment.team_id).in_(list(team_ids)))
    if district is not None:
        conds.append(col(Assignment.district) == district)
    total = (await execute(session, select(func.count()).select_from(Assignment).where(*conds))).scalar_one()
    stmt = select(Assignment).where(*conds).order_by(col(Assignment.district), col(Assignment.site_code))
    if page is not None:
        stmt = page.apply(stmt)
    return list((await execute(session, stmt)).scalars().all()), int(total)


async def published_rounds(session: AsyncSession, *, code: str | None = None) -> list[Round]:
    """Published and closed rounds, newest first (only `code` when given)."""
    conds: list[ColumnElement[bool]] = [col(Round.status).in_(PUBLISHED_STATUSES)]
    if code is not None:
        conds.append(col(Round.code) == code)
    rows = await execute(session, select(Round).where(*conds).order_by(col(Round.code).desc()))
    return list(rows.scalars().all())
