"""Routes of evidence files: upload (multipart, streamed), metadata, batch lookup, content, thumbnail."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.responses import StreamingResponse

from services.evidence.deps import SettingsDep, StorageDep
from services.evidence.deps import public_prefix as prefix
from services.evidence.enums import READERS, UPLOADERS, Kind, Purpose
from services.evidence.files import service
from services.evidence.files.schemas import FileRead, Gps
from services.evidence.models import EvidenceFile
from services.evidence.receive import receive_multipart
from services.evidence.storage import blob_key
from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.errors import ProblemError, UnprocessableEntity, field_error
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep

TAG = "evidence.files"
router = APIRouter(tags=[TAG])

FileId = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]{32}$", description="The file's id")
]
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ProblemError):
    status, slug, title = 416, "range-not-satisfiable", "Range not satisfiable"


def file_read(record: EvidenceFile, base: str) -> FileRead:
    url = f"{base}/files/{record.id}"
    return FileRead(
        id=record.id,
        sha256=record.sha256,
        size=record.size,
        media_type=record.media_type,
        kind=Kind(record.kind),
        name=record.name,
        purpose=Purpose(record.purpose),
        ref=record.ref,
        org_unit=record.org_unit,
        note=record.note,
        uploaded_by=record.uploaded_by,
        uploaded_at=record.uploaded_at,
        captured_at=record.captured_at,
        gps=Gps(lat=record.gps_lat, lon=record.gps_lon)
        if record.gps_lat is not None and record.gps_lon is not None
        else None,
        thumbnail_url=f"{url}/thumbnail" if record.kind == "image" else None,
        content_url=f"{url}/content",
    )


async def valid_file(session: SessionDep, principal: PrincipalDep, file_id: FileId) -> EvidenceFile:
    """The file, if it lies in the caller's scope; else 404 as if missing."""
    return await service.get_visible(session, principal, file_id)


