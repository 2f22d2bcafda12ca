"""The gateway's own request and response bodies (API keys, who am I, system status)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from services.kit.auth import ROLES, PrincipalKind, Role
from services.kit.orgunit import OrgUnit
from services.kit.schema import OutputModel
from services.kit.text import InputModel

_KEY: dict[str, Any] = {
    "id": "k3f9a0c2d1b4e",
    "name": "夜间名录同步脚本",
    "roles": ["system"],
    "scope": "ningbo/yinzhou",
    "created_by": "u-admin",
    "created_at": "2026-10-09T01:30:00Z",
    "expires_at": "2027-01-01T00:00:00Z",
    "revoked_at": None,
    "last_used_at": "2026-10-10T18:00:05Z",
}


class ApiKeyCreate(InputModel):
    """A new API key for an integration script."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "夜间名录同步脚本",
                    "roles": ["system"],
                    "scope": "ningbo/yinzhou",
                    "expires_at": "2026-12-31T16:00:00Z",
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    """What the key is for, shown in the list of keys."""
    # Checked as a whole (one error naming every unknown role, at `roles`); an enum in the document.
    roles: list[str] = Field(
        min_length=1, max_length=20, json_schema_extra={"items": {"type": "string", "enum": list(ROLES)}}
    )
    """The roles the key acts with (duplicates are dropped)."""
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


class ApiKeyRead(OutputModel):
    """An API key as listed: never its secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [_KEY]})

    id: str
    """The key's id (the part of the key before its secret)."""
    name: str
    """What the key is for."""
    roles: list[Role]
    """The roles the key acts with."""
    scope: str
    """The org unit the key may act in."""
    created_by: str
    """Who created it."""
    created_at: datetime
    """When it was created."""
    expires_at: datetime | None = None
    """When it stops working by itself; null for never."""
    revoked_at: datetime | None = None
    """When it was revoked; null while it works."""
    last_used_at: datetime | None = None
    """Its last use, to the minute; null if never used."""


class ApiKeyCreated(ApiKeyRead):
    """A key just created, with the full key: the only time it is shown."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_KEY, "key": "dj_k3f9a0c2d1b4e_Zq8v3PkR1uYtW0xLm5NcB7sD"}]}
    )

    key: str = Field(description="The full key. It is shown only in this response; store it now.")


class PrincipalRead(OutputModel):
    """The identity the gateway derived from the caller's credentials."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sub": "u-zhang-wei",
                    "roles": ["district_admin"],
                    "scope": "ningbo/yinzhou",
                    "kind": "user",
                    "name": "张伟",
                }
            ]
        }
    )

    sub: str
    """The caller's id (a person's login or an API key's id)."""
    roles: list[Role]
    """The caller's roles."""
    scope: str
    """The org unit the caller may see and act in."""
    kind: PrincipalKind
    """A person (``user``) or an integration (``api_key``)."""
    name: str | None = None
    """The display name, when the identity provider gives one."""


class UpstreamStatus(OutputModel):
    """Whether one service is ready."""

    service: str
    """The service's area (``sampling``, ``scoring``, ``rectification``, ``notify``, ``reporting``, ``evidence``)."""
    url: str = Field(description="The service's public path on this gateway")
    ready: bool
    """Whether its readiness check answered 200 (database reachable, schema at head)."""
    detail: str | None = None
    """Why it is not ready, without internal addresses; null when ready."""


class SystemStatus(OutputModel):
    """The gateway and every service behind it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "gateway": "ready",
                    "services": [
                        {"service": "sampling", "url": "/api/v1/sampling", "ready": True, "detail": None},
                        {
                            "service": "notify",
                            "url": "/api/v1/notify",
                            "ready": False,
                            "detail": "not reachable (ConnectError)",
                        },
                    ],
                }
            ]
        }
    )

    gateway: str
    """The gateway's own state: ``ready`` whenever it answers."""
    services: list[UpstreamStatus]
    """Each service behind the gateway."""
