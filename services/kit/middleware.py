"""Pure-ASGI request context: request id in and out, one access log line, Prometheus metrics."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kit.context import request_id_var

REQUEST_ID_HEADER = b"x-request-id"
_VALID_RID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["process", "method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to handle an HTTP request",
    ["process", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

access_log = structlog.get_logger("access")


def incoming_request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            rid = bytes(value).decode("latin-1")
            if _VALID_RID.match(rid):
                return rid
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Bind the request id for the whole request and report what happened."""

    def __init__(self, app: ASGIApp, *, process: str, log_requests: bool = True) -> None:
        self.app = app
        self.process = process
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        token = request_id_var.set(rid)
        status_holder: dict[str, Any] = {"status": 500}
        rid_bytes = rid.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, rid_bytes))
                message["headers"] = headers
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            status = status_holder["status"]
            REQUESTS.labels(self.process, method, template, str(status)).inc()
            LATENCY.labels(self.process, method, template).observe(elapsed)
            if self.log_requests and template not in ("/healthz", "/readyz", "/metrics"):
                access_log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    request_id=rid,
                )
            request_id_var.reset(token)
