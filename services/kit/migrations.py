"""Alembic, one history per service: applied at start-up locally and by ``make migrate`` in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def head_revision(migrations_dir: Path) -> str | None:
    return ScriptDirectory.from_config(alembic_config(migrations_dir, "sqlite://")).get_current_head()


async def upgrade_to_head(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Apply every pending migration on `engine`'s database."""
    cfg = alembic_config(migrations_dir, engine.url.render_as_string(hide_password=False))

    def _run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def _read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_read)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``: online migrations over a given or new connection."""
    from alembic import context

    config = context.config
    is_sqlite = config.get_main_option("sqlalchemy.url", "").startswith("sqlite")
    opts: dict[str, Any] = {
        "target_metadata": target_metadata,
        "render_as_batch": is_sqlite,
        "compare_type": True,
    }

    def _do(conn: Connection) -> None:
        context.configure(connection=conn, **opts)
        with context.begin_transaction():
            context.run_migrations()

    given = config.attributes.get("connection")
    if given is not None:
        _do(given)
        return
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return

    import asyncio

    async def _online() -> None:
        engine = create_async_engine(config.get_main_option("sqlalchemy.url", ""), poolclass=pool.NullPool)
        async with engine.begin() as conn:
            await conn.run_sync(_do)
        await engine.dispose()

    asyncio.run(_online())
