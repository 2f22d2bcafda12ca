"""The documentation pages in a real browser: headless Chromium opens /docs and /redoc on a gateway
listening on a real port, the UIs render, and its network log shows no request to another host.

Skipped where Chromium is not installed (`apt-get install chromium`); tests/gateway/test_docs.py
checks the same pages and assets without a browser.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from gateway.config import Settings
from gateway.main import build_app
from services.kit.clock import FrozenClock

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

# What each page shows once its UI has rendered the gateway's own operations.
RENDERED = {
    "/docs": ['class="swagger-ui', "/api/v1/auth/whoami"],
    "/redoc": ["api-content", "/api/v1/auth/whoami"],
}


@pytest.fixture
async def listening_gateway(tmp_path: Path, database_url: Any) -> AsyncIterator[str]:
    """The gateway on a real loopback port (the services behind it closed), its base URL."""
    settings = Settings(
        database_url=await database_url("gateway"),
        environment="test",
        dev_issuer_key_path=tmp_path / "issuer.pem",
        sampling_url="http://127.0.0.1:9",
        scoring_url="http://127.0.0.1:9",
        rectification_url="http://127.0.0.1:9",
        notify_url="http://127.0.0.1:9",
        access_log=False,
    )
    app = build_app(settings, clock=FrozenClock())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])  # returns once it accepts connections
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await server.shutdown()
        sock.close()


async def _open_in_chromium(url: str, net_log: Path) -> str:
    """The page's DOM after its scripts ran, with every request Chromium made written to `net_log`."""
    assert CHROMIUM is not None
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-pings",
        "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate",
        # Nothing leaves this machine: every name but the loopback address fails to resolve, so a
        # request to another host (the page's or the browser's own) is logged but never sent.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={net_log.parent / 'profile'}",
        f"--log-net-log={net_log}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return out.decode("utf-8", "replace")


def _requests_of_the_page(net_log: Path, origin: str) -> set[str]:
    """The URLs the page asked for: requests whose initiator is the page's origin. Chromium's own
    traffic (update checks and the like, initiated by no page) is not the page's."""
    log = json.loads(net_log.read_text(errors="replace"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {
        str(e["params"]["url"])
        for e in log["events"]
        if e["type"] == start_job and e.get("params", {}).get("initiator") == origin
    }


class TestDocsInABrowser:
    @pytest.mark.parametrize("page", sorted(RENDERED))
    async def test_page_renders_and_requests_nothing_from_another_host(
        self, listening_gateway, tmp_path, page
    ):
        net_log = tmp_path / "net-log.json"
        dom = await _open_in_chromium(listening_gateway + page, net_log)
        for marker in RENDERED[page]:
            assert marker in dom, f"{page} did not render ({marker!r} missing)"
        requested = _requests_of_the_page(net_log, listening_gateway)
        assert listening_gateway + "/openapi.json" in requested
        assert any("/docs/static/" in u and u.endswith(".js") for u in requested)
        gateway = urlsplit(listening_gateway).netloc
        assert {u for u in requested if urlsplit(u).netloc != gateway} == set()
