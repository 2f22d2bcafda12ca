"""What the deploy tests share: the five processes, the settings they read, and readers for the files."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from pydantic import AliasChoices

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
COMPOSE = DEPLOY / "compose.yaml"
# A secret good enough for ENVIRONMENT=production (>= 32 chars, not the dev placeholder).
REAL_SECRET = "a-real-principal-secret-of-48-characters-0123456"


@dataclass(frozen=True)
class Process:
    name: str
    module: str  # what `python -m` runs
    config: str  # where its Settings class lives
    port: int  # the port the deploy files expect (checked against the settings default)

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"


PROCESSES = {
    p.name: p
    for p in (
        Process("gateway", "gateway", "gateway.config", 8000),
        Process("sampling", "services.sampling", "services.sampling.config", 8001),
        Process("scoring", "services.scoring", "services.scoring.config", 8002),
        Process("rectification", "services.rectification", "services.rectification.config", 8003),
        Process("notify", "services.notify", "services.notify.config", 8004),
        Process("reporting", "services.reporting", "services.reporting.config", 8005),
        Process("evidence", "services.evidence", "services.evidence.config", 8006),
    )
}
SERVICES = [name for name in PROCESSES if name != "gateway"]


def image_env() -> dict[str, str]:
    """The ENV the runtime stage of deploy/Dockerfile sets (what every container starts with)."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    runtime = text.split("AS runtime", 1)[1]
    env: dict[str, str] = {}
    for line in runtime.splitlines():
        if line.startswith("ENV "):
            env |= dict(pair.split("=", 1) for pair in line.removeprefix("ENV ").split())
    return env


def known_env_names(processes: list[str]) -> set[str]:
    """The names the processes' settings read, plus the shared (unprefixed) names any process reads.

    Shared names (``CITY_ROOT``, the peers' ``*_URL``) come in one block for every process; each
    process reads the ones it needs (a service declares only its own peers) and ignores the rest.
    """
    known: set[str] = set()
    for process in processes:
        known |= env_names(settings_class(process))
    return known | shared_env_names()


def shared_env_names() -> set[str]:
    """The unprefixed names some process reads (the ones a deployment may give every process)."""
    names: set[str] = set()
    for process in PROCESSES.values():
        names |= {n for n in env_names(settings_class(process.name)) if not n.startswith(process.prefix)}
    return names


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def settings_class(process: str) -> Any:
    """The process's Settings class."""
    return importlib.import_module(PROCESSES[process].config).Settings


def env_names(settings_cls: Any) -> set[str]:
    """Every environment variable `settings_cls` reads (prefixed field names, or their shared aliases)."""
    prefix = settings_cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in settings_cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def load_settings(process: str, env: Mapping[str, str]) -> Any:
    """Build the process's settings from exactly `env`, as the process would at start-up."""
    cls = settings_class(process)
    with mock.patch.dict(os.environ, dict(env), clear=True):
        return cls()


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_documents() -> list[dict[str, Any]]:
    """deploy/k8s rendered (kustomize: see tests/deploy/kustomize.py), one document per resource."""
    from tests.deploy.kustomize import render

    return render(K8S)


_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|:\?|-|\?)(?P<arg>[^}]*))?\}")


class MissingVariable(LookupError):
    pass


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` over strings, lists and mappings."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        return arg or ""

    return _VAR.sub(one, value).replace("$$", "$")


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def fake_python(tmp_path: Path, *, exit_code: int = 0) -> tuple[dict[str, str], Path]:
    """An env whose `python` only records its arguments (one line per call) and exits `exit_code`."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "python-calls.log"
    script = bin_dir / "python"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexit {exit_code}\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}, log


def run_entrypoint(
    tmp_path: Path, args: list[str], *, env: Mapping[str, str] | None = None, exit_code: int = 0
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """Run deploy/entrypoint.sh with a recording `python`; returns the run and each python call's argv."""
    base, log = fake_python(tmp_path, exit_code=exit_code)
    log.unlink(missing_ok=True)
    run = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=20,
    )
    calls = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return run, calls


def python_modules(calls: list[list[str]]) -> list[list[str]]:
    """`[["-m", "services.cli", "migrate"]]` → `[["services.cli", "migrate"]]`."""
    modules = []
    for argv in calls:
        assert argv[0] == "-m", f"the entrypoint runs python without -m: {argv}"
        modules.append(argv[1:])
    return modules


def real_python_env() -> dict[str, str]:
    """An env whose `python` is this interpreter, with the repository importable (as in the image)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": os.environ.get("HOME", "/tmp"),
    }


@contextmanager
def chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)
