"""services.kit.middleware and services.kit.logs: the request id, metrics and one log line per request."""

from __future__ import annotations

import json
import logging

import httpx
from fastapi import FastAPI

from services.kit.context import request_id_var
from services.kit.logs import configure_logging, get_logger
from services.kit.middleware import RequestContextMiddleware, incoming_request_id


def test_a_sane_incoming_id_is_kept_and_anything_else_replaced() -> None:
    assert incoming_request_id({"headers": [(b"x-request-id", b"abc-123")]}) == "abc-123"
    fresh = incoming_request_id({"headers": [(b"x-request-id", b"bad id\n")]})
    assert fresh != "bad id\n" and len(fresh) == 32
    assert len(incoming_request_id({"headers": []})) == 32


async def test_the_id_is_bound_for_the_request_and_echoed() -> None:
    app = FastAPI()
    seen: list[str | None] = []

    @app.get("/x")
    async def x() -> dict:
        seen.append(request_id_var.get())
        return {}

    wrapped = RequestContextMiddleware(app, process="demo", log_requests=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t") as c:
        r = await c.get("/x", headers={"X-Request-ID": "rid-1"})
    assert r.headers["x-request-id"] == "rid-1" and seen == ["rid-1"]
    assert request_id_var.get() in (None, "")


def test_logs_are_json_lines_with_the_process_and_request_id(capsys) -> None:
    configure_logging(process="demo", level="INFO", json=True)
    token = request_id_var.set("rid-9")
    try:
        get_logger("kit.test").info("hello", n=1)
        logging.getLogger("plain").warning("from stdlib")
        get_logger("kit.test").debug("hidden")
    finally:
        request_id_var.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    hello = next(line for line in lines if line["event"] == "hello")
    assert hello["process"] == "demo" and hello["request_id"] == "rid-9" and hello["n"] == 1
    assert hello["level"] == "info" and hello["timestamp"].endswith("Z")
    assert any(line["event"] == "from stdlib" for line in lines)
    assert not any(line["event"] == "hidden" for line in lines)
