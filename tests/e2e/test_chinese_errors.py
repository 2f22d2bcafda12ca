"""Problem documents in Chinese through the gateway, over real HTTP (issue 15).

With ``Accept-Language: zh-CN`` the gateway's own problems (401, 403, 404) and the services' (404,
409, 422 with its field errors) answer title and detail in Chinese; the same requests without the
header answer in English, as before. The machine-readable parts (type, status, loc, type of each
field error, the extensions) never change with the language.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def problem(resp: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert "Accept-Language" in resp.headers["vary"]
    body: dict[str, Any] = resp.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    return body


def chinese(resp: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    body = problem(resp, status, slug)
    assert resp.headers["content-language"] == "zh-CN"
    assert CJK.search(body["title"]), body
    assert CJK.search(body["detail"]), body
    # No English fallback in brackets: the raise gave its own Chinese.
    assert not body["detail"].startswith(f"{body['title']}（"), body
    return body


def english(resp: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    body = problem(resp, status, slug)
    assert resp.headers["content-language"] == "en"
    assert not CJK.search(body["title"]), body
    return body


async def both(
    c: httpx.AsyncClient, method: str, url: str, **kw: Any
) -> tuple[httpx.Response, httpx.Response]:
    """The same request in Chinese and without any Accept-Language."""
    headers = dict(kw.pop("headers", {}))
    zh = await c.request(method, url, headers={**headers, **ZH}, **kw)
    en = await c.request(method, url, headers=headers, **kw)
    return zh, en


class TestGatewayProblemsInChinese:
    async def test_no_credentials_401(self, system: System) -> None:
        async with system.client() as c:
            zh, en = await both(c, "GET", "/api/v1/sampling/whoami")
        body = chinese(zh, 401, "unauthorized")
        assert body["title"] == "需要身份认证"
        assert body["detail"].startswith("未提供身份凭据")
        assert zh.headers["www-authenticate"].startswith("Bearer")
        body = english(en, 401, "unauthorized")
        assert body["title"] == "Authentication required"
        assert body["detail"].startswith("No credentials")

    async def test_expired_token_401(self, system: System) -> None:
        auth = {"Authorization": f"Bearer {system.token(roles=['city_admin'], ttl=-300)}"}
        async with system.client() as c:
            zh, en = await both(c, "GET", "/api/v1/sampling/whoami", headers=auth)
        assert chinese(zh, 401, "unauthorized")["detail"] == "令牌已过期"
        assert english(en, 401, "unauthorized")["detail"] == "The token has expired"

    async def test_role_403(self, system: System) -> None:
        async with system.client() as c:
            zh, en = await both(
                c,
                "POST",
                "/api/v1/auth/api-keys",
                json={"name": "x", "roles": ["system"], "scope": "ningbo"},
                headers=system.auth(roles=["inspector"]),
            )
        body = chinese(zh, 403, "forbidden")
        assert body["title"] == "无权执行此操作"
        assert "city_admin" in body["detail"] and "角色" in body["detail"]
        assert body["required_roles"] == ["city_admin"]
        body = english(en, 403, "forbidden")
        assert body["detail"] == "Managing API keys needs the city_admin role"

    async def test_route_role_403(self, system: System) -> None:
        """The gateway's check of a service route's x-roles, before the request is forwarded."""
        async with system.client() as c:
            zh, en = await both(
                c, "POST", "/api/v1/sampling/rounds", json={}, headers=system.auth(roles=["inspector"])
            )
        body = chinese(zh, 403, "forbidden")
        assert "需要以下角色之一" in body["detail"] and "您的角色：inspector" in body["detail"]
        assert "needs one of the roles" in english(en, 403, "forbidden")["detail"]

    async def test_no_such_area_404(self, system: System) -> None:
        async with system.client() as c:
            zh, en = await both(c, "GET", "/api/v1/nowhere/things", headers=system.auth())
        body = chinese(zh, 404, "not-found")
        assert body["title"] == "未找到"
        assert body["detail"].startswith("没有 API 分区 'nowhere'")
        assert english(en, 404, "not-found")["detail"].startswith("No API area 'nowhere'")

    async def test_gateway_field_errors_422(self, system: System) -> None:
        """The gateway's own field errors carry their Chinese; pydantic's come from the kit's catalogue."""
        admin = system.auth(roles=["city_admin"], scope="ningbo/yinzhou")
        async with system.client() as c:
            zh, en = await both(
                c,
                "POST",
                "/api/v1/auth/api-keys",
                json={
                    "name": "k",
                    "roles": ["system"],
                    "scope": "ningbo",
                    "expires_at": "2001-01-01T00:00:00Z",
                },
                headers=admin,
            )
        body = chinese(zh, 422, "validation-error")
        assert body["title"] == "请求参数无效"
        assert body["detail"] == "2 个字段无效：body.scope, body.expires_at"
        msgs = {".".join(map(str, e["loc"])): e["msg"] for e in body["errors"]}
        assert msgs == {
            "body.scope": "'ningbo' 超出您的管辖范围 'ningbo/yinzhou'",
            "body.expires_at": "expires_at 必须是将来的时间",
        }
        assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])
        body = english(en, 422, "validation-error")
        assert body["detail"] == "2 invalid field(s): body.scope, body.expires_at"
        assert [e["msg"] for e in body["errors"]][1] == "expires_at must be in the future"


