"""End-to-end webhook throughput: outbox → notify → signed webhook, on SQLite and PostgreSQL.

A sender service writes a burst of events to its outbox in one transaction; its relay POSTs them
to notify, which queues and signs one webhook per event for a local receiver that verifies every
signature. Figures: signed deliveries per second from the committed burst to the last arrival,
lost and duplicated events, beside a baseline of the same receiver hit directly by one httpx
client (signed the same way, 32 requests in flight), and the same with aiohttp.

    python -m bench notify            # BENCH_NOTIFY_EVENTS=10000 by default
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from services.kit.testing import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ManagedProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    principal_headers,
)
from services.notify.signing import new_secret, webhook_headers

ROOT = Path(__file__).resolve().parents[1]
EVENTS = int(os.environ.get("BENCH_NOTIFY_EVENTS", "10000"))
# Rows the sender's relay claims per pass (sent as batches of 100 to /events/batch, concurrently).
RELAY_BATCH = os.environ.get("BENCH_NOTIFY_RELAY_BATCH", "400")
ADMIN = principal_headers(roles=["city_admin"], sub="bench")
QUIET = {"LOG_LEVEL": "WARNING", "ACCESS_LOG": "false", "ENVIRONMENT": "test"}


async def _wait(url: str, proc: ManagedProcess) -> None:
    await proc.wait_http(url, timeout=60)


async def _count(client: httpx.AsyncClient, base: str) -> dict[str, Any]:
    return (await client.get(f"{base}/_count")).json()  # type: ignore[no-any-return]


async def _received(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as c:
        r = (await c.get(f"{base}/_received")).json()
        r.pop("bodies", None)
        return r  # type: ignore[no-any-return]


async def baseline(receiver_base: str, secret: str, n: int) -> float:
    """Deliveries per second of one httpx client signing and POSTing straight to the receiver."""
    body = b'{"id":"x","type":"rectification.problem.created","source":"bench","occurred_at":"2026-03-02T00:00:00Z","data":{}}'
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
    ) as client:

        async def one(i: int) -> None:
            async with gate:
                headers = webhook_headers(secret, f"base-{i}", int(time.time()), body)
                r = await client.post(f"{receiver_base}/hook", content=body, headers=headers)
                r.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started)


async def baseline_aiohttp(receiver_base: str, secret: str, n: int) -> float:
    """The same with aiohttp (what notify uses for webhooks): the receiver's own ceiling, roughly."""
    import aiohttp

    body = b'{"id":"x","type":"rectification.problem.created","source":"bench","occurred_at":"2026-03-02T00:00:00Z","data":{}}'
    gate = asyncio.Semaphore(32)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:

        async def one(i: int) -> None:
            async with gate:
                headers = webhook_headers(secret, f"base-aio-{i}", int(time.time()), body)
                async with session.post(f"{receiver_base}/hook", data=body, headers=headers) as r:
                    r.raise_for_status()
                    await r.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started)


