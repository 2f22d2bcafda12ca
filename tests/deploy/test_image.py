"""deploy/Dockerfile, its entrypoint and its health check: the one image every process runs from."""

from __future__ import annotations

import http.server
import importlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy import healthcheck
from tests.deploy.support import (
    DEPLOY,
    PROCESSES,
    REPO,
    SERVICES,
    module_exists,
    python_modules,
    run_entrypoint,
    settings_class,
)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def dockerfile_stages(text: str) -> list[Stage]:
    """Split a Dockerfile into stages of (INSTRUCTION, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
            continue
        if keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], ""), parts[0])
            stages.append(Stage(base=base, name=parts[2] if len(parts) > 2 else None))
            continue
        stages[-1].instructions.append((keyword, rest))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return dockerfile_stages((DEPLOY / "Dockerfile").read_text())


class TestDockerfile:
    def test_every_stage_builds_on_python_311_slim(self, stages: list[Stage]) -> None:
        assert len(stages) >= 2, "expected a multi-stage build"
        assert {s.base for s in stages} == {"python:3.11-slim"}

    def test_dependencies_come_from_the_lock_without_dev_tools(self, stages: list[Stage]) -> None:
        runs = " ".join(stages[0].all("RUN"))
        assert "uv sync --frozen --no-dev" in runs

    def test_the_uv_it_installs_is_the_one_the_makefile_pins(self, stages: list[Stage]) -> None:
        pinned = re.search(r"^UV_VERSION := (\S+)", (REPO / "Makefile").read_text(), re.M)
        assert pinned is not None
        assert f"UV_VERSION={pinned[1]}" in stages[0].all("ARG")

    def test_the_final_image_runs_as_a_numeric_non_root_user(self, stages: list[Stage]) -> None:
        users = stages[-1].all("USER")
        assert users, "the runtime stage never leaves root"
        uid = users[-1].split(":")[0]
        assert uid.isdigit() and int(uid) != 0, "runAsNonRoot needs a numeric, non-zero uid"

    def test_the_final_image_has_a_healthcheck_on_the_running_process(self, stages: list[Stage]) -> None:
        (check,) = stages[-1].all("HEALTHCHECK")
        assert "/app/deploy/healthcheck.py" in check
        copied = " ".join(stages[-1].all("COPY"))
        assert "deploy/healthcheck.py /app/deploy/healthcheck.py" in copied

    def test_every_process_listens_on_all_interfaces_in_the_container(self, stages: list[Stage]) -> None:
        env = " ".join(stages[-1].all("ENV"))
        for process in PROCESSES.values():
            assert f"{process.prefix}HOST=0.0.0.0" in env, f"{process.name} would only listen on 127.0.0.1"

    def test_the_entrypoint_is_the_process_switch(self, stages: list[Stage]) -> None:
        assert stages[-1].all("ENTRYPOINT") == ['["/usr/local/bin/entrypoint"]']
        assert "deploy/entrypoint.sh /usr/local/bin/entrypoint" in " ".join(stages[-1].all("COPY"))

    def test_the_process_can_be_baked_in_with_a_build_arg(self, stages: list[Stage]) -> None:
        assert any(a.startswith("SERVICE") for a in stages[-1].all("ARG"))
        assert "SERVICE=${SERVICE}" in " ".join(stages[-1].all("ENV"))

    def test_only_files_that_exist_are_copied_from_the_context(self, stages: list[Stage]) -> None:
        for stage in stages:
            for rest in stage.all("COPY"):
                if rest.startswith("--from"):
                    continue
                *sources, _dest = rest.split()
                for source in sources:
                    assert (REPO / source).exists(), f"COPY {source}: not in the repository"

    def test_the_dockerfile_ignore_file_lets_every_copied_path_through(self, stages: list[Stage]) -> None:
        ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
        allowed = {line[1:].rstrip("/") for line in ignore.splitlines() if line.startswith("!")}
        for stage in stages:
            for rest in stage.all("COPY"):
                if not rest.startswith("--from"):
                    *sources, _dest = rest.split()
                    assert set(sources) <= allowed, f"{sources} would be ignored by the build"


class TestEntrypoint:
    @pytest.mark.parametrize("process", list(PROCESSES))
    def test_a_process_name_runs_its_module(self, tmp_path: Path, process: str) -> None:
        run, calls = run_entrypoint(tmp_path, [process])
        assert run.returncode == 0, run.stderr
        assert python_modules(calls) == [[PROCESSES[process].module]]

    def test_service_env_picks_the_process_when_no_argument_is_given(self, tmp_path: Path) -> None:
        run, calls = run_entrypoint(tmp_path, [], env={"SERVICE": "scoring"})
        assert run.returncode == 0, run.stderr
        assert python_modules(calls) == [["services.scoring"]]

    def test_an_argument_wins_over_service_env(self, tmp_path: Path) -> None:
        _run, calls = run_entrypoint(tmp_path, ["notify"], env={"SERVICE": "scoring"})
        assert python_modules(calls) == [["services.notify"]]

    def test_migrate_runs_the_services_migrations_then_the_gateways(self, tmp_path: Path) -> None:
        run, calls = run_entrypoint(tmp_path, ["migrate"])
        assert run.returncode == 0, run.stderr
        assert python_modules(calls) == [["services.cli", "migrate"], ["gateway.cli", "migrate"]]

    def test_a_failed_migration_fails_the_job_and_stops_there(self, tmp_path: Path) -> None:
        run, calls = run_entrypoint(tmp_path, ["migrate"], exit_code=3)
        assert run.returncode == 3
        assert python_modules(calls) == [["services.cli", "migrate"]]

    def test_no_process_at_all_is_a_usage_error(self, tmp_path: Path) -> None:
        run, calls = run_entrypoint(tmp_path, [])
        assert run.returncode == 64
        assert "usage" in run.stderr
        assert calls == []

    def test_any_other_command_runs_as_given(self, tmp_path: Path) -> None:
        run, calls = run_entrypoint(tmp_path, ["python", "-m", "services.sampling.demo"])
        assert run.returncode == 0, run.stderr
        assert python_modules(calls) == [["services.sampling.demo"]]

    @pytest.mark.parametrize("process", list(PROCESSES))
    def test_every_process_module_exists_and_imports(self, process: str) -> None:
        module = PROCESSES[process].module
        assert module_exists(f"{module}.__main__"), f"python -m {module} has no __main__"
        importlib.import_module(module)
        importlib.import_module(PROCESSES[process].config)

    def test_the_migrate_modules_exist_and_import(self) -> None:
        importlib.import_module("services.cli")
        importlib.import_module("gateway.cli")


class TestProcessPorts:
    @pytest.mark.parametrize("process", list(PROCESSES))
    def test_the_deploy_port_is_the_settings_default(self, process: str) -> None:
        default = settings_class(process).model_fields["port"].default
        assert default == PROCESSES[process].port == healthcheck.DEFAULT_PORTS[process]

    def test_the_service_registry_agrees(self) -> None:
        from services.registry import BY_NAME

        assert {name: BY_NAME[name].port for name in SERVICES} == {n: PROCESSES[n].port for n in SERVICES}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_process_port() -> Iterator[int]:
    """A local server answering /healthz 200 and everything else (e.g. /readyz) 503."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


