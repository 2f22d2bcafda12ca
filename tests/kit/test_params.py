"""services.kit.params: ids, offsets and limits within what the databases hold."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.kit.params import INT64_MAX, MAX_OFFSET, IdPath, OffsetQuery, limit_query


def app() -> FastAPI:
    api = FastAPI()

    @api.get("/things/{thing_id}")
    async def one(thing_id: IdPath, offset: OffsetQuery = 0, limit: int = limit_query(20, 100)) -> dict:  # type: ignore[assignment]
        return {"id": thing_id, "offset": offset, "limit": limit}

    return api


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t") as c:
        return await c.get(url)


async def test_values_in_range_pass_with_their_defaults() -> None:
    r = await get(f"/things/{INT64_MAX}")
    assert r.json() == {"id": INT64_MAX, "offset": 0, "limit": 20}


async def test_an_id_past_bigint_or_below_one_is_refused() -> None:
    assert (await get(f"/things/{INT64_MAX + 1}")).status_code == 422
    assert (await get("/things/0")).status_code == 422


async def test_offset_and_limit_are_bounded() -> None:
    assert (await get(f"/things/1?offset={MAX_OFFSET + 1}")).status_code == 422
    assert (await get("/things/1?offset=-1")).status_code == 422
    assert (await get("/things/1?limit=101")).status_code == 422
    assert (await get("/things/1?limit=0")).status_code == 422
    assert (await get("/things/1?limit=100")).json()["limit"] == 100


def test_the_document_describes_them() -> None:
    op = app().openapi()["paths"]["/things/{thing_id}"]["get"]
    descriptions = {p["name"]: p.get("description") for p in op["parameters"]}
    assert descriptions["thing_id"] and descriptions["offset"]
    assert descriptions["limit"] == "Items per page (1-100)"
