"""tus 1.0 resumable uploads: POST /uploads (creation), HEAD and PATCH /uploads/{id}, DELETE (termination).

When the last byte arrives the upload becomes a file exactly like a multipart one: the PATCH answers
204 with ``Upload-Offset`` and the new file's id in ``Evidence-File-Id`` (and its URL in
``Evidence-File-Url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from starlette.requests import ClientDisconnect

from services.evidence.deps import SettingsDep, StorageDep
from services.evidence.deps import public_prefix as prefix
from services.evidence.enums import UPLOADERS
from services.evidence.files import service as files
from services.evidence.models import Upload
from services.evidence.receive import declared_length, too_large
from services.evidence.uploads import service
from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.errors import BadRequest, Conflict, PreconditionFailed, UnsupportedMediaType
from services.kit.openapi import errors

TAG = "evidence.uploads"
router = APIRouter(tags=[TAG])

TUS_VERSION = "1.0.0"
UploadId = Annotated[
    str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$", description="The upload's id")
]


def _tus_headers(upload: Upload | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if upload is not None:
        headers["Upload-Offset"] = str(upload.offset)
        headers["Upload-Length"] = str(upload.length)
        headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return headers


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise PreconditionFailed(
            f"Tus-Resumable: {TUS_VERSION} is required",
            zh=f"需要请求头 Tus-Resumable: {TUS_VERSION}",
            headers={"Tus-Version": TUS_VERSION},
        )


def _int_header(request: Request, name: str) -> int:
    raw = request.headers.get(name)
    if raw is None or not raw.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer", zh=f"{name} 须为非负整数")
    return int(raw)


def _allowed(extra: dict[str, Any]) -> dict[str, Any]:
    """allow(*UPLOADERS) with more of the operation's OpenAPI."""
    kw = allow(*UPLOADERS)
    return {"dependencies": kw["dependencies"], "openapi_extra": kw["openapi_extra"] | extra}


_TUS_PARAMS = [
    {
        "name": "Tus-Resumable",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "enum": [TUS_VERSION]},
        "description": "The tus protocol version (1.0.0)",
    },
]


@router.post(
    "/uploads",
    status_code=201,
    response_class=Response,
    responses={201: {"description": "Created; Location names the upload"}, **errors(412, 413)},
    openapi_extra={
        "x-roles": list(UPLOADERS),
        "parameters": [
            *_TUS_PARAMS,
            {
                "name": "Upload-Length",
                "in": "header",
                "description": "The file's size in bytes (at most the per-file limit)",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "Upload-Metadata",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "filename, purpose, ref, org_unit, note: each `key base64(value)`, comma-separated",
            },
        ],
    },
    dependencies=allow(*UPLOADERS)["dependencies"],
)
async def create_upload(
    request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """Start a resumable upload (tus creation): its length and, in Upload-Metadata, what it is evidence for."""
    _require_tus(request)
    length = _int_header(request, "upload-length")
    if length > settings.max_file_bytes:
        raise too_large(settings.max_file_bytes, length)
    upload = await service.create(
        session,
        principal=principal,
        length=length,
        metadata=service.parse_metadata(request.headers.get("upload-metadata")),
        work_dir=settings.temp_dir,
        now=clock.now(),
        expiry_seconds=settings.upload_expiry_seconds,
    )
    headers = _tus_headers(upload)
    headers["Location"] = f"{prefix(request)}/uploads/{upload.id}"
    return Response(status_code=201, headers=headers)


@router.head(
    "/uploads/{upload_id}",
    response_class=Response,
    responses={200: {"description": "Upload-Offset: the bytes received so far"}, **errors(404)},
    **_allowed({"parameters": _TUS_PARAMS}),
)
async def upload_offset(
    upload_id: UploadId,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """How far an unfinished upload has got (resume from Upload-Offset)."""
    _require_tus(request)
    upload = await service.get_own(session, principal, upload_id, clock.now(), settings.temp_dir)
    return Response(status_code=200, headers=_tus_headers(upload))


@router.patch(
    "/uploads/{upload_id}",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Accepted; Upload-Offset is the new offset"},
        **errors(404, 409, 413, 415),
    },
    **_allowed(
        {
            "parameters": [
                *_TUS_PARAMS,
                {
                    "name": "Upload-Offset",
                    "in": "header",
                    "description": "Where these bytes go: the upload's current offset (HEAD tells it)",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
        }
    ),
)
async def upload_chunk(
    upload_id: UploadId,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Response:
    """Append bytes at Upload-Offset (409 when it is not where the upload stands); the last byte makes the file."""
    _require_tus(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/offset+octet-stream":
        raise UnsupportedMediaType(
            "A PATCH carries application/offset+octet-stream",
            zh="PATCH 请求的内容类型须为 application/offset+octet-stream",
        )
    offset = _int_header(request, "upload-offset")
    upload = await service.get_own(session, principal, upload_id, clock.now(), settings.temp_dir)
    path = service.part_path(settings.temp_dir, upload.id)
    if offset != upload.offset:
        raise Conflict(
            f"Upload-Offset {offset} does not match the upload's offset {upload.offset}",
            zh=f"Upload-Offset {offset} 与该上传当前的偏移量 {upload.offset} 不一致",
            headers=_tus_headers(upload),
            offset=upload.offset,
        )
    left = upload.length - upload.offset
    length = declared_length(request)
    if length is not None and length > left:
        raise too_large(upload.length, upload.offset + length)
    written = 0
    try:
        f = await asyncio.to_thread(open, path, "ab")
        with f:
            try:
                async for chunk in request.stream():
                    if written + len(chunk) > left:
                        raise too_large(upload.length, upload.offset + written + len(chunk))
                    f.write(chunk)
                    written += len(chunk)
            except ClientDisconnect:
                pass  # keep what arrived: the client resumes from HEAD's Upload-Offset
            f.flush()
            os.fsync(f.fileno())
    finally:
        upload.offset += written
        session.add(upload)
        await session.flush()
    headers = _tus_headers(upload)
    if upload.offset == upload.length:
        target = files.Target(**upload.meta)
        try:
            record = await files.ingest(
                session,
                storage,
                principal=principal,
                path=path,
                original_sha256=None,
                target=target,
                now=clock.now(),
            )
        except Exception:
            # A refused type (415) or a failure: the upload is gone either way, nothing half-made stays.
            await session.rollback()
            row = await session.get(Upload, upload_id)
            if row is not None:
                await service.remove(session, row, settings.temp_dir)
            await session.commit()
            raise
        upload.file_id = record.id
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        await session.delete(upload)
        headers["Evidence-File-Id"] = record.id
        headers["Evidence-File-Url"] = f"{prefix(request)}/files/{record.id}"
    return Response(status_code=204, headers=headers)


@router.delete(
    "/uploads/{upload_id}",
    status_code=204,
    response_class=Response,
    responses=errors(404),
    **_allowed({"parameters": _TUS_PARAMS}),
)
async def terminate_upload(
    upload_id: UploadId,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """Give up an unfinished upload (tus termination): its bytes are removed."""
    _require_tus(request)
    upload = await service.get_own(session, principal, upload_id, clock.now(), settings.temp_dir)
    await service.remove(session, upload, settings.temp_dir)
    return Response(status_code=204, headers=_tus_headers())
