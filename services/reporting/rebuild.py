"""Rebuild the read model from the event store: ``python -m services.reporting rebuild``.

The same replay as ``POST /admin/rebuild``, for an operator with the database at hand (the service
may keep running: intake waits for the rebuild's transaction on PostgreSQL). Prints the figures.
"""

from __future__ import annotations

import asyncio

from services.kit.db import make_engine, make_sessionmaker
from services.reporting.config import Settings
from services.reporting.projection import service as projection


async def run(settings: Settings) -> projection.Rebuilt:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await projection.rebuild(session)
    finally:
        await engine.dispose()


def main() -> None:
    done = asyncio.run(run(Settings()))
    print(
        f"reporting: rebuilt the read model from {done.events} events in {done.seconds:.2f} s "
        f"({done.events_per_second:.0f} events/s)"
    )
