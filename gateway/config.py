from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.kit.settings import BaseProcessSettings, _shared

AREAS = ("sampling", "scoring", "rectification", "notify", "reporting", "evidence")


class Settings(BaseProcessSettings):
    """Gateway settings (env prefix ``GATEWAY_``; peer URLs and the principal secret are shared names)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    port: int = 8000
    database_url: str = ""
    auto_migrate: bool = True
    # Where clients reach the gateway (links handed to people start here). Unset, the gateway's own
    # address: a gateway moved to another port does not keep handing out :8000 links.
    public_url: str = ""

    sampling_url: str = Field("http://127.0.0.1:8001", validation_alias=_shared("SAMPLING_URL"))
    scoring_url: str = Field("http://127.0.0.1:8002", validation_alias=_shared("SCORING_URL"))
    rectification_url: str = Field("http://127.0.0.1:8003", validation_alias=_shared("RECTIFICATION_URL"))
    notify_url: str = Field("http://127.0.0.1:8004", validation_alias=_shared("NOTIFY_URL"))
    reporting_url: str = Field("http://127.0.0.1:8005", validation_alias=_shared("REPORTING_URL"))
    evidence_url: str = Field("http://127.0.0.1:8006", validation_alias=_shared("EVIDENCE_URL"))

    # Bearer JWTs. With a JWKS URL (a government SSO) keys come from there; without one the gateway
    # is its own development issuer (refused in production).
    jwt_issuer: str = "dangjian-dev-issuer"
    jwt_audience: str = "dangjian-inspection"
    jwks_url: str | None = None
    jwt_algorithms: Annotated[list[str], NoDecode] = ["RS256", "ES256"]
    jwt_leeway_seconds: int = 30
    role_claim: str = "roles"
    scope_claim: str = "org_unit"
    dev_issuer_key_path: Path | None = None

    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:5173", "http://127.0.0.1:5173"]
    rate_limit_per_minute: int = 1200
    rate_limit_burst: int = 200
    # Failed authentications (bad token or key, or a public route's token refused upstream) per client
    # address per minute before that address gets 429. 0 switches this limit off.
    auth_failures_per_minute: int = Field(20, ge=0)
    # false lifts both limits (per-principal and failed authentication): for fuzz runs, never production.
    rate_limit_enabled: bool = True
    # Bearer token Prometheus presents on the gateway's /metrics (without it, only a city-wide city_admin).
    metrics_token: SecretStr | None = None
    max_body_bytes: int = 20 * 1024 * 1024
    # Per-area body limits above (or below) max_body_bytes, e.g. GATEWAY_AREA_MAX_BODY_BYTES='{"evidence": 60000000}'.
    # Evidence takes files of up to 50 MB (EVIDENCE_MAX_FILE_BYTES) plus the multipart framing around them.
    area_max_body_bytes: dict[str, int] = Field(
        default_factory=lambda: {"evidence": 50 * 1024 * 1024 + 64 * 1024}
    )
    upstream_timeout_seconds: float = 30.0
    upstream_connect_timeout_seconds: float = 3.0
    idempotent_retries: int = 1
    upstream_max_connections: int = 512
    # aiohttp on evidence (docs/benchmarks.md); httpx only to reproduce the comparison.
    proxy_client: Literal["aiohttp", "httpx"] = "aiohttp"
    route_table_refresh_seconds: float = 30.0

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: dict[str, object]) -> dict[str, object]:
        for key in ("jwks_url", "GATEWAY_JWKS_URL", "metrics_token", "GATEWAY_METRICS_TOKEN"):
            if data.get(key) == "":
                data[key] = None  # an empty variable (compose, k8s) means "not set"
        for key in ("cors_origins", "jwt_algorithms"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = [v.strip() for v in value.split(",") if v.strip()]
        return data

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'gateway.db'}"
        if not self.public_url:
            host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
            host = f"[{host}]" if ":" in host else host
            self.public_url = f"http://{host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        if self.dev_issuer_key_path is None:
            self.dev_issuer_key_path = self.var_dir / "keys" / "dev-issuer.pem"
        if self.environment == "production" and not self.jwks_url:
            raise ValueError("GATEWAY_JWKS_URL must point at the identity provider in production")
        if self.metrics_token is not None and len(self.metrics_token.get_secret_value()) < 16:
            raise ValueError("GATEWAY_METRICS_TOKEN must be at least 16 characters")
        return self

    @property
    def dev_issuer_enabled(self) -> bool:
        return self.jwks_url is None

    def upstreams(self) -> dict[str, str]:
        return {area: getattr(self, f"{area}_url").rstrip("/") for area in AREAS}
