"""Run one process under uvicorn (uvloop + httptools), with our logging instead of uvicorn's."""

from __future__ import annotations

from typing import Any

import uvicorn

from services.kit.logs import configure_logging


def serve(
    app: Any, *, host: str, port: int, process: str, log_level: str = "INFO", log_json: bool = True
) -> None:
    configure_logging(process=process, level=log_level, json=log_json)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        server_header=False,
    )


def serve_service(app: Any, settings: Any) -> None:
    """Serve a service app with its own settings."""
    serve(
        app,
        host=settings.host,
        port=settings.port,
        process=settings.service_name,
        log_level=settings.log_level,
        log_json=settings.log_json,
    )
