"""deploy/compose.yaml: PostgreSQL, a one-shot migration, then the five processes, only the gateway published."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.deploy.support import (
    COMPOSE,
    DEPLOY,
    PROCESSES,
    REAL_SECRET,
    SERVICES,
    MissingVariable,
    image_env,
    interpolate,
    known_env_names,
    load_settings,
    python_modules,
    read_env_file,
    run_entrypoint,
    yaml_documents,
)

OPERATOR_ENV = {
    "PRINCIPAL_SECRET": REAL_SECRET,
    "POSTGRES_PASSWORD": "pg-pass",
    "SMS_API_KEY": "sms-provider-key",
}
APP_SERVICES = ["gateway", *SERVICES]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    (doc,) = yaml_documents(COMPOSE)
    return doc


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as compose sees it once the operator has set the two required variables."""
    return interpolate(raw, OPERATOR_ENV)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment, with its optional gateway.env taken from the example."""
    env = {k: str(v) for k, v in service.get("environment", {}).items()}
    for entry in service.get("env_file", []):
        path = DEPLOY / entry["path"]
        assert entry.get("required") is False or path.exists(), f"env_file {path} must exist"
        env |= read_env_file(path if path.exists() else path.with_name(path.name + ".example"))
    return env


def processes_of(tmp_path: Path, service: dict[str, Any]) -> list[str]:
    """Which of the five processes' settings a compose service's command loads."""
    _run, calls = run_entrypoint(tmp_path, list(service["command"]))
    loaded = []
    for module, *_ in python_modules(calls):
        if module in ("services.cli", "gateway.cli"):
            loaded += SERVICES if module == "services.cli" else ["gateway"]
        else:
            (name,) = [p.name for p in PROCESSES.values() if p.module == module]
            loaded.append(name)
    return loaded


class TestComposeFile:
    def test_it_refuses_to_start_without_the_secrets(self, raw: dict[str, Any]) -> None:
        for missing in OPERATOR_ENV:
            with pytest.raises(MissingVariable, match=missing):
                interpolate(raw, {k: v for k, v in OPERATOR_ENV.items() if k != missing})

    def test_postgres_is_version_15_with_a_healthcheck(self, compose: dict[str, Any]) -> None:
        postgres = compose["services"]["postgres"]
        assert postgres["image"].split(":")[1].startswith("15")
        assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    def test_postgres_accepts_every_connection_the_pools_may_open(self, compose: dict[str, Any]) -> None:
        command = compose["services"]["postgres"]["command"]
        max_connections = int(command[command.index("-c") + 1].removeprefix("max_connections="))
        env = image_env() | OPERATOR_ENV
        # The gateway's engine uses the kit defaults unless its settings say otherwise.
        demand = 10 + 20
        for name in SERVICES:
            settings = load_settings(name, env | environment(compose["services"][name]))
            demand += settings.db_pool_size + settings.db_max_overflow
        assert demand + 10 <= max_connections, "leave room for the migration job and psql"

    def test_the_init_script_creates_one_database_per_process(self, compose: dict[str, Any]) -> None:
        mounts = compose["services"]["postgres"]["volumes"]
        (init,) = [m for m in mounts if "docker-entrypoint-initdb.d" in m]
        script = DEPLOY / init.split(":")[0]
        created = set(re.findall(r"CREATE DATABASE (\w+);", script.read_text()))
        assert created == set(PROCESSES)

    def test_every_database_url_points_at_the_postgres_service_and_a_created_database(
        self, compose: dict[str, Any]
    ) -> None:
        for name, service in compose["services"].items():
            for key, value in environment(service).items():
                if key.endswith("_DATABASE_URL"):
                    url = make_url(value)
                    assert url.drivername == "postgresql+asyncpg", f"{name}.{key}"
                    assert (url.host, url.port) == ("postgres", 5432), f"{name}.{key}"
                    assert url.database == key.removesuffix("_DATABASE_URL").lower(), f"{name}.{key}"
                    assert url.password == OPERATOR_ENV["POSTGRES_PASSWORD"]

    def test_only_the_gateway_is_published(self, compose: dict[str, Any]) -> None:
        published = {name for name, s in compose["services"].items() if s.get("ports")}
        assert published == {"gateway"}
        (port,) = compose["services"]["gateway"]["ports"]
        assert port == "127.0.0.1:8000:8000", "by default the gateway is published on loopback only"

    def test_no_container_runs_as_root(self, compose: dict[str, Any]) -> None:
        for name, service in compose["services"].items():
            if name != "postgres":
                assert str(service.get("user", "10001")).split(":")[0] not in ("0", "root"), name
                assert "ALL" in service["cap_drop"], name
                assert service["read_only"] is True, name


class TestStartOrder:
    def test_migrate_is_a_one_shot_after_postgres_is_healthy(
        self, tmp_path: Path, compose: dict[str, Any]
    ) -> None:
        migrate = compose["services"]["migrate"]
        assert migrate["restart"] == "no"
        assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert processes_of(tmp_path, migrate) == [*SERVICES, "gateway"]

    @pytest.mark.parametrize("name", APP_SERVICES)
    def test_each_process_starts_after_a_successful_migration(
        self, compose: dict[str, Any], name: str
    ) -> None:
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["migrate"] == {"condition": "service_completed_successfully"}

    def test_the_gateway_waits_for_every_service_to_be_healthy(self, compose: dict[str, Any]) -> None:
        depends = compose["services"]["gateway"]["depends_on"]
        for name in SERVICES:
            assert depends[name] == {"condition": "service_healthy"}

    @pytest.mark.parametrize("name", APP_SERVICES)
    def test_healthy_means_ready(self, compose: dict[str, Any], name: str) -> None:
        test = compose["services"][name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "/app/deploy/healthcheck.py"]
        assert test[3:] == ["--path", "/readyz"]


class TestProcessConfiguration:
    @pytest.mark.parametrize("name", APP_SERVICES)
    def test_each_service_runs_the_process_of_its_name(
        self, tmp_path: Path, compose: dict[str, Any], name: str
    ) -> None:
        assert processes_of(tmp_path, compose["services"][name]) == [name]

    @pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
    def test_every_variable_is_a_setting_of_the_process(
        self, tmp_path: Path, compose: dict[str, Any], name: str
    ) -> None:
        service = compose["services"][name]
        known = known_env_names(processes_of(tmp_path, service))
        unknown = set(environment(service)) - known
        assert not unknown, f"{name} is given variables no settings field reads: {sorted(unknown)}"

    @pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
    def test_the_settings_load_in_production_from_this_environment(
        self, tmp_path: Path, compose: dict[str, Any], name: str
    ) -> None:
        service = compose["services"][name]
        env = image_env() | environment(service)
        assert env["ENVIRONMENT"] == "production"
        processes = processes_of(tmp_path, service)
        for process in processes:
            settings = load_settings(process, env)
            assert settings.host == "0.0.0.0"
            assert settings.database_url == env[f"{PROCESSES[process].prefix}DATABASE_URL"]
            assert settings.principal_secret.get_secret_value() == REAL_SECRET
            assert settings.city_root == "ningbo"
            if name != "migrate":
                assert settings.auto_migrate is False, "in compose the migrate service owns the schema"

    @pytest.mark.parametrize("name", APP_SERVICES)
    def test_peer_urls_reach_the_compose_services_on_their_ports(
        self, compose: dict[str, Any], name: str
    ) -> None:
        env = environment(compose["services"][name])
        for peer in SERVICES:
            assert env[f"{peer.upper()}_URL"] == f"http://{peer}:{PROCESSES[peer].port}"

    @pytest.mark.parametrize("name", APP_SERVICES)
    def test_the_process_listens_on_the_port_its_peers_and_healthcheck_expect(
        self, compose: dict[str, Any], name: str
    ) -> None:
        settings = load_settings(name, image_env() | environment(compose["services"][name]))
        assert settings.port == PROCESSES[name].port
