"""Fixtures shared by the whole suite.

The database is chosen by ``TEST_DB`` (``sqlite``, the default, or ``postgres``). With ``postgres``
every test database is a fresh PostgreSQL database, created here and dropped afterwards; if the
server cannot be reached the run fails (it never silently falls back to SQLite).
"""

from __future__ import annotations

import os

# The kit has no default city: the suite runs in the development city unless told otherwise. Set
# before anything below imports settings, and inherited by every process the suite starts.
os.environ.setdefault("CITY_ROOT", "ningbo")
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from services.kit import orgunit
from services.kit.testing import DEFAULT_POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database

# Unit tests use org units without building an app (which is what configures a process's city).
orgunit.set_city_root(os.environ["CITY_ROOT"])

TEST_DB = os.environ.get("TEST_DB", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)

DatabaseFactory = Callable[[str], Awaitable[str]]


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {TEST_DB}" + (f" ({POSTGRES_ADMIN_URL})" if TEST_DB == "postgres" else "")


@pytest.fixture(scope="session", autouse=True)
async def _postgres_reachable() -> None:
    if TEST_DB != "postgres":
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_ADMIN_URL)
    try:
        conn = await asyncpg.connect(
            user=url.username, host=url.host, port=url.port or 5432, database=url.database, timeout=5
        )
    except Exception as exc:
        pytest.exit(
            f"TEST_DB=postgres but PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {exc}", returncode=3
        )
    await conn.close()


@pytest.fixture
async def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[DatabaseFactory]:
    """A factory of fresh, empty databases (one per call) on the database under test."""
    created: list[str] = []

    async def make(name: str) -> str:
        if TEST_DB == "postgres":
            url = await create_postgres_database(POSTGRES_ADMIN_URL, f"t_{name}")
            created.append(url)
            return url
        return f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"

    yield make
    for url in created:
        await drop_postgres_database(POSTGRES_ADMIN_URL, url)
