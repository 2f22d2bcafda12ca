"""services.kit.openapi: declared problems, If-Match required, unknown query parameters refused."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, FastAPI, Header

from services.kit.errors import install_error_handlers
from services.kit.openapi import ALWAYS, PROBLEM_REF, PROBLEM_SCHEMA, errors, finalize, reject_unknown_query
from services.kit.pagination import PageDep


def app() -> FastAPI:
    api = FastAPI()
    install_error_handlers(api)
    router = APIRouter(dependencies=[Depends(reject_unknown_query)])

    @router.get("/things")
    async def things(page: PageDep, colour: str | None = None) -> dict:
        return {"limit": page.limit, "colour": colour}

    @router.put("/things/{thing_id}", responses=errors(409, 428))
    async def change(thing_id: int, if_match: str | None = Header(None)) -> dict:
        return {"id": thing_id}

    api.include_router(router)
    return api


def test_every_operation_documents_the_common_problems_and_404_with_an_id() -> None:
    doc = finalize(app().openapi())
    listing = doc["paths"]["/things"]["get"]["responses"]
    assert {str(s) for s in ALWAYS} <= set(listing) and "404" not in listing
    one = doc["paths"]["/things/{thing_id}"]["put"]["responses"]
    assert {"404", "409", "428"} <= set(one)
    assert one["409"]["content"]["application/problem+json"]["schema"] == PROBLEM_REF
    assert doc["components"]["schemas"]["Problem"] is PROBLEM_SCHEMA
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_declaring_428_makes_if_match_required() -> None:
    doc = finalize(app().openapi())
    [header] = [p for p in doc["paths"]["/things/{thing_id}"]["put"]["parameters"] if p["in"] == "header"]
    assert header["name"] == "If-Match" and header["required"] is True and header["description"]


def test_the_problem_schema_lists_its_extension_members() -> None:
    assert {"errors", "current_etag", "required_roles", "allowed", "retry_after"} <= set(
        PROBLEM_SCHEMA["properties"]
    )


async def test_an_undeclared_query_parameter_is_a_422_naming_it() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t") as c:
        ok = await c.get("/things?limit=5&offset=1&colour=red")
        assert ok.status_code == 200 and ok.json() == {"limit": 5, "colour": "red"}
        r = await c.get("/things?size=5&zz=1")
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["errors"]] == [["query", "size"], ["query", "zz"]]
        assert "size" in r.json()["detail"]
