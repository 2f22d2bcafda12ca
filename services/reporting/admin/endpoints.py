"""Route of operations: POST /admin/rebuild (a city admin of the whole city)."""

from __future__ import annotations

from fastapi import APIRouter

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.reporting.admin import service
from services.reporting.admin.schemas import RebuildResult
from services.reporting.deps import DashboardCacheDep

TAG = "reporting.operations"
router = APIRouter(tags=[TAG])


@router.post("/admin/rebuild", response_model=RebuildResult, **allow(*service.REBUILDERS))
async def rebuild(session: SessionDep, principal: PrincipalDep, cache: DashboardCacheDep) -> RebuildResult:
    """Drop the read model and replay the event store in sequence order (intake waits meanwhile)."""
    return await service.rebuild(session, principal, cache)
