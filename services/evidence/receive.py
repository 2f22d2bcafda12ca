"""Request bodies to temporary files, hashed as they arrive, never held whole in memory.

A multipart body goes through python-multipart's streaming parser (callbacks per chunk); the file
part is written to a temporary file and hashed chunk by chunk. The limit is checked on the declared
Content-Length before anything is read, and on the bytes received while reading: one byte over and
the request is refused with 413 without reading the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from services.kit.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_FIELDS = 10
MAX_FIELD_BYTES = 2000
_FILENAME_STAR = re.compile(r"filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)")


@dataclass
class Received:
    path: Path
    size: int
    sha256: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def too_large(limit: int, size: int | None = None) -> PayloadTooLarge:
    if size is not None:
        return PayloadTooLarge(
            f"The file is {size} bytes; the limit is {limit}",
            zh=f"文件为 {size} 字节，超过 {limit} 字节的上限",
            limit=limit,
        )
    return PayloadTooLarge(
        f"The file exceeds the limit of {limit} bytes", zh=f"文件超过 {limit} 字节的上限", limit=limit
    )


def temp_path(work_dir: Path) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    return work_dir / f"{uuid.uuid4().hex}.part"


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("Content-Length is not a number", zh="Content-Length 不是数字") from None


class _Parts:
    """python-multipart callbacks: the file part to disk (hashed), small text fields to memory."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.hash = hashlib.sha256()
        self.size = 0
        self.fields: dict[str, str] = {}
        self.name = ""
        self.exceeded = False
        self.error: str | None = None
        self.file: Any = None
        self.seen_file = False
        self._headers: dict[bytes, bytes] = {}
        self._hname = b""
        self._hvalue = b""
        self._part: str | None = None  # field name of the current part
        self._is_file = False
        self._buf = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self._headers, self._hname, self._hvalue = {}, b"", b""

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def header_end(self) -> None:
        self._headers[self._hname.lower()] = self._hvalue
        self._hname, self._hvalue = b"", b""

    def headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        self._part = name
        self._is_file = name == "file"
        self._buf = bytearray()
        if self._is_file:
            if self.seen_file:
                self.error = "more than one file part"
                return
            self.seen_file = True
            star = _FILENAME_STAR.search(disposition.decode("latin-1"))
            if star:
                self.name = unquote(star.group(1).strip().strip('"'), encoding="utf-8", errors="replace")
            else:
                self.name = params.get(b"filename", b"").decode("utf-8", "replace")
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in part_end / close()
        elif len(self.fields) >= MAX_FIELDS:
            self.error = "too many form fields"

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error or self.exceeded:
            return
        chunk = data[start:end]
        if self._is_file:
            self.size += len(chunk)
            if self.size > self.limit:
                self.exceeded = True
                return
            self.hash.update(chunk)
            self.file.write(chunk)
        else:
            self._buf += chunk
            if len(self._buf) > MAX_FIELD_BYTES:
                self.error = f"form field {self._part!r} is too long"

    def part_end(self) -> None:
        if self._is_file and self.file is not None:
            self.file.close()
            self.file = None
        elif self._part is not None and not self.error:
            self.fields[self._part] = self._buf.decode("utf-8", "replace")
        self._part, self._is_file = None, False

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


async def receive_multipart(request: Request, *, work_dir: Path, limit: int, overhead: int) -> Received:
    """The `file` part of a multipart/form-data body on disk, with the other (text) fields."""
    content_type = request.headers.get("content-type", "")
    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data (or through the resumable /uploads)",
            zh="请以 multipart/form-data 上传文件（或使用可续传的 /uploads）",
        )
    length = declared_length(request)
    if length is not None and length > limit + overhead:
        raise too_large(limit, length)
    path = temp_path(work_dir)
    parts = _Parts(path, limit)
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if parts.exceeded:
                    raise too_large(limit)
                if parts.error:
                    raise BadRequest(
                        f"Malformed upload: {parts.error}", zh=f"上传内容格式有误：{parts.error}"
                    )
            parser.finalize()
        finally:
            parts.close()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    if not parts.seen_file:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise BadRequest("The form has no `file` part", zh="表单中没有 file 文件部分")
    return Received(
        path=path, size=parts.size, sha256=parts.hash.hexdigest(), name=parts.name, fields=parts.fields
    )


def hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size
