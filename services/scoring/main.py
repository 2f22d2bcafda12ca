from pathlib import Path

from fastapi import FastAPI

from services.kit.app import create_app
from services.kit.endpoints import whoami_router
from services.scoring import __version__
from services.scoring.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def build_app(settings: Settings | None = None) -> FastAPI:
    """The scoring service."""
    return create_app(
        settings=settings or Settings(),
        title="Scoring (评分)",
        description="Rubrics (测评体系), score sheets (评分表), results and rankings.",
        version=__version__,
        routers=[whoami_router("scoring")],
        migrations_dir=MIGRATIONS_DIR,
    )
