"""Rules of the inspector pool (人员库): add and change people, import and export the pool."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.errors import UnprocessableEntity, field_error
from services.kit.pagination import PageParams, Sort
from services.sampling import errors, importing
from services.sampling.importing import ImportOptions
from services.sampling.inspectors import repository
from services.sampling.inspectors.schemas import InspectorCreate, InspectorFilter, InspectorUpdate
from services.sampling.models import Inspector
from services.sampling.sites import repository as sites_repository
from services.sampling.sites import service as sites_service
from services.sampling.sites.schemas import ImportReport


async def list_inspectors(
    session: AsyncSession, *, where: InspectorFilter, page: PageParams, sort: Sort
) -> tuple[list[Inspector], int]:
    """One page of the pool matching `where`, and how many match."""
    return await repository.list_inspectors(session, where, page=page, sort=sort)


async def import_inspectors(
    session: AsyncSession, *, data: bytes, opts: ImportOptions, now: datetime
) -> ImportReport:
    """Check an inspector file and upsert it by user_id, with the same modes as the directory import."""
    raw = await sites_service.parse_upload(data, opts, importing.INSPECTOR_TABLE)
    checked = importing.check_inspectors(
        raw,
        await sites_repository.district_slugs(session),
        await sites_repository.district_names(session),
    )
    if checked.errors and not opts.good_rows_only and not opts.dry_run:
        raise sites_service.import_rejected(sites_service.import_report(opts, checked, 0, 0, False), "人员库")
    existing = await repository.all_inspectors(session)
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for r in checked.rows:
        values = {
            "name": r.name,
            "home_district": r.home_district,
            "can_lead": r.can_lead,
            "active": r.active,
            "tags": list(r.tags),
            "updated_at": now,
        }
        ex = existing.get(r.user_id)
        if ex is None:
            new.append({"user_id": r.user_id, "created_at": now, **values})
        elif (ex.name, ex.home_district, ex.can_lead, ex.active, list(ex.tags)) != (
            r.name,
            r.home_district,
            r.can_lead,
            r.active,
            list(r.tags),
        ):
            changed.append({"b_id": ex.id, **values})
    if not opts.dry_run:
        await repository.upsert_inspectors(session, new, changed)
    return sites_service.import_report(opts, checked, len(new), len(changed), not opts.dry_run)


async def export_inspectors(session: AsyncSession, *, fmt: str, chinese: bool = False) -> bytes:
    """The whole pool, in the import format (Chinese headers and labels if asked)."""
    pool = await repository.all_inspectors(session)
    rows = [
        {
            "user_id": i.user_id,
            "name": i.name,
            "home_district": i.home_district,
            "can_lead": i.can_lead,
            "active": i.active,
            "tags": list(i.tags),
        }
        for _, i in sorted(pool.items())
    ]
    spec = importing.INSPECTOR_TABLE if chinese else None
    return await asyncio.to_thread(
        functools.partial(importing.write_table, rows, importing.INSPECTOR_COLUMNS, fmt, spec=spec)
    )


async def _check_district(session: AsyncSession, district: str) -> None:
    if district not in await sites_repository.district_slugs(session):
        raise UnprocessableEntity(
            f"No district or zone {district!r} in the directory",
            zh=f"名录库中没有区县市或功能区 {district!r}",
            errors=[
                field_error(
                    ["body", "home_district"], "unknown district", "unknown-district", zh="未知的区县市"
                )
            ],
        )


async def create_inspector(
    session: AsyncSession, *, inspector_in: InspectorCreate, now: datetime
) -> Inspector:
    """Add a person to the inspector pool."""
    if await repository.get_by_user_id(session, inspector_in.user_id):
        raise errors.DuplicateCode(
            f"Inspector {inspector_in.user_id} already exists",
            zh=f"督查人员 {inspector_in.user_id} 已存在",
            user_id=inspector_in.user_id,
        )
    await _check_district(session, inspector_in.home_district)
    inspector = Inspector(**inspector_in.model_dump(), created_at=now, updated_at=now)
    return await repository.add(session, inspector)


async def update_inspector(
    session: AsyncSession, *, inspector: Inspector, inspector_in: InspectorUpdate, now: datetime
) -> Inspector:
    """Change a person's details in the pool."""
    patch = {k: v for k, v in inspector_in.model_dump(exclude_unset=True).items() if v is not None}
    if "home_district" in patch:
        await _check_district(session, patch["home_district"])
    for k, v in patch.items():
        setattr(inspector, k, v)
    inspector.updated_at = now
    return await repository.add(session, inspector)
