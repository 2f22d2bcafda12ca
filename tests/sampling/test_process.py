"""The real process: ``python -m services.sampling`` serving, ``python -m services.sampling.demo`` loading it."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from services.kit.testing import ManagedProcess, free_port, principal_headers, python_module_args

pytestmark = pytest.mark.e2e


async def test_demo_loads_a_running_service_twice_without_changes(sampling_db, tmp_path):
    port = free_port()
    env = {
        "SAMPLING_DATABASE_URL": sampling_db,
        "SAMPLING_PORT": str(port),
        "SAMPLING_OUTBOX_ENABLED": "false",
        "SAMPLING_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    proc = ManagedProcess(
        "sampling", python_module_args("services.sampling"), env=env, log_dir=tmp_path
    ).start()
    try:
        await proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)

        def demo() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "services.sampling.demo"],
                capture_output=True, text=True, timeout=240, env={**proc.env, **env},
            )  # fmt: skip

        first = await asyncio.to_thread(demo)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "round 2026Q1 published" in first.stdout
        second = await asyncio.to_thread(demo)
        assert second.returncode == 0 and "sites 0 created, 0 updated" in second.stdout
        headers = principal_headers(roles=["inspector"], scope="ningbo", sub="u-insp-02")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            r = await client.get("/me/assignments")
        assert r.status_code == 200
    finally:
        proc.stop()
