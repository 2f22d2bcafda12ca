"""The evidence app: its routers, its worker (the scrub and the expiry of unfinished uploads), its tags."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI

from services.evidence import __version__
from services.evidence.admin import endpoints as admin
from services.evidence.admin import service as scrubbing
from services.evidence.config import Settings
from services.evidence.files import endpoints as files
from services.evidence.storage import make_storage
from services.evidence.uploads import endpoints as uploads
from services.evidence.uploads import service as upload_service
from services.kit.app import Worker, create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.kit.logs import get_logger

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
OPERATIONS_TAG = "evidence.operations"
log = get_logger("evidence")

TAGS = [
    {
        "name": files.TAG,
        "description": "佐证材料 — Upload (multipart, streamed), metadata, content with ranges, thumbnails.",
    },
    {
        "name": uploads.TAG,
        "description": "断点续传 — Resumable uploads (tus 1.0: creation, termination, expiration).",
    },
    {
        "name": admin.TAG,
        "description": "完整性校验 — The scrub: stored files re-hashed, mismatches reported.",
    },
    {"name": OPERATIONS_TAG, "description": "运维 — Who is calling."},
]


async def maintenance_loop(app: FastAPI) -> None:
    """Forget expired uploads every minute; scrub every `scrub_interval_seconds` (0: never on its own)."""
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock
    last_scrub = clock.now()
    while True:
        await asyncio.sleep(60)
        with contextlib.suppress(Exception):
            async with app.state.sessionmaker() as session, session.begin():
                await upload_service.expire(session, settings.temp_dir, clock.now())
        now = clock.now()
        if (
            settings.scrub_interval_seconds
            and (now - last_scrub).total_seconds() >= settings.scrub_interval_seconds
        ):
            last_scrub = now
            try:
                async with app.state.sessionmaker() as session, session.begin():
                    await scrubbing.scrub(session, app.state.storage, now=now)
            except Exception as exc:
                log.error("scrub failed", error=str(exc))


def build_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The evidence service."""
    settings = settings or Settings()
    workers: list[Worker] = [maintenance_loop]
    app = create_app(
        settings=settings,
        title="Evidence (佐证材料)",
        description="佐证材料服务 — Photos and documents behind findings and rectifications: upload, storage, integrity.",
        version=__version__,
        routers=[files.router, uploads.router, admin.router, whoami_router(OPERATIONS_TAG)],
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        openapi_tags=TAGS,
    )
    app.state.storage = make_storage(settings)
    app.state.thumbnails_made = 0
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    return app
