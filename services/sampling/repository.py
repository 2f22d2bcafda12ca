"""Every query sampling runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import orgunit
from services.kit.auth import Principal
from services.sampling.importing import DISTRICT_TYPES, ExistingSite
from services.sampling.models import Assignment, Draw, Inspector, Round, RoundFrame, Site, Team

site_t = Site.__table__  # type: ignore[attr-defined]
inspector_t = Inspector.__table__  # type: ignore[attr-defined]
BATCH = 2000


async def _execute(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """SQLAlchemy's own ``execute``: we run Core statements and read Rows, which sqlmodel's wrapper warns about."""
    return await SAAsyncSession.execute(session, statement, params)


async def get_site(session: AsyncSession, site_id: int) -> Site | None:
    return await session.get(Site, site_id)


async def get_site_by_code(session: AsyncSession, code: str) -> Site | None:
    return (await _execute(session, select(Site).where(col(Site.code) == code))).scalars().first()


def site_filters(
    principal: Principal,
    *,
    type_: Sequence[str] | None = None,
    parent_code: str | None = None,
    district: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[ColumnElement[bool]]:
    conds = [principal.scope_filter(col(Site.org_unit))]
    if type_:
        conds.append(col(Site.type).in_(type_))  # type: ignore[attr-defined]
    if parent_code is not None:
        conds.append(col(Site.parent_code) == parent_code)  # type: ignore[arg-type]
    if district is not None:
        conds.append(col(Site.district) == district)  # type: ignore[arg-type]
    if active is not None:
        conds.append(col(Site.active) == active)  # type: ignore[arg-type]
    if q:
        conds.append(col(Site.name).contains(q, autoescape=True))  # type: ignore[attr-defined]
    return conds


async def list_sites(
    session: AsyncSession, conds: list[ColumnElement[bool]], *, limit: int, offset: int
) -> tuple[list[Site], int]:
    total = (await _execute(session, select(func.count()).select_from(Site).where(*conds))).scalar_one()
    rows = await _execute(
        session, select(Site).where(*conds).order_by(col(Site.code)).limit(limit).offset(offset)
    )
    return list(rows.scalars().all()), int(total)


async def export_site_rows(session: AsyncSession, conds: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    cols = [
        site_t.c.code,
        site_t.c.type,
        site_t.c.name,
        site_t.c.parent_code,
        site_t.c.district,
        site_t.c.active,
        site_t.c.tags,
    ]
    rows = await _execute(session, select(*cols).where(*conds).order_by(site_t.c.org_unit))
    return [dict(r._mapping) for r in rows]


async def existing_sites(
    session: AsyncSession, codes: Iterable[str] | None = None
) -> dict[str, ExistingSite]:
    """The directory as the importer sees it (all of it, or only `codes`)."""
    c = site_t.c
    stmt = select(
        c.id, c.code, c.type, c.name, c.parent_code, c.district, c.town_code, c.org_unit, c.active, c.tags
    )
    out: dict[str, ExistingSite] = {}
    if codes is None:
        batches: list[Select[Any]] = [stmt]
    else:
        wanted = sorted(set(codes))
        batches = [stmt.where(c.code.in_(wanted[i : i + BATCH])) for i in range(0, len(wanted), BATCH)]
    for b in batches:
        for r in await _execute(session, b):
            out[r.code] = ExistingSite(
                r.id,
                r.code,
                r.type,
                r.name,
                r.parent_code,
                r.district,
                r.town_code,
                r.org_unit,
                r.active,
                tuple(r.tags or ()),
            )
    return out


async def insert_sites(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows in batches; returns their ids by code."""
    ids: dict[str, int] = {}
    for i in range(0, len(rows), BATCH):
        result = await _execute(
            session, insert(site_t).returning(site_t.c.id, site_t.c.code), rows[i : i + BATCH]
        )
        ids.update({r.code: r.id for r in result})
    return ids


