"""What the sync and async clients share: headers, the Idempotency-Key rule, query cleaning, pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from dangjian import __version__

__all__ = ["Params", "base_headers", "call_headers", "clean", "page_done"]

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# Repeating these leaves the server as one call would (RFC 9110 §9.2.2).
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

Params = Mapping[str, Any]


def clean(params: Params | None) -> dict[str, Any]:
    """Query parameters without the None values: a filter left at None is not sent at all."""
    return {k: v for k, v in (params or {}).items() if v is not None}


def base_headers(
    headers: Mapping[str, str] | None, api_key: str | None, token: str | None, accept_language: str | None
) -> dict[str, str]:
    """Every request's headers: the credentials (an API key or a bearer token), language, User-Agent."""
    if api_key and token:
        raise ValueError("Give api_key or token, not both")
    base = dict(headers or {})
    base.setdefault("User-Agent", f"dangjian-client/{__version__}")
    if api_key:
        base["X-API-Key"] = api_key
    if token:
        base["Authorization"] = f"Bearer {token}"
    if accept_language:
        base["Accept-Language"] = accept_language
    return base


def call_headers(
    method: str, headers: Mapping[str, str] | None, idempotent: bool, new_key: Callable[[], str]
) -> tuple[dict[str, str], bool]:
    """The call's headers (a write gets its Idempotency-Key here, once) and whether it is safe to repeat."""
    hdrs = dict(headers or {})
    if method not in _READS and not any(k.lower() == "idempotency-key" for k in hdrs):
        hdrs["Idempotency-Key"] = new_key()
    return hdrs, idempotent or method in _IDEMPOTENT_METHODS


def page_done(page: Mapping[str, Any], offset: int) -> tuple[list[dict[str, Any]], bool]:
    """A page's items, and whether it is the last (empty, or reaching `total`)."""
    items = cast(list[dict[str, Any]], page["items"])
    return items, not items or offset + len(items) >= int(page["total"])
