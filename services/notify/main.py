import asyncio
from pathlib import Path

from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import Worker, create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.notify import __version__
from services.notify.config import Settings
from services.notify.delivery import delivery_loop
from services.notify.deps import Broadcast, StreamSlots
from services.notify.digest import digest_loop
from services.notify.endpoints import directory, inbox, intake, operations, templates, webhooks
from services.notify.models import outbox_event

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

TAGS = [
    {
        "name": "intake",
        "description": "Notification requests and domain events, accepted once per Idempotency-Key.",
    },
    {
        "name": "directory",
        "description": "People who receive notifications, their contact points and preferences.",
    },
    {"name": "templates", "description": "Jinja2 templates per event type and channel, versioned."},
    {"name": "inbox", "description": "In-app messages of the caller, with a live Server-Sent Events stream."},
    {
        "name": "webhooks",
        "description": "Subscriptions of other systems, signed per the Standard Webhooks specification.",
    },
    {"name": "operations", "description": "Dead letters, retries, delivery statistics, the outbox."},
]


def build_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The notify service."""
    settings = settings or Settings()
    settings.check_production_secrets()
    workers: list[Worker] = []
    if settings.delivery_enabled:
        workers += [delivery_loop, digest_loop]
    if settings.outbox_enabled:
        workers.append(
            outbox.relay_worker(
                lambda app: outbox.RelayConfig(
                    table=outbox_event,
                    targets={"rectification": settings.rectification_url, "scoring": settings.scoring_url},
                    source="notify",
                    batch_size=settings.outbox_batch_size,
                    poll_seconds=settings.outbox_poll_seconds,
                    max_attempts=settings.outbox_max_attempts,
                )
            )
        )
    app = create_app(
        settings=settings,
        title="Notify (通知)",
        description="Notification intake, templates, inbox, webhooks, email and SMS.",
        version=__version__,
        routers=[
            intake,
            directory,
            templates,
            inbox,
            webhooks,
            operations,
            outbox.outbox_admin_router(outbox_event, tag="operations"),
            whoami_router("notify"),
        ],
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        openapi_tags=TAGS,
    )
    app.state.delivery_wake = asyncio.Event()
    app.state.inbox_signal = Broadcast()
    app.state.stream_slots = StreamSlots()
    return app
