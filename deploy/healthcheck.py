"""Container health check: GET /healthz (or ``--path /readyz``) on the process running in this container.

Used by the image's HEALTHCHECK and by compose. Standard library only, so it stays cheap to run every
few seconds. The process is ``$SERVICE`` when set, else read from PID 1's command line (the entrypoint
``exec``s it), so an image started with ``docker run IMAGE sampling`` is checked as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

# Each process's settings default port (tests/deploy checks these against the Settings classes).
DEFAULT_PORTS = {
    "gateway": 8000,
    "sampling": 8001,
    "scoring": 8002,
    "rectification": 8003,
    "notify": 8004,
    "reporting": 8005,
    "evidence": 8006,
}
MODULES = {"gateway": "gateway", **{name: f"services.{name}" for name in DEFAULT_PORTS if name != "gateway"}}
# One-shot processes: nothing listens, so there is nothing to check.
ONE_SHOT = {"migrate"}


def process_from_cmdline(argv: list[str]) -> str | None:
    """Name the process a command line runs (``python -m services.sampling`` → ``sampling``)."""
    for name, module in MODULES.items():
        if module in argv or name in argv:
            return name
    if any(arg in ONE_SHOT or arg.endswith(".cli") for arg in argv):
        return "migrate"
    return None


def running_process(env: Mapping[str, str], cmdline_file: Path = Path("/proc/1/cmdline")) -> str | None:
    if env.get("SERVICE"):
        return env["SERVICE"]
    try:
        argv = cmdline_file.read_bytes().decode().split("\0")
    except OSError:
        return None
    return process_from_cmdline(argv)


def target_url(process: str, env: Mapping[str, str], path: str = "/healthz") -> str:
    """Where ``process`` answers in this container: its ``<PROCESS>_PORT`` or the settings default."""
    port = int(env.get(f"{process.upper()}_PORT") or DEFAULT_PORTS[process])
    return f"http://127.0.0.1:{port}{path}"


def check(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/healthz", help="/healthz (liveness, default) or /readyz")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    process = running_process(env)
    if process in ONE_SHOT:
        return 0
    if process not in DEFAULT_PORTS:
        print(f"healthcheck: cannot tell which process runs here ({process!r}); set SERVICE", file=sys.stderr)
        return 1
    url = target_url(process, env, args.path)
    if check(url, args.timeout):
        return 0
    print(f"healthcheck: {url} is not healthy", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
