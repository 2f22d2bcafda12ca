"""services.kit.settings: one Settings per process, shared names, refusals in production."""

from __future__ import annotations

import os
from typing import ClassVar
from unittest import mock

import pytest
from pydantic import ValidationError

from services.kit import orgunit
from services.kit.settings import DEV_PRINCIPAL_SECRET, ServiceSettings, peer_url


class DemoSettings(ServiceSettings):
    model_config = {**ServiceSettings.model_config, "env_prefix": "DEMO_"}
    service_name: ClassVar[str] = "demo"
    peer_url: str = peer_url("PEER_URL", "http://127.0.0.1:8009")


def load(**env: str) -> DemoSettings:
    with mock.patch.dict(os.environ, env, clear=True):
        return DemoSettings()


def test_city_root_is_required_and_named_in_the_error() -> None:
    with pytest.raises(ValidationError, match="CITY_ROOT is not set"):
        load()


def test_city_root_is_one_slug_and_reading_it_configures_the_process() -> None:
    before = orgunit.city_root()
    with pytest.raises(ValidationError):
        load(CITY_ROOT="Ningbo/Yinzhou")
    try:
        assert load(CITY_ROOT="hangzhou").city_root == "hangzhou"
        # A CLI or a demo loader that only reads its settings builds org units in its city.
        assert orgunit.city_root() == "hangzhou"
    finally:
        orgunit.set_city_root(before)


def test_shared_names_are_unprefixed_and_own_names_prefixed() -> None:
    s = load(CITY_ROOT="ningbo", PEER_URL="http://peer:1", DEMO_PORT="8123", LOG_LEVEL="DEBUG")
    assert (s.peer_url, s.port, s.log_level) == ("http://peer:1", 8123, "DEBUG")
    assert load(CITY_ROOT="ningbo").peer_url == "http://127.0.0.1:8009"


def test_the_database_defaults_to_a_sqlite_file_under_var() -> None:
    s = load(CITY_ROOT="ningbo", VAR_DIR="/tmp/x")
    assert s.database_url == "sqlite+aiosqlite:////tmp/x/demo.db" and s.is_sqlite
    assert not load(CITY_ROOT="ningbo", DEMO_DATABASE_URL="postgresql+asyncpg://h/d").is_sqlite


def test_production_refuses_the_placeholder_secret_and_clock_control() -> None:
    with pytest.raises(ValidationError, match="PRINCIPAL_SECRET"):
        load(CITY_ROOT="ningbo", ENVIRONMENT="production")
    with pytest.raises(ValidationError, match="PRINCIPAL_SECRET"):
        load(CITY_ROOT="ningbo", ENVIRONMENT="production", PRINCIPAL_SECRET="short")
    real = "r" * 40
    with pytest.raises(ValidationError, match="CLOCK_CONTROL"):
        load(CITY_ROOT="ningbo", ENVIRONMENT="production", PRINCIPAL_SECRET=real, CLOCK_CONTROL="true")
    s = load(CITY_ROOT="ningbo", ENVIRONMENT="production", PRINCIPAL_SECRET=real)
    assert s.principal_secret.get_secret_value() == real
    assert load(CITY_ROOT="ningbo").principal_secret.get_secret_value() == DEV_PRINCIPAL_SECRET
