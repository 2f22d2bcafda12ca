"""The gateway's own API under /api/v1/auth and /api/v1/status."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway import repository
from gateway.auth import hash_secret, new_api_key
from gateway.models import ApiKey
from gateway.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    PrincipalRead,
    SystemStatus,
    UpstreamStatus,
)
from services.kit import i18n
from services.kit.auth import Principal
from services.kit.db import SessionDep
from services.kit.errors import Forbidden, NotFound, Unauthorized, UnprocessableEntity, field_error
from services.kit.openapi import reject_unknown_query
from services.kit.pagination import Page, PageDep

AUTH_TAG, STATUS_TAG = "gateway.auth", "gateway.status"
OPENAPI_TAGS = [
    {"name": AUTH_TAG, "description": "身份与 API 密钥 — who you are, and API keys for integrations"},
    {"name": STATUS_TAG, "description": "系统状态 — whether each service behind the gateway is ready"},
]

router = APIRouter(prefix="/api/v1")


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For when the peer is a trusted proxy,
    see FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


async def identify(request: Request, *, query_token: bool = False) -> Principal:
    """Authenticate the caller, counting failures per client address (429 once there are too many,
    before any token work), then take one token from the caller's rate-limit bucket."""
    state = request.app.state
    address = client_address(request)
    state.auth_failures.check(address)
    try:
        principal: Principal = await state.authenticator.authenticate(request, query_token=query_token)
    except Unauthorized:
        state.auth_failures.record(address)
        raise
    state.limiter.check(principal.sub)
    return principal


async def authenticated(request: Request) -> Principal:
    """The caller; then (never before: a bad credential is a 401 whatever the query) an undeclared
    query parameter is a 422 naming it."""
    principal = await identify(request)
    await reject_unknown_query(request)
    return principal


CallerDep = Annotated[Principal, Depends(authenticated)]


async def city_admin(caller: CallerDep) -> Principal:
    if not caller.has_role("city_admin"):
        raise Forbidden(
            "Managing API keys needs the city_admin role",
            zh="管理 API 密钥需要 city_admin 角色",
            required_roles=["city_admin"],
        )
    return caller


AdminDep = Annotated[Principal, Depends(city_admin)]


class ApiKeyNotFound(NotFound):
    slug, title = "api-key-not-found", "API key not found"


async def _key_in_scope(session: AsyncSession, key_id: str, admin: Principal) -> ApiKey:
    row = await repository.get_api_key(session, key_id)
    if row is None or not admin.covers(row.scope):
        raise ApiKeyNotFound(
            f"No API key {key_id!r} in your scope",
            zh=f"您的管辖范围内没有 API 密钥 {key_id!r}",
            key_id=key_id,
        )
    return row


@router.get("/auth/whoami", response_model=PrincipalRead, tags=[AUTH_TAG])
async def whoami(caller: CallerDep) -> PrincipalRead:
    """Show the identity the gateway derived from your credentials."""
    return PrincipalRead.model_validate(caller.model_dump())


@router.post(
    "/auth/api-keys",
    response_model=ApiKeyCreated,
    status_code=201,
    tags=[AUTH_TAG],
    openapi_extra={"x-roles": ["city_admin"]},
)
async def create_api_key(
    body: ApiKeyCreate, admin: AdminDep, session: SessionDep, request: Request
) -> ApiKeyCreated:
    """Create an API key for an integration; the key is shown once.

    The key's scope must lie inside yours, and `expires_at`, when given, must be in the future."""
    now = request.app.state.clock.now()
    errors = []
    if not admin.covers(body.scope):
        errors.append(
            field_error(
                ["body", "scope"],
                f"{body.scope!r} is outside your scope {admin.scope!r}",
                zh=f"{body.scope!r} 超出您的管辖范围 {admin.scope!r}",
            )
        )
    if body.expires_at is not None and body.expires_at <= now:
        errors.append(
            field_error(
                ["body", "expires_at"], "expires_at must be in the future", zh="expires_at 必须是将来的时间"
            )
        )
    if errors:
        names = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        raise UnprocessableEntity(
            f"{len(errors)} invalid field(s): {names}", zh=i18n.invalid_fields_zh(errors), errors=errors
        )
    key_id, secret, full = new_api_key()
    row = ApiKey(
        id=key_id,
        name=body.name,
        secret_hash=hash_secret(secret),
        roles=body.roles,
        scope=body.scope,
        created_by=admin.sub,
        created_at=now,
        expires_at=body.expires_at,
    )
    await repository.add_api_key(session, row)
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=full)


@router.get(
    "/auth/api-keys",
    response_model=Page[ApiKeyRead],
    tags=[AUTH_TAG],
    openapi_extra={"x-roles": ["city_admin"]},
)
async def list_api_keys(
    admin: AdminDep,
    session: SessionDep,
    page: PageDep,
    include_revoked: bool = Query(False, description="Also list revoked keys"),
) -> Page[ApiKeyRead]:
    """List API keys in your scope (never their secrets)."""
    rows, total = await repository.list_api_keys(
        session, in_scope=admin.scope_filter(ApiKey.scope), include_revoked=include_revoked, page=page
    )
    return Page.of([ApiKeyRead.model_validate(r) for r in rows], total, page)


@router.delete(
    "/auth/api-keys/{key_id}",
    response_model=ApiKeyRead,
    tags=[AUTH_TAG],
    openapi_extra={"x-roles": ["city_admin"]},
)
async def revoke_api_key(
    key_id: Annotated[str, Path(max_length=16, description="The key's id")],
    admin: AdminDep,
    session: SessionDep,
    request: Request,
) -> ApiKeyRead:
    """Revoke an API key; it stops working immediately."""
    row = await _key_in_scope(session, key_id, admin)
    await repository.mark_revoked(session, row, now=request.app.state.clock.now())
    request.app.state.authenticator.forget_api_key(key_id)
    return ApiKeyRead.model_validate(row)


@router.get("/status", response_model=SystemStatus, tags=[STATUS_TAG])
async def system_status(caller: CallerDep, request: Request) -> SystemStatus:
    """Report whether each service is ready."""
    http = request.app.state.http

    async def probe(area: str, url: str) -> UpstreamStatus:
        # Neither the service's address nor its own error text is shown: they name internal hosts.
        try:
            resp = await http.get(f"{url}/readyz", timeout=3.0)
            ok = resp.status_code == 200
            detail: Any = None if ok else f"its readiness check answered {resp.status_code}"
        except Exception as exc:
            ok, detail = False, f"not reachable ({type(exc).__name__})"
        return UpstreamStatus(service=area, url=f"/api/v1/{area}", ready=ok, detail=detail)

    upstreams = request.app.state.settings.upstreams()
    results = await asyncio.gather(*(probe(a, u) for a, u in upstreams.items()))
    return SystemStatus(gateway="ready", services=list(results))
