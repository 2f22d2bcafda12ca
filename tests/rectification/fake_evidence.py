"""A fake of the evidence service for scoring's and rectification's tests, over ``httpx.MockTransport``.

It implements the part of evidence's API contract (issue 14) the two services call: ``GET /files?ids=a,b``
(the list envelope, scope-filtered: a file outside the forwarded principal's scope is simply absent)
and ``GET /files/{id}`` (404 when unknown or out of scope). The principal is the one the caller
forwarded in ``X-Principal``, verified with the test secret, so a test shows whose scope was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from services.kit.auth import PRINCIPAL_HEADER, Principal, verify_principal
from services.kit.settings import DEV_PRINCIPAL_SECRET

HOST = "evidence.test"
URL = f"http://{HOST}"

PHOTO_ID = "f-photo-1"
PDF_ID = "f-pdf-1"
SIGN_IN_ID = "f-photo-2"
HAISHU_ID = "f-elsewhere-1"


def evidence_file(
    file_id: str,
    *,
    sha: str,
    name: str,
    org_unit: str,
    media_type: str = "image/jpeg",
    kind: str = "image",
    captured_at: str | None = None,
) -> dict[str, Any]:
    """A file exactly as evidence's ``GET /files/{id}`` answers it."""
    image = kind == "image"
    return {
        "id": file_id,
        "sha256": sha,
        "size": 48213,
        "media_type": media_type,
        "kind": kind,
        "name": name,
        "purpose": "problem",
        "ref": "1",
        "org_unit": org_unit,
        "uploaded_by": "u-zhang-wei",
        "uploaded_at": "2026-01-05T01:00:00Z",
        "captured_at": captured_at,
        "gps": {"lat": 29.8, "lon": 121.6} if image and captured_at else None,
        "thumbnail_url": f"/api/v1/evidence/files/{file_id}/thumbnail" if image else None,
        "content_url": f"/api/v1/evidence/files/{file_id}/content",
    }


def default_files() -> dict[str, dict[str, Any]]:
    """Two photos and a PDF at 天童村 (yinzhou), and a photo in haishu."""
    tiantong = "ningbo/yinzhou/dongwu/tiantong"
    return {
        PHOTO_ID: evidence_file(PHOTO_ID, sha="a" * 64, name="整改照片.jpg", org_unit=tiantong),
        SIGN_IN_ID: evidence_file(SIGN_IN_ID, sha="b" * 64, name="签到表.jpg", org_unit=tiantong),
        PDF_ID: evidence_file(
            PDF_ID,
            sha="c" * 64,
            name="会议记录.pdf",
            org_unit=tiantong,
            media_type="application/pdf",
            kind="pdf",
        ),
        HAISHU_ID: evidence_file(HAISHU_ID, sha="d" * 64, name="月湖.jpg", org_unit="ningbo/haishu/yuehu"),
    }


@dataclass
class FakeEvidence:
    """Answers evidence's ``GET /files?ids=…`` and ``GET /files/{id}`` as the forwarded principal."""

    files: dict[str, dict[str, Any]] = field(default_factory=default_files)
    down: bool = False
    fail_with: int | None = None
    ignore_scope: bool = False  # a faulty evidence service that answers files outside the caller's scope
    requests: list[httpx.Request] = field(default_factory=list)
    principals: list[Principal] = field(default_factory=list)

    def add(self, file_id: str, **kwargs: Any) -> dict[str, Any]:
        self.files[file_id] = evidence_file(file_id, **kwargs)
        return self.files[file_id]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, text="upstream trouble")
        try:
            principal = verify_principal(
                request.headers.get(PRINCIPAL_HEADER, ""), secret=DEV_PRINCIPAL_SECRET
            )
        except Exception:
            return httpx.Response(401, json={"type": "/problems/unauthorized"})
        self.principals.append(principal)
        visible = {
            k: v for k, v in self.files.items() if self.ignore_scope or principal.covers(v["org_unit"])
        }
        parts = request.url.path.strip("/").split("/")
        if request.method == "GET" and parts == ["files"]:
            ids = [i for i in request.url.params.get("ids", "").split(",") if i]
            items = [visible[i] for i in dict.fromkeys(ids) if i in visible]
            return httpx.Response(
                200, json={"items": items, "total": len(items), "limit": max(len(ids), 1), "offset": 0}
            )
        if request.method == "GET" and len(parts) == 2 and parts[0] == "files" and parts[1] in visible:
            return httpx.Response(200, json=visible[parts[1]])
        return httpx.Response(404, json={"type": "/problems/file-not-found"})
