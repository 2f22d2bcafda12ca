"""`make run`'s supervisor: everything starts, and an interrupt stops every process and frees the ports."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from gateway.auth import DevIssuer
from services.kit.testing import ManagedProcess, free_port
from services.registry import SERVICES

pytestmark = pytest.mark.e2e


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def _outbox_totals(
    c: httpx.AsyncClient, gateway: str, headers: dict[str, str], status: str
) -> dict[str, int]:
    totals = {}
    for s in SERVICES:
        r = await c.get(
            f"{gateway}/api/v1/{s.name}/outbox/events", params={"status": status, "limit": 5}, headers=headers
        )
        assert r.status_code == 200, r.text
        totals[s.name] = r.json()["total"]
    return totals


async def test_run_loads_a_coherent_demo_and_ctrl_c_stops_everything(tmp_path: Path):
    ports = {s.name: free_port() for s in SERVICES} | {"gateway": free_port()}
    env = {
        "VAR_DIR": str(tmp_path / "var"),
        "DEMO_DATA": "1",
        **{f"{name.upper()}_PORT": str(p) for name, p in ports.items()},
        **{f"{s.name.upper()}_URL": f"http://127.0.0.1:{ports[s.name]}" for s in SERVICES},
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(tmp_path / "k.pem"),
    }
    runner = ManagedProcess(
        "devrun", [sys.executable, "-m", "services.devrun"], env=env, log_dir=tmp_path
    ).start()
    try:
        for _ in range(3000):  # the banner follows readiness and the demo loaders
            if "Ready." in runner.output() or not runner.alive():
                break
            await asyncio.sleep(0.1)
        assert "Ready." in runner.output(), runner.output()[-3000:]
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        issuer = DevIssuer(tmp_path / "k.pem", issuer="dangjian-dev-issuer", audience="dangjian-inspection")
        admin = {
            "Authorization": f"Bearer {issuer.mint(sub='u-admin', roles=['city_admin'], scope='ningbo')}"
        }
        async with httpx.AsyncClient(timeout=30) as c:
            for name, port in ports.items():
                assert (await c.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200, name
            # The demo's events cross services (sampling -> notify, scoring -> rectification and notify,
            # rectification -> notify): once the outboxes drain, none may have been refused.
            for _ in range(600):
                pending = await _outbox_totals(c, gateway, admin, "pending")
                if not any(pending.values()):
                    break
                await asyncio.sleep(0.2)
            assert not any(pending.values()), pending
            assert await _outbox_totals(c, gateway, admin, "failed") == {s.name: 0 for s in SERVICES}
            problems = await c.get(
                f"{gateway}/api/v1/rectification/problems", params={"limit": 1}, headers=admin
            )
            assert problems.json()["total"] > 10, "scoring's demo findings became problems"
        assert f"http://127.0.0.1:{ports['gateway']}/docs" in runner.output()
        runner.proc.send_signal(signal.SIGINT)  # type: ignore[union-attr]
        assert runner.proc.wait(timeout=30) == 0  # type: ignore[union-attr]
        assert "all processes stopped" in runner.output()
        assert all(_port_free(p) for p in ports.values()), "a child process outlived the runner"
        # Every SQLite database was created and migrated under VAR_DIR.
        assert {p.name for p in (tmp_path / "var").glob("*.db")} >= {f"{s.name}.db" for s in SERVICES} | {
            "gateway.db"
        }
    finally:
        runner.stop()
