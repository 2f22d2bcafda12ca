"""services.kit.migrations and services.kit.serve: schema at head, and how a process is served."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from services.kit import serve
from services.kit.db import make_engine
from services.kit.migrations import current_revision, head_revision, upgrade_to_head

GATEWAY_MIGRATIONS = Path(__file__).resolve().parents[2] / "gateway" / "migrations"


async def test_upgrade_reaches_head_and_is_idempotent(database_url) -> None:
    head = head_revision(GATEWAY_MIGRATIONS)
    assert head
    engine = make_engine(await database_url("kitmig"))
    try:
        assert await current_revision(engine) is None
        await upgrade_to_head(engine, GATEWAY_MIGRATIONS)
        assert await current_revision(engine) == head
        await upgrade_to_head(engine, GATEWAY_MIGRATIONS)
        assert await current_revision(engine) == head
    finally:
        await engine.dispose()


def test_serve_runs_uvicorn_with_our_logging_and_no_server_header() -> None:
    settings = mock.Mock(host="127.0.0.1", port=8123, service_name="demo", log_level="INFO", log_json=True)
    with (
        mock.patch.object(serve.uvicorn, "run") as run,
        mock.patch.object(serve, "configure_logging") as logs,
    ):
        serve.serve_service("app", settings)
    logs.assert_called_once_with(process="demo", level="INFO", json=True)
    _, kwargs = run.call_args
    assert run.call_args.args == ("app",)
    assert (kwargs["host"], kwargs["port"], kwargs["loop"], kwargs["http"]) == (
        "127.0.0.1",
        8123,
        "uvloop",
        "httptools",
    )
    assert kwargs["server_header"] is False and kwargs["log_config"] is None and kwargs["access_log"] is False
