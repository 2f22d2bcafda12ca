"""Rebuild: a replay of the event store gives the same read model as incremental projection, however
the events arrived (out of order, twice)."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from services.kit.clock import FrozenClock
from services.kit.testing import SignedHeaders, running_app
from services.reporting.main import build_app
from services.reporting.rebuild import run
from tests.reporting import factories as f
from tests.reporting.conftest import ADMIN, T0, YINZHOU_ADMIN, Harness, reporting_settings

ROOT = Path(__file__).resolve().parents[2]


def history() -> list[dict[str, Any]]:
    """A round's life: two draws, sheets through several revisions, problems moving, two results versions."""
    yz = [f.site(f"10{i}", "yinzhou") for i in range(6)]
    hs = [f.site(f"20{i}", "haishu") for i in range(6)]
    ev: list[dict[str, Any]] = [
        f.drawn("2025Q4", yz + hs, at=T0 - timedelta(days=100), year=2025, quarter=4),
        f.results("2025Q4", [("haishu", 90.0), ("yinzhou", 86.0)], at=T0 - timedelta(days=80)),
        f.drawn("2026Q1", yz[:3] + hs[:3], at=T0 - timedelta(days=30), revision=1),
        f.drawn("2026Q1", yz + hs, at=T0 - timedelta(days=29), revision=2),
    ]
    for i, s in enumerate(yz + hs):
        at = T0 - timedelta(days=20 - i % 5)
        ev.append(f.sheet("2026Q1", s, at=at, revision=1, status="draft", score=None, grade=None))
        ev.append(
            f.sheet(
                "2026Q1",
                s,
                at=at + timedelta(hours=1),
                revision=2,
                status="submitted",
                score=80.0 + i,
                grade="较好",
            )
        )
        if i % 3:
            ev.append(
                f.sheet(
                    "2026Q1",
                    s,
                    at=at + timedelta(hours=2),
                    revision=3,
                    status="locked",
                    score=80.0 + i,
                    grade="好" if i > 8 else "较好",
                    deductions=[("B0" + str(i % 4), "条目" + str(i % 4), 1.5)],
                )
            )
        pid = 1000 + i
        ev.append(f.problem("2026Q1", s, at=at, problem_id=pid, revision=1))
        if i % 2:
            ev.append(
                f.problem(
                    "2026Q1",
                    s,
                    at=at + timedelta(days=3),
                    problem_id=pid,
                    revision=2,
                    status="closed",
                    closed_on_time=i % 4 == 1,
                )
            )
    ev.append(
        f.results("2026Q1", [("yinzhou", 88.0), ("haishu", 87.0)], at=T0 - timedelta(days=2), version=1)
    )
    ev.append(
        f.results("2026Q1", [("yinzhou", 91.0), ("haishu", 87.5)], at=T0 - timedelta(days=1), version=2)
    )
    return ev


async def boards(h: Harness) -> list[dict[str, Any]]:
    return [
        await h.dashboard("2026Q1"),
        await h.dashboard("2026Q1", YINZHOU_ADMIN),
        await h.dashboard("2025Q4"),
        (await h.client.get("/rounds", headers=ADMIN)).json(),
    ]


async def test_replay_equals_incremental_projection_whatever_the_delivery(
    reporting: Harness, database_url: Any
) -> None:
    events = history()
    await reporting.batch(events)
    in_order = await boards(reporting)

    shuffled = events * 2
    random.Random(7).shuffle(shuffled)
    app = build_app(reporting_settings(await database_url("reporting_shuffled")), clock=FrozenClock(T0))
    async with running_app(app) as client:
        other = Harness(app, client, app.state.clock)
        await other.batch(shuffled[: len(shuffled) // 2])
        await other.send(*shuffled[len(shuffled) // 2 :])
        assert await boards(other) == in_order

        r = await client.post("/admin/rebuild", headers=ADMIN)
        assert r.status_code == 200, r.text
        figures = r.json()
        assert (
            figures["events"] == len(events) and figures["seconds"] >= 0 and figures["events_per_second"] > 0
        )
        assert await boards(other) == in_order

    r = await reporting.client.post("/admin/rebuild", headers=ADMIN)
    assert r.status_code == 200 and r.json()["events"] == len(events)
    assert await boards(reporting) == in_order


async def test_only_a_city_wide_city_admin_rebuilds(reporting: Harness) -> None:
    for headers in (
        YINZHOU_ADMIN,
        SignedHeaders(roles=["city_admin"], scope="ningbo/yinzhou", sub="u-c"),
        SignedHeaders(roles=["leader"], scope="ningbo", sub="u-l"),
    ):
        assert (await reporting.client.post("/admin/rebuild", headers=headers)).status_code == 403


async def test_the_command_line_rebuild(reporting: Harness) -> None:
    events = history()
    await reporting.batch(events)
    before = await boards(reporting)
    settings = reporting.app.state.settings
    done = await run(settings)
    assert done.events == len(events)
    reporting.app.state.dashboards.clear()
    assert await boards(reporting) == before
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.reporting", "rebuild"],
        cwd=ROOT,
        env={**os.environ, "REPORTING_DATABASE_URL": settings.database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"from {len(events)} events" in out.stdout
