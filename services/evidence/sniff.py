"""The type of a file from its first bytes (magic numbers), never from its name or declared type."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileType:
    media_type: str
    kind: str  # image | pdf | document | spreadsheet | video
    extension: str


JPEG = FileType("image/jpeg", "image", "jpg")
PNG = FileType("image/png", "image", "png")
HEIC = FileType("image/heic", "image", "heic")
PDF = FileType("application/pdf", "pdf", "pdf")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "spreadsheet", "xlsx")
MP4 = FileType("video/mp4", "video", "mp4")

ACCEPTED = (JPEG, PNG, HEIC, PDF, DOCX, XLSX, MP4)
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"mmp4", b"MSNV",
}  # fmt: skip
_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_XLSX_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def sniff(path: Path) -> FileType | None:
    """The accepted type the content at `path` is, or None."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brands = {head[8:12]}
        box = int.from_bytes(head[:4], "big")
        brands |= {head[i : i + 4] for i in range(16, min(box, len(head)) - 3, 4)}
        if head[8:12] in _HEIC_BRANDS or (brands & {b"heic", b"heix"}):
            return HEIC
        if brands & _MP4_BRANDS:
            return MP4
        return None
    if head.startswith(b"PK\x03\x04"):
        return _office(path)
    return None


def _office(path: Path) -> FileType | None:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "[Content_Types].xml" not in names:
                return None
            with z.open("[Content_Types].xml") as f:
                types = f.read(256 * 1024)
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return None
    if _DOCX_MAIN in types and any(n.startswith("word/") for n in names):
        return DOCX
    if _XLSX_MAIN in types and any(n.startswith("xl/") for n in names):
        return XLSX
    return None