class TestHealthcheck:
    def test_it_finds_the_process_from_pid_1(self, tmp_path: Path) -> None:
        cmdline = tmp_path / "cmdline"
        cmdline.write_bytes(b"python\0-m\0services.rectification\0")
        assert healthcheck.running_process({}, cmdline) == "rectification"

    def test_service_env_names_the_process(self, tmp_path: Path) -> None:
        assert healthcheck.running_process({"SERVICE": "gateway"}, tmp_path / "absent") == "gateway"

    def test_the_migration_is_recognised_as_one_shot(self) -> None:
        assert (
            healthcheck.process_from_cmdline(["/bin/sh", "/usr/local/bin/entrypoint", "migrate"]) == "migrate"
        )
        assert healthcheck.process_from_cmdline(["python", "-m", "gateway.cli", "migrate"]) == "migrate"

    def test_the_port_follows_the_process_port_setting(self) -> None:
        assert healthcheck.target_url("scoring", {}) == "http://127.0.0.1:8002/healthz"
        assert (
            healthcheck.target_url("scoring", {"SCORING_PORT": "9100"}, "/readyz")
            == "http://127.0.0.1:9100/readyz"
        )

    def test_a_live_process_passes(self, fake_process_port: int) -> None:
        env = {"SERVICE": "notify", "NOTIFY_PORT": str(fake_process_port)}
        assert healthcheck.main([], env) == 0

    def test_a_process_that_is_not_ready_fails_the_readiness_check(self, fake_process_port: int) -> None:
        env = {"SERVICE": "notify", "NOTIFY_PORT": str(fake_process_port)}
        assert healthcheck.main(["--path", "/readyz"], env) == 1

    def test_nothing_listening_fails(self) -> None:
        from services.kit.testing import free_port

        assert (
            healthcheck.main(["--timeout", "1"], {"SERVICE": "sampling", "SAMPLING_PORT": str(free_port())})
            == 1
        )

    def test_the_migration_container_is_always_healthy(self) -> None:
        assert healthcheck.main([], {"SERVICE": "migrate"}) == 0
