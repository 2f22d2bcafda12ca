from pathlib import Path

import httpx
from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import Worker, create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.rectification import __version__, endpoints, scheduler
from services.rectification.config import Settings
from services.rectification.models import outbox_event

# notify takes events one by one at /events and in bulk at /events/batch (docs/events.md).
NOTIFY_BATCH_PATHS = {("notify", "/events"): "/events/batch"}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def relay_config(settings: Settings) -> outbox.RelayConfig:
    """Where the outbox relay delivers rectification's events (notify only)."""
    return outbox.relay_config(
        settings, table=outbox_event, targets={"notify": settings.notify_url}, batch_paths=NOTIFY_BATCH_PATHS
    )


def build_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The rectification service."""
    settings = settings or Settings()
    workers: list[Worker] = []
    if settings.scheduler_enabled:
        workers.append(scheduler.scheduler_worker)
    if settings.outbox_enabled:
        workers.append(outbox.relay_worker(lambda app: relay_config(settings)))
    app = create_app(
        settings=settings,
        title="Rectification (整改)",
        description="Problems (问题清单), countdown schedules (倒排时间表), reminders and escalation.",
        version=__version__,
        routers=[
            whoami_router("rectification"),
            endpoints.router,
            outbox.outbox_admin_router(outbox_event, tag="operations"),
        ],
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        http_transport=http_transport,
    )
    # The iCalendar feed is read by calendar apps, which cannot carry the gateway's principal: its
    # secret URL token is the credential. create_app guards every router it is given, so this one
    # is added afterwards; the gateway routes /api/v1/rectification/calendar/... as public.
    app.include_router(endpoints.public_router)
    return app
