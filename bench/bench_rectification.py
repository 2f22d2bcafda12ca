"""Rectification scheduler benchmark (PostgreSQL).

100,000 open problems with ~500,000 timers, 20,000 of them due at the same moment. Reports timers
fired per second with one replica (in process) and with three replicas (separate processes), the
lag from due time to the event in the outbox (p50, p99), beside a baseline of a bare
``UPDATE … RETURNING`` over the same 20,000 rows; and the cost of an idle tick with 480,000 versus
5,000 future timers, with the claim query's plan.

``python -m bench rectification`` (BENCH_POSTGRES_URL overrides the admin URL).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from services.kit.clock import SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.logs import configure_logging
from services.kit.migrations import upgrade_to_head
from services.kit.testing import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ManagedProcess,
    create_postgres_database,
    drop_postgres_database,
)
from services.rectification.deadlines.policy import Policy
from services.rectification.deadlines.repository import claim_statement
from services.rectification.main import MIGRATIONS_DIR
from services.rectification.scheduler import run_loop

PROBLEMS = 100_000
TIMERS_PER_PROBLEM = 5
BURST = 20_000
BATCH = 500

SEED = [
    """INSERT INTO problem (id, site_code, site_name, org_unit, district, level, category, severity, description,
        evidence, issued_by, issuing_unit, responsible_unit, responsible_person_id, status, state_version,
        created_at, deadline_at, light_due_at, provisional, extension_count, template)
    SELECT g, 'S' || (g % 5000), '站点' || g, 'ningbo/yinzhou/s' || (g % 5000), 'yinzhou', 'unit', '三会一课', 'general',
        '问题' || g, '[]', 'u-leader', 'ningbo', 'ningbo/yinzhou/s' || (g % 5000), 'u-person-' || (g % 3000), 'open', 1,
        CAST(:now AS timestamptz), CAST(:due AS timestamptz), CAST(:due AS timestamptz), false, 0, '{}'
    FROM generate_series(1, :problems) AS g""",
    """INSERT INTO milestone (problem_id, kind, position, due_at, original_due_at, working, provisional)
    SELECT g, 'completion', 3, CAST(:due AS timestamptz), CAST(:due AS timestamptz), false, false
    FROM generate_series(1, :problems) AS g""",
    # Future timers: spread over the next 60 days.
    """INSERT INTO timer (problem_id, kind, milestone, offset_days, sequence, fire_at, status, state_version, created_at)
    SELECT 1 + (g % :problems), 'reminder', 'completion', g % 7, 0,
        CAST(:now AS timestamptz) + (interval '1 second' * (86400 + (g * 37) % (60 * 86400))), 'pending', 1, CAST(:now AS timestamptz)
    FROM generate_series(1, :future) AS g""",
    # The burst: 20,000 timers, one per problem, all due at the same moment.
    """INSERT INTO timer (problem_id, kind, milestone, offset_days, sequence, fire_at, status, state_version, created_at)
    SELECT g * (:problems / :burst), 'reminder', 'completion', 3, 0, CAST(:far AS timestamptz), 'burst', 1, CAST(:now AS timestamptz)
    FROM generate_series(1, :burst) AS g""",
]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def arm_burst(conn, due: datetime) -> None:
    """Put the 20,000 burst timers back to pending, due at `due`, and empty the outbox."""
    await conn.execute(text("DELETE FROM outbox_event"))
    await conn.execute(
        text(
            "UPDATE timer SET status = 'pending', fired_at = NULL, fire_at = :due WHERE status IN ('burst', 'fired')"
        ),
        {"due": due},
    )


async def park_burst(conn) -> None:
    await conn.execute(text("UPDATE timer SET status = 'burst' WHERE status = 'fired'"))


async def wait_drained(engine, due: datetime, limit_seconds: float = 300) -> float:
    """Wall seconds from `due` until no burst timer is pending."""
    start = time.monotonic()
    async with engine.connect() as conn:
        while time.monotonic() - start < limit_seconds:
            pending = (
                await conn.execute(
                    text("SELECT count(*) FROM timer WHERE status = 'pending' AND fire_at <= :due"),
                    {"due": due},
                )
            ).scalar_one()
            await conn.commit()
            if pending == 0 and datetime.now(UTC) >= due:
                return (datetime.now(UTC) - due).total_seconds()
            await asyncio.sleep(0.05)
    raise TimeoutError("burst not drained")


async def lags(engine) -> tuple[list[float], float]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM o.created_at - t.fire_at) FROM outbox_event o "
                    "JOIN timer t ON t.id = CAST(o.payload->>'timer_id' AS bigint)"
                )
            )
        ).all()
        span = (
            await conn.execute(
                text("SELECT EXTRACT(EPOCH FROM max(created_at) - min(created_at)) FROM outbox_event")
            )
        ).scalar_one()
    return [float(r[0]) for r in rows], float(span or 0)


async def run_one_replica(engine, sessionmaker) -> dict[str, float]:
    due = datetime.now(UTC) + timedelta(seconds=2)
    async with engine.begin() as conn:
        await arm_burst(conn, due)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_loop(sessionmaker, SystemClock(), batch_size=BATCH, poll_seconds=0.2, policy=Policy(), stop=stop)
    )
    drained = await wait_drained(engine, due)
    stop.set()
    await task
    values, span = await lags(engine)
    async with engine.begin() as conn:
        fired = (await conn.execute(text("SELECT count(*) FROM outbox_event"))).scalar_one()
        await park_burst(conn)
    assert fired == BURST, fired
    return {
        "drained_s": drained,
        "span_s": span,
        "p50": pct(values, 50),
        "p99": pct(values, 99),
        "rate": BURST / max(drained, 1e-9),
    }


async def run_three_replicas(engine, url: str) -> dict[str, float]:
    env = {
        "RECTIFICATION_DATABASE_URL": url,
        "RECTIFICATION_SCHEDULER_BATCH_SIZE": str(BATCH),
        "RECTIFICATION_SCHEDULER_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    procs = [
        ManagedProcess(
            f"bench-scheduler-{i}", [sys.executable, "-m", "services.rectification.scheduler"], env=env
        )
        for i in range(3)
    ]
    # Start the replicas first (interpreter start-up is not scheduler time), then arm the burst.
    for p in procs:
        p.start()
    await asyncio.sleep(4)
    due = datetime.now(UTC) + timedelta(seconds=2)
    async with engine.begin() as conn:
        await arm_burst(conn, due)
    try:
        drained = await wait_drained(engine, due)
    finally:
        for p in procs:
            p.stop()
    values, span = await lags(engine)
    async with engine.begin() as conn:
        fired = (await conn.execute(text("SELECT count(*) FROM outbox_event"))).scalar_one()
        await park_burst(conn)
    assert fired == BURST, fired
    return {
        "drained_s": drained,
        "span_s": span,
        "p50": pct(values, 50),
        "p99": pct(values, 99),
        "rate": BURST / max(drained, 1e-9),
    }


async def run_baseline(engine) -> float:
    """A bare UPDATE … RETURNING over the same 20,000 rows (no events, no problem reads)."""
    due = datetime.now(UTC) - timedelta(seconds=1)
    async with engine.begin() as conn:
        await arm_burst(conn, due)
    start = time.perf_counter()
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                text(
                    "UPDATE timer SET status = 'fired', fired_at = now() WHERE status = 'pending' AND fire_at <= :now RETURNING id"
                ),
                {"now": datetime.now(UTC)},
            )
        ).all()
    elapsed = time.perf_counter() - start
    assert len(rows) == BURST, len(rows)
    async with engine.begin() as conn:
        await park_burst(conn)
    return elapsed


async def idle_tick(engine, sessionmaker) -> tuple[float, float, str]:
    """Median client-side time of a claim with nothing due, the median server execution time
    (EXPLAIN ANALYZE), and the plan."""
    times, server = [], []
    plan = ""
    for _ in range(30):
        async with sessionmaker() as session, session.begin():
            start = time.perf_counter()
            await session.execute(claim_statement(session, now=datetime.now(UTC), batch_size=BATCH))
            times.append(time.perf_counter() - start)
            await session.rollback()
    for _ in range(15):
        async with sessionmaker() as session, session.begin():
            stmt = claim_statement(session, now=datetime.now(UTC), batch_size=BATCH)
            sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            lines = [r[0] for r in (await session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql))).all()]
            await session.rollback()
        plan = "\n".join(lines)
        server.append(float(next(ln for ln in lines if ln.startswith("Execution Time")).split()[2]))
    return statistics.median(times), statistics.median(server), plan


async def amain() -> None:
    admin = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)
    url = await create_postgres_database(admin, "bench_rectification")
    engine = make_engine(url, pool_size=5)
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
        now = datetime.now(UTC)
        future = PROBLEMS * TIMERS_PER_PROBLEM - BURST
        params = {
            "now": now,
            "due": now + timedelta(days=30),
            "far": now + timedelta(days=3650),
            "problems": PROBLEMS,
            "future": future,
            "burst": BURST,
        }
        t0 = time.perf_counter()
        async with engine.begin() as conn:
            for stmt in SEED:
                await conn.execute(text(stmt), {k: v for k, v in params.items() if f":{k}" in stmt})
        async with engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("VACUUM ANALYZE timer"))
            await conn.execute(text("VACUUM ANALYZE problem"))
        print(
            f"seeded {PROBLEMS:,} problems and {PROBLEMS * TIMERS_PER_PROBLEM:,} timers in {time.perf_counter() - t0:.1f} s"
        )
        sessionmaker = make_sessionmaker(engine)

        baseline = await run_baseline(engine)
        one = await run_one_replica(engine, sessionmaker)
        three = await run_three_replicas(engine, url)
        async with engine.connect() as conn:
            # Same conditions for both sizes: the burst's dead index entries vacuumed away.
            await conn.execute(text("COMMIT"))
            await conn.execute(text("VACUUM ANALYZE timer"))
        idle_big, server_big, plan = await idle_tick(engine, sessionmaker)
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM timer WHERE status = 'pending' AND id % 96 <> 0"))
            small = (
                await conn.execute(text("SELECT count(*) FROM timer WHERE status = 'pending'"))
            ).scalar_one()
        async with engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("VACUUM ANALYZE timer"))
        idle_small, server_small, _ = await idle_tick(engine, sessionmaker)

        base_rate = BURST / baseline
        print(
            f"baseline: bare UPDATE … RETURNING of {BURST:,} rows: {baseline:.2f} s = {base_rate:,.0f} rows/s"
        )
        for name, r in (("1 replica ", one), ("3 replicas", three)):
            print(
                f"scheduler, {name}: {BURST:,} timers drained {r['drained_s']:.2f} s after the due moment "
                f"(events written over {r['span_s']:.2f} s) = {r['rate']:,.0f} timers/s "
                f"[{r['rate'] / base_rate:.2f}x baseline]; lag due→outbox p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s"
            )
        print(
            f"idle tick (nothing due), round trip: {idle_big * 1000:.2f} ms with {future:,} future timers, "
            f"{idle_small * 1000:.2f} ms with {small:,} [ratio {idle_big / idle_small:.2f}]; "
            f"server execution {server_big:.3f} ms vs {server_small:.3f} ms [ratio {server_big / server_small:.2f}]"
        )
        print("claim query plan (480,000 future timers, nothing due):")
        print(plan)
    finally:
        await engine.dispose()
        await drop_postgres_database(admin, url)


def main() -> None:
    configure_logging(process="bench-rectification", level="WARNING", json=False)
    asyncio.run(amain())


if __name__ == "__main__":
    main()
