"""Rectification's migrations build exactly the tables its models describe (autogenerate finds nothing)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.kit.db import make_engine
from services.kit.migrations import upgrade_to_head
from services.rectification.main import MIGRATIONS_DIR
from services.rectification.models import metadata


async def test_the_migrations_match_the_models(database_url):
    engine = make_engine(await database_url("rect_migrations"))
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)

        def diff(conn):
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
