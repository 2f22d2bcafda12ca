"""The deadline scheduler: fires due timers into the outbox, exactly once, with any number of replicas.

One tick is one transaction: claim up to `batch_size` due timers (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so replicas never claim the same row; SQLite has a single writer), mark them fired, and
write their events to the outbox, in the same transaction. A replica that dies mid-tick leaves
nothing behind (its transaction rolls back, the rows unlock, another replica claims them), and a
committed tick has both the "fired" mark and the event, so nothing fires twice. Event ids are
derived from the timer id as a second guard: the outbox's primary key refuses a duplicate.

A timer whose problem changed since it was scheduled (state_version differs) or closed is marked
``skipped`` and sends nothing. Escalations re-arm themselves: firing one schedules the next.

Run inside the service (a kit worker) or as its own process: ``python -m services.rectification.scheduler``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.clock import Clock, OffsetClock, SystemClock
from services.kit.logs import configure_logging, get_logger
from services.kit.outbox import PENDING
from services.rectification import events
from services.rectification.models import milestone_table, outbox_event, problem_table, timer_table
from services.rectification.policy import Policy, policy_from

log = get_logger("rectification.scheduler")

TIMER_EVENT_NAMESPACE = uuid.UUID("6f1c63b6-4d0e-4b8e-9d57-8f0f5e6d2a11")
T = timer_table.c
P = problem_table
M = milestone_table.c
# Everything an event needs (not the JSON evidence and template, which cost a decode per row).
PROBLEM_COLUMNS = [c for c in P.c if c.name not in ("evidence", "template")]


def timer_event_id(timer_id: int) -> str:
    """The outbox event id of a timer: the same timer can never produce two events."""
    return str(uuid.uuid5(TIMER_EVENT_NAMESPACE, f"timer:{timer_id}"))


@dataclass
class TickResult:
    claimed: int = 0
    fired: int = 0
    skipped: int = 0


def claim_statement(session: AsyncSession, *, now: datetime, batch_size: int) -> Any:
    """UPDATE … RETURNING over the due rows; reads only the partial index of pending timers."""
    due = select(T.id).where(T.status == "pending", T.fire_at <= now).order_by(T.fire_at).limit(batch_size)
    if session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
        due = due.with_for_update(skip_locked=True)
    return (
        update(timer_table)
        .where(T.id.in_(due.scalar_subquery()))
        .values(status="fired", fired_at=now)
        .returning(
            T.id, T.problem_id, T.kind, T.milestone, T.offset_days, T.sequence, T.fire_at, T.state_version
        )
    )


async def fire_due_timers(
    session: AsyncSession, *, now: datetime, batch_size: int, policy: Policy
) -> TickResult:
    """One tick inside the caller's transaction: claim due timers and enqueue their events."""
    claimed = (await session.execute(claim_statement(session, now=now, batch_size=batch_size))).all()
    result = TickResult(claimed=len(claimed))
    if not claimed:
        return result
    problem_ids = {t.problem_id for t in claimed}
    # Plain rows, not ORM objects: this is the hot path of a 20,000-timer burst.
    problems: dict[int, Any] = {
        r.id: SimpleNamespace(**r._mapping)
        for r in (await session.execute(select(*PROBLEM_COLUMNS).where(P.c.id.in_(problem_ids)))).all()
    }
    due_rows = await session.execute(
        select(M.problem_id, M.kind, M.due_at).where(M.problem_id.in_(problem_ids), M.done_at.is_(None))
    )
    due_at = {(r.problem_id, r.kind): r.due_at for r in due_rows}
    outbox_rows: list[dict[str, Any]] = []
    next_timers: list[dict[str, Any]] = []
    skipped: list[int] = []
    for t in claimed:
        problem = problems.get(t.problem_id)
        milestone_due = due_at.get((t.problem_id, t.milestone))
        if (
            problem is None
            or problem.status == "closed"
            or problem.state_version != t.state_version
            or milestone_due is None
        ):
            skipped.append(t.id)
            continue
        event_type, payload = events.timer_payload(
            problem,
            kind=t.kind,
            milestone=t.milestone,
            due_at=milestone_due,
            offset_days=t.offset_days,
            sequence=t.sequence,
            timer_id=t.id,
            now=now,
        )
        payload["scheduled_for"] = t.fire_at.isoformat()
        outbox_rows.append(
            {
                "id": timer_event_id(t.id),
                "event_type": event_type,
                "target": "notify",
                "path": "/events",
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
        if t.kind == "escalation":
            next_timers.append(
                {
                    "problem_id": t.problem_id,
                    "kind": "escalation",
                    "milestone": t.milestone,
                    "offset_days": 0,
                    "sequence": t.sequence + 1,
                    "fire_at": t.fire_at + policy.escalation_repeat,
                    "status": "pending",
                    "state_version": t.state_version,
                    "recipient_id": problem.responsible_person_id,
                    "created_at": now,
                }
            )
    if skipped:
        await session.execute(update(timer_table).where(T.id.in_(skipped)).values(status="skipped"))
    if outbox_rows:
        await session.execute(insert(outbox_event), outbox_rows)
    if next_timers:
        await session.execute(insert(timer_table), next_timers)
    result.fired, result.skipped = len(outbox_rows), len(skipped)
    return result


async def run_tick(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, *, batch_size: int, policy: Policy
) -> TickResult:
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
    from services.rectification.config import Settings

    settings = Settings()
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
