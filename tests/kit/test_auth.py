"""services.kit.auth: the forwarded principal, its scope, and the route guards."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from fastapi import APIRouter, Depends, FastAPI

from services.kit.auth import (
    ALGORITHM,
    INTERNAL_AUDIENCE,
    INTERNAL_ISSUER,
    PRINCIPAL_HEADER,
    Principal,
    allow,
    current_principal,
    internal,
    public,
    scope_covers,
    service_principal,
    sign_principal,
    verify_principal,
)
from services.kit.errors import Unauthorized, install_error_handlers
from services.kit.settings import DEV_PRINCIPAL_SECRET
from services.kit.testing import principal_headers

SECRET = "s" * 40


class TestTokens:
    def test_a_signed_principal_verifies_to_itself(self) -> None:
        p = Principal(sub="u-li", roles=("inspector",), scope="ningbo/yinzhou", name="李明", kind="user")
        assert verify_principal(sign_principal(p, secret=SECRET), secret=SECRET) == p

    def test_another_secret_an_expired_token_or_garbage_is_401(self) -> None:
        p = Principal(sub="u", roles=(), scope="ningbo")
        with pytest.raises(Unauthorized, match="invalid"):
            verify_principal(sign_principal(p, secret=SECRET), secret="t" * 40)
        with pytest.raises(Unauthorized, match="expired"):
            verify_principal(sign_principal(p, secret=SECRET, ttl_seconds=-10), secret=SECRET)
        with pytest.raises(Unauthorized):
            verify_principal("not-a-token", secret=SECRET)

    def test_roles_must_be_a_list_of_strings(self) -> None:
        now = int(time.time())
        claims = {"iss": INTERNAL_ISSUER, "aud": INTERNAL_AUDIENCE, "iat": now, "exp": now + 60, "sub": "u"}
        token = jwt.encode({**claims, "roles": "city_admin"}, SECRET, algorithm=ALGORITHM)
        with pytest.raises(Unauthorized, match="roles"):
            verify_principal(token, secret=SECRET)
        token = jwt.encode({**claims, "roles": [], "kind": "wizard"}, SECRET, algorithm=ALGORITHM)
        with pytest.raises(Unauthorized, match="malformed"):
            verify_principal(token, secret=SECRET)


class TestScope:
    def test_a_scope_covers_itself_and_below_only(self) -> None:
        assert scope_covers("ningbo/yinzhou", "ningbo/yinzhou/dongwu")
        assert scope_covers("ningbo/yinzhou/", "ningbo/yinzhou")
        assert not scope_covers("ningbo/yinzhou", "ningbo/yinzhoux")
        assert not scope_covers("", "ningbo")

    def test_the_services_own_principal_covers_everything(self) -> None:
        p = service_principal("peer")
        assert (p.is_service and p.has_role("system")) or p.kind == "service"
        assert p.covers("ningbo/anything")

    def test_city_wide_means_the_configured_root(self) -> None:
        assert Principal(sub="a", roles=(), scope="ningbo").city_wide
        assert not Principal(sub="a", roles=(), scope="ningbo/yinzhou").city_wide


def guarded_app() -> FastAPI:
    app = FastAPI()
    app.state.settings = type(
        "S", (), {"principal_secret": type("X", (), {"get_secret_value": lambda _: DEV_PRINCIPAL_SECRET})()}
    )()
    install_error_handlers(app)
    router = APIRouter(dependencies=[Depends(current_principal)])

    @router.get("/admin", **allow("city_admin"))
    async def admin() -> dict:
        return {"ok": True}

    @router.post("/intake", **internal())
    async def intake() -> dict:
        return {"ok": True}

    app.include_router(router)
    open_router = APIRouter()

    @open_router.get("/feed", **public())
    async def feed() -> dict:
        return {"ok": True}

    app.include_router(open_router)
    return app


async def call(method: str, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded_app()), base_url="http://t") as c:
        return await c.request(method, url, headers=headers)


class TestGuards:
    async def test_no_forwarded_principal_is_401(self) -> None:
        r = await call("GET", "/admin")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"

    async def test_a_role_outside_the_list_is_403_naming_the_roles(self) -> None:
        r = await call("GET", "/admin", principal_headers(roles=["inspector"]))
        assert r.status_code == 403
        assert r.json()["required_roles"] == ["city_admin"]
        assert (await call("GET", "/admin", principal_headers(roles=["city_admin"]))).status_code == 200

    async def test_internal_routes_admit_only_services_and_look_absent_to_others(self) -> None:
        assert (
            await call("POST", "/intake", principal_headers(roles=["city_admin", "system"]))
        ).status_code == 404
        service = {PRINCIPAL_HEADER: sign_principal(service_principal("peer"), secret=DEV_PRINCIPAL_SECRET)}
        assert (await call("POST", "/intake", service)).status_code == 200

    async def test_public_routes_need_no_principal(self) -> None:
        assert (await call("GET", "/feed")).status_code == 200

    def test_the_guards_publish_themselves_in_the_document(self) -> None:
        paths = guarded_app().openapi()["paths"]
        assert paths["/admin"]["get"]["x-roles"] == ["city_admin"]
        assert paths["/intake"]["post"].get("x-internal") is True
        assert paths["/feed"]["get"].get("x-public") is True
