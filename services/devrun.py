"""``make run``: start the five services and the gateway as separate processes, stop them all on Ctrl-C.

Each process applies its own migrations at start (SQLite files under var/ unless *_DATABASE_URL says
otherwise). The demo city is loaded ONCE, into an empty var/ (DEMO_DATA=0 skips it):

- The first start on an empty var/ writes ``var/demo-state.json`` saying ``loading`` before any
  process starts, runs the loaders (notify's directory first, so every event a producer emits names
  people notify knows), and marks it ``loaded`` only when every loader has finished. Every loader
  process starts with the services and imports while they start; each runs, in that order, once
  the one before it is done. Each loads in bulk (no request per site, sheet or person) and prints
  what it took (``demo data: <module> done in N s``).
- A start that finds ``loading`` (the last one was interrupted, or a loader failed) finishes the
  demo: every loader is idempotent and touches only demo objects.
- A start that finds ``loaded``, or a var/ that already holds databases without the marker (made
  before the rule, or with DEMO_DATA=0), or databases outside var/, loads nothing: a restart changes
  no data and sends nothing to anybody.

Ports: the gateway on BASE_PORT (8000 unless set), the services on BASE_PORT+1..+6; an explicit
``<SERVICE>_PORT`` still wins, and every process is told where the others really are (``<SERVICE>_URL``,
unless set). Logs: readable coloured lines when stderr is a terminal, one JSON object per line
otherwise (a file, a pipe, CI); ``LOG_JSON=true|false`` decides instead. The ``Ready`` banner names the
gateway, its docs and the demo identities with the command that mints their tokens.

Ctrl-C (SIGINT) or SIGTERM at any moment stops a running loader and every process within
``STOP_SECONDS`` of the signal: SIGTERM to all at once, SIGKILL for whatever is still there (uvicorn
would otherwise wait up to 10 s for requests in flight, such as the demo's site import).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url

from services.kit.logs import is_terminal, wants_json
from services.registry import SERVICES

# A loaded laptop (or CI box) can take a minute just to import and migrate five processes.
READY_TIMEOUT = 180.0
# How often the supervisor asks the processes whether they answer yet (one local request each).
READY_POLL_SECONDS = 0.05
# Everything is gone this long after Ctrl-C: SIGTERM at once to the loader and every process, SIGKILL
# to whatever is still there at this deadline (2 s under the promised 5, for a loaded machine).
STOP_SECONDS = 3.0
DEMO_STATE_FILE = "demo-state.json"
# The city `make run` serves when the environment names none (the demo data lies in it).
DEV_CITY_ROOT = "ningbo"
LOADING, LOADED = "loading", "loaded"
# notify first: its directory must know the people the other demos' events name.
DEMO_ORDER = ("notify", "sampling", "scoring", "rectification", "reporting")
# The demo's people (notify's directory, sampling's inspector pool), as README's table lists them.
DEMO_IDENTITIES: tuple[tuple[str, str, str, str], ...] = (
    ("市委组织部 city admin", "city_admin", "ningbo", "u-admin"),
    ("市领导 city leader", "leader", "ningbo", "u-leader"),
    ("鄞州区 district admin", "district_admin", "ningbo/yinzhou", "u-yinzhou-admin"),
    ("督查组长 team leader", "team_leader", "ningbo", "u-insp-01"),
    ("海曙区 responsible person", "responsible", "ningbo/haishu", "u-haishu-responsible"),
)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _signal(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Signal a child's whole process group (its own session), by the child's pid."""
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.send_signal(signum)


def _stop(procs: Mapping[str, subprocess.Popen[bytes]], *, deadline: float) -> None:
    """SIGTERM every process at once, SIGKILL what is still running at `deadline` (monotonic)."""
    for proc in procs.values():
        if proc.poll() is None:
            _signal(proc, signal.SIGTERM)
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.05, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing pid {proc.pid}", file=sys.stderr)
            _signal(proc, signal.SIGKILL)
            proc.wait()


# ---- the once-only demo


def demo_state_path(var_dir: Path) -> Path:
    return var_dir / DEMO_STATE_FILE


