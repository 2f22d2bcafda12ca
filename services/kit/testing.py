"""Helpers for tests: principals, in-process apps, fresh databases, real processes on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from services.kit import orgunit
from services.kit.auth import PRINCIPAL_HEADER, Principal, PrincipalKind, sign_principal
from services.kit.settings import DEV_PRINCIPAL_SECRET

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# Long enough that a principal signed when a module is imported, or once for a session, is still
# valid however slowly a loaded machine reaches the test that sends it. Tests of expiry pass their own.
TEST_PRINCIPAL_TTL = 24 * 3600


def principal_headers(
    *,
    roles: Sequence[str] = ("city_admin",),
    scope: str | None = None,
    sub: str = "tester",
    name: str | None = None,
    kind: str = "user",
    secret: str = DEV_PRINCIPAL_SECRET,
    ttl: int = TEST_PRINCIPAL_TTL,
) -> dict[str, str]:
    """Headers that make a service believe the gateway forwarded this principal.

    The scope defaults to the whole configured city. Valid for a day by default: a suite on a busy
    machine never outlives them. Pass `ttl` to test expiry (a negative one is already expired).
    """
    scope = orgunit.city_root() if scope is None else scope
    p = Principal(sub=sub, roles=tuple(roles), scope=scope, name=name, kind=cast(PrincipalKind, kind))
    return {PRINCIPAL_HEADER: sign_principal(p, secret=secret, ttl_seconds=ttl)}


class SignedHeaders(Mapping[str, str]):
    """Principal headers signed afresh each time a request reads them.

    A module constant such as ``ADMIN = SignedHeaders(roles=["city_admin"])`` is used
    by tests that run minutes after import on a busy machine: headers signed once at import would
    expire with their wall-clock TTL. Each read signs a fresh token, so no test depends on how fast
    the suite reaches it.
    """

    def __init__(self, **principal: Any) -> None:
        self.principal = principal

    def _headers(self) -> dict[str, str]:
        return principal_headers(**self.principal)

    def __getitem__(self, key: str) -> str:
        return self._headers()[key]

    def __iter__(self) -> Iterator[str]:
        return iter((PRINCIPAL_HEADER,))

    def __len__(self) -> int:
        return 1


@asynccontextmanager
async def running_app(app: FastAPI, *, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and give an in-process client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def create_postgres_database(admin_url: str, prefix: str) -> str:
    """Create an empty database named after `prefix`; returns its asyncpg URL.

    The name ends in 16 random hex digits, so runs side by side (two clones, two ``make test``) never
    meet on one database; PostgreSQL's 63-byte limit is kept by shortening the prefix.
    """
    import asyncpg

    url = make_url(admin_url)
    name = f"{prefix[:40]}_{uuid.uuid4().hex[:16]}".lower()
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


_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A loopback port nobody listens on, for a child process to bind a moment later.

    Chosen at random below the kernel's ephemeral range: a port the kernel picked (``bind(0)``) is
    also what it gives the next outgoing connection of any process, which on a busy machine can
    take it before the child binds. Two suites side by side pick from thousands of ports at random,
    and one process never hands out the same port twice.
    """
    low, high = 20000, min(_ephemeral_low(), 32768)
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(low, high)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
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
        # Never a shared path: without a log_dir, a fresh temporary directory per process.
        directory = log_dir or Path(tempfile.mkdtemp(prefix=f"test-logs-{name}-"))
        self.log_path = directory / f"{name}-{uuid.uuid4().hex[:8]}.log"
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

    async def wait_http(self, url: str, *, timeout: float = 180.0, expect: int = 200) -> None:
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
