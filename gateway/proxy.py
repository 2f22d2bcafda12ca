"""Forwarding to the services over one pooled aiohttp client.

aiohttp rather than httpx on this hot path: measured on this machine, a FastAPI proxy built on
httpx's pool kept ~8 % of direct throughput (its pool scans every connection per request), while
aiohttp's client kept ~45-60 % (see docs/benchmarks.md). httpx stays the client for service-to-service
calls, where the rate is low.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from yarl import URL

from services.kit.auth import PRINCIPAL_HEADER
from services.kit.context import request_id_var
from services.kit.errors import GatewayTimeout, PayloadTooLarge, ServiceUnavailable, UpstreamError
from services.kit.logs import get_logger

log = get_logger("gateway.proxy")

# Hop-by-hop headers (RFC 9110 §7.6.1) and what the gateway itself owns.
_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
}
_STRIP_REQUEST = _HOP_BY_HOP | {
    b"host",
    b"authorization",
    b"x-api-key",
    PRINCIPAL_HEADER.encode(),
    b"content-length",
    b"x-request-id",
    # Set by the gateway alone (below): a service builds public links from them.
    b"x-forwarded-prefix",
    b"x-gateway-public-url",
}
_STRIP_RESPONSE = {h.decode() for h in _HOP_BY_HOP} | {"content-length", "x-request-id", "server", "date"}
_IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}
_BUFFER_LIMIT = 256 * 1024  # bodies up to this are read whole; larger ones stream
_NO_BODY = {"GET", "HEAD", "OPTIONS", "DELETE"}


class _TooLarge(Exception):
    pass


class _LimitedBody:
    """A streamed request body that stops at the limit and remembers that it did.

    The client library may wrap the exception the stream raises in its own error; the flag lets the
    forwarder answer 413 whatever it was wrapped in (never a 502 naming the upstream).
    """

    def __init__(self, request: Request, limit: int) -> None:
        self.request = request
        self.limit = limit
        self.exceeded = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.request.stream():
            seen += len(chunk)
            if seen > self.limit:
                self.exceeded = True
                raise _TooLarge
            yield chunk


_QUERY_SAFE = "!$&'()*+,;=:@/?%-._~"


class Forwarder:
    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float,
        retries: int,
        max_body_bytes: int,
        max_connections: int,
        area_max_body_bytes: dict[str, int] | None = None,
        upstreams: dict[str, str] | None = None,
    ) -> None:
        self.upstreams = {
            area: urlsplit(url)[:2] for area, url in (upstreams or {}).items()
        }  # area -> (scheme, netloc), to recognise an upstream's own address in a Location header
        self.timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=timeout)
        self.retries = retries
        self.max_body = max_body_bytes
        # An area with a limit of its own (evidence: files of tens of MB) streams up to it; others keep max_body.
        self.area_max_body = dict(area_max_body_bytes or {})
        self.max_connections = max_connections
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=self.timeout,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def limit_for(self, area: str) -> int:
        return self.area_max_body.get(area, self.max_body)

    async def _body(self, request: Request, limit: int) -> Any:
        method = request.method
        length = request.headers.get("content-length")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        if length is None and not chunked:
            return None if method in _NO_BODY else b""
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if size > limit:
                raise PayloadTooLarge(
                    f"The body is {size} bytes; the limit is {limit}",
                    zh=f"请求体为 {size} 字节，上限为 {limit} 字节",
                    limit=limit,
                )
            if 0 <= size <= _BUFFER_LIMIT:
                return await request.body()
        return _LimitedBody(request, limit)

    async def forward(
        self, request: Request, *, area: str, base_url: str, path: str, principal_token: str | None
    ) -> Response:
        """Send the request to `base_url` + `path` (`path` still percent-encoded, exactly as checked)."""
        query = request.url.query
        if "access_token=" in query:
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "access_token"])
        url = f"{base_url}{path}" + (f"?{quote(query, safe=_QUERY_SAFE)}" if query else "")
        headers: list[tuple[str, str]] = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in request.headers.raw
            if k not in _STRIP_REQUEST
        ]
        rid = request_id_var.get()
        if rid:
            headers.append(("x-request-id", rid))
        if principal_token:
            headers.append((PRINCIPAL_HEADER, principal_token))
        client = request.client
        if client:
            headers.append(("x-forwarded-for", client.host))
        headers.append(("x-forwarded-proto", request.url.scheme))
        headers.append(("x-forwarded-prefix", f"/api/v1/{area}"))
        # Where clients reach the gateway (GATEWAY_PUBLIC_URL): links a service hands out (a calendar
        # feed's URL) start there, wherever the gateway listens (docs/operations.md).
        headers.append(("x-gateway-public-url", request.app.state.settings.public_url.rstrip("/")))
        body = await self._body(request, self.limit_for(area))
        upstream = await self._send(request.method, url, headers, body, area)
        return await self._respond(upstream, area)

    def public_location(self, value: str, area: str) -> str:
        """A Location header as the client must see it: under the gateway's /api/v1/<area>, never an
        upstream's own host and port."""
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            for other, origin in self.upstreams.items():
                if (parts.scheme, parts.netloc) == origin:
                    rest = value[len(f"{origin[0]}://{origin[1]}") :]
                    return f"/api/v1/{other}" + (rest if rest.startswith("/") else "/" + rest)
            return value
        if value.startswith("/") and not value.startswith("//") and not value.startswith("/api/v1/"):
            return f"/api/v1/{area}{value}"  # a service's own absolute path
        return value

    def _response_headers(self, items: Any, area: str) -> list[tuple[bytes, bytes]]:
        out = []
        for k, v in items:
            key = k.lower()
            if key in _STRIP_RESPONSE:
                continue
            if key == "location":
                v = self.public_location(v, area)
            out.append((key.encode("latin-1"), v.encode("latin-1")))
        return out

    async def _send(self, method: str, url: str, headers: list[tuple[str, str]], body: Any, area: str) -> Any:
        assert self.session is not None
        attempts = 1 + (self.retries if method in _IDEMPOTENT else 0)
        for attempt in range(attempts):
            try:
                return await self.session.request(
                    method,
                    URL(url, encoded=True),  # the path exactly as the gateway checked it
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    compress=None,
                )
            except Exception as exc:
                self._raise_if_too_large(body, exc)
                dropped = isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError)
                if dropped and attempt + 1 < attempts:
                    await asyncio.sleep(0.05)
                    continue
                if dropped:
                    raise ServiceUnavailable(
                        f"The {area} service is not reachable; try again shortly",
                        zh=f"{area} 服务无法连接，请稍后重试",
                        service=area,
                    ) from exc
                if isinstance(exc, TimeoutError):  # aiohttp's ServerTimeoutError included
                    raise GatewayTimeout(
                        f"The {area} service did not answer within {self.timeout.sock_read:g}s",
                        zh=f"{area} 服务未在 {self.timeout.sock_read:g} 秒内作答",
                        service=area,
                    ) from exc
                if isinstance(exc, aiohttp.ClientError):
                    raise self._failed(area, exc) from exc
                raise
        raise AssertionError("unreachable")

    def _raise_if_too_large(self, body: Any, exc: Exception) -> None:
        # The client library may wrap what the body stream raised in an error of its own.
        if (isinstance(body, _LimitedBody) and body.exceeded) or isinstance(exc, _TooLarge):
            limit = body.limit if isinstance(body, _LimitedBody) else self.max_body
            raise PayloadTooLarge(
                f"The body exceeds the limit of {limit} bytes",
                zh=f"请求体超过 {limit} 字节的上限",
                limit=limit,
            ) from None

    @staticmethod
    def _failed(area: str, exc: Exception) -> UpstreamError:
        # The exception names the upstream's host and port: log it, never answer with it.
        log.warning("upstream request failed", area=area, error=str(exc))
        return UpstreamError(f"The {area} service failed to answer", zh=f"{area} 服务未能作答", service=area)

    async def _respond(self, upstream: Any, area: str) -> Response:
        out_headers = self._response_headers(upstream.headers.items(), area)
        size = upstream.content_length
        if size is not None and size <= _BUFFER_LIMIT * 4:
            try:
                content = await upstream.read()
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise GatewayTimeout(
                    f"The {area} service stopped sending its answer",
                    zh=f"{area} 服务中途停止发送应答",
                    service=area,
                ) from exc
            finally:
                upstream.release()
            return _buffered(content, upstream.status, out_headers)
        streaming = StreamingResponse(
            upstream.content.iter_any(),
            status_code=upstream.status,
            background=BackgroundTask(upstream.release),
        )
        streaming.raw_headers = out_headers
        return streaming


