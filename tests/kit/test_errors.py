"""Every framework error becomes problem+json with the right status."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import FastAPI, File, UploadFile
from pydantic import BaseModel

from services.kit.errors import Conflict, install_error_handlers


class Thing(BaseModel):
    name: str
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"size": len(await file.read())}

    @app.post("/conflict")
    async def conflict() -> None:
        raise Conflict("already there", existing_id=7)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


async def _call(method: str, url: str, **kw) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.request(method, url, **kw)


class TestProblemRendering:
    async def test_json_body_with_wrong_content_type_is_415(self):
        r = await _call("POST", "/things", content=b"name=x", headers={"content-type": "text/plain"})
        assert r.status_code == 415 and r.json()["type"] == "/problems/unsupported-media-type"

    async def test_upload_missing_its_file_is_422_not_415(self):
        r = await _call("POST", "/upload", files={"other": ("a.csv", b"x")})
        assert r.status_code == 422
        assert ["body", "file"] in [e["loc"] for e in r.json()["errors"]]

    async def test_malformed_json_is_400(self):
        r = await _call("POST", "/things", content=b"{", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["type"] == "/problems/malformed-json"

    async def test_each_invalid_field_is_listed(self):
        r = await _call("POST", "/things", json={"count": "many"})
        body = r.json()
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "count")}

    async def test_business_conflict_carries_its_extensions(self):
        r = await _call("POST", "/conflict")
        assert r.status_code == 409
        assert r.json()["detail"] == "already there" and r.json()["existing_id"] == 7

    async def test_unexpected_error_is_500_without_internals(self):
        r = await _call("GET", "/boom")
        assert r.status_code == 500 and r.json()["type"] == "/problems/internal-error"
        assert "secret internals" not in r.text
