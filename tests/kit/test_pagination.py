"""services.kit.pagination: one list envelope, paging, sort and text search."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.kit.errors import install_error_handlers
from services.kit.pagination import (
    Page,
    PageDep,
    PageParams,
    SearchQuery,
    Sort,
    apply_sort,
    contains,
    page_params,
    sort_param,
)

metadata = MetaData()
sites = Table("site", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))


class TestPage:
    def test_of_whole_and_slice(self) -> None:
        params = PageParams(limit=2, offset=1)
        assert Page.of(["b", "c"], 5, params).model_dump() == {
            "items": ["b", "c"],
            "total": 5,
            "limit": 2,
            "offset": 1,
        }
        assert Page.whole(["a", "b"]).model_dump() == {
            "items": ["a", "b"],
            "total": 2,
            "limit": 2,
            "offset": 0,
        }
        assert Page.slice(list("abcde"), params).items == ["b", "c"]
        assert Page.slice(list("abcde"), PageParams(limit=10, offset=4)).model_dump()["items"] == ["e"]

    def test_its_schema_is_the_envelope_with_descriptions(self) -> None:
        schema = Page[int].model_json_schema()
        assert set(schema["properties"]) == {"items", "total", "limit", "offset"}
        assert all(p.get("description") for p in schema["properties"].values())


class TestSort:
    def test_a_default_outside_the_fields_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="default sort"):
            sort_param(["name"], "-id")

    def test_str_round_trips(self) -> None:
        assert str(Sort("name", descending=True)) == "-name" and str(Sort("name")) == "name"


def app() -> FastAPI:
    api = FastAPI()
    install_error_handlers(api)
    small = page_params(default=2, maximum=3)

    @api.get("/sites")
    async def listing(
        page: PageDep,
        q: SearchQuery = None,
        sort: Sort = Depends(sort_param(["name", "id"], "id")),
    ) -> dict:
        return {"limit": page.limit, "offset": page.offset, "q": q, "sort": str(sort)}

    @api.get("/small")
    async def small_list(page: PageParams = Depends(small)) -> dict:
        return {"limit": page.limit}

    return api


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t") as c:
        return await c.get(url)


class TestParameters:
    async def test_defaults_and_values(self) -> None:
        assert (await get("/sites")).json() == {"limit": 50, "offset": 0, "q": None, "sort": "id"}
        r = await get("/sites?limit=500&offset=3&q=天童&sort=-name")
        assert r.json() == {"limit": 500, "offset": 3, "q": "天童", "sort": "-name"}
        assert (await get("/small")).json() == {"limit": 2}

    async def test_out_of_range_or_unknown_values_are_422(self) -> None:
        for url in ("/sites?limit=501", "/sites?limit=0", "/sites?offset=-1", "/small?limit=4", "/sites?q="):
            assert (await get(url)).status_code == 422, url
        r = await get("/sites?sort=colour")
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "sort"]

    def test_sort_is_an_enum_in_the_document(self) -> None:
        params = {p["name"]: p for p in app().openapi()["paths"]["/sites"]["get"]["parameters"]}
        assert params["sort"]["schema"]["enum"] == ["name", "id", "-name", "-id"]
        assert all(p.get("description") for p in params.values())


class TestSql:
    @pytest.fixture
    async def engine(self):
        engine = create_async_engine("sqlite+aiosqlite:///:memory:")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(
                insert(sites),
                [
                    {"id": 1, "name": "b_村"},
                    {"id": 2, "name": "a%村"},
                    {"id": 3, "name": "c村"},
                    {"id": 4, "name": "a%村"},
                ],
            )
        yield engine
        await engine.dispose()

    async def test_apply_sort_with_a_tiebreak_and_a_page(self, engine) -> None:
        columns = {"name": sites.c.name, "id": sites.c.id}
        async with engine.connect() as conn:
            stmt = apply_sort(select(sites.c.id), Sort("name", descending=True), columns, tiebreak=sites.c.id)
            assert [r[0] for r in await conn.execute(stmt)] == [3, 1, 4, 2]
            stmt = PageParams(limit=2, offset=1).apply(
                apply_sort(select(sites.c.id), Sort("name"), columns, tiebreak=sites.c.id)
            )
            assert [r[0] for r in await conn.execute(stmt)] == [4, 1]

    async def test_contains_matches_wildcards_literally(self, engine) -> None:
        async with engine.connect() as conn:
            found = await conn.execute(
                select(sites.c.id).where(contains("%", sites.c.name)).order_by(sites.c.id)
            )
            assert [r[0] for r in found] == [2, 4]
            found = await conn.execute(select(sites.c.id).where(contains("_", sites.c.name)))
            assert [r[0] for r in found] == [1]
