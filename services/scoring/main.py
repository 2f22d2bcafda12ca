from pathlib import Path

import httpx
from fastapi import FastAPI

from services.kit import outbox
from services.kit.app import create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.scoring import __version__
from services.scoring.config import Settings
from services.scoring.models import outbox_event
from services.scoring.publications import endpoints as publications
from services.scoring.results import endpoints as results
from services.scoring.rubrics import endpoints as rubrics
from services.scoring.sheets import endpoints as sheets

# notify and reporting take events one by one at /events and in bulk at /events/batch (docs/events.md).
BATCH_PATHS = {("notify", "/events"): "/events/batch", ("reporting", "/events"): "/events/batch"}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
OPERATIONS_TAG = "scoring.operations"
TAGS = [
    {
        "name": rubrics.TAG,
        "description": "测评体系版本 — Rubric versions: drafts, publication, round bindings",
    },
    {"name": sheets.TAG, "description": "评分表 — Score sheets: scoring, review, locking, history"},
    {
        "name": results.TAG,
        "description": "评分结果 — Results: rankings, problems by item, trend, exports, publication",
    },
    {"name": OPERATIONS_TAG, "description": "运维 — Operations: who am I, the outbox"},
]


def build_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The scoring service."""
    settings = settings or Settings()
    workers = []
    if settings.outbox_enabled:
        workers.append(
            outbox.relay_worker(
                lambda app: outbox.relay_config(
                    settings,
                    table=outbox_event,
                    targets={
                        "notify": settings.notify_url,
                        "rectification": settings.rectification_url,
                        "reporting": settings.reporting_url,
                    },
                    batch_paths=BATCH_PATHS,
                )
            )
        )
    return create_app(
        settings=settings,
        title="Scoring (评分)",
        description="Rubrics (测评体系), score sheets (评分表), results and rankings.",
        version=__version__,
        routers=[
            whoami_router(OPERATIONS_TAG),
            rubrics.router,
            sheets.router,
            results.router,
            publications.router,
            outbox.outbox_admin_router(outbox_event, tag=OPERATIONS_TAG),
        ],
        openapi_tags=TAGS,
        migrations_dir=MIGRATIONS_DIR,
        workers=workers,
        clock=clock,
        http_transport=http_transport,
    )
