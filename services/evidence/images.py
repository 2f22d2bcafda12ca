"""Photos: capture time and GPS from EXIF, the served copy without EXIF, thumbnails."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from services.evidence.sniff import HEIC, JPEG, PNG, FileType

_registered = False


def _register_heif() -> None:
    global _registered
    if not _registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _registered = True


# EXIF carries local time without a zone unless OffsetTimeOriginal says; photos here are taken in China.
_CHINA = timezone(timedelta(hours=8))
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED, _DATETIME, _OFFSET_ORIGINAL = 36867, 36868, 306, 36881
_ORIENTATION = 274


@dataclass(frozen=True)
class PhotoMeta:
    captured_at: datetime | None
    lat: float | None
    lon: float | None
    orientation: int


def read_meta(path: Path) -> PhotoMeta:
    _register_heif()
    try:
        with Image.open(path) as img:
            exif = img.getexif()
    except Exception:
        return PhotoMeta(None, None, None, 1)
    orientation = int(exif.get(_ORIENTATION, 1) or 1)
    ifd = exif.get_ifd(_EXIF_IFD)
    raw = ifd.get(_DATETIME_ORIGINAL) or ifd.get(_DATETIME_DIGITIZED) or exif.get(_DATETIME)
    captured = _parse_time(raw, ifd.get(_OFFSET_ORIGINAL))
    lat = lon = None
    gps = exif.get_ifd(_GPS_IFD)
    with contextlib.suppress(Exception):
        if gps.get(2) and gps.get(4):
            lat = _degrees(gps[2], gps.get(1, "N"))
            lon = _degrees(gps[4], gps.get(3, "E"))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                lat = lon = None
    return PhotoMeta(captured, lat, lon, orientation)


def _parse_time(raw: Any, offset: Any) -> datetime | None:
    if not raw:
        return None
    try:
        local = datetime.strptime(str(raw).strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz: timezone = _CHINA
    if isinstance(offset, str) and len(offset.strip("\x00")) == 6:
        with contextlib.suppress(ValueError):
            sign = -1 if offset[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    return local.replace(tzinfo=tz).astimezone(UTC)


def _degrees(value: Any, ref: Any) -> float:
    d, m, s = (float(v) for v in value)
    deg = d + m / 60 + s / 3600
    if str(ref).strip("\x00").upper() in ("S", "W"):
        deg = -deg
    return round(deg, 7)


def strip_metadata(path: Path, out: Path, ftype: FileType, meta: PhotoMeta) -> bool:
    """Write `path` without its EXIF (and XMP, text chunks) to `out`; False when nothing needed removing.

    JPEG and PNG lose their metadata segments losslessly (the pixels are untouched); a JPEG whose
    EXIF orientation turns it is re-encoded upright first (the turn lived in the EXIF). HEIC is
    re-encoded without its metadata.
    """
    if ftype == JPEG:
        if meta.orientation != 1:
            with Image.open(path) as img:
                upright = ImageOps.exif_transpose(img)
                upright.info.pop("exif", None)
                upright.save(out, format="JPEG", quality=92, icc_profile=img.info.get("icc_profile"))
            return True
        return _strip_jpeg(path, out)
    if ftype == PNG:
        return _strip_png(path, out)
    if ftype == HEIC:
        _register_heif()
        with Image.open(path) as img:
            if not img.getexif() and not img.info.get("xmp"):
                return False
            upright = ImageOps.exif_transpose(img)
            upright.info.pop("exif", None)
            upright.info.pop("xmp", None)
            upright.save(out, format="HEIF", quality=90, exif=None, xmp=None)
        return True
    return False


def _strip_jpeg(path: Path, out: Path) -> bool:
    removed = False
    with open(path, "rb") as src, open(out, "wb") as dst:
        if src.read(2) != b"\xff\xd8":
            raise ValueError("not a JPEG")
        dst.write(b"\xff\xd8")
        while True:
            marker = src.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                raise ValueError("broken JPEG segment")
            code = marker[1]
            if code == 0xD9 or code == 0xDA:  # end of image, or start of scan: the rest is image data
                dst.write(marker)
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
                break
            if 0xD0 <= code <= 0xD7 or code == 0x01:
                dst.write(marker)
                continue
            length_bytes = src.read(2)
            length = int.from_bytes(length_bytes, "big")
            body = src.read(length - 2)
            if code == 0xE1 or code == 0xFE:  # APP1 (Exif, XMP) and comments
                removed = True
                continue
            dst.write(marker + length_bytes + body)
    return removed


_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(path: Path, out: Path) -> bool:
    removed = False
    with open(path, "rb") as src, open(out, "wb") as dst:
        dst.write(src.read(8))
        while True:
            head = src.read(8)
            if len(head) < 8:
                break
            length = int.from_bytes(head[:4], "big")
            kind = head[4:8]
            rest = src.read(length + 4)
            if kind in _PNG_DROP:
                removed = True
                continue
            dst.write(head + rest)
            if kind == b"IEND":
                break
    return removed


def make_thumbnail(path: Path, size: int) -> bytes:
    """A JPEG no larger than `size` on its longest side."""
    _register_heif()
    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft("RGB", (size * 2, size * 2))  # decode at a fraction of the size: 12 MP in ~50 ms
        thumb: Image.Image = ImageOps.exif_transpose(img)
        thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
        if thumb.mode != "RGB":
            thumb = thumb.convert("RGB")
        buf = io.BytesIO()
        thumb.save(buf, format="JPEG", quality=80)
    return buf.getvalue()
