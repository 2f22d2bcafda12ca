"""Every query on the site directory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.pagination import PageParams, Sort, apply_sort, contains
from services.sampling.importing import DISTRICT_TYPES, ExistingSite
from services.sampling.models import Site, metadata
from services.sampling.sites.schemas import SiteFilter

site_t = metadata.tables["site"]
BATCH = 2000
SORTABLE = {
    "code": site_t.c.code,
    "name": site_t.c.name,
    "type": site_t.c.type,
    "district": site_t.c.district,
}


async def execute(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """SQLAlchemy's own ``execute``: we run Core statements and read Rows, which sqlmodel's wrapper warns about."""
    return await SAAsyncSession.execute(session, statement, params)


SITE_UPDATE_COLUMNS = (
    "type",
    "subtype",
    "name",
    "parent_id",
    "parent_code",
    "district",
    "town_code",
    "org_unit",
    "active",
    "tags",
    "updated_at",
)


async def update_by_id(
    session: AsyncSession, table: Any, columns: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """Update `rows` of `table` by id, in batches: each dict has ``b_id`` and a value for every column."""
    if not rows:
        return
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in columns})
        .execution_options(synchronize_session=False)
    )
    for i in range(0, len(rows), BATCH):
        await execute(session, stmt, rows[i : i + BATCH])


def site_conditions(principal: Principal, where: SiteFilter) -> list[ColumnElement[bool]]:
    """SQL for `where`, always inside the principal's scope."""
    conds = [principal.scope_filter(col(Site.org_unit))]
    if where.types:
        conds.append(col(Site.type).in_(where.types))
    if where.subtypes:
        conds.append(col(Site.subtype).in_(where.subtypes))
    if where.parent_code is not None:
        conds.append(col(Site.parent_code) == where.parent_code)
    if where.district is not None:
        conds.append(col(Site.district) == where.district)
    if where.active is not None:
        conds.append(col(Site.active) == where.active)
    if where.q:
        conds.append(contains(where.q, col(Site.name), col(Site.code)))
    return conds


async def get_site(session: AsyncSession, site_id: int) -> Site | None:
    return await session.get(Site, site_id)


async def get_site_by_code(session: AsyncSession, code: str) -> Site | None:
    return (await execute(session, select(Site).where(col(Site.code) == code))).scalars().first()


async def list_sites(
    session: AsyncSession, conds: list[ColumnElement[bool]], *, page: PageParams, sort: Sort
) -> tuple[list[Site], int]:
    total = (await execute(session, select(func.count()).select_from(Site).where(*conds))).scalar_one()
    stmt = apply_sort(select(Site).where(*conds), sort, SORTABLE, tiebreak=site_t.c.id)
    rows = await execute(session, page.apply(stmt))
    return list(rows.scalars().all()), int(total)


async def export_site_rows(session: AsyncSession, conds: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    c = site_t.c
    cols = [c.code, c.type, c.subtype, c.name, c.parent_code, c.district, c.active, c.tags]
    rows = await execute(session, select(*cols).where(*conds).order_by(c.org_unit))
    return [dict(r._mapping) for r in rows]


async def existing_sites(
    session: AsyncSession, codes: Iterable[str] | None = None
) -> dict[str, ExistingSite]:
    """The directory as the importer sees it (all of it, or only `codes`)."""
    c = site_t.c
    stmt = select(
        c.id,
        c.code,
        c.type,
        c.subtype,
        c.name,
        c.parent_code,
        c.district,
        c.town_code,
        c.org_unit,
        c.active,
        c.tags,
    )
    out: dict[str, ExistingSite] = {}
    if codes is None:
        batches: list[Select[Any]] = [stmt]
    else:
        wanted = sorted(set(codes))
        batches = [stmt.where(c.code.in_(wanted[i : i + BATCH])) for i in range(0, len(wanted), BATCH)]
    for b in batches:
        for r in await execute(session, b):
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
                subtype=r.subtype,
            )
    return out


async def insert_sites(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert rows in batches; returns their ids by code."""
    ids: dict[str, int] = {}
    for i in range(0, len(rows), BATCH):
        result = await execute(
            session, insert(site_t).returning(site_t.c.id, site_t.c.code), rows[i : i + BATCH]
        )
        ids.update({r.code: r.id for r in result})
    return ids


async def update_sites(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Update rows by id (each dict has ``b_id`` and every column to set)."""
    await update_by_id(session, site_t, SITE_UPDATE_COLUMNS, rows)


async def move_descendants(session: AsyncSession, *, old_org: str, new_org: str, district: str) -> None:
    """Re-root every site below `old_org` under `new_org` (after a parent changed)."""
    c = site_t.c
    await execute(
        session,
        update(site_t)
        .where(orgunit.under(c.org_unit, old_org), c.org_unit != old_org)
        .values(org_unit=literal(new_org) + func.substr(c.org_unit, len(old_org) + 1), district=district)
        .execution_options(synchronize_session=False),
    )


async def has_children(session: AsyncSession, site_id: int) -> bool:
    return (
        await execute(session, select(col(Site.id)).where(col(Site.parent_id) == site_id).limit(1))
    ).first() is not None


async def delete_site(session: AsyncSession, site: Site) -> None:
    await session.delete(site)
    await session.flush()


async def refresh(session: AsyncSession, site: Site) -> None:
    await session.refresh(site)


async def district_slugs(session: AsyncSession) -> set[str]:
    rows = await execute(session, select(col(Site.district)).where(col(Site.type).in_(DISTRICT_TYPES)))
    return {r[0] for r in rows}


async def district_names(session: AsyncSession) -> dict[str, str]:
    """Each district's or zone's name (慈溪市) with its slug (cixi): files may name districts either way."""
    stmt = select(col(Site.name), col(Site.district)).where(col(Site.type).in_(DISTRICT_TYPES))
    return {r[0]: r[1] for r in await execute(session, stmt)}


@dataclass(frozen=True)
class FrameGroup:
    """Active sites of one type (and subtype) in one district and town: what a round's frame is built from."""

    type: str
    district: str
    town_code: str | None
    codes: list[str]
    subtype: str | None = None


async def frame_groups(
    session: AsyncSession, *, districts: Sequence[str], types: Sequence[str]
) -> list[FrameGroup]:
    """Active sites of `types` in `districts`, one row per (type, subtype, district, town) with its codes.

    Aggregating in the database sends ~8,000 rows instead of 100,000 for a province-sized frame.
    """
    c = site_t.c
    stmt = (
        select(c.type, c.district, c.town_code, func.aggregate_strings(c.code, ","), c.subtype)
        .where(c.active.is_(True), c.district.in_(list(districts)), c.type.in_(list(types)))
        .group_by(c.type, c.subtype, c.district, c.town_code)
    )
    rows = (await execute(session, stmt)).all()
    return [FrameGroup(r[0], r[1], r[2], r[3].split(","), r[4]) for r in rows]


async def sites_by_codes(session: AsyncSession, codes: Iterable[str]) -> dict[str, Row[Any]]:
    """Code, name, type, org unit, district and active flag of each site named (missing ones left out)."""
    c = site_t.c
    wanted = sorted(set(codes))
    out: dict[str, Row[Any]] = {}
    for i in range(0, len(wanted), BATCH):
        stmt = select(c.code, c.name, c.type, c.subtype, c.org_unit, c.district, c.active).where(
            c.code.in_(wanted[i : i + BATCH])
        )
        out.update({r.code: r for r in await execute(session, stmt)})
    return out
