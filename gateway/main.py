"""Assemble the gateway: authentication, authorisation, the proxy, the merged OpenAPI document."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response
from starlette.routing import Match

from gateway import __version__
from gateway.auth import Authenticator
from gateway.config import Settings
from gateway.docs import STATIC_PATH, docs_router, static_files
from gateway.endpoints import OPENAPI_TAGS, client_address, identify
from gateway.endpoints import router as own_router
from gateway.problems import problems_router
from gateway.proxy import Forwarder, HttpxForwarder
from gateway.ratelimit import FailedAuthLimiter, RateLimiter
from gateway.routes import MethodNotAllowed, ServiceCatalog, api_path, merge_openapi
from services.kit import i18n, orgunit
from services.kit.app import health_router, operation_id
from services.kit.auth import Principal, sign_principal
from services.kit.clock import Clock, OffsetClock, SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
    install_error_handlers,
)
from services.kit.http import make_service_client
from services.kit.logs import configure_logging, get_logger
from services.kit.middleware import RequestContextMiddleware
from services.kit.migrations import head_revision, upgrade_to_head
from services.kit.openapi import PROBLEM_SCHEMA

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# ASCII, so client generators derive an installable package name from it
# (`party-building-inspections-api-client`); the Chinese name leads the description.
TITLE = "Party-building Inspections API"
DESCRIPTION = (
    "基层党建专项督查 API. "
    "One API for grassroots Party-building inspections: sampling (抽样), scoring (评分), "
    "rectification (整改), notify (通知), reporting (报告) and evidence (佐证材料). Authenticate with a bearer JWT from the identity provider "
    "or an API key (`X-API-Key`). Every error is RFC 9457 `application/problem+json`."
)
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

log = get_logger("gateway")


class PrincipalSigner:
    """Signs the forwarded principal, reusing a token for half its life (signing is per-principal, not per-request)."""

    def __init__(self, secret: str, ttl: int) -> None:
        self.secret = secret
        self.ttl = ttl
        self.cache: dict[Principal, tuple[float, str]] = {}

    def token(self, principal: Principal) -> str:
        now = time.monotonic()
        hit = self.cache.get(principal)
        if hit is not None and hit[0] > now:
            return hit[1]
        token = sign_principal(principal, secret=self.secret, ttl_seconds=self.ttl)
        if len(self.cache) > 50_000:
            self.cache.clear()
        self.cache[principal] = (now + self.ttl / 2, token)
        return token


def build_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The gateway application."""
    settings = settings or Settings()
    orgunit.set_city_root(settings.city_root)
    clock = clock or (OffsetClock() if settings.clock_control else SystemClock())
    upstreams = settings.upstreams()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(process="gateway", level=settings.log_level, json=settings.log_json)
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.head_revision = head_revision(MIGRATIONS_DIR)
        if settings.auto_migrate:
            await upgrade_to_head(engine, MIGRATIONS_DIR)
        app.state.authenticator = Authenticator(settings, app.state.sessionmaker, clock)
        app.state.http = make_service_client(
            service="gateway", secret=settings.principal_secret.get_secret_value(), timeout=10.0
        )
        forwarder_cls = HttpxForwarder if settings.proxy_client == "httpx" else Forwarder
        forwarder = forwarder_cls(
            timeout=settings.upstream_timeout_seconds,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            retries=settings.idempotent_retries,
            max_body_bytes=settings.max_body_bytes,
            area_max_body_bytes=settings.area_max_body_bytes,
            max_connections=settings.upstream_max_connections,
            upstreams=upstreams,
        )
        await forwarder.start()
        app.state.forwarder = forwarder
        catalog: ServiceCatalog = app.state.catalog
        refresher = asyncio.create_task(_refresh_loop(app, catalog, settings.route_table_refresh_seconds))
        log.info("gateway started", port=settings.port, upstreams=upstreams)
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            await forwarder.close()
            await app.state.http.aclose()
            await engine.dispose()

    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id("gateway"),
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.limiter = RateLimiter(
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        enabled=settings.rate_limit_enabled,
    )
    app.state.auth_failures = FailedAuthLimiter(
        per_minute=settings.auth_failures_per_minute if settings.rate_limit_enabled else 0, clock=clock
    )
    app.state.catalog = ServiceCatalog(
        upstreams=upstreams,
        refresh_seconds=settings.route_table_refresh_seconds,
        fetch_timeout=settings.upstream_timeout_seconds,
    )
    app.state.signer = PrincipalSigner(
        settings.principal_secret.get_secret_value(), settings.principal_ttl_seconds
    )
    app.state.merged_openapi = None
    install_error_handlers(app)
    health = health_router()
    # The kit's /metrics is open (a service is reachable only inside the system); the gateway's is not.
    health.routes = [r for r in health.routes if getattr(r, "path", None) != "/metrics"]
    app.include_router(health)
    app.include_router(own_router)
    app.include_router(problems_router())

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> JSONResponse:
        return JSONResponse(await merged_openapi(request.app))

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        await _require_metrics_access(request)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(docs_router(title=TITLE))
    app.mount(STATIC_PATH, static_files(), name="docs-static")

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks(request: Request) -> JSONResponse:
        issuer = request.app.state.authenticator.dev_issuer
        if issuer is None:
            raise NotFound(
                "This gateway trusts an external identity provider; it publishes no keys",
                zh="本网关信任外部身份提供方，不发布密钥",
            )
        return JSONResponse(issuer.jwks())

    app.router.add_route("/api/v1/{area}/{path:path}", proxy, methods=PROXY_METHODS, include_in_schema=False)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "ETag", "Location", "Retry-After", "Content-Disposition"],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware, process="gateway", log_requests=settings.access_log)
    return app


