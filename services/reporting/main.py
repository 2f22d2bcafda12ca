"""The reporting app: its routers and its tags.

Each package adds its router to ROUTERS and its tag to TAGS (the documents' packages too), so the
app stays one list to extend.
"""

import asyncio
from pathlib import Path

from fastapi import APIRouter, FastAPI

from services.kit import outbox
from services.kit.app import create_app
from services.kit.clock import Clock
from services.kit.endpoints import whoami_router
from services.kit.logs import get_logger
from services.reporting import __version__
from services.reporting.admin import endpoints as admin
from services.reporting.assessments import endpoints as assessments
from services.reporting.bulletins import endpoints as bulletins
from services.reporting.config import Settings
from services.reporting.deps import DashboardCache
from services.reporting.intake import endpoints as intake
from services.reporting.models import outbox_event
from services.reporting.notices import endpoints as notices
from services.reporting.render import warmup
from services.reporting.render.fonts import FontUnavailable
from services.reporting.reports import endpoints as reports
from services.reporting.reports import events as report_events
from services.reporting.rounds import endpoints as rounds

log = get_logger("reporting")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
OPERATIONS_TAG = admin.TAG

TAGS: list[dict[str, str]] = [
    {
        "name": intake.TAG,
        "description": "事实事件接收 — The other services' fact events, stored once each and projected at once.",
    },
    {
        "name": rounds.TAG,
        "description": "督查轮次看板 — Rounds, each round's dashboard (coverage, scores, ranking, problems, "
        "rectification) and its charts.",
    },
    {"name": OPERATIONS_TAG, "description": "运维 — Rebuilding the read model, and who is calling."},
    {
        "name": reports.TAG,
        "description": "专报 — Special reports to the city's leaders: drafted from the data, "
        "edited, reviewed by a second admin, issued with a document number, immutable once issued.",
    },
    {"name": bulletins.TAG, "description": "党建争强通报 — The quarterly bulletin (DOCX, PDF, XLSX)."},
    {
        "name": notices.TAG,
        "description": "问题清单 — Each district's problems, for the meeting where it receives them.",
    },
    {
        "name": assessments.TAG,
        "description": "年度考核 — The annual assessment: weights per year, scores explained.",
    },
]


def relay_config(settings: Settings) -> outbox.RelayConfig:
    """Where the outbox relay delivers reporting's events (the issued 专报, to notify)."""
    return outbox.relay_config(
        settings,
        table=outbox_event,
        targets={"notify": settings.notify_url},
        batch_paths=report_events.BATCH_PATHS,
    )


def routers() -> list[APIRouter]:
    """Every router of the service, in the order the OpenAPI document lists them."""
    return [
        intake.router,
        rounds.router,
        admin.router,
        whoami_router(OPERATIONS_TAG),
        outbox.outbox_admin_router(outbox_event, tag=OPERATIONS_TAG),
        reports.router,
        bulletins.router,
        notices.router,
        assessments.router,
    ]


async def warm_renderers(app: FastAPI) -> None:
    """Pay the renderers' one-off costs (fonts, Pango, matplotlib's cache) while the service starts,
    in a thread; without a CJK font it says so once and requests for documents answer 503."""
    try:
        timings = await asyncio.to_thread(warmup.warm_up)
    except FontUnavailable as exc:
        log.warning("renderers unavailable", detail=exc.detail)
        return
    log.info("renderers ready", **{f"{k}_seconds": round(v, 3) for k, v in timings.items()})


def build_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The reporting service."""
    settings = settings or Settings()
    app = create_app(
        settings=settings,
        title="Reporting (报告)",
        description="报告服务 — The round dashboard and its charts, built from the other services' events; "
        "the 专报, the quarterly bulletin, problem lists and the annual assessment.",
        version=__version__,
        routers=routers(),
        migrations_dir=MIGRATIONS_DIR,
        clock=clock,
        openapi_tags=TAGS,
        workers=[
            *([outbox.relay_worker(lambda app: relay_config(settings))] if settings.outbox_enabled else []),
            # Tests build many apps: they pay the first render where they render.
            *([warm_renderers] if settings.environment != "test" else []),
        ],
    )
    app.state.dashboards = DashboardCache()
    return app
