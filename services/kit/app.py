"""The app factory every service is built with: errors, request context, health, metrics, workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.responses import Response

from services.kit import orgunit
from services.kit.auth import current_principal
from services.kit.clock import Clock, OffsetClock, SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.errors import install_error_handlers, problem_response
from services.kit.http import make_service_client
from services.kit.logs import configure_logging, get_logger
from services.kit.middleware import RequestContextMiddleware
from services.kit.migrations import current_revision, head_revision, upgrade_to_head
from services.kit.openapi import errors, finalize, reject_unknown_query
from services.kit.settings import ServiceSettings

Worker = Callable[[FastAPI], Coroutine[Any, Any, None]]
"""A background loop run for the life of the process; it must return or raise when cancelled."""

log = get_logger("kit.app")


def operation_id(service: str) -> Callable[[APIRoute], str]:
    """Stable operation ids: ``<service>_<endpoint function name>``."""

    def _gen(route: APIRoute) -> str:
        return f"{service}_{route.name}"

    return _gen


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        state = request.app.state
        try:
            async with state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await current_revision(state.engine)
        except Exception as exc:
            return problem_response(
                status=503,
                slug="not-ready",
                title="Not ready",
                detail=f"database unreachable: {exc}",
                detail_zh=f"无法连接数据库：{exc}",
                request=request,
            )
        if current != state.head_revision:
            return problem_response(
                status=503,
                slug="not-ready",
                title="Not ready",
                detail=f"migrations at {current}, expected {state.head_revision}",
                detail_zh=f"数据库迁移版本为 {current}，应为 {state.head_revision}",
                request=request,
            )
        return JSONResponse({"status": "ready", "revision": current})

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class ClockOffset(BaseModel):
    offset_seconds: float


def clock_router() -> APIRouter:
    """Test-only: move this process's clock. Mounted only when CLOCK_CONTROL is on (never in production)."""
    router = APIRouter(tags=["testing"], include_in_schema=False)

    @router.put("/_test/clock")
    async def set_clock(body: ClockOffset, request: Request) -> dict[str, Any]:
        clock = request.app.state.clock
        assert isinstance(clock, OffsetClock)
        clock.offset = timedelta(seconds=body.offset_seconds)
        return {"now": clock.now().isoformat()}

    return router


def create_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    version: str,
    routers: Sequence[APIRouter],
    migrations_dir: Path,
    workers: Sequence[Worker] = (),
    clock: Clock | None = None,
    openapi_tags: list[dict[str, Any]] | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build a service: its routers behind the principal check, plus health, metrics and workers."""
    name = settings.service_name
    orgunit.set_city_root(settings.city_root)
    if clock is None:
        clock = OffsetClock() if settings.clock_control else SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(process=name, level=settings.log_level, json=settings.log_json)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.head_revision = head_revision(migrations_dir)
        if settings.auto_migrate:
            await upgrade_to_head(engine, migrations_dir)
        app.state.http = make_service_client(
            service=name,
            secret=settings.principal_secret.get_secret_value(),
            timeout=settings.http_timeout_seconds,
            ttl=settings.principal_ttl_seconds,
            transport=http_transport,
        )
        tasks = [
            asyncio.create_task(w(app), name=f"{name}:{getattr(w, '__name__', 'worker')}") for w in workers
        ]
        log.info("started", port=settings.port, database=engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await app.state.http.aclose()
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id(name),
        openapi_tags=openapi_tags,
        responses=errors(400, 401, 403, 422),
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.service_name = name
    install_error_handlers(app)
    app.include_router(health_router())
    if settings.clock_control:
        app.include_router(clock_router())
    for router in routers:
        app.include_router(router, dependencies=[Depends(current_principal), Depends(reject_unknown_query)])
    app.add_middleware(RequestContextMiddleware, process=name, log_requests=settings.access_log)
    _conventions(app)
    return app


def _conventions(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        app.openapi_schema = finalize(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
