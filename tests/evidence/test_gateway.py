"""Through the gateway: the evidence area is routed, uploads stream up to its own body limit."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import DevIssuer
from services.kit.testing import ManagedProcess, free_port
from tests.evidence.conftest import ROOT, jpeg


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    eport, gport = free_port(), free_port()
    key = tmp_path / "issuer.pem"
    issuer = DevIssuer(key, issuer="dangjian-dev-issuer", audience="dangjian-inspection")
    env = {
        "VAR_DIR": str(tmp_path),
        "LOG_JSON": "false",
        "ACCESS_LOG": "false",
        "ENVIRONMENT": "test",
        "EVIDENCE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'evidence.db'}",
        "EVIDENCE_PORT": str(eport),
        "EVIDENCE_URL": f"http://127.0.0.1:{eport}",
        "EVIDENCE_MAX_FILE_BYTES": str(2 * 1024 * 1024),
        "GATEWAY_AREA_MAX_BODY_BYTES": '{"evidence": 3145728}',
        "GATEWAY_MAX_BODY_BYTES": str(1024 * 1024),
        "GATEWAY_PORT": str(gport),
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(key),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
    }
    procs = [
        ManagedProcess("evidence", [sys.executable, "-m", "services.evidence"], env=env, cwd=ROOT),
        ManagedProcess("gateway", [sys.executable, "-m", "gateway"], env=env, cwd=ROOT),
    ]
    try:
        for p, port in zip(procs, (eport, gport), strict=True):
            p.start()
            await p.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120)
        token = issuer.mint(sub="u-yinzhou", roles=["responsible"], scope="ningbo/yinzhou")
        yield {"base": f"http://127.0.0.1:{gport}", "auth": {"Authorization": f"Bearer {token}"}}
    finally:
        for p in reversed(procs):
            p.stop()


async def test_upload_and_download_through_the_gateway(stack: dict[str, Any]) -> None:
    big = b"%PDF-1.4\n" + os.urandom(1536 * 1024)  # above the gateway's default 1 MiB here, under evidence's
    async with httpx.AsyncClient(base_url=stack["base"], headers=stack["auth"], timeout=60) as c:
        r = await c.post(
            "/api/v1/evidence/files",
            files={"file": ("整改材料.pdf", big)},
            data={"purpose": "problem", "ref": "1", "org_unit": "ningbo/yinzhou"},
        )
        assert r.status_code == 201, r.text
        f = r.json()
        assert f["content_url"] == f"/api/v1/evidence/files/{f['id']}/content"
        got = await c.get(f["content_url"])
        assert got.status_code == 200 and got.content == big
        assert (
            "filename*=UTF-8''%E6%95%B4%E6%94%B9%E6%9D%90%E6%96%99.pdf" in got.headers["content-disposition"]
        )
        part = await c.get(f["content_url"], headers={"Range": "bytes=0-8"})
        assert part.status_code == 206 and part.content == b"%PDF-1.4\n"
        photo = await c.post(
            "/api/v1/evidence/files",
            files={"file": ("p.jpg", jpeg())},
            data={"purpose": "problem", "ref": "1", "org_unit": "ningbo/yinzhou"},
        )
        thumb = await c.get(photo.json()["thumbnail_url"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        listed = await c.get("/api/v1/evidence/files", params={"ids": f"{f['id']},{photo.json()['id']}"})
        assert listed.json()["total"] == 2


async def test_413_through_the_gateway(stack: dict[str, Any]) -> None:
    consumed = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal consumed
        chunk = b"\x00" * (64 * 1024)
        for _ in range(10 * 1024 * 1024 // len(chunk)):
            consumed += len(chunk)
            yield chunk

    async with httpx.AsyncClient(base_url=stack["base"], headers=stack["auth"], timeout=60) as c:
        r = await c.post(
            "/api/v1/evidence/files",
            content=b"x" * (4 * 1024 * 1024),
            headers={"Content-Type": "multipart/form-data; boundary=b", "Accept-Language": "zh-CN"},
        )
        assert r.status_code == 413 and "上限" in r.json()["detail"]
        # Chunked (no Content-Length): the gateway stops at the area's limit. Over TCP the client's
        # writes land in socket buffers, so what was consumed here says nothing; the in-process test
        # (test_streaming.py) shows the service stops reading at its limit.
        r = await c.post(
            "/api/v1/evidence/files",
            content=endless(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert r.status_code == 413, r.text
        assert consumed > 0
