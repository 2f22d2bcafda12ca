"""Shared benchmark plumbing: real processes, fresh PostgreSQL databases, wrk runs, medians."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from services.kit.testing import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ManagedProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
)

RESULTS_DIR = Path(__file__).parent / "results"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)


@dataclass
class LoadResult:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(f"cannot read latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(
    label: str,
    url: str,
    *,
    headers: dict[str, str],
    seconds: int,
    connections: int = 64,
    threads: int = 2,
    lua: str | None = None,
    tmp: Path,
) -> LoadResult:
    """One wrk run; the load generator is the same for every target."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    if lua:
        script = tmp / f"{re.sub(r'[^a-z0-9]+', '_', label.lower())}.lua"
        script.write_text(lua)
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return LoadResult(
        label,
        rps,
        p50,
        p99,
        int(non2xx.group(1)) if non2xx else 0,
        sum(int(x) for x in errs.groups()) if errs else 0,
    )


def median_result(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        results[0].label,
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
        sum(r.errors for r in results),
    )


def start(name: str, module: str, env: dict[str, str], url: str, log_dir: Path) -> ManagedProcess:
    proc = ManagedProcess(name, [sys.executable, "-m", module], env=env, log_dir=log_dir).start()
    asyncio.run(proc.wait_http(url + "/readyz", timeout=60))
    return proc


def new_postgres_database(prefix: str) -> str:
    return asyncio.run(create_postgres_database(POSTGRES_ADMIN_URL, prefix))


def drop_database(url: str) -> None:
    asyncio.run(drop_postgres_database(POSTGRES_ADMIN_URL, url))


def save(name: str, payload: object) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=lambda o: asdict(o)))
    return path


__all__ = [
    "LoadResult",
    "drop_database",
    "free_port",
    "median_result",
    "new_postgres_database",
    "run_wrk",
    "save",
    "start",
]
