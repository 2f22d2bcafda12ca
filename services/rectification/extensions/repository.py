"""Every query on extension requests."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.pagination import PageParams
from services.rectification.enums import ExtensionStatus
from services.rectification.models import ExtensionRequest


async def extensions_of(session: AsyncSession, problem_id: int) -> list[ExtensionRequest]:
    """Every extension request of a problem, oldest first."""
    stmt = (
        select(ExtensionRequest)
        .where(col(ExtensionRequest.problem_id) == problem_id)
        .order_by(col(ExtensionRequest.id))
    )
    return list((await session.execute(stmt)).scalars())


async def page_of(
    session: AsyncSession, problem_id: int, page: PageParams, *, status: ExtensionStatus | None = None
) -> tuple[list[ExtensionRequest], int]:
    """One page of a problem's extension requests (in `status`, if given), oldest first, and the total."""
    where = [col(ExtensionRequest.problem_id) == problem_id]
    if status is not None:
        where.append(col(ExtensionRequest.status) == status)
    total = (
        await session.execute(select(func.count()).select_from(ExtensionRequest).where(*where))
    ).scalar_one()
    stmt = page.apply(select(ExtensionRequest).where(*where).order_by(col(ExtensionRequest.id)))
    return list((await session.execute(stmt)).scalars()), int(total)


async def get_extension(session: AsyncSession, problem_id: int, extension_id: int) -> ExtensionRequest | None:
    ext = await session.get(ExtensionRequest, extension_id)
    return ext if ext is not None and ext.problem_id == problem_id else None


async def add(session: AsyncSession, ext: ExtensionRequest) -> None:
    session.add(ext)
    await session.flush()
