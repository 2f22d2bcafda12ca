"""Fuzz the merged OpenAPI with schemathesis: ``python -m tests.fuzz.run`` (``make fuzz``; run by .ci/run).

Starts its own system (four services and the gateway on free ports, SQLite under a temporary
directory, both gateway rate limits (per principal and failed authentications) lifted for this run,
notify allowed to deliver to loopback receivers) and a webhook receiver on 127.0.0.1; every webhook subscription the run creates points at that
receiver (tests/fuzz/hooks.py). Requests are made as a city admin with a development token.

Empty by default; ``FUZZ_DEMO=1`` loads the demo city first (existing ids let the generated requests
reach deeper, at a few minutes' cost). Fails on any 5xx (``not_a_server_error``) and on any answer that breaks its own schema
(``response_schema_conformance``). Bounded: ``FUZZ_MAX_EXAMPLES`` cases per operation (default 25)
and ``FUZZ_MAX_TIME`` seconds for the whole run (default 240). Prints the operations, the requests
and the 5xx answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fuzz.stack import Stack, start_stack

ROOT = Path(__file__).resolve().parents[2]


async def start_receiver() -> tuple[web.AppRunner, str, list[int]]:
    """A webhook receiver on 127.0.0.1 that takes everything (Standard Webhooks: any 2xx)."""
    received: list[int] = []

    async def take(request: web.Request) -> web.Response:
        received.append(len(await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook", received


def summarise(ndjson: Path) -> dict[str, Any]:
    """Operations, requests, 5xx answers and failed checks from schemathesis's NDJSON event stream."""
    selected = 0
    tested: set[str] = set()
    requests = 0
    server_errors: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    lines = ndjson.read_text().splitlines() if ndjson.exists() else []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "LoadingFinished" in event:
            selected = int(event["LoadingFinished"]["statistic"]["operations"]["selected"])
        finished = event.get("ScenarioFinished")
        if not finished or finished.get("status") == "skip":
            continue
        recorder = finished.get("recorder") or {}
        label = recorder.get("label", "?")
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response")
            if not response:
                continue
            tested.add(label)
            requests += 1
            if int(response["status_code"]) >= 500:
                server_errors[f"{label} -> {response['status_code']}"] += 1
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if check.get("status") == "failure":
                    failures[f"{check['name']}: {label}"] += 1
    return {
        "selected": selected,
        "operations": tested,
        "requests": requests,
        "server_errors": server_errors,
        "failures": failures,
    }


async def fuzz(max_examples: int, max_time: int, workers: int, keep: bool, demo: bool) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    runner, receiver_url, received = await start_receiver()
    stack: Stack | None = None
    try:
        stack = await start_stack(
            tmp,
            env_extra={"NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true"},
            # the calendar feed's generated tokens are failed authentications: with that limit on, one
            # minute of them turns every later request from this address into 429
            gateway_env={"GATEWAY_RATE_LIMIT_ENABLED": "false"},
            demo=demo,
        )
        token = stack.token(roles=["city_admin"], scope="ningbo", sub="u-fuzz-admin", ttl=max_time + 3600)
        ndjson = tmp / "events.ndjson"
        junit = tmp / "junit.xml"
        cmd = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{stack.gateway_url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            str(max_examples),
            "--max-time",
            str(max_time),
            "--workers",
            str(workers),
            "--phases",
            os.environ.get("FUZZ_PHASES", "coverage,fuzzing"),
            "--seed",
            "20260401",
            "--no-shrink",
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
            "--report",
            "ndjson,junit",
            "--report-ndjson-path",
            str(ndjson),
            "--report-junit-path",
            str(junit),
            # The SSE stream never ends by design; the calendar feed needs its own token, not a bearer.
            "--exclude-path",
            "/api/v1/notify/inbox/stream",
        ]
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
            "FUZZ_RECEIVER_URL": receiver_url,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        print(
            f"fuzz: schemathesis over {stack.gateway_url}/openapi.json ({max_examples} examples per operation, "
            f"at most {max_time}s); webhooks only to {receiver_url}",
            flush=True,
        )
        # run in the temporary directory: schemathesis keeps a cache (.schemathesis/) where it runs
        proc = await asyncio.create_subprocess_exec(*cmd, env=env, cwd=str(tmp))
        try:
            code = await asyncio.wait_for(proc.wait(), timeout=max_time + 600)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            print("fuzz: schemathesis did not finish in time", file=sys.stderr)
            return 1
        figures = summarise(ndjson)
        errors: Counter[str] = figures["server_errors"]
        print(
            f"\nfuzz figures: operations {len(figures['operations'])} tested of {figures['selected']}, "
            f"requests {figures['requests']}, "
            f"5xx {sum(errors.values())}, webhook deliveries received {len(received)}",
            flush=True,
        )
        for what, n in errors.most_common():
            print(f"  5xx  {n:5d}  {what}")
        for name, n in figures["failures"].most_common():
            print(f"  failed {n:5d}  {name}")
        for name, proc_ in stack.processes.items():
            if not proc_.alive():
                print(f"fuzz: {name} died during the run", file=sys.stderr)
                code = code or 1
        if sum(errors.values()) and code == 0:
            code = 1
        return int(code)
    finally:
        if stack is not None:
            stack.stop()
        await runner.cleanup()
        if keep:
            print(f"fuzz: logs and reports kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run")
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")))
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("FUZZ_MAX_TIME", "240")))
    # One worker: with two threads, hypothesis's lambda descriptions call ast.parse concurrently, which
    # Python 3.11 can fail with "AST constructor recursion depth mismatch" (CPython gh-106905), a
    # runtime error of the tool that says nothing about the API.
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FUZZ_WORKERS", "1")))
    parser.add_argument("--keep", action="store_true", help="keep the logs and reports")
    parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("FUZZ_DEMO", "0") == "1",
        help="load the demo city first (FUZZ_DEMO=1): existing ids reach deeper, at a few minutes' cost",
    )
    args = parser.parse_args(argv)
    return asyncio.run(fuzz(args.max_examples, args.max_time, args.workers, args.keep, args.demo))


if __name__ == "__main__":
    sys.exit(main())
