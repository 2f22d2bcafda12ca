"""Helpers for tests: principals, in-process apps, fresh databases, real processes on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from services.kit.auth import PRINCIPAL_HEADER, Principal, sign_principal
from services.kit.settings import DEV_PRINCIPAL_SECRET

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def principal_headers(
    *,
    roles: Sequence[str] = ("city_admin",),
    scope: str = "ningbo",
    sub: str = "tester",
    name: str | None = None,
    kind: str = "user",
    secret: str = DEV_PRINCIPAL_SECRET,
    ttl: int = 300,
) -> dict[str, str]:
    """Headers that make a service believe the gateway forwarded this principal."""
    p = Principal(sub=sub, roles=tuple(roles), scope=scope, name=name, kind=kind)  # type: ignore[arg-type]
    return {PRINCIPAL_HEADER: sign_principal(p, secret=secret, ttl_seconds=ttl)}


@asynccontextmanager
async def running_app(app: FastAPI, *, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and give an in-process client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def create_postgres_database(admin_url: str, prefix: str) -> str:
    """Create an empty database named after `prefix`; returns its asyncpg URL."""
    import asyncpg

    url = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}".lower()
    conn = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database=url.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, database_url: str) -> None:
    import asyncpg

    admin = make_url(admin_url)
    name = make_url(database_url).database
    conn = await asyncpg.connect(
        user=admin.username,
        password=admin.password,
        host=admin.host,
        port=admin.port or 5432,
        database=admin.database,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ManagedProcess:
    """A real child process (a service, the gateway, a receiver) that a test starts and stops by PID."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.log_path = (log_dir or Path("var/test-logs")) / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_http(self, url: str, *, timeout: float = 30.0, expect: int = 200) -> None:
        """Poll `url` until it answers `expect`; fail with the process log if it dies or never does."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited early:\n{self.output()[-4000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == expect:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready at {url} after {timeout}s:\n{self.output()[-4000:]}")

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM this process (by PID), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def python_module_args(module: str) -> list[str]:
    return [sys.executable, "-m", module]
