from pathlib import Path

import httpx
from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.sampling import __version__, endpoints, round_endpoints
from services.sampling.config import Settings
from services.sampling.models import outbox_event

# notify takes events one by one at /events and in bulk at /events/batch (docs/events.md).
NOTIFY_BATCH_PATHS = {("notify", "/events"): "/events/batch"}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def build_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The sampling service."""
    settings = settings or Settings()
    workers = []
    if settings.outbox_enabled:
        workers.append(
            outbox.relay_worker(
                lambda app: outbox.relay_config(
                    settings,
                    table=outbox_event,
                    targets={"notify": settings.notify_url},
                    batch_paths=NOTIFY_BATCH_PATHS,
                )
            )
        )
    return create_app(
        settings=settings,
        title="Sampling (抽样)",
        description="Site directory (名录库), inspector pool (人员库), rounds and publicly verifiable draws.",
        version=__version__,
        routers=[
            whoami_router("sampling"),
            outbox.outbox_admin_router(outbox_event, tag="operations"),
            endpoints.router,
            endpoints.pool_router,
            round_endpoints.router,
            round_endpoints.me_router,
            round_endpoints.internal_router,
        ],
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        http_transport=http_transport,
    )
