from pathlib import Path

import httpx
from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.sampling import __version__, events
from services.sampling.config import Settings
from services.sampling.inspectors import endpoints as inspectors
from services.sampling.models import outbox_event
from services.sampling.rounds import endpoints as rounds
from services.sampling.sites import endpoints as sites
from services.sampling.visits import endpoints as visits

# notify and reporting take events one by one at /events and in bulk at /events/batch (docs/events.md).
BATCH_PATHS = {("notify", "/events"): "/events/batch", ("reporting", "/events"): "/events/batch"}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

OPERATIONS = "sampling.operations"
TAGS = [
    {"name": sites.TAG, "description": "名录库 — The site directory: sites, imports and exports"},
    {"name": inspectors.TAG, "description": "人员库 — The inspector pool: people and their home districts"},
    {"name": rounds.ROUNDS, "description": "督查批次 — Rounds: plans, frozen frames, publication"},
    {"name": rounds.DRAWS, "description": "抽签 — Verifiable draws, their records and the teams drawn"},
    {"name": rounds.ASSIGNMENTS, "description": "督查任务 — Visits: which team visits which site, and when"},
    {
        "name": visits.TAG,
        "description": "督查日程 — Visit days on working days: team and personal calendars (JSON, iCal)",
    },
    {"name": OPERATIONS, "description": "运维 — Who is calling, and the outbox of events sent to notify"},
]


def build_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The sampling service."""
    settings = settings or Settings()
    events.configure_links(settings.public_base_url)
    workers = []
    if settings.outbox_enabled:
        workers.append(
            outbox.relay_worker(
                lambda app: outbox.relay_config(
                    settings,
                    table=outbox_event,
                    targets={"notify": settings.notify_url, "reporting": settings.reporting_url},
                    batch_paths=BATCH_PATHS,
                )
            )
        )
    return create_app(
        settings=settings,
        title="Sampling (抽样)",
        description="Site directory (名录库), inspector pool (人员库), rounds and publicly verifiable draws.",
        version=__version__,
        routers=[
            whoami_router(OPERATIONS),
            outbox.outbox_admin_router(outbox_event, tag=OPERATIONS),
            sites.router,
            inspectors.router,
            rounds.router,
            visits.router,
        ],
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        openapi_tags=TAGS,
        http_transport=http_transport,
    )
