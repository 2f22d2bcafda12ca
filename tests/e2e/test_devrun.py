"""`make run`'s supervisor: everything starts, and an interrupt stops every process and frees the ports."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from services.kit.testing import ManagedProcess, free_port
from services.registry import SERVICES

pytestmark = pytest.mark.e2e


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def test_run_starts_all_processes_and_ctrl_c_stops_them(tmp_path: Path):
    ports = {s.name: free_port() for s in SERVICES} | {"gateway": free_port()}
    env = {
        "VAR_DIR": str(tmp_path / "var"),
        "DEMO_DATA": "0",
        **{f"{name.upper()}_PORT": str(p) for name, p in ports.items()},
        **{f"{s.name.upper()}_URL": f"http://127.0.0.1:{ports[s.name]}" for s in SERVICES},
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(tmp_path / "k.pem"),
    }
    runner = ManagedProcess(
        "devrun", [sys.executable, "-m", "services.devrun"], env=env, log_dir=tmp_path
    ).start()
    try:
        for _ in range(600):  # the banner is printed once every process answers /readyz
            if "Ready." in runner.output() or not runner.alive():
                break
            await asyncio.sleep(0.1)
        assert "Ready." in runner.output(), runner.output()[-3000:]
        async with httpx.AsyncClient() as c:
            for name, port in ports.items():
                assert (await c.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200, name
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
