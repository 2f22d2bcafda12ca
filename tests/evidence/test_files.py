"""Upload and download: the contract scoring and rectification code against."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest

from tests.evidence.conftest import (
    ADMIN,
    HAISHU,
    LEADER,
    YINZHOU,
    ZH,
    Harness,
    docx,
    exe,
    heic,
    jpeg,
    mp4,
    pdf,
    plain_zip,
    png,
    xlsx,
)

KEYS = {
    "id", "sha256", "size", "media_type", "kind", "name", "purpose", "ref", "org_unit", "note", "uploaded_by",
    "uploaded_at", "captured_at", "gps", "thumbnail_url", "content_url",
}  # fmt: skip


async def test_upload_then_read_and_download(evidence: Harness) -> None:
    body = pdf()
    f = await evidence.uploaded(body, "整改报告.pdf", note="第一批")
    assert set(f) == KEYS
    assert f["media_type"] == "application/pdf" and f["kind"] == "pdf"
    assert f["sha256"] == hashlib.sha256(body).hexdigest() and f["size"] == len(body)
    assert f["uploaded_by"] == "u-yinzhou" and f["org_unit"] == "ningbo/yinzhou/dongwu"
    assert f["purpose"] == "problem" and f["ref"] == "1024" and f["note"] == "第一批"
    assert f["thumbnail_url"] is None and f["content_url"] == f"/files/{f['id']}/content"
    assert f["captured_at"] is None and f["gps"] is None

    got = await evidence.client.get(f"/files/{f['id']}", headers=LEADER)
    assert got.status_code == 200 and got.json() == f
    r = await evidence.client.get(f["content_url"], headers=YINZHOU)
    assert r.status_code == 200 and r.content == body
    assert r.headers["etag"] == f'"{f["sha256"]}"'
    assert r.headers["content-type"] == "application/pdf"
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment; ") and f"filename*=UTF-8''{quote('整改报告.pdf')}" in cd
    assert 'filename="____.pdf"' in cd
    again = await evidence.client.get(
        f["content_url"], headers={**YINZHOU, "If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304


async def test_gateway_prefix_in_urls(evidence: Harness) -> None:
    r = await evidence.client.post(
        "/files",
        files={"file": ("a.png", png())},
        data={"purpose": "finding", "ref": "S1:A1", "org_unit": "ningbo/yinzhou"},
        headers={**YINZHOU, "X-Forwarded-Prefix": "/api/v1/evidence"},
    )
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["content_url"] == f"/api/v1/evidence/files/{f['id']}/content"
    assert f["thumbnail_url"] == f"/api/v1/evidence/files/{f['id']}/thumbnail"


@pytest.mark.parametrize(
    ("make", "media_type", "kind"),
    [
        (jpeg, "image/jpeg", "image"),
        (png, "image/png", "image"),
        (heic, "image/heic", "image"),
        (pdf, "application/pdf", "pdf"),
        (docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        (xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "spreadsheet"),
        (mp4, "video/mp4", "video"),
    ],
)
async def test_type_from_magic_bytes_not_the_name(
    evidence: Harness, make, media_type: str, kind: str
) -> None:
    f = await evidence.uploaded(make(), "名字不说明类型.bin")
    assert (f["media_type"], f["kind"]) == (media_type, kind)


@pytest.mark.parametrize("make", [exe, plain_zip, lambda: b"just text", lambda: b""])
async def test_other_types_are_415_in_chinese(evidence: Harness, make) -> None:
    r = await evidence.client.post(
        "/files",
        files={"file": ("photo.jpg", make(), "image/jpeg")},
        data={"purpose": "problem", "ref": "1", "org_unit": "ningbo/yinzhou"},
        headers={**YINZHOU, **ZH},
    )
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "不支持的媒体类型" or "类型" in r.json()["detail"]
    assert "文件内容不属于可接受的类型" in r.json()["detail"]
    listed = await evidence.client.get("/files", headers=ADMIN)
    assert listed.json()["total"] == 0


async def test_same_bytes_stored_once_each_upload_its_own_record(evidence: Harness) -> None:
    body = pdf()
    a = await evidence.uploaded(body, "a.pdf", ref="1")
    b = await evidence.uploaded(body, "b.pdf", ref="2")
    assert a["id"] != b["id"] and a["sha256"] == b["sha256"]
    if evidence.settings.storage == "local":
        blobs = [p for p in (evidence.settings.blob_dir / "blobs").rglob("*") if p.is_file()]
        assert len(blobs) == 1


async def test_range_requests(evidence: Harness) -> None:
    body = bytes(range(256)) * 40 + b"%PDF-"  # a PDF must start with %PDF-
    body = b"%PDF-1.4\n" + body
    f = await evidence.uploaded(body, "r.pdf")
    url = f["content_url"]
    r = await evidence.client.get(url, headers={**YINZHOU, "Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == body[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(body)}"
    r = await evidence.client.get(url, headers={**YINZHOU, "Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == body[-5:]
    r = await evidence.client.get(url, headers={**YINZHOU, "Range": f"bytes={len(body) - 3}-"})
    assert r.status_code == 206 and r.content == body[-3:]
    r = await evidence.client.get(url, headers={**YINZHOU, **ZH, "Range": f"bytes={len(body)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(body)}"
    assert (
        r.headers["content-type"].startswith("application/problem+json")
        and "超出文件长度" in r.json()["detail"]
    )


async def test_scope(evidence: Harness) -> None:
    f = await evidence.uploaded(pdf(), "a.pdf")
    for path in (f"/files/{f['id']}", f["content_url"]):
        r = await evidence.client.get(path, headers={**HAISHU, **ZH})
        assert r.status_code == 404 and r.json()["detail"] == "未找到该佐证材料"
    other = await evidence.uploaded(png(), "b.png", headers=HAISHU, org_unit="ningbo/haishu")
    batch = await evidence.client.get("/files", params={"ids": f"{f['id']},{other['id']}"}, headers=YINZHOU)
    assert [x["id"] for x in batch.json()["items"]] == [f["id"]]
    batch = await evidence.client.get("/files", params={"ids": f"{f['id']},{other['id']}"}, headers=ADMIN)
    assert {x["id"] for x in batch.json()["items"]} == {f["id"], other["id"]}
    # Uploading into someone else's unit is refused.
    r = await evidence.upload(pdf(), "x.pdf", headers={**HAISHU, **ZH}, org_unit="ningbo/yinzhou")
    assert r.status_code == 422 and "超出您的管辖范围" in str(r.json()["errors"])


async def test_list_filters(evidence: Harness) -> None:
    a = await evidence.uploaded(pdf(), "a.pdf", purpose="problem", ref="7")
    await evidence.uploaded(pdf(), "b.pdf", purpose="milestone", ref="7")
    r = await evidence.client.get("/files", params={"purpose": "problem", "ref": "7"}, headers=ADMIN)
    assert [x["id"] for x in r.json()["items"]] == [a["id"]]
    r = await evidence.client.get("/files", params={"org_unit": "ningbo/haishu"}, headers=ADMIN)
    assert r.json()["total"] == 0


async def test_bad_fields_are_422_in_chinese(evidence: Harness) -> None:
    r = await evidence.upload(pdf(), headers={**YINZHOU, **ZH}, purpose="other", ref="")
    assert r.status_code == 422
    assert r.json()["detail"] == "上传的字段无效"


async def test_exif_stripped_but_kept_as_metadata(evidence: Harness) -> None:
    body = jpeg()
    assert b"Exif" in body and b"TestCam" in body
    f = await evidence.uploaded(body)
    assert f["captured_at"] == "2026-03-09T06:30:00Z"  # 14:30 in China
    assert f["gps"] == pytest.approx({"lat": 29.8683, "lon": 121.544}, abs=1e-4)
    served = (await evidence.client.get(f["content_url"], headers=YINZHOU)).content
    assert b"Exif" not in served and b"TestCam" not in served
    assert f["sha256"] == hashlib.sha256(served).hexdigest() != hashlib.sha256(body).hexdigest()
    # the pixels were not touched: everything from the first quantisation table on is the same
    assert served[served.index(b"\xff\xdb") :] == body[body.index(b"\xff\xdb") :]


async def test_heic_exif_kept_as_metadata(evidence: Harness) -> None:
    f = await evidence.uploaded(heic(), "IMG_0001.HEIC")
    assert f["captured_at"] == "2026-03-08T01:00:00Z"
    r = await evidence.client.get(f["thumbnail_url"], headers=YINZHOU)
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"


async def test_thumbnail_made_once(evidence: Harness) -> None:
    f = await evidence.uploaded(jpeg(size=(1200, 900)))
    first = await evidence.client.get(f["thumbnail_url"], headers=YINZHOU)
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    second = await evidence.client.get(f["thumbnail_url"], headers=LEADER)
    assert second.content == first.content
    assert evidence.app.state.thumbnails_made == 1
    import io

    from PIL import Image

    assert max(Image.open(io.BytesIO(first.content)).size) == evidence.settings.thumbnail_size
    # the same photo uploaded again shares the blob and its thumbnail
    g = await evidence.uploaded(jpeg(size=(1200, 900)), "again.jpg")
    await evidence.client.get(g["thumbnail_url"], headers=YINZHOU)
    assert evidence.app.state.thumbnails_made == 1
    p = await evidence.uploaded(pdf(), "a.pdf")
    r = await evidence.client.get(f"/files/{p['id']}/thumbnail", headers={**YINZHOU, **ZH})
    assert r.status_code == 404 and r.json()["detail"] == "只有图片有缩略图"