async def update_sites(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Update rows by id (each dict has ``b_id`` and every column to set)."""
    if not rows:
        return
    c = site_t.c
    stmt = (
        update(site_t)
        .where(c.id == bindparam("b_id"))
        .values(
            type=bindparam("type"),
            name=bindparam("name"),
            parent_id=bindparam("parent_id"),
            parent_code=bindparam("parent_code"),
            district=bindparam("district"),
            town_code=bindparam("town_code"),
            org_unit=bindparam("org_unit"),
            active=bindparam("active"),
            tags=bindparam("tags"),
            updated_at=bindparam("updated_at"),
        )
    )
    for i in range(0, len(rows), BATCH):
        await _execute(session, stmt.execution_options(synchronize_session=False), rows[i : i + BATCH])


async def move_descendants(session: AsyncSession, *, old_org: str, new_org: str, district: str) -> None:
    """Re-root every site below `old_org` under `new_org` (after a parent changed)."""
    c = site_t.c
    await _execute(
        session,
        update(site_t)
        .where(orgunit.under(c.org_unit, old_org), c.org_unit != old_org)
        .values(org_unit=literal(new_org) + func.substr(c.org_unit, len(old_org) + 1), district=district)
        .execution_options(synchronize_session=False),
    )


async def has_children(session: AsyncSession, site_id: int) -> bool:
    return (
        await _execute(session, select(col(Site.id)).where(col(Site.parent_id) == site_id).limit(1))
    ).first() is not None


async def district_slugs(session: AsyncSession) -> set[str]:
    rows = await _execute(session, select(col(Site.district)).where(col(Site.type).in_(DISTRICT_TYPES)))  # type: ignore[attr-defined]
    return {r[0] for r in rows}


@dataclass(frozen=True)
class FrameGroup:
    type: str
    district: str
    town_code: str | None
    codes: list[str]


async def frame_groups(
    session: AsyncSession, *, districts: Sequence[str], types: Sequence[str]
) -> list[FrameGroup]:
    """Active sites of `types` in `districts`, one row per (type, district, town) with its codes.

    Aggregating in the database sends ~8,000 rows instead of 100,000 for a province-sized frame.
    """
    c = site_t.c
    stmt = (
        select(c.type, c.district, c.town_code, func.aggregate_strings(c.code, ","))
        .where(c.active.is_(True), c.district.in_(list(districts)), c.type.in_(list(types)))
        .group_by(c.type, c.district, c.town_code)
    )
    rows = (await _execute(session, stmt)).all()
    return [FrameGroup(r[0], r[1], r[2], r[3].split(",")) for r in rows]


async def sites_by_codes(session: AsyncSession, codes: Iterable[str]) -> dict[str, Any]:
    c = site_t.c
    wanted = sorted(set(codes))
    out: dict[str, Any] = {}
    for i in range(0, len(wanted), BATCH):
        stmt = select(c.code, c.name, c.type, c.org_unit, c.district, c.active).where(
            c.code.in_(wanted[i : i + BATCH])
        )
        out.update({r.code: r for r in await _execute(session, stmt)})
    return out


# Inspectors


async def get_inspector(session: AsyncSession, inspector_id: int) -> Inspector | None:
    return await session.get(Inspector, inspector_id)


async def list_inspectors(
    session: AsyncSession,
    *,
    district: str | None,
    can_lead: bool | None,
    active: bool | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Inspector], int]:
    conds: list[Any] = []
    if district is not None:
        conds.append(col(Inspector.home_district) == district)
    if can_lead is not None:
        conds.append(col(Inspector.can_lead) == can_lead)
    if active is not None:
        conds.append(col(Inspector.active) == active)
    if q:
        conds.append(
            or_(
                col(Inspector.name).contains(q, autoescape=True),
                col(Inspector.user_id).contains(q, autoescape=True),
            )
        )  # type: ignore[attr-defined]
    total = (await _execute(session, select(func.count()).select_from(Inspector).where(*conds))).scalar_one()
    rows = await _execute(
        session, select(Inspector).where(*conds).order_by(col(Inspector.user_id)).limit(limit).offset(offset)
    )
    return list(rows.scalars().all()), int(total)


async def all_inspectors(session: AsyncSession) -> dict[str, Inspector]:
    rows = await _execute(session, select(Inspector))
    return {i.user_id: i for i in rows.scalars().all()}


async def upsert_inspectors(
    session: AsyncSession, new: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    if new:
        await _execute(session, insert(inspector_t), new)
    if changed:
        c = inspector_t.c
        stmt = (
            update(inspector_t)
            .where(c.id == bindparam("b_id"))
            .values(
                name=bindparam("name"),
                home_district=bindparam("home_district"),
                can_lead=bindparam("can_lead"),
                active=bindparam("active"),
                tags=bindparam("tags"),
                updated_at=bindparam("updated_at"),
            )
        )
        await _execute(session, stmt.execution_options(synchronize_session=False), changed)


# Rounds, frames, draws, teams, assignments


async def get_round_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Round | None:
    stmt = select(Round).where(col(Round.code) == code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await _execute(session, stmt)).scalars().first()


async def list_rounds(
    session: AsyncSession, *, status: str | None, limit: int, offset: int
) -> tuple[list[Round], int]:
    conds = [col(Round.status) == status] if status else []
    total = (await _execute(session, select(func.count()).select_from(Round).where(*conds))).scalar_one()
    rows = await _execute(
        session, select(Round).where(*conds).order_by(col(Round.code).desc()).limit(limit).offset(offset)
    )  # type: ignore[attr-defined]
    return list(rows.scalars().all()), int(total)


async def get_frame(session: AsyncSession, round_id: int) -> RoundFrame | None:
    return await session.get(RoundFrame, round_id)


async def recently_drawn_codes(
    session: AsyncSession, *, before_code: str, rounds: int
) -> tuple[list[str], set[str]]:
    """Codes of the rounds drawn before `before_code` (the last `rounds` of them) and the sites they visited."""
    if rounds <= 0:
        return [], set()
    prev = await _execute(
        session,
        select(col(Round.code), col(Round.current_draw_id))
        .where(col(Round.code) < before_code, col(Round.current_draw_id).is_not(None))  # type: ignore[union-attr]
        .order_by(col(Round.code).desc())  # type: ignore[attr-defined]
        .limit(rounds),
    )
    pairs = list(prev.all())
    if not pairs:
        return [], set()
    rows = await _execute(
        session,
        select(col(Assignment.site_code)).where(col(Assignment.draw_id).in_([p[1] for p in pairs])),  # type: ignore[attr-defined]
    )
    return [p[0] for p in pairs], {r[0] for r in rows}


async def list_draws(session: AsyncSession, round_id: int) -> list[Draw]:
    rows = await _execute(
        session, select(Draw).where(col(Draw.round_id) == round_id).order_by(col(Draw.number))
    )
    return list(rows.scalars().all())


async def get_draw(session: AsyncSession, round_id: int, number: int) -> Draw | None:
    rows = await _execute(
        session, select(Draw).where(col(Draw.round_id) == round_id, col(Draw.number) == number)
    )
    return rows.scalars().first()


async def last_draw_number(session: AsyncSession, round_id: int) -> int:
    n = (
        await _execute(session, select(func.max(col(Draw.number))).where(col(Draw.round_id) == round_id))
    ).scalar_one()
    return int(n or 0)


async def teams_of_draw(session: AsyncSession, draw_id: int) -> list[Team]:
    rows = await _execute(
        session, select(Team).where(col(Team.draw_id) == draw_id).order_by(col(Team.number))
    )
    return list(rows.scalars().all())


async def insert_assignments(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    table = Assignment.__table__  # type: ignore[attr-defined]
    for i in range(0, len(rows), BATCH):
        await _execute(session, insert(table), rows[i : i + BATCH])


async def get_assignment(session: AsyncSession, draw_id: int, site_code: str) -> Assignment | None:
    rows = await _execute(
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
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Assignment], int]:
    """A draw's assignments; `visible_to` keeps only those inside that principal's scope."""
    conds: list[Any] = [col(Assignment.draw_id) == draw_id]
    if visible_to is not None:
        conds.append(visible_to.scope_filter(col(Assignment.org_unit)))
    if team_ids is not None:
        conds.append(col(Assignment.team_id).in_(list(team_ids)))  # type: ignore[attr-defined]
    if district is not None:
        conds.append(col(Assignment.district) == district)
    total = (await _execute(session, select(func.count()).select_from(Assignment).where(*conds))).scalar_one()
    stmt = (
        select(Assignment)
        .where(*conds)
        .order_by(col(Assignment.district), col(Assignment.site_code))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await _execute(session, stmt)).scalars().all()), int(total)


async def published_rounds(session: AsyncSession) -> list[Round]:
    rows = await _execute(
        session,
        select(Round).where(col(Round.status).in_(("published", "closed"))).order_by(col(Round.code).desc()),  # type: ignore[attr-defined]
    )
    return list(rows.scalars().all())


async def teams_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Team]:
    rows = await _execute(session, select(Team).where(col(Team.id).in_(list(set(ids)))))  # type: ignore[union-attr]
    return {t.id: t for t in rows.scalars().all() if t.id is not None}
