"""Rules of the site directory (名录库) and the inspector pool (人员库): CRUD, imports, exports."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import Conflict, UnprocessableEntity, field_error
from services.sampling import errors, importing, repository
from services.sampling.importing import Checked, ExistingSite, SiteRow
from services.sampling.models import Inspector, Site
from services.sampling.schemas import ImportReport, InspectorCreate, InspectorUpdate, SiteCreate, SiteUpdate


@dataclass
class ImportOptions:
    fmt: str
    dry_run: bool = False
    good_rows_only: bool = False


def _report(opts: ImportOptions, checked: Checked, created: int, updated: int, applied: bool) -> ImportReport:
    rejected = len({e["line"] for e in checked.errors})
    return ImportReport.model_validate(
        {
            "format": opts.fmt,
            "dry_run": opts.dry_run,
            "mode": "good_rows" if opts.good_rows_only else "all_or_nothing",
            "applied": applied,
            "total_rows": checked.total,
            "created": created,
            "updated": updated,
            "unchanged": len(checked.rows) - created - updated,
            "rejected": rejected,
            "errors": checked.errors,
        }
    )


def _reject(report: ImportReport, what: str) -> errors.ImportRejected:
    return errors.ImportRejected(
        f"{report.rejected} of {report.total_rows} {what} rows are bad; nothing was imported "
        "(fix them, or import with good_rows_only=true)",
        errors=[e.model_dump() for e in report.errors],
        report=report.model_dump(),
    )


def _same(row: SiteRow, ex: ExistingSite) -> bool:
    return (
        row.type == ex.type
        and row.name == ex.name
        and row.parent_code == ex.parent_code
        and row.district == ex.district
        and row.town_code == ex.town_code
        and row.org_unit == ex.org_unit
        and row.active == ex.active
        and tuple(row.tags) == ex.tags
    )


async def _apply_sites(
    session: AsyncSession, rows: list[SiteRow], existing: dict[str, ExistingSite], now: datetime
) -> tuple[int, int]:
    """Upsert checked rows (parents before children); returns (created, updated)."""
    ids = {code: ex.id for code, ex in existing.items()}
    created = updated = 0
    moved: list[tuple[str, str, str]] = []
    for level in (0, 1, 2):
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for r in rows:
            if importing.LEVEL[r.type] != level:
                continue
            values = {
                "type": r.type,
                "name": r.name,
                "parent_id": ids.get(r.parent_code) if r.parent_code else None,
                "parent_code": r.parent_code,
                "district": r.district,
                "town_code": r.town_code,
                "org_unit": r.org_unit,
                "active": r.active,
                "tags": list(r.tags),
                "updated_at": now,
            }
            ex = existing.get(r.code)
            if ex is None:
                new.append({"code": r.code, "created_at": now, **values})
            elif not _same(r, ex):
                changed.append({"b_id": ex.id, **values})
                if ex.org_unit != r.org_unit:
                    moved.append((ex.org_unit, r.org_unit, r.district))
        ids.update(await repository.insert_sites(session, new))
        await repository.update_sites(session, changed)
        created += len(new)
        updated += len(changed)
    for old_org, new_org, district in moved:
        await repository.move_descendants(session, old_org=old_org, new_org=new_org, district=district)
    return created, updated


async def _apply_guarded(
    session: AsyncSession, rows: list[SiteRow], existing: dict[str, ExistingSite], now: datetime
) -> tuple[int, int]:
    # Another import or edit may add the same code between our read and our insert.
    try:
        return await _apply_sites(session, rows, existing, now)
    except IntegrityError as exc:
        raise Conflict(
            "The directory changed while this import ran (a code was added concurrently); retry it"
        ) from exc


async def import_sites(
    session: AsyncSession, *, principal: Principal, data: bytes, opts: ImportOptions, now: datetime
) -> ImportReport:
    """Check a directory file and upsert it by code: all or nothing, only the good rows, or not at all (dry run)."""
    try:
        raw = await asyncio.to_thread(importing.parse_table, data, opts.fmt)
    except importing.UnreadableFile as exc:
        raise errors.UnreadableFileProblem(str(exc), format=opts.fmt) from exc
    existing = await repository.existing_sites(session)
    checked = await asyncio.to_thread(importing.check_sites, raw, existing, principal.covers)
    if checked.errors and not opts.good_rows_only and not opts.dry_run:
        raise _reject(_report(opts, checked, 0, 0, False), "site")
    if opts.dry_run:
        created = sum(1 for r in checked.rows if r.code not in existing)
        updated = sum(1 for r in checked.rows if r.code in existing and not _same(r, existing[r.code]))
        return _report(opts, checked, created, updated, False)
    created, updated = await _apply_guarded(session, checked.rows, existing, now)
    return _report(opts, checked, created, updated, True)


async def export_sites(session: AsyncSession, *, conds: list[Any], fmt: str) -> bytes:
    rows = await repository.export_site_rows(session, conds)
    return await asyncio.to_thread(importing.write_table, rows, importing.SITE_COLUMNS, fmt)


def _single_row_errors(checked: Checked) -> None:
    if checked.errors:
        e = checked.errors[0]
        problem = e["problem"]
        cls: type[UnprocessableEntity] = (
            errors.InvalidParent
            if problem in ("unknown-parent", "invalid-parent", "cycle")
            else errors.OutsideScope
            if problem == "out-of-scope"
            else errors.ImportRejected
        )
        raise cls(e["reason"], errors=[field_error(["body", e["column"] or "code"], e["reason"], problem)])


async def create_site(
    session: AsyncSession, *, principal: Principal, site_in: SiteCreate, now: datetime
) -> Site:
    """Add one site under an existing parent."""
    codes = [site_in.code] + ([site_in.parent_code] if site_in.parent_code else [])
    existing = await repository.existing_sites(session, codes)
    if site_in.code in existing:
        raise errors.DuplicateCode(f"A site with code {site_in.code} already exists", code=site_in.code)
    raw = [(1, {**site_in.model_dump(), "tags": site_in.tags})]
    checked = importing.check_sites(raw, existing, principal.covers)
    _single_row_errors(checked)
    await _apply_guarded(session, checked.rows, existing, now)
    site = await repository.get_site_by_code(session, site_in.code)
    assert site is not None
    return site


async def update_site(
    session: AsyncSession, *, principal: Principal, site: Site, site_in: SiteUpdate, now: datetime
) -> Site:
    """Rename, (de)activate, retag or move a site; a move carries its subtree along.

    The caller already sees `site` (an out-of-scope site is a 404 in ``deps``); a new parent outside
    the caller's scope is refused like an unknown one.
    """
    patch = site_in.model_dump(exclude_unset=True)
    record = {
        "code": site.code,
        "type": site.type,
        "name": patch.get("name") or site.name,
        "parent_code": patch.get("parent_code", site.parent_code),
        "district": site.district if site.type in importing.DISTRICT_TYPES else None,
        "active": patch["active"] if patch.get("active") is not None else site.active,
        "tags": patch["tags"] if patch.get("tags") is not None else site.tags,
    }
    codes = [site.code] + ([str(record["parent_code"])] if record["parent_code"] else [])
    existing = await repository.existing_sites(session, codes)
    checked = importing.check_sites([(1, record)], existing, principal.covers)
    _single_row_errors(checked)
    await _apply_sites(session, checked.rows, existing, now)
    await session.refresh(site)
    return site


async def delete_site(session: AsyncSession, *, principal: Principal, site: Site) -> None:
    """Remove a leaf site; a site with children must be emptied (or deactivated) instead."""
    assert site.id is not None
    if await repository.has_children(session, site.id):
        raise Conflict(
            f"Site {site.code} still has children; move them or deactivate it instead", code=site.code
        )
    await session.delete(site)
    await session.flush()


# Inspector pool


async def import_inspectors(
    session: AsyncSession, *, data: bytes, opts: ImportOptions, now: datetime
) -> ImportReport:
    """Check an inspector file and upsert it by user_id, with the same modes as the directory import."""
    try:
        raw = await asyncio.to_thread(importing.parse_table, data, opts.fmt)
    except importing.UnreadableFile as exc:
        raise errors.UnreadableFileProblem(str(exc), format=opts.fmt) from exc
    checked = importing.check_inspectors(raw, await repository.district_slugs(session))
    if checked.errors and not opts.good_rows_only and not opts.dry_run:
        raise _reject(_report(opts, checked, 0, 0, False), "inspector")
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
    return _report(opts, checked, len(new), len(changed), not opts.dry_run)


async def export_inspectors(session: AsyncSession, *, fmt: str) -> bytes:
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
    return await asyncio.to_thread(importing.write_table, rows, importing.INSPECTOR_COLUMNS, fmt)


async def _check_district(session: AsyncSession, district: str) -> None:
    if district not in await repository.district_slugs(session):
        raise UnprocessableEntity(
            f"No district or zone {district!r} in the directory",
            errors=[field_error(["body", "home_district"], "unknown district", "unknown-district")],
        )


async def create_inspector(
    session: AsyncSession, *, inspector_in: InspectorCreate, now: datetime
) -> Inspector:
    """Add a person to the inspector pool."""
    if (await repository.all_inspectors(session)).get(inspector_in.user_id):
        raise errors.DuplicateCode(
            f"Inspector {inspector_in.user_id} already exists", user_id=inspector_in.user_id
        )
    await _check_district(session, inspector_in.home_district)
    inspector = Inspector(**inspector_in.model_dump(), created_at=now, updated_at=now)
    session.add(inspector)
    await session.flush()
    return inspector


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
    session.add(inspector)
    await session.flush()
    return inspector
