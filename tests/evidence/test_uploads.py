"""tus resumable uploads: create, resume after an interruption, offsets, termination, expiry."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator

from services.evidence.uploads.service import expire
from tests.evidence.conftest import ADMIN, HAISHU, YINZHOU, ZH, Harness, jpeg, pdf

TUS = {"Tus-Resumable": "1.0.0"}


def meta(**kw: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kw.items())


async def create(evidence: Harness, length: int, headers=YINZHOU, **kw: str):  # type: ignore[no-untyped-def]
    fields = {
        "filename": "现场照片.jpg",
        "purpose": "problem",
        "ref": "77",
        "org_unit": "ningbo/yinzhou/dongwu",
    } | kw
    return await evidence.client.post(
        "/uploads",
        headers={**headers, **TUS, "Upload-Length": str(length), "Upload-Metadata": meta(**fields)},
    )


async def patch(evidence: Harness, url: str, offset: int, data, headers=YINZHOU):  # type: ignore[no-untyped-def]
    return await evidence.client.patch(
        url,
        content=data,
        headers={
            **headers,
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
    )


async def test_resume_after_an_interruption(evidence: Harness) -> None:
    body = jpeg(size=(800, 600)) + b""
    r = await create(evidence, len(body))
    assert r.status_code == 201, r.text
    url = r.headers["location"]
    assert r.headers["tus-resumable"] == "1.0.0" and r.headers["upload-offset"] == "0"

    class Cut(Exception):
        pass

    async def interrupted() -> AsyncIterator[bytes]:
        yield body[:1000]
        yield body[1000:2500]
        raise Cut  # the connection drops mid-body

    with contextlib.suppress(Cut):
        await patch(evidence, url, 0, interrupted())
    head = await evidence.client.head(url, headers={**YINZHOU, **TUS})
    assert head.status_code == 200
    offset = int(head.headers["upload-offset"])
    assert offset == 2500 and head.headers["upload-length"] == str(len(body))
    # nothing is visible yet
    assert (await evidence.client.get("/files", headers=ADMIN)).json()["total"] == 0
    # a PATCH at the wrong offset is 409
    r = await patch(evidence, url, 10, body[10:20], headers={**YINZHOU, **ZH})
    assert r.status_code == 409 and r.headers["upload-offset"] == "2500"
    assert "不一致" in r.json()["detail"]
    r = await patch(evidence, url, offset, body[offset:])
    assert r.status_code == 204, r.text
    assert r.headers["upload-offset"] == str(len(body))
    file_id = r.headers["evidence-file-id"]
    f = (await evidence.client.get(f"/files/{file_id}", headers=YINZHOU)).json()
    assert f["name"] == "现场照片.jpg" and f["kind"] == "image" and f["ref"] == "77"
    assert f["captured_at"] == "2026-03-09T06:30:00Z" and f["gps"] is not None
    # the finished upload is gone
    assert (await evidence.client.head(url, headers={**YINZHOU, **TUS})).status_code == 404


async def test_same_as_multipart(evidence: Harness) -> None:
    body = pdf()
    r = await create(evidence, len(body), filename="报告.pdf")
    r = await patch(evidence, r.headers["location"], 0, body)
    f = (await evidence.client.get(f"/files/{r.headers['evidence-file-id']}", headers=YINZHOU)).json()
    m = await evidence.uploaded(body, "报告.pdf", ref="77")
    assert {k: v for k, v in f.items() if k not in ("id", "content_url", "thumbnail_url")} == {
        k: v for k, v in m.items() if k not in ("id", "content_url", "thumbnail_url")
    }
    assert f["sha256"] == hashlib.sha256(body).hexdigest()


async def test_refused_type_leaves_nothing(evidence: Harness) -> None:
    body = b"MZ" + b"\x00" * 100
    r = await create(evidence, len(body), filename="photo.jpg")
    url = r.headers["location"]
    r = await patch(evidence, url, 0, body, headers={**YINZHOU, **ZH})
    assert r.status_code == 415 and "文件内容不属于可接受的类型" in r.json()["detail"]
    assert (await evidence.client.head(url, headers={**YINZHOU, **TUS})).status_code == 404
    assert not list((evidence.settings.temp_dir / "uploads").glob("*"))


async def test_limits_scope_termination_and_expiry(evidence: Harness) -> None:
    r = await create(evidence, evidence.settings.max_file_bytes + 1, headers={**YINZHOU, **ZH})
    assert r.status_code == 413
    r = await create(evidence, 10, headers={**HAISHU, **ZH})
    assert r.status_code == 422
    r = await create(evidence, 10)
    url = r.headers["location"]
    # more than the declared length is 413
    assert (await patch(evidence, url, 0, b"x" * 11)).status_code == 413
    # another user does not see it
    assert (await evidence.client.head(url, headers={**HAISHU, **TUS})).status_code == 404
    assert (await evidence.client.delete(url, headers={**YINZHOU, **TUS})).status_code == 204
    assert (await evidence.client.head(url, headers={**YINZHOU, **TUS})).status_code == 404
    r = await create(evidence, 10)
    url = r.headers["location"]
    evidence.clock.advance(seconds=evidence.settings.upload_expiry_seconds + 1)
    assert (await evidence.client.head(url, headers={**YINZHOU, **TUS})).status_code == 404
    async with evidence.app.state.sessionmaker() as s, s.begin():
        assert await expire(s, evidence.settings.temp_dir, evidence.clock.now()) == 1
    assert not list((evidence.settings.temp_dir / "uploads").glob("*"))
    # without Tus-Resumable: 412
    assert (
        await evidence.client.post("/uploads", headers={**YINZHOU, "Upload-Length": "1"})
    ).status_code == 412
