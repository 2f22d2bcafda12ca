from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.kit.auth import ROLES


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["夜间名录同步脚本"])
    roles: list[str] = Field(min_length=1, examples=[["system"]])
    scope: str = Field(min_length=1, max_length=400, examples=["ningbo"])
    expires_at: datetime | None = None

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {list(ROLES)}")
        return sorted(set(v))

    @field_validator("scope")
    @classmethod
    def _clean_scope(cls, v: str) -> str:
        return v.strip().strip("/")

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("expires_at needs a timezone offset, e.g. 2027-01-01T00:00:00+08:00")
        return v


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    roles: list[str]
    scope: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The full key. It is shown only in this response; store it now.")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyRead]
    total: int
    limit: int
    offset: int


class PrincipalRead(BaseModel):
    sub: str
    roles: list[str]
    scope: str
    kind: str
    name: str | None = None


class UpstreamStatus(BaseModel):
    service: str
    url: str
    ready: bool
    detail: str | None = None


class SystemStatus(BaseModel):
    gateway: str
    services: list[UpstreamStatus]
