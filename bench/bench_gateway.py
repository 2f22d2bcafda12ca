"""Gateway overhead: the same endpoints direct to the service, through the gateway, and through nginx.

Targets: the service direct; the gateway (aiohttp proxy client); the same gateway with httpx as
its proxy client; nginx as a reference reverse proxy (when installed). (a) a trivial authenticated JSON GET (``/whoami``); (b) an authenticated GET of one site by id from
PostgreSQL (``/sites/{id}``, ids spread over 10,000 rows). wrk, 64 connections, BENCH_SECONDS each
(default 10), targets alternating, BENCH_ROUNDS rounds (default 3), medians.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import (
    LoadResult,
    drop_database,
    free_port,
    median_result,
    new_postgres_database,
    run_wrk,
    save,
    start,
)
from gateway.auth import DevIssuer
from services.kit.testing import principal_headers

SITES = 10_000
NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream svc {{ server 127.0.0.1:{svc_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location /api/v1/sampling/ {{
      proxy_pass http://svc/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


async def _seed_sites(url: str) -> None:
    from services.kit.db import make_engine
    from services.kit.migrations import upgrade_to_head
    from services.sampling.main import MIGRATIONS_DIR

    engine = make_engine(url)
    await upgrade_to_head(engine, MIGRATIONS_DIR)
    async with engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(
            text(
                "INSERT INTO site (code, type, name, district, org_unit, active, tags) "
                "SELECT 'B' || g, 'village', '基准村' || g, 'yinzhou', 'ningbo/yinzhou/b' || g, true, '[]' "
                "FROM generate_series(1, :n) g"
            ),
            {"n": SITES},
        )
    await engine.dispose()


def _lua(prefix: str) -> str:
    return (
        "math.randomseed(42)\n"
        f'request = function() return wrk.format("GET", "{prefix}/sites/" .. math.random(1, {SITES})) end\n'
    )


def main() -> None:
    seconds = int(os.environ.get("BENCH_SECONDS", "10"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-gw-"))
    db = new_postgres_database("bench_gw_sampling")
    procs = []
    nginx = None
    try:
        asyncio.run(_seed_sites(db))
        svc_port, gw_port = free_port(), free_port()
        key = tmp / "issuer.pem"
        issuer = DevIssuer(key, issuer="dangjian-dev-issuer", audience="dangjian-inspection")
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "VAR_DIR": str(tmp),
            "SAMPLING_PORT": str(svc_port),
            "SAMPLING_DATABASE_URL": db,
            "SAMPLING_URL": f"http://127.0.0.1:{svc_port}",
            "GATEWAY_PORT": str(gw_port),
            "GATEWAY_DEV_ISSUER_KEY_PATH": str(key),
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
            "GATEWAY_RATE_LIMIT_BURST": "100000000",
        }
        svc_url, gw_url = f"http://127.0.0.1:{svc_port}", f"http://127.0.0.1:{gw_port}"
        procs.append(start("sampling", "services.sampling", env, svc_url, tmp))
        procs.append(start("gateway", "gateway", env, gw_url, tmp))
        # The same gateway with httpx as the proxy client: the evidence for choosing aiohttp.
        hx_port = free_port()
        hx_env = {
            **env,
            "GATEWAY_PORT": str(hx_port),
            "GATEWAY_PROXY_CLIENT": "httpx",
            "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'gw-httpx.db'}",
        }
        hx_url = f"http://127.0.0.1:{hx_port}"
        procs.append(start("gateway-httpx", "gateway", hx_env, hx_url, tmp))
        direct_headers = principal_headers(roles=["city_admin"], scope="ningbo", ttl=3600)
        bearer = {
            "Authorization": f"Bearer {issuer.mint(sub='u-bench', roles=['city_admin'], scope='ningbo')}"
        }
        targets: list[tuple[str, str, str, dict[str, str]]] = [
            ("direct", svc_url, "", direct_headers),
            ("gateway", gw_url, "/api/v1/sampling", bearer),
            ("gw-httpx", hx_url, "/api/v1/sampling", bearer),
        ]
        if shutil.which("nginx"):
            ng_port = free_port()
            conf = tmp / "nginx.conf"
            conf.write_text(NGINX_CONF.format(tmp=tmp, svc_port=svc_port, port=ng_port))
            nginx = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"])
            targets.append(("nginx", f"http://127.0.0.1:{ng_port}", "/api/v1/sampling", direct_headers))
        else:
            print("nginx not installed: skipping the reference proxy (apt-get install nginx)")

        # Warm up every path (connection pools, route table, caches).
        for name, base, prefix, headers in targets:
            run_wrk(f"warm {name}", f"{base}{prefix}/whoami", headers=headers, seconds=2, tmp=tmp)
        results: dict[str, dict[str, list[LoadResult]]] = {"a_whoami": {}, "b_site_by_id": {}}
        for r in range(rounds):
            for name, base, prefix, headers in targets:
                res = run_wrk(
                    f"a {name}", f"{base}{prefix}/whoami", headers=headers, seconds=seconds, tmp=tmp
                )
                results["a_whoami"].setdefault(name, []).append(res)
                print(
                    f"  round {r + 1} (a) {name:8s} {res.rps:8.0f} req/s p50 {res.p50_ms:6.2f} ms p99 {res.p99_ms:7.2f} ms",
                    flush=True,
                )
            for name, base, prefix, headers in targets:
                res = run_wrk(
                    f"b {name}",
                    f"{base}{prefix}",
                    headers=headers,
                    seconds=seconds,
                    lua=_lua(prefix),
                    tmp=tmp,
                )
                results["b_site_by_id"].setdefault(name, []).append(res)
                print(
                    f"  round {r + 1} (b) {name:8s} {res.rps:8.0f} req/s p50 {res.p50_ms:6.2f} ms p99 {res.p99_ms:7.2f} ms",
                    flush=True,
                )
        summary: dict[str, object] = {"seconds": seconds, "rounds": rounds, "connections": 64}
        print(f"\nGateway overhead (wrk, 64 connections, {seconds}s x {rounds} rounds, medians)")
        print(
            f"{'endpoint':14s} {'target':8s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'vs direct':>10s} {'+p50 ms':>8s}"
        )
        for endpoint, by_target in results.items():
            direct = median_result(by_target["direct"])
            rows = {}
            for name, runs in by_target.items():
                m = median_result(runs)
                ratio = m.rps / direct.rps
                rows[name] = {
                    **m.__dict__,
                    "ratio": round(ratio, 3),
                    "added_p50_ms": round(m.p50_ms - direct.p50_ms, 2),
                }
                flag = (
                    "" if m.non_2xx == 0 and m.errors == 0 else f"  (non-2xx {m.non_2xx}, errors {m.errors})"
                )
                print(
                    f"{endpoint:14s} {name:8s} {m.rps:9.0f} {m.p50_ms:8.2f} {m.p99_ms:8.2f} {ratio:9.0%} {m.p50_ms - direct.p50_ms:8.2f}{flag}"
                )
            summary[endpoint] = rows
        a = summary["a_whoami"]["gateway"]["ratio"]  # type: ignore[index]
        b = summary["b_site_by_id"]["gateway"]  # type: ignore[index]
        print(
            f"\nTargets: (a) gateway keeps >= 40% -> {a:.0%}; (b) keeps >= 80% -> {b['ratio']:.0%}, adds <= 3 ms p50 -> {b['added_p50_ms']:+.2f} ms"
        )
        print(f"results: {save('gateway', summary)}")
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        for p in procs:
            p.stop()
        drop_database(db)
