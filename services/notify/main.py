from pathlib import Path

from fastapi import FastAPI

from services.kit.app import create_app
from services.kit.endpoints import whoami_router
from services.notify import __version__
from services.notify.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def build_app(settings: Settings | None = None) -> FastAPI:
    """The notify service."""
    return create_app(
        settings=settings or Settings(),
        title="Notify (通知)",
        description="Notification intake, templates, inbox, webhooks, email and SMS.",
        version=__version__,
        routers=[whoami_router("notify")],
        migrations_dir=MIGRATIONS_DIR,
    )
