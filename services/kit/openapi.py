"""The API conventions every service's OpenAPI document follows (docs/api-guide.md).

- Every operation declares the errors it can return, each a ``Problem``: 400, 401, 403, 422, 429 and
  503 everywhere (the gateway answers 429 and 503 for any route), 404 on every path with an id, and
  what a route adds itself with ``responses=errors(409, 412, 428)``.
- An operation that declares 428 requires ``If-Match``; the document marks the header required.
- Unknown query parameters are refused (422 naming them), like unknown body fields
  (:class:`services.kit.text.InputModel` forbids extras).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.kit.errors import UnprocessableEntity, field_error

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (not JSON, a path that is not accepted)",
    401: "No or invalid credentials",
    403: "The caller's role or scope does not allow this",
    404: "No such object, or it lies outside the caller's scope",
    405: "Method not allowed on this path (the `Allow` header lists those that are)",
    409: "The object's state does not allow this (the problem says which state it is in)",
    412: "If-Match does not match the object's current ETag (`current_etag` gives it)",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid fields or parameters (each listed in `errors`)",
    428: "If-Match is required: send the ETag you last read",
    429: "Too many requests (`Retry-After` says when to try again)",
    502: "A service this one depends on failed",
    503: "Not ready, or a service this one depends on is unavailable",
    504: "A service this one depends on timed out",
}

ALWAYS = (400, 401, 403, 422, 429, 503)


def error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the problem statuses it returns beyond the ones every route has."""
    return {status: error_response(status) for status in statuses}


# An id or key echoed back is the value as the caller sent it: an integer id, or a string key (or a
# malformed id, e.g. with leading zeros, echoed as sent).
ID_OR_KEY = "integer|string"


def _members(*groups: tuple[str, ...]) -> dict[str, Any]:
    """Extension members that share a type and a meaning: (type, description, name, name, ...)."""
    return {
        name: {"type": kind.split("|") if "|" in kind else kind, "description": f"When present: {meaning}"}
        for kind, meaning, *names in groups
        for name in names
    }


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": (
        "RFC 9457 problem details. `type` names the problem (the gateway describes each under "
        "/problems/{slug}); the members after `request_id` appear on the problems that carry them."
    ),
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "URI reference naming the problem type",
            "example": "/problems/not-found",
        },
        "title": {"type": "string", "description": "Short summary of the problem type"},
        "status": {"type": "integer", "description": "The HTTP status code"},
        "detail": {"type": "string", "description": "What went wrong in this occurrence"},
        "instance": {"type": "string", "description": "The path of the request that failed"},
        "request_id": {"type": "string", "description": "The request id to quote when reporting the problem"},
        "errors": {
            "type": "array",
            "description": "On 422: every invalid field or parameter",
            "items": {
                "type": "object",
                "title": "FieldError",
                "description": "One invalid field or parameter",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "description": "Where: `body`, `query`, `path` or `header`, then the field path",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string", "description": "What is wrong with it"},
                    "type": {"type": "string", "description": "Machine-readable error kind"},
                },
            },
        },
        "current_etag": {"type": "string", "description": "On 412 and 428: the object's current ETag"},
        "required_roles": {
            "type": "array",
            "items": {"type": "string"},
            "description": "On 403: the roles that would be allowed",
        },
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "On 409: the states or values that would have been accepted",
        },
        "retry_after": {"type": "integer", "description": "On 429 and 503: seconds to wait before retrying"},
        **_members(
            (
                ID_OR_KEY,
                "the id of the object the problem is about (404, 409)",
                "problem_id",
                "sheet_id",
                "rubric_id",
                "site_id",
                "inspector_id",
                "team_id",
                "notification_id",
                "subscription_id",
                "delivery_id",
                "number",
                "max_extensions",
                "limit",
                "line",
            ),
            (
                ID_OR_KEY,
                "the key of the object or value the problem is about",
                "code",
                "site_code",
                "round_code",
                "user_id",
                "message_id",
                "event_id",
                "event_type",
                "key_id",
                "unit",
                "scope",
                "action",
                "format",
                "frame_hash",
                "commitment",
            ),
            (
                "string",
                "the state the object is in (409)",
                "problem_status",
                "sheet_status",
                "round_status",
                "extension_status",
            ),
            (
                "string",
                "the peer service that failed or is unavailable (502, 503, 504)",
                "peer",
                "upstream",
                "service",
            ),
        ),
        "upstream_status": {"type": "integer", "description": "On 502: the status the peer service answered"},
        "roles": {"type": "array", "items": {"type": "string"}, "description": "On 403: the caller's roles"},
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "description": "On 409 teams-infeasible: why no team assignment exists",
        },
        "members": {
            "type": "array",
            "items": {"type": "string"},
            "description": "On 409 recusal-violation: the members who must recuse themselves",
        },
        "report": {
            "type": "object",
            "description": "On 422 import-rejected: the import's report (its counts, and each bad row in `errors`)",
            "properties": {
                "total_rows": {"type": "integer", "description": "Rows read"},
                "rejected": {"type": "integer", "description": "Rows refused"},
                "applied": {"type": "boolean", "description": "Whether anything was written (false here)"},
            },
            "additionalProperties": True,
        },
        "template": {
            "type": "object",
            "description": "On 422 template-error: the template that failed",
            "properties": {
                "event_type": {"type": "string", "description": "The event type it renders"},
                "channel": {"type": "string", "description": "The channel it renders for"},
                "version": {"type": "integer", "description": "The template version"},
            },
        },
    },
    "additionalProperties": True,
}


