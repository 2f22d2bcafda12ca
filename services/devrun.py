"""``make run``: start the four services and the gateway as separate processes, stop them all on Ctrl-C.

Each process applies its own migrations at start (SQLite files under var/ unless *_DATABASE_URL says
otherwise). When everything answers /readyz, the demo data loaders run once (idempotent), unless
DEMO_DATA=0.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import FrameType

from services.registry import SERVICES

READY_TIMEOUT = 60.0


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing pid {proc.pid}", file=sys.stderr)
            proc.kill()
            proc.wait()


def main() -> int:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    env = {**os.environ}
    # Own process group per child: Ctrl-C reaches only this supervisor, which stops them in order.
    for svc in SERVICES:
        procs[svc.name] = subprocess.Popen(
            [sys.executable, "-m", svc.module], env=env, start_new_session=True
        )
    procs["gateway"] = subprocess.Popen([sys.executable, "-m", "gateway"], env=env, start_new_session=True)
    from gateway.config import Settings as GatewaySettings

    ports = {**{s.name: s.settings().port for s in SERVICES}, "gateway": GatewaySettings().port}
    gateway_port = ports["gateway"]
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        pending = set(procs)
        while pending and not stopping:
            for name in list(pending):
                if procs[name].poll() is not None:
                    print(f"{name} exited with code {procs[name].returncode}; stopping", file=sys.stderr)
                    return 1
                if _ready(ports[name]):
                    pending.discard(name)
            if time.monotonic() > deadline:
                print(f"not ready after {READY_TIMEOUT:.0f}s: {sorted(pending)}", file=sys.stderr)
                return 1
            time.sleep(0.2)
        if stopping:
            return 0
        if os.environ.get("DEMO_DATA", "1") != "0":
            # notify first: its directory must know the people the other demos' events name.
            for svc in sorted(SERVICES, key=lambda s: s.name != "notify"):
                module = f"{svc.module}.demo"
                if importlib.util.find_spec(module) is None:
                    continue
                print(f"loading demo data: {module}", flush=True)
                if subprocess.run([sys.executable, "-m", module], env=env).returncode != 0:
                    print(f"{module} failed (the system keeps running)", file=sys.stderr)
        print(
            "\n  Ready.\n"
            f"  API docs (Swagger UI):  http://127.0.0.1:{gateway_port}/docs\n"
            f"  OpenAPI document:       http://127.0.0.1:{gateway_port}/openapi.json\n"
            "  A token for requests:   make token ROLE=city_admin SCOPE=ningbo SUB=admin\n"
            "  Stop with Ctrl-C.\n",
            flush=True,
        )
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping the rest", file=sys.stderr)
                    return 1
            time.sleep(0.3)
        return 0
    finally:
        _stop(procs)
        print("all processes stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
