"""services.kit.deps and services.kit.endpoints: the shared dependencies and GET /whoami."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from services.kit.clock import FrozenClock
from services.kit.deps import ClockDep, HttpDep, SettingsDep
from services.kit.endpoints import WhoAmI, whoami_router
from services.kit.errors import install_error_handlers
from services.kit.settings import ServiceSettings
from services.kit.testing import principal_headers

T0 = datetime(2026, 10, 9, 1, 30, tzinfo=UTC)


def app() -> FastAPI:
    api = FastAPI()
    install_error_handlers(api)
    api.state.settings = ServiceSettings(database_url="sqlite+aiosqlite://", http_timeout_seconds=4.5)
    api.state.clock = FrozenClock(T0)
    api.state.http = httpx.AsyncClient()
    api.state.service_name = "demo"

    @api.get("/deps")
    async def deps(settings: SettingsDep, clock: ClockDep, http: HttpDep) -> dict:
        return {
            "timeout": settings.http_timeout_seconds,
            "now": clock.now().isoformat(),
            "same_http": http is api.state.http,
        }

    api.include_router(whoami_router("demo.operations"))
    return api


async def get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t") as c:
        return await c.get(url, headers=headers)


async def test_the_dependencies_give_what_the_app_was_built_with() -> None:
    r = await get("/deps")
    assert r.json() == {"timeout": 4.5, "now": T0.isoformat(), "same_http": True}


async def test_whoami_shows_the_forwarded_principal() -> None:
    headers = principal_headers(roles=["district_admin", "not-a-role"], scope="ningbo/yinzhou", sub="u-zhang")
    r = await get("/whoami", headers)
    assert r.status_code == 200
    assert r.json() == {
        "service": "demo",
        "sub": "u-zhang",
        "roles": ["district_admin"],
        "scope": "ningbo/yinzhou",
        "kind": "user",
        "name": None,
    }
    assert (await get("/whoami")).status_code == 401


def test_whoami_is_documented_under_the_given_tag_with_an_example() -> None:
    op = app().openapi()["paths"]["/whoami"]["get"]
    assert op["tags"] == ["demo.operations"]
    schema = WhoAmI.model_json_schema()
    assert schema["examples"] and all(p.get("description") for p in schema["properties"].values())
    assert "enum" in str(schema["properties"]["kind"])