def read_demo_state(var_dir: Path) -> str | None:
    path = demo_state_path(var_dir)
    try:
        return str(json.loads(path.read_text())["state"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_demo_state(var_dir: Path, state: str) -> None:
    """Write the marker atomically: a crash leaves the old state or the new one, never half a file."""
    path = demo_state_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"state": state, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    os.replace(tmp, path)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None for any other database."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def database_urls() -> dict[str, str]:
    """Every process's database URL, as the process itself will read it."""
    from gateway.config import Settings as GatewaySettings

    urls = {s.name: str(s.settings().database_url) for s in SERVICES}
    urls["gateway"] = str(GatewaySettings().database_url)
    return urls


def process_ports() -> dict[str, int]:
    """Every process's port, as the process itself will read it (BASE_PORT, or its own variable)."""
    from gateway.config import Settings as GatewaySettings

    return {**{s.name: int(s.settings().port) for s in SERVICES}, "gateway": int(GatewaySettings().port)}


def child_env(
    environ: Mapping[str, str], ports: Mapping[str, int], *, stderr_is_terminal: bool
) -> dict[str, str]:
    """The environment every child starts with: the caller's, plus where each process listens
    (``<SERVICE>_URL`` and ``GATEWAY_PUBLIC_URL`` unless set, so ``SCORING_PORT=9002`` alone moves
    scoring for everybody) and how to log (``LOG_JSON`` unless set: console lines for a terminal,
    JSON otherwise)."""
    env = dict(environ)
    for svc in SERVICES:
        env.setdefault(f"{svc.name.upper()}_URL", f"http://127.0.0.1:{ports[svc.name]}")
    env.setdefault("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{ports['gateway']}")
    if "LOG_JSON" not in env:
        # The children write to this stderr: they log for whoever reads it.
        json = wants_json(None, terminal=stderr_is_terminal, environment=env.get("ENVIRONMENT", "dev"))
        env["LOG_JSON"] = "true" if json else "false"
    return env


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - columns)


def ready_banner(gateway_port: int, *, seconds: float, colour: bool) -> str:
    """What a person reads once everything answers: where to go and who to be."""
    url = f"http://127.0.0.1:{gateway_port}"
    bold, green, dim, off = ("\033[1m", "\033[32m", "\033[2m", "\033[0m") if colour else ("", "", "", "")
    rule = "=" * 72
    lines = [
        "",
        f"{green}{rule}{off}",
        f"{green}{bold}  Ready.{off}  Every process answers ({seconds:.0f} s after start).",
        "",
        f"  Gateway:                {bold}{url}{off}",
        f"  API docs (Swagger UI):  {bold}{url}/docs{off}",
        f"  API docs (ReDoc):       {url}/redoc",
        f"  OpenAPI document:       {url}/openapi.json",
        "",
        "  Demo identities (a token for requests: TOKEN=$(make -s token ROLE=… SCOPE=… SUB=…)):",
    ]
    for who, role, scope, sub in DEMO_IDENTITIES:
        lines.append(f"    {_pad(who, 32)}make -s token ROLE={role} SCOPE={scope} SUB={sub}")
    lines += [
        "",
        f'  curl -s {url}/api/v1/sampling/whoami -H "Authorization: Bearer $TOKEN"',
        f"  {dim}Stop with Ctrl-C.{off}",
        f"{green}{rule}{off}",
        "",
    ]
    return "\n".join(lines)


def demo_plan(var_dir: Path, urls: Mapping[str, str], *, enabled: bool) -> tuple[str, str]:
    """("load" | "resume" | "skip", why), decided before any process starts."""
    if not enabled:
        return "skip", "DEMO_DATA=0: no demo data"
    state = read_demo_state(var_dir)
    if state == LOADED:
        return "skip", "demo data loaded on the first start; a restart changes nothing"
    if state == LOADING:
        return "resume", "the last demo load did not finish; finishing it"
    files = {name: _sqlite_file(url) for name, url in urls.items()}
    if any(f is None for f in files.values()):
        return "skip", "a database is not a SQLite file under var/: the demo loads only into an empty var/"
    if any(f is not None and f.exists() for f in files.values()):
        return (
            "skip",
            f"{var_dir} already holds databases: the demo loads only into an empty var/ (make clean)",
        )
    return "load", "empty var/: loading the demo city once"


def demo_modules() -> list[str]:
    order = {name: i for i, name in enumerate(DEMO_ORDER)}
    modules = []
    for svc in sorted(SERVICES, key=lambda s: order.get(s.name, len(order))):
        module = f"{svc.module}.demo"
        if importlib.util.find_spec(module) is not None:
            modules.append(module)
    return modules


# A loader process: imports its module (and everything the module imports) at once, then waits for
# "go" on stdin and runs the module as ``python -m`` would. Every loader is started together, so each
# one's imports (seconds on a busy machine) happen while the services start and the loaders before it
# run; they still run one after another, in DEMO_ORDER. Closed stdin (the load stopped earlier) exits
# without running. Once the module is done its output is flushed and the process ends at once:
# tearing down a full interpreter (every module of a service) takes a second or two on a busy machine.
LOADER_SCRIPT = """\
import importlib, logging, os, runpy, sys
module = sys.argv[1]
importlib.import_module(module)
if sys.stdin.readline().strip() != "go":
    os._exit(0)
sys.modules.pop(module)  # runpy executes it afresh as __main__; what it imports stays imported
sys.argv = [module]
code = 0
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except SystemExit as exc:
    if isinstance(exc.code, int) or exc.code is None:
        code = exc.code or 0
    else:
        print(exc.code, file=sys.stderr)
        code = 1
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""


def start_loader(module: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """A loader for `module`, importing at once and waiting for :func:`release_loader`."""
    # Own session: Ctrl-C reaches the supervisor only, which stops the loader with the rest.
    return subprocess.Popen(
        [sys.executable, "-c", LOADER_SCRIPT, module],
        env=dict(env),
        stdin=subprocess.PIPE,
        start_new_session=True,
    )


def release_loader(loader: subprocess.Popen[bytes], *, go: bool) -> None:
    """Tell a waiting loader to run (`go`) or to exit without running."""
    assert loader.stdin is not None
    try:
        if go:
            loader.stdin.write(b"go\n")
        loader.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # it has already exited (an import failed): its exit code says so


def start_loaders(
    modules: list[str], env: Mapping[str, str], children: dict[str, subprocess.Popen[bytes]]
) -> None:
    """Start every loader not started yet (each imports, then waits); they join `children`."""
    for module in modules:
        if module not in children:
            children[module] = start_loader(module, env)


def run_loaders(
    modules: list[str],
    env: Mapping[str, str],
    children: dict[str, subprocess.Popen[bytes]],
    stopping: Callable[[], bool],
) -> bool:
    """Run each loader in turn; False at the first that fails or as soon as asked to stop.

    Every loader process is started at once (see LOADER_SCRIPT; `make run` starts them while the
    services start) and is in `children` until it is done, so the supervisor stops the waiting ones
    too; a loader that fails releases the rest without running them.
    """
    start_loaders(modules, env, children)
    loaders = {module: children[module] for module in modules}
    try:
        for module, loader in loaders.items():
            if stopping():
                return False
            print(f"loading demo data: {module}", flush=True)
            started = time.monotonic()
            release_loader(loader, go=True)
            while loader.poll() is None:
                if stopping():
                    return False
                time.sleep(0.05)
            del children[module]
            if loader.returncode != 0:
                print(
                    f"{module} failed (exit {loader.returncode}); the system keeps running and the demo "
                    "is finished at the next start",
                    file=sys.stderr,
                )
                return False
            print(f"demo data: {module} done in {time.monotonic() - started:.1f} s", flush=True)
        return True
    finally:
        if not stopping():
            # Those not run (an earlier loader failed) exit on their closed stdin; reap them.
            for module, loader in loaders.items():
                if module in children:
                    release_loader(loader, go=False)
                    try:
                        loader.wait(timeout=STOP_SECONDS)
                    except subprocess.TimeoutExpired:
                        _signal(loader, signal.SIGKILL)
                        loader.wait()
                    del children[module]


def main() -> int:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False
    stop_deadline: float | None = None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping, stop_deadline
        stopping = True
        if stop_deadline is None:
            stop_deadline = time.monotonic() + STOP_SECONDS

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # The development city, unless the caller's environment names another (the kit has no default).
    os.environ.setdefault("CITY_ROOT", DEV_CITY_ROOT)
    started = time.monotonic()
    ports = process_ports()
    env = child_env(os.environ, ports, stderr_is_terminal=is_terminal(sys.stderr))
    var_dir = SERVICES[0].settings().var_dir
    plan, why = demo_plan(var_dir, database_urls(), enabled=os.environ.get("DEMO_DATA", "1") != "0")
    print(f"demo: {why}", flush=True)
    if plan == "load":
        # Before any process creates a database: an interruption from here on is finished next time.
        write_demo_state(var_dir, LOADING)
    gateway_port = ports["gateway"]
    try:
        # Own process group per child: Ctrl-C reaches only this supervisor, which stops them in order.
        for svc in SERVICES:
            if stopping:
                return 0
            procs[svc.name] = subprocess.Popen(
                [sys.executable, "-m", svc.module], env=env, start_new_session=True
            )
        if stopping:
            return 0
        procs["gateway"] = subprocess.Popen(
            [sys.executable, "-m", "gateway"], env=env, start_new_session=True
        )
        deadline = time.monotonic() + READY_TIMEOUT
        pending = set(procs)
        if plan in ("load", "resume"):
            # The loaders import while the services start; each runs once they all answer.
            start_loaders(demo_modules(), env, procs)
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
            if pending:
                time.sleep(READY_POLL_SECONDS)
        if stopping:
            return 0
        if plan in ("load", "resume"):
            if run_loaders(demo_modules(), env, procs, lambda: stopping):
                write_demo_state(var_dir, LOADED)
                print("demo: loaded (it is not loaded again; make clean to start over)", flush=True)
            elif stopping:
                print("demo: interrupted; it is finished at the next start", flush=True)
                return 0
        banner = ready_banner(
            gateway_port, seconds=time.monotonic() - started, colour=is_terminal(sys.stdout)
        )
        print(banner, flush=True)
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping the rest", file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        _stop(procs, deadline=stop_deadline or time.monotonic() + STOP_SECONDS)
        print("all processes stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
