"""Three scheduler replicas (real processes) on one PostgreSQL: 20,000 timers due at once, one replica
SIGKILLed mid-burst, and every timer fires exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from services.kit.db import make_engine
from services.kit.migrations import upgrade_to_head
from services.kit.testing import ManagedProcess, python_module_args
from services.rectification.deadlines.service import timer_event_id
from services.rectification.main import MIGRATIONS_DIR
from tests.conftest import TEST_DB

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        TEST_DB != "postgres", reason="SKIP LOCKED replicas are a PostgreSQL feature: TEST_DB=postgres"
    ),
]

PROBLEMS = 1_000
TIMERS = 20_000

SEED = """
INSERT INTO problem (id, site_code, site_name, org_unit, district, level, category, severity, description,
    evidence, issued_by, issuing_unit, responsible_unit, responsible_person_id, status, state_version,
    created_at, deadline_at, light_due_at, provisional, extension_count, template)
SELECT g, 'S' || g, '站点' || g, 'ningbo/yinzhou/s' || g, 'yinzhou', 'unit', '三会一课', 'general', '问题' || g,
    '[]', 'u-leader', 'ningbo', 'ningbo/yinzhou/s' || g, 'u-person-' || (g % 50), 'open', 1,
    CAST(:now AS timestamptz) - interval '30 days', CAST(:due AS timestamptz), CAST(:due AS timestamptz), false, 0, '{}'
FROM generate_series(1, :problems) AS g;
INSERT INTO milestone (problem_id, kind, position, due_at, original_due_at, working, provisional)
SELECT g, 'completion', 3, CAST(:due AS timestamptz), CAST(:due AS timestamptz), false, false FROM generate_series(1, :problems) AS g;
INSERT INTO timer (problem_id, kind, milestone, offset_days, sequence, fire_at, status, state_version, created_at)
SELECT 1 + (g % :problems), 'reminder', 'completion', g % 7, 0, CAST(:fire_at AS timestamptz), 'pending', 1, CAST(:now AS timestamptz)
FROM generate_series(1, :timers) AS g;
"""


async def test_each_timer_fires_exactly_once_across_three_replicas_and_a_sigkill(database_url, tmp_path):
    url = await database_url("rect_replicas")
    engine = make_engine(url, pool_size=2)
    await upgrade_to_head(engine, MIGRATIONS_DIR)
    now = datetime.now(UTC)
    fire_at = now - timedelta(minutes=1)
    async with engine.begin() as conn:
        for statement in filter(str.strip, SEED.split(";")):
            params = {
                "now": now,
                "due": now + timedelta(days=3),
                "fire_at": fire_at,
                "problems": PROBLEMS,
                "timers": TIMERS,
            }
            await conn.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
    env = {
        "RECTIFICATION_DATABASE_URL": url,
        "RECTIFICATION_SCHEDULER_BATCH_SIZE": "100",
        "RECTIFICATION_SCHEDULER_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
    }
    replicas = [
        ManagedProcess(
            f"rect-scheduler-{i}",
            python_module_args("services.rectification.scheduler"),
            env=env,
            log_dir=tmp_path,
        )
        for i in range(3)
    ]
    try:
        for r in replicas:
            r.start()
        fired_at_kill = None
        deadline = time.monotonic() + 90
        async with engine.connect() as conn:
            while time.monotonic() < deadline:
                fired = (await conn.execute(text("SELECT count(*) FROM outbox_event"))).scalar_one()
                await conn.commit()
                # SIGKILL replica 0 mid-burst, once it has committed work of its own.
                if fired_at_kill is None and fired >= 1_000 and "timers fired" in replicas[0].output():
                    replicas[0].kill()
                    fired_at_kill = fired
                pending = (
                    await conn.execute(text("SELECT count(*) FROM timer WHERE status = 'pending'"))
                ).scalar_one()
                await conn.commit()
                if pending == 0 and fired_at_kill is not None:
                    break
                await asyncio.sleep(0.02)
            assert fired_at_kill is not None and fired_at_kill < TIMERS, "the kill did not land mid-burst"
            assert not replicas[0].alive()
            assert replicas[1].alive() and replicas[2].alive(), replicas[1].output()[-2000:]
            assert all("timers fired" in r.output() for r in replicas[1:]), "every survivor took part"
            assert "Traceback" not in replicas[1].output() + replicas[2].output()
            counts = (
                await conn.execute(
                    text(
                        "SELECT count(*), count(DISTINCT payload->>'timer_id'), count(DISTINCT id) FROM outbox_event"
                    )
                )
            ).one()
            assert tuple(counts) == (TIMERS, TIMERS, TIMERS)
            statuses = dict(
                (await conn.execute(text("SELECT status, count(*) FROM timer GROUP BY status"))).all()
            )
            assert statuses == {"fired": TIMERS}
            rows = (await conn.execute(text("SELECT id, payload->>'timer_id' FROM outbox_event"))).all()
            assert all(event_id == timer_event_id(int(timer_id)) for event_id, timer_id in rows)
            timer_ids = {int(r[0]) for r in (await conn.execute(text("SELECT id FROM timer"))).all()}
            assert {int(t) for _, t in rows} == timer_ids
    finally:
        for r in replicas:
            r.stop()
        await engine.dispose()
