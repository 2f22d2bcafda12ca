"""The whole system as real processes on free ports: four services and the gateway, over real HTTP."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gateway.auth import DevIssuer
from services.kit.testing import ManagedProcess, free_port
from services.registry import SERVICES


@dataclass
class System:
    gateway_url: str
    service_urls: dict[str, str]
    issuer: DevIssuer
    processes: dict[str, ManagedProcess]
    env: dict[str, str]
    tmp: Path
    extra: list[ManagedProcess] = field(default_factory=list)

    def token(self, *, roles: list[str], scope: str = "ningbo", sub: str = "u-test", ttl: int = 3600) -> str:
        return self.issuer.mint(sub=sub, roles=roles, scope=scope, ttl_seconds=ttl)

    def auth(
        self, *, roles: list[str] | None = None, scope: str = "ningbo", sub: str = "u-test"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(roles=roles or ['city_admin'], scope=scope, sub=sub)}"}

    def client(self, **kw: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway_url, timeout=30.0, **kw)  # type: ignore[arg-type]


async def start_gateway(
    env: dict[str, str], tmp: Path, name: str = "gateway", **settings: str
) -> tuple[ManagedProcess, str]:
    port = free_port()
    genv = {**env, "GATEWAY_PORT": str(port), **settings}
    genv.setdefault("GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp / (name + '.db')}")
    proc = ManagedProcess(name, [sys.executable, "-m", "gateway"], env=genv, log_dir=tmp / "logs").start()
    url = f"http://127.0.0.1:{port}"
    await proc.wait_http(f"{url}/readyz")
    return proc, url


@pytest.fixture(scope="session")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    from services.kit.testing import create_postgres_database, drop_postgres_database
    from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB

    tmp = tmp_path_factory.mktemp("system")
    ports = {s.name: free_port() for s in SERVICES}
    urls = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
    key_path = tmp / "keys" / "issuer.pem"
    env = {
        "ENVIRONMENT": "test",
        "CITY_ROOT": os.environ["CITY_ROOT"],
        "VAR_DIR": str(tmp / "var"),
        "LOG_JSON": "true",
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(key_path),
        # The shared system serves many tests' deliberate failures from one address; the failed-auth
        # limit has its own gateway in tests/e2e/test_gateway.py.
        "GATEWAY_AUTH_FAILURES_PER_MINUTE": "0",
        **{f"{name.upper()}_URL": url for name, url in urls.items()},
        **{f"{name.upper()}_PORT": str(p) for name, p in ports.items()},
    }
    created: list[str] = []
    for svc in SERVICES:
        if TEST_DB == "postgres":
            url = await create_postgres_database(POSTGRES_ADMIN_URL, f"e2e_{svc.name}")
            created.append(url)
            env[f"{svc.name.upper()}_DATABASE_URL"] = url
    if TEST_DB == "postgres":
        gw_db = await create_postgres_database(POSTGRES_ADMIN_URL, "e2e_gateway")
        created.append(gw_db)
        env["GATEWAY_DATABASE_URL"] = gw_db
    procs: dict[str, ManagedProcess] = {}
    try:
        for svc in SERVICES:
            procs[svc.name] = ManagedProcess(
                svc.name, [sys.executable, "-m", svc.module], env=env, log_dir=tmp / "logs"
            ).start()
        for svc in SERVICES:
            await procs[svc.name].wait_http(f"{urls[svc.name]}/readyz")
        gw, gw_url = await start_gateway(env, tmp)
        procs["gateway"] = gw
        issuer = DevIssuer(key_path, issuer="dangjian-dev-issuer", audience="dangjian-inspection")
        system = System(gw_url, urls, issuer, procs, env, tmp)
        yield system
        for p in system.extra:
            p.stop()
    finally:
        for p in procs.values():
            p.stop()
        for url in created:
            await drop_postgres_database(POSTGRES_ADMIN_URL, url)
