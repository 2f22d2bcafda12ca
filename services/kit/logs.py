"""Logs through structlog; every line carries the request id of the request it belongs to.

One JSON object per line for machines (production, a file, a pipe, a log collector); readable,
coloured lines for a person at a terminal. ``LOG_JSON`` (true/false) overrides the choice.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

import structlog

from services.kit.context import request_id_var


def _add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    rid = request_id_var.get()
    if rid and "request_id" not in event:
        event["request_id"] = rid
    return event


def is_terminal(stream: IO[str] | Any) -> bool:
    """True when `stream` is an interactive terminal (a closed or odd stream counts as not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def wants_json(setting: bool | None, *, terminal: bool, environment: str = "dev") -> bool:
    """JSON unless a person is reading: an explicit setting (LOG_JSON) wins; production is JSON;
    otherwise JSON exactly when the logs do not go to a terminal."""
    if setting is not None:
        return setting
    if environment == "production":
        return True
    return not terminal


def renderer_for(*, json: bool, stream: IO[str] | Any) -> Any:
    if json:
        return structlog.processors.JSONRenderer()
    # Colours only where they will be seen: a terminal (LOG_JSON=false into a file stays plain).
    return structlog.dev.ConsoleRenderer(colors=is_terminal(stream))


def configure_logging(
    *, process: str, level: str = "INFO", json: bool | None = True, stream: IO[str] | None = None
) -> None:
    """Route stdlib and structlog records to one stream (stderr): JSON, or console lines for a
    terminal. ``json=None`` decides by the stream (see :func:`wants_json`)."""
    out = stream if stream is not None else sys.stderr
    as_json = wants_json(json, terminal=is_terminal(out))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        lambda _l, _m, ev: {"process": process, **ev},
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # The console renderer prints tracebacks itself (readably); JSON needs them as text.
                *([structlog.processors.format_exc_info] if as_json else []),
                renderer_for(json=as_json, stream=out),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiosqlite", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").propagate = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
