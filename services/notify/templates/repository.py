"""Every query on saved templates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.notify.models import Template


def add(session: AsyncSession, template: Template) -> None:
    session.add(template)


async def latest_templates(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Template]:
    """The newest saved version for each (event type, channel) asked for."""
    if not pairs:
        return {}
    types = sorted({p[0] for p in pairs})
    rows = await session.execute(
        select(Template).where(col(Template.event_type).in_(types)).order_by(col(Template.version))
    )
    out: dict[tuple[str, str], Template] = {}
    for t in rows.scalars():
        out[(t.event_type, t.channel)] = t  # ascending versions: the last one wins
    return out


async def template_versions(session: AsyncSession, event_type: str, channel: str) -> list[Template]:
    rows = await session.execute(
        select(Template)
        .where(col(Template.event_type) == event_type, col(Template.channel) == channel)
        .order_by(col(Template.version).desc())
    )
    return list(rows.scalars())


async def next_template_version(session: AsyncSession, event_type: str, channel: str) -> int:
    current = await session.execute(
        select(func.max(col(Template.version))).where(
            col(Template.event_type) == event_type, col(Template.channel) == channel
        )
    )
    return int(current.scalar_one() or 0) + 1
