"""deploy/k8s: a Deployment + Service per process, shared config, a Secret template, a migration Job."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from tests.deploy import kustomize
from tests.deploy.support import (
    K8S,
    PROCESSES,
    REAL_SECRET,
    SERVICES,
    image_env,
    k8s_documents,
    known_env_names,
    load_settings,
    python_modules,
    run_entrypoint,
    yaml_documents,
)

# The oldest Kubernetes release we claim to run on, and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in k8s_documents() if doc["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(workload)["containers"]
    return container


def workloads() -> dict[str, dict[str, Any]]:
    return {**by_kind("Deployment"), **by_kind("Job")}


def container_env(container: dict[str, Any], *, real_secret: bool = False) -> dict[str, str]:
    """The environment a container gets: the image's ENV, then envFrom (ConfigMap, Secret), then env."""
    config_maps, secrets = by_kind("ConfigMap"), by_kind("Secret")
    env = image_env()
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= config_maps[source["configMapRef"]["name"]]["data"]
        else:
            env |= secrets[source["secretRef"]["name"]]["stringData"]
    env |= {item["name"]: item["value"] for item in container.get("env", [])}
    if real_secret:
        env["PRINCIPAL_SECRET"] = REAL_SECRET
    return env


def processes_of(tmp_path: Path, container: dict[str, Any]) -> list[str]:
    assert "command" not in container, "the image's entrypoint picks the process; pass it in args"
    _run, calls = run_entrypoint(tmp_path, list(container["args"]))
    loaded: list[str] = []
    for module, *_ in python_modules(calls):
        if module == "services.cli":
            loaded += SERVICES
        elif module == "gateway.cli":
            loaded.append("gateway")
        else:
            loaded += [p.name for p in PROCESSES.values() if p.module == module]
    return loaded


