from pathlib import Path

from fastapi import FastAPI

from services.kit.app import create_app
from services.kit.endpoints import whoami_router
from services.sampling import __version__, endpoints
from services.sampling.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def build_app(settings: Settings | None = None) -> FastAPI:
    """The sampling service."""
    return create_app(
        settings=settings or Settings(),
        title="Sampling (抽样)",
        description="Site directory (名录库), inspector pool, rounds and publicly verifiable draws.",
        version=__version__,
        routers=[whoami_router("sampling"), endpoints.router],
        migrations_dir=MIGRATIONS_DIR,
    )
