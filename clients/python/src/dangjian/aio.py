"""The asynchronous client, for services and notebooks that already run an event loop.

It has the sync `Client`'s behaviour — authentication, retries with one `Idempotency-Key` per
call, typed errors, pagination — on `httpx.AsyncClient`, with the generic calls and the event
stream; the per-area helpers (`client.sites` …) are the sync client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, cast

import httpx

from dangjian._common import Params, base_headers, call_headers, clean, page_done
from dangjian._retry import RetryPolicy, delay_after_error, delay_after_response
from dangjian.errors import TransportFailed, error_for
from dangjian.sse import SSEDecoder
from dangjian.types import InboxMessage

__all__ = ["AsyncClient"]

STREAM_PATH = "/api/v1/notify/inbox/stream"


class AsyncClient:
    """`Client`'s twin on asyncio: `async with AsyncClient(url, api_key=...) as api: await api.get(...)`."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        accept_language: str | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        idempotency_key_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._new_key = idempotency_key_factory
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=base_headers(headers, api_key, token, accept_language),
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = False,
        stream: bool = False,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        """As `Client.send`: one logical call, retried under one Idempotency-Key, errors typed."""
        method = method.upper()
        hdrs, safe = call_headers(method, headers, idempotent, self._new_key)
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        request = self._http.build_request(
            method, path, params=clean(params), json=json, content=content, headers=hdrs, **extra
        )
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = delay_after_error(self.retry, attempt, exc, safe=safe)
                if delay is None:
                    raise TransportFailed(
                        f"{method} {request.url.path}: {type(exc).__name__}: {exc}", attempts=attempt
                    ) from exc
                await self._sleep(delay)
                continue
            if response.status_code < 400:
                return response
            delay = delay_after_response(self.retry, attempt, response, safe=safe)
            if delay is not None:
                await response.aclose()
                await self._sleep(delay)
                continue
            try:
                await response.aread()
                raise error_for(response)
            finally:
                await response.aclose()

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        response = await self.send(method, path, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    async def get(self, path: str, params: Params | None = None) -> Any:
        return (await self.send("GET", path, params=params)).json()

    async def post(
        self, path: str, json: Any = None, *, params: Params | None = None, idempotent: bool = False
    ) -> Any:
        response = await self.send("POST", path, params=params, json=json, idempotent=idempotent)
        return response.json() if response.content else None

    async def delete(self, path: str) -> Any:
        response = await self.send("DELETE", path)
        return response.json() if response.content else None

    async def paginate(
        self, path: str, params: Params | None = None, *, page_size: int = 500
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every item of a paged list: `async for item in api.paginate(...)`."""
        if not 1 <= page_size <= 500:
            raise ValueError("page_size must be 1-500")
        offset = 0
        while True:
            page = await self.get(path, {**clean(params), "limit": page_size, "offset": offset})
            items, done = page_done(cast(dict[str, Any], page), offset)
            for item in items:
                yield item
            offset += len(items)
            if done:
                return

    async def whoami(self) -> dict[str, Any]:
        return cast(dict[str, Any], await self.get("/api/v1/auth/whoami"))

    async def follow_events(
        self,
        *,
        types: Iterable[str] | None = None,
        last_event_id: str | None = None,
        reconnect: bool = True,
        idle_timeout: float = 60.0,
    ) -> AsyncGenerator[InboxMessage, None]:
        """As `Client.events.follow`: your new messages as they arrive, resuming with Last-Event-ID."""
        patterns = list(types or [])
        last = last_event_id
        failures = 0
        timeout = httpx.Timeout(30.0, read=idle_timeout)
        while True:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last is not None:
                headers["Last-Event-ID"] = last
            try:
                async with self.stream("GET", STREAM_PATH, headers=headers, timeout=timeout) as response:
                    decoder = SSEDecoder()
                    async for line in response.aiter_lines():
                        event = decoder.feed(line)
                        if event is None:
                            continue
                        failures = 0
                        if event.id is not None:
                            last = event.id
                        if event.event != "message" or not event.data:
                            continue
                        message = cast(InboxMessage, json.loads(event.data))
                        if not patterns or any(
                            fnmatch.fnmatchcase(message.get("event_type", ""), p) for p in patterns
                        ):
                            yield message
            except (httpx.TransportError, TransportFailed):
                if not reconnect:
                    raise
            if not reconnect:
                return
            failures += 1
            await self._sleep(self.retry.delay(min(failures, 10)) or 0.0)
