"""`make run`'s supervisor, for real: Ctrl-C at any moment frees every port within 5 s, an interrupted
demo is finished at the next start without a single dead letter, and a restart changes no data.

One var/ for the whole story (it is the point: each start finds what the last one left), so the
demo city is loaded once: interrupted while notify's directory loads, interrupted again while
sampling imports the city, finished, then restarted.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import DevIssuer
from services.devrun import DEMO_STATE_FILE
from services.kit.testing import ManagedProcess, free_port
from services.registry import SERVICES

pytestmark = pytest.mark.e2e

STOP_LIMIT = 5.0  # seconds from Ctrl-C to every port free and the supervisor gone
READY_LIMIT = 600.0  # generous: a loaded machine may take minutes to load the demo; never waited out


# Logs of work that goes on whatever a restart does: notify retries the demo's e-mails (no SMTP server
# in development) and records each attempt. Not data a restart may change; everything else is.
BACKGROUND_LOGS = {("notify", "delivery_attempt")}


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def _until(condition: Callable[[], bool], *, timeout: float, what: str, poll: float = 0.05) -> float:
    """Poll `condition`; returns the seconds it took, fails naming `what` after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not within {timeout:.0f}s")
        await asyncio.sleep(poll)
    return time.monotonic() - started


class Run:
    """One var/ and one set of ports that successive `make run`s share."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.var = tmp / "var"
        self.ports = {s.name: free_port() for s in SERVICES} | {"gateway": free_port()}
        self.gateway = f"http://127.0.0.1:{self.ports['gateway']}"
        self.env = {
            "VAR_DIR": str(self.var),
            "DEMO_DATA": "1",
            "LOG_JSON": "true",
            **{f"{name.upper()}_PORT": str(p) for name, p in self.ports.items()},
            **{f"{s.name.upper()}_URL": f"http://127.0.0.1:{self.ports[s.name]}" for s in SERVICES},
            "GATEWAY_DEV_ISSUER_KEY_PATH": str(tmp / "k.pem"),
        }
        self.starts = 0

    def start(self) -> ManagedProcess:
        self.starts += 1
        return ManagedProcess(
            f"devrun{self.starts}", [sys.executable, "-m", "services.devrun"], env=self.env, log_dir=self.tmp
        ).start()

    def admin(self) -> dict[str, str]:
        """Signed for each request: nothing outlives a slow machine."""
        issuer = DevIssuer(self.tmp / "k.pem", issuer="dangjian-dev-issuer", audience="dangjian-inspection")
        return {"Authorization": f"Bearer {issuer.mint(sub='u-admin', roles=['city_admin'], scope='ningbo')}"}

    def demo_state(self) -> str | None:
        path = self.var / DEMO_STATE_FILE
        return json.loads(path.read_text())["state"] if path.exists() else None

    async def wait_output(self, runner: ManagedProcess, text: str) -> None:
        await _until(
            lambda: text in runner.output() or not runner.alive(), timeout=READY_LIMIT, what=repr(text)
        )
        assert text in runner.output(), runner.output()[-4000:]

    async def interrupt(self, runner: ManagedProcess) -> float:
        """Ctrl-C; returns the seconds until every port is free. The supervisor then exits cleanly."""
        assert runner.proc is not None
        runner.proc.send_signal(signal.SIGINT)
        freed = await _until(
            lambda: all(_port_free(p) for p in self.ports.values()),
            timeout=STOP_LIMIT + 10,
            what="every port free",
        )
        # It exits only once every child has been reaped (SIGKILL 3 s after the signal at the latest).
        await _until(lambda: not runner.alive(), timeout=30, what="the supervisor's exit")
        assert runner.proc.returncode == 0, runner.output()[-4000:]
        assert "all processes stopped" in runner.output()
        return freed

    async def outbox_services(self, c: httpx.AsyncClient) -> list[str]:
        """The services with an outbox (its admin routes are in the merged OpenAPI)."""
        doc = (await c.get(f"{self.gateway}/openapi.json")).json()
        return [s.name for s in SERVICES if f"/api/v1/{s.name}/outbox/events" in doc["paths"]]

    async def outbox_totals(self, c: httpx.AsyncClient, path: str, **params: Any) -> dict[str, int]:
        totals = {}
        for name in await self.outbox_services(c):
            r = await c.get(
                f"{self.gateway}/api/v1/{name}/outbox/{path}", params=params, headers=self.admin()
            )
            assert r.status_code == 200, r.text
            totals[name] = r.json()["total"]
        return totals

    def counts(self) -> dict[str, Any]:
        """Rows in every table of every database, and who is responsible for which problem."""
        out: dict[str, Any] = {}
        for db in sorted(self.var.glob("*.db")):
            with sqlite3.connect(db) as conn:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    if (db.stem, table) in BACKGROUND_LOGS:
                        continue
                    out[f"{db.stem}.{table}"] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                if db.stem == "rectification":
                    out["problems"] = conn.execute(
                        "SELECT id, status, responsible_person_id FROM problem ORDER BY id"
                    ).fetchall()
        return out


@pytest.mark.timeout(1800)  # four starts and one demo load; minutes on a loaded machine
async def test_ctrl_c_frees_the_ports_at_once_and_the_demo_loads_once(tmp_path: Path) -> None:
    run = Run(tmp_path)
    runner = run.start()
    try:
        # 1. Ctrl-C while notify's directory loads (before any producer has emitted an event).
        await run.wait_output(runner, "loading demo data: services.notify.demo")
        assert await run.interrupt(runner) <= STOP_LIMIT, runner.output()[-4000:]
        assert run.demo_state() == "loading"

        # 2. The next start finishes the demo; Ctrl-C again while sampling imports the city (a long
        #    request in flight, which uvicorn alone would wait 10 s for).
        runner = run.start()
        await run.wait_output(runner, "the last demo load did not finish")
        await run.wait_output(runner, "loading demo data: services.sampling.demo")
        assert await run.interrupt(runner) <= STOP_LIMIT, runner.output()[-4000:]
        assert run.demo_state() == "loading"

        # 3. This start completes it, and no event was refused for good anywhere.
        runner = run.start()
        await run.wait_output(runner, "Ready.")
        assert "demo: loaded" in runner.output(), runner.output()[-4000:]
        assert run.demo_state() == "loaded"
        async with httpx.AsyncClient(timeout=30) as c:
            for name, port in run.ports.items():
                assert (await c.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200, name
            pending: dict[str, int] = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                pending = await run.outbox_totals(c, "events", status="pending", limit=1)
                if not any(pending.values()):
                    break
                await asyncio.sleep(0.2)
            assert not any(pending.values()), pending
            outboxes = await run.outbox_services(c)
            assert {"sampling", "scoring", "rectification", "notify"} <= set(outboxes)
            assert await run.outbox_totals(c, "dead-letters", limit=1) == {name: 0 for name in outboxes}
            problems = await c.get(
                f"{run.gateway}/api/v1/rectification/problems", params={"limit": 1}, headers=run.admin()
            )
            assert problems.json()["total"] > 10, "scoring's demo findings became problems"
            # Reporting heard the demo round from the producers' fact events: its dashboard answers,
            # with the demo's sheets and problems on it.
            board: dict[str, Any] = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                r = await c.get(
                    f"{run.gateway}/api/v1/reporting/rounds/2026Q1/dashboard", headers=run.admin()
                )
                board = r.json() if r.status_code == 200 else {}
                if board and board["rectification"]["total"] > 10 and board["coverage"]["drawn"] > 0:
                    break
                await asyncio.sleep(0.5)
            assert board, "reporting has no dashboard of the demo round"
            assert board["rectification"]["total"] > 10 and board["coverage"]["drawn"] > 0, board["coverage"]
        assert f"{run.gateway}/docs" in runner.output()
        assert await run.interrupt(runner) <= STOP_LIMIT
        # Every SQLite database was created and migrated under VAR_DIR.
        assert {p.name for p in run.var.glob("*.db")} >= {f"{s.name}.db" for s in SERVICES} | {"gateway.db"}
        loaded = run.counts()
        assigned = [p for p in loaded["problems"] if p[2] is not None]

        # 4. A restart loads nothing and changes nothing.
        runner = run.start()
        await run.wait_output(runner, "Ready.")
        assert "loading demo data" not in runner.output()
        assert await run.interrupt(runner) <= STOP_LIMIT
        again = run.counts()
        assert again == loaded
        assert [p for p in again["problems"] if p[2] is not None] == assigned
    finally:
        runner.stop()


def test_the_demo_loads_only_into_an_empty_var(tmp_path: Path) -> None:
    from services.devrun import LOADED, LOADING, demo_plan, write_demo_state

    var = tmp_path / "var"
    urls = {name: f"sqlite+aiosqlite:///{var / (name + '.db')}" for name in ("sampling", "gateway")}
    assert demo_plan(var, urls, enabled=True)[0] == "load"
    assert demo_plan(var, urls, enabled=False)[0] == "skip"
    # A var/ with databases but no marker (made before the rule, or with DEMO_DATA=0) is left alone.
    var.mkdir()
    (var / "sampling.db").write_bytes(b"")
    assert demo_plan(var, urls, enabled=True)[0] == "skip"
    write_demo_state(var, LOADING)
    assert demo_plan(var, urls, enabled=True)[0] == "resume"
    write_demo_state(var, LOADED)
    assert demo_plan(var, urls, enabled=True)[0] == "skip"
    # Databases outside var/ (PostgreSQL) never get the demo on their own.
    elsewhere = {**urls, "sampling": "postgresql+asyncpg://postgres@127.0.0.1/sampling"}
    assert demo_plan(tmp_path / "empty", elsewhere, enabled=True)[0] == "skip"
