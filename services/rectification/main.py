from pathlib import Path

import httpx
from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import Worker, create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.rectification import __version__, events, scheduler
from services.rectification.calendar import endpoints as calendar
from services.rectification.config import Settings
from services.rectification.deadlines import endpoints as deadlines
from services.rectification.extensions import endpoints as extensions
from services.rectification.findings import endpoints as findings
from services.rectification.models import outbox_event
from services.rectification.problems import endpoints as problems

# notify and reporting take events one by one at /events and in bulk at /events/batch (docs/events.md).
BATCH_PATHS = {("notify", "/events"): "/events/batch", ("reporting", "/events"): "/events/batch"}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

OPERATIONS_TAG = "rectification.operations"
OPENAPI_TAGS = [
    {
        "name": problems.TAG,
        "description": "问题清单与整改流程 — Problems: entering, lifecycle, bulletin and statistics",
    },
    {"name": extensions.TAG, "description": "延期申请 — Extension requests and their decisions"},
    {
        "name": deadlines.TAG,
        "description": "倒排时间表与节假日 — Countdown templates and the holiday calendar",
    },
    {"name": calendar.TAG, "description": "日历订阅 — The milestone calendar feed (iCalendar)"},
    {"name": OPERATIONS_TAG, "description": "运维 — Who am I, and the outbox of events to notify"},
]


def relay_config(settings: Settings) -> outbox.RelayConfig:
    """Where the outbox relay delivers rectification's events: notify, and reporting (the fact events)."""
    return outbox.relay_config(
        settings,
        table=outbox_event,
        targets={"notify": settings.notify_url, "reporting": settings.reporting_url},
        batch_paths=BATCH_PATHS,
    )


def build_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The rectification service."""
    settings = settings or Settings()
    # Links in messages point at the problem through the gateway's public URL.
    events.configure_links(settings.calendar_base_url)
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
            whoami_router(OPERATIONS_TAG),
            findings.router,
            problems.router,
            extensions.router,
            deadlines.router,
            calendar.router,
            outbox.outbox_admin_router(outbox_event, tag=OPERATIONS_TAG),
        ],
        openapi_tags=OPENAPI_TAGS,
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        http_transport=http_transport,
    )
    # The iCalendar feed is read by calendar apps, which cannot carry the gateway's principal: its
    # secret URL token is the credential. create_app guards every router it is given, so this one
    # is added afterwards; the gateway routes /api/v1/rectification/calendar/... as public.
    app.include_router(calendar.public_router)
    return app
