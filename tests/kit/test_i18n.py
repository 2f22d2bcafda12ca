"""Problem documents in Chinese when the caller prefers Chinese; English stays the default."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from services.kit import i18n
from services.kit.errors import (
    _HTTP_SLUGS,
    Conflict,
    NotFound,
    ProblemError,
    UnprocessableEntity,
    field_error,
    install_error_handlers,
)
from services.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


class Thing(BaseModel):
    name: str = Field(min_length=2, max_length=5)
    count: int = Field(ge=1)
    kind: str = Field(pattern=r"^[a-z]+$")


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.get("/list")
    async def listing(limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/conflict")
    async def conflict() -> None:
        raise Conflict("Round 2026Q1 is already published", zh="2026Q1 轮次已发布", round="2026Q1")

    @app.get("/english-only")
    async def english_only() -> None:
        raise NotFound("Sheet abc does not exist")

    @app.post("/rule")
    async def rule() -> None:
        raise UnprocessableEntity(
            "1 invalid field",
            zh="1 个字段无效",
            errors=[
                field_error(["body", "deadline"], "must fall on a working day", zh="必须是工作日"),
                field_error(["body", "note"], "too vague"),
            ],
        )

    return app


async def _call(method: str, url: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.request(method, url, **kw)  # type: ignore[arg-type]


class TestNegotiation:
    @pytest.mark.parametrize(
        ("header", "zh"),
        [
            (None, False),
            ("", False),
            ("zh-CN", True),
            ("zh", True),
            ("zh-Hans-CN", True),
            ("ZH-cn", True),
            ("en-US,en;q=0.9", False),
            ("zh-CN,zh;q=0.9,en;q=0.8", True),
            ("en;q=0.8,zh;q=0.9", True),
            ("en,zh", False),  # a tie: the first listed wins
            ("zh;q=0,en", False),  # q=0 means "not acceptable"
            ("fr-FR,fr;q=0.9", False),  # neither: English
            ("fr,zh;q=0.5", True),
            ("*;q=0.5,zh;q=0.4", False),
            ("zh;q=abc", False),
        ],
    )
    def test_prefers_zh(self, header: str | None, zh: bool) -> None:
        assert i18n.prefers_zh(header) is zh


class TestChineseProblems:
    async def test_english_is_the_default_and_unchanged(self) -> None:
        r = await _call("POST", "/conflict")
        body = r.json()
        assert r.status_code == 409
        assert body["title"] == "Conflict"
        assert body["detail"] == "Round 2026Q1 is already published"
        assert body["round"] == "2026Q1"
        assert r.headers["content-language"] == "en"
        assert "Accept-Language" in r.headers["vary"]

    async def test_raised_problem_in_chinese(self) -> None:
        r = await _call("POST", "/conflict", headers=ZH)
        body = r.json()
        assert r.status_code == 409
        assert body["title"] == "与当前状态冲突"
        assert body["detail"] == "2026Q1 轮次已发布"
        assert body["type"] == "/problems/conflict"  # the machine-readable parts do not change
        assert body["round"] == "2026Q1"
        assert r.headers["content-language"] == "zh-CN"

    async def test_a_raise_without_chinese_detail_keeps_the_english_specifics(self) -> None:
        body = (await _call("GET", "/english-only", headers=ZH)).json()
        assert body["title"] == "未找到"
        assert body["detail"] == "未找到（Sheet abc does not exist）"

    async def test_validation_errors_in_chinese(self) -> None:
        r = await _call("POST", "/things", json={"name": "x", "count": 0, "kind": "A1"}, headers=ZH)
        body = r.json()
        assert r.status_code == 422
        assert body["title"] == "请求参数无效"
        assert body["detail"] == "3 个字段无效：body.name, body.count, body.kind"
        msgs = {".".join(map(str, e["loc"])): e["msg"] for e in body["errors"]}
        assert msgs == {
            "body.name": "长度不能少于 2 个字符",
            "body.count": "应不小于 1",
            "body.kind": "格式不符合要求（^[a-z]+$）",
        }
        assert {e["type"] for e in body["errors"]} == {
            "string_too_short",
            "greater_than_equal",
            "string_pattern_mismatch",
        }
        assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])  # no private keys leak

    async def test_validation_errors_in_english_carry_no_private_keys(self) -> None:
        body = (await _call("POST", "/things", json={"name": "x", "count": 0, "kind": "a"})).json()
        assert body["detail"] == "2 invalid field(s): body.name, body.count"
        assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])
        assert body["errors"][0]["msg"] == "String should have at least 2 characters"

    async def test_missing_field_and_query_bound(self) -> None:
        body = (await _call("POST", "/things", json={"count": 2, "kind": "a"}, headers=ZH)).json()
        assert body["errors"][0]["msg"] == "必填字段缺失"
        body = (await _call("GET", "/list?limit=500", headers=ZH)).json()
        assert body["errors"][0]["msg"] == "应不大于 100"
        body = (await _call("GET", "/list?limit=abc", headers=ZH)).json()
        assert body["errors"][0]["msg"] == "应为整数"

    async def test_service_field_errors_use_their_own_chinese(self) -> None:
        body = (await _call("POST", "/rule", headers=ZH)).json()
        assert body["detail"] == "1 个字段无效"
        assert [e["msg"] for e in body["errors"]] == ["必须是工作日", "取值无效：too vague"]
        english = (await _call("POST", "/rule")).json()
        assert [e["msg"] for e in english["errors"]] == ["must fall on a working day", "too vague"]
        assert all("msg_zh" not in e for e in english["errors"])

    async def test_framework_errors_in_chinese(self) -> None:
        r = await _call("GET", "/nowhere", headers=ZH)
        assert r.json()["title"] == "未找到"
        assert r.json()["detail"] == "没有与 GET /nowhere 对应的接口"
        r = await _call("DELETE", "/things", headers=ZH)
        assert r.json()["detail"] == "/things 不支持 DELETE 方法"
        r = await _call(
            "POST", "/things", content=b"{bad", headers={**ZH, "content-type": "application/json"}
        )
        assert r.json()["title"] == "JSON 格式错误"
        assert r.json()["detail"].startswith("请求体不是有效的 JSON：")
        r = await _call("POST", "/things", content=b"x=1", headers={**ZH, "content-type": "text/plain"})
        assert r.json()["detail"] == "请求体应为 application/json，收到的是 text/plain"


def _all_problem_classes() -> list[type[ProblemError]]:
    for svc in SERVICES:
        importlib.import_module(f"{svc.module}.main")
    importlib.import_module("gateway.main")

    def walk(cls: type[ProblemError]) -> list[type[ProblemError]]:
        out = []
        for sub in cls.__subclasses__():
            out.append(sub)
            out.extend(walk(sub))
        return out

    return walk(ProblemError)


def test_every_problem_slug_has_a_chinese_title() -> None:
    slugs = {cls.slug for cls in _all_problem_classes()}
    slugs |= {slug for slug, _ in _HTTP_SLUGS.values()}
    literal = re.compile(r"""slug\s*=\s*["']([a-z][a-z0-9-]*)["']""")
    for path in [*ROOT.joinpath("services").rglob("*.py"), *ROOT.joinpath("gateway").rglob("*.py")]:
        slugs |= set(literal.findall(path.read_text(encoding="utf-8")))
    assert len(slugs) > 90
    missing = sorted(s for s in slugs if s not in i18n.TITLES_ZH)
    assert not missing, f"problem slugs without a Chinese title in services/kit/i18n.py: {missing}"
    not_chinese = sorted(s for s, t in i18n.TITLES_ZH.items() if not re.search(r"[\u4e00-\u9fff]", t))
    assert not not_chinese


def test_every_chinese_field_message_formats() -> None:
    """Each template of pydantic's error types fills from a ctx of its own kind without a KeyError."""
    ctx = {
        "min_length": 1, "max_length": 9, "pattern": "x", "gt": 0, "ge": 0, "lt": 1, "le": 1,
        "multiple_of": 2, "expected": "'a' or 'b'", "expected_schemes": "'https'", "expected_tags": "'a'",
        "discriminator": "'kind'", "error": "Value error, bad",
    }  # fmt: skip
    for type_ in i18n._FIELD_MSGS_ZH:
        msg = i18n.field_msg_zh({"type": type_, "msg": "m", "ctx": ctx})
        assert "{" not in msg and re.search(r"[\u4e00-\u9fff]", msg), (type_, msg)
    assert (
        i18n.field_msg_zh(
            {"type": "value_error", "msg": "Value error, bad", "ctx": {"error": ValueError("bad")}}
        )
        == "取值无效：bad"
    )