class TestServiceProblemsInChinese:
    async def test_unknown_round_404(self, system: System) -> None:
        async with system.client() as c:
            zh, en = await both(c, "GET", "/api/v1/sampling/rounds/ZH-NOPE", headers=system.auth())
        body = chinese(zh, 404, "round-not-found")
        assert body["title"] == "未找到该督查轮次"
        assert body["detail"] == "没有督查轮次 ZH-NOPE"
        assert body["round_code"] == "ZH-NOPE"
        assert body["instance"] == "/api/v1/sampling/rounds/ZH-NOPE"
        assert english(en, 404, "round-not-found")["detail"] == "No round ZH-NOPE"

    async def test_nothing_to_publish_409(self, system: System) -> None:
        """A conflict that needs no data (a round without locked sheets), so the shared system is left as is."""
        url = "/api/v1/scoring/rounds/ZH-EMPTY/results/publish"
        async with system.client() as c:
            zh, en = await both(c, "POST", url, json={}, headers=system.auth())
        body = chinese(zh, 409, "nothing-to-publish")
        assert body["title"] == "本轮尚无已锁定的评分表"
        assert body["detail"] == "督查轮次 ZH-EMPTY 尚无已锁定的评分表"
        assert (
            english(en, 409, "nothing-to-publish")["detail"]
            == "Round ZH-EMPTY has no locked score sheets yet"
        )

    async def test_validation_422_with_chinese_field_messages(self, system: System) -> None:
        async with system.client() as c:
            zh, en = await both(
                c, "GET", "/api/v1/sampling/sites", params={"limit": "many"}, headers=system.auth()
            )
        body = chinese(zh, 422, "validation-error")
        assert body["detail"].startswith("1 个字段无效：query.limit")
        assert [e["msg"] for e in body["errors"]] == ["应为整数"]
        assert [e["type"] for e in body["errors"]] == ["int_parsing"]
        body = english(en, 422, "validation-error")
        assert not CJK.search(body["errors"][0]["msg"])

    async def test_service_field_error_422_in_chinese(self, system: System) -> None:
        """A field error a service wrote itself (kit pagination's sort check) answers its own Chinese."""
        async with system.client() as c:
            zh, en = await both(
                c, "GET", "/api/v1/sampling/sites", params={"sort": "colour"}, headers=system.auth()
            )
        body = chinese(zh, 422, "validation-error")
        assert body["detail"].startswith("sort 应为以下之一：")
        assert body["errors"][0]["loc"] == ["query", "sort"]
        assert body["errors"][0]["msg"].startswith("应为以下之一：")
        body = english(en, 422, "validation-error")
        assert body["detail"].startswith("sort must be one of ")
