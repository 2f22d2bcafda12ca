"""Turning a received body into a file record (sniff, strip EXIF, hash, store once), and reading files."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence import images
from services.evidence.enums import Purpose
from services.evidence.files import repository
from services.evidence.models import Blob, EvidenceFile
from services.evidence.receive import hash_file
from services.evidence.sniff import ACCEPTED, sniff
from services.evidence.storage import Storage, blob_key, thumbnail_key
from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import NotFound, UnprocessableEntity, UnsupportedMediaType, field_error
from services.kit.pagination import PageParams

FILE_NOT_FOUND = "Evidence file not found"
FILE_NOT_FOUND_ZH = "未找到该佐证材料"
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Target:
    """What an upload is evidence for (the form fields, or the tus metadata)."""

    purpose: str
    ref: str
    org_unit: str
    note: str | None
    name: str


def check_target(principal: Principal, raw: dict[str, str | None], name: str) -> Target:
    """The upload's fields, checked: a known purpose, a ref, an org unit inside the caller's scope."""
    errors = []
    purpose = (raw.get("purpose") or "").strip()
    ref = (raw.get("ref") or "").strip()
    org_unit = (raw.get("org_unit") or "").strip().strip("/")
    note = (raw.get("note") or "").strip() or None
    if purpose not in {p.value for p in Purpose}:
        errors.append(
            field_error(
                ["body", "purpose"],
                "purpose must be one of sheet_item, problem, milestone, finding",
                zh="purpose 须为 sheet_item、problem、milestone、finding 之一",
            )
        )
    if not ref or len(ref) > 200:
        errors.append(
            field_error(
                ["body", "ref"], "ref is required (1-200 characters)", zh="ref 为必填项（1-200 个字符）"
            )
        )
    if not orgunit.is_valid(org_unit):
        errors.append(
            field_error(
                ["body", "org_unit"], "org_unit is not an org unit path", zh="org_unit 不是有效的组织单元路径"
            )
        )
    if note is not None and len(note) > 1000:
        errors.append(
            field_error(["body", "note"], "note is longer than 1000 characters", zh="note 超过 1000 个字符")
        )
    elif not principal.covers(org_unit):
        # A write naming a unit outside the caller's scope: 422 naming the field, as the project does.
        errors.append(
            field_error(
                ["body", "org_unit"], "org_unit is outside your scope", zh="org_unit 超出您的管辖范围"
            )
        )
    if errors:
        raise UnprocessableEntity("The upload's fields are invalid", zh="上传的字段无效", errors=errors)
    clean = _NAME_BAD.sub("_", name).strip()[:255] or "file"
    return Target(purpose=purpose, ref=ref, org_unit=org_unit, note=note, name=clean)


def refused_type() -> UnsupportedMediaType:
    names = "JPEG, PNG, HEIC, PDF, DOCX, XLSX, MP4"
    return UnsupportedMediaType(
        f"The content is none of the accepted types ({names}); the type is read from the bytes, not the name",
        zh=f"文件内容不属于可接受的类型（{names}）；类型依据文件内容判断，而非文件名",
        accepted=[t.media_type for t in ACCEPTED],
    )


async def ingest(
    session: AsyncSession,
    storage: Storage,
    *,
    principal: Principal,
    path: Path,
    original_sha256: str | None,
    target: Target,
    now: datetime,
) -> EvidenceFile:
    """Make the received file at `path` a file record; the blob is stored once per content.

    The caller removes `path` afterwards (whatever happened).
    """
    ftype = await asyncio.to_thread(sniff, path)
    if ftype is None:
        raise refused_type()
    original = (
        original_sha256 if original_sha256 is not None else (await asyncio.to_thread(hash_file, path))[0]
    )
    meta = images.PhotoMeta(None, None, None, 1)
    served = path
    stripped = path.with_name(path.name + ".stripped")
    try:
        if ftype.kind == "image":
            meta = await asyncio.to_thread(images.read_meta, path)
            try:
                if await asyncio.to_thread(images.strip_metadata, path, stripped, ftype, meta):
                    served = stripped
            except Exception:
                raise UnsupportedMediaType(
                    f"The {ftype.extension.upper()} image cannot be read",
                    zh=f"无法读取该 {ftype.extension.upper()} 图片",
                ) from None
        sha256, size = (
            await asyncio.to_thread(hash_file, served)
            if served is not path
            else (original, await asyncio.to_thread(_size, path))
        )
        if await repository.get_blob(session, sha256) is None or not await storage.exists(blob_key(sha256)):
            await storage.put_file(blob_key(sha256), served)
            if await repository.get_blob(session, sha256) is None:
                await _add_blob(
                    session, Blob(sha256=sha256, size=size, media_type=ftype.media_type, created_at=now)
                )
    finally:
        with contextlib.suppress(FileNotFoundError):
            stripped.unlink()
    record = EvidenceFile(
        id=uuid.uuid4().hex,
        sha256=sha256,
        size=size,
        media_type=ftype.media_type,
        kind=ftype.kind,
        name=target.name,
        purpose=target.purpose,
        ref=target.ref,
        org_unit=target.org_unit,
        note=target.note,
        uploaded_by=principal.sub,
        uploaded_at=now,
        captured_at=meta.captured_at,
        gps_lat=meta.lat,
        gps_lon=meta.lon,
        original_sha256=original,
    )
    session.add(record)
    await session.flush()
    return record


def _size(path: Path) -> int:
    return path.stat().st_size


async def _add_blob(session: AsyncSession, blob: Blob) -> None:
    """Insert the blob row; another request storing the same bytes at once is harmless."""
    try:
        async with session.begin_nested():
            session.add(blob)
    except IntegrityError:
        pass


async def get_visible(session: AsyncSession, principal: Principal, file_id: str) -> EvidenceFile:
    record = await repository.get_file(session, file_id)
    if record is None:
        raise NotFound(FILE_NOT_FOUND, zh=FILE_NOT_FOUND_ZH)
    principal.require_visible(record.org_unit, FILE_NOT_FOUND, zh=FILE_NOT_FOUND_ZH)
    return record


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    ids: Sequence[str] | None,
    purpose: str | None,
    ref: str | None,
    org_unit: str | None,
    page: PageParams | None,
) -> tuple[list[EvidenceFile], int]:
    where = [principal.scope_filter(EvidenceFile.org_unit)]
    if ids is not None:
        where.append(EvidenceFile.id.in_(list(ids)))  # type: ignore[attr-defined]
    if purpose:
        where.append(EvidenceFile.purpose == purpose)
    if ref:
        where.append(EvidenceFile.ref == ref)
    if org_unit:
        where.append(orgunit.under(EvidenceFile.org_unit, org_unit.strip("/")))
    return await repository.list_files(session, where=where, page=page)


async def blob_of(session: AsyncSession, record: EvidenceFile) -> Blob:
    blob = await repository.get_blob(session, record.sha256)
    if blob is None:  # a record always has its blob; answer as missing rather than 500
        raise NotFound(FILE_NOT_FOUND, zh=FILE_NOT_FOUND_ZH)
    return blob


async def thumbnail(
    session: AsyncSession, storage: Storage, record: EvidenceFile, *, size: int, work_dir: Path
) -> tuple[str, bool]:
    """The key of the file's thumbnail, made (once per blob) when missing; and whether it was made now."""
    if record.kind != "image":
        raise NotFound("Only images have thumbnails", zh="只有图片有缩略图")
    blob = await blob_of(session, record)
    if blob.thumbnail_key and await storage.exists(blob.thumbnail_key):
        return blob.thumbnail_key, False
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    local = work_dir / f"{uuid.uuid4().hex}.thumbsrc"
    out = work_dir / f"{uuid.uuid4().hex}.thumb.jpg"
    try:
        f = await asyncio.to_thread(open, local, "wb")
        with f:
            async for chunk in storage.read(blob_key(blob.sha256)):
                f.write(chunk)
        data = await asyncio.to_thread(images.make_thumbnail, local, size)
        out.write_bytes(data)
        key = thumbnail_key(blob.sha256)
        await storage.put_file(key, out)
    finally:
        for p in (local, out):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    blob.thumbnail_key = key
    session.add(blob)
    await session.flush()
    return key, True
