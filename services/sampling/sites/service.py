"""Rules of the site directory (名录库): create, change, move and remove sites; import and export files."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import Conflict, UnprocessableEntity, UnsupportedMediaType, field_error
from services.kit.pagination import PageParams, Sort
from services.sampling import errors, importing
from services.sampling.importing import Checked, ExistingSite, ImportOptions, SiteRow, TableSpec
from services.sampling.models import Site
from services.sampling.sites import repository
from services.sampling.sites.schemas import ImportReport, SiteCreate, SiteFilter, SiteUpdate


def import_report(
    opts: ImportOptions, checked: Checked, created: int, updated: int, applied: bool
) -> ImportReport:
    """The report of an import (of sites or inspectors)."""
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


def import_rejected(report: ImportReport, what: str) -> errors.ImportRejected:
    """The 422 of an all-or-nothing import with bad rows."""
    # The import's messages are Chinese in both languages (the rows' reasons are, too).
    detail = (
        f"{what}文件共 {report.total_rows} 行，其中 {report.rejected} 行有错误，全部未导入"
        "（改正后重新导入，或加上 good_rows_only=true 只导入正确的行）"
    )
    return errors.ImportRejected(
        detail,
        zh=detail,
        # Each bad row in the shape every 422 uses (loc, msg, type), with the row's own details beside.
        errors=[
            {
                **e.model_dump(),
                "loc": ["file", e.line, *([e.column] if e.column else [])],
                "msg": e.reason,
                "msg_zh": e.reason,  # the rows' reasons are Chinese already
                "type": e.problem,
            }
            for e in report.errors
        ],
        report=report.model_dump(mode="json"),
    )


async def parse_upload(data: bytes, opts: ImportOptions, spec: TableSpec) -> list[tuple[int, dict[str, Any]]]:
    """The rows of an uploaded file (parsed in a thread: it is CPU work); 415 if a CSV is not text."""
    try:
        return await asyncio.to_thread(importing.parse_table, data, opts.fmt, spec)
    except importing.NotText as exc:
        raise UnsupportedMediaType(str(exc), zh=str(exc), format=opts.fmt) from exc
    except importing.UnreadableFile as exc:
        raise errors.UnreadableFileProblem(str(exc), zh=str(exc), format=opts.fmt) from exc


def _same(row: SiteRow, ex: ExistingSite) -> bool:
    return (
        row.type == ex.type
        and row.subtype == ex.subtype
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
                "subtype": r.subtype,
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
            "The directory changed while this import ran (a code was added concurrently); retry it",
            zh="导入期间名录库发生了变化（有编码被同时新增），请重新导入",
        ) from exc


async def list_sites(
    session: AsyncSession, *, principal: Principal, where: SiteFilter, page: PageParams, sort: Sort
) -> tuple[list[Site], int]:
    """Sites inside the caller's scope matching `where`, one page of them, and how many match."""
    return await repository.list_sites(
        session, repository.site_conditions(principal, where), page=page, sort=sort
    )


async def import_sites(
    session: AsyncSession, *, principal: Principal, data: bytes, opts: ImportOptions, now: datetime
) -> ImportReport:
    """Check a directory file and upsert it by code: all or nothing, only the good rows, or not at all (dry run)."""
    raw = await parse_upload(data, opts, importing.SITE_TABLE)
    existing = await repository.existing_sites(session)
    checked = await asyncio.to_thread(importing.check_sites, raw, existing, principal.covers)
    if checked.errors and not opts.good_rows_only and not opts.dry_run:
        raise import_rejected(import_report(opts, checked, 0, 0, False), "名录")
    if opts.dry_run:
        created = sum(1 for r in checked.rows if r.code not in existing)
        updated = sum(1 for r in checked.rows if r.code in existing and not _same(r, existing[r.code]))
        return import_report(opts, checked, created, updated, False)
    created, updated = await _apply_guarded(session, checked.rows, existing, now)
    return import_report(opts, checked, created, updated, True)


async def export_sites(
    session: AsyncSession, *, principal: Principal, where: SiteFilter, fmt: str, chinese: bool = False
) -> bytes:
    """The directory inside the caller's scope, in the import format (Chinese headers and labels if asked)."""
    rows = await repository.export_site_rows(session, repository.site_conditions(principal, where))
    spec = importing.SITE_TABLE if chinese else None
    return await asyncio.to_thread(
        functools.partial(importing.write_table, rows, importing.SITE_COLUMNS, fmt, spec=spec)
    )


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
        raise cls(
            e["reason"],
            zh=e["reason"],
            errors=[field_error(["body", e["column"] or "code"], e["reason"], problem, zh=e["reason"])],
        )


async def create_site(
    session: AsyncSession, *, principal: Principal, site_in: SiteCreate, now: datetime
) -> Site:
    """Add one site under an existing parent."""
    codes = [site_in.code] + ([site_in.parent_code] if site_in.parent_code else [])
    existing = await repository.existing_sites(session, codes)
    if site_in.code in existing:
        raise errors.DuplicateCode(
            f"A site with code {site_in.code} already exists",
            zh=f"编码为 {site_in.code} 的单位已存在",
            code=site_in.code,
        )
    raw = [(1, {**site_in.model_dump(mode="json"), "tags": site_in.tags})]
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

    The caller already sees `site` (an out-of-scope site is a 404 in ``access``); a new parent
    outside the caller's scope is refused like an unknown one.
    """
    patch = site_in.model_dump(exclude_unset=True)
    record = {
        "code": site.code,
        "type": site.type,
        "subtype": patch.get("subtype", site.subtype),
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
    await repository.refresh(session, site)
    return site


async def delete_site(session: AsyncSession, *, site: Site) -> None:
    """Remove a leaf site; a site with children must be emptied (or deactivated) instead."""
    assert site.id is not None
    if await repository.has_children(session, site.id):
        raise Conflict(
            f"Site {site.code} still has children; move them or deactivate it instead",
            zh=f"单位 {site.code} 仍有下级单位：请先移走下级单位，或改为停用",
            code=site.code,
        )
    await repository.delete_site(session, site)
