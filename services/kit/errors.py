"""RFC 9457 problem details: one error base class, one renderer, handlers for every framework error."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from services.kit import i18n
from services.kit.context import request_id_var

PROBLEM_MEDIA_TYPE = "application/problem+json"
# `type` is a URI reference; the gateway serves a description of each slug under this path.
PROBLEM_BASE = "/problems/"

log = logging.getLogger("kit.errors")


class ProblemError(Exception):
    """Base of every error a service raises on purpose. Subclasses fix `status`, `slug` and `title`.

    `detail` is English; `zh` is the same detail in Chinese, answered instead when the caller's
    ``Accept-Language`` prefers Chinese (the title comes from :data:`services.kit.i18n.TITLES_ZH`).
    """

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        zh: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.detail_zh = zh
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class UnprocessableEntity(ProblemError):
    """A payload that is well-formed but breaks a rule about a field; name the field in `errors`."""

    status, slug, title = 422, "validation-error", "Invalid request"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class GatewayTimeout(ProblemError):
    status, slug, title = 504, "upstream-timeout", "Upstream timed out"


class UpstreamError(ProblemError):
    status, slug, title = 502, "bad-gateway", "Upstream failed"


def field_error(
    loc: list[str | int] | tuple[str | int, ...],
    msg: str,
    type_: str = "value_error",
    *,
    zh: str | None = None,
) -> dict[str, Any]:
    """One entry of a 422 `errors` list, in the same shape FastAPI's own validation errors use.

    `zh` is `msg` in Chinese (answered when the caller prefers Chinese); without it the Chinese
    answer says 「取值无效：」 and the English message.
    """
    entry: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": type_}
    if zh:
        entry[_MSG_ZH] = zh
    return entry


# Private keys of an `errors` entry: read when answering in Chinese, never sent.
_MSG_ZH = "msg_zh"
_CTX = "ctx"


def _errors_for(errors: Any, zh: bool) -> Any:
    if not isinstance(errors, list):
        return errors
    out = []
    for e in errors:
        if not isinstance(e, dict):
            out.append(e)
            continue
        shown = {k: v for k, v in e.items() if k not in (_MSG_ZH, _CTX)}
        if zh and "msg" in e:
            shown["msg"] = i18n.field_msg_zh(e)
        out.append(shown)
    return out


def _wants_zh(request: Request | None) -> bool:
    return request is not None and i18n.prefers_zh(request.headers.get("accept-language"))


def problem_response(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    detail_zh: str | None = None,
    **extensions: Any,
) -> Response:
    """Render one problem document, in Chinese when the request's ``Accept-Language`` prefers it.

    In Chinese the title comes from the catalogue by slug and the detail is `detail_zh`; a raise
    that gave no Chinese detail answers the Chinese title with the English detail in brackets.
    """
    zh = _wants_zh(request)
    if zh:
        zh_title = i18n.title_zh(slug, title)
        if detail_zh:
            detail = detail_zh
        elif detail and detail != title:
            detail = f"{zh_title}（{detail}）"
        else:
            detail = zh_title
        title = zh_title
    if "errors" in extensions:
        extensions["errors"] = _errors_for(extensions["errors"], zh)
    headers = dict(headers or {})
    if request is not None:
        headers["Content-Language"] = i18n.ZH if zh else i18n.EN
        vary = headers.get("Vary")
        headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        # Behind the gateway the public path is /api/v1/<area> + the service's own path.
        body["instance"] = request.headers.get("x-forwarded-prefix", "") + request.url.path
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    body.update(extensions)
    return Response(
        orjson.dumps(body, default=str),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


_JSON_TYPES = ("application/json",)
# Bodies FastAPI parses itself (file uploads, forms): their field errors are 422, not 415.
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_json(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base in _JSON_TYPES or base.endswith("+json")


def _is_form(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in _FORM_TYPES


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        detail_zh=exc.detail_zh,
        request=request,
        headers=exc.headers,
        **exc.extensions,
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
            _CTX: e.get("ctx") or {},
        }
        for e in exc.errors()
    ]
    body_errors = [e for e in errors if e["loc"][:1] == ["body"]]
    content_type = request.headers.get("content-type", "")
    if (
        body_errors
        and content_type
        and not _is_json(content_type)
        and not _is_form(content_type)
        and request.method in {"POST", "PUT", "PATCH"}
    ):
        # A JSON body was expected and something else arrived.
        return problem_response(
            status=415,
            slug="unsupported-media-type",
            title="Unsupported media type",
            detail=f"Expected application/json, got {content_type.split(';')[0]}",
            detail_zh=f"请求体应为 application/json，收到的是 {content_type.split(';')[0]}",
            request=request,
        )
    if any(e["type"] == "json_invalid" for e in errors):
        bad = next(e for e in errors if e["type"] == "json_invalid")
        return problem_response(
            status=400,
            slug="malformed-json",
            title="Malformed JSON",
            detail=f"The request body is not valid JSON: {bad['msg']}",
            detail_zh=f"请求体不是有效的 JSON：{bad['msg']}",
            request=request,
        )
    names = i18n.field_names(errors)
    return problem_response(
        status=422,
        slug="validation-error",
        title="Invalid request",
        detail=f"{len(errors)} invalid field(s): {names}",
        detail_zh=f"{len(errors)} 个字段无效：{names}",
        request=request,
        errors=errors,
    )


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    detail_zh = None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}"
        detail_zh = f"没有与 {request.method} {request.url.path} 对应的接口"
    if exc.status_code == 405:
        detail = f"Method {request.method} is not allowed on {request.url.path}"
        detail_zh = f"{request.url.path} 不支持 {request.method} 方法"
    return problem_response(
        status=exc.status_code,
        slug=slug,
        title=title,
        detail=detail,
        detail_zh=detail_zh,
        request=request,
        headers=dict(exc.headers or {}),
    )


async def _on_too_deep(request: Request, exc: Exception) -> Response:
    # json.loads recurses once per nesting level: a body nested thousands deep exhausts the stack
    # while FastAPI parses it, before any model sees it. That is the client's malformed input.
    return problem_response(
        status=400,
        slug="malformed-json",
        title="Malformed JSON",
        detail="The request body nests too deeply to be parsed",
        detail_zh="请求体嵌套过深，无法解析",
        request=request,
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        status=500,
        slug="internal-error",
        title="Internal error",
        detail="An unexpected error occurred; quote the request id when reporting it.",
        detail_zh="发生了意外错误；反馈问题时请提供请求编号（request_id）。",
        request=request,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can produce as problem+json."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RecursionError, _on_too_deep)
    app.add_exception_handler(Exception, _on_unexpected)
