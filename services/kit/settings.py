"""Settings base: one ``Settings`` per process, env prefix ``<SERVICE>_``; nothing else reads the env
(except :func:`services.kit.orgunit.city_root`, for code that runs before any settings are read).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit import orgunit
from services.kit.orgunit import CITY_ROOT_PATTERN

# Development-only placeholder; refused whenever ENVIRONMENT=production.
DEV_PRINCIPAL_SECRET = "dev-only-principal-secret-change-me-0000000000"

Environment = Literal["dev", "test", "production"]

# The development layout: the gateway on BASE_PORT, the services on BASE_PORT+1..+6 (sampling,
# scoring, rectification, notify, reporting, evidence), 8000..8006 unless BASE_PORT says otherwise.
DEFAULT_BASE_PORT = 8000
PORT_SPAN = 10  # defaults on 8000..8009 belong to the layout and move with it
_LOCAL_URL = re.compile(r"^(?P<head>https?://(?:127\.0\.0\.1|localhost)):(?P<port>\d+)(?P<tail>(?:/.*)?)$")


def _shared(name: str) -> AliasChoices:
    """Read a value shared by every process from its unprefixed name (e.g. ``PRINCIPAL_SECRET``)."""
    return AliasChoices(name.lower(), name)


class BaseProcessSettings(BaseSettings):
    """What every process (gateway or service) is configured with."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    environment: Environment = Field("dev", validation_alias=_shared("ENVIRONMENT"))
    host: str = "127.0.0.1"
    port: int = DEFAULT_BASE_PORT
    # Moves every port of the development layout at once (see _move_the_layout); unset: 8000..8006.
    base_port: int | None = Field(None, validation_alias=_shared("BASE_PORT"), ge=1, le=65535 - PORT_SPAN)
    var_dir: Path = Field(Path("var"), validation_alias=_shared("VAR_DIR"))
    log_level: str = Field("INFO", validation_alias=_shared("LOG_LEVEL"))
    log_json: bool = Field(True, validation_alias=_shared("LOG_JSON"))
    access_log: bool = Field(True, validation_alias=_shared("ACCESS_LOG"))
    # The root of every org-unit path (see services.kit.orgunit); one city per deployment. No default:
    # the process's environment names it (the Makefile, devrun and the test suite use the development
    # city; a deployment its own), and a process without it refuses to start.
    city_root: str = Field(validation_alias=_shared("CITY_ROOT"), pattern=CITY_ROOT_PATTERN)
    # HS256 secret the gateway signs forwarded principals with; services verify with it.
    principal_secret: SecretStr = Field(
        SecretStr(DEV_PRINCIPAL_SECRET), validation_alias=_shared("PRINCIPAL_SECRET")
    )
    principal_ttl_seconds: int = Field(60, validation_alias=_shared("PRINCIPAL_TTL_SECONDS"))
    # Lets end-to-end tests move a process's clock; never available in production.
    clock_control: bool = Field(False, validation_alias=_shared("CLOCK_CONTROL"))

    @model_validator(mode="before")
    @classmethod
    def _require_city_root(cls, data: Any) -> Any:
        if isinstance(data, dict) and not any(str(k).lower() == "city_root" for k in data):
            raise ValueError(
                "CITY_ROOT is not set: every process needs the root of its org-unit paths, "
                "e.g. CITY_ROOT=hangzhou (see docs/operations.md)"
            )
        return data

    @model_validator(mode="before")
    @classmethod
    def _move_the_layout(cls, data: Any) -> Any:
        """With BASE_PORT set, every default that names a port of the layout moves with it: the
        process's own ``port`` and each local URL default (peers, public URLs) on 8000..8009.
        A value given explicitly (``SAMPLING_PORT``, ``SCORING_URL``, a keyword) is left alone.

        One rule here rather than a line in every service's config: each config keeps declaring its
        place in the layout by its default (sampling 8001, notify's URL 8004, ...), and nothing else
        has to know about BASE_PORT.
        """
        if not isinstance(data, dict):
            return data
        base = _given(data, cls, "base_port")
        if isinstance(base, str) and not base.strip():
            # An empty variable (compose, k8s) means "not set".
            return {k: v for k, v in data.items() if str(k).lower() not in _names(cls, "base_port")}
        try:
            base = int(base)
        except (TypeError, ValueError):
            return data  # unset, or refused by the field's own validation, which names it
        for name, field in cls.model_fields.items():
            if name == "base_port" or _given(data, cls, name) is not None:
                continue
            moved = _moved(field.default, base, is_port=name == "port")
            if moved is not None:
                data[name] = moved
        return data

    @model_validator(mode="after")
    def _configure_the_city(self) -> BaseProcessSettings:
        # Reading its settings is how a process learns its city: every entry point (an app, the
        # migration CLI, a demo loader) then builds org units in it without a step of its own.
        orgunit.set_city_root(self.city_root)
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> BaseProcessSettings:
        if self.environment == "production":
            secret = self.principal_secret.get_secret_value()
            if secret == DEV_PRINCIPAL_SECRET or len(secret) < 32:
                raise ValueError("PRINCIPAL_SECRET must be set to a real secret (>= 32 chars) in production")
            if self.clock_control:
                raise ValueError("CLOCK_CONTROL must be off in production")
        return self


def _names(cls: type[BaseSettings], name: str) -> set[str]:
    """Every key under which a field's value may reach a validator (name and aliases, any case)."""
    names = {name.lower()}
    alias = cls.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        names |= {str(choice).lower() for choice in alias.choices}
    elif isinstance(alias, str):
        names.add(alias.lower())
    return names


def _given(data: dict[Any, Any], cls: type[BaseSettings], name: str) -> Any:
    names = _names(cls, name)
    for key, value in data.items():
        if str(key).lower() in names:
            return value
    return None


def _moved(default: Any, base: int, *, is_port: bool) -> Any:
    """`default` moved from DEFAULT_BASE_PORT to `base`, or None when it is not part of the layout."""
    if is_port and isinstance(default, int) and not isinstance(default, bool):
        offset = default - DEFAULT_BASE_PORT
        return base + offset if 0 <= offset < PORT_SPAN else None
    if isinstance(default, str):
        match = _LOCAL_URL.match(default)
        if match:
            offset = int(match["port"]) - DEFAULT_BASE_PORT
            if 0 <= offset < PORT_SPAN:
                return f"{match['head']}:{base + offset}{match['tail']}"
    return None


def peer_url(env: str, default: str) -> Any:
    """A peer service's base URL, read from its unprefixed variable (``<PEER>_URL``) by every process.

    Each service declares the peers it talks to in its own settings, e.g.
    ``peer_url: str = peer_url("PEER_URL", "http://127.0.0.1:8005")``.
    """
    return Field(default, validation_alias=_shared(env))


class ServiceSettings(BaseProcessSettings):
    """A service: its own database, and where its peers are."""

    service_name: ClassVar[str] = "service"

    database_url: str = ""
    db_pool_size: int = 16
    db_max_overflow: int = 0
    auto_migrate: bool = True
    http_timeout_seconds: float = 10.0
    # Outbox relay: how often it polls and how hard it retries before giving up on an event.
    outbox_enabled: bool = True
    outbox_poll_seconds: float = 0.5
    # Measured: 400 per pass reaches >1,000 deliveries/s to a receiving service on PostgreSQL; 100 stayed
    # near 750 (bench/).
    outbox_batch_size: int = 400
    outbox_max_attempts: int = 12

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
