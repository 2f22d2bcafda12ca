"""Queries on blobs and file records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.models import Blob, EvidenceFile
from services.kit.pagination import PageParams


async def get_blob(session: AsyncSession, sha256: str) -> Blob | None:
    return await session.get(Blob, sha256)


async def get_file(session: AsyncSession, file_id: str) -> EvidenceFile | None:
    return await session.get(EvidenceFile, file_id)


async def list_files(
    session: AsyncSession, *, where: Sequence[Any], page: PageParams | None
) -> tuple[list[EvidenceFile], int]:
    stmt = select(EvidenceFile).where(*where).order_by(EvidenceFile.uploaded_at.desc(), EvidenceFile.id)  # type: ignore[attr-defined]
    total = (await session.execute(select(func.count()).select_from(EvidenceFile).where(*where))).scalar_one()
    if page is not None:
        stmt = page.apply(stmt)
    rows = (await session.execute(stmt)).scalars().all()
    return list(rows), int(total)


async def files_of_blob(session: AsyncSession, sha256: str) -> list[str]:
    rows = await session.execute(select(EvidenceFile).where(EvidenceFile.sha256 == sha256))  # type: ignore[arg-type]
    return [r.id for r in rows.scalars()]