async def _require_metrics_access(request: Request) -> None:
    """Prometheus with the metrics token, or an authenticated city-wide city_admin; else 401/403."""
    expected = request.app.state.settings.metrics_token
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if (
        expected is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), expected.get_secret_value().encode())
    ):
        return
    principal = await identify(request)
    if not (principal.has_role("city_admin") and principal.city_wide):
        raise Forbidden(
            "The gateway's metrics need the metrics token or a city-wide city_admin",
            zh="查看网关的监控指标需要监控令牌或全市范围的 city_admin",
            required_roles=["city_admin"],
        )


def _own_methods(request: Request) -> list[str]:
    """The methods the gateway's own routes answer on this request's path (none: not one of them)."""
    own = [r for r in request.app.router.routes if getattr(r, "endpoint", None) is not proxy]
    allowed = []
    for method in PROXY_METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in own):
            allowed.append(method)
    return sorted(allowed)


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1")
    return quote(request.scope["path"], safe="/:@!$&'()*+,;=-._~")


async def proxy(request: Request) -> Response:
    """Authenticate, authorise and forward /api/v1/<area>/<path> to the service.

    Only what the service publishes in its OpenAPI document is forwarded (its /metrics, /docs,
    /openapi.json, health probes and `x-internal` intake routes are not), and the role check runs on
    exactly the path that is forwarded.
    """
    app = request.app
    area = request.path_params["area"]
    upstream = app.state.settings.upstreams().get(area)
    if upstream is None:
        allowed = _own_methods(request)
        if allowed:
            # A gateway route (/api/v1/auth/…, /api/v1/status) asked with another method.
            raise MethodNotAllowed(
                f"Method {request.method} is not allowed on {request.url.path[:200]}; "
                f"allowed: {', '.join(allowed)}",
                zh=f"{request.url.path[:200]} 不支持 {request.method} 方法；允许的方法：{', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        raise NotFound(
            f"No API area {area!r}; the areas are sampling, scoring, rectification, notify, reporting and evidence",
            zh=f"没有 API 分区 {area!r}；现有分区为 sampling（抽样）、scoring（评分）、rectification（整改）、notify（通知）、reporting（报告）和 evidence（佐证材料）",
        )
    address = client_address(request)
    app.state.auth_failures.check(address)
    forwarded, path = api_path(_raw_path(request), area)
    catalog: ServiceCatalog = app.state.catalog
    if area not in catalog.rules:
        # First request for this area (or it was down at start-up): learn its routes now.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                catalog.refresh(app.state.http, areas=[area]), timeout=catalog.fetch_timeout + 1.0
            )
    if area not in catalog.rules:
        raise ServiceUnavailable(
            f"The {area} service's routes cannot be loaded; try again shortly",
            zh=f"{area} 服务的路由暂时无法加载，请稍后重试",
            service=area,
        )
    rule = catalog.resolve(area, request.method, path)
    forwarder: Forwarder = app.state.forwarder
    if rule.public:
        response = await forwarder.forward(
            request, area=area, base_url=upstream, path=forwarded, principal_token=None
        )
        if response.status_code in (401, 403, 404):
            app.state.auth_failures.record(address)  # a guessed feed token counts as a failed login
        return response
    principal = await identify(request, query_token=rule.stream)
    if rule.roles and not principal.has_role(*rule.roles):
        raise Forbidden(
            f"{request.method} /api/v1/{area}{path} needs one of the roles {', '.join(rule.roles)}; "
            f"you have {', '.join(principal.roles) or 'none'}",
            zh=f"{request.method} /api/v1/{area}{path} 需要以下角色之一：{i18n.roles_zh(rule.roles)}；您的角色：{i18n.roles_zh(principal.roles)}",
            required_roles=list(rule.roles),
        )
    token = app.state.signer.token(principal)
    return await forwarder.forward(
        request, area=area, base_url=upstream, path=forwarded, principal_token=token
    )


async def _refresh_loop(app: FastAPI, catalog: ServiceCatalog, every: float) -> None:
    while True:
        try:
            await catalog.refresh(app.state.http, force=True)
            app.state.merged_openapi = None
        except Exception:
            log.exception("route table refresh failed")
        await asyncio.sleep(every)


async def merged_openapi(app: FastAPI) -> dict[str, Any]:
    catalog: ServiceCatalog = app.state.catalog
    missing = [a for a in catalog.upstreams if a not in catalog.docs]
    if missing:
        await catalog.refresh(app.state.http, areas=missing)
        app.state.merged_openapi = None
    if app.state.merged_openapi is None:
        own = get_openapi(title=TITLE, version=__version__, routes=app.routes, tags=OPENAPI_TAGS)
        merged = merge_openapi(
            own, dict(catalog.docs), title=TITLE, version=__version__, description=DESCRIPTION
        )
        merged["components"]["schemas"]["Problem"] = PROBLEM_SCHEMA
        unavailable = [a for a in catalog.upstreams if a not in catalog.docs]
        if unavailable:
            merged["info"]["x-unavailable-services"] = unavailable
        app.state.merged_openapi = merged
    document: dict[str, Any] = app.state.merged_openapi
    return document
