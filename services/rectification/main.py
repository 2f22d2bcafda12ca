from pathlib import Path

from fastapi import FastAPI

from services.kit.app import create_app
from services.kit.endpoints import whoami_router
from services.rectification import __version__
from services.rectification.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def build_app(settings: Settings | None = None) -> FastAPI:
    """The rectification service."""
    return create_app(
        settings=settings or Settings(),
        title="Rectification (整改)",
        description="Problems (问题清单), countdown schedules (倒排时间表), reminders and escalation.",
        version=__version__,
        routers=[whoami_router("rectification")],
        migrations_dir=MIGRATIONS_DIR,
    )