async def run(db: str, logs: Path) -> dict[str, Any]:
    pg_urls: list[str] = []

    async def url(name: str) -> str:
        if db == "postgres":
            u = await create_postgres_database(DEFAULT_POSTGRES_ADMIN_URL, f"bench_{name}")
            pg_urls.append(u)
            return u
        return f"sqlite+aiosqlite:///{logs / (name + '.db')}"

    secret = new_secret()
    rport, nport, sport = free_port(), free_port(), free_port()
    receiver = ManagedProcess(
        "receiver",
        [sys.executable, "-m", "tests.notify.receiver", "--port", str(rport), "--secret", secret],
        cwd=ROOT,
        log_dir=logs,
    )
    notify = ManagedProcess(
        "notify",
        [sys.executable, "-m", "services.notify"],
        env={
            **QUIET,
            "NOTIFY_DATABASE_URL": await url("notify"),
            "NOTIFY_PORT": str(nport),
            "NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
            "NOTIFY_DB_POOL_SIZE": "20",
        },
        cwd=ROOT,
        log_dir=logs,
    )
    sender = ManagedProcess(
        "sender",
        [sys.executable, "-m", "tests.notify.sender_app"],
        env={
            **QUIET,
            "SENDER_DATABASE_URL": await url("sender"),
            "SENDER_PORT": str(sport),
            "SENDER_RELAY_BATCH_SIZE": RELAY_BATCH,
            "NOTIFY_URL": f"http://127.0.0.1:{nport}",
        },
        cwd=ROOT,
        log_dir=logs,
    )
    rbase, nbase, sbase = (f"http://127.0.0.1:{p}" for p in (rport, nport, sport))
    procs = [receiver, notify, sender]
    try:
        for p in procs:
            p.start()
        await _wait(f"{rbase}/_received", receiver)
        await _wait(f"{nbase}/readyz", notify)
        await _wait(f"{sbase}/readyz", sender)
        direct = await baseline(rbase, secret, min(EVENTS, 5000))
        direct_aio = await baseline_aiohttp(rbase, secret, min(EVENTS, 5000))
        before = await _received(rbase)
        async with httpx.AsyncClient(timeout=120) as c:
            r = await c.post(
                f"{nbase}/webhooks/subscriptions",
                json={"name": "bench", "url": f"{rbase}/hook", "event_types": ["*"], "secret": secret},
                headers=ADMIN,
            )
            r.raise_for_status()
            written = time.perf_counter()
            r = await c.post(f"{sbase}/burst", json={"count": EVENTS, "prefix": "bench"}, headers=ADMIN)
            r.raise_for_status()
            # The clock starts when the burst is committed: from then on the events are in the
            # outbox and everything after is the pipeline under test.
            started = time.perf_counter()
            expected = set(r.json()["ids"])
        deadline = time.monotonic() + 900
        async with httpx.AsyncClient(timeout=30) as poll:
            while time.monotonic() < deadline:
                if (await _count(poll, rbase))["unique"] - before["unique"] >= EVENTS:
                    break
                await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        seen = await _received(rbase)
        got = {k for k in seen["ids"] if k.startswith("bench-")}
        dups = sum(v - 1 for k, v in seen["ids"].items() if k.startswith("bench-"))
        rate = len(got & expected) / elapsed
        return {
            "db": db,
            "events": EVENTS,
            "seconds": round(elapsed, 2),
            "write_seconds": round(started - written, 2),
            "deliveries_per_s": round(rate, 1),
            "baseline_per_s": round(direct, 1),
            "ratio": round(rate / direct, 3),
            "baseline_aiohttp_per_s": round(direct_aio, 1),
            "ratio_aiohttp": round(rate / direct_aio, 3),
            "lost": len(expected - got),
            "duplicated": dups,
            "bad_signatures": seen["bad_signatures"],
        }
    finally:
        for p in reversed(procs):
            p.stop()
        for u in pg_urls:
            await drop_postgres_database(DEFAULT_POSTGRES_ADMIN_URL, u)


def main() -> None:
    dbs = os.environ.get("BENCH_NOTIFY_DBS", "sqlite,postgres").split(",")
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        for db in dbs:
            res = asyncio.run(run(db, Path(tmp)))
            print(
                f"notify webhooks [{res['db']}]: {res['events']} events delivered in {res['seconds']} s after the "
                f"burst was committed ({res['write_seconds']} s to write it) = {res['deliveries_per_s']} signed "
                f"deliveries/s; direct httpx baseline {res['baseline_per_s']}/s (ratio {res['ratio']:.0%}), "
                f"direct aiohttp {res['baseline_aiohttp_per_s']}/s (ratio {res['ratio_aiohttp']:.0%}); "
                f"lost {res['lost']}, duplicated {res['duplicated']}, bad signatures {res['bad_signatures']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
