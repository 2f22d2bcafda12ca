"""The scrub finds a blob altered on disk or in the bucket; files survive a restart of the process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx

from services.evidence.storage import blob_key
from services.kit.testing import ManagedProcess, free_port
from tests.evidence.conftest import ADMIN, ROOT, YINZHOU, ZH, Harness, S3Server, jpeg, pdf


async def corrupt(evidence: Harness, sha256: str, request: Any) -> None:
    if evidence.settings.storage == "local":
        path = evidence.settings.blob_dir / blob_key(sha256)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        server.client().put_object(Bucket=evidence.settings.s3_bucket, Key=blob_key(sha256), Body=b"tampered")


async def test_scrub_reports_a_corrupted_blob(evidence: Harness, request: Any) -> None:
    good = await evidence.uploaded(pdf(), "好.pdf")
    bad = await evidence.uploaded(jpeg(), "坏.jpg")
    r = await evidence.client.post("/admin/scrub", headers=ADMIN)
    assert r.status_code == 200 and r.json()["checked"] == 2 and r.json()["mismatches"] == []
    await corrupt(evidence, bad["sha256"], request)
    r = await evidence.client.post("/admin/scrub", headers=ADMIN)
    report = r.json()
    assert report["checked"] == 2 and report["damaged_blobs"] == 1
    [m] = report["mismatches"]
    assert m["sha256"] == bad["sha256"] and m["files"] == [bad["id"]] and m["actual"] != bad["sha256"]
    assert (await evidence.client.get("/admin/scrub/report", headers=ADMIN)).json() == report
    metrics = (await evidence.client.get("/metrics")).text
    assert "evidence_damaged_blobs 1.0" in metrics
    assert good["sha256"] not in str(report["mismatches"])
    r = await evidence.client.post("/admin/scrub", headers={**YINZHOU, **ZH})
    assert r.status_code == 403


def _env(tmp: Path, port: int, storage: dict[str, Any]) -> dict[str, str]:
    env = {
        "EVIDENCE_PORT": str(port),
        "EVIDENCE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'evidence.db'}",
        "VAR_DIR": str(tmp / "var"),
        "ENVIRONMENT": "test",
        "LOG_JSON": "false",
        "ACCESS_LOG": "false",
    }
    env.update({f"EVIDENCE_{k.upper()}": str(v) for k, v in storage.items()})
    return env


async def test_files_survive_a_restart(tmp_path: Path, storage_settings: dict[str, Any]) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start() -> ManagedProcess:
        return ManagedProcess(
            "evidence",
            [sys.executable, "-m", "services.evidence"],
            env=_env(tmp_path, port, storage_settings),
            cwd=ROOT,
        ).start()

    proc = start()
    try:
        await proc.wait_http(f"{base}/readyz", timeout=60)
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            r = await c.post(
                "/files",
                files={"file": ("重启前.jpg", jpeg(size=(400, 300)))},
                data={"purpose": "problem", "ref": "5", "org_unit": "ningbo/yinzhou"},
                headers=dict(YINZHOU),
            )
            assert r.status_code == 201, r.text
            f = r.json()
            content = (await c.get(f["content_url"], headers=dict(YINZHOU))).content
        proc.stop()
        proc = start()
        await proc.wait_http(f"{base}/readyz", timeout=60)
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            assert (await c.get(f"/files/{f['id']}", headers=dict(YINZHOU))).json() == f
            assert (await c.get(f["content_url"], headers=dict(YINZHOU))).content == content
            assert (await c.get(f["thumbnail_url"], headers=dict(YINZHOU))).status_code == 200
    finally:
        proc.stop()
