"""Service-to-service HTTP: one pooled httpx client per process, explicit timeouts, request ids."""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from services.kit.auth import PRINCIPAL_HEADER, Principal, service_principal, sign_principal
from services.kit.context import request_id_var


class _ServiceAuth(httpx.Auth):
    """Adds the request id and a fresh service principal unless the caller set one (on-behalf-of)."""

    def __init__(self, principal: Principal, secret: str, ttl: int) -> None:
        self.principal = principal
        self.secret = secret
        self.ttl = ttl
        self._token = ""
        self._expires = 0.0

    def _current(self) -> str:
        now = time.time()
        if now > self._expires - max(5, self.ttl // 4):
            self._token = sign_principal(self.principal, secret=self.secret, ttl_seconds=self.ttl)
            self._expires = now + self.ttl
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if PRINCIPAL_HEADER not in request.headers:
            request.headers[PRINCIPAL_HEADER] = self._current()
        rid = request_id_var.get()
        if rid and "x-request-id" not in request.headers:
            request.headers["x-request-id"] = rid
        yield request


def make_service_client(
    *,
    service: str,
    secret: str,
    timeout: float = 10.0,
    ttl: int = 60,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client a service uses for its peers; tests pass an ``httpx.MockTransport``."""
    return httpx.AsyncClient(
        auth=_ServiceAuth(service_principal(service), secret, ttl),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        transport=transport,
    )


def on_behalf_of(principal: Principal, *, secret: str, ttl: int = 60) -> dict[str, str]:
    """Headers that make a peer call act as `principal` rather than as the calling service."""
    return {PRINCIPAL_HEADER: sign_principal(principal, secret=secret, ttl_seconds=ttl)}
