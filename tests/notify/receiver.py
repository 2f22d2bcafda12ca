"""A stand-alone HTTP receiver for tests and the benchmark: a webhook endpoint of "another government
system" and an SMS provider. It verifies Standard Webhooks signatures with its own code (not notify's),
deduplicates by webhook-id as a real receiver should, and reports what it saw.

    python -m tests.notify.receiver --port 9100 --secret whsec_...

GET  /_received         -> {"requests": n, "unique": n, "ids": {...: count}, "bad_signatures": n, "sms": [...]}
GET  /_count            -> {"requests", "unique", "bad_signatures", "max_in_flight", "in_flight", "refused"}
                           (cheap, for polling)
POST /_mode {"status", "delay", "workers"}
                        -> answer every webhook/SMS with that status (e.g. 503) until set back to 200;
                           a slow receiver: take `delay` seconds per webhook, `workers` at a time
                           (0: no limit), the rest queue as on a real server with a small pool
POST /hook              -> a webhook; POST /sms -> an SMS submission
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from typing import Any

from aiohttp import web


def verify(secret: str, headers: Any, body: bytes, tolerance: int = 300) -> bool:
    """Standard Webhooks verification, written from the specification."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature", "")
    if not msg_id or not ts or not ts.isdigit() or abs(time.time() - int(ts)) > tolerance:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return any(part.startswith("v1,") and hmac.compare_digest(part[3:], expected) for part in sigs.split(" "))


def build(secret: str | None, tolerance: int = 300) -> web.Application:
    state: dict[str, Any] = {
        "status": 200,
        "ids": Counter(),
        "requests": 0,
        "bad": 0,
        "sms": [],
        "bodies": {},
        "delay": 0.0,
        "pool": None,  # asyncio.Semaphore when the receiver handles only so many at a time
        "in_flight": 0,
        "max_in_flight": 0,
        "refused": 0,  # webhooks answered with the status set by /_mode
    }

    async def hook(request: web.Request) -> web.Response:
        state["in_flight"] += 1
        state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
        try:
            if state["delay"]:
                pool = state["pool"]
                if pool is None:
                    await asyncio.sleep(state["delay"])
                else:
                    async with pool:
                        await asyncio.sleep(state["delay"])
            return await handle(request)
        finally:
            state["in_flight"] -= 1

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if state["status"] != 200:
            state["refused"] += 1
            return web.json_response({"error": "down"}, status=state["status"])
        state["requests"] += 1
        if secret is not None and not verify(secret, request.headers, body, tolerance):
            state["bad"] += 1
            return web.json_response({"error": "bad signature"}, status=401)
        msg_id = request.headers["webhook-id"]
        state["ids"][msg_id] += 1
        state["bodies"].setdefault(msg_id, json.loads(body))
        return web.json_response({"ok": True})

    async def sms(request: web.Request) -> web.Response:
        if state["status"] != 200:
            return web.json_response({"code": "unavailable"}, status=state["status"])
        payload = await request.json()
        state["sms"].append({"payload": payload, "authorization": request.headers.get("authorization")})
        return web.json_response({"message_id": f"sms-{len(state['sms'])}", "status": "accepted"})

    async def received(_: web.Request) -> web.Response:
        ids: Counter[str] = state["ids"]
        return web.json_response(
            {
                "requests": state["requests"],
                "unique": len(ids),
                "ids": dict(ids),
                "bad_signatures": state["bad"],
                "sms": state["sms"],
                "bodies": state["bodies"],
                "max_in_flight": state["max_in_flight"],
            }
        )

    async def count(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": state["requests"],
                "unique": len(state["ids"]),
                "bad_signatures": state["bad"],
                "max_in_flight": state["max_in_flight"],
                "in_flight": state["in_flight"],
                "refused": state["refused"],
            }
        )

    async def mode(request: web.Request) -> web.Response:
        want = await request.json()
        state["status"] = int(want.get("status", state["status"]))
        if "delay" in want:
            state["delay"] = float(want["delay"])
            workers = int(want.get("workers", 0))
            state["pool"] = asyncio.Semaphore(workers) if workers > 0 else None
        return web.json_response({"status": state["status"], "delay": state["delay"]})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/hook", hook)
    app.router.add_post("/sms", sms)
    app.router.add_get("/_received", received)
    app.router.add_get("/_count", count)
    app.router.add_post("/_mode", mode)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", default=None)
    parser.add_argument("--tolerance", type=int, default=300, help="seconds of clock skew accepted")
    args = parser.parse_args()
    web.run_app(
        build(args.secret, args.tolerance), host="127.0.0.1", port=args.port, print=None, access_log=None
    )


if __name__ == "__main__":
    main()