def finalize(schema: dict[str, Any]) -> dict[str, Any]:
    """Apply the conventions to a generated document (in place) and return it."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            if not isinstance(op, dict) or method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = op.setdefault("responses", {})
            wanted = set(ALWAYS)
            if "{" in path:
                wanted.add(404)
            for status in sorted(wanted | {int(s) for s in responses if s.isdigit() and int(s) >= 400}):
                responses[str(status)] = error_response(status)
            if "428" in responses:
                _require_if_match(op)
    schemas = schema["components"]["schemas"]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return schema


def _require_if_match(op: dict[str, Any]) -> None:
    params = op.setdefault("parameters", [])
    for p in params:
        if p.get("in") == "header" and p.get("name", "").lower() == "if-match":
            p["required"] = True
            p["name"] = "If-Match"
            p.setdefault("description", "The ETag last read; the change applies only if it still matches")
            p["schema"] = {"type": "string"}
            return
    params.append(
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "The ETag last read; the change applies only if it still matches",
            "schema": {"type": "string"},
        }
    )


# Query parameters the gateway consumes itself and strips before forwarding are never seen here.
_ALLOWED_EVERYWHERE: frozenset[str] = frozenset()


def _allowed_query(route: APIRoute) -> frozenset[str]:
    # Cached on the route itself (routes compare by value, so they cannot key a dict).
    cached: frozenset[str] | None = getattr(route, "_kit_query_names", None)
    if cached is None:
        cached = frozenset(_query_names(route.dependant)) | _ALLOWED_EVERYWHERE
        setattr(route, "_kit_query_names", cached)  # noqa: B010 - an attribute the class does not declare
    return cached


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """A route dependency: a query parameter the operation does not declare is a 422 naming it."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    unknown = sorted(set(request.query_params.keys()) - _allowed_query(route))
    if unknown:
        raise UnprocessableEntity(
            f"Unknown query parameter(s): {', '.join(unknown)}",
            zh=f"未知的查询参数：{', '.join(unknown)}",
            errors=[
                field_error(
                    ["query", name], "unknown query parameter", "extra_forbidden", zh="未知的查询参数"
                )
                for name in unknown
            ],
        )
