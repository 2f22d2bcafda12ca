"""Human-readable descriptions of the problem `type`s the gateway itself produces."""

from __future__ import annotations

from fastapi import APIRouter

from services.kit.errors import NotFound

PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "bad-request": (400, "Bad request", "The request cannot be understood as sent."),
    "malformed-json": (
        400,
        "Malformed JSON",
        "The body is not valid JSON; `detail` says where parsing failed.",
    ),
    "unauthorized": (
        401,
        "Authentication required",
        "No credentials, or a token/key that is forged, expired or revoked.",
    ),
    "forbidden": (403, "Not allowed", "Your role or org-unit scope does not allow this action."),
    "not-found": (404, "Not found", "No route or resource matches."),
    "method-not-allowed": (405, "Method not allowed", "The route exists but not with this HTTP method."),
    "conflict": (
        409,
        "Conflict",
        "The request conflicts with the current state (e.g. an idempotency key reused with another body).",
    ),
    "precondition-failed": (
        412,
        "Precondition failed",
        "The If-Match ETag is stale: re-read the resource and retry.",
    ),
    "payload-too-large": (413, "Request body too large", "The body exceeds the gateway's limit."),
    "unsupported-media-type": (415, "Unsupported media type", "Send `Content-Type: application/json`."),
    "validation-error": (
        422,
        "Invalid request",
        "`errors` lists each invalid field with its location and reason.",
    ),
    "rate-limited": (429, "Too many requests", "Wait `Retry-After` seconds."),
    "internal-error": (500, "Internal error", "Unexpected; quote `request_id` when reporting it."),
    "bad-gateway": (502, "Upstream failed", "A service returned something the gateway could not relay."),
    "service-unavailable": (503, "Service unavailable", "The service behind this route is not reachable."),
    "upstream-timeout": (
        504,
        "Upstream timed out",
        "The service did not answer in time; GETs are safe to retry.",
    ),
}


def problems_router() -> APIRouter:
    # Not in the OpenAPI document: the `type` of every problem links here for people to read.
    router = APIRouter(tags=["gateway.problems"])

    @router.get("/problems/{slug}", include_in_schema=False)
    async def describe_problem(slug: str) -> dict[str, object]:
        """Describe one problem type."""
        if slug not in PROBLEM_TYPES:
            raise NotFound(
                f"No problem type {slug!r} is described here; services document their own in docs/",
                zh=f"此处没有问题类型 {slug!r} 的说明；各服务的问题类型见 docs/",
            )
        status, title, description = PROBLEM_TYPES[slug]
        return {"type": f"/problems/{slug}", "status": status, "title": title, "description": description}

    return router
