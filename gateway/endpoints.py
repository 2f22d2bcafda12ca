"""The gateway's own API under /api/v1/auth and /api/v1/status."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.auth import hash_secret, new_api_key
from gateway.models import ApiKey
from gateway.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPage,
    ApiKeyRead,
    PrincipalRead,
    SystemStatus,
    UpstreamStatus,
)
from services.kit.auth import Principal
from services.kit.db import SessionDep
from services.kit.errors import Forbidden, NotFound

router = APIRouter(prefix="/api/v1", tags=["auth"])


async def authenticated(request: Request) -> Principal:
    principal: Principal = await request.app.state.authenticator.authenticate(request)
    request.app.state.limiter.check(principal.sub)
    return principal


CallerDep = Annotated[Principal, Depends(authenticated)]


async def city_admin(caller: CallerDep) -> Principal:
    if not caller.has_role("city_admin"):
        raise Forbidden("Managing API keys needs the city_admin role", required_roles=["city_admin"])
    return caller


AdminDep = Annotated[Principal, Depends(city_admin)]


class ApiKeyNotFound(NotFound):
    slug, title = "api-key-not-found", "API key not found"


async def _key_in_scope(session: AsyncSession, key_id: str, admin: Principal) -> ApiKey:
    row = await session.get(ApiKey, key_id)
    if row is None or not admin.covers(row.scope):
        raise ApiKeyNotFound(f"No API key {key_id!r} in your scope", key_id=key_id)
    return row


@router.get("/auth/whoami", response_model=PrincipalRead)
async def whoami(caller: CallerDep) -> PrincipalRead:
    """Show the identity the gateway derived from your credentials."""
    return PrincipalRead(**caller.model_dump())


@router.post(
    "/auth/api-keys", response_model=ApiKeyCreated, status_code=201, openapi_extra={"x-roles": ["city_admin"]}
)
async def create_api_key(
    body: ApiKeyCreate, admin: AdminDep, session: SessionDep, request: Request
) -> ApiKeyCreated:
    """Create an API key for an integration; the key is shown once."""
    admin.require_scope(body.scope)
    key_id, secret, full = new_api_key()
    row = ApiKey(
        id=key_id,
        name=body.name,
        secret_hash=hash_secret(secret),
        roles=body.roles,
        scope=body.scope,
        created_by=admin.sub,
        created_at=request.app.state.clock.now(),
        expires_at=body.expires_at,
    )
    session.add(row)
    await session.flush()
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=full)


@router.get("/auth/api-keys", response_model=ApiKeyPage, openapi_extra={"x-roles": ["city_admin"]})
async def list_api_keys(
    admin: AdminDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    include_revoked: bool = False,
) -> ApiKeyPage:
    """List API keys in your scope (never their secrets)."""
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)  # type: ignore[arg-type]
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    rows = [r for r in (await session.execute(stmt)).scalars() if admin.covers(r.scope)]
    return ApiKeyPage(
        items=[ApiKeyRead.model_validate(r) for r in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


@router.delete(
    "/auth/api-keys/{key_id}", response_model=ApiKeyRead, openapi_extra={"x-roles": ["city_admin"]}
)
async def revoke_api_key(
    key_id: Annotated[str, Path(max_length=16)], admin: AdminDep, session: SessionDep, request: Request
) -> ApiKeyRead:
    """Revoke an API key; it stops working immediately."""
    row = await _key_in_scope(session, key_id, admin)
    if row.revoked_at is None:
        row.revoked_at = request.app.state.clock.now()
        session.add(row)
        await session.flush()
    request.app.state.authenticator.forget_api_key(key_id)
    return ApiKeyRead.model_validate(row)


@router.get("/status", response_model=SystemStatus, tags=["status"])
async def system_status(caller: CallerDep, request: Request) -> SystemStatus:
    """Report whether each service is ready."""
    http = request.app.state.http

    async def probe(area: str, url: str) -> UpstreamStatus:
        try:
            resp = await http.get(f"{url}/readyz", timeout=3.0)
            ok = resp.status_code == 200
            detail: Any = None if ok else resp.json().get("detail")
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return UpstreamStatus(service=area, url=url, ready=ok, detail=detail)

    upstreams = request.app.state.settings.upstreams()
    results = await asyncio.gather(*(probe(a, u) for a, u in upstreams.items()))
    return SystemStatus(gateway="ready", services=list(results))
