"""docs/operations.md stays in step with the deploy files and the settings it documents."""

from __future__ import annotations

import re

from pydantic import AliasChoices

from services.kit.settings import BaseProcessSettings, ServiceSettings
from tests.deploy.support import COMPOSE, DEPLOY, K8S, REPO, read_env_file, yaml_documents

OPERATIONS = (REPO / "docs" / "operations.md").read_text()
DOCUMENTED = set(re.findall(r"`([A-Z<][A-Z0-9_<>]*)`", OPERATIONS))


def test_every_shared_variable_is_documented() -> None:
    for field in BaseProcessSettings.model_fields.values():
        if isinstance(field.validation_alias, AliasChoices):
            name = next(c for c in field.validation_alias.choices if isinstance(c, str) and c.isupper())
            assert name in DOCUMENTED, name
    for peer in ("SAMPLING_URL", "SCORING_URL", "RECTIFICATION_URL", "NOTIFY_URL", "REPORTING_URL"):
        assert peer in DOCUMENTED


def test_every_setting_common_to_the_services_is_documented() -> None:
    for name, field in ServiceSettings.model_fields.items():
        if field.validation_alias is None:
            assert f"<SVC>_{name.upper()}" in DOCUMENTED, name


def test_every_variable_the_deploy_files_set_is_documented() -> None:
    given: set[str] = set()
    (compose,) = yaml_documents(COMPOSE)
    for name, service in compose["services"].items():
        if name != "postgres":
            given |= set(service.get("environment", {}))
    given |= set(read_env_file(DEPLOY / "gateway.env.example"))
    for path in K8S.rglob("*.yaml"):
        for doc in yaml_documents(path):
            given |= set(doc.get("data", {})) | set(doc.get("stringData", {}))
    prefixed = re.compile(r"^(SAMPLING|SCORING|RECTIFICATION|NOTIFY|REPORTING|EVIDENCE)_(?!URL$)")
    # A setting every service has is documented once as <SVC>_NAME; one service's own by its full name.
    missing = {
        name for name in given if name not in DOCUMENTED and prefixed.sub("<SVC>_", name) not in DOCUMENTED
    }
    assert not missing, f"undocumented: {sorted(missing)}"


def test_the_dockerignore_fallback_matches_the_build_filter() -> None:
    block = OPERATIONS.split("put the same\ncontent in a `.dockerignore`", 1)[1].split("```", 2)[1]
    documented = [line for line in block.splitlines() if line.strip()]
    actual = [
        line
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert set(documented) <= set(actual)
    assert {line for line in actual if line.startswith("!")} <= set(documented)


def test_every_deploy_file_named_in_the_docs_exists() -> None:
    for name in re.findall(r"`((?:k8s/(?:[\w-]+/)*)?[\w.-]+\.(?:yaml|sql|sh|py|example))`", OPERATIONS):
        candidates = [DEPLOY / name, K8S / name, DEPLOY / "postgres" / name]
        assert any(p.exists() for p in candidates), name
