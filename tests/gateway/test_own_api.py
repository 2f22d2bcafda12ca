"""The gateway's own API (/api/v1/auth, /api/v1/status): shapes, conventions and the merged document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.openapi.utils import get_openapi

from gateway import repository
from gateway.endpoints import OPENAPI_TAGS
from gateway.main import DESCRIPTION, TITLE, build_app
from gateway.models import ApiKey
from gateway.routes import merge_openapi
from services.kit import orgunit
from services.kit.pagination import PageParams


async def _key(gw, name: str = "同步脚本", scope: str = "ningbo/yinzhou") -> dict:
    r = await gw.client.post(
        "/api/v1/auth/api-keys", json={"name": name, "roles": ["system"], "scope": scope}, headers=gw.auth()
    )
    assert r.status_code == 201, r.text
    return r.json()


class TestApiKeyList:
    async def test_is_a_page_envelope_paged_by_limit_and_offset(self, make_gateway):
        gw = await make_gateway()
        ids = [(await _key(gw, f"k{i}"))["id"] for i in range(3)]
        r = await gw.client.get("/api/v1/auth/api-keys?limit=2&offset=1", headers=gw.auth())
        assert r.status_code == 200, r.text
        page = r.json()
        assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
        # Oldest first, then by id (the test clock is frozen: all three were made at one instant).
        assert [k["id"] for k in page["items"]] == sorted(ids)[1:]
        assert all("key" not in k and "secret_hash" not in k for k in page["items"])
        assert page["items"][0]["created_at"].endswith("Z")

    async def test_revoked_keys_are_listed_only_when_asked(self, make_gateway):
        gw = await make_gateway()
        key = await _key(gw)
        r = await gw.client.delete(f"/api/v1/auth/api-keys/{key['id']}", headers=gw.auth())
        assert r.status_code == 200 and r.json()["revoked_at"].endswith("Z")
        assert (await gw.client.get("/api/v1/auth/api-keys", headers=gw.auth())).json()["total"] == 0
        r = await gw.client.get("/api/v1/auth/api-keys?include_revoked=true", headers=gw.auth())
        assert r.json()["total"] == 1

    async def test_an_undeclared_query_parameter_is_a_422_naming_it(self, make_gateway):
        gw = await make_gateway()
        r = await gw.client.get("/api/v1/auth/api-keys?colour=red", headers=gw.auth())
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "colour"]

    async def test_without_credentials_the_answer_is_401_whatever_the_query(self, make_gateway):
        gw = await make_gateway()
        assert (await gw.client.get("/api/v1/auth/api-keys?colour=red")).status_code == 401

    async def test_an_unknown_body_field_is_a_422_naming_it(self, make_gateway):
        gw = await make_gateway()
        body = {"name": "k", "roles": ["system"], "scope": "ningbo", "colour": "red"}
        r = await gw.client.post("/api/v1/auth/api-keys", json=body, headers=gw.auth())
        assert r.status_code == 422
        assert ["body", "colour"] in [e["loc"] for e in r.json()["errors"]]


class TestWhoAmI:
    async def test_roles_and_kind_of_the_caller(self, make_gateway):
        gw = await make_gateway()
        r = await gw.client.get("/api/v1/auth/whoami", headers=gw.auth(roles=["inspector"], sub="u-li"))
        assert r.status_code == 200
        assert r.json() == {
            "sub": "u-li",
            "roles": ["inspector"],
            "scope": "ningbo",
            "kind": "user",
            "name": None,
        }


class TestMethodNotAllowed:
    async def test_another_method_on_a_gateway_route_is_405_with_allow(self, make_gateway):
        gw = await make_gateway()
        r = await gw.client.put("/api/v1/auth/whoami", headers=gw.auth())
        assert r.status_code == 405
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["allow"] == "GET"
        r = await gw.client.patch("/api/v1/auth/api-keys", headers=gw.auth())
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST"

    async def test_another_method_on_a_health_route_is_405_with_allow(self, make_gateway):
        gw = await make_gateway()
        r = await gw.client.post("/healthz")
        assert r.status_code == 405 and "GET" in r.headers["allow"]


class TestRepository:
    async def test_list_selects_by_scope_pages_and_counts(self, make_gateway):
        gw = await make_gateway()
        now = datetime(2026, 10, 9, tzinfo=UTC)
        async with gw.app.state.sessionmaker() as session, session.begin():
            for i, scope in enumerate(["ningbo/yinzhou", "ningbo/haishu", "ningbo/yinzhou/dongwu"]):
                key = ApiKey(
                    id=f"k{i}",
                    name="n",
                    secret_hash="0" * 64,
                    roles=["system"],
                    scope=scope,
                    created_by="u",
                    created_at=now,
                )
                await repository.add_api_key(session, key)
            await repository.mark_revoked(session, key, now=now)
        async with gw.app.state.sessionmaker() as session:
            in_scope = orgunit.under(ApiKey.scope, "ningbo/yinzhou")
            rows, total = await repository.list_api_keys(
                session, in_scope=in_scope, include_revoked=False, page=PageParams(limit=10)
            )
            assert ([r.id for r in rows], total) == (["k0"], 1)
            rows, total = await repository.list_api_keys(
                session, in_scope=in_scope, include_revoked=True, page=PageParams(limit=1, offset=1)
            )
            assert ([r.id for r in rows], total) == (["k2"], 2)
            assert (await repository.get_api_key(session, "k2")).revoked_at is not None
            assert await repository.get_api_key(session, "nope") is None


class TestDocument:
    def document(self) -> dict:
        app = build_app()
        own = get_openapi(title=TITLE, version="1", routes=app.routes)
        return merge_openapi(own, {}, title=TITLE, version="1", description=DESCRIPTION)

    def test_the_title_is_ascii_and_the_chinese_name_is_in_the_description(self) -> None:
        assert TITLE.isascii() and re.fullmatch(r"[A-Za-z][A-Za-z -]+", TITLE)
        assert "基层党建专项督查" in DESCRIPTION

    def test_each_own_operation_has_one_declared_tag_and_its_problems(self) -> None:
        doc = self.document()
        declared = {t["name"] for t in doc["tags"]}
        assert declared == {t["name"] for t in OPENAPI_TAGS} == {"gateway.auth", "gateway.status"}
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                assert len(op["tags"]) == 1 and op["tags"][0] in declared, (method, path)
                assert {"400", "401", "403", "422", "429", "503"} <= set(op["responses"]), (method, path)
                if "{" in path:
                    assert "404" in op["responses"], (method, path)

    def test_the_api_key_list_is_a_page_of_described_keys_with_an_example(self) -> None:
        doc = self.document()
        schema = doc["paths"]["/api/v1/auth/api-keys"]["get"]["responses"]["200"]["content"]
        ref = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        page = doc["components"]["schemas"][ref]
        assert set(page["properties"]) == {"items", "total", "limit", "offset"}
        key = doc["components"]["schemas"]["ApiKeyRead"]
        assert key["examples"] and all(p.get("description") for p in key["properties"].values())
        assert "enum" in str(key["properties"]["roles"]) or "$ref" in str(key["properties"]["roles"])

    def test_an_area_tag_no_operation_uses_is_not_declared(self) -> None:
        service = {
            "paths": {"/x": {"get": {"tags": ["demo.things"], "responses": {}}}},
            "tags": [{"name": "demo.things", "description": "东西 — things"}],
            "info": {"description": "demo"},
        }
        doc = merge_openapi({"paths": {}}, {"demo": service}, title=TITLE, version="1", description="")
        assert "demo" not in {t["name"] for t in doc["tags"]}
        assert "demo.things" in {t["name"] for t in doc["tags"]}