def _buffered(content: bytes, status: int, headers: list[tuple[bytes, bytes]]) -> Response:
    response = Response(content, status_code=status)
    response.raw_headers = [*headers, (b"content-length", str(len(content)).encode())]
    return response


class HttpxForwarder(Forwarder):
    """The same forwarder over httpx's pool: kept so the benchmark can show why aiohttp is used."""

    client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        t = self.timeout
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(t.sock_read, connect=t.connect),
            limits=httpx.Limits(
                max_connections=self.max_connections, max_keepalive_connections=self.max_connections
            ),
            follow_redirects=False,
        )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def _send(self, method: str, url: str, headers: list[tuple[str, str]], body: Any, area: str) -> Any:
        assert self.client is not None
        attempts = 1 + (self.retries if method in _IDEMPOTENT else 0)
        for attempt in range(attempts):
            try:
                req = self.client.build_request(method, url, headers=headers, content=body)
                return await self.client.send(req, stream=True)
            except Exception as exc:
                self._raise_if_too_large(body, exc)
                dropped = isinstance(exc, httpx.ConnectError | httpx.RemoteProtocolError)
                if dropped and attempt + 1 < attempts:
                    await asyncio.sleep(0.05)
                    continue
                if dropped:
                    raise ServiceUnavailable(
                        f"The {area} service is not reachable; try again shortly",
                        zh=f"{area} 服务无法连接，请稍后重试",
                        service=area,
                    ) from exc
                if isinstance(exc, httpx.TimeoutException):
                    raise GatewayTimeout(
                        f"The {area} service did not answer in time",
                        zh=f"{area} 服务未及时作答",
                        service=area,
                    ) from exc
                if isinstance(exc, httpx.HTTPError):
                    raise self._failed(area, exc) from exc
                raise
        raise AssertionError("unreachable")

    async def _respond(self, upstream: Any, area: str) -> Response:
        out_headers = self._response_headers(
            ((k.decode("latin-1"), v.decode("latin-1")) for k, v in upstream.headers.raw), area
        )
        length = upstream.headers.get("content-length")
        if length is not None and int(length) <= _BUFFER_LIMIT * 4:
            try:
                content = await upstream.aread()
            finally:
                await upstream.aclose()
            return _buffered(content, upstream.status_code, out_headers)
        streaming = StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
        )
        streaming.raw_headers = out_headers
        return streaming
