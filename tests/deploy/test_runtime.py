"""The image's commands run for real: the migration job migrates, a service gates readiness on it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from services.kit.db import make_engine
from services.kit.migrations import current_revision, head_revision
from services.kit.testing import ManagedProcess, free_port
from services.registry import BY_NAME
from tests.deploy.support import (
    DEPLOY,
    ENTRYPOINT,
    REAL_SECRET,
    SERVICES,
    python_modules,
    real_python_env,
    run_entrypoint,
)

DatabaseFactory = Callable[[str], Awaitable[str]]
PRODUCTION = {
    "ENVIRONMENT": "production",
    "PRINCIPAL_SECRET": REAL_SECRET,
    "LOG_JSON": "true",
    "CITY_ROOT": "ningbo",
}


async def revision_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def run(
    args: list[str], env: dict[str, str], *, cwd: Path | None = None, limit_seconds: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion off the event loop."""
    return await asyncio.to_thread(
        subprocess.run, args, env=env, cwd=cwd, capture_output=True, text=True, timeout=limit_seconds
    )


async def healthcheck(env: dict[str, str], *args: str) -> int:
    """Exit code of the image's health check for the process described by `env`."""
    check = await run([sys.executable, str(DEPLOY / "healthcheck.py"), *args], {**real_python_env(), **env})
    return check.returncode


async def test_the_migrate_command_brings_every_database_to_head(
    tmp_path: Path, database_url: DatabaseFactory
) -> None:
    urls = {name: await database_url(f"deploy_{name}") for name in SERVICES}
    env = {
        **real_python_env(),
        **PRODUCTION,
        "VAR_DIR": str(tmp_path / "var"),
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
    }
    _fake, calls = run_entrypoint(tmp_path, ["migrate"])
    first, *rest = python_modules(calls)
    # What the job runs first, run for real: every service's history.
    services_migrate = await run([sys.executable, "-m", *first], env, cwd=tmp_path)
    assert services_migrate.returncode == 0, services_migrate.stderr
    for name, url in urls.items():
        assert await revision_of(url) == head_revision(BY_NAME[name].migrations_dir), name
    assert rest == [["gateway.cli", "migrate"]]
    env["GATEWAY_DATABASE_URL"] = await database_url("deploy_gateway")
    env["GATEWAY_JWKS_URL"] = "https://sso.example.gov.cn/.well-known/jwks.json"
    whole = await run(["sh", str(ENTRYPOINT), "migrate"], env, cwd=tmp_path, limit_seconds=180)
    assert whole.returncode == 0, whole.stderr


async def test_a_service_is_live_at_once_and_ready_only_after_the_migration(
    tmp_path: Path, database_url: DatabaseFactory
) -> None:
    port = free_port()
    url = await database_url("deploy_sampling_live")
    env = {
        **real_python_env(),
        **PRODUCTION,
        "VAR_DIR": str(tmp_path / "var"),
        "SAMPLING_HOST": "127.0.0.1",  # the image says 0.0.0.0; tests bind loopback only
        "SAMPLING_PORT": str(port),
        "SAMPLING_DATABASE_URL": url,
        "SAMPLING_AUTO_MIGRATE": "false",
        "SAMPLING_OUTBOX_ENABLED": "false",
    }
    process = ManagedProcess(
        "sampling", ["sh", str(ENTRYPOINT)], env={**env, "SERVICE": "sampling"}, cwd=tmp_path
    )
    process.log_path = tmp_path / "sampling.log"
    process.start()
    try:
        await process.wait_http(f"http://127.0.0.1:{port}/healthz")
        check_env = {"SERVICE": "sampling", "SAMPLING_PORT": str(port)}
        assert await healthcheck(check_env) == 0
        async with httpx.AsyncClient(timeout=5) as client:
            not_ready = await client.get(f"http://127.0.0.1:{port}/readyz")
        assert not_ready.status_code == 503, "AUTO_MIGRATE=false must leave the schema to the migration job"
        assert await healthcheck(check_env, "--path", "/readyz") == 1

        migrate = await run([sys.executable, "-m", "services.cli", "migrate", "sampling"], env, cwd=tmp_path)
        assert migrate.returncode == 0, migrate.stderr
        await process.wait_http(f"http://127.0.0.1:{port}/readyz")
        assert await healthcheck(check_env, "--path", "/readyz") == 0
    finally:
        process.stop()
    # The entrypoint exec'd python, so the SIGTERM sent to the container's PID 1 reached the server itself,
    # which drained and stopped (uvicorn re-raises the signal once it has shut down gracefully).
    assert "Finished server process" in process.output()
    assert await healthcheck({"SERVICE": "sampling", "SAMPLING_PORT": str(port)}, "--timeout", "1") == 1
