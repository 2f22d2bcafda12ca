"""The synchronous client: one httpx.Client, authentication, retries, pagination, typed errors."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import httpx

from dangjian._common import Params, base_headers, call_headers, clean, page_done
from dangjian._retry import RetryPolicy, delay_after_error, delay_after_response
from dangjian.errors import TransportFailed, error_for
from dangjian.resources import ApiKeys, Events, Notifications, Problems, Scoring, Sites

__all__ = ["Client"]


class Client:
    """A client of the gateway (`https://<host>`; paths are `/api/v1/<area>/...`).

    Authenticate with `api_key` (sent as `X-API-Key`) or `token` (a JWT, sent as a bearer token).
    `retry` says how failures are retried (see `RetryPolicy`); `sleep` is what waits between
    tries (tests inject one that records instead). `transport` replaces the network (tests:
    `httpx.MockTransport`). `accept_language="zh-CN"` asks for problem titles and details in
    Chinese.
    """

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
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        idempotency_key_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        base = base_headers(headers, api_key, token, accept_language)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._new_key = idempotency_key_factory
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=base, timeout=timeout, transport=transport
        )
        self.sites = Sites(self)
        self.scoring = Scoring(self)
        self.problems = Problems(self)
        self.events = Events(self)
        self.api_keys = ApiKeys(self)
        self.notifications = Notifications(self)

    # ------------------------------------------------------------------------------- lifecycle
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    # --------------------------------------------------------------------------------- requests
    def send(
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
        """Send one logical call, retried as `self.retry` allows; raise `ApiError` on an error answer.

        Every write (POST, PUT, PATCH, DELETE) carries an `Idempotency-Key`, made once here and
        sent unchanged on every retry (give your own in `headers` to span several calls). Set
        `idempotent=True` for a write that is safe to repeat (the route honours the key, or is an
        upsert): it is then also retried after a 502/504 or a dropped connection.
        With `stream=True` the body is not read: close the response (or use `stream()`).
        """
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
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = delay_after_error(self.retry, attempt, exc, safe=safe)
                if delay is None:
                    raise TransportFailed(
                        f"{method} {request.url.path}: {type(exc).__name__}: {exc}", attempts=attempt
                    ) from exc
                self._sleep(delay)
                continue
            if response.status_code < 400:
                return response
            delay = delay_after_response(self.retry, attempt, response, safe=safe)
            if delay is not None:
                response.close()
                self._sleep(delay)
                continue
            try:
                response.read()
                raise error_for(response)
            finally:
                response.close()

    @contextlib.contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """`send(..., stream=True)` as a context manager that closes the response."""
        response = self.send(method, path, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    def get(self, path: str, params: Params | None = None) -> Any:
        """GET a JSON answer."""
        return self.send("GET", path, params=params).json()

    def post(
        self, path: str, json: Any = None, *, params: Params | None = None, idempotent: bool = False
    ) -> Any:
        """POST JSON, return the JSON answer (None for an empty one)."""
        response = self.send("POST", path, params=params, json=json, idempotent=idempotent)
        return response.json() if response.content else None

    def delete(self, path: str) -> Any:
        response = self.send("DELETE", path)
        return response.json() if response.content else None

    def paginate(
        self, path: str, params: Params | None = None, *, page_size: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, page after page (`limit`/`offset`, until `total`).

        Pages are fetched as the iteration goes, so a script may stop early. Items added while
        iterating may shift the pages: sort by a stable field (the lists break ties by id).
        """
        if not 1 <= page_size <= 500:
            raise ValueError("page_size must be 1-500")
        offset = 0
        while True:
            page = cast(
                dict[str, Any], self.get(path, {**clean(params), "limit": page_size, "offset": offset})
            )
            items, done = page_done(page, offset)
            yield from items
            offset += len(items)
            if done:
                return

    def whoami(self) -> dict[str, Any]:
        """Who the gateway takes you for (sub, roles, scope, kind)."""
        return cast(dict[str, Any], self.get("/api/v1/auth/whoami"))
