"""The API's documentation pages (Swagger UI at /docs, ReDoc at /redoc), served entirely by the gateway.

Government intranets have no internet: FastAPI's default pages load Swagger UI and ReDoc from a CDN
and stay blank there. The gateway serves vendored, licensed copies from ``gateway/static`` (see its
README.md for versions, sources and the one change made), starts them with scripts of its own (no
inline script), and sends a Content-Security-Policy that lets the browser load nothing from another
host even if a bundle tried.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/docs/static"

# Everything from the gateway itself. Inline styles are allowed because both UIs set styles from
# script (ReDoc through styled-components <style> tags); ReDoc's search runs in a blob: worker.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

_SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — 接口文档 (Swagger UI)</title>
<link rel="icon" type="image/png" href="{static}/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="{static}/swagger-ui/swagger-ui.css">
</head>
<body>
<noscript>接口文档需要启用 JavaScript。OpenAPI 文档见 <a href="{openapi_url}">{openapi_url}</a>。</noscript>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{static}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{static}/swagger-init.js"></script>
</body>
</html>
"""

_REDOC_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — 接口文档 (ReDoc)</title>
<link rel="icon" type="image/png" href="{static}/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="{static}/redoc.css">
</head>
<body>
<noscript>接口文档需要启用 JavaScript。OpenAPI 文档见 <a href="{openapi_url}">{openapi_url}</a>。</noscript>
<div id="redoc" data-openapi-url="{openapi_url}"></div>
<script src="{static}/redoc/redoc.standalone.js"></script>
<script src="{static}/redoc-init.js"></script>
</body>
</html>
"""


def _page(template: str, *, title: str, openapi_url: str) -> HTMLResponse:
    html = template.format(title=title, openapi_url=openapi_url, static=STATIC_PATH)
    return HTMLResponse(
        html,
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
        },
    )


def docs_router(*, title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    """/docs (Swagger UI) and /redoc (ReDoc) over the merged OpenAPI document, from local assets only."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return _page(_SWAGGER_PAGE, title=title, openapi_url=openapi_url)

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return _page(_REDOC_PAGE, title=title, openapi_url=openapi_url)

    return router


def static_files() -> StaticFiles:
    """The vendored assets, mounted at :data:`STATIC_PATH`."""
    return StaticFiles(directory=STATIC_DIR)
