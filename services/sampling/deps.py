"""Dependencies every sampling entity shares: the city-wide rule, file uploads and downloads, peers.

Entity-specific lookups (a site in scope, a round by code) live in each entity's ``access.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from services.kit.auth import Principal, PrincipalDep, allow
from services.kit.errors import Forbidden
from services.sampling import importing
from services.sampling.enums import FileFormat
from services.sampling.errors import UnreadableFileProblem
from services.sampling.importing import ImportOptions


def require_city_wide(principal: Principal, what: str) -> None:
    """403 unless the caller's scope is the whole city (for city-wide resources and actions)."""
    if not principal.city_wide:
        raise Forbidden(
            f"{what} needs a city-wide scope; yours is {principal.scope!r}",
            zh=f"{what}需要全市范围的管辖权限；您的管辖范围为 {principal.scope!r}",
            scope=principal.scope,
        )


class _CityWide:
    def __init__(self, what: str) -> None:
        self.what = what

    async def __call__(self, principal: PrincipalDep) -> Principal:
        require_city_wide(principal, self.what)
        return principal


def city_wide(*roles: str, what: str) -> dict[str, Any]:
    """Route kwargs: one of `roles`, and a scope that is the whole city."""
    kw = allow(*roles)
    kw["dependencies"] = [*kw["dependencies"], Depends(_CityWide(what))]
    return kw


def _rectification_url(request: Request) -> str:
    return str(request.app.state.settings.rectification_url)


RectificationUrlDep = Annotated[str, Depends(_rectification_url)]
"""Rectification's base URL (the follow-up sites of a round come from there)."""


FormatQuery = Annotated[
    FileFormat | None,
    Query(description="The file's format; by default taken from the file name or the content type"),
]
ExportFormatQuery = Annotated[FileFormat, Query(description="The format of the file to download")]

IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "description": "The file: raw body (Content-Type text/csv, application/json or the XLSX type) or multipart field `file`",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "array",
                    "description": 'One object per row, keyed by column name (or `{"items": [...]}`)',
                    "items": {
                        "type": "object",
                        "description": "One row: column name to cell value",
                        "additionalProperties": {
                            "anyOf": [
                                {"type": "string"},
                                {"type": "number"},
                                {"type": "boolean"},
                                {"type": "array", "items": {"type": "string"}},
                                {"type": "null"},
                            ]
                        },
                    },
                    "examples": [
                        [
                            {
                                "code": "330212001001",
                                "type": "village",
                                "name": "三塘村",
                                "parent_code": "330212001",
                                "tags": "示范点",
                            }
                        ]
                    ],
                }
            },
            importing.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The CSV, XLSX or JSON file",
                        }
                    },
                }
            },
        },
    }
}


def import_route(kw: dict[str, Any]) -> dict[str, Any]:
    """Route kwargs plus the documented upload body (both live in ``openapi_extra``)."""
    kw["openapi_extra"] = {**kw["openapi_extra"], **IMPORT_BODY}
    return kw


@dataclass(frozen=True)
class Upload:
    """An uploaded table and how to import it."""

    data: bytes
    options: ImportOptions


async def read_upload(
    request: Request,
    format: FormatQuery = None,
    dry_run: Annotated[bool, Query(description="Check the file and report, change nothing")] = False,
    good_rows_only: Annotated[
        bool, Query(description="Apply the good rows and report the bad ones (default: all or nothing)")
    ] = False,
) -> Upload:
    """The file of an import request (raw body or multipart field ``file``) with its options."""
    content_type = request.headers.get("content-type", "")
    filename = None
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise UnreadableFileProblem(
                "Send the file in the multipart field `file`", zh="请在 multipart 字段 `file` 中上传文件"
            )
        data = await upload.read()
        filename, content_type = upload.filename, upload.content_type or ""
    else:
        data = await request.body()
    try:
        fmt = importing.detect_format(format.value if format else None, content_type, filename)
    except importing.UnreadableFile as exc:
        raise UnreadableFileProblem(str(exc), zh=str(exc)) from exc
    return Upload(data, ImportOptions(fmt=fmt, dry_run=dry_run, good_rows_only=good_rows_only))


UploadDep = Annotated[Upload, Depends(read_upload)]


def download(data: bytes, fmt: str, name: str) -> Response:
    """A file answer in `fmt`, offered for download as ``name.fmt``."""
    return Response(
        data,
        media_type=importing.MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}.{fmt}"'},
    )