class TestManifests:
    @pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
    def test_every_manifest_is_valid_against_the_official_schema(self, version: str) -> None:
        documents = k8s_documents()
        assert len(documents) == 26  # 5 common + 7 processes × (Deployment, Service, PodDisruptionBudget)
        for doc in documents:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")

    def test_the_validator_catches_a_misspelt_field(self) -> None:
        deployment = copy.deepcopy(by_kind("Deployment")["sampling"])
        only_container(deployment)["readinessProbe"]["httpGett"] = {"path": "/readyz"}
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)

    def test_the_kustomization_reads_every_manifest_and_nothing_else(self) -> None:
        on_disk = {p.resolve() for p in K8S.rglob("*.yaml")}
        assert kustomize.files_of(K8S) == on_disk

    def test_kustomization_sets_the_image_every_workload_uses(self) -> None:
        (kustomization,) = yaml_documents(K8S / "kustomization.yaml")
        (image,) = kustomization["images"]
        for name, workload in workloads().items():
            assert only_container(workload)["image"] == f"{image['newName']}:{image['newTag']}", name

    def test_each_process_overlay_is_small(self) -> None:
        # One template (process/) and an overlay per process that only names, ports and sizes it.
        for name in PROCESSES:
            overlay = K8S / "services" / name / "kustomization.yaml"
            assert len(overlay.read_text().splitlines()) <= 40, name
            (data,) = yaml_documents(overlay)
            assert data["resources"] == ["../../process"]

    @pytest.mark.skipif(kustomize.kubectl() is None, reason="kubectl (with its kustomize) is not installed")
    def test_the_minimal_renderer_agrees_with_kubectls_kustomize(self) -> None:
        def by_id(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
            return {(d["kind"], d["metadata"]["name"]): d for d in docs}

        assert by_id(kustomize.render_minimal(K8S)) == by_id(kustomize.render_kubectl(K8S))

    def test_the_minimal_renderer_refuses_what_it_does_not_implement(self, tmp_path: Path) -> None:
        (tmp_path / "kustomization.yaml").write_text("resources: []\nnamePrefix: x-\n")
        with pytest.raises(AssertionError, match="namePrefix"):
            kustomize.render_minimal(tmp_path)

    def test_one_deployment_and_service_per_process(self) -> None:
        assert set(by_kind("Deployment")) == set(PROCESSES)
        assert set(by_kind("Service")) == set(PROCESSES)


class TestSecurity:
    @pytest.mark.parametrize("name", [*PROCESSES, "migrate"])
    def test_the_pod_runs_as_a_non_root_user(self, name: str) -> None:
        spec = pod_spec(workloads()[name])
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False

    @pytest.mark.parametrize("name", [*PROCESSES, "migrate"])
    def test_the_container_is_locked_down(self, name: str) -> None:
        context = only_container(workloads()[name])["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert not context.get("privileged", False)

    @pytest.mark.parametrize("name", [*PROCESSES, "migrate"])
    def test_requests_and_limits_are_set(self, name: str) -> None:
        resources = only_container(workloads()[name])["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, f"{name} {kind}"

    @pytest.mark.parametrize("name", [*PROCESSES, "migrate"])
    def test_the_only_writable_place_is_a_scratch_tmp(self, name: str) -> None:
        mounts = only_container(workloads()[name])["volumeMounts"]
        volumes = {v["name"]: v for v in pod_spec(workloads()[name])["volumes"]}
        assert [m["mountPath"] for m in mounts] == ["/tmp"]
        assert "emptyDir" in volumes[mounts[0]["name"]]

    def test_only_the_gateway_is_open_to_traffic_from_outside_the_system(self) -> None:
        policies = by_kind("NetworkPolicy")
        services = policies["services-from-the-system-only"]
        (expression,) = services["spec"]["podSelector"]["matchExpressions"]
        assert (expression["key"], expression["operator"]) == ("app.kubernetes.io/name", "In")
        assert sorted(expression["values"]) == sorted(SERVICES)
        (rule,) = services["spec"]["ingress"]
        assert rule["from"] == [
            {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "dangjian-inspection"}}}
        ]
        for name in PROCESSES:
            labels = by_kind("Deployment")[name]["spec"]["template"]["metadata"]["labels"]
            assert labels["app.kubernetes.io/part-of"] == "dangjian-inspection", name
        gateway = policies["gateway-from-anywhere"]
        assert gateway["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "gateway"}}
        assert "from" not in gateway["spec"]["ingress"][0]

    @pytest.mark.parametrize("name", list(PROCESSES))
    def test_a_drain_never_takes_the_last_pod_of_a_process(self, name: str) -> None:
        deployment = by_kind("Deployment")[name]
        budget = by_kind("PodDisruptionBudget")[name]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert 1 <= budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]
        (spread,) = pod_spec(deployment)["topologySpreadConstraints"]
        assert spread["labelSelector"]["matchLabels"].items() <= pod_labels.items()

    def test_the_secret_template_cannot_reach_production_unchanged(self) -> None:
        (secret,) = by_kind("Secret").values()
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"{key} has no clearly marked placeholder"
        container = only_container(by_kind("Deployment")["sampling"])
        with pytest.raises(ValidationError, match="PRINCIPAL_SECRET"):
            load_settings("sampling", container_env(container))


class TestProcesses:
    @pytest.mark.parametrize("name", list(PROCESSES))
    def test_each_deployment_runs_the_process_of_its_name(self, tmp_path: Path, name: str) -> None:
        assert processes_of(tmp_path, only_container(by_kind("Deployment")[name])) == [name]

    def test_the_job_runs_every_migration(self, tmp_path: Path) -> None:
        job = by_kind("Job")["migrate"]
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert processes_of(tmp_path, only_container(job)) == [*SERVICES, "gateway"]

    @pytest.mark.parametrize("name", list(PROCESSES))
    def test_probes_check_liveness_and_readiness(self, name: str) -> None:
        container = only_container(by_kind("Deployment")[name])
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"

    @pytest.mark.parametrize("name", list(PROCESSES))
    def test_the_container_port_is_the_settings_port(self, name: str) -> None:
        container = only_container(by_kind("Deployment")[name])
        assert container["ports"] == [{"name": "http", "containerPort": PROCESSES[name].port}]
        deployment = by_kind("Deployment")[name]
        assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(
            PROCESSES[name].port
        )

    @pytest.mark.parametrize("name", list(PROCESSES))
    def test_the_service_reaches_the_deployments_pods(self, name: str) -> None:
        service, deployment = by_kind("Service")[name], by_kind("Deployment")[name]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert service["spec"]["ports"] == [
            {"name": "http", "port": PROCESSES[name].port, "targetPort": "http"}
        ]

    def test_peer_urls_name_the_services_and_their_ports(self) -> None:
        (config,) = by_kind("ConfigMap").values()
        for peer in SERVICES:
            assert config["data"][f"{peer.upper()}_URL"] == f"http://{peer}:{PROCESSES[peer].port}"

    def test_every_database_url_names_its_own_database(self) -> None:
        (secret,) = by_kind("Secret").values()
        urls = {k: v for k, v in secret["stringData"].items() if k.endswith("_DATABASE_URL")}
        assert set(urls) == {f"{p.prefix}DATABASE_URL" for p in PROCESSES.values()}
        for key, value in urls.items():
            url = make_url(value)
            assert url.drivername == "postgresql+asyncpg"
            assert url.database == key.removesuffix("_DATABASE_URL").lower()


class TestConfiguration:
    @pytest.mark.parametrize("name", [*PROCESSES, "migrate"])
    def test_every_variable_a_container_gets_is_read_by_one_of_its_processes(
        self, tmp_path: Path, name: str
    ) -> None:
        # One ConfigMap and one Secret serve every process, so a name must be read by *some* process;
        # each process ignores the others' prefixes.
        container = only_container(workloads()[name])
        known = known_env_names(list(PROCESSES))
        unknown = set(container_env(container)) - set(image_env()) - known
        assert not unknown, f"no process reads {sorted(unknown)}"

    @pytest.mark.parametrize("name", [*PROCESSES, "migrate"])
    def test_the_settings_load_in_production_once_the_secret_is_filled_in(
        self, tmp_path: Path, name: str
    ) -> None:
        container = only_container(workloads()[name])
        env = container_env(container, real_secret=True)
        processes = processes_of(tmp_path, container)
        for process in processes:
            settings = load_settings(process, env)
            assert settings.environment == "production"
            assert settings.host == "0.0.0.0"
            assert settings.port == PROCESSES[process].port
            assert settings.auto_migrate is False, "the migration job owns the schema"
            assert settings.database_url == env[f"{PROCESSES[process].prefix}DATABASE_URL"]
            assert settings.city_root == "ningbo"


def test_manifests_are_plain_yaml_without_tabs() -> None:
    for path in K8S.rglob("*.yaml"):
        text = path.read_text()
        assert "\t" not in text, path.name
        assert list(yaml.safe_load_all(text)), path.name
