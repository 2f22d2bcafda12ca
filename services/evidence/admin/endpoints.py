"""Integrity routes: run the scrub now, and its newest report."""

from __future__ import annotations

from fastapi import APIRouter

from services.evidence.admin import service
from services.evidence.deps import StorageDep
from services.evidence.files.schemas import Mismatch, ScrubReport
from services.evidence.models import ScrubRun
from services.kit.auth import allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep

TAG = "evidence.admin"
router = APIRouter(tags=[TAG])


def report(run: ScrubRun | None, damaged: int) -> ScrubReport:
    if run is None:
        return ScrubReport(started_at=None, finished_at=None, checked=0, mismatches=[], damaged_blobs=damaged)
    return ScrubReport(
        started_at=run.started_at,
        finished_at=run.finished_at,
        checked=run.checked,
        mismatches=[Mismatch.model_validate(m) for m in run.mismatches],
        damaged_blobs=damaged,
    )


@router.post("/admin/scrub", response_model=ScrubReport, **allow("city_admin"))
async def run_scrub(session: SessionDep, storage: StorageDep, clock: ClockDep) -> ScrubReport:
    """Re-hash every stored blob now and answer the report (city administrators)."""
    run = await service.scrub(session, storage, now=clock.now())
    return report(run, await service.damaged_count(session))


@router.get("/admin/scrub/report", response_model=ScrubReport, **allow("city_admin"))
async def scrub_report(session: SessionDep) -> ScrubReport:
    """The newest scrub's report: how many blobs it checked and which no longer match their hash."""
    return report(await service.latest(session), await service.damaged_count(session))
