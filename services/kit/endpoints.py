"""Endpoints every service exposes the same way."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Request
from pydantic import ConfigDict

from services.kit.auth import ROLES, PrincipalDep, PrincipalKind, Role
from services.kit.schema import OutputModel


class WhoAmI(OutputModel):
    """Who a service believes is calling: the principal the gateway verified and forwarded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service": "example-service",
                    "sub": "u-zhang-wei",
                    "roles": ["district_admin"],
                    "scope": "city/east",
                    "kind": "user",
                    "name": "张伟",
                }
            ]
        }
    )

    service: str
    """The service that answered."""
    sub: str
    """The caller's id (a person's login, an API key's id, or a service's name)."""
    roles: list[Role]
    """The caller's roles."""
    scope: str
    """The org unit the caller may see and act in (the whole city, a district, a town…)."""
    kind: PrincipalKind
    """A person (``user``), an integration (``api_key``) or another service (``service``)."""
    name: str | None = None
    """The caller's display name, when the identity provider gives one."""


def whoami_router(tag: str) -> APIRouter:
    """``GET /whoami`` under the service's operations tag."""
    router = APIRouter(tags=[tag])

    @router.get("/whoami", response_model=WhoAmI)
    async def whoami(principal: PrincipalDep, request: Request) -> WhoAmI:
        """Show who this service believes is calling (the principal forwarded by the gateway)."""
        return WhoAmI(
            service=request.app.state.service_name,
            sub=principal.sub,
            roles=[cast(Role, r) for r in principal.roles if r in ROLES],
            scope=principal.scope,
            kind=principal.kind,
            name=principal.name,
        )

    return router
