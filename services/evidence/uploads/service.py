"""Resumable uploads (tus 1.0: core, creation, termination, expiration): the bytes so far live in a
file under the work directory; the row says how long the upload is and what it is evidence for."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.files.service import check_target
from services.evidence.models import Upload
from services.kit.auth import Principal
from services.kit.errors import BadRequest, NotFound

UPLOAD_NOT_FOUND = "Upload not found (finished, terminated, expired or never created)"
UPLOAD_NOT_FOUND_ZH = "未找到该上传（已完成、已终止、已过期或不存在）"


def parse_metadata(header: str | None) -> dict[str, str]:
    """tus ``Upload-Metadata``: ``key base64value,key2 base64value2``."""
    out: dict[str, str] = {}
    if not header:
        return out
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0]:
            continue
        if len(parts) > 2:
            raise BadRequest("Upload-Metadata is malformed", zh="Upload-Metadata 格式有误")
        try:
            out[parts[0]] = (
                base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
            )
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(
                f"Upload-Metadata value of {parts[0]!r} is not base64 UTF-8",
                zh=f"Upload-Metadata 中 {parts[0]!r} 的值不是 base64 编码的 UTF-8",
            ) from None
    return out


def part_path(work_dir: Path, upload_id: str) -> Path:
    return work_dir / "uploads" / f"{upload_id}.bin"


async def create(
    session: AsyncSession,
    *,
    principal: Principal,
    length: int,
    metadata: dict[str, str],
    work_dir: Path,
    now: datetime,
    expiry_seconds: int,
) -> Upload:
    name = metadata.get("filename") or metadata.get("name") or "file"
    target = check_target(principal, dict(metadata), name)
    upload = Upload(
        id=uuid.uuid4().hex,
        length=length,
        offset=0,
        meta={
            "purpose": target.purpose,
            "ref": target.ref,
            "org_unit": target.org_unit,
            "note": target.note,
            "name": target.name,
        },
        uploaded_by=principal.sub,
        scope=principal.scope,
        created_at=now,
        expires_at=now + timedelta(seconds=expiry_seconds),
    )
    path = part_path(work_dir, upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    session.add(upload)
    await session.flush()
    return upload


async def get_own(
    session: AsyncSession, principal: Principal, upload_id: str, now: datetime, work_dir: Path
) -> Upload:
    """An unfinished upload the caller created (nobody else sees it), not yet expired.

    Its offset is what is on disk: a PATCH cut off mid-body keeps the bytes that arrived even when
    its transaction did not commit.
    """
    upload = await session.get(Upload, upload_id)
    if (
        upload is None
        or upload.uploaded_by != principal.sub
        or upload.file_id is not None
        or upload.expires_at <= now
    ):
        raise NotFound(UPLOAD_NOT_FOUND, zh=UPLOAD_NOT_FOUND_ZH)
    on_disk = await asyncio.to_thread(_on_disk, part_path(work_dir, upload.id), upload.length)
    if on_disk != upload.offset:
        upload.offset = on_disk
        session.add(upload)
    return upload


def _on_disk(path: Path, length: int) -> int:
    """The bytes received so far (never more than the upload's length)."""
    size = path.stat().st_size if path.exists() else 0
    if size > length:
        with open(path, "r+b") as f:
            f.truncate(length)
        size = length
    return size


async def remove(session: AsyncSession, upload: Upload, work_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        part_path(work_dir, upload.id).unlink()
    await session.delete(upload)
    await session.flush()


async def expire(session: AsyncSession, work_dir: Path, now: datetime) -> int:
    """Forget every upload past its expiry (its bytes included); how many."""
    due = select(Upload).where(Upload.expires_at <= now)  # type: ignore[arg-type]
    rows = (await session.execute(due)).scalars().all()
    for upload in rows:
        await remove(session, upload, work_dir)
    return len(rows)
