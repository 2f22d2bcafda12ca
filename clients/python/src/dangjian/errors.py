"""Errors: every problem+json answer (RFC 9457) becomes a typed exception.

`ApiError` carries the problem's members; its subclasses say which kind of failure it is, so a
script can `except NotFound:` without looking at numbers. Anything that never reached an answer
(connection refused, timeouts after every retry) is `TransportFailed`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "DangjianError",
    "FieldError",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "TransportFailed",
    "Unauthorized",
    "ValidationFailed",
    "error_for",
]


class DangjianError(Exception):
    """Base of every error this package raises."""


class TransportFailed(DangjianError):
    """No answer from the server (connection refused or dropped, timeout), after every retry."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class FieldError:
    """One invalid field or parameter of a 422: where (`loc`), what (`msg`), which rule (`type`)."""

    __slots__ = ("loc", "msg", "raw", "type")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        loc = raw.get("loc")
        self.loc: tuple[str | int, ...] = tuple(loc) if isinstance(loc, list) else ()
        self.msg: str = str(raw.get("msg") or raw.get("reason") or "")
        self.type: str = str(raw.get("type") or raw.get("problem") or "")

    @property
    def field(self) -> str:
        """The location as one dotted string (`body.name`, `file.4.parent_code`)."""
        return ".".join(str(p) for p in self.loc)

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.msg!r})"


class ApiError(DangjianError):
    """An error answer from the API, with the members of its problem+json body."""

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        self.response = response
        self.problem = problem
        self.status: int = response.status_code
        self.type: str = str(problem.get("type") or "about:blank")
        self.title: str = str(problem.get("title") or response.reason_phrase or "HTTP error")
        detail = problem.get("detail")
        self.detail: str | None = str(detail) if detail is not None else None
        raw_errors = problem.get("errors")
        self.errors: list[FieldError] = (
            [FieldError(e) for e in raw_errors if isinstance(e, dict)] if isinstance(raw_errors, list) else []
        )
        request_id = problem.get("request_id") or response.headers.get("x-request-id")
        self.request_id: str | None = str(request_id) if request_id else None
        super().__init__(self._message())

    @property
    def slug(self) -> str:
        """The last segment of `type` (`not-found`, `import-rejected`)."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    def _message(self) -> str:
        text = f"{self.status} {self.title}"
        if self.detail:
            text += f": {self.detail}"
        return text


class BadRequest(ApiError):
    """400: a malformed request (bad JSON, a bad path)."""


class Unauthorized(ApiError):
    """401: no, forged, expired or revoked credentials."""


class Forbidden(ApiError):
    """403: the role or scope does not allow it; `required_roles` lists what would."""

    @property
    def required_roles(self) -> list[str]:
        roles = self.problem.get("required_roles")
        return [str(r) for r in roles] if isinstance(roles, list) else []


class NotFound(ApiError):
    """404: no such resource (or one outside your scope, answered the same)."""


class Conflict(ApiError):
    """409: a business conflict, or an Idempotency-Key reused with another body."""


class PreconditionFailed(ApiError):
    """412 or 428: a stale or missing If-Match; `current_etag` is the object's ETag now."""

    @property
    def current_etag(self) -> str | None:
        etag = self.problem.get("current_etag")
        return str(etag) if etag is not None else None


class ValidationFailed(ApiError):
    """422: invalid fields, each in `errors` (`loc`, `msg`, `type`)."""

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """Messages by dotted location (`body.name` -> ["Field required"])."""
        out: dict[str, list[str]] = {}
        for e in self.errors:
            out.setdefault(e.field, []).append(e.msg)
        return out


class RateLimited(ApiError):
    """429: too many requests; wait `retry_after` seconds."""

    @property
    def retry_after(self) -> float | None:
        from dangjian._retry import parse_retry_after

        value = parse_retry_after(self.response.headers.get("retry-after"))
        if value is None and isinstance(self.problem.get("retry_after"), int | float):
            value = float(self.problem["retry_after"])
        return value


class ServerError(ApiError):
    """5xx: the gateway or a service failed (502 bad gateway, 503 unavailable, 504 timeout)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: ValidationFailed,
    428: PreconditionFailed,
    429: RateLimited,
}


def _problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    text = response.text.strip()[:500] if response.content else ""
    return {"title": response.reason_phrase, "status": response.status_code, "detail": text or None}


def error_for(response: httpx.Response) -> ApiError:
    """The typed exception for an error answer (its body already read)."""
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else ApiError
    return cls(response, _problem_of(response))
