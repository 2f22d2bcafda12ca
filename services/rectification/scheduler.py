"""The deadline scheduler's loop: ticks of deadlines/service.py's ``fire_due_timers``, exactly once
per timer, with any number of replicas.

One tick is one transaction: claim up to `batch_size` due timers (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so replicas never claim the same row; SQLite has a single writer), mark them fired, and
write their events to the outbox, in the same transaction. A replica that dies mid-tick leaves
nothing behind (its transaction rolls back, the rows unlock, another replica claims them), and a
committed tick has both the "fired" mark and the event, so nothing fires twice.

Run inside the service (a kit worker) or as its own process: ``python -m services.rectification.scheduler``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import warnings
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.clock import Clock, OffsetClock, SystemClock
from services.kit.logs import configure_logging, get_logger
from services.rectification.deadlines.policy import Policy, policy_from
from services.rectification.deadlines.service import TickResult, fire_due_timers

log = get_logger("rectification.scheduler")


async def run_tick(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, *, batch_size: int, policy: Policy
) -> TickResult:
    """One tick in its own transaction."""
    async with sessionmaker() as session, session.begin():
        return await fire_due_timers(session, now=clock.now(), batch_size=batch_size, policy=policy)


async def run_loop(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    batch_size: int,
    poll_seconds: float,
    policy: Policy,
    stop: asyncio.Event | None = None,
) -> None:
    """Tick until cancelled (or `stop` is set): straight on while batches are full, else pause."""
    while stop is None or not stop.is_set():
        try:
            result = await run_tick(sessionmaker, clock, batch_size=batch_size, policy=policy)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduler tick failed")
            result = TickResult()
        if result.claimed:
            log.info("timers fired", fired=result.fired, skipped=result.skipped)
        if result.claimed < batch_size:
            if stop is None:
                await asyncio.sleep(poll_seconds)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)


async def scheduler_worker(app: FastAPI) -> None:
    """The kit worker that runs the scheduler inside the service process."""
    settings = app.state.settings
    await run_loop(
        app.state.sessionmaker,
        app.state.clock,
        batch_size=settings.scheduler_batch_size,
        poll_seconds=settings.scheduler_poll_seconds,
        policy=policy_from(settings),
    )


async def _main() -> None:
    # sqlmodel marks AsyncSession.execute deprecated in favour of exec(); we run core statements on
    # purpose, and as __main__ this module would print the notice.
    warnings.filterwarnings("ignore", message=r"(?s).*session\.exec\(\)", category=DeprecationWarning)
    from services.kit.db import make_engine, make_sessionmaker
    from services.rectification import events
    from services.rectification.config import Settings

    settings = Settings()
    events.configure_links(settings.calendar_base_url)
    configure_logging(process="rectification-scheduler", level=settings.log_level, json=settings.log_json)
    # The database must already be migrated (the service or `make migrate` does it), so replicas
    # never race each other on migrations.
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=2)
    clock: Clock = (
        OffsetClock(timedelta(seconds=settings.clock_offset_seconds))
        if settings.clock_control
        else SystemClock()
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("scheduler started", database=engine.url.render_as_string(hide_password=True))
    try:
        await run_loop(
            make_sessionmaker(engine),
            clock,
            batch_size=settings.scheduler_batch_size,
            poll_seconds=settings.scheduler_poll_seconds,
            policy=policy_from(settings),
            stop=stop,
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
