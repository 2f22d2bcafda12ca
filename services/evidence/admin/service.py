"""The scrub: every stored blob re-hashed; a blob whose bytes no longer hash to its address is
reported (the newest run's report, a metric, an error log line)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.files import repository as files
from services.evidence.models import Blob, ScrubRun
from services.evidence.storage import Storage, blob_key
from services.kit.logs import get_logger

log = get_logger("evidence.scrub")

SCRUB_CHECKED = Counter("evidence_scrub_checked_total", "Blobs re-hashed by the scrub")
SCRUB_MISMATCHES = Counter("evidence_scrub_mismatches_total", "Blobs found damaged or missing by the scrub")
DAMAGED = Gauge(
    "evidence_damaged_blobs", "Blobs whose stored bytes do not hash to their address (newest scrub)"
)


async def _hash(storage: Storage, sha256: str) -> tuple[str | None, int]:
    h = hashlib.sha256()
    size = 0
    try:
        async for chunk in storage.read(blob_key(sha256)):
            h.update(chunk)
            size += len(chunk)
    except Exception as exc:  # missing or unreadable: as bad as altered
        log.error("scrub: blob unreadable", sha256=sha256, error=str(exc))
        return None, size
    return h.hexdigest(), size


async def scrub(session: AsyncSession, storage: Storage, *, now: datetime) -> ScrubRun:
    """Re-hash every blob once; record the run."""
    started = now
    blobs = (await session.execute(select(Blob).order_by(Blob.sha256))).scalars().all()
    mismatches: list[dict[str, Any]] = []
    for blob in blobs:
        actual, size = await _hash(storage, blob.sha256)
        SCRUB_CHECKED.inc()
        blob.checked_at = now
        blob.intact = actual == blob.sha256
        if not blob.intact:
            SCRUB_MISMATCHES.inc()
            file_ids = await files.files_of_blob(session, blob.sha256)
            mismatches.append({"sha256": blob.sha256, "actual": actual, "size": size, "files": file_ids})
            log.error(
                "scrub: stored blob does not match its hash",
                sha256=blob.sha256,
                actual=actual,
                size=size,
                expected_size=blob.size,
                files=file_ids,
            )
        session.add(blob)
    run = ScrubRun(started_at=started, finished_at=now, checked=len(blobs), mismatches=mismatches)
    session.add(run)
    await session.flush()
    DAMAGED.set(await damaged_count(session))
    log.info("scrub finished", checked=len(blobs), mismatches=len(mismatches))
    return run


async def damaged_count(session: AsyncSession) -> int:
    n = await session.execute(select(func.count()).select_from(Blob).where(Blob.intact.is_(False)))  # type: ignore[union-attr]
    return int(n.scalar_one())


async def latest(session: AsyncSession) -> ScrubRun | None:
    row = await session.execute(select(ScrubRun).order_by(ScrubRun.id.desc()).limit(1))  # type: ignore[union-attr]
    return row.scalars().first()
