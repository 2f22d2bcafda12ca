"""Principals: who is calling, with which roles, inside which org unit.

The gateway verifies the caller (JWT or API key) and forwards the result as a short-lived HS256
token in ``X-Principal``. Services trust nothing else: a request without a valid one is refused.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import true

from services.kit import i18n, orgunit
from services.kit.errors import Forbidden, NotFound, Unauthorized

PRINCIPAL_HEADER = "x-principal"
INTERNAL_ISSUER = "gateway"
INTERNAL_AUDIENCE = "services"
ALGORITHM = "HS256"

Role = Literal["city_admin", "inspector", "team_leader", "district_admin", "responsible", "leader", "system"]
ROLES: tuple[str, ...] = (
    "city_admin",
    "inspector",
    "team_leader",
    "district_admin",
    "responsible",
    "leader",
    "system",
)
PrincipalKind = Literal["user", "api_key", "service"]

# Kept here for the schemas that import it; the grammar lives in services.kit.orgunit.
ORG_UNIT_PATTERN = orgunit.ORG_UNIT_PATTERN


def scope_covers(scope: str, unit: str) -> bool:
    """Whether org unit `unit` (e.g. ``city/east/town``) lies inside `scope` (e.g. ``city/east``).

    An empty scope covers nothing: only the services' own principal is unrestricted (see
    :meth:`Principal.covers`).
    """
    return orgunit.covers(scope.strip("/"), unit.strip("/"))


class Principal(BaseModel):
    """The verified caller as every service sees it."""

    model_config = ConfigDict(frozen=True)

    sub: str
    roles: tuple[str, ...]
    scope: str
    name: str | None = None
    kind: PrincipalKind = "user"

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_service(self) -> bool:
        """The services' own principal (never an API key, never a user)."""
        return self.kind == "service"

    @property
    def city_wide(self) -> bool:
        """Whether this caller's scope is the whole city (or it is a service calling on its own behalf)."""
        return self.is_service or orgunit.is_city_wide(self.scope)

    def covers(self, unit: str) -> bool:
        """Whether `unit` lies inside this principal's scope, whatever its role."""
        return self.is_service or scope_covers(self.scope, unit)

    def scope_filter(self, column: Any) -> Any:
        """SQL: rows whose org-unit `column` lies inside this principal's scope (escaped prefix match)."""
        if self.is_service:
            return true()
        return orgunit.under(column, self.scope)

    def require_scope(self, unit: str) -> None:
        """Raise 403 unless `unit` lies inside this principal's scope (for writes naming a unit)."""
        if not self.covers(unit):
            raise Forbidden(
                f"{unit!r} is outside your scope {self.scope!r}",
                zh=f"{unit!r} 超出您的管辖范围 {self.scope!r}",
                scope=self.scope,
                unit=unit,
            )

    def require_visible(self, unit: str, what: str, zh: str | None = None) -> None:
        """Raise 404 unless `unit` lies inside this principal's scope.

        An object outside the caller's scope is answered exactly like a missing one, so neither its
        existence nor its place leaks; `what` (and `zh`, its Chinese) is the same text the missing case uses.
        """
        if not self.covers(unit):
            raise NotFound(what, zh=zh)


def sign_principal(
    principal: Principal, *, secret: str, ttl_seconds: int = 60, request_id: str | None = None
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": INTERNAL_ISSUER,
        "aud": INTERNAL_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
        "sub": principal.sub,
        "roles": list(principal.roles),
        "scope": principal.scope,
        "kind": principal.kind,
    }
    if principal.name:
        claims["name"] = principal.name
    if request_id:
        claims["rid"] = request_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_principal(token: str, *, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=INTERNAL_AUDIENCE,
            issuer=INTERNAL_ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The forwarded principal has expired", zh="转发的调用方身份已过期") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(
            f"The forwarded principal is invalid: {exc}", zh=f"转发的调用方身份无效：{exc}"
        ) from exc
    roles = claims.get("roles", ())
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthorized(
            "The forwarded principal is invalid: roles must be a list of strings",
            zh="转发的调用方身份无效：roles 须为字符串数组",
        )
    try:
        return Principal(
            sub=claims["sub"],
            roles=tuple(roles),
            scope=claims.get("scope", ""),
            name=claims.get("name"),
            kind=claims.get("kind", "user"),
        )
    except ValidationError as exc:
        raise Unauthorized(
            "The forwarded principal is invalid: malformed claims", zh="转发的调用方身份无效：声明格式错误"
        ) from exc


async def current_principal(request: Request) -> Principal:
    """The principal the gateway forwarded; 401 when there is none or it does not verify."""
    cached = request.scope.get("kit.principal")
    if isinstance(cached, Principal):
        return cached
    token = request.headers.get(PRINCIPAL_HEADER)
    if not token:
        raise Unauthorized(
            "This service only answers requests forwarded by the gateway (no X-Principal header)",
            zh="本服务只应答经网关转发的请求（缺少 X-Principal 请求头）",
        )
    principal = verify_principal(token, secret=request.app.state.settings.principal_secret.get_secret_value())
    request.scope["kit.principal"] = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


class _RoleCheck:
    def __init__(self, roles: tuple[str, ...]) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        self.roles = roles

    async def __call__(self, principal: PrincipalDep) -> Principal:
        if not principal.has_role(*self.roles):
            raise Forbidden(
                f"This action needs one of the roles {', '.join(self.roles)}; you have {', '.join(principal.roles) or 'none'}",
                zh=f"此操作需要以下角色之一：{i18n.roles_zh(self.roles)}；您的角色：{i18n.roles_zh(principal.roles)}",
                required_roles=list(self.roles),
            )
        return principal


def allow(*roles: str) -> dict[str, Any]:
    """Route keyword arguments that admit only `roles`, and publish them as ``x-roles`` for the gateway.

    ``@router.get("/sites", **allow("city_admin", "district_admin"))``
    """
    return {"dependencies": [Depends(_RoleCheck(roles))], "openapi_extra": {"x-roles": list(roles)}}


class _InternalCheck:
    async def __call__(self, principal: PrincipalDep) -> Principal:
        if not principal.is_service:
            # Answered like a route that does not exist: integrations have no business knowing it.
            raise NotFound("No such route", zh="没有该接口")
        return principal


def internal() -> dict[str, Any]:
    """Route keyword arguments for a route only the services themselves may call.

    Intake routes (findings, events, follow-up sites, the assignment lookup) accept only the
    principal a service signs for itself (``kind="service"``), never a user or an API key, whatever
    its role. The gateway does not route them and the merged OpenAPI does not list them.
    """
    return {
        "dependencies": [Depends(_InternalCheck())],
        "openapi_extra": {"x-roles": ["system"], "x-internal": True},
    }


def service_principal(service: str, *, scope: str = "") -> Principal:
    """The identity one service uses when it calls another on its own behalf."""
    return Principal(sub=f"service:{service}", roles=("system",), scope=scope, kind="service", name=service)


def public() -> dict[str, Any]:
    """Route keyword arguments marking a route the gateway forwards without authentication.

    Only for routes whose own credential is in the request (a secret URL token). The router must
    also be mounted outside create_app's principal check.
    """
    return {"openapi_extra": {"x-public": True}}