ValidFile = Annotated[EvidenceFile, Depends(valid_file)]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "purpose", "ref", "org_unit"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The file (≤ 50 MB by default)",
                        },
                        "purpose": {
                            "type": "string",
                            "enum": [p.value for p in Purpose],
                            "description": "What the file is evidence for",
                        },
                        "ref": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "description": "Which one: sheet id + item code, problem id, milestone id",
                        },
                        "org_unit": {"type": "string", "description": "Must lie in your scope"},
                        "note": {"type": "string", "maxLength": 1000, "description": "The uploader's note"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/files",
    status_code=201,
    response_model=FileRead,
    responses=errors(413, 415),
    openapi_extra=_UPLOAD_BODY | {"x-roles": list(UPLOADERS)},
    dependencies=allow(*UPLOADERS)["dependencies"],
)
async def upload_file(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> FileRead:
    """Upload one file as multipart/form-data (`file`, `purpose`, `ref`, `org_unit`, optional `note`).

    The body is streamed to disk and hashed as it arrives; more than the limit is refused with 413
    before the rest is read. The type comes from the content (JPEG, PNG, HEIC, PDF, DOCX, XLSX, MP4),
    anything else is 415. Photos are stored without their EXIF; capture time and GPS are kept here.
    """
    received = await receive_multipart(
        request,
        work_dir=settings.temp_dir,
        limit=settings.max_file_bytes,
        overhead=settings.multipart_overhead_bytes,
    )
    try:
        target = service.check_target(principal, dict(received.fields), received.name)
        record = await service.ingest(
            session,
            storage,
            principal=principal,
            path=received.path,
            original_sha256=received.sha256,
            target=target,
            now=clock.now(),
        )
    finally:
        received.discard()
    return file_read(record, prefix(request))


@router.get("/files", response_model=Page[FileRead], **allow(*READERS))
async def list_files(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    ids: str | None = Query(
        None,
        max_length=33 * 500,
        description="Comma-separated file ids (batch lookup, up to 500): ids outside your scope or unknown are absent",
    ),
    purpose: Purpose | None = Query(None, description="Only files for this purpose"),
    ref: str | None = Query(None, min_length=1, max_length=200, description="Only files for this ref"),
    org_unit: str | None = Query(
        None, min_length=1, max_length=200, description="Only files in this org unit or below"
    ),
) -> Page[FileRead]:
    """Files in your scope, newest first; `ids` looks up many at once (the others are simply absent)."""
    id_list = None
    if ids is not None:
        id_list = [i.strip() for i in ids.split(",") if i.strip()]
        if len(id_list) > 500 or any(not re.fullmatch(r"[0-9a-f]{32}", i) for i in id_list):
            raise UnprocessableEntity(
                "ids must be up to 500 file ids separated by commas",
                zh="ids 须为以逗号分隔的文件 id，最多 500 个",
                errors=[field_error(["query", "ids"], "not a list of file ids", zh="不是文件 id 列表")],
            )
    rows, total = await service.list_visible(
        session,
        principal,
        ids=id_list,
        purpose=purpose.value if purpose else None,
        ref=ref,
        org_unit=org_unit,
        page=page,
    )
    base = prefix(request)
    return Page.of([file_read(r, base) for r in rows], total, page)


@router.get("/files/{file_id}", response_model=FileRead, responses=errors(404), **allow(*READERS))
async def get_file(request: Request, record: ValidFile) -> FileRead:
    """One file's metadata (capture time and GPS from its EXIF, when it had them)."""
    return file_read(record, prefix(request))


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback, and the real (Chinese) name as RFC 5987 ``filename*``."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range asked for, as (start, end) inclusive; None for the whole file.

    A header that is not a single byte range is ignored (RFC 9110 allows it); one that lies wholly
    past the end is 416.
    """
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
        if m.group(2) and end < start:
            return None
        if start >= size:
            raise RangeNotSatisfiable(
                f"The file has {size} bytes; the range starts at {start}",
                zh=f"文件共 {size} 字节，请求的范围从第 {start} 字节开始，超出文件长度",
                headers={"Content-Range": f"bytes */{size}"},
            )
        return start, min(end, size - 1)
    suffix = int(m.group(2))
    if suffix == 0:
        raise RangeNotSatisfiable(
            "An empty suffix range", zh="请求的范围为空", headers={"Content-Range": f"bytes */{size}"}
        )
    return max(0, size - suffix), size - 1


@router.get(
    "/files/{file_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file (images without EXIF)"},
        206: {"content": {"application/octet-stream": {}}, "description": "The byte range asked for"},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **errors(404, 416),
    },
    **allow(*READERS),
)
async def get_content(request: Request, record: ValidFile, storage: StorageDep) -> Response:
    """The file's bytes, as a download named with its (Chinese) name; `Range` gives 206, the ETag is its SHA-256."""
    etag = f'"{record.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(record.name),
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    wanted = parse_range(request.headers.get("range"), record.size)
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range.strip() != etag:
        wanted = None
    key = blob_key(record.sha256)
    if wanted is None:
        headers["Content-Length"] = str(record.size)
        return StreamingResponse(storage.read(key), media_type=record.media_type, headers=headers)
    start, end = wanted
    headers["Content-Range"] = f"bytes {start}-{end}/{record.size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(
        storage.read(key, start, end), status_code=206, media_type=record.media_type, headers=headers
    )


@router.get(
    "/files/{file_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "A JPEG thumbnail"}, **errors(404)},
    **allow(*READERS),
)
async def get_thumbnail(
    request: Request, record: ValidFile, session: SessionDep, storage: StorageDep, settings: SettingsDep
) -> Response:
    """The image's thumbnail (JPEG, made once and kept); 404 for files that are not images."""
    key, made = await service.thumbnail(
        session, storage, record, size=settings.thumbnail_size, work_dir=settings.temp_dir
    )
    if made:
        request.app.state.thumbnails_made += 1
    data = b"".join([chunk async for chunk in storage.read(key)])
    return Response(
        data,
        media_type="image/jpeg",
        headers={"ETag": f'"{record.sha256}-thumb"', "Cache-Control": "private, max-age=86400"},
    )
