"""The whole system as real processes on free ports, for the scope matrix and the fuzz run.

The four services and the gateway each run as their own process (as ``make run`` starts them), on
SQLite files under a temporary directory or on fresh PostgreSQL databases, with the demo city loaded
when asked. Everything started here is stopped by PID.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gateway.auth import DevIssuer
from services.kit.testing import ManagedProcess, free_port
from services.registry import SERVICES

# Generous: on a loaded machine (2 cores, many suites) a service may take a minute to answer.
READY_TIMEOUT = 240.0
DEMO_MODULES = (
    "services.notify.demo",
    "services.sampling.demo",
    "services.scoring.demo",
    "services.rectification.demo",
)


@dataclass
class Stack:
    gateway_url: str
    service_urls: dict[str, str]
    env: dict[str, str]
    tmp: Path
    issuer: DevIssuer
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    databases: list[str] = field(default_factory=list)

    def token(self, *, roles: list[str], scope: str, sub: str, ttl: int = 4 * 3600) -> str:
        return self.issuer.mint(sub=sub, roles=roles, scope=scope, ttl_seconds=ttl)

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop()


async def start_stack(
    tmp: Path,
    *,
    postgres_admin_url: str | None = None,
    demo: bool = False,
    env_extra: dict[str, str] | None = None,
    gateway_env: dict[str, str] | None = None,
) -> Stack:
    """Start the services and the gateway; on failure everything already started is stopped."""
    from services.kit.testing import create_postgres_database

    ports = {s.name: free_port() for s in SERVICES}
    urls = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
    key_path = tmp / "keys" / "issuer.pem"
    env = {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(tmp / "var"),
        "LOG_JSON": "true",
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(key_path),
        **{f"{name.upper()}_URL": url for name, url in urls.items()},
        **{f"{name.upper()}_PORT": str(p) for name, p in ports.items()},
        **(env_extra or {}),
    }
    databases: list[str] = []
    if postgres_admin_url:
        for name in [*(s.name for s in SERVICES), "gateway"]:
            url = await create_postgres_database(postgres_admin_url, f"stack_{name}")
            databases.append(url)
            env[f"{name.upper()}_DATABASE_URL"] = url
    gw_port = free_port()
    stack = Stack(
        gateway_url=f"http://127.0.0.1:{gw_port}",
        service_urls=urls,
        env=env,
        tmp=tmp,
        issuer=DevIssuer(key_path, issuer="dangjian-dev-issuer", audience="dangjian-inspection"),
        databases=databases,
    )
    logs = tmp / "logs"
    try:
        for svc in SERVICES:
            stack.processes[svc.name] = ManagedProcess(
                svc.name, [sys.executable, "-m", svc.module], env=env, log_dir=logs
            ).start()
        for svc in SERVICES:
            await stack.processes[svc.name].wait_http(f"{urls[svc.name]}/readyz", timeout=READY_TIMEOUT)
        genv = {**env, "GATEWAY_PORT": str(gw_port), **(gateway_env or {})}
        genv.setdefault("GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp / 'gateway.db'}")
        stack.processes["gateway"] = ManagedProcess(
            "gateway", [sys.executable, "-m", "gateway"], env=genv, log_dir=logs
        ).start()
        await stack.processes["gateway"].wait_http(f"{stack.gateway_url}/readyz", timeout=READY_TIMEOUT)
        if demo:
            await load_demo(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


async def load_demo(stack: Stack) -> None:
    """Run the demo loaders once, in the order ``make run`` uses (notify's directory first)."""
    env = {**os.environ, **stack.env}
    for module in DEMO_MODULES:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(
                f"{module} failed ({proc.returncode}):\n{out.decode(errors='replace')[-4000:]}"
            )


async def drop_databases(stack: Stack, postgres_admin_url: str) -> None:
    from services.kit.testing import drop_postgres_database

    for url in stack.databases:
        await drop_postgres_database(postgres_admin_url, url)
