"""Endpoints every service exposes the same way."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.kit.auth import PrincipalDep


class WhoAmI(BaseModel):
    service: str
    sub: str
    roles: list[str]
    scope: str
    kind: str
    name: str | None = None


def whoami_router(tag: str) -> APIRouter:
    router = APIRouter(tags=[tag])

    @router.get("/whoami", response_model=WhoAmI)
    async def whoami(principal: PrincipalDep, request: Request) -> WhoAmI:
        """Show who this service believes is calling (the principal forwarded by the gateway)."""
        return WhoAmI(
            service=request.app.state.service_name,
            sub=principal.sub,
            roles=list(principal.roles),
            scope=principal.scope,
            kind=principal.kind,
            name=principal.name,
        )

    return router
