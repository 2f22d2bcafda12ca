from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.auth import Principal
from services.reporting.admin.schemas import RebuildResult
from services.reporting.deps import DashboardCache
from services.reporting.projection import service as projection
from services.reporting.rounds.access import require_city_wide

REBUILDERS = ("city_admin",)


async def rebuild(session: AsyncSession, principal: Principal, cache: DashboardCache) -> RebuildResult:
    """Replay the store (a city admin of the whole city); every cached dashboard is dropped."""
    require_city_wide(principal, "Rebuilding the read model", "重建读模型")
    done = await projection.rebuild(session)
    cache.clear()
    return RebuildResult(
        events=done.events, seconds=round(done.seconds, 3), events_per_second=done.events_per_second
    )
