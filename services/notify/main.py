"""The notify app: its routers, its workers (delivery, digest, outbox relay) and its tags."""

import asyncio
from pathlib import Path

from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import Worker, create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.notify import __version__
from services.notify.config import Settings
from services.notify.deliveries import endpoints as deliveries
from services.notify.delivery import delivery_loop
from services.notify.deps import Broadcast, StreamSlots
from services.notify.digest import digest_loop
from services.notify.intake import endpoints as intake
from services.notify.models import outbox_event
from services.notify.notifications import endpoints as notifications
from services.notify.people import endpoints as people
from services.notify.subscriptions import endpoints as subscriptions
from services.notify.templates import endpoints as templates

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
OPERATIONS_TAG = "notify.operations"

TAGS = [
    {
        "name": intake.TAG,
        "description": "通知接收 — Notification requests and domain events, accepted once per Idempotency-Key.",
    },
    {
        "name": people.TAG,
        "description": "接收人名录 — People who receive notifications, their contact points and preferences.",
    },
    {
        "name": notifications.TAG,
        "description": "通知与站内信 — Notifications with their deliveries; your in-app messages and their live stream.",
    },
    {
        "name": deliveries.TAG,
        "description": "投递记录 — Deliveries per channel: the dead-letter list, re-drives and statistics.",
    },
    {
        "name": subscriptions.TAG,
        "description": "Webhook订阅 — Subscriptions of other systems, signed per the Standard Webhooks specification.",
    },
    {
        "name": templates.TAG,
        "description": "消息模板 — Jinja2 templates per event type and channel, versioned; the event-type catalogue.",
    },
    {"name": OPERATIONS_TAG, "description": "运维 — The outbox of notify's own events, and who is calling."},
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
        description="通知服务 — Notification intake, templates, inbox, webhooks, email and SMS.",
        version=__version__,
        routers=[
            intake.router,
            people.router,
            notifications.router,
            deliveries.router,
            subscriptions.router,
            templates.router,
            outbox.outbox_admin_router(outbox_event, tag=OPERATIONS_TAG),
            whoami_router(OPERATIONS_TAG),
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
