from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.kit.auth import ROLES
from services.kit.orgunit import OrgUnit
from services.kit.text import InputModel


class ApiKeyCreate(InputModel):
    name: str = Field(min_length=1, max_length=200, examples=["夜间名录同步脚本"])
    roles: list[str] = Field(min_length=1, max_length=20, examples=[["system"]])
    scope: OrgUnit = Field(description="The org unit the key may act in; inside your own scope.")
    expires_at: datetime | None = Field(None, description="In the future, with a timezone offset.")

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {list(ROLES)}")
        return sorted(set(v))

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
    url: str = Field(description="The service's public path on this gateway")
    ready: bool
    detail: str | None = None


class SystemStatus(BaseModel):
    gateway: str
    services: list[UpstreamStatus]
